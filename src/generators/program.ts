// Seeded generation of concurrent programs whose checked results cannot depend on the interleaving.
//
// Shape: a few shared objects; N threads released together by a barrier; each thread runs its op mix for
// M iterations; join; checks. Every write carries a unique token (slot * SPAN + iteration), so the final
// state alone proves a lost, duplicated or phantom write. The generator computes the expected
// observables itself and embeds them; the program checks itself when run standalone and reports
// through the protocol under `ftfuzz run`.
import { canonical } from '../oracles/differentialOracle.js';
import { py, type Expr, type Module, type Stmt } from './ast.js';
import { preludeDefs } from './prelude.js';
import { printModule } from './printer.js';
import { KINDS, KNOB_OPS, MAX_ATTRS, OPS, OPS_BY_KIND, type EffectClass, type KindSpec, type OpCtx, type OpSpec } from './ops.js';
import { Rng } from './rng.js';

/** Bumped whenever the same seed and options would give a different program. */
export const GENERATOR_VERSION = 'ftfuzz-gen/1';
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

export interface ProgramMeta {
  generator: string;
  seed: string;
  /** Mutations applied after generation, in order (empty for a freshly generated program). */
  mutations: string[];
  scenario: Scenario;
  options: GenOptions;
  threads: number;
  iterations: number;
  switchInterval: number;
  objects: { name: string; kind: string; level: EffectClass }[];
  ops: string[];
  expected: Record<string, unknown>;
  /** Behaviour CPython documents as unsafe that the program exercises (crashes there are known limits). */
  documentedUnsafe: string[];
}

export interface GeneratedProgram {
  source: string;
  module: Module;
  meta: ProgramMeta;
}

const LEVEL_ORDER: EffectClass[] = ['exact', 'invariant-only', 'crash-only'];
const weaker = (a: EffectClass, b: EffectClass): EffectClass => (LEVEL_ORDER.indexOf(a) >= LEVEL_ORDER.indexOf(b) ? a : b);
const N = py.name;
const s = py.str;

const ITERATOR_KINDS = new Set(['count', 'list_iterator']);
const CLASS_PREFIX: Record<string, string> = { instance: 'C', slots: 'S', class: 'K', lru_cache: 'cached', hostile_list: 'Hostile' };
const COUNTER_OWNER_KINDS = new Set(['Lock', 'RLock', 'Semaphore', 'Condition']);
const PER_KEY_COUNT_KINDS = new Set(['defaultdict', 'Counter']);

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
  check(Number.isInteger(o.rounds) && o.rounds >= 1 && o.rounds <= 50, 'rounds must be within 1..50');
  check(Number.isInteger(o.warmupRounds) && o.warmupRounds >= 0 && (o.rounds === 1 || o.warmupRounds < o.rounds), 'warm-up rounds must be fewer than rounds');
  return o;
}

/** Kinds that can carry at least one op of the allowed effect classes. */
function eligibleKinds(o: GenOptions): KindSpec[] {
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
    const candidates = (OPS_BY_KIND.get(obj.kind) ?? []).filter((op) => o.effects.includes(op.effect));
    if (candidates.length === 0) continue;
    ops.push({ op: rng.pick(candidates).id, obj: obj.v, sleepAfter: rng.bool(o.sleepProbability) });
  }
  return { ops, gcEvery: rng.bool(o.gcProbability) ? rng.int(10, 50) : null };
}

export function randomKind(rng: Rng, o: GenOptions): KindSpec {
  const kinds = eligibleKinds(o);
  if (kinds.length === 0) throw new RangeError('no object kind has ops of the allowed effect classes');
  return rng.weighted(kinds.map((k) => [k, ITERATOR_KINDS.has(k.id) ? o.sharedIteratorWeight : 1] as const));
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
  return { threads, iterations, switchInterval, objects, threadOps };
}

const OP_BY_ID = new Map(OPS.map((op) => [op.id, op]));
const KIND_BY_ID = new Map(KINDS.map((k) => [k.id, k]));

/** Resolve a scenario against the op library: kinds, slots (token bases), attribute names, taint levels. */
function resolveScenario(sc: Scenario) {
  const objects: ObjectPlan[] = sc.objects.map((o) => {
    const kind = KIND_BY_ID.get(o.kind);
    if (!kind) throw new RangeError(`unknown kind ${o.kind}`);
    return { v: o.v, kind, cls: `${CLASS_PREFIX[kind.id] ?? 'T'}_${o.v}`, viaContainer: o.viaContainer, level: 'exact' };
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

function objectExpr(obj: ObjectPlan): Expr {
  return obj.viaContainer ? py.sub(N('_BOX'), s(obj.v)) : N(obj.v);
}

/** Wrap an op's statements in a handler for the exceptions its contract allows (counted, racy). */
function guarded(body: Stmt[], op: OpSpec, tid: number): Stmt[] {
  // Crash-only ops promise nothing but memory safety: any exception is theirs to raise.
  const names = op.effect === 'crash-only' ? ['Exception'] : op.allowed;
  if (names.length === 0) return body;
  const types: Expr[] = names.map((n) => {
    const [mod, attr] = n.split('.');
    return attr ? py.attr(N(mod as string), attr) : N(n);
  });
  return [py.try(body, [py.except(types.length === 1 ? (types[0] as Expr) : py.tuple(types), null, [py.augAssign(py.subStore(N('_ALLOWED'), py.int(tid)), 'Add', py.int(1))])])];
}

const knob = (id: string): Stmt[] => KNOB_OPS.find((k) => k.id === id)?.body?.(undefined as never) ?? [];

function threadDef(t: ThreadPlan): Stmt {
  const loop: Stmt[] = [];
  for (const inst of t.ops) {
    const ctx: OpCtx = {
      o: objectExpr(inst.obj),
      tok: N('tok'),
      taken: N(`taken_${inst.obj.v}`),
      lock: N(`lock_${inst.obj.v}`),
      holder: N(`holder_${inst.obj.v}`),
      attr: inst.attr,
      small: inst.slot,
      cls: inst.obj.cls,
      probe: N('probe'),
    };
    loop.push(py.assign(py.store('tok'), py.bin(py.int(inst.slot * SPAN), 'Add', N('i'))));
    if (inst.op.pure) {
      const key = `${inst.obj.v}.${inst.op.id}`;
      loop.push(py.if(py.cmp(inst.op.pure(ctx.o), 'NotEq', py.sub(N('_REF'), s(key))), [py.expr(py.method(N('_MISMATCH'), 'append', [s(key)]))]));
    } else if (inst.op.body) {
      loop.push(...guarded(inst.op.body(ctx), inst.op, t.tid));
    }
    if (inst.sleepAfter) loop.push(...knob('time.sleep0'));
  }
  if (t.gcEvery !== null) {
    loop.push(py.if(py.cmp(py.bin(N('i'), 'Mod', py.int(t.gcEvery)), 'Eq', py.int(0)), knob('gc.collect')));
  }
  const takenObjects = [...new Set(t.ops.map((i) => i.obj.v))];
  return py.def(`thread_${t.tid}`, [], [
    py.assign(py.store('tid'), py.int(t.tid)),
    py.assign(py.store('probe'), py.sub(N('_PROBES'), py.int(t.tid))),
    ...takenObjects.map((v) => py.assign(py.store(`taken_${v}`), py.sub(py.sub(N('_TAKEN'), s(v)), py.int(t.tid)))),
    py.try(
      [py.expr(py.method(N('_BARRIER'), 'wait')), py.for(py.store('i'), py.call(N('range'), [N('ITERS')]), loop.length ? loop : [py.pass()])],
      [
        py.except(N('BaseException'), 'exc', [
          py.expr(py.method(N('_UNEXPECTED'), 'append', [py.bin(s('%s in thread %d: %s'), 'Mod', py.tuple([py.attr(py.call(N('type'), [N('exc')]), '__name__'), N('tid'), N('exc')]))])),
          py.raise(null),
        ]),
      ],
    ),
  ]);
}

/** Everything the program checks after join, and the values the generator predicts for them. */
function checks(p: ReturnType<typeof resolveScenario>): { stmts: Stmt[]; expected: Record<string, unknown> } {
  const stmts: Stmt[] = [];
  const expected: Record<string, unknown> = {};
  const obs = (key: string, value: Expr) => stmts.push(py.assign(py.subStore(N('_OBS'), s(key)), value));
  const all = p.threadPlans.flatMap((t) => t.ops.map((inst) => ({ ...inst, tid: t.tid })));
  for (const obj of p.objects) {
    const mine = all.filter((i) => i.obj === obj);
    const v = N(obj.v);
    const crash = obj.level === 'crash-only';
    if (obj.kind.contents && !crash) {
      const ranges = mine.filter((i) => ['produce', 'produce-consume', 'overwrite'].includes(i.op.tokens)).map((i) => py.list([py.int(i.slot * SPAN), py.int(i.slot * SPAN + p.iterations)]));
      const present = obj.kind.contents(v);
      const taken = py.method(py.sub(N('_TAKEN'), s(obj.v)), 'values');
      stmts.push(py.expr(py.call(N('_account'), [s(obj.v), present, taken, py.list(ranges), py.bool(obj.level === 'exact')])));
      expected[`${obj.v}.phantom`] = 0;
      if (obj.level === 'exact') {
        expected[`${obj.v}.missing`] = 0;
        expected[`${obj.v}.dup`] = 0;
      }
      if (obj.kind.valuesAreOwners) {
        obs(
          `${obj.v}.wrong_owner`,
          py.call(N('sum'), [
            py.genExp(py.int(1), [
              py.comp(py.tupleStore([py.store('k'), py.store('w')]), py.call(N('list'), [py.method(v, 'items')]), [
                py.cmp(py.method(N('_OWNER'), 'get', [py.bin(N('k'), 'FloorDiv', N('SPAN'))]), 'NotEq', N('w')),
              ]),
            ]),
          ]),
        );
        expected[`${obj.v}.wrong_owner`] = 0;
      }
    }
    if (obj.kind.sized) {
      obs(`${obj.v}.len_consistent`, py.cmp(py.call(N('len'), [v]), 'Eq', py.call(N('len'), [py.call(N('list'), [v])])));
      expected[`${obj.v}.len_consistent`] = true;
    }
    const counts = mine.filter((i) => i.op.tokens === 'count');
    if (counts.length && !crash) {
      if (PER_KEY_COUNT_KINDS.has(obj.kind.id)) {
        const want: Record<string, number> = {};
        for (const c of counts) want[c.attr] = (want[c.attr] ?? 0) + p.iterations;
        obs(`${obj.v}.keys`, py.dictComp(N('k'), py.sub(v, N('k')), [py.comp(py.store('k'), py.call(N('sorted'), [py.list(Object.keys(want).map(s))]))]));
        expected[`${obj.v}.keys`] = want;
      } else {
        const owner = COUNTER_OWNER_KINDS.has(obj.kind.id) ? N(`holder_${obj.v}`) : obj.kind.id === 'class' ? py.call(N('type'), [v]) : v;
        obs(`${obj.v}.count`, py.attr(owner, 'n'));
        expected[`${obj.v}.count`] = counts.length * p.iterations;
      }
    }
    const racy = mine.filter((i) => i.op.tokens === 'racy-count');
    if (racy.length) {
      // An unlocked x += 1 loses updates (a race in the program), but can never exceed the number of
      // increments nor fall to zero once one happened.
      const total = racy.length * p.iterations;
      obs(`${obj.v}.racy_in_bounds`, py.and(py.cmp(py.int(0), 'Lt', py.attr(v, 'r')), py.cmp(py.attr(v, 'r'), 'LtE', py.int(total))));
      expected[`${obj.v}.racy_in_bounds`] = true;
    }
    const attrs = mine.filter((i) => i.op.tokens === 'attr');
    if (attrs.length && !crash) {
      const want: Record<string, number> = {};
      for (const a of attrs) want[a.attr] = a.slot * SPAN + p.iterations - 1;
      const owner = obj.kind.id === 'class' ? py.call(N('type'), [v]) : v;
      obs(`${obj.v}.attrs`, py.dictComp(N('k'), py.call(N('getattr'), [owner, N('k'), py.none()]), [py.comp(py.store('k'), py.call(N('sorted'), [py.list(Object.keys(want).map(s))]))]));
      expected[`${obj.v}.attrs`] = want;
    }
  }
  obs('pure_mismatch', py.call(N('sorted'), [py.call(N('set'), [N('_MISMATCH')])]));
  expected.pure_mismatch = [];
  obs('unexpected', py.call(N('sorted'), [N('_UNEXPECTED')]));
  expected.unexpected = [];
  obs('allowed_exceptions', py.call(N('sum'), [N('_ALLOWED')]));
  return { stmts, expected };
}

export function generateProgram(seed: string | number, partial: Partial<GenOptions> = {}): GeneratedProgram {
  const options = resolveGenOptions(partial);
  const seedText = String(seed);
  const rng = new Rng(`${GENERATOR_VERSION}:${seedText}:${canonical(options)}`);
  return renderProgram(planScenario(rng, options), { seed: seedText, options });
}

/** Render a scenario to a program: the AST, its source with header, and the predicted observables. */
export function renderProgram(scenario: Scenario, origin: { seed: string; options: GenOptions; mutations?: string[] }): GeneratedProgram {
  const { seed: seedText, options } = origin;
  const p = resolveScenario(scenario);
  const imports = new Set(['collections', 'gc', 'json', 'os', 'sys', 'threading', 'time', 'types']);
  for (const o of p.objects) for (const m of o.kind.imports) imports.add(m);
  const queues = p.objects.some((o) => o.kind.imports.includes('queue'));

  // Module level, once: imports, constants, helpers, class definitions and thread functions. On 3.13t,
  // classes and module-level functions are immortalized once a second thread starts (free-threading
  // howto, "Immortalization"), so defining them again each leak round would leak by design.
  const rounds = options.rounds;
  if (rounds > 1) imports.add('tracemalloc');
  imports.add('weakref');
  const defs: Stmt[] = [py.import(...[...imports].sort())];
  defs.push(py.assign(py.store('THREADS'), py.int(p.threads)), py.assign(py.store('ITERS'), py.int(p.iterations)), py.assign(py.store('SPAN'), py.int(SPAN)));
  defs.push(...preludeDefs({ queues }));
  const slots = p.threadPlans.flatMap((t) => t.ops.map((i) => [i.slot, `t${t.tid} ${i.op.id}`] as const));
  defs.push(py.assign(py.store('_SLOTS'), py.dict(slots.map(([k, label]) => [py.int(k), s(label)]))));
  defs.push(py.assign(py.store('_OWNER'), py.dict(p.threadPlans.flatMap((t) => t.ops.map((i) => [py.int(i.slot), py.int(t.tid)] as [Expr, Expr])))));
  for (const o of p.objects) defs.push(...(o.kind.defs?.(o.cls) ?? []));
  defs.push(...p.threadPlans.map(threadDef));

  // One round: fresh state and objects, the threads, the checks.
  const body: Stmt[] = [];
  for (const name of ['_MISMATCH', '_UNEXPECTED', '_RACY', '_keep']) body.push(py.assign(py.store(name), py.list([])));
  body.push(py.assign(py.store('_OBS'), py.dict([])), py.assign(py.store('_REF'), py.dict([])), py.assign(py.store('_HOSTILE_DICT'), py.dict([])));
  body.push(py.assign(py.store('_ALLOWED'), py.bin(py.list([py.int(0)]), 'Mult', N('THREADS'))));
  // Shared objects, their locks and counters.
  p.objects.forEach((o, k) => {
    body.push(py.assign(py.store(o.v), o.kind.create(k + 1, o.cls)));
    if (['instance', 'slots', 'SimpleNamespace'].includes(o.kind.id)) {
      body.push(py.assign(py.attrStore(N(o.v), 'n'), py.int(0)), py.assign(py.attrStore(N(o.v), 'r'), py.int(0)));
    }
    // The class itself is defined once, at module level: its counter is reset every round.
    if (o.kind.id === 'class') body.push(py.assign(py.attrStore(N(o.cls), 'n'), py.int(0)));
    body.push(py.assign(py.store(`lock_${o.v}`), py.method(N('threading'), 'Lock')));
    body.push(py.assign(py.store(`holder_${o.v}`), py.method(N('types'), 'SimpleNamespace', [], [py.kw('n', py.int(0)), py.kw('m', py.int(0))])));
  });
  body.push(py.assign(py.store('_BOX'), py.dict(p.objects.map((o) => [s(o.v), N(o.v)]))));
  body.push(
    py.assign(py.store('_TAKEN'), py.dict(p.objects.map((o) => [s(o.v), py.dictComp(N('t'), py.list([]), [py.comp(py.store('t'), py.call(N('range'), [N('THREADS')]))])]))),
  );
  // Refcount probes, one per thread, passed as arguments that are never stored; their refcount before
  // the threads is the baseline they must return to after join (sys.getrefcount is exact then).
  const probeEach = py.comp(py.store('p'), N('_PROBES'));
  body.push(
    py.assign(py.store('_PROBES'), py.listComp(py.call(N('_Probe')), [py.comp(py.store('_'), py.call(N('range'), [N('THREADS')]))])),
    py.assign(py.store('_PROBE_ALIVE'), py.listComp(py.method(N('weakref'), 'ref', [N('p')]), [probeEach])),
    py.assign(py.store('_PROBE_BASE'), py.listComp(py.method(N('sys'), 'getrefcount', [N('p')]), [probeEach])),
  );
  // Single-threaded references for pure ops, computed before any thread starts.
  const pureKeys = new Set<string>();
  for (const t of p.threadPlans) {
    for (const i of t.ops) {
      const key = `${i.obj.v}.${i.op.id}`;
      if (i.op.pure && !pureKeys.has(key)) {
        pureKeys.add(key);
        body.push(py.assign(py.subStore(N('_REF'), s(key)), i.op.pure(N(i.obj.v))));
      }
    }
  }
  body.push(py.expr(py.method(N('sys'), 'setswitchinterval', [py.float(p.switchInterval)])));
  body.push(py.assign(py.store('_BARRIER'), py.method(N('threading'), 'Barrier', [N('THREADS')])));
  body.push(
    py.assign(
      py.store('_threads'),
      py.list(p.threadPlans.map((t) => py.method(N('threading'), 'Thread', [], [py.kw('target', N(`thread_${t.tid}`)), py.kw('name', s(`t${t.tid}`))]))),
    ),
    py.for(py.store('_t'), N('_threads'), [py.expr(py.method(N('_t'), 'start'))]),
    py.for(py.store('_t'), N('_threads'), [py.expr(py.method(N('_t'), 'join'))]),
    py.del(py.delName('_t'), py.delName('_threads')),
  );
  const probeVia = p.threadPlans.map((t) => [...new Set(t.ops.filter((i) => i.op.usesProbe).map((i) => i.op.id))].sort().join(',') || 'none');
  // The same expression as the baseline: getrefcount counts the comprehension variable's reference too.
  body.push(
    py.expr(py.method(N('gc'), 'collect')),
    py.assign(py.store('_PROBE_AFTER'), py.listComp(py.method(N('sys'), 'getrefcount', [N('p')]), [probeEach])),
    py.expr(
      py.call(N('_report'), [
        py.dict([
          [s('type'), s('refcounts')],
          [
            s('probes'),
            py.listComp(
              py.dict([
                [s('name'), py.bin(s('probe%d'), 'Mod', N('k'))],
                [s('baseline'), py.sub(N('_PROBE_BASE'), N('k'))],
                [s('after'), py.sub(N('_PROBE_AFTER'), N('k'))],
                [s('alive'), py.cmp(py.call(py.sub(N('_PROBE_ALIVE'), N('k'))), 'IsNot', py.none())],
                [s('expected_alive'), py.bool(true)],
                [s('via'), py.sub(literal(probeVia), N('k'))],
              ]),
              [py.comp(py.store('k'), py.call(N('range'), [N('THREADS')]))],
            ),
          ],
        ]),
      ]),
    ),
  );
  const { stmts, expected } = checks(p);
  body.push(...stmts);
  // What each object is and which ops and threads touched it: the lost-write oracle names them.
  const accounting: Record<string, { kind: string; level: string; ops: string[]; threads: number[] }> = {};
  for (const o of p.objects) {
    const mine = p.threadPlans.flatMap((t) => t.ops.filter((i) => i.obj === o).map((i) => ({ op: i.op.id, tid: t.tid })));
    accounting[o.v] = { kind: o.kind.id, level: o.level, ops: [...new Set(mine.map((m) => m.op))].sort(), threads: [...new Set(mine.map((m) => m.tid))] };
  }
  body.push(py.expr(py.call(N('_report'), [py.dict([[s('type'), s('accounting')], [s('objects'), literal(accounting)]])])));
  body.push(py.assign(py.store('_EXPECTED'), literal(expected)));
  // A thread that died of an unexpected exception leaves every other check meaningless: only
  // `unexpected` is compared then.
  body.push(
    py.expr(py.method(N('_RACY'), 'append', [s('allowed_exceptions')])),
    py.if(N('_UNEXPECTED'), [py.expr(py.method(N('_RACY'), 'extend', [py.listComp(N('k'), [py.comp(py.store('k'), N('_OBS'), [py.cmp(N('k'), 'NotEq', s('unexpected'))])])]))]),
    py.expr(py.call(N('_report'), [py.dict([[s('type'), s('observables')], [s('data'), N('_OBS')], [s('expected'), N('_EXPECTED')], [s('racy'), N('_RACY')]])])),
    py.assign(
      py.store('_failed'),
      py.listComp(py.bin(s('%s=%r (expected %r)'), 'Mod', py.tuple([N('k'), py.method(N('_OBS'), 'get', [N('k')]), py.sub(N('_EXPECTED'), N('k'))])), [
        py.comp(py.store('k'), py.call(N('sorted'), [N('_EXPECTED')]), [
          py.and(py.cmp(N('k'), 'NotIn', N('_RACY')), py.cmp(py.method(N('_OBS'), 'get', [N('k')]), 'NotEq', py.sub(N('_EXPECTED'), N('k')))),
        ]),
      ]),
    ),
    py.if(N('_failed'), [py.expr(py.method(N('sys'), 'exit', [py.bin(s('ftfuzz check failed: '), 'Add', py.method(s('; '), 'join', [N('_failed')]))]))]),
  );

  const leakLabel = [...new Set(p.threadPlans.flatMap((t) => t.ops.map((i) => i.op.id)))].sort().join(',');
  const moduleBody = rounds > 1 ? [...defs, ...roundsLoop(body, rounds, options.warmupRounds, leakLabel)] : [...defs, ...body];
  moduleBody.push(py.expr(py.call(N('print'), [s('ok'), py.call(N('len'), [N('_OBS')]), s('observables')])));

  const documentedUnsafe = p.objects.filter((o) => ITERATOR_KINDS.has(o.kind.id)).map((o) => `${o.v}: shared iterator (free-threading howto, "Iterators")`);
  const meta: ProgramMeta = {
    generator: GENERATOR_VERSION,
    seed: seedText,
    mutations: origin.mutations ?? [],
    scenario,
    options,
    threads: p.threads,
    iterations: p.iterations,
    switchInterval: p.switchInterval,
    objects: p.objects.map((o) => ({ name: o.v, kind: o.kind.id, level: o.level })),
    ops: p.threadPlans.flatMap((t) => t.ops.map((i) => `t${t.tid}:${i.op.id}@${i.obj.v}`)),
    expected,
    documentedUnsafe,
  };
  const module = py.module(moduleBody);
  return { module, meta, source: printModule(module, headerLines(meta)) };
}

/** Names a statement list assigns at its top level: a round function declares them global. */
function assignedNames(stmts: Stmt[]): string[] {
  const names = new Set<string>();
  for (const st of stmts) {
    if (st._type === 'Assign') for (const t of st.targets) if (t._type === 'Name') names.add(t.id);
    if (st._type === 'For' && st.target._type === 'Name') names.add(st.target.id);
  }
  return [...names].sort();
}

/**
 * The leak harness (issue: memory leaks): the round runs `rounds` times in one process; after each,
 * gc.collect() and the metrics the leak oracle reads (gc-tracked objects, tracemalloc total, total
 * refcount on debug builds, RSS). The first `warmup` rounds fill caches and per-thread heaps.
 */
export function roundsLoop(round: Stmt[], rounds: number, warmup: number, label: string): Stmt[] {
  const M = N('_METRICS');
  const append = (metric: string, value: Expr) => py.expr(py.method(py.sub(M, s(metric)), 'append', [value]));
  return [
    py.def('_scenario', [], [py.global(...assignedNames(round)), ...round]),
    py.def('_rss', [], [
      py.try(
        [py.with([[py.call(N('open'), [s('/proc/self/statm')]), py.store('f')]], [
          py.ret(py.bin(py.call(N('int'), [py.sub(py.method(py.method(N('f'), 'read'), 'split'), py.int(1))]), 'Mult', py.method(N('os'), 'sysconf', [s('SC_PAGE_SIZE')]))),
        ])],
        [py.except(N('OSError'), null, [py.ret(py.int(0))])],
      ),
    ]),
    py.expr(py.method(N('tracemalloc'), 'start')),
    py.assign(py.store('_METRICS'), py.dict([[s('gc_objects'), py.list([])], [s('tracemalloc'), py.list([])], [s('rss'), py.list([])]])),
    py.if(py.call(N('hasattr'), [N('sys'), s('gettotalrefcount')]), [py.assign(py.subStore(M, s('totalrefcount')), py.list([]))]),
    py.for(py.store('_round'), py.call(N('range'), [py.int(rounds)]), [
      py.expr(py.call(N('_scenario'))),
      py.expr(py.method(N('gc'), 'collect')),
      append('gc_objects', py.call(N('len'), [py.method(N('gc'), 'get_objects')])),
      append('tracemalloc', py.sub(py.method(N('tracemalloc'), 'get_traced_memory'), py.int(0))),
      append('rss', py.call(N('_rss'))),
      py.if(py.cmp(s('totalrefcount'), 'In', M), [append('totalrefcount', py.method(N('sys'), 'gettotalrefcount'))]),
    ]),
    py.expr(py.call(N('_report'), [py.dict([[s('type'), s('leak-rounds')], [s('warmup'), py.int(warmup)], [s('scenario'), s(label)], [s('metrics'), M]])])),
  ];
}

/** The header line that carries the scenario (read back by `readScenario`). */
export const SCENARIO_TAG = 'scenario:';

export function headerLines(meta: ProgramMeta): string[] {
  return [
    'ftfuzz generated program: checked results are fixed by construction, whatever the interleaving.',
    `generator: ${meta.generator}`,
    `seed: ${meta.seed}`,
    `options: ${canonical(meta.options)}`,
    meta.mutations.length
      ? `mutations: ${meta.mutations.join(' ')}`
      : `regenerate: ftfuzz gen --seed '${meta.seed.replace(/'/g, '')}' --options '${canonical(meta.options)}'`,
    `threads: ${meta.threads}, iterations: ${meta.iterations}, switch interval: ${meta.switchInterval}`,
    `objects: ${meta.objects.map((o) => `${o.name}=${o.kind} (${o.level})`).join(', ')}`,
    `documented-unsafe: ${meta.documentedUnsafe.length ? meta.documentedUnsafe.join('; ') : 'none'}`,
    'standalone: python3.13t THIS_FILE exits 1 with a message when a check fails',
    `${SCENARIO_TAG} ${JSON.stringify(meta.scenario)}`,
    '',
  ];
}

/** A JSON-like value as a Python literal expression. */
export function literal(value: unknown): Expr {
  if (value === null || value === undefined) return py.none();
  if (typeof value === 'boolean') return py.bool(value);
  if (typeof value === 'number') return Number.isInteger(value) ? py.int(value) : py.float(value);
  if (typeof value === 'string') return s(value);
  if (Array.isArray(value)) return py.list(value.map(literal));
  return py.dict(Object.entries(value as Record<string, unknown>).map(([k, v]) => [s(k), literal(v)]));
}
