// Object kinds: what a generated program shares between its threads, how it is created, and what it means
// to the predictions (token container, lock-like, counters, shared iterator).
import { py } from '../ast.js';
import { call, HOSTILE_CAP, int, MAX_ATTRS, N, str, type KindSpec } from './spec.js';

export const KINDS: KindSpec[] = [
  { id: 'list', impl: 'Objects/listobject.c', imports: [], create: () => py.list([]), contents: (o) => py.call(N('list'), [o]), sized: true, cite: 'ts-list-atomic' },
  { id: 'dict', impl: 'Objects/dictobject.c', imports: [], create: () => py.dict([]), contents: (o) => py.call(N('list'), [o]), valuesAreOwners: true, sized: true, cite: 'ts-dict-write' },
  { id: 'set', impl: 'Objects/setobject.c', imports: [], create: () => py.call(N('set')), contents: (o) => py.call(N('list'), [o]), sized: true, cite: 'howto-builtins' },
  { id: 'deque', impl: 'Modules/_collectionsmodule.c', imports: ['collections'], create: () => py.method(N('collections'), 'deque'), contents: (o) => py.call(N('list'), [o]), sized: true, cite: 'deque-doc' },
  { id: 'OrderedDict', impl: 'Objects/odictobject.c', imports: ['collections'], create: () => py.method(N('collections'), 'OrderedDict'), contents: (o) => py.call(N('list'), [o]), valuesAreOwners: true, sized: true, cite: 'no-guarantee' },
  { id: 'defaultdict', counts: 'per-key', impl: 'Modules/_collectionsmodule.c', imports: ['collections'], create: () => py.method(N('collections'), 'defaultdict', [N('int')]), sized: true, cite: 'ts-dict-write' },
  { id: 'Counter', counts: 'per-key', imports: ['collections'], create: () => py.method(N('collections'), 'Counter'), sized: true, cite: 'ts-dict-write' },
  { id: 'Queue', imports: ['queue'], create: () => py.method(N('queue'), 'Queue'), contents: (o) => py.call(N('_drain'), [o]), cite: 'queue-doc' },
  { id: 'LifoQueue', imports: ['queue'], create: () => py.method(N('queue'), 'LifoQueue'), contents: (o) => py.call(N('_drain'), [o]), cite: 'queue-doc' },
  { id: 'PriorityQueue', imports: ['queue'], create: () => py.method(N('queue'), 'PriorityQueue'), contents: (o) => py.call(N('_drain'), [o]), cite: 'queue-doc' },
  { id: 'SimpleQueue', impl: 'Modules/_queuemodule.c', imports: ['queue'], create: () => py.method(N('queue'), 'SimpleQueue'), contents: (o) => py.call(N('_drain'), [o]), cite: 'queue-doc' },
  { id: 'array', impl: 'Modules/arraymodule.c', imports: ['array'], create: () => py.method(N('array'), 'array', [str('q')]), contents: (o) => py.method(o, 'tolist'), sized: true, cite: 'no-guarantee' },
  { id: 'bytearray', impl: 'Objects/bytearrayobject.c', imports: [], create: () => py.call(N('bytearray')), sized: true, cite: 'no-guarantee' },
  { id: 'heap', impl: 'Modules/_heapqmodule.c', imports: ['heapq'], create: () => py.list([]), contents: (o) => py.call(N('list'), [o]), sized: true, cite: 'threading-doc' },
  {
    id: 'instance', classPrefix: 'C', counts: 'attributes',
    imports: [],
    defs: (cls) => [py.cls(cls, [], [py.pass()])],
    create: (_k, cls) => py.call(N(cls)),
    cite: 'howto-builtins',
  },
  {
    id: 'slots', classPrefix: 'S', counts: 'attributes',
    imports: [],
    defs: (cls) => [py.cls(cls, [], [py.assign(py.store('__slots__'), py.tuple([str('n'), str('r'), ...Array.from({ length: MAX_ATTRS }, (_, i) => str(`a${i}`))]))])],
    create: (_k, cls) => py.call(N(cls)),
    cite: 'howto-builtins',
  },
  { id: 'class', classPrefix: 'K', counts: 'class', imports: [], defs: (cls) => [py.cls(cls, [], [py.assign(py.store('n'), int(0)), py.def('get', ['self'], [py.ret(py.attr(N('self'), 'n'))])])], create: (_k, cls) => py.call(N(cls)), cite: 'howto-builtins' },
  { id: 'SimpleNamespace', counts: 'attributes', impl: 'Objects/namespaceobject.c', imports: ['types'], create: () => py.method(N('types'), 'SimpleNamespace'), cite: 'ts-dict-write' },
  { id: 'str', impl: 'Objects/unicodeobject.c', imports: [], create: (k) => py.bin(str(`ftfuzz-${k}-`), 'Mult', int(40)), cite: 'immutable' },
  { id: 'bytes', impl: 'Objects/bytesobject.c', imports: [], create: (k) => py.bin(py.bytes(Buffer.from(`ftfuzz-${k}-`)), 'Mult', int(40)), cite: 'immutable' },
  { id: 'tuple', impl: 'Objects/tupleobject.c', imports: [], create: (k) => py.call(N('tuple'), [py.call(N('range'), [int(k), int(k + 300)])]), cite: 'immutable' },
  { id: 'frozenset', impl: 'Objects/setobject.c', imports: [], create: (k) => py.call(N('frozenset'), [py.call(N('range'), [int(k), int(k + 300)])]), cite: 'immutable' },
  { id: 'int', impl: 'Objects/longobject.c', imports: [], create: (k) => py.bin(int(7), 'Pow', int(200 + k)), cite: 'immutable' },
  { id: 'float', impl: 'Objects/floatobject.c', imports: [], create: (k) => py.float(1.5 + k / 8), cite: 'immutable' },
  { id: 'range', impl: 'Objects/rangeobject.c', imports: [], create: (k) => py.call(N('range'), [int(k), int(k + 1000), int(3)]), cite: 'immutable' },
  { id: 'memoryview', impl: 'Objects/memoryobject.c', imports: [], create: (k) => py.call(N('memoryview'), [py.bin(py.bytes(Buffer.from(`mv${k}`)), 'Mult', int(64))]), cite: 'immutable' },
  { id: 'pattern', impl: 'Modules/_sre/sre.c', imports: ['re'], create: () => py.method(N('re'), 'compile', [str('(\\w+)-(\\d+)')]), cite: 'immutable' },
  { id: 'Struct', impl: 'Modules/_struct.c', imports: ['struct'], create: () => py.method(N('struct'), 'Struct', [str('<qd8s')]), cite: 'immutable' },
  { id: 'partial', impl: 'Modules/_functoolsmodule.c', imports: ['functools'], create: (k) => py.method(N('functools'), 'partial', [N('pow'), int(3 + k)]), cite: 'immutable' },
  {
    id: 'lru_cache', classPrefix: 'cached', impl: 'Modules/_functoolsmodule.c',
    imports: ['functools'],
    defs: (cls) => [py.def(cls, ['x'], [py.ret(py.bin(py.bin(N('x'), 'Mult', N('x')), 'Add', int(1)))], [py.call(py.attr(N('functools'), 'lru_cache'), [], [py.kw('maxsize', int(16))])])],
    create: (_k, cls) => N(cls),
    cite: 'lru-cache',
  },
  { id: 'Random', impl: 'Modules/_randommodule.c', imports: ['random'], create: (k) => py.method(N('random'), 'Random', [int(k)]), cite: 'random-doc' },
  { id: 'Lock', impl: 'Modules/_threadmodule.c', imports: ['threading'], create: () => py.method(N('threading'), 'Lock'), isLock: true, cite: 'threading-doc' },
  { id: 'RLock', impl: 'Modules/_threadmodule.c', imports: ['threading'], create: () => py.method(N('threading'), 'RLock'), isLock: true, cite: 'threading-doc' },
  { id: 'Semaphore', imports: ['threading'], create: () => py.method(N('threading'), 'Semaphore', [int(1)]), isLock: true, cite: 'threading-doc' },
  { id: 'Condition', imports: ['threading'], create: () => py.method(N('threading'), 'Condition'), isLock: true, cite: 'threading-doc' },
  { id: 'Event', imports: ['threading'], create: () => py.method(N('threading'), 'Event'), cite: 'threading-doc' },
  { id: 'BytesIO', impl: 'Modules/_io/bytesio.c', imports: ['io'], create: () => py.method(N('io'), 'BytesIO'), cite: 'io-text' },
  { id: 'StringIO', impl: 'Modules/_io/stringio.c', imports: ['io'], create: () => py.method(N('io'), 'StringIO'), cite: 'io-text' },
  { id: 'BufferedWriter', impl: 'Modules/_io/bufferedio.c', imports: ['io', 'os'], create: () => py.call(N('open'), [py.attr(N('os'), 'devnull'), str('wb')]), cite: 'io-buffered' },
  { id: 'count', sharedIterator: true, impl: 'Modules/itertoolsmodule.c', imports: ['itertools'], create: (k) => py.method(N('itertools'), 'count', [int(k)]), cite: 'howto-iterators' },
  { id: 'list_iterator', sharedIterator: true, impl: 'Objects/listobject.c', imports: [], create: (k) => py.call(N('iter'), [py.call(N('list'), [py.call(N('range'), [int(100_000 + k)])])]), cite: 'howto-iterators' },
  { id: 'WeakValueDictionary', imports: ['weakref'], create: () => py.method(N('weakref'), 'WeakValueDictionary'), cite: 'no-guarantee' },
  { id: 'WeakSet', imports: ['weakref'], create: () => py.method(N('weakref'), 'WeakSet'), cite: 'no-guarantee' },
  // Shared keys: threads append to the lists of a few keys that all of them use; a missing key's default
  // list is inserted by whichever thread gets there first, and no append may be lost (gh-142495).
  {
    id: 'defaultdict_list', classPrefix: 'factory', impl: 'Modules/_collectionsmodule.c',
    imports: ['collections'],
    // The factory is a Python function (picklable by name), as most real factories are: its frame widens the
    // window between the missed lookup and the insert that gh-142495 fixed.
    defs: (cls) => [py.def(cls, [], [py.ret(py.list([]))])],
    create: (_k, cls) => py.method(N('collections'), 'defaultdict', [N(cls)]),
    contents: (o) => py.listComp(N('_t'), [py.comp(py.store('_v'), py.call(N('list'), [py.method(o, 'values')])), py.comp(py.store('_t'), N('_v'))]),
    sized: true,
    cite: 'news-defaultdict',
  },
  {
    id: 'dict_of_lists', impl: 'Objects/dictobject.c',
    imports: [],
    create: () => py.dict([]),
    contents: (o) => py.listComp(N('_t'), [py.comp(py.store('_v'), py.call(N('list'), [py.method(o, 'values')])), py.comp(py.store('_t'), N('_v'))]),
    sized: true,
    cite: 'ts-dict-write',
  },
  // Every Mock() makes a class of its own, and 3.13t immortalizes classes once a second thread has run:
  // one new Mock per leak round is +3 gc objects per round, by design (seen in the known-bug benchmark).
  { id: 'Mock', imports: ['unittest.mock'], create: () => py.method(py.attr(N('unittest'), 'mock'), 'Mock'), counter: (o) => py.attr(o, 'call_count'), notMemoryNeutral: true, cite: 'news-mock' },
  // ThreadingMock is the mock meant for threads: 3.13.12 fixed Mock's count, 3.13.14 ThreadingMock's own lock.
  { id: 'ThreadingMock', imports: ['unittest.mock'], create: () => py.method(py.attr(N('unittest'), 'mock'), 'ThreadingMock'), counter: (o) => py.attr(o, 'call_count'), notMemoryNeutral: true, cite: 'news-threading-mock' },
  { id: 'function', impl: 'Objects/funcobject.c', imports: [], defs: (cls) => [py.def(cls, ['x'], [py.ret(py.bin(N('x'), 'Add', int(1)))])], create: (_k, cls) => N(cls), cite: 'news-names' },
  // A dict or set with one iterator every thread advances while the others mutate the container.
  {
    id: 'dict_shared_iter', sharedIterator: true, impl: 'Objects/dictobject.c',
    imports: [],
    defs: (cls) => [py.cls(cls, [], [py.def('__init__', ['self'], [
      py.assign(py.attrStore(N('self'), 'd'), py.method(N('dict'), 'fromkeys', [py.call(N('range'), [int(256)])])),
      py.assign(py.attrStore(N('self'), 'it'), py.call(N('iter'), [py.attr(N('self'), 'd')])),
    ])])],
    create: (_k, cls) => py.call(N(cls)),
    cite: 'news-shared-iter',
  },
  {
    id: 'set_shared_iter', sharedIterator: true, impl: 'Objects/setobject.c',
    imports: [],
    defs: (cls) => [py.cls(cls, [], [py.def('__init__', ['self'], [
      py.assign(py.attrStore(N('self'), 's'), py.call(N('set'), [py.call(N('range'), [int(256)])])),
      py.assign(py.attrStore(N('self'), 'it'), py.call(N('iter'), [py.attr(N('self'), 's')])),
    ])])],
    create: (_k, cls) => py.call(N(cls)),
    cite: 'news-shared-iter',
  },
  {
    id: 'groupby', sharedIterator: true, impl: 'Modules/itertoolsmodule.c',
    imports: ['itertools'],
    create: (k) => py.method(N('itertools'), 'groupby', [py.call(N('range'), [int(k), int(10_000_000)])], [py.kw('key', py.lambda(['_v'], py.bin(N('_v'), 'FloorDiv', int(5))))]),
    cite: 'news-shared-iter',
  },
  { id: 'Element', impl: 'Modules/_elementtree.c', imports: ['xml.etree.ElementTree'], create: () => py.method(py.attr(py.attr(N('xml'), 'etree'), 'ElementTree'), 'Element', [str('root')]), cite: 'news-etree' },
  // Interpreter-wide hooks switched on and off while the other threads run.
  { id: 'hooks', imports: ['sys', 'threading'], defs: (cls) => [py.def(cls, ['frame', 'event', 'arg'], [py.ret(py.none())])], create: (_k, cls) => N(cls), cite: 'news-profile' },
  // Weak references whose referents die at once, so their callbacks run in the threads.
  { id: 'weakrefs', impl: 'Objects/weakrefobject.c', imports: ['weakref', 'gc'], create: () => py.list([]), cite: 'news-weakref' },
  { id: 'linecache', imports: ['linecache', 'os'], create: () => py.method(py.attr(N('os'), 'path'), 'abspath', [N('__file__')]), cite: 'news-stdlib-lazy' },
  { id: 'atexit', impl: 'Modules/atexitmodule.c', imports: ['atexit'], defs: (cls) => [py.def(cls, [], [py.ret(py.none())])], create: (_k, cls) => N(cls), cite: 'news-stdlib-lazy' },
  { id: 'base64', imports: ['base64'], create: () => py.method(N('base64'), 'b85encode', [py.bytes(Buffer.from('ftfuzz payload: 0123456789'))]), cite: 'news-stdlib-lazy' },
  // Keys that all hash alike, added and removed by every thread (gh-141805).
  { id: 'hash_set', impl: 'Objects/setobject.c', imports: [], defs: (cls) => [py.cls(cls, [], [py.def('__hash__', ['self'], [py.ret(int(7))])])], create: () => py.call(N('set')), cite: 'news-set-hash' },
  {
    id: 'hostile_list', classPrefix: 'Hostile', impl: 'Objects/listobject.c',
    imports: [],
    defs: (cls) => [
      // __eq__ mutates the shared list it is compared inside of: the reentrancy threadsafety.rst warns about.
      py.cls(cls, [], [
        // A budget per instance: each comparison may grow the list it scans, so an unbounded __eq__
        // would make `in`, count() and remove() run forever (a hang of our making, not CPython's).
        py.def('__init__', ['self', 'target'], [py.assign(py.attrStore(N('self'), 'target'), N('target')), py.assign(py.attrStore(N('self'), 'budget'), int(3))]),
        // ... and the list itself stays under HOSTILE_CAP items: every hostile op scans it with Python-level
        // comparisons, so unbounded growth makes a program quadratic (34 s with the GIL, seen in triage),
        // which would be reported as a hang of our making.
        py.def('__eq__', ['self', 'other'], [
          py.if(py.and(py.cmp(py.attr(N('self'), 'budget'), 'Gt', int(0)), py.cmp(py.call(N('len'), [py.attr(N('self'), 'target')]), 'Lt', int(HOSTILE_CAP))), [
            py.augAssign(py.attrStore(N('self'), 'budget'), 'Sub', int(1)),
            call(py.attr(N('self'), 'target'), 'append', int(-1)),
          ]),
          py.ret(py.bool(false)),
        ]),
        py.def('__hash__', ['self'], [py.ret(int(1))]),
        py.def('__del__', ['self'], [
          py.if(py.cmp(py.call(N('len'), [py.attr(N('self'), 'target')]), 'Lt', int(HOSTILE_CAP)), [
            py.try([call(py.attr(N('self'), 'target'), 'append', int(-2))], [py.except(N('Exception'), null, [py.pass()])]),
          ]),
        ]),
      ]),
    ],
    create: (k) => py.call(N('list'), [py.call(N('range'), [int(k), int(k + 50)])]),
    sized: true,
    cite: 'reentrancy',
  },
];
