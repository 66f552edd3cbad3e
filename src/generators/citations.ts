// What CPython documents about each operation's thread safety: the spec the generator's effect classes
// are derived from. Quotes are short excerpts of the named document; `ftfuzz ops` prints the key.

export interface Citation {
  source: string;
  says: string;
}

export const CITATIONS = {
  'ts-list-atomic': {
    source: 'Doc/library/threadsafety.rst (3.14), "Thread safety for list objects"',
    says: 'lst.append(x), lst.pop(), lst[i] and lst.clear() are atomic; lst[i] = x will not corrupt the list',
  },
  'ts-list-maybe': {
    source: 'Doc/library/threadsafety.rst (3.14), "Thread safety for list objects"',
    says: 'insert(idx, item), pop(idx) and lst *= x may let lock-free readers observe intermediate states; item in lst, index, count may return results affected by concurrent modifications',
  },
  'ts-list-extend': {
    source: 'Doc/library/threadsafety.rst (3.14), "Thread safety for list objects"',
    says: 'extend is safe to call from multiple threads; with a list, tuple, set, frozenset or dict argument it is safe from concurrent modification of the iterable',
  },
  'ts-list-new': {
    source: 'Doc/library/threadsafety.rst (3.14), "Thread safety for list objects"',
    says: 'lst1 + lst2, x * lst and lst.copy() return new objects and appear atomic',
  },
  'ts-list-sort': {
    source: 'Doc/library/threadsafety.rst (3.14), "Thread safety for list objects"',
    says: 'sort is not atomic: the list appears empty for the duration of the sort',
  },
  'ts-list-remove': {
    source: 'Doc/library/threadsafety.rst (3.14), "Thread safety for list objects"',
    says: 'remove may allow concurrent modifications since element comparison may execute arbitrary Python code',
  },
  'ts-list-iter': {
    source: 'Doc/library/threadsafety.rst (3.14), "Thread safety for list objects"',
    says: 'iteration while another thread modifies the list is never atomic (not thread-safe, but must not crash)',
  },
  'ts-dict-lockfree': {
    source: 'Doc/library/threadsafety.rst (3.14), "Thread safety for dict objects"',
    says: 'd[key], d.get(key), key in d and len(d) are lock-free and atomic',
  },
  'ts-dict-write': {
    source: 'Doc/library/threadsafety.rst (3.14), "Thread safety for dict objects"',
    says: 'd[key] = value, del d[key], d.pop(key), d.popitem() and d.setdefault(key, v) are safe from multiple threads and will not corrupt the dictionary',
  },
  'ts-dict-new': {
    source: 'Doc/library/threadsafety.rst (3.14), "Thread safety for dict objects"',
    says: 'd.copy(), d | other, keys(), values() and items() hold the per-object lock for the operation; clear() holds it for its duration',
  },
  'ts-dict-update': {
    source: 'Doc/library/threadsafety.rst (3.14), "Thread safety for dict objects"',
    says: 'd.update(other_dict) and d |= other_dict lock both dicts when other_dict is a dict',
  },
  'ts-dict-iter': {
    source: 'Doc/library/threadsafety.rst (3.14), "Thread safety for dict objects"',
    says: 'iteration while modifying is never atomic; another thread may modify d (RuntimeError: dictionary changed size during iteration)',
  },
  'howto-builtins': {
    source: 'Doc/howto/free-threading-python.rst (3.13), "Thread Safety"',
    says: 'built-in types like dict, list and set use internal locks to protect against concurrent modifications in ways that behave similarly to the GIL',
  },
  'howto-iterators': {
    source: 'Doc/howto/free-threading-python.rst (3.13), "Iterators"',
    says: 'sharing the same iterator object between threads is generally not safe: threads may see duplicate or missing elements or crash the interpreter (3.13)',
  },
  'deque-doc': {
    source: 'Doc/library/collections.rst, "deque objects"',
    says: 'deques support thread-safe, memory efficient appends and pops from either side',
  },
  'queue-doc': {
    source: 'Doc/library/queue.rst',
    says: 'the queue module implements multi-producer, multi-consumer queues; the Queue class implements all the required locking semantics; SimpleQueue is reentrant',
  },
  'io-buffered': {
    source: 'Doc/library/io.rst, "Multi-threading"',
    says: 'binary buffered objects (BufferedReader, BufferedWriter, ...) protect their internal structures using a lock: safe to call from multiple threads at once',
  },
  'io-text': {
    source: 'Doc/library/io.rst, "Multi-threading"',
    says: 'TextIOWrapper objects are not thread-safe (StringIO is a text stream; BytesIO documents no guarantee)',
  },
  'lru-cache': {
    source: 'Doc/library/functools.rst, "lru_cache"',
    says: 'the cache is threadsafe so that the wrapped function can be used in multiple threads; the underlying data structure remains coherent during concurrent updates',
  },
  'random-doc': {
    source: 'Doc/library/random.rst',
    says: 'the underlying implementation in C is both fast and threadsafe',
  },
  'threading-doc': {
    source: 'Doc/library/threading.rst',
    says: 'Lock, RLock, Condition, Semaphore and Event are synchronization primitives; code under a held lock runs exclusively',
  },
  immutable: {
    source: 'Doc/reference/datamodel.rst, "Objects, values and types"',
    says: 'an immutable object\'s value cannot change: concurrent reads must all see the value a single thread sees',
  },
  'news-repr': {
    source: 'Misc/NEWS 3.13.6, gh-135878; Doc/library/threadsafety.rst (3.14), "Thread safety for list objects"',
    says: 'fixes a crash of types.SimpleNamespace when several threads call its __repr__ at the same time; repr() and the serializers of a container another thread mutates see some state, and must not crash',
  },
  'news-json': {
    source: 'Misc/NEWS 3.13.14, gh-142831',
    says: 'fix a crash in the json module where a use-after-free could occur if the object being encoded is modified during serialization',
  },
  'news-defaultdict': {
    source: 'Misc/NEWS 3.13.12, gh-142495',
    says: 'collections.defaultdict now prioritizes __setitem__ when inserting default values from default_factory: a default value no longer overwrites a value set before default_factory returns',
  },
  'news-profile': {
    source: 'Misc/NEWS 3.13.7 and 3.13.10, gh-137400',
    says: 'fix a crash in the free threading build when disabling profiling or tracing across all threads with threading.setprofile_all_threads() or threading.settrace_all_threads()',
  },
  'news-weakref': {
    source: 'Misc/NEWS 3.13.6, gh-135607',
    says: 'fix potential weakref races in an object\'s destructor on the free threaded build',
  },
  'news-names': {
    source: 'Doc/library/threadsafety.rst (3.14), "Thread safety for classes and functions"; Misc/NEWS 3.13.13, gh-143880',
    says: 'writing a function\'s or class\'s __name__, __qualname__ or __doc__ while other threads read or call it may give either value; it must not crash',
  },
  'news-shared-iter': {
    source: 'Doc/howto/free-threading-python.rst (3.13), "Iterators"; Misc/NEWS 3.13.13, gh-146613',
    says: 'an iterator shared between threads over a container they mutate may skip or repeat items or raise RuntimeError, but must not crash (itertools.groupby crashed when its grouper was concurrently mutated)',
  },
  'news-etree': {
    source: 'Misc/NEWS 3.13.12, gh-143200; 3.13.14, gh-148735',
    says: 'fix use-after-free crashes in Element __getitem__ / __setitem__ and in Element.findtext when the element tree is concurrently mutated',
  },
  'news-mock': {
    source: 'Misc/NEWS 3.13.12, gh-142651',
    says: 'fix a thread safety issue where Mock.call_count may return inaccurate values when the mock is called concurrently from multiple threads',
  },
  'news-threading-mock': {
    source: 'Misc/NEWS 3.13.14, gh-150175',
    says: 'fix race condition in unittest.mock.ThreadingMock where concurrent calls could lose increments to call_count and other attributes due to a missing lock',
  },
  'news-stdlib-lazy': {
    source: 'Misc/NEWS 3.13.12, gh-133253 (linecache), gh-142881 (atexit); 3.13.10, gh-141141 (base64)',
    says: 'thread-safety fixes in stdlib modules with lazily filled or shared state: linecache, atexit.unregister, base64.b85decode',
  },
  'news-set-hash': {
    source: 'Misc/NEWS 3.13.12, gh-141805',
    says: 'fix crash in set when objects with the same hash are concurrently added to the set after removing an element with the same hash',
  },
  'no-guarantee': {
    source: 'Doc/howto/free-threading-python.rst (3.13), "Thread Safety"',
    says: 'no per-operation guarantee is documented for this type; racing on it may give any interleaving, but the interpreter must not crash (free-threading primer: a crash is always a runtime bug)',
  },
  'program-race': {
    source: 'Doc/library/threadsafety.rst (3.14), list and dict sections',
    says: 'read-modify-write such as x = x + 1 is NOT atomic: lost updates are a race in the program, never a runtime bug',
  },
  reentrancy: {
    source: 'Doc/library/threadsafety.rst (3.14), list and dict sections',
    says: 'comparisons may run arbitrary Python code (__eq__, __hash__) during which the container may be modified by another thread: only memory safety is promised',
  },
} as const satisfies Record<string, Citation>;

export type CitationKey = keyof typeof CITATIONS;
