// The leak harness's shape: a scenario's round as a function run several times in one process, with the
// metrics the leak oracle reads after each round.
import { py, type Expr, type Stmt } from './ast.js';

const N = py.name;
const s = py.str;

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
