// Module mode: concurrent calls on shared instances of an importable module's classes (stdlib or a
// user's C extension), for free-threading readiness checks.
//
// The target interpreter introspects the module (runtime/introspect.ts runs python/ftfuzz_introspect.py). Each program shares one
// or two instances; all threads call the same method with the same arguments on an instance (tokens
// aside), so with the GIL the final state is the same on every run. The observables are the public
// state of the instances after join: a counter that loses increments only without the GIL differs from
// the stable GIL-on reference, which the differential oracle reports. Unknown methods promise nothing,
// so any exception is caught and counted (racy); crashes, hangs and mode mismatches (an extension that
// re-enables the GIL on import) are reported as always.
import { py, type Expr, type Stmt } from './ast.js';
import { reporterDef } from './prelude.js';
import { printModule } from './printer.js';
import { literal } from './program.js';
import { roundsLoop } from './leakRounds.js';
import { Rng } from './rng.js';

export interface ModuleSurface {
  module: string;
  error?: string;
  gil_before?: boolean;
  gil_after?: boolean;
  classes: {
    name: string;
    /** The constructor call that worked (absent: no arguments). */
    ctor?: { args: unknown[]; kwargs: Record<string, unknown> } | null;
    methods: { name: string; params: { name: string; required: boolean }[] }[];
  }[];
  functions: { name: string; params: { name: string; required: boolean }[] }[];
}

const N = py.name;

/** Argument literals: small and large ints, strings, bytes, floats, None, containers, and the token. */
function argPool(shared: string[]): Expr[] {
  return [
    py.int(0), py.int(1), py.int(7), py.int(-1), py.bin(py.int(2), 'Pow', py.int(65)), py.str('a'), py.str('ftfuzz'),
    py.bytes(Buffer.from('xy')), py.float(1.5), py.none(), py.tuple([py.int(1), py.int(2)]), py.list([py.int(3)]),
    N('tok'), N('tok'), ...shared.map((s) => N(s)),
  ];
}

/** The module-mode generator's version: its programs' bytes change with it. */
export const MODULE_GENERATOR = 'ftfuzz-module/3';
// /2: exceptions kept in a set, and leak rounds make their instances afresh (both were growth of ours).
// /3: each thread counts its calls that returned (a list of its own, added to the program's total under a lock
// when it ends), reported after join as
// a `module-calls` record: which calls were exercised, not only generated (the readiness report).

export interface ModuleProgram {
  source: string;
  calls: string[];
}

/**
 * def _snapshot(obj): public primitive attributes, len() and sorted item reprs of a sized object: the
 * state compared across modes. Floats are kept as repr so JSON cannot round them differently.
 */
function snapshotDef(): Stmt {
  const prim = py.call(N('isinstance'), [N('v'), py.tuple([N('bool'), N('int'), N('str'), py.call(N('type'), [py.none()])])]);
  return py.def('_snapshot', ['obj'], [
    py.assign(py.store('out'), py.dict([])),
    py.for(py.store('name'), py.call(N('sorted'), [py.call(N('dir'), [N('obj')])]), [
      py.if(py.method(N('name'), 'startswith', [py.str('_')]), [py.continue()]),
      py.try([py.assign(py.store('v'), py.call(N('getattr'), [N('obj'), N('name')]))], [py.except(N('Exception'), null, [py.continue()])]),
      py.if(prim, [py.assign(py.subStore(N('out'), N('name')), N('v'))], [
        py.if(py.call(N('isinstance'), [N('v'), N('float')]), [py.assign(py.subStore(N('out'), N('name')), py.call(N('repr'), [N('v')]))]),
      ]),
    ]),
    py.if(py.call(N('hasattr'), [N('obj'), py.str('__len__')]), [
      py.try(
        [
          py.assign(py.subStore(N('out'), py.str('$len')), py.call(N('len'), [N('obj')])),
          py.assign(
            py.subStore(N('out'), py.str('$items')),
            py.call(N('sorted'), [py.genExp(py.call(N('repr'), [N('x')]), [py.comp(py.store('x'), py.call(N('list'), [N('obj')]))])]),
          ),
        ],
        [py.except(N('Exception'), null, [py.pass()])],
      ),
    ]),
    py.ret(N('out')),
  ]);
}

export function generateModuleProgram(
  surface: ModuleSurface,
  seed: string,
  options: { threads?: number; iterations?: number; rounds?: number; warmupRounds?: number } = {},
): ModuleProgram {
  const rng = new Rng(`ftfuzz-module/1:${surface.module}:${seed}`);
  const threads = options.threads ?? rng.int(2, 8);
  const iterations = options.iterations ?? rng.int(50, 500);
  const mod = surface.module.split('.').reduce<Expr>((e, part, i) => (i === 0 ? N(part) : py.attr(e, part)), N(''));
  // Shared instances: up to two classes of the module; without classes, plain containers for the
  // module's functions to work on (heapq.heappush(shared_list, tok)).
  const shared: { v: string; create: Expr; label: string }[] = [];
  const classes = rng.shuffle(surface.classes).slice(0, rng.int(1, 2));
  classes.forEach((c, k) => {
    const args = (c.ctor?.args ?? []).map(literal);
    const kwargs = Object.entries(c.ctor?.kwargs ?? {}).map(([name, value]) => py.kw(name, literal(value)));
    const shown = [...(c.ctor?.args ?? []).map((a) => JSON.stringify(a)), ...Object.entries(c.ctor?.kwargs ?? {}).map(([n, v]) => `${n}=${JSON.stringify(v)}`)].join(', ');
    shared.push({ v: `i${k}`, create: py.call(py.attr(mod, c.name), args, kwargs), label: shown ? `${c.name}(${shown})` : c.name });
  });
  if (shared.length === 0) shared.push({ v: 'i0', create: py.list([]), label: 'list' }, { v: 'i1', create: py.dict([]), label: 'dict' });
  const pool = argPool(shared.map((s) => s.v));
  const calls: { stmt: Stmt; label: string }[] = [];
  const argsFor = (params: { required: boolean }[], first?: Expr) => {
    const required = params.filter((p) => p.required).length;
    const count = Math.min(params.length, required + (rng.bool(0.3) ? 1 : 0));
    return Array.from({ length: count }, (_, i) => (i === 0 && first ? first : rng.pick(pool)));
  };
  classes.forEach((c, k) => {
    const m = rng.pick(c.methods);
    const args = argsFor(m.params);
    calls.push({ stmt: py.expr(py.method(N(`i${k}`), m.name, args)), label: `${c.name}.${m.name}` });
  });
  if (surface.functions.length && (classes.length === 0 || rng.bool(0.3))) {
    const f = rng.pick(surface.functions);
    const target = rng.pick(shared);
    calls.push({ stmt: py.expr(py.call(py.attr(mod, f.name), argsFor(f.params, N(target.v)))), label: `${surface.module}.${f.name}(${target.v})` });
  }
  const rounds = Math.max(1, options.rounds ?? 1);
  const warmup = Math.min(rounds - 1, options.warmupRounds ?? 2);
  // With leak rounds, each round makes its instances afresh: a shared container a call appends to grows
  // each round by design, and the leak oracle would read that growth as a leak of the module.
  const instances = shared.map((s) => py.assign(py.store(s.v), s.create));
  const threadPhase: Stmt[] = [
    ...(rounds > 1 ? instances : []),
    py.assign(
      py.store('_threads'),
      py.listComp(py.method(N('threading'), 'Thread', [], [py.kw('target', N('worker')), py.kw('args', py.tuple([N('t')]))]), [py.comp(py.store('t'), py.call(N('range'), [N('THREADS')]))]),
    ),
    py.for(py.store('_t'), N('_threads'), [py.expr(py.method(N('_t'), 'start'))]),
    py.for(py.store('_t'), N('_threads'), [py.expr(py.method(N('_t'), 'join'))]),
  ];
  const body: Stmt[] = [
    py.import(...[...new Set(['json', 'os', 'sys', 'threading', surface.module, ...(rounds > 1 ? ['gc', 'tracemalloc'] : [])])].sort()),
    reporterDef(),
    snapshotDef(),
    py.assign(py.store('THREADS'), py.int(threads)),
    py.assign(py.store('ITERS'), py.int(iterations)),
    ...(rounds > 1 ? [] : instances),
    // A set, not a list: with leak rounds a list of every exception would grow each round, a leak of ours.
    py.assign(py.store('_EXC'), py.call(N('set'))),
    py.assign(py.store('_OKS'), py.bin(py.list([py.int(0)]), 'Mult', py.int(calls.length))),
    py.assign(py.store('_OKL'), py.method(N('threading'), 'Lock', [])),
    py.assign(py.store('_BARRIER'), py.method(N('threading'), 'Barrier', [N('THREADS')])),
    py.def('worker', ['tid'], [
      py.assign(py.store('ok'), py.bin(py.list([py.int(0)]), 'Mult', py.int(calls.length))),
      py.expr(py.method(N('_BARRIER'), 'wait')),
      py.for(py.store('i'), py.call(N('range'), [N('ITERS')]), [
        py.assign(py.store('tok'), py.bin(py.bin(N('tid'), 'Mult', py.int(1_000_000)), 'Add', N('i'))),
        ...calls.map((c, k) =>
          py.try([c.stmt, py.augAssign(py.subStore(N('ok'), py.int(k)), 'Add', py.int(1))], [py.except(N('Exception'), 'exc', [py.expr(py.method(N('_EXC'), 'add', [py.attr(py.call(N('type'), [N('exc')]), '__name__')]))])]),
        ),
      ]),
      // Summed under a lock, once per thread: a fixed list (leak rounds must not see it grow) and no lost count.
      py.with([[N('_OKL'), null]], [
        py.for(py.store('k'), py.call(N('range'), [py.int(calls.length)]), [py.augAssign(py.subStore(N('_OKS'), N('k')), 'Add', py.sub(N('ok'), N('k')))]),
      ]),
    ]),
    // The threads phase; with leak rounds (the leak harness of generated programs), it runs that many
    // times on the same shared instances and the leak oracle reads the growth per round.
    ...(rounds > 1 ? roundsLoop(threadPhase, rounds, warmup, `module ${surface.module}: ${calls.map((c) => c.label).join(',')}`) : threadPhase),
    // Which calls returned at least once (summed over threads; with leak rounds, over every round).
    py.expr(py.call(N('_report'), [py.dict([
      [py.str('type'), py.str('module-calls')],
      [py.str('calls'), py.list(calls.map((c) => py.str(c.label)))],
      [py.str('ok'), N('_OKS')],
    ])])),
    py.assign(py.store('_OBS'), py.dict(shared.map((s) => [py.str(`${s.v}.state`), py.call(N('_snapshot'), [N(s.v)])]))),
    py.assign(py.subStore(N('_OBS'), py.str('exceptions')), py.call(N('sorted'), [N('_EXC')])),
    py.expr(py.call(N('_report'), [py.dict([[py.str('type'), py.str('observables')], [py.str('data'), N('_OBS')], [py.str('racy'), py.list([py.str('exceptions')])]])])),
    py.expr(py.call(N('print'), [N('_OBS')])),
  ];
  const header = [
    `ftfuzz module-mode program for ${surface.module}: every thread makes the same calls on shared instances.`,
    `generator: ${MODULE_GENERATOR}`,
    `seed: ${seed}`,
    `threads: ${threads}, iterations: ${iterations}${rounds > 1 ? `, leak rounds: ${rounds} (${warmup} warm-up)` : ''}`,
    `calls: ${calls.map((c) => c.label).join(', ')}`,
    `instances: ${shared.map((s) => `${s.v}=${s.label}`).join(', ')}`,
    `import re-enables the GIL: ${surface.gil_after === true && surface.gil_before === false ? 'yes' : 'no'}`,
    '',
  ];
  return { source: printModule(py.module(body), header), calls: calls.map((c) => c.label) };
}
