// A program's scenario: the generator's options, its seeded choices (threads, iterations, objects, each
// thread's ops) as plain data, and their resolution against the op library (token slots, attribute
// names, the effect level of each object). Rendering (program.ts) and predictions (predictions.ts) are
// computed from a resolved scenario; mutators and the minimizer transform the plain one.
import { KINDS, MAX_ATTRS, OPS, OPS_BY_KIND, type EffectClass, type KindSpec, type OpSpec } from './ops.js';
import { Rng } from './rng.js';
import { boundedIterations, grows, scans } from './ops/cost.js';

/** Bumped whenever the same seed and options would give a different program. */
export const GENERATOR_VERSION = 'ftfuzz-gen/3';
/** Tokens of one op slot: slot * SPAN + iteration (iterations stay below SPAN). */
export const SPAN = 1 << 20;

export interface GenOptions {
  /** Thread count range (2–16). */
  threads: [number, number];
  /** Iterations per thread range. */
  iterations: [number, number];
  /** Shared objects per program. */
  objects: [number, number];
  /** Ops per thread. */
  opsPerThread: [number, number];
  /** `sys.setswitchinterval` choices (seconds), for GIL-on runs. */
  switchIntervals: number[];
  /** Probability that a `time.sleep(0)` yield follows an op. */
  sleepProbability: number;
  /** Probability that a thread runs `gc.collect()` every few iterations. */
  gcProbability: number;
  /** Probability that an object is reached through a shared container instead of a global name. */
  containerProbability: number;
  /** Relative weight of shared-iterator kinds (documented unsafe in 3.13: crash-only). */
  sharedIteratorWeight: number;
  /** Effect classes ops may have; `exact` alone gives programs where every check is exact. */
  effects: EffectClass[];
  /** Restrict object kinds (ids from `ftfuzz ops`); empty means all. */
  kinds: string[];
  /**
   * Ops never chosen (ids): a campaign's feedback leaves out ops whose programs crawled (schedule.ts). Not
   * recorded in a program's options when empty, so the same seed gives the same bytes as before it existed.
   */
  excludeOps?: string[];
  /** Leak rounds: run the scenario this many times in one process (1: no leak harness). */
  rounds: number;
  /** Rounds not measured by the leak oracle (caches and per-thread heaps fill first). */
  warmupRounds: number;
}

export const DEFAULT_GEN_OPTIONS: GenOptions = {
  threads: [2, 8],
  iterations: [20, 200],
  objects: [1, 3],
  opsPerThread: [1, 4],
  switchIntervals: [0.005, 1e-4, 1e-5, 1e-6],
  sleepProbability: 0.1,
  gcProbability: 0.1,
  containerProbability: 0.2,
  sharedIteratorWeight: 0.2,
  effects: ['exact', 'invariant-only', 'crash-only'],
  kinds: [],
  rounds: 1,
  warmupRounds: 2,
};

export interface ObjectPlan {
  v: string;
  kind: KindSpec;
  cls: string;
  viaContainer: boolean;
  /** The weakest effect class among the ops applied to it: exact < invariant-only < crash-only. */
  level: EffectClass;
}

export interface OpInstance {
  op: OpSpec;
  obj: ObjectPlan;
  slot: number;
  attr: string;
  sleepAfter: boolean;
}

export interface ThreadPlan {
  tid: number;
  ops: OpInstance[];
  gcEvery: number | null;
}

const LEVEL_ORDER: EffectClass[] = ['exact', 'invariant-only', 'crash-only'];
const weaker = (a: EffectClass, b: EffectClass): EffectClass => (LEVEL_ORDER.indexOf(a) >= LEVEL_ORDER.indexOf(b) ? a : b);

function rangeIn(rng: Rng, [lo, hi]: [number, number]): number {
  return rng.int(Math.min(lo, hi), Math.max(lo, hi));
}

/** Validate options and fill defaults: a bad knob is a usage error, not a strange program. */
export function resolveGenOptions(partial: Partial<GenOptions> = {}): GenOptions {
  const o: GenOptions = { ...DEFAULT_GEN_OPTIONS, ...partial };
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new RangeError(what);
  };
  check(o.threads[0] >= 2 && o.threads[1] <= 16 && o.threads[0] <= o.threads[1], `threads must be within 2..16 (got ${o.threads.join('..')})`);
  check(o.iterations[0] >= 1 && o.iterations[1] < SPAN && o.iterations[0] <= o.iterations[1], `iterations must be within 1..${SPAN - 1}`);
  check(o.objects[0] >= 1 && o.objects[1] <= 8 && o.objects[0] <= o.objects[1], 'objects must be within 1..8');
  check(o.opsPerThread[0] >= 1 && o.opsPerThread[1] <= 4 && o.opsPerThread[0] <= o.opsPerThread[1], 'ops per thread must be within 1..4');
  check(o.switchIntervals.length > 0 && o.switchIntervals.every((x) => x > 0), 'switch intervals must be positive');
  check(o.effects.length > 0, 'at least one effect class');
  for (const k of o.kinds) check(KINDS.some((kind) => kind.id === k), `unknown kind ${k}`);
  for (const id of o.excludeOps ?? []) check(OP_BY_ID.has(id), `unknown op ${id}`);
  if (o.excludeOps?.length === 0) delete o.excludeOps;
  check(Number.isInteger(o.rounds) && o.rounds >= 1 && o.rounds <= 50, 'rounds must be within 1..50');
  check(Number.isInteger(o.warmupRounds) && o.warmupRounds >= 0 && (o.rounds === 1 || o.warmupRounds < o.rounds), 'warm-up rounds must be fewer than rounds');
  return o;
}

/** Kinds that can carry at least one op of the allowed effect classes. */
export function eligibleKinds(o: GenOptions): KindSpec[] {
  return KINDS.filter((k) => (o.kinds.length === 0 || o.kinds.includes(k.id)) && (OPS_BY_KIND.get(k.id) ?? []).some((op) => o.effects.includes(op.effect)));
}

/**
 * A program's scenario: every choice the generator made, as plain data. It is recorded in the program
 * header, mutators transform it, and rendering recomputes every prediction from it, so a mutated program
 * keeps the effect-class guarantees by construction.
 */
export interface Scenario {
  threads: number;
  iterations: number;
  switchInterval: number;
  objects: { v: string; kind: string; viaContainer: boolean }[];
  threadOps: { ops: { op: string; obj: string; sleepAfter: boolean }[]; gcEvery: number | null }[];
}

/** Random ops for one thread over the given objects, within the allowed effect classes. */
export function randomThreadOps(rng: Rng, o: GenOptions, objects: Scenario['objects']): Scenario['threadOps'][number] {
  const count = rangeIn(rng, o.opsPerThread);
  const ops: Scenario['threadOps'][number]['ops'] = [];
  for (let k = 0; k < count; k++) {
    const obj = rng.pick(objects);
    const candidates = (OPS_BY_KIND.get(obj.kind) ?? []).filter((op) => o.effects.includes(op.effect) && !o.excludeOps?.includes(op.id));
    if (candidates.length === 0) continue;
    ops.push({ op: rng.pick(candidates).id, obj: obj.v, sleepAfter: rng.bool(o.sleepProbability) });
  }
  return { ops, gcEvery: rng.bool(o.gcProbability) ? rng.int(10, 50) : null };
}

export function randomKind(rng: Rng, o: GenOptions): KindSpec {
  const kinds = eligibleKinds(o);
  if (kinds.length === 0) throw new RangeError('no object kind has ops of the allowed effect classes');
  return rng.weighted(kinds.map((k) => [k, k.sharedIterator ? o.sharedIteratorWeight : 1] as const));
}

export function planScenario(rng: Rng, o: GenOptions): Scenario {
  const threads = rangeIn(rng.fork('threads'), o.threads);
  const iterations = rangeIn(rng.fork('iterations'), o.iterations);
  const switchInterval = rng.fork('switch').pick(o.switchIntervals);
  const objRng = rng.fork('objects');
  const objectCount = rangeIn(objRng, o.objects);
  const objects: Scenario['objects'] = [];
  for (let i = 0; i < objectCount; i++) {
    objects.push({ v: `o${i}`, kind: randomKind(objRng, o).id, viaContainer: objRng.bool(o.containerProbability) });
  }
  const opRng = rng.fork('ops');
  const threadOps = Array.from({ length: threads }, () => randomThreadOps(opRng, o, objects));
  // Growth under scans is quadratic work, and a crawl is never a bug (ops/cost.ts): bound the iterations.
  return { threads, iterations: boundedIterations(iterations, scanWork(objects, threadOps), o.iterations[0]), switchInterval, objects, threadOps };
}

/** Per object: how many op instances grow it and how many scan it, each iteration. */
export function scanWork(objects: Scenario['objects'], threadOps: Scenario['threadOps']): { growers: number; scanners: number }[] {
  return objects.map((obj) => {
    const ops = threadOps.flatMap((t) => t.ops.filter((i) => i.obj === obj.v)).map((i) => OP_BY_ID.get(i.op)).filter((op): op is OpSpec => op !== undefined);
    return { growers: ops.filter(grows).length, scanners: ops.filter(scans).length };
  });
}

const OP_BY_ID = new Map(OPS.map((op) => [op.id, op]));
const KIND_BY_ID = new Map(KINDS.map((k) => [k.id, k]));

export type ResolvedScenario = ReturnType<typeof resolveScenario>;

/** Resolve a scenario against the op library: kinds, slots (token bases), attribute names, taint levels. */
export function resolveScenario(sc: Scenario) {
  const objects: ObjectPlan[] = sc.objects.map((o) => {
    const kind = KIND_BY_ID.get(o.kind);
    if (!kind) throw new RangeError(`unknown kind ${o.kind}`);
    return { v: o.v, kind, cls: `${kind.classPrefix ?? 'T'}_${o.v}`, viaContainer: o.viaContainer, level: 'exact' };
  });
  const byName = new Map(objects.map((o) => [o.v, o]));
  let slot = 0;
  const attrCount = new Map<string, number>();
  const threadPlans: ThreadPlan[] = sc.threadOps.map((t, tid) => ({
    tid,
    gcEvery: t.gcEvery,
    ops: t.ops.map((i) => {
      const op = OP_BY_ID.get(i.op);
      const obj = byName.get(i.obj);
      if (!op || !obj || op.kind !== obj.kind.id) throw new RangeError(`op ${i.op} cannot apply to ${i.obj}`);
      slot += 1;
      const n = attrCount.get(obj.v) ?? 0;
      attrCount.set(obj.v, n + 1);
      obj.level = weaker(obj.level, op.effect);
      return { op, obj, slot, attr: `a${n % MAX_ATTRS}`, sleepAfter: i.sleepAfter };
    }),
  }));
  return { threads: sc.threads, iterations: sc.iterations, switchInterval: sc.switchInterval, objects, threadPlans };
}
