// What a generated program checks after its threads are joined, and the values the generator predicts
// for them: token conservation (lost, duplicated, phantom writes), per-key and per-owner counts, attribute
// values, length consistency and the bounds of racy counters. The predictions depend on the scenario
// only, never on the interleaving.
import { py, type Expr, type Stmt } from './ast.js';
import { SPAN, type ResolvedScenario } from './scenario.js';

const N = py.name;
const s = py.str;

/** Everything the program checks after join, and the values the generator predicts for them. */
export function checks(p: ResolvedScenario): { stmts: Stmt[]; expected: Record<string, unknown> } {
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
      if (obj.kind.counts === 'per-key') {
        const want: Record<string, number> = {};
        for (const c of counts) want[c.attr] = (want[c.attr] ?? 0) + p.iterations;
        obs(`${obj.v}.keys`, py.dictComp(N('k'), py.sub(v, N('k')), [py.comp(py.store('k'), py.call(N('sorted'), [py.list(Object.keys(want).map(s))]))]));
        expected[`${obj.v}.keys`] = want;
      } else {
        const owner = obj.kind.isLock ? N(`holder_${obj.v}`) : obj.kind.counts === 'class' ? py.call(N('type'), [v]) : v;
        obs(`${obj.v}.count`, obj.kind.counter ? obj.kind.counter(v) : py.attr(owner, 'n'));
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
