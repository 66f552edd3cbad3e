// The fixed part of every generated program, as AST: the protocol reporter, queue draining and the token
// accounting that turns the final state into lost / duplicated / phantom counts.
import { py, type Expr, type Stmt } from './ast.js';

const N = py.name;
const s = py.str;
const call = (f: Expr, ...args: Expr[]) => py.call(f, args);

/** def _report(record): writes one protocol line when FTFUZZ_REPORT_FD is set (README "Program protocol"). */
export function reporterDef(): Stmt {
  const line = py.bin(
    py.method(N('json'), 'dumps', [py.call(N('dict'), [N('record')], [py.kw('ftfuzz', py.int(1))])], [py.kw('sort_keys', py.bool(true)), py.kw('default', N('repr'))]),
    'Add',
    s('\n'),
  );
  return py.def('_report', ['record'], [
    py.assign(py.store('fd'), py.method(py.attr(N('os'), 'environ'), 'get', [s('FTFUZZ_REPORT_FD')])),
    py.if(N('fd'), [py.expr(py.method(N('os'), 'write', [call(N('int'), N('fd')), py.method(line, 'encode')]))]),
  ]);
}

/** def _drain(q): every item left in a queue, without blocking. */
export function drainDef(): Stmt {
  return py.def('_drain', ['q'], [
    py.assign(py.store('out'), py.list([])),
    py.while(py.bool(true), [
      py.try(
        [py.expr(py.method(N('out'), 'append', [py.method(N('q'), 'get_nowait')]))],
        [py.except(py.attr(N('queue'), 'Empty'), null, [py.ret(N('out'))])],
      ),
    ]),
  ]);
}

/** def _decode(tokens): the first ten tokens as [slot, "tN op", iteration] for the tokens record. */
function decodeDef(): Stmt {
  return py.def('_decode', ['tokens'], [
    py.ret(
      py.listComp(
        py.list([
          py.bin(N('t'), 'FloorDiv', N('SPAN')),
          py.method(N('_SLOTS'), 'get', [py.bin(N('t'), 'FloorDiv', N('SPAN')), s('?')]),
          py.bin(N('t'), 'Mod', N('SPAN')),
        ]),
        [py.comp(py.store('t'), py.sub(py.call(N('sorted'), [N('tokens')], [py.kw('key', N('repr'))]), py.slice(null, py.int(10))))],
      ),
    ),
  ]);
}

/**
 * def _account(name, present, taken, ranges, exact): conservation of tokens. Every produced token must be
 * in the object or in exactly one thread's `taken` list: missing = lost writes, dup = duplicated writes,
 * phantom = values nobody wrote. For tainted objects, missing and dup are reported but racy.
 */
function accountDef(): Stmt {
  const obs = (suffix: string, value: Expr) => py.assign(py.subStore(N('_OBS'), py.bin(N('name'), 'Add', s(suffix))), value);
  return py.def('_account', ['name', 'present', 'taken', 'ranges', 'exact'], [
    py.assign(py.store('produced'), py.call(N('set'))),
    py.for(py.tupleStore([py.store('a'), py.store('b')]), N('ranges'), [py.expr(py.method(N('produced'), 'update', [call(N('range'), N('a'), N('b'))]))]),
    py.assign(py.store('seen'), py.method(N('collections'), 'Counter', [N('present')])),
    py.for(py.store('lst'), N('taken'), [py.expr(py.method(N('seen'), 'update', [N('lst')]))]),
    py.assign(py.store('missing'), py.listComp(N('t'), [py.comp(py.store('t'), N('produced'), [py.cmp(N('t'), 'NotIn', N('seen'))])])),
    py.assign(
      py.store('dup'),
      py.listComp(N('t'), [py.comp(py.tupleStore([py.store('t'), py.store('n')]), py.method(N('seen'), 'items'), [py.cmp(N('n'), 'Gt', py.int(1))])]),
    ),
    py.assign(py.store('phantom'), py.listComp(N('t'), [py.comp(py.store('t'), N('seen'), [py.cmp(N('t'), 'NotIn', N('produced'))])])),
    obs('.missing', call(N('len'), N('missing'))),
    obs('.dup', call(N('len'), N('dup'))),
    obs('.phantom', call(N('len'), N('phantom'))),
    py.if(py.unary('Not', N('exact')), [
      py.expr(py.method(N('_RACY'), 'extend', [py.list([py.bin(N('name'), 'Add', s('.missing')), py.bin(N('name'), 'Add', s('.dup'))])])),
    ]),
    py.if(py.or(N('missing'), N('dup'), N('phantom')), [
      py.expr(
        call(
          N('_report'),
          py.dict([
            [s('type'), s('tokens')],
            [s('object'), N('name')],
            [s('exact'), N('exact')],
            [s('missing'), call(N('_decode'), N('missing'))],
            [s('dup'), call(N('_decode'), N('dup'))],
            // The ops that wrote the lost or duplicated tokens: the bug's signature names them, not the readers.
            [
              s('writers'),
              py.call(N('sorted'), [
                py.call(N('set'), [
                  py.listComp(py.sub(py.method(py.method(N('_SLOTS'), 'get', [py.bin(N('t'), 'FloorDiv', N('SPAN')), s('? ?')]), 'split', [s(' '), py.int(1)]), py.int(-1)), [
                    py.comp(py.store('t'), py.bin(N('missing'), 'Add', N('dup'))),
                  ]),
                ]),
              ]),
            ],
            [s('phantom'), py.sub(py.call(N('sorted'), [py.call(N('map'), [N('repr'), N('phantom')])]), py.slice(null, py.int(10)))],
          ]),
        ),
      ),
    ]),
  ]);
}

export function preludeDefs(options: { queues: boolean }): Stmt[] {
  return [
    reporterDef(),
    ...(options.queues ? [drainDef()] : []),
    decodeDef(),
    accountDef(),
    py.cls('_Probe', [], [py.pass()]),
  ];
}
