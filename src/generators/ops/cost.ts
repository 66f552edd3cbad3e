// What an op costs as its shared object grows, for the generator's work bound (scenario.ts `boundWork`):
// ops that scan the whole object (a copy, a repr, a sort, a search, a serializer) and ops that make it grow.
// A program in which some threads grow an object while others scan it does quadratic work, and under a
// GIL-on convoy every contended item of a scan can cost a GIL hand-off: a deque.copy of a deque other
// threads grew to a few thousand items took 13-27 s with the GIL on 3.13.15t, 0.6-2 s without (issue
// "every word true"). Such a program is a crawl, never a bug; its iterations are bounded instead.
import type { OpSpec } from './spec.js';

/** Ops whose one call visits every item of the object (by op id). */
export const SCANS: ReadonlySet<string> = new Set([
  'list.contains', 'list.count', 'list.index', 'list.copy', 'list.concat', 'list.iterate', 'list.count_probe', 'list.contains_probe', 'list.sorted', 'list.sort',
  'list.reverse', 'list.insert0', 'list.insert_mid', 'list.pop0', 'list.remove_own', 'list.delitem0', 'list.imul', 'list.repr', 'list.json_dumps', 'list.pickle_dumps', 'list.deepcopy',
  'dict.copy', 'dict.or', 'dict.keys_list', 'dict.items_list', 'dict.iterate', 'dict.eq_copy', 'dict.repr', 'dict.json_dumps', 'dict.pickle_dumps', 'dict.deepcopy',
  'set.copy', 'set.union', 'set.issubset', 'set.iterate', 'set.repr',
  'deque.count_probe', 'deque.contains', 'deque.copy', 'deque.iterate', 'deque.remove_own', 'deque.repr',
  'OrderedDict.keys_list', 'OrderedDict.repr', 'defaultdict.items_list', 'defaultdict.copy', 'defaultdict.repr', 'Counter.total', 'Counter.most_common',
  'array.tolist', 'array.repr', 'array.insert0', 'bytearray.bytes', 'bytearray.find', 'bytearray.repr',
  'BytesIO.getvalue', 'StringIO.getvalue', 'Element.iter', 'Element.findtext', 'WeakSet.iterate', 'WeakValueDictionary.keys_list',
  'defaultdict_list.repr', 'defaultdict_list.json_dumps', 'defaultdict_list.pickle_dumps', 'defaultdict_list.deepcopy',
  'dict_of_lists.json_dumps', 'dict_of_lists.pickle_dumps', 'dict_of_lists.deepcopy',
]);

/** Ops that do not produce a token and still grow the object by one call (their tokens are 'none'). */
const GROWS_UNTOKENED: ReadonlySet<string> = new Set(['bytearray.append', 'bytearray.extend', 'BytesIO.write', 'StringIO.write', 'Element.append', 'WeakSet.add', 'WeakValueDictionary.setitem']);

/** Whether one call of the op adds to the object (a produced token, or an untokened append or write). */
export function grows(op: Pick<OpSpec, 'id' | 'tokens'>): boolean {
  return op.tokens === 'produce' || GROWS_UNTOKENED.has(op.id);
}

export function scans(op: Pick<OpSpec, 'id'>): boolean {
  return SCANS.has(op.id);
}

/**
 * The most item visits a program's scans may add up to on one object: about a second of copying or
 * serializing at the slowest ops' speed (deepcopy: about a microsecond an item), whatever the interleaving.
 */
export const WORK_BOUND = 1_000_000;

/**
 * The iterations that keep every object's scan work within WORK_BOUND: `growers` op instances grow it and
 * `scanners` scan it each iteration, so the object reaches `growers x i` items and the scans visit about
 * `growers x scanners x i^2 / 2` of them. `iterations` itself when no object has both.
 */
export function boundedIterations(iterations: number, perObject: readonly { growers: number; scanners: number }[], floor = 1): number {
  let bound = iterations;
  for (const { growers, scanners } of perObject) {
    if (growers === 0 || scanners === 0) continue;
    bound = Math.min(bound, Math.floor(Math.sqrt((2 * WORK_BOUND) / (growers * scanners))));
  }
  return Math.max(Math.min(floor, iterations), bound);
}
