// The bare render of a scenario: the same threads and ops, without the checks, the reporting protocol or
// anything the ops do not use, for the smallest reproducer of a crash or hang (`minimize`). It still carries
// its scenario header, so it can be read and reduced again.
import { canonical } from '../canonical.js';
import { py, type Module, type Stmt } from './ast.js';
import { printModule } from './printer.js';
import { GENERATOR_VERSION, resolveScenario, SPAN, type GenOptions, type Scenario } from './scenario.js';
import { notMemoryNeutral, objectSetup, scenarioImports, slotsTable, SCENARIO_TAG, threadLoop } from './program.js';

const N = py.name;
const s = py.str;

/** The header line that marks a bare render (readScenario still reads its scenario). */
export const BARE_TAG = 'shape: bare';

/** The name a statement binds, when it is a plain `name = ...`, `def name` or `class name`. */
function boundName(st: Stmt): string | null {
  if (st._type === 'Assign' && st.targets.length === 1 && st.targets[0]?._type === 'Name') return st.targets[0].id;
  if (st._type === 'FunctionDef' || st._type === 'ClassDef') return st.name;
  return null;
}

/**
 * Drop the statements of `optional` (indices into `stmts`) whose bound name nothing else uses, to a
 * fixpoint: a bare render sets up only what its ops touch.
 */
function pruneUnused(stmts: Stmt[], optional: (st: Stmt) => boolean): Stmt[] {
  let kept = stmts;
  for (let changed = true; changed; ) {
    changed = false;
    const texts = kept.map((st) => printModule(py.module([st])));
    const next = kept.filter((st, k) => {
      const name = boundName(st);
      if (name === null || !optional(st)) return true;
      const used = new RegExp(`\\b${name}\\b`);
      return texts.some((t, j) => j !== k && used.test(t));
    });
    changed = next.length !== kept.length;
    kept = next;
  }
  return kept;
}

/**
 * A scenario rendered without anything a crash or hang does not need: no token accounting, probes,
 * references, checks or protocol reporting; the same objects, threads, ops, token markers (and `_SLOTS`,
 * so a fault still maps to its op), barrier, switch interval, sleeps and gc calls. The minimizer tries it
 * for crash and hang buckets: it is a fifth of the checked program, and what a maintainer pastes.
 */
export function renderBare(scenario: Scenario, origin: { seed: string; options: GenOptions; mutations?: string[] }): { source: string; module: Module } {
  const p = resolveScenario(scenario);
  const imports = scenarioImports(p, ['sys', 'threading']);
  if (p.threadPlans.some((t) => t.ops.some((i) => i.sleepAfter))) imports.add('time');
  if (p.threadPlans.some((t) => t.gcEvery !== null)) imports.add('gc');
  const threadDefs = p.threadPlans.map((t) => {
    const loop = threadLoop(t, true);
    const taken = [...new Set(t.ops.map((i) => i.obj.v))].map((v) => py.assign(py.store(`taken_${v}`), py.list([])));
    const body = pruneUnused(
      [
        py.assign(py.store('tid'), py.int(t.tid)),
        py.assign(py.store('probe'), py.call(N('_Probe'))),
        ...taken,
        py.expr(py.method(N('_BARRIER'), 'wait')),
        py.for(py.store('i'), py.call(N('range'), [N('ITERS')]), loop.length ? loop : [py.pass()]),
      ],
      () => true,
    );
    return py.def(`thread_${t.tid}`, [], body);
  });
  const optionalNames = new Set(['ITERS', 'SPAN', '_Probe', '_keep', '_HOSTILE_DICT', '_BOX', ...p.objects.flatMap((o) => [`lock_${o.v}`, `holder_${o.v}`])]);
  const round: Stmt[] = [
    py.assign(py.store('_keep'), py.list([])),
    py.assign(py.store('_HOSTILE_DICT'), py.dict([])),
    ...objectSetup(p),
    py.assign(py.store('_BOX'), py.dict(p.objects.map((o) => [s(o.v), N(o.v)]))),
    py.assign(py.store('_BARRIER'), py.method(N('threading'), 'Barrier', [py.int(p.threads)])),
    py.assign(py.store('_threads'), py.list(p.threadPlans.map((t) => py.method(N('threading'), 'Thread', [], [py.kw('target', N(`thread_${t.tid}`))])))),
    py.for(py.store('_t'), N('_threads'), [py.expr(py.method(N('_t'), 'start'))]),
    py.for(py.store('_t'), N('_threads'), [py.expr(py.method(N('_t'), 'join'))]),
  ];
  const head: Stmt[] = [
    py.import(...[...imports, 'types'].sort()),
    py.assign(py.store('ITERS'), py.int(p.iterations)),
    py.assign(py.store('SPAN'), py.int(SPAN)),
    slotsTable(p),
    py.cls('_Probe', [], [py.pass()]),
    ...p.objects.flatMap((o) => o.kind.defs?.(o.cls) ?? []),
    ...threadDefs,
    py.expr(py.method(N('sys'), 'setswitchinterval', [py.float(p.switchInterval)])),
  ];
  // Leak rounds ran the scenario repeatedly under tracemalloc, with a collection after each: a crash can
  // need both (tracemalloc's hooks are on every allocation), so the bare render keeps them.
  const rounds = notMemoryNeutral(p) ? 1 : origin.options.rounds;
  if (rounds > 1) imports.add('tracemalloc').add('gc');
  const optional = (st: Stmt) => optionalNames.has(boundName(st) ?? '');
  const kept = pruneUnused([...head, ...round], optional);
  const stmts =
    rounds > 1
      ? [
          ...kept.filter((st) => !round.includes(st)),
          py.expr(py.method(N('tracemalloc'), 'start')),
          py.for(py.store('_round'), py.call(N('range'), [py.int(rounds)]), [...kept.filter((st) => round.includes(st)), py.expr(py.method(N('gc'), 'collect'))]),
        ]
      : kept;
  // `types` is imported for the counter holders only.
  const used = printModule(py.module(stmts.slice(1)));
  const importNames = [...imports, ...(/\btypes\./.test(used) ? ['types'] : [])].sort();
  stmts[0] = py.import(...importNames);
  const module = py.module(stmts);
  const header = [
    'ftfuzz reproducer: a generated scenario rendered bare (no checks): it shows a crash or a hang, nothing else.',
    `generator: ${GENERATOR_VERSION}`,
    `seed: ${origin.seed}`,
    `options: ${canonical(origin.options)}`,
    ...(origin.mutations?.length ? [`mutations: ${origin.mutations.join(' ')}`] : []),
    BARE_TAG,
    `${SCENARIO_TAG} ${JSON.stringify(scenario)}`,
    '',
  ];
  return { module, source: printModule(module, header) };
}
