// Shared iterators, weak references, cross-kind shapes (repr, serializers and copies under mutation,
// class-level writes), mocks, interpreter-wide hooks and registries, and hostile re-entrant objects.
import { py } from '../ast.js';
import { call, HOSTILE_CAP, IDX, int, keep, N, ops, str, token, type OpSpec } from './spec.js';

export const SHAPE_OPS: OpSpec[] = [
  ...ops('count', [{ id: 'next', effect: 'crash-only', cite: 'howto-iterators', tokens: 'read', body: (c) => [keep(py.call(N('next'), [c.o]))] }]),
  ...ops('list_iterator', [
    { id: 'next', effect: 'crash-only', cite: 'howto-iterators', tokens: 'read', body: (c) => [keep(py.call(N('next'), [c.o, py.none()]))] },
    { id: 'length_hint', effect: 'crash-only', cite: 'howto-iterators', tokens: 'read', body: (c) => [keep(py.method(c.o, '__length_hint__'))] },
  ]),
  ...ops('WeakValueDictionary', [
    // Values are kept alive by a per-thread list, so no entry can vanish because of garbage collection.
    { id: 'setitem', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'none', body: (c) => [py.assign(py.store('_k'), py.call(N('_Probe'))), call(N('_keep'), 'append', N('_k')), py.assign(py.subStore(c.o, token(c)), N('_k'))] },
    { id: 'get', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'read', body: (c) => [keep(py.method(c.o, 'get', [token(c)]))] },
    { id: 'len', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'read', body: (c) => [keep(py.call(N('len'), [c.o]))] },
    { id: 'keys_list', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'read', allowed: ['RuntimeError'], body: (c) => [keep(py.call(N('list'), [py.method(c.o, 'keys')]))] },
  ]),
  ...ops('WeakSet', [
    { id: 'add', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'none', body: (c) => [py.assign(py.store('_k'), py.call(N('_Probe'))), call(N('_keep'), 'append', N('_k')), call(c.o, 'add', N('_k'))] },
    { id: 'len', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'read', body: (c) => [keep(py.call(N('len'), [c.o]))] },
    { id: 'iterate', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'read', allowed: ['RuntimeError'], body: (c) => [py.for(py.store('_x'), c.o, [py.pass()])] },
    // Weakly held: the probe's refcount must not move.
    { id: 'add_probe', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'read', usesProbe: true, body: (c) => [call(c.o, 'add', c.probe)] },
  ]),
  // repr, serializers and copies of containers while other threads mutate them (crash-only: they see
  // some state; the interpreter must not crash).
  ...(['list', 'dict', 'set', 'deque', 'OrderedDict', 'defaultdict', 'bytearray', 'array', 'SimpleNamespace', 'instance', 'defaultdict_list'] as const).flatMap((k) =>
    ops(k, [{ id: 'repr', effect: 'crash-only', cite: 'news-repr', tokens: 'read', body: (c) => [keep(py.call(N('repr'), [c.o]))] }]),
  ),
  ...(['list', 'dict', 'defaultdict_list', 'dict_of_lists'] as const).flatMap((k) =>
    ops(k, [
      { id: 'json_dumps', effect: 'crash-only', cite: 'news-json', tokens: 'read', imports: ['json'], body: (c) => [keep(py.method(N('json'), 'dumps', [c.o]))] },
      { id: 'pickle_dumps', effect: 'crash-only', cite: 'news-repr', tokens: 'read', imports: ['pickle'], body: (c) => [keep(py.method(N('pickle'), 'dumps', [c.o]))] },
      { id: 'deepcopy', effect: 'crash-only', cite: 'news-repr', tokens: 'read', imports: ['copy'], body: (c) => [keep(py.method(N('copy'), 'deepcopy', [c.o]))] },
    ]),
  ),
  ...ops('str', [{ id: 'format_shared', effect: 'crash-only', cite: 'news-repr', tokens: 'read', body: (c) => [keep(py.method(str('{}|{!r}'), 'format', [c.o, c.o]))] }]),
  ...(['instance', 'slots'] as const).flatMap((k) =>
    ops(k, [
      // Only this op instance uses its attribute: set, then delete, never seen missing by its owner.
      { id: 'delattr_own', effect: 'exact', cite: 'howto-builtins', tokens: 'none', body: (c) => [py.expr(py.call(N('setattr'), [c.o, str(c.attr), c.tok])), py.expr(py.call(N('delattr'), [c.o, str(c.attr)]))] },
      { id: 'class_assign_same', effect: 'crash-only', cite: 'no-guarantee', tokens: 'none', body: (c) => [py.assign(py.attrStore(c.o, '__class__'), py.call(N('type'), [c.o]))] },
    ]),
  ),
  ...ops('instance', [{ id: 'dict_items', effect: 'crash-only', cite: 'no-guarantee', tokens: 'read', body: (c) => [keep(py.call(N('list'), [py.method(py.attr(c.o, '__dict__'), 'items')]))] }]),
  ...ops('class', [
    { id: 'set_qualname', effect: 'crash-only', cite: 'news-names', tokens: 'none', body: (c) => [py.assign(py.attrStore(py.call(N('type'), [c.o]), '__qualname__'), py.bin(str('K%d'), 'Mod', py.bin(c.tok, 'Mod', int(7))))] },
    { id: 'set_doc', effect: 'crash-only', cite: 'news-names', tokens: 'none', body: (c) => [py.assign(py.attrStore(py.call(N('type'), [c.o]), '__doc__'), py.bin(str('doc %d'), 'Mod', py.bin(c.tok, 'Mod', int(7))))] },
    { id: 'repr_type', effect: 'crash-only', cite: 'news-names', tokens: 'read', body: (c) => [keep(py.call(N('repr'), [py.call(N('type'), [c.o])]))] },
  ]),
  ...ops('defaultdict_list', [
    // The key is the iteration (tok % SPAN), the same in every thread: each iteration's key is missing when
    // the threads, started together by the barrier, reach it, so every iteration is a race on a missing key.
    { id: 'append_missing', effect: 'exact', cite: 'news-defaultdict', tokens: 'produce', body: (c) => [call(py.sub(c.o, py.bin(c.tok, 'Mod', N('SPAN'))), 'append', c.tok)] },
    { id: 'len', effect: 'exact', cite: 'ts-dict-lockfree', tokens: 'read', body: (c) => [keep(py.call(N('len'), [c.o]))] },
  ]),
  ...ops('dict_of_lists', [
    { id: 'setdefault_append', effect: 'exact', cite: 'ts-dict-write', tokens: 'produce', body: (c) => [call(py.method(c.o, 'setdefault', [py.bin(c.tok, 'Mod', N('SPAN')), py.list([])]), 'append', c.tok)] },
    { id: 'get_len', effect: 'exact', cite: 'ts-dict-lockfree', tokens: 'read', body: (c) => [keep(py.call(N('len'), [py.method(c.o, 'get', [int(c.small % 4), py.tuple([])])]))] },
  ]),
  ...ops('Mock', [{ id: 'call', effect: 'exact', cite: 'news-mock', tokens: 'count', body: (c) => [py.expr(py.call(c.o, [c.tok]))] }]),
  ...ops('ThreadingMock', [{ id: 'call', effect: 'exact', cite: 'news-threading-mock', tokens: 'count', body: (c) => [py.expr(py.call(c.o, [c.tok]))] }]),
  ...ops('function', [
    { id: 'call', effect: 'crash-only', cite: 'news-names', tokens: 'read', body: (c) => [keep(py.call(c.o, [int(3)]))] },
    { id: 'set_qualname', effect: 'crash-only', cite: 'news-names', tokens: 'none', body: (c) => [py.assign(py.attrStore(c.o, '__qualname__'), py.bin(str('f%d'), 'Mod', py.bin(c.tok, 'Mod', int(7))))] },
    { id: 'set_name', effect: 'crash-only', cite: 'news-names', tokens: 'none', body: (c) => [py.assign(py.attrStore(c.o, '__name__'), py.bin(str('g%d'), 'Mod', py.bin(c.tok, 'Mod', int(7))))] },
    { id: 'set_doc', effect: 'crash-only', cite: 'news-names', tokens: 'none', body: (c) => [py.assign(py.attrStore(c.o, '__doc__'), py.bin(str('doc %d'), 'Mod', py.bin(c.tok, 'Mod', int(7))))] },
    { id: 'read_names', effect: 'crash-only', cite: 'news-names', tokens: 'read', body: (c) => [keep(py.tuple([py.attr(c.o, '__qualname__'), py.attr(c.o, '__name__'), py.attr(c.o, '__doc__'), py.call(N('repr'), [c.o])]))] },
  ]),
  ...ops('dict_shared_iter', [
    { id: 'next', effect: 'crash-only', cite: 'news-shared-iter', tokens: 'read', body: (c) => [keep(py.call(N('next'), [py.attr(c.o, 'it'), py.none()]))] },
    { id: 'mutate', effect: 'crash-only', cite: 'news-shared-iter', tokens: 'none', body: (c) => [py.assign(py.subStore(py.attr(c.o, 'd'), c.tok), int(0)), call(py.attr(c.o, 'd'), 'pop', c.tok, py.none())] },
    { id: 'restart', effect: 'crash-only', cite: 'news-shared-iter', tokens: 'none', body: (c) => [py.assign(py.attrStore(c.o, 'it'), py.call(N('iter'), [py.method(py.attr(c.o, 'd'), 'items')]))] },
  ]),
  ...ops('set_shared_iter', [
    { id: 'next', effect: 'crash-only', cite: 'news-shared-iter', tokens: 'read', body: (c) => [keep(py.call(N('next'), [py.attr(c.o, 'it'), py.none()]))] },
    { id: 'mutate', effect: 'crash-only', cite: 'news-shared-iter', tokens: 'none', body: (c) => [call(py.attr(c.o, 's'), 'add', c.tok), call(py.attr(c.o, 's'), 'discard', c.tok)] },
    { id: 'restart', effect: 'crash-only', cite: 'news-shared-iter', tokens: 'none', body: (c) => [py.assign(py.attrStore(c.o, 'it'), py.call(N('iter'), [py.attr(c.o, 's')]))] },
  ]),
  ...ops('groupby', [
    { id: 'next', effect: 'crash-only', cite: 'news-shared-iter', tokens: 'read', body: (c) => [keep(py.call(N('next'), [c.o, py.none()]))] },
    {
      id: 'grouper_next',
      effect: 'crash-only',
      cite: 'news-shared-iter',
      tokens: 'read',
      body: (c) => [py.assign(py.store('_p'), py.call(N('next'), [c.o, py.none()])), py.if(py.cmp(N('_p'), 'IsNot', py.none()), [keep(py.call(N('next'), [py.sub(N('_p'), int(1)), py.none()]))])],
    },
  ]),
  ...ops('Element', [
    { id: 'append', effect: 'crash-only', cite: 'news-etree', tokens: 'none', body: (c) => [py.if(py.cmp(py.call(N('len'), [c.o]), 'Lt', int(64)), [call(c.o, 'append', py.method(py.attr(py.attr(N('xml'), 'etree'), 'ElementTree'), 'Element', [str('c')]))])] },
    { id: 'getitem0', effect: 'crash-only', cite: 'news-etree', tokens: 'read', body: (c) => [keep(py.sub(c.o, int(0)))] },
    { id: 'setitem0', effect: 'crash-only', cite: 'news-etree', tokens: 'none', body: (c) => [py.assign(py.subStore(c.o, int(0)), py.method(py.attr(py.attr(N('xml'), 'etree'), 'ElementTree'), 'Element', [str('c')]))] },
    { id: 'remove0', effect: 'crash-only', cite: 'news-etree', tokens: 'none', body: (c) => [call(c.o, 'remove', py.sub(c.o, int(0)))] },
    { id: 'findtext', effect: 'crash-only', cite: 'news-etree', tokens: 'read', body: (c) => [keep(py.method(c.o, 'findtext', [str('c')]))] },
    { id: 'iter', effect: 'crash-only', cite: 'news-etree', tokens: 'read', body: (c) => [py.for(py.store('_x'), py.method(c.o, 'iter'), [py.pass()])] },
  ]),
  ...ops('hooks', [
    { id: 'setprofile_all', effect: 'crash-only', cite: 'news-profile', tokens: 'none', body: (c) => [call(N('threading'), 'setprofile_all_threads', c.o), call(N('threading'), 'setprofile_all_threads', py.none())] },
    { id: 'settrace_all', effect: 'crash-only', cite: 'news-profile', tokens: 'none', body: (c) => [call(N('threading'), 'settrace_all_threads', c.o), call(N('threading'), 'settrace_all_threads', py.none())] },
    { id: 'setprofile', effect: 'crash-only', cite: 'news-profile', tokens: 'none', body: (c) => [call(N('sys'), 'setprofile', c.o), call(N('sys'), 'setprofile', py.none())] },
  ]),
  ...ops('weakrefs', [
    {
      id: 'ref_callback',
      effect: 'crash-only',
      cite: 'news-weakref',
      tokens: 'none',
      body: (c) => [py.assign(py.store('_w'), py.method(N('weakref'), 'ref', [py.call(N('_Probe')), py.attr(c.o, 'append')])), py.if(py.cmp(py.call(N('len'), [c.o]), 'Gt', int(64)), [call(c.o, 'clear')])],
    },
    { id: 'finalize', effect: 'crash-only', cite: 'news-weakref', tokens: 'none', body: () => [py.expr(py.method(N('weakref'), 'finalize', [py.call(N('_Probe')), N('int')]))] },
    { id: 'gc_collect0', effect: 'crash-only', cite: 'news-weakref', tokens: 'none', body: () => [keep(py.method(N('gc'), 'collect', [int(0)]))] },
  ]),
  ...ops('linecache', [
    { id: 'getline', effect: 'crash-only', cite: 'news-stdlib-lazy', tokens: 'read', body: (c) => [keep(py.method(N('linecache'), 'getline', [c.o, int((c.small % 20) + 1)]))] },
    { id: 'clearcache', effect: 'crash-only', cite: 'news-stdlib-lazy', tokens: 'none', body: () => [call(N('linecache'), 'clearcache')] },
    { id: 'checkcache', effect: 'crash-only', cite: 'news-stdlib-lazy', tokens: 'none', body: (c) => [call(N('linecache'), 'checkcache', c.o)] },
  ]),
  // atexit keeps one slot per registration until the interpreter exits (unregister empties it, never frees
  // it): 34 kB per leak round, by design, seen in the known-bug benchmark.
  ...ops('atexit', [{ id: 'register_unregister', effect: 'crash-only', cite: 'news-stdlib-lazy', tokens: 'none', notMemoryNeutral: true, body: (c) => [call(N('atexit'), 'register', c.o), call(N('atexit'), 'unregister', c.o)] }]),
  // The decoder's table is built on first use: every thread must decode the same payload.
  ...ops('base64', [
    {
      id: 'b85decode',
      effect: 'exact',
      cite: 'news-stdlib-lazy',
      tokens: 'none',
      body: (c) => [py.if(py.cmp(py.method(N('base64'), 'b85decode', [c.o]), 'NotEq', py.bytes(Buffer.from('ftfuzz payload: 0123456789'))), [call(N('_MISMATCH'), 'append', str('base64.b85decode'))])],
    },
  ]),
  ...ops('hash_set', [
    { id: 'add_discard', effect: 'crash-only', cite: 'news-set-hash', tokens: 'none', body: (c) => [py.assign(py.store('_k'), py.call(N(c.cls), [])), call(c.o, 'add', N('_k')), call(c.o, 'discard', N('_k'))] },
    { id: 'add_keep', effect: 'crash-only', cite: 'news-set-hash', tokens: 'none', body: (c) => [py.if(py.cmp(py.call(N('len'), [c.o]), 'Lt', int(24)), [call(c.o, 'add', py.call(N(c.cls), []))])] },
    { id: 'discard_any', effect: 'crash-only', cite: 'news-set-hash', tokens: 'none', body: (c) => [py.try([call(c.o, 'discard', py.call(N('next'), [py.call(N('iter'), [c.o])]))], [py.except(py.tuple([N('StopIteration'), N('RuntimeError')]), null, [py.pass()])])] },
    { id: 'contains', effect: 'crash-only', cite: 'news-set-hash', tokens: 'read', body: (c) => [keep(py.cmp(py.call(N(c.cls), []), 'In', c.o))] },
  ]),
  ...ops('hostile_list', [
    { id: 'remove_hostile', effect: 'crash-only', cite: 'reentrancy', tokens: 'none', allowed: ['ValueError'], body: (c) => [call(c.o, 'remove', py.call(N(c.cls), [c.o]))] },
    { id: 'contains_hostile', effect: 'crash-only', cite: 'reentrancy', tokens: 'none', body: (c) => [keep(py.cmp(py.call(N(c.cls), [c.o]), 'In', c.o))] },
    { id: 'count_hostile', effect: 'crash-only', cite: 'reentrancy', tokens: 'none', body: (c) => [keep(py.method(c.o, 'count', [py.call(N(c.cls), [c.o])]))] },
    { id: 'append', effect: 'crash-only', cite: 'reentrancy', tokens: 'none', body: (c) => [py.if(py.cmp(py.call(N('len'), [c.o]), 'Lt', int(HOSTILE_CAP)), [call(c.o, 'append', token(c))])] },
    { id: 'pop', effect: 'crash-only', cite: 'reentrancy', tokens: 'none', allowed: IDX, body: (c) => [keep(py.method(c.o, 'pop'))] },
    // A key function that appends to the list being sorted (ValueError: list modified during sort).
    { id: 'sort_key_mutates', effect: 'crash-only', cite: 'reentrancy', tokens: 'none', body: (c) => [py.expr(py.method(c.o, 'sort', [], [py.kw('key', py.lambda(['_v'], py.sub(py.tuple([py.method(c.o, 'append', [py.int(-3)]), int(0)]), int(1))))]))] },
    { id: 'dict_hostile_key', effect: 'crash-only', cite: 'reentrancy', tokens: 'none', body: (c) => [
        // All keys hash alike, so every insert compares with every key: the dict is kept small.
        py.assign(py.subStore(N('_HOSTILE_DICT'), py.call(N(c.cls), [c.o])), int(1)),
        py.if(py.cmp(py.call(N('len'), [N('_HOSTILE_DICT')]), 'Gt', int(32)), [call(N('_HOSTILE_DICT'), 'clear')]),
      ] },
  ]),
];
