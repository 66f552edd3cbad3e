// Seeded generation of concurrent programs whose checked results cannot depend on the interleaving.
//
// Shape: a few shared objects; N threads released together by a barrier; each thread runs its op mix for
// M iterations; join; checks. Every write carries a unique token (slot * SPAN + iteration), so the final
// state alone proves a lost, duplicated or phantom write. The generator computes the expected
// observables itself and embeds them; the program checks itself when run standalone and reports
// through the protocol under `ftfuzz run`.
import { shellQuote } from '../text.js';
import { canonical } from '../canonical.js';
import { py, type Expr, type Module, type Stmt } from './ast.js';
import { KNOB_OPS, type EffectClass, type OpCtx, type OpSpec } from './ops.js';
import { checks } from './predictions.js';
import { preludeDefs } from './prelude.js';
import { printModule } from './printer.js';
import { roundsLoop } from './leakRounds.js';
import { Rng } from './rng.js';
import {
  GENERATOR_VERSION,
  SPAN,
  planScenario,
  resolveGenOptions,
  resolveScenario,
  type GenOptions,
  type ObjectPlan,
  type Scenario,
  type ThreadPlan,
} from './scenario.js';

const N = py.name;
const s = py.str;

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

export function objectExpr(obj: ObjectPlan): Expr {
  return obj.viaContainer ? py.sub(N('_BOX'), s(obj.v)) : N(obj.v);
}

/** Wrap an op's statements in a handler for the exceptions its contract allows (counted, racy). */
export function guarded(body: Stmt[], op: OpSpec, tid: number, bare = false): Stmt[] {
  // Crash-only ops promise nothing but memory safety: any exception is theirs to raise.
  const names = op.effect === 'crash-only' ? ['Exception'] : op.allowed;
  if (names.length === 0) return body;
  const types: Expr[] = names.map((n) => {
    const [mod, attr] = n.split('.');
    return attr ? py.attr(N(mod as string), attr) : N(n);
  });
  const handler = bare ? [py.pass()] : [py.augAssign(py.subStore(N('_ALLOWED'), py.int(tid)), 'Add', py.int(1))];
  return [py.try(body, [py.except(types.length === 1 ? (types[0] as Expr) : py.tuple(types), null, handler)])];
}

const knob = (id: string): Stmt[] => KNOB_OPS.find((k) => k.id === id)?.body?.(undefined as never) ?? [];

/** One iteration of a thread: each op after its token marker (the crash oracle maps a line to its op by it). */
export function threadLoop(t: ThreadPlan, bare: boolean): Stmt[] {
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
    if (inst.op.pure && bare) {
      loop.push(py.assign(py.store('_r'), inst.op.pure(ctx.o)));
    } else if (inst.op.pure) {
      const key = `${inst.obj.v}.${inst.op.id}`;
      loop.push(py.if(py.cmp(inst.op.pure(ctx.o), 'NotEq', py.sub(N('_REF'), s(key))), [py.expr(py.method(N('_MISMATCH'), 'append', [s(key)]))]));
    } else if (inst.op.body) {
      loop.push(...guarded(inst.op.body(ctx), inst.op, t.tid, bare));
    }
    if (inst.sleepAfter) loop.push(...knob('time.sleep0'));
  }
  if (t.gcEvery !== null) {
    loop.push(py.if(py.cmp(py.bin(N('i'), 'Mod', py.int(t.gcEvery)), 'Eq', py.int(0)), knob('gc.collect')));
  }
  return loop;
}

export function threadDef(t: ThreadPlan): Stmt {
  const loop = threadLoop(t, false);
  const takenObjects = [...new Set(t.ops.map((i) => i.obj.v))];
  return py.def(`thread_${t.tid}`, [], [
    py.assign(py.store('tid'), py.int(t.tid)),
    // The op an unexpected exception escaped from: its slot, named by `_SLOTS` (differential families are
    // keyed by object kind, op and exception type, never by the catch-all observable).
    py.assign(py.store('tok'), py.int(0)),
    py.assign(py.store('probe'), py.sub(N('_PROBES'), py.int(t.tid))),
    ...takenObjects.map((v) => py.assign(py.store(`taken_${v}`), py.sub(py.sub(N('_TAKEN'), s(v)), py.int(t.tid)))),
    py.try(
      [py.expr(py.method(N('_BARRIER'), 'wait')), py.for(py.store('i'), py.call(N('range'), [N('ITERS')]), loop.length ? loop : [py.pass()])],
      [
        py.except(N('BaseException'), 'exc', [
          py.expr(
            py.method(N('_UNEXPECTED'), 'append', [
              py.bin(s('%s in thread %d during %s: %s'), 'Mod', py.tuple([
                py.attr(py.call(N('type'), [N('exc')]), '__name__'),
                N('tid'),
                py.sub(py.method(py.method(N('_SLOTS'), 'get', [py.bin(N('tok'), 'FloorDiv', N('SPAN')), s('? ?')]), 'split', [s(' '), py.int(1)]), py.int(-1)),
                N('exc'),
              ])),
            ]),
          ),
          py.raise(null),
        ]),
      ],
    ),
  ]);
}

export function generateProgram(seed: string | number, partial: Partial<GenOptions> = {}): GeneratedProgram {
  const options = resolveGenOptions(partial);
  const seedText = String(seed);
  const rng = new Rng(`${GENERATOR_VERSION}:${seedText}:${canonical(options)}`);
  return renderProgram(planScenario(rng, options), { seed: seedText, options });
}

/** The modules a scenario's object kinds and ops need, beside the render's own. */
/** What every generated program imports besides its kinds' and ops' modules. */
export const OWN_IMPORTS = ['collections', 'gc', 'json', 'os', 'sys', 'threading', 'time', 'types'] as const;
/** Every module a generated program may import beyond its kinds' and ops' (the leak harness: tracemalloc). */
export const PRELUDE_IMPORTS = [...OWN_IMPORTS, 'tracemalloc', 'weakref'] as const;

export function scenarioImports(p: ReturnType<typeof resolveScenario>, own: string[]): Set<string> {
  const imports = new Set(own);
  for (const o of p.objects) for (const m of o.kind.imports) imports.add(m);
  for (const t of p.threadPlans) for (const i of t.ops) for (const m of i.op.imports ?? []) imports.add(m);
  return imports;
}

/** `_SLOTS = {slot: 't<thread> <op id>'}`: what the crash oracle maps a token marker back to. */
export function slotsTable(p: ReturnType<typeof resolveScenario>): Stmt {
  return py.assign(py.store('_SLOTS'), py.dict(p.threadPlans.flatMap((t) => t.ops.map((i) => [py.int(i.slot), s(`t${t.tid} ${i.op.id}`)] as [Expr, Expr]))));
}

/** The shared objects, their counters, locks and counter holders (both renders create them alike). */
export function objectSetup(p: ReturnType<typeof resolveScenario>): Stmt[] {
  return p.objects.flatMap((o, k) => [
    py.assign(py.store(o.v), o.kind.create(k + 1, o.cls)),
    ...(o.kind.counts === 'attributes' ? [py.assign(py.attrStore(N(o.v), 'n'), py.int(0)), py.assign(py.attrStore(N(o.v), 'r'), py.int(0))] : []),
    // The class itself is defined once, at module level: its counter is reset every round.
    ...(o.kind.counts === 'class' ? [py.assign(py.attrStore(N(o.cls), 'n'), py.int(0))] : []),
    py.assign(py.store(`lock_${o.v}`), py.method(N('threading'), 'Lock')),
    py.assign(py.store(`holder_${o.v}`), py.method(N('types'), 'SimpleNamespace', [], [py.kw('n', py.int(0)), py.kw('m', py.int(0))])),
  ]);
}

/** An op or object kind that leaves memory behind by design: the scenario never runs the leak harness. */
export function notMemoryNeutral(p: ReturnType<typeof resolveScenario>): boolean {
  return p.objects.some((o) => o.kind.notMemoryNeutral === true) || p.threadPlans.some((t) => t.ops.some((i) => i.op.notMemoryNeutral === true));
}

/** Render a scenario to a program: the AST, its source with header, and the predicted observables. */
export function renderProgram(scenario: Scenario, origin: { seed: string; options: GenOptions; mutations?: string[] }): GeneratedProgram {
  const { seed: seedText, options } = origin;
  const p = resolveScenario(scenario);
  // An op that grows memory by design (atexit keeps a slot per registration until exit) would make
  // every leak round a leak of our making: such a scenario runs once, without the leak harness.
  const rounds = notMemoryNeutral(p) ? 1 : options.rounds;
  const defs = moduleDefs(p, rounds);
  // One round: fresh state and objects, the threads, the checks.
  const { stmts, expected } = checks(p);
  const body = [...roundSetup(p), ...runThreads(p), ...probeReport(p), ...stmts, ...verdictChecks(p, expected)];

  const leakLabel = [...new Set(p.threadPlans.flatMap((t) => t.ops.map((i) => i.op.id)))].sort().join(',');
  const moduleBody = rounds > 1 ? [...defs, ...roundsLoop(body, rounds, options.warmupRounds, leakLabel)] : [...defs, ...body];
  moduleBody.push(py.expr(py.call(N('print'), [s('ok'), py.call(N('len'), [N('_OBS')]), s('observables')])));

  const documentedUnsafe = p.objects.filter((o) => o.kind.sharedIterator).map((o) => `${o.v}: shared iterator (free-threading howto, "Iterators")`);
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

/**
 * Module level, once: imports, constants, helpers, class definitions and thread functions. On 3.13t,
 * classes and module-level functions are immortalized once a second thread starts (free-threading howto,
 * "Immortalization"), so defining them again each leak round would leak by design.
 */
function moduleDefs(p: ReturnType<typeof resolveScenario>, rounds: number): Stmt[] {
  const imports = scenarioImports(p, [...OWN_IMPORTS]);
  const queues = p.objects.some((o) => o.kind.imports.includes('queue'));

  if (rounds > 1) imports.add('tracemalloc');
  imports.add('weakref');
  const defs: Stmt[] = [py.import(...[...imports].sort())];
  defs.push(py.assign(py.store('THREADS'), py.int(p.threads)), py.assign(py.store('ITERS'), py.int(p.iterations)), py.assign(py.store('SPAN'), py.int(SPAN)));
  defs.push(...preludeDefs({ queues }));
  defs.push(slotsTable(p));
  defs.push(py.assign(py.store('_OWNER'), py.dict(p.threadPlans.flatMap((t) => t.ops.map((i) => [py.int(i.slot), py.int(t.tid)] as [Expr, Expr])))));
  for (const o of p.objects) defs.push(...(o.kind.defs?.(o.cls) ?? []));
  defs.push(...p.threadPlans.map(threadDef));
  return defs;
}

/** Each refcount probe, as the comprehension the baseline and the check both use (getrefcount counts its variable). */
const probesEach = () => py.comp(py.store('p'), N('_PROBES'));

/** A round's fresh state and objects, the refcount probes' baselines, and the single-threaded references of pure ops. */
function roundSetup(p: ReturnType<typeof resolveScenario>): Stmt[] {
  const body: Stmt[] = [];
  for (const name of ['_MISMATCH', '_UNEXPECTED', '_RACY', '_keep']) body.push(py.assign(py.store(name), py.list([])));
  body.push(py.assign(py.store('_OBS'), py.dict([])), py.assign(py.store('_REF'), py.dict([])), py.assign(py.store('_HOSTILE_DICT'), py.dict([])));
  body.push(py.assign(py.store('_ALLOWED'), py.bin(py.list([py.int(0)]), 'Mult', N('THREADS'))));
  body.push(...objectSetup(p));
  body.push(py.assign(py.store('_BOX'), py.dict(p.objects.map((o) => [s(o.v), N(o.v)]))));
  body.push(
    py.assign(py.store('_TAKEN'), py.dict(p.objects.map((o) => [s(o.v), py.dictComp(N('t'), py.list([]), [py.comp(py.store('t'), py.call(N('range'), [N('THREADS')]))])]))),
  );
  // Refcount probes, one per thread, passed as arguments that are never stored; their refcount before
  // the threads is the baseline they must return to after join (sys.getrefcount is exact then).
  const probeEach = probesEach();
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
  return body;
}

/** The threads, started and joined (they meet at `_BARRIER`). */
function runThreads(p: ReturnType<typeof resolveScenario>): Stmt[] {
  return [
    py.expr(py.method(N('sys'), 'setswitchinterval', [py.float(p.switchInterval)])),
    py.assign(py.store('_BARRIER'), py.method(N('threading'), 'Barrier', [N('THREADS')])),
    py.assign(
      py.store('_threads'),
      py.list(p.threadPlans.map((t) => py.method(N('threading'), 'Thread', [], [py.kw('target', N(`thread_${t.tid}`)), py.kw('name', s(`t${t.tid}`))]))),
    ),
    py.for(py.store('_t'), N('_threads'), [py.expr(py.method(N('_t'), 'start'))]),
    py.for(py.store('_t'), N('_threads'), [py.expr(py.method(N('_t'), 'join'))]),
    py.del(py.delName('_t'), py.delName('_threads')),
  ];
}

/** The refcount probes' report: each must be back at its baseline, and alive, after join. */
function probeReport(p: ReturnType<typeof resolveScenario>): Stmt[] {
  const probeVia = p.threadPlans.map((t) => [...new Set(t.ops.filter((i) => i.op.usesProbe).map((i) => i.op.id))].sort().join(',') || 'none');
  // The same expression as the baseline: getrefcount counts the comprehension variable's reference too.
  const probeEach = probesEach();
  return [
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
  ];
}

/** The accounting and observables reports, and the check that fails the program on a mismatch. */
function verdictChecks(p: ReturnType<typeof resolveScenario>, expected: Record<string, unknown>): Stmt[] {
  const body: Stmt[] = [];
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
  return body;
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
      : `regenerate: ftfuzz gen --seed ${shellQuote(meta.seed)} --options ${shellQuote(canonical(meta.options))}`,
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

