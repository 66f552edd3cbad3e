// The reduction passes `minimize` runs to a fixpoint: on a generated program's scenario (drop threads, ops
// and objects, fewer iterations and rounds, no sleeps or gc: predictions are recomputed on re-render), and
// on any program's AST (drop statements and chunks of them, shrink integer literals).
import type { Constant, List, Module, Stmt, Try, Tuple } from '../generators/ast.js';
import { py } from '../generators/ast.js';
import type { GenOptions, Scenario } from '../generators/scenario.js';

/** Greedy reduction: take the first candidate of a pass that passes the test, restart that pass, repeat to a fixpoint. */
export async function reduce<S>(initial: S, passes: ((s: S) => Iterable<S>)[], test: (s: S) => Promise<boolean | 'stop'>): Promise<{ best: S; stopped: boolean }> {
  let current = initial;
  for (let progress = true; progress; ) {
    progress = false;
    for (const pass of passes) {
      for (let again = true; again; ) {
        again = false;
        for (const candidate of pass(current)) {
          const verdict = await test(candidate);
          if (verdict === 'stop') return { best: current, stopped: true };
          if (verdict) {
            current = candidate;
            again = progress = true;
            break;
          }
        }
      }
    }
  }
  return { best: current, stopped: false };
}

/** Chunks of a list to remove, largest first (ddmin's granularity schedule). */
function* chunkRemovals<T>(list: readonly T[], keepAtLeast: number): Generator<T[]> {
  for (let size = Math.max(1, Math.floor(list.length / 2)); size >= 1; size = size === 1 ? 0 : Math.max(1, Math.floor(size / 2))) {
    for (let start = 0; start < list.length; start += size) {
      const rest = [...list.slice(0, start), ...list.slice(start + size)];
      if (rest.length >= keepAtLeast && rest.length < list.length) yield rest;
    }
  }
}

// ---- scenario reduction -------------------------------------------------------------------------

export interface ScenarioState {
  scenario: Scenario;
  options: GenOptions;
}

const clone = <T>(v: T): T => structuredClone(v);

export function scenarioPasses(): ((s: ScenarioState) => Iterable<ScenarioState>)[] {
  return [
    // Fewer threads (a race needs two).
    function* dropThreads({ scenario, options }) {
      if (scenario.threads <= 2) return;
      for (const ops of chunkRemovals(scenario.threadOps, 2)) yield { scenario: { ...clone(scenario), threads: ops.length, threadOps: clone(ops) }, options };
    },
    // Fewer ops per thread (every thread keeps one).
    function* dropOps({ scenario, options }) {
      for (let t = 0; t < scenario.threadOps.length; t++) {
        for (const ops of chunkRemovals(scenario.threadOps[t]?.ops ?? [], 1)) {
          const next = clone(scenario);
          (next.threadOps[t] as Scenario['threadOps'][number]).ops = clone(ops);
          yield { scenario: next, options };
        }
      }
    },
    // Fewer objects: one no op touches, or one together with its ops while every thread keeps an op.
    function* dropObjects({ scenario, options }) {
      if (scenario.objects.length <= 1) return;
      for (const o of scenario.objects) {
        const next = clone(scenario);
        next.objects = next.objects.filter((x) => x.v !== o.v);
        for (const t of next.threadOps) t.ops = t.ops.filter((i) => i.obj !== o.v);
        if (next.threadOps.every((t) => t.ops.length > 0)) yield { scenario: next, options };
      }
    },
    // Fewer iterations: 1 first, then halving.
    function* fewerIterations({ scenario, options }) {
      const n = scenario.iterations;
      for (const m of [1, Math.floor(n / 4), Math.floor(n / 2)]) if (m >= 1 && m < n) yield { scenario: { ...clone(scenario), iterations: m }, options };
    },
    // Fewer leak rounds (a leak needs some: the test decides how many).
    function* fewerRounds({ scenario, options }) {
      for (const r of [Math.floor(options.rounds / 2), options.rounds - 1]) {
        if (r < 1 || r >= options.rounds) continue;
        const warmupRounds = r === 1 ? 0 : Math.min(options.warmupRounds, r - 1);
        yield { scenario, options: { ...options, rounds: r, warmupRounds } };
      }
    },
    // Plainer: no sleeps, no gc, objects directly rather than through a container.
    function* simplify({ scenario, options }) {
      if (scenario.threadOps.some((t) => t.ops.some((i) => i.sleepAfter))) {
        const next = clone(scenario);
        for (const t of next.threadOps) for (const i of t.ops) i.sleepAfter = false;
        yield { scenario: next, options };
      }
      if (scenario.threadOps.some((t) => t.gcEvery !== null)) {
        const next = clone(scenario);
        for (const t of next.threadOps) t.gcEvery = null;
        yield { scenario: next, options };
      }
      for (const o of scenario.objects.filter((x) => x.viaContainer)) {
        const next = clone(scenario);
        for (const x of next.objects) if (x.v === o.v) x.viaContainer = false;
        yield { scenario: next, options };
      }
    },
  ];
}

// ---- AST reduction ------------------------------------------------------------------------------

/** Every statement list in the module, in a fixed order (the same order in a structured clone). */
function statementLists(module: Module): Stmt[][] {
  const out: Stmt[][] = [];
  const visit = (list: Stmt[]) => {
    out.push(list);
    for (const s of list) {
      switch (s._type) {
        case 'FunctionDef':
        case 'ClassDef':
        case 'With':
          visit(s.body);
          break;
        case 'For':
        case 'While':
        case 'If':
          visit(s.body);
          visit(s.orelse);
          break;
        case 'Try':
          visit(s.body);
          for (const h of s.handlers) visit(h.body);
          visit(s.orelse);
          visit(s.finalbody);
          break;
        default:
      }
    }
  };
  visit(module.body);
  return out;
}

function intOf(c: Constant): bigint {
  const v = c.value;
  return v !== null && typeof v === 'object' && '$int' in v ? BigInt(v.$int) : 0n;
}

/** Integer constants in the module (loop counts, sizes), in a fixed order. */
function intConstants(module: Module): Constant[] {
  const out: Constant[] = [];
  const walk = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
      return;
    }
    const n = node as { _type?: string; value?: unknown };
    if (n._type === 'Constant' && intOf(n as Constant) > 1n) out.push(n as Constant);
    for (const v of Object.values(node)) if (v && typeof v === 'object') walk(v);
  };
  walk(module.body);
  return out;
}

/** List and tuple literals of two or more elements that are read (not assignment targets), in a fixed order. */
function sequenceLiterals(module: Module): (List | Tuple)[] {
  const out: (List | Tuple)[] = [];
  const walk = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
      return;
    }
    const n = node as { _type?: string; elts?: unknown[]; ctx?: { _type: string } };
    if ((n._type === 'List' || n._type === 'Tuple') && n.ctx?._type === 'Load' && (n.elts?.length ?? 0) >= 2) out.push(n as List | Tuple);
    for (const v of Object.values(node)) if (v && typeof v === 'object') walk(v);
  };
  walk(module.body);
  return out;
}

/** A `for t in threads: t.join()` loop: the end of the threads phase. */
function isJoinLoop(st: Stmt): boolean {
  if (st._type !== 'For' || st.body.length !== 1) return false;
  const only = st.body[0];
  return only?._type === 'Expr' && only.value._type === 'Call' && only.value.func._type === 'Attribute' && only.value.func.attr === 'join';
}

export function astPasses(): ((m: Module) => Iterable<Module>)[] {
  return [
    // A crash or hang happens while the threads run: everything after they are joined (accounting,
    // probes, checks, reports) is one candidate, tried before statement-by-statement removal.
    function* cutAfterJoin(module) {
      const lists = statementLists(module);
      for (let k = 0; k < lists.length; k++) {
        const list = lists[k] as Stmt[];
        const at = list.findIndex(isJoinLoop);
        if (at < 0 || at === list.length - 1) continue;
        const next = clone(module);
        (statementLists(next)[k] as Stmt[]).splice(at + 1);
        yield next;
      }
    },
    // A list or tuple of threads, workers or values: fewer elements (a thread no longer started is then
    // an unused def that dropStatements removes).
    function* dropElements(module) {
      const count = sequenceLiterals(module).length;
      for (let k = 0; k < count; k++) {
        const elts = (sequenceLiterals(module)[k] as List | Tuple).elts;
        for (const rest of chunkRemovals(elts, 1)) {
          const next = clone(module);
          (sequenceLiterals(next)[k] as List | Tuple).elts = clone(rest);
          yield next;
        }
      }
    },
    function* dropStatements(module) {
      const count = statementLists(module).length;
      for (let k = 0; k < count; k++) {
        const list = statementLists(module)[k] as Stmt[];
        // The module body may end up empty; a compound statement's body keeps at least `pass`.
        // A body that is `pass` alone cannot shrink (an empty body would be `pass` again: the same candidate, forever).
        if (k > 0 && list.length === 1 && list[0]?._type === 'Pass') continue;
        for (const rest of chunkRemovals(list, 0)) {
          if (rest.length === 1 && rest[0]?._type === 'Pass' && list.length === 1) continue;
          const next = clone(module);
          const target = statementLists(next)[k] as Stmt[];
          target.splice(0, target.length, ...(rest.length || k === 0 ? clone(rest) : [py.pass()]));
          yield next;
        }
      }
    },
    // A guarded step (`try: body except ...: ...`) as its body alone: fewer lines when the crash does not
    // need the handler; kept only when the same bug still shows, as every candidate.
    function* unwrapTry(module) {
      const lists = statementLists(module);
      for (let k = 0; k < lists.length; k++) {
        const list = lists[k] as Stmt[];
        for (let at = 0; at < list.length; at++) {
          if (list[at]?._type !== 'Try') continue;
          const next = clone(module);
          const target = statementLists(next)[k] as Stmt[];
          const t = target[at] as Try;
          target.splice(at, 1, ...t.body, ...t.finalbody);
          yield next;
        }
      }
    },
    function* shrinkIntegers(module) {
      const count = intConstants(module).length;
      for (let k = 0; k < count; k++) {
        const v = intOf(intConstants(module)[k] as Constant);
        for (const m of [1n, v / 2n]) {
          if (m < 1n || m >= v) continue;
          const next = clone(module);
          (intConstants(next)[k] as Constant).value = { $int: m.toString() };
          yield next;
        }
      }
    },
  ];
}
