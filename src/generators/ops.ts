// The operation library: what generated threads do to shared objects.
//
// Every op names its documented thread-safety (a citation key, src/generators/citations.ts) and one of
// three effect classes:
//   exact          - atomic or commutative; the final state is predicted exactly (unique tokens, per-thread
//                    keys and attributes, lock-protected read-modify-write, pure reads of immutables);
//   invariant-only - racy but memory-safe by contract; the object is tainted and only invariants are
//                    checked (no value nobody wrote, len consistent with iteration, counters in bounds);
//   crash-only     - anything else (hostile __eq__/__hash__/__del__, shared iterators, text I/O): only the
//                    crash, hang and refcount oracles apply.
// Token effects drive the accounting: every produced token must end up either in the object or in the
// `taken` list of exactly one thread (conservation), which proves lost, duplicated and phantom writes.
import { py, type Expr, type Stmt } from './ast.js';
import type { CitationKey } from './citations.js';

export type EffectClass = 'exact' | 'invariant-only' | 'crash-only';
export type TokenEffect =
  | 'produce' // adds this iteration's token
  | 'consume' // removes some token and records it in `taken`
  | 'produce-consume' // adds its own token, then removes that same token (recording it)
  | 'overwrite' // writes a token over another one (taints: the overwritten token is lost by design)
  | 'read' // observes without writing
  | 'count' // lock-protected increment of the object's counter: exact total
  | 'racy-count' // unlocked increment: bounded, never exact
  | 'attr' // writes this slot's own attribute: exact last value
  | 'pure' // reads an immutable: result equals the single-threaded reference
  | 'none';

export interface OpCtx {
  /** The shared object (directly, or fetched through a shared container). */
  o: Expr;
  /** This iteration's unique token. */
  tok: Expr;
  /** This thread's list of tokens it consumed from this object. */
  taken: Expr;
  /** The lock guarding the object's counter. */
  lock: Expr;
  /** A namespace holding the object's counters: `.n` (locked), `.r` (racy). */
  holder: Expr;
  /** This op instance's attribute name (per thread and slot, so writes never conflict). */
  attr: string;
  /** A small int derived from the slot, for ops that need one (indices, byte values). */
  small: number;
  /** The name of the class (or function) the object's kind defined for it, if any. */
  cls: string;
  /** This thread's refcount probe: ops may pass it as an argument, never store it. */
  probe: Expr;
}

export interface OpSpec {
  id: string;
  kind: string;
  effect: EffectClass;
  cite: CitationKey;
  tokens: TokenEffect;
  /** Exception names the op may raise by contract (caught and counted as racy). */
  allowed: string[];
  /** Statements of one execution, for everything but pure ops. */
  body?: (c: OpCtx) => Stmt[];
  /** For pure ops: the expression whose value must equal its single-threaded reference. */
  pure?: (o: Expr) => Expr;
  /** Passes the thread's refcount probe through the operation (the refcount oracle checks it). */
  usesProbe?: boolean;
  /** Modules the op needs beyond its kind's (a serializer, the hook's module). */
  imports?: string[];
  /** Memory grows with every call by design: programs with it never run the leak harness. */
  notMemoryNeutral?: boolean;
}

export interface KindSpec {
  id: string;
  /** Modules the kind and its ops need. */
  imports: string[];
  /** The expression that creates the object (`cls` names the class or function `defs` defined). */
  create: (k: number, cls: string) => Expr;
  /** Class or function definitions the kind needs, under the name `cls`. */
  defs?: (cls: string) => Stmt[];
  /** How the final contents are read for token accounting, when the kind holds tokens. */
  contents?: (o: Expr) => Expr;
  /** Dict-like token containers map each token to its writer's thread id. */
  valuesAreOwners?: boolean;
  /** `len(o) == len(list(o))` is checked after join. */
  sized?: boolean;
  /**
   * The object is a lock-like primitive itself (ops use it as the lock): what `count` ops increment is its
   * holder's `.n`, not an attribute of the lock.
   */
  isLock?: boolean;
  /**
   * Where `count` totals live when not on the object's `.n`: `attributes` (the object takes `n` and `r`
   * attributes at creation), `class` (on the class, reset every round), `per-key` (a mapping counted per key).
   */
  counts?: 'attributes' | 'class' | 'per-key';
  /**
   * One iterator every thread advances: free-threading's documented unsafe shape (the howto's "Iterators"),
   * so its crash-only findings say so, and the scenario weights it by `sharedIteratorWeight`.
   */
  sharedIterator?: boolean;
  /** Prefix of the name its `defs` define (default `T`): `C_o0`, `cached_o1`, … */
  classPrefix?: string;
  /** Where a `count` op's total is read (default: the object's, or its holder's, `.n`). */
  counter?: (o: Expr) => Expr;
  /** Creating one leaves memory behind by design: programs with it never run the leak harness. */
  notMemoryNeutral?: boolean;
  /**
   * The C source of its implementation in CPython's tree, for kinds implemented in C: a crash that faults
   * inside the allocator while a thread operates on the kind is filed under it (triage/family.ts).
   */
  impl?: string;
  cite: CitationKey;
}

// ---------------------------------------------------------------------------------------------------
// Small builders for op bodies

/** Attribute names per object are a0..a{MAX_ATTRS-1} (a __slots__ class must list them up front). */
export const MAX_ATTRS = 64;

const N = py.name;
const keep = (e: Expr): Stmt => py.assign(py.store('_r'), e);
const call = (o: Expr, method: string, ...args: Expr[]): Stmt => py.expr(py.method(o, method, args));
const take = (c: OpCtx, e: Expr): Stmt => call(c.taken, 'append', e);
const withLock = (lock: Expr, body: Stmt[]): Stmt => py.with([[lock, null]], body);
const inc = (target: Expr, attr: string): Stmt => py.augAssign(py.attrStore(target, attr), 'Add', py.int(1));
const str = py.str;
const int = py.int;

type OpDef = Omit<OpSpec, 'kind' | 'allowed'> & { allowed?: string[] };
function ops(kind: string, defs: OpDef[]): OpSpec[] {
  return defs.map((d) => ({ allowed: [], ...d, kind, id: `${kind}.${d.id}` }));
}

/** Ops every token container shares: conservation through its own add/remove methods. */
function pureOps(kind: string, cite: CitationKey, exprs: [string, (o: Expr) => Expr][]): OpSpec[] {
  return exprs.map(([id, pure]) => ({ id: `${kind}.${id}`, kind, effect: 'exact', cite, tokens: 'pure', allowed: [], pure }));
}

// ---------------------------------------------------------------------------------------------------
// Object kinds

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

// ---------------------------------------------------------------------------------------------------
// Operations

const IDX = ['IndexError'];
// Resizing a bytearray while another thread's bytes(o) holds a buffer export raises BufferError
// ("Existing exports of data: object cannot be re-sized"): safe, and only possible without the GIL.
const RESIZE = ['BufferError'];
const HOSTILE_CAP = 64;
const token = (c: OpCtx) => c.tok;

export const OPS: OpSpec[] = [
  ...ops('list', [
    { id: 'append', effect: 'exact', cite: 'ts-list-atomic', tokens: 'produce', body: (c) => [call(c.o, 'append', token(c))] },
    { id: 'extend', effect: 'exact', cite: 'ts-list-extend', tokens: 'produce', body: (c) => [call(c.o, 'extend', py.tuple([token(c)]))] },
    { id: 'iadd', effect: 'exact', cite: 'ts-list-extend', tokens: 'produce', body: (c) => [call(c.o, '__iadd__', py.list([token(c)]))] },
    { id: 'insert0', effect: 'exact', cite: 'ts-list-maybe', tokens: 'produce', body: (c) => [call(c.o, 'insert', int(0), token(c))] },
    { id: 'insert_mid', effect: 'exact', cite: 'ts-list-maybe', tokens: 'produce', body: (c) => [call(c.o, 'insert', py.bin(py.call(N('len'), [c.o]), 'FloorDiv', int(2)), token(c))] },
    { id: 'pop', effect: 'exact', cite: 'ts-list-atomic', tokens: 'consume', allowed: IDX, body: (c) => [take(c, py.method(c.o, 'pop'))] },
    { id: 'pop0', effect: 'exact', cite: 'ts-list-maybe', tokens: 'consume', allowed: IDX, body: (c) => [take(c, py.method(c.o, 'pop', [int(0)]))] },
    // Only this thread removes its own token, so remove() finds it unless a pop took it first (then the
    // popper recorded it: conservation holds either way).
    { id: 'remove_own', effect: 'exact', cite: 'ts-list-remove', tokens: 'produce-consume', allowed: ['ValueError'], body: (c) => [call(c.o, 'append', token(c)), call(c.o, 'remove', token(c)), take(c, token(c))] },
    { id: 'reverse', effect: 'exact', cite: 'ts-list-atomic', tokens: 'none', body: (c) => [call(c.o, 'reverse')] },
    { id: 'getitem0', effect: 'exact', cite: 'ts-list-atomic', tokens: 'read', allowed: IDX, body: (c) => [keep(py.sub(c.o, int(0)))] },
    { id: 'getitem_last', effect: 'exact', cite: 'ts-list-atomic', tokens: 'read', allowed: IDX, body: (c) => [keep(py.sub(c.o, py.int(-1)))] },
    { id: 'contains', effect: 'exact', cite: 'ts-list-maybe', tokens: 'read', body: (c) => [keep(py.cmp(token(c), 'In', c.o))] },
    { id: 'count', effect: 'exact', cite: 'ts-list-maybe', tokens: 'read', body: (c) => [keep(py.method(c.o, 'count', [token(c)]))] },
    { id: 'index', effect: 'exact', cite: 'ts-list-maybe', tokens: 'read', allowed: ['ValueError'], body: (c) => [keep(py.method(c.o, 'index', [token(c)]))] },
    { id: 'len', effect: 'exact', cite: 'ts-dict-lockfree', tokens: 'read', body: (c) => [keep(py.call(N('len'), [c.o]))] },
    { id: 'copy', effect: 'exact', cite: 'ts-list-new', tokens: 'read', body: (c) => [keep(py.method(c.o, 'copy'))] },
    { id: 'concat', effect: 'exact', cite: 'ts-list-new', tokens: 'read', body: (c) => [keep(py.bin(c.o, 'Add', py.list([])))] },
    { id: 'repeat', effect: 'exact', cite: 'ts-list-new', tokens: 'read', body: (c) => [keep(py.bin(int(2), 'Mult', py.sub(c.o, py.slice(null, int(4)))))] },
    { id: 'slice', effect: 'exact', cite: 'ts-list-new', tokens: 'read', body: (c) => [keep(py.sub(c.o, py.slice(int(1), int(8), int(2))))] },
    { id: 'iterate', effect: 'invariant-only', cite: 'ts-list-iter', tokens: 'read', body: (c) => [py.for(py.store('_x'), c.o, [py.pass()])] },
    { id: 'count_probe', effect: 'exact', cite: 'ts-list-maybe', tokens: 'read', usesProbe: true, body: (c) => [keep(py.method(c.o, 'count', [c.probe]))] },
    { id: 'contains_probe', effect: 'exact', cite: 'ts-list-maybe', tokens: 'read', usesProbe: true, body: (c) => [keep(py.cmp(c.probe, 'In', c.o))] },
    { id: 'sorted', effect: 'invariant-only', cite: 'ts-list-iter', tokens: 'read', body: (c) => [keep(py.call(N('sorted'), [c.o]))] },
    { id: 'setitem_last', effect: 'invariant-only', cite: 'ts-list-atomic', tokens: 'overwrite', allowed: IDX, body: (c) => [py.assign(py.subStore(c.o, py.int(-1)), token(c))] },
    { id: 'setslice', effect: 'invariant-only', cite: 'ts-list-extend', tokens: 'overwrite', body: (c) => [py.assign(py.subStore(c.o, py.slice(int(0), int(1))), py.list([token(c)]))] },
    { id: 'delitem0', effect: 'invariant-only', cite: 'ts-list-maybe', tokens: 'overwrite', allowed: IDX, body: (c) => [py.del(py.subDel(c.o, int(0)))] },
    { id: 'sort', effect: 'invariant-only', cite: 'ts-list-sort', tokens: 'overwrite', allowed: ['ValueError'], body: (c) => [call(c.o, 'sort')] },
    { id: 'clear', effect: 'invariant-only', cite: 'ts-list-atomic', tokens: 'overwrite', body: (c) => [call(c.o, 'clear')] },
    { id: 'imul', effect: 'invariant-only', cite: 'ts-list-maybe', tokens: 'overwrite', body: (c) => [call(c.o, '__imul__', int(1))] },
  ]),
  ...ops('dict', [
    { id: 'setitem', effect: 'exact', cite: 'ts-dict-write', tokens: 'produce', body: (c) => [py.assign(py.subStore(c.o, token(c)), N('tid'))] },
    { id: 'setdefault', effect: 'exact', cite: 'ts-dict-write', tokens: 'produce', body: (c) => [keep(py.method(c.o, 'setdefault', [token(c), N('tid')]))] },
    { id: 'update', effect: 'exact', cite: 'ts-dict-update', tokens: 'produce', body: (c) => [call(c.o, 'update', py.dict([[token(c), N('tid')]]))] },
    { id: 'ior', effect: 'exact', cite: 'ts-dict-update', tokens: 'produce', body: (c) => [call(c.o, '__ior__', py.dict([[token(c), N('tid')]]))] },
    // Another thread's popitem() may take the key between the write and the removal (and record it):
    // KeyError then, and conservation still holds. Found by a campaign under gil-off.
    { id: 'pop_own', effect: 'exact', cite: 'ts-dict-write', tokens: 'produce-consume', allowed: ['KeyError'], body: (c) => [py.assign(py.subStore(c.o, token(c)), N('tid')), call(c.o, 'pop', token(c)), take(c, token(c))] },
    { id: 'del_own', effect: 'exact', cite: 'ts-dict-write', tokens: 'produce-consume', allowed: ['KeyError'], body: (c) => [py.assign(py.subStore(c.o, token(c)), N('tid')), py.del(py.subDel(c.o, token(c))), take(c, token(c))] },
    { id: 'popitem', effect: 'exact', cite: 'ts-dict-write', tokens: 'consume', allowed: ['KeyError'], body: (c) => [take(c, py.sub(py.method(c.o, 'popitem'), int(0)))] },
    { id: 'get', effect: 'exact', cite: 'ts-dict-lockfree', tokens: 'read', body: (c) => [keep(py.method(c.o, 'get', [token(c)]))] },
    { id: 'contains', effect: 'exact', cite: 'ts-dict-lockfree', tokens: 'read', body: (c) => [keep(py.cmp(token(c), 'In', c.o))] },
    { id: 'get_probe', effect: 'exact', cite: 'ts-dict-lockfree', tokens: 'read', usesProbe: true, body: (c) => [keep(py.method(c.o, 'get', [c.probe, c.probe]))] },
    { id: 'pop_probe_default', effect: 'exact', cite: 'ts-dict-write', tokens: 'read', usesProbe: true, body: (c) => [keep(py.method(c.o, 'pop', [c.probe, c.probe]))] },
    { id: 'len', effect: 'exact', cite: 'ts-dict-lockfree', tokens: 'read', body: (c) => [keep(py.call(N('len'), [c.o]))] },
    { id: 'copy', effect: 'exact', cite: 'ts-dict-new', tokens: 'read', body: (c) => [keep(py.method(c.o, 'copy'))] },
    { id: 'or', effect: 'exact', cite: 'ts-dict-new', tokens: 'read', body: (c) => [keep(py.bin(c.o, 'BitOr', py.dict([])))] },
    { id: 'keys_list', effect: 'invariant-only', cite: 'ts-dict-iter', tokens: 'read', allowed: ['RuntimeError'], body: (c) => [keep(py.call(N('list'), [py.method(c.o, 'keys')]))] },
    { id: 'items_list', effect: 'invariant-only', cite: 'ts-dict-iter', tokens: 'read', allowed: ['RuntimeError'], body: (c) => [keep(py.call(N('list'), [py.method(c.o, 'items')]))] },
    { id: 'iterate', effect: 'invariant-only', cite: 'ts-dict-iter', tokens: 'read', allowed: ['RuntimeError'], body: (c) => [py.for(py.store('_x'), c.o, [py.pass()])] },
    { id: 'eq_copy', effect: 'invariant-only', cite: 'ts-dict-update', tokens: 'read', body: (c) => [keep(py.cmp(c.o, 'Eq', py.method(c.o, 'copy')))] },
    { id: 'clear', effect: 'invariant-only', cite: 'ts-dict-new', tokens: 'overwrite', body: (c) => [call(c.o, 'clear')] },
  ]),
  ...ops('set', [
    { id: 'add', effect: 'exact', cite: 'howto-builtins', tokens: 'produce', body: (c) => [call(c.o, 'add', token(c))] },
    { id: 'update', effect: 'exact', cite: 'howto-builtins', tokens: 'produce', body: (c) => [call(c.o, 'update', py.tuple([token(c)]))] },
    { id: 'ior', effect: 'exact', cite: 'howto-builtins', tokens: 'produce', body: (c) => [call(c.o, '__ior__', py.set([token(c)]))] },
    // discard() does not say whether it removed anything, so recording "our" token after it would count it
    // twice when a concurrent pop() already took (and recorded) it: discard a value never present instead.
    { id: 'add_discard_absent', effect: 'exact', cite: 'howto-builtins', tokens: 'produce', body: (c) => [call(c.o, 'add', token(c)), call(c.o, 'discard', py.unary('USub', token(c)))] },
    { id: 'remove_own', effect: 'exact', cite: 'howto-builtins', tokens: 'produce-consume', allowed: ['KeyError'], body: (c) => [call(c.o, 'add', token(c)), call(c.o, 'remove', token(c)), take(c, token(c))] },
    { id: 'pop', effect: 'exact', cite: 'howto-builtins', tokens: 'consume', allowed: ['KeyError'], body: (c) => [take(c, py.method(c.o, 'pop'))] },
    { id: 'contains', effect: 'exact', cite: 'howto-builtins', tokens: 'read', body: (c) => [keep(py.cmp(token(c), 'In', c.o))] },
    { id: 'discard_probe', effect: 'exact', cite: 'howto-builtins', tokens: 'read', usesProbe: true, body: (c) => [call(c.o, 'discard', c.probe)] },
    { id: 'len', effect: 'exact', cite: 'howto-builtins', tokens: 'read', body: (c) => [keep(py.call(N('len'), [c.o]))] },
    { id: 'copy', effect: 'exact', cite: 'howto-builtins', tokens: 'read', body: (c) => [keep(py.method(c.o, 'copy'))] },
    { id: 'union', effect: 'invariant-only', cite: 'howto-builtins', tokens: 'read', allowed: ['RuntimeError'], body: (c) => [keep(py.bin(c.o, 'BitOr', py.call(N('set'))))] },
    { id: 'issubset', effect: 'invariant-only', cite: 'howto-builtins', tokens: 'read', allowed: ['RuntimeError'], body: (c) => [keep(py.method(c.o, 'issubset', [c.o]))] },
    { id: 'iterate', effect: 'invariant-only', cite: 'howto-builtins', tokens: 'read', allowed: ['RuntimeError'], body: (c) => [py.for(py.store('_x'), c.o, [py.pass()])] },
    { id: 'clear', effect: 'invariant-only', cite: 'howto-builtins', tokens: 'overwrite', body: (c) => [call(c.o, 'clear')] },
  ]),
  ...ops('deque', [
    { id: 'append', effect: 'exact', cite: 'deque-doc', tokens: 'produce', body: (c) => [call(c.o, 'append', token(c))] },
    { id: 'appendleft', effect: 'exact', cite: 'deque-doc', tokens: 'produce', body: (c) => [call(c.o, 'appendleft', token(c))] },
    { id: 'pop', effect: 'exact', cite: 'deque-doc', tokens: 'consume', allowed: IDX, body: (c) => [take(c, py.method(c.o, 'pop'))] },
    { id: 'popleft', effect: 'exact', cite: 'deque-doc', tokens: 'consume', allowed: IDX, body: (c) => [take(c, py.method(c.o, 'popleft'))] },
    { id: 'len', effect: 'exact', cite: 'deque-doc', tokens: 'read', body: (c) => [keep(py.call(N('len'), [c.o]))] },
    { id: 'count_probe', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'read', usesProbe: true, allowed: ['RuntimeError'], body: (c) => [keep(py.method(c.o, 'count', [c.probe]))] },
    { id: 'extend', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'produce', body: (c) => [call(c.o, 'extend', py.tuple([token(c)]))] },
    { id: 'extendleft', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'produce', body: (c) => [call(c.o, 'extendleft', py.tuple([token(c)]))] },
    { id: 'rotate', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'none', body: (c) => [call(c.o, 'rotate', int(1))] },
    { id: 'contains', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'read', allowed: ['RuntimeError'], body: (c) => [keep(py.cmp(token(c), 'In', c.o))] },
    { id: 'copy', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'read', allowed: ['RuntimeError'], body: (c) => [keep(py.method(c.o, 'copy'))] },
    { id: 'iterate', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'read', allowed: ['RuntimeError'], body: (c) => [py.for(py.store('_x'), c.o, [py.pass()])] },
    { id: 'remove_own', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'produce-consume', allowed: ['ValueError', 'RuntimeError'], body: (c) => [call(c.o, 'append', token(c)), call(c.o, 'remove', token(c)), take(c, token(c))] },
    { id: 'clear', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'overwrite', body: (c) => [call(c.o, 'clear')] },
  ]),
  ...ops('OrderedDict', [
    { id: 'setitem', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'produce', body: (c) => [py.assign(py.subStore(c.o, token(c)), N('tid'))] },
    { id: 'move_to_end_own', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'produce', allowed: ['KeyError'], body: (c) => [py.assign(py.subStore(c.o, token(c)), N('tid')), call(c.o, 'move_to_end', token(c), py.bool(false))] },
    { id: 'popitem', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'consume', allowed: ['KeyError'], body: (c) => [take(c, py.sub(py.method(c.o, 'popitem', [py.bool(false)]), int(0)))] },
    { id: 'pop_own', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'produce-consume', allowed: ['KeyError'], body: (c) => [py.assign(py.subStore(c.o, token(c)), N('tid')), call(c.o, 'pop', token(c)), take(c, token(c))] },
    { id: 'get', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'read', body: (c) => [keep(py.method(c.o, 'get', [token(c)]))] },
    // Iterating raises KeyError when the iterator's current key was deleted between two next() calls
    // (odictiter_nextkey: "Must have been deleted"), with or without the GIL.
    { id: 'keys_list', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'read', allowed: ['RuntimeError', 'KeyError'], body: (c) => [keep(py.call(N('list'), [c.o]))] },
    { id: 'len', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'read', body: (c) => [keep(py.call(N('len'), [c.o]))] },
  ]),
  ...ops('defaultdict', [
    // Each thread increments only its own key: no other writer, so the count is exact.
    { id: 'inc_own_key', effect: 'exact', cite: 'ts-dict-write', tokens: 'count', body: (c) => [py.augAssign(py.subStore(c.o, str(c.attr)), 'Add', int(1))] },
    { id: 'missing_read', effect: 'exact', cite: 'ts-dict-lockfree', tokens: 'read', body: (c) => [keep(py.method(c.o, 'get', [str(`${c.attr}-absent`)]))] },
    { id: 'len', effect: 'exact', cite: 'ts-dict-lockfree', tokens: 'read', body: (c) => [keep(py.call(N('len'), [c.o]))] },
    { id: 'items_list', effect: 'invariant-only', cite: 'ts-dict-iter', tokens: 'read', allowed: ['RuntimeError'], body: (c) => [keep(py.call(N('list'), [py.method(c.o, 'items')]))] },
    { id: 'copy', effect: 'exact', cite: 'ts-dict-new', tokens: 'read', body: (c) => [keep(py.method(c.o, 'copy'))] },
  ]),
  ...ops('Counter', [
    { id: 'inc_own_key', effect: 'exact', cite: 'ts-dict-write', tokens: 'count', body: (c) => [py.augAssign(py.subStore(c.o, str(c.attr)), 'Add', int(1))] },
    { id: 'update_own_key', effect: 'exact', cite: 'ts-dict-write', tokens: 'count', body: (c) => [call(c.o, 'update', py.tuple([str(c.attr)]))] },
    { id: 'total', effect: 'invariant-only', cite: 'ts-dict-iter', tokens: 'read', allowed: ['RuntimeError'], body: (c) => [keep(py.method(c.o, 'total'))] },
    { id: 'most_common', effect: 'invariant-only', cite: 'ts-dict-iter', tokens: 'read', allowed: ['RuntimeError'], body: (c) => [keep(py.method(c.o, 'most_common', [int(2)]))] },
    { id: 'missing_read', effect: 'exact', cite: 'ts-dict-lockfree', tokens: 'read', body: (c) => [keep(py.sub(c.o, str(`${c.attr}-absent`)))] },
  ]),
  ...(['Queue', 'LifoQueue', 'PriorityQueue'] as const).flatMap((q) =>
    ops(q, [
      { id: 'put', effect: 'exact', cite: 'queue-doc', tokens: 'produce', body: (c) => [call(c.o, 'put', token(c))] },
      { id: 'put_nowait', effect: 'exact', cite: 'queue-doc', tokens: 'produce', body: (c) => [call(c.o, 'put_nowait', token(c))] },
      { id: 'get_nowait', effect: 'exact', cite: 'queue-doc', tokens: 'consume', allowed: ['queue.Empty'], body: (c) => [take(c, py.method(c.o, 'get_nowait'))] },
      { id: 'qsize', effect: 'exact', cite: 'queue-doc', tokens: 'read', body: (c) => [keep(py.method(c.o, 'qsize'))] },
      { id: 'empty', effect: 'exact', cite: 'queue-doc', tokens: 'read', body: (c) => [keep(py.method(c.o, 'empty'))] },
    ]),
  ),
  ...ops('SimpleQueue', [
    { id: 'put', effect: 'exact', cite: 'queue-doc', tokens: 'produce', body: (c) => [call(c.o, 'put', token(c))] },
    { id: 'get_nowait', effect: 'exact', cite: 'queue-doc', tokens: 'consume', allowed: ['queue.Empty'], body: (c) => [take(c, py.method(c.o, 'get_nowait'))] },
    { id: 'qsize', effect: 'exact', cite: 'queue-doc', tokens: 'read', body: (c) => [keep(py.method(c.o, 'qsize'))] },
  ]),
  ...ops('array', [
    { id: 'append', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'produce', body: (c) => [call(c.o, 'append', token(c))] },
    { id: 'extend', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'produce', body: (c) => [call(c.o, 'extend', py.tuple([token(c)]))] },
    { id: 'insert0', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'produce', body: (c) => [call(c.o, 'insert', int(0), token(c))] },
    { id: 'pop', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'consume', allowed: IDX, body: (c) => [take(c, py.method(c.o, 'pop'))] },
    { id: 'tolist', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'read', body: (c) => [keep(py.method(c.o, 'tolist'))] },
    { id: 'len', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'read', body: (c) => [keep(py.call(N('len'), [c.o]))] },
    { id: 'getitem_last', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'read', allowed: IDX, body: (c) => [keep(py.sub(c.o, py.int(-1)))] },
  ]),
  ...ops('bytearray', [
    { id: 'append', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'none', allowed: RESIZE, body: (c) => [call(c.o, 'append', int(c.small % 256))] },
    { id: 'extend', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'none', allowed: RESIZE, body: (c) => [call(c.o, 'extend', py.bytes(Buffer.from('ftfz')))] },
    { id: 'pop', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'none', allowed: [...IDX, ...RESIZE], body: (c) => [keep(py.method(c.o, 'pop'))] },
    { id: 'bytes', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'read', body: (c) => [keep(py.call(N('bytes'), [c.o]))] },
    { id: 'find', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'read', body: (c) => [keep(py.method(c.o, 'find', [py.bytes(Buffer.from('fz'))]))] },
    { id: 'len', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'read', body: (c) => [keep(py.call(N('len'), [c.o]))] },
    { id: 'delslice', effect: 'invariant-only', cite: 'no-guarantee', tokens: 'none', allowed: RESIZE, body: (c) => [py.del(py.subDel(c.o, py.slice(null, int(2))))] },
  ]),
  ...ops('heap', [
    { id: 'heappush_locked', effect: 'exact', cite: 'threading-doc', tokens: 'produce', body: (c) => [withLock(c.lock, [py.expr(py.method(N('heapq'), 'heappush', [c.o, token(c)]))])] },
    { id: 'heappop_locked', effect: 'exact', cite: 'threading-doc', tokens: 'consume', allowed: IDX, body: (c) => [withLock(c.lock, [take(c, py.method(N('heapq'), 'heappop', [c.o]))])] },
    { id: 'peek', effect: 'exact', cite: 'ts-list-atomic', tokens: 'read', allowed: IDX, body: (c) => [keep(py.sub(c.o, int(0)))] },
  ]),
  ...(['instance', 'slots', 'SimpleNamespace'] as const).flatMap((k) =>
    ops(k, [
      { id: 'set_own_attr', effect: 'exact', cite: 'howto-builtins', tokens: 'attr', body: (c) => [py.assign(py.attrStore(c.o, c.attr), token(c))] },
      { id: 'get_own_attr', effect: 'exact', cite: 'howto-builtins', tokens: 'read', allowed: ['AttributeError'], body: (c) => [keep(py.attr(c.o, c.attr))] },
      { id: 'locked_inc', effect: 'exact', cite: 'threading-doc', tokens: 'count', body: (c) => [withLock(c.lock, [inc(c.o, 'n')])] },
      { id: 'racy_inc', effect: 'invariant-only', cite: 'program-race', tokens: 'racy-count', body: (c) => [inc(c.o, 'r')] },
      { id: 'getattr_default', effect: 'exact', cite: 'howto-builtins', tokens: 'read', body: (c) => [keep(py.call(N('getattr'), [c.o, str('absent'), py.none()]))] },
    ]),
  ),
  ...ops('instance', [
    { id: 'vars_copy', effect: 'invariant-only', cite: 'ts-dict-new', tokens: 'read', body: (c) => [keep(py.method(py.call(N('vars'), [c.o]), 'copy'))] },
    { id: 'hasattr', effect: 'exact', cite: 'howto-builtins', tokens: 'read', body: (c) => [keep(py.call(N('hasattr'), [c.o, str(c.attr)]))] },
  ]),
  ...ops('class', [
    { id: 'set_own_class_attr', effect: 'exact', cite: 'howto-builtins', tokens: 'attr', body: (c) => [py.assign(py.attrStore(py.call(N('type'), [c.o]), c.attr), token(c))] },
    { id: 'method_call', effect: 'exact', cite: 'howto-builtins', tokens: 'read', body: (c) => [keep(py.method(c.o, 'get'))] },
    { id: 'locked_inc', effect: 'exact', cite: 'threading-doc', tokens: 'count', body: (c) => [withLock(c.lock, [inc(py.call(N('type'), [c.o]), 'n')])] },
    { id: 'isinstance', effect: 'exact', cite: 'howto-builtins', tokens: 'read', body: (c) => [keep(py.call(N('isinstance'), [c.o, py.call(N('type'), [c.o])]))] },
  ]),
  ...pureOps('str', 'immutable', [
    ['upper', (o) => py.method(o, 'upper')],
    ['split', (o) => py.method(o, 'split', [str('-')])],
    ['replace', (o) => py.method(o, 'replace', [str('ft'), str('FT')])],
    ['find', (o) => py.method(o, 'find', [str('fuzz-')])],
    ['join', (o) => py.method(str('|'), 'join', [py.sub(o, py.slice(null, int(20)))])],
    ['encode', (o) => py.method(o, 'encode', [str('utf-8')])],
    ['hash', (o) => py.call(N('hash'), [o])],
    ['format', (o) => py.bin(str('%s:%d'), 'Mod', py.tuple([py.sub(o, py.slice(null, int(5))), py.call(N('len'), [o])]))],
  ]),
  ...pureOps('bytes', 'immutable', [
    ['hex', (o) => py.method(o, 'hex')],
    ['decode', (o) => py.method(o, 'decode', [str('ascii')])],
    ['find', (o) => py.method(o, 'find', [py.bytes(Buffer.from('fuzz'))])],
    ['split', (o) => py.method(o, 'split', [py.bytes(Buffer.from('-'))])],
    ['upper', (o) => py.method(o, 'upper')],
  ]),
  ...pureOps('tuple', 'immutable', [
    ['len', (o) => py.call(N('len'), [o])],
    ['index', (o) => py.method(o, 'index', [py.sub(o, int(7))])],
    ['count', (o) => py.method(o, 'count', [py.sub(o, int(3))])],
    ['slice', (o) => py.sub(o, py.slice(int(2), int(40), int(3)))],
    ['hash', (o) => py.call(N('hash'), [o])],
    ['sum', (o) => py.call(N('sum'), [o])],
  ]),
  ...pureOps('frozenset', 'immutable', [
    ['len', (o) => py.call(N('len'), [o])],
    ['contains', (o) => py.cmp(int(77), 'In', o)],
    ['union', (o) => py.bin(o, 'BitOr', py.call(N('frozenset'), [py.tuple([int(1), int(2)])]))],
    ['hash', (o) => py.call(N('hash'), [o])],
    ['sorted', (o) => py.call(N('sorted'), [o])],
    ['intersection', (o) => py.method(o, 'intersection', [py.call(N('range'), [int(0), int(100)])])],
  ]),
  ...pureOps('int', 'immutable', [
    ['arith', (o) => py.bin(py.bin(o, 'Mult', int(3)), 'Add', int(1))],
    ['bit_length', (o) => py.method(o, 'bit_length')],
    ['pow_mod', (o) => py.call(N('pow'), [o, int(3), int(1_000_003)])],
    ['str', (o) => py.call(N('str'), [o])],
    ['to_bytes', (o) => py.method(o, 'to_bytes', [int(128), str('little')])],
  ]),
  ...pureOps('float', 'immutable', [
    ['mul', (o) => py.bin(o, 'Mult', py.float(2.5))],
    ['hex', (o) => py.method(o, 'hex')],
    ['round', (o) => py.call(N('round'), [o, int(3)])],
  ]),
  ...pureOps('range', 'immutable', [
    ['len', (o) => py.call(N('len'), [o])],
    ['contains', (o) => py.cmp(int(301), 'In', o)],
    ['slice_sum', (o) => py.call(N('sum'), [py.sub(o, py.slice(int(10), int(60)))])],
  ]),
  ...pureOps('memoryview', 'immutable', [
    ['tobytes', (o) => py.method(py.sub(o, py.slice(int(4), int(40))), 'tobytes')],
    ['len', (o) => py.call(N('len'), [o])],
  ]),
  ...pureOps('pattern', 'immutable', [
    ['findall', (o) => py.method(o, 'findall', [str('a-1 bb-22 ccc-333')])],
    ['sub', (o) => py.method(o, 'sub', [str('\\2'), str('x-9 y-8')])],
  ]),
  ...pureOps('Struct', 'immutable', [
    ['pack', (o) => py.method(o, 'pack', [int(12345), py.float(2.5), py.bytes(Buffer.from('abcdefgh'))])],
    ['size', (o) => py.attr(o, 'size')],
  ]),
  ...pureOps('partial', 'immutable', [
    ['call', (o) => py.call(o, [int(5)])],
    ['args', (o) => py.attr(o, 'args')],
  ]),
  ...ops('lru_cache', [
    // The wrapped function is pure: whatever the cache state, f(x) == x*x + 1.
    { id: 'call', effect: 'exact', cite: 'lru-cache', tokens: 'none', body: (c) => [py.if(py.cmp(py.call(c.o, [int(c.small % 24)]), 'NotEq', int((c.small % 24) ** 2 + 1)), [call(N('_MISMATCH'), 'append', str('lru_cache.call'))])] },
    { id: 'cache_info', effect: 'invariant-only', cite: 'lru-cache', tokens: 'read', body: (c) => [keep(py.method(c.o, 'cache_info'))] },
    { id: 'cache_clear', effect: 'invariant-only', cite: 'lru-cache', tokens: 'none', body: (c) => [call(c.o, 'cache_clear')] },
  ]),
  ...ops('Random', [
    { id: 'random', effect: 'invariant-only', cite: 'random-doc', tokens: 'read', body: (c) => [py.if(py.unary('Not', py.cmp(int(0), 'LtE', py.method(c.o, 'random'))), [call(N('_MISMATCH'), 'append', str('Random.random'))])] },
    { id: 'randrange', effect: 'invariant-only', cite: 'random-doc', tokens: 'read', body: (c) => [keep(py.method(c.o, 'randrange', [int(10)]))] },
    { id: 'getrandbits', effect: 'invariant-only', cite: 'random-doc', tokens: 'read', body: (c) => [keep(py.method(c.o, 'getrandbits', [int(64)]))] },
  ]),
  ...(['Lock', 'RLock', 'Semaphore', 'Condition'] as const).flatMap((k) =>
    ops(k, [{ id: 'with_inc', effect: 'exact', cite: 'threading-doc', tokens: 'count', body: (c) => [withLock(c.o, [inc(c.holder, 'n')])] }]),
  ),
  ...ops('Lock', [
    {
      id: 'try_acquire_inc',
      effect: 'exact',
      cite: 'threading-doc',
      tokens: 'none',
      body: (c) => [py.if(py.method(c.o, 'acquire', [py.bool(false)]), [py.try([inc(c.holder, 'm')], [], [], [call(c.o, 'release')])])],
    },
    { id: 'locked', effect: 'exact', cite: 'threading-doc', tokens: 'read', body: (c) => [keep(py.method(c.o, 'locked'))] },
  ]),
  ...ops('RLock', [{ id: 'nested_inc', effect: 'exact', cite: 'threading-doc', tokens: 'count', body: (c) => [withLock(c.o, [withLock(c.o, [inc(c.holder, 'n')])])] }]),
  ...ops('Condition', [{ id: 'notify_all', effect: 'exact', cite: 'threading-doc', tokens: 'none', body: (c) => [withLock(c.o, [call(c.o, 'notify_all')])] }]),
  ...ops('Event', [
    { id: 'set', effect: 'invariant-only', cite: 'threading-doc', tokens: 'none', body: (c) => [call(c.o, 'set')] },
    { id: 'clear', effect: 'invariant-only', cite: 'threading-doc', tokens: 'none', body: (c) => [call(c.o, 'clear')] },
    { id: 'is_set', effect: 'invariant-only', cite: 'threading-doc', tokens: 'read', body: (c) => [keep(py.method(c.o, 'is_set'))] },
  ]),
  ...ops('BufferedWriter', [
    { id: 'write', effect: 'invariant-only', cite: 'io-buffered', tokens: 'none', body: (c) => [call(c.o, 'write', py.bytes(Buffer.from('0123456789abcdef')))] },
    { id: 'flush', effect: 'invariant-only', cite: 'io-buffered', tokens: 'none', body: (c) => [call(c.o, 'flush')] },
    { id: 'tell', effect: 'invariant-only', cite: 'io-buffered', tokens: 'read', body: (c) => [keep(py.method(c.o, 'tell'))] },
  ]),
  ...ops('BytesIO', [
    { id: 'write', effect: 'crash-only', cite: 'io-text', tokens: 'none', body: (c) => [call(c.o, 'write', py.bytes(Buffer.from('record--')))] },
    { id: 'getvalue', effect: 'crash-only', cite: 'io-text', tokens: 'read', body: (c) => [keep(py.method(c.o, 'getvalue'))] },
    { id: 'seek_read', effect: 'crash-only', cite: 'io-text', tokens: 'read', body: (c) => [call(c.o, 'seek', int(0)), keep(py.method(c.o, 'read', [int(8)]))] },
    { id: 'tell', effect: 'crash-only', cite: 'io-text', tokens: 'read', body: (c) => [keep(py.method(c.o, 'tell'))] },
    { id: 'truncate', effect: 'crash-only', cite: 'io-text', tokens: 'none', allowed: ['ValueError'], body: (c) => [call(c.o, 'truncate', int(64))] },
  ]),
  ...ops('StringIO', [
    { id: 'write', effect: 'crash-only', cite: 'io-text', tokens: 'none', body: (c) => [call(c.o, 'write', str('line\n'))] },
    { id: 'getvalue', effect: 'crash-only', cite: 'io-text', tokens: 'read', body: (c) => [keep(py.method(c.o, 'getvalue'))] },
    { id: 'seek_readline', effect: 'crash-only', cite: 'io-text', tokens: 'read', body: (c) => [call(c.o, 'seek', int(0)), keep(py.method(c.o, 'readline'))] },
    { id: 'tell', effect: 'crash-only', cite: 'io-text', tokens: 'read', allowed: ['OSError'], body: (c) => [keep(py.method(c.o, 'tell'))] },
  ]),
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

/** Statements the scenario knobs insert between ops (not tied to one object). */
export const KNOB_OPS: OpSpec[] = [
  { id: 'gc.collect', kind: 'gc', effect: 'crash-only', cite: 'no-guarantee', tokens: 'none', allowed: [], body: () => [keep(py.method(N('gc'), 'collect'))] },
  { id: 'time.sleep0', kind: 'time', effect: 'exact', cite: 'threading-doc', tokens: 'none', allowed: [], body: () => [py.expr(py.method(N('time'), 'sleep', [int(0)]))] },
];

export const OPS_BY_KIND = new Map<string, OpSpec[]>();
for (const op of OPS) OPS_BY_KIND.set(op.kind, [...(OPS_BY_KIND.get(op.kind) ?? []), op]);
