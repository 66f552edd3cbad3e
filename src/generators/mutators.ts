// Mutators for corpus programs. They work on a program's scenario (recorded in its header) and re-render
// it, so every prediction is recomputed from the mutated scenario: a mutation can never leave a stale
// expected value behind (which would be reported as a runtime bug: our worst defect).
import { InputError } from '../errors.js';
import { OPS, OPS_BY_KIND } from './ops.js';
import { SCENARIO_TAG, renderProgram, type GeneratedProgram } from './program.js';
import { randomKind, randomThreadOps, resolveGenOptions, type GenOptions, type Scenario } from './scenario.js';
import { Rng } from './rng.js';

export type MutatorName = 'swap-op' | 'add-thread' | 'drop-thread' | 'change-kind' | 'change-counts' | 'splice';
export const MUTATORS: MutatorName[] = ['swap-op', 'add-thread', 'drop-thread', 'change-kind', 'change-counts', 'splice'];

const OP_IDS = new Set(OPS.map((o) => o.id));
const MAX_THREADS = 16;
const MAX_OBJECTS = 8;

const clone = (sc: Scenario): Scenario => JSON.parse(JSON.stringify(sc)) as Scenario;

/** Read and validate the scenario recorded in a generated program's header; null if there is none. */
export function readScenario(source: string, file: string): { scenario: Scenario; options: GenOptions; seed: string } | null {
  const header = source.split('\n').filter((l) => l.startsWith('# '));
  const line = header.find((l) => l.startsWith(`# ${SCENARIO_TAG} `));
  if (!line) return null;
  const fail = (why: string): never => {
    throw new InputError(file, `has a malformed scenario header (${why}); regenerate it with ftfuzz gen or remove the "# ${SCENARIO_TAG}" line`);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(line.slice(`# ${SCENARIO_TAG} `.length));
  } catch {
    return fail('not JSON');
  }
  const sc = raw as Scenario;
  const isInt = (v: unknown, lo: number, hi: number) => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;
  if (!sc || typeof sc !== 'object') fail('not an object');
  if (!isInt(sc.threads, 2, MAX_THREADS)) fail('threads must be 2..16');
  if (!isInt(sc.iterations, 1, 100_000)) fail('iterations must be 1..100000');
  if (typeof sc.switchInterval !== 'number' || !(sc.switchInterval > 0 && sc.switchInterval < 1)) fail('switchInterval must be in (0, 1)');
  if (!Array.isArray(sc.objects) || sc.objects.length < 1 || sc.objects.length > MAX_OBJECTS) fail('objects must be a list of 1..8');
  const names = new Map<string, string>();
  for (const o of sc.objects) {
    if (!o || typeof o.v !== 'string' || !/^o\d+$/.test(o.v) || !OPS_BY_KIND.has(o.kind) || typeof o.viaContainer !== 'boolean') fail('bad object entry');
    if (names.has(o.v)) fail(`object ${o.v} listed twice`);
    names.set(o.v, o.kind);
  }
  if (!Array.isArray(sc.threadOps) || sc.threadOps.length !== sc.threads) fail('threadOps must list one entry per thread');
  for (const t of sc.threadOps) {
    if (!t || !Array.isArray(t.ops) || !(t.gcEvery === null || isInt(t.gcEvery, 1, 1_000_000))) fail('bad thread entry');
    for (const i of t.ops) {
      if (!i || !OP_IDS.has(i.op) || typeof i.sleepAfter !== 'boolean' || !names.has(i.obj)) fail('bad op entry');
      if (!i.op.startsWith(`${names.get(i.obj)}.`)) fail(`op ${i.op} does not apply to ${i.obj}`);
    }
  }
  const optionsLine = header.find((l) => l.startsWith('# options: '));
  let options: GenOptions;
  try {
    options = resolveGenOptions(optionsLine ? (JSON.parse(optionsLine.slice('# options: '.length)) as Partial<GenOptions>) : {});
  } catch {
    return fail('options header unreadable');
  }
  const seed = header.find((l) => l.startsWith('# seed: '))?.slice('# seed: '.length) ?? '?';
  return { scenario: sc, options, seed };
}

function opsFor(kind: string, o: GenOptions): string[] {
  return (OPS_BY_KIND.get(kind) ?? []).filter((op) => o.effects.includes(op.effect)).map((op) => op.id);
}

/** Apply one mutator; returns null when it does not apply (e.g. drop-thread at 2 threads). */
export function mutateScenario(rng: Rng, sc0: Scenario, o: GenOptions, name: MutatorName, other?: Scenario): Scenario | null {
  const sc = clone(sc0);
  switch (name) {
    case 'swap-op': {
      const withOps = sc.threadOps.filter((t) => t.ops.length > 0);
      if (withOps.length === 0) return null;
      const t = rng.pick(withOps);
      const k = rng.int(0, t.ops.length - 1);
      const inst = t.ops[k];
      if (!inst) return null;
      const kind = sc.objects.find((x) => x.v === inst.obj)?.kind ?? '';
      const choices = opsFor(kind, o).filter((id) => id !== inst.op);
      if (choices.length === 0) return null;
      inst.op = rng.pick(choices);
      return sc;
    }
    case 'add-thread': {
      if (sc.threads >= MAX_THREADS) return null;
      sc.threadOps.push(randomThreadOps(rng, o, sc.objects));
      sc.threads += 1;
      return sc;
    }
    case 'drop-thread': {
      if (sc.threads <= 2) return null;
      sc.threadOps.splice(rng.int(0, sc.threads - 1), 1);
      sc.threads -= 1;
      return sc;
    }
    case 'change-kind': {
      const obj = rng.pick(sc.objects);
      const kind = randomKind(rng, o).id;
      if (kind === obj.kind) return null;
      obj.kind = kind;
      const choices = opsFor(kind, o);
      // Every op on the object changes to an op of its new kind; nothing else in the scenario moves.
      for (const t of sc.threadOps) {
        t.ops = t.ops.flatMap((i) => (i.obj !== obj.v ? [i] : choices.length ? [{ ...i, op: rng.pick(choices) }] : []));
      }
      return sc;
    }
    case 'change-counts': {
      const which = rng.int(0, 2);
      if (which === 0) sc.iterations = Math.max(1, Math.min(100_000, rng.bool() ? sc.iterations * 2 : Math.floor(sc.iterations / 2)));
      else if (which === 1) sc.switchInterval = rng.pick(o.switchIntervals);
      else {
        const t = rng.pick(sc.threadOps);
        t.gcEvery = t.gcEvery === null ? rng.int(10, 50) : null;
      }
      return sc;
    }
    case 'splice': {
      if (!other) return null;
      // Objects of the other program are renamed after ours; its threads join ours (at most 16).
      const offset = sc.objects.length;
      if (offset + other.objects.length > MAX_OBJECTS) return null;
      const rename = (v: string) => `o${Number(v.slice(1)) + offset}`;
      sc.objects.push(...other.objects.map((x) => ({ ...x, v: rename(x.v) })));
      const room = MAX_THREADS - sc.threads;
      const taken = other.threadOps.slice(0, Math.max(0, room)).map((t) => ({ ...t, ops: t.ops.map((i) => ({ ...i, obj: rename(i.obj) })) }));
      if (taken.length === 0) return null;
      sc.threadOps.push(...taken);
      sc.threads = sc.threadOps.length;
      return sc;
    }
  }
}

/**
 * Mutate a generated program: `count` mutators chosen by the rng (splice needs a second parent).
 * The result is rendered from scratch and records its mutation history in the header.
 */
export function mutateProgram(
  rng: Rng,
  parent: { scenario: Scenario; options: GenOptions; seed: string; mutations?: string[] },
  count = 1,
  spliceWith?: Scenario,
): GeneratedProgram {
  let sc = parent.scenario;
  const applied = [...(parent.mutations ?? [])];
  for (let n = 0; n < count; n++) {
    for (let attempt = 0; attempt < 8; attempt++) {
      const name = rng.pick(spliceWith ? MUTATORS : MUTATORS.filter((m) => m !== 'splice'));
      const next = mutateScenario(rng, sc, parent.options, name, spliceWith);
      if (next) {
        sc = next;
        applied.push(name);
        break;
      }
    }
  }
  return renderProgram(sc, { seed: parent.seed, options: parent.options, mutations: applied });
}
