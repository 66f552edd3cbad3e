// The known-bug benchmark's ground truth: free-threading and concurrency fixes that CPython's own
// Misc/NEWS records for 3.13.6 … 3.13.15 (read from the 3.13.15 source tarball ftfuzz provisions), kept
// to the ones a concurrency fuzzer can reach from Python code. Each says what breaks (object or module,
// the operations) and how a bucket is recognised as it: by the C functions in its stacks, by the ops of
// its program, or both. `npm run bench -- bugs` grades a campaign's buckets against this table.
//
// Entries are upstream's words, shortened; the gh number is the upstream issue. Fixes that need
// subprocesses, sockets, ssl, tkinter, subinterpreters, out-of-memory or Windows are left out: no
// generated program reaches them.
import type { BucketMeta } from '../store/crashStore.js';

export interface KnownBug {
  gh: number;
  /** The first 3.13 release with the fix (NEWS section). */
  fixedIn: string;
  /** The object or module at fault. */
  area: string;
  /** Upstream's description, shortened. */
  news: string;
  /** How a bucket is recognised as this bug: C frames of its stacks, and/or op ids of its program. */
  frames?: RegExp;
  ops?: RegExp;
  /** Both must match when both are given (a C frame alone can be shared by many bugs). */
  both?: boolean;
  /** Only buckets of these kinds (a memory-use bug is a leak, never a crash). */
  kinds?: string[];
}

/** Whether an entry is a 3.13 Misc/NEWS fix (the benchmark's ground truth), rather than an upstream issue 3.13 still has. */
export function inNews(k: Pick<KnownBug, 'fixedIn'>): boolean {
  return /^3\.13\.\d+$/.test(k.fixedIn);
}

/** "fixed in 3.13.12", "open upstream", "fixed in 3.14 only". */
export function fixedLabel(k: Pick<KnownBug, 'fixedIn'>): string {
  return k.fixedIn === 'open' ? 'open upstream' : inNews(k) ? `fixed in ${k.fixedIn}` : `fixed in ${k.fixedIn} only`;
}

/**
 * Upstream issues that 3.13.15 still has, for still-present buckets: open ones, and those fixed only in a
 * later series (not backported to 3.13). Not NEWS entries: the benchmark never counts them as fixed.
 */
export const STILL_OPEN_UPSTREAM: readonly KnownBug[] = [
  { gh: 155606, fixedIn: 'open', area: 'memoryview', news: 'slicing a shared memoryview from several threads raises "operation forbidden on released memoryview object" (the managed buffer\'s export count is incremented non-atomically)', ops: /^memoryview\./, kinds: ['differential', 'crash'] },
  { gh: 128942, fixedIn: '3.14', area: 'array', news: 'the array module is not free-thread safe: concurrent mutation and reads crash (made safe in the 3.14 series)', frames: /array_|getarrayitem|newarrayobject|ins1|array_resize/, ops: /^array\./, kinds: ['crash', 'hang', 'lost-write'] },
  { gh: 129107, fixedIn: '3.14', area: 'bytearray', news: 'bytearray is not free-thread safe (made safe in the 3.14 series)', frames: /bytearray_/, ops: /^bytearray\./, kinds: ['crash', 'hang'] },
];

export const KNOWN_BUGS: readonly KnownBug[] = [
  { gh: 91153, fixedIn: '3.13.6', area: 'bytearray', news: 'crash when a bytearray is concurrently mutated during item assignment', frames: /bytearray_ass_subscript|bytearray_setslice/, ops: /^bytearray\./ },
  { gh: 135878, fixedIn: '3.13.6', area: 'types.SimpleNamespace', news: 'crash when several threads call repr() of a SimpleNamespace at the same time', frames: /namespace_repr/, ops: /^SimpleNamespace\.(repr|str|format)/ },
  { gh: 135607, fixedIn: '3.13.6', area: 'weakref', news: 'weakref races in an object\'s destructor', frames: /PyObject_ClearWeakRefs|_PyWeakref_ClearRef|clear_weakref|handle_callback/, ops: /^Weak|weakref/ },
  { gh: 133136, fixedIn: '3.13.6', area: 'dict, list', news: 'excess memory use when a large dict or list is resized and accessed by several threads', kinds: ['leak', 'oom'], ops: /^(list|dict)\./ },
  { gh: 135871, fixedIn: '3.13.6', area: 'PyMutex', news: 'non-blocking mutex lock attempts spun briefly when the lock was busy instead of returning at once', frames: /_Py_yield/ },
  { gh: 132617, fixedIn: '3.13.6', area: 'dict', news: 'dict.update raised "dict mutated during update" when a different dict sharing the keys was modified', ops: /^dict\.(update|ior)/ },
  { gh: 137400, fixedIn: '3.13.7', area: 'sys / threading (profiling, tracing)', news: 'crash when disabling profiling or tracing across all threads (setprofile_all_threads, settrace_all_threads)', frames: /^_?PyEval_Set(Profile|Trace)(AllThreads)?$|setup_profile|setup_tracing|call_trace|call_profile|sys_(profile|trace)_\w+|profile_trampoline/, ops: /(setprofile|settrace)/ },
  { gh: 137017, fixedIn: '3.13.8', area: 'threading.Thread', news: 'Thread.is_alive() was False before the OS thread was cleaned up', ops: /^Thread\.is_alive/ },
  { gh: 141311, fixedIn: '3.13.10', area: 'io.BytesIO', news: 'assertion failure in BytesIO.readinto when the read position is above the capacity', frames: /_io_BytesIO_readinto/, ops: /^BytesIO\.readinto/ },
  { gh: 140551, fixedIn: '3.13.10', area: 'dict', news: 'crash in dict if dict.clear() is called at the lookup stage', frames: /do_lookup|unicodekeys_lookup|dictkeys_generic_lookup|_Py_dict_lookup/, ops: /^dict\.clear|^dict\.(get|contains|setitem|pop)/, both: true },
  { gh: 141141, fixedIn: '3.13.10', area: 'base64', news: 'thread safety issue in base64.b85decode', ops: /^base64\./ },
  { gh: 142048, fixedIn: '3.13.10', area: 'gc', news: 'quadratically increasing garbage collection delays in the free-threaded build', kinds: ['slow', 'hang'], frames: /gc_collect_main|_PyGC_Collect|gc_visit_heaps|deduce_unreachable_heap/ },
  { gh: 141805, fixedIn: '3.13.12', area: 'set', news: 'crash in set when objects with the same hash are concurrently added after removing one with that hash', frames: /set_add_entry|set_discard_entry|set_lookkey|set_table_resize/, ops: /^set\./, kinds: ['crash', 'hang'] },
  { gh: 142495, fixedIn: '3.13.12', area: 'collections.defaultdict', news: 'race where a default value from default_factory overwrote a value set before default_factory returned', ops: /^defaultdict(_list)?\.(missing|setdefault|append_missing|inc)/ },
  { gh: 143378, fixedIn: '3.13.12', area: 'io.BytesIO', news: 'use-after-free when a BytesIO is concurrently mutated during write() or writelines()', frames: /_io_BytesIO_write|write_bytes|bytesio|resize_buffer/, ops: /^BytesIO\./ },
  { gh: 143200, fixedIn: '3.13.12', area: 'xml.etree.ElementTree', news: 'use-after-free in Element __getitem__ / __setitem__ when the element is concurrently mutated', frames: /element_getitem|element_setitem|element_subscr|element_ass_subscr/, ops: /^Element\./ },
  { gh: 143638, fixedIn: '3.13.12', area: 'pickle', news: 'concurrent calls of methods of the same Pickler/Unpickler could crash or corrupt data', frames: /^(_pickle_\w+|save|save_reduce|save_list|save_dict|batch_list\w*|batch_dict\w*|Pickler_\w+|Unpickler_\w+|load_build|load_reduce)$/, ops: /^Pickler\.|^pickle\.|\.pickle_dumps$/ },
  { gh: 142881, fixedIn: '3.13.12', area: 'atexit', news: 'concurrent and reentrant atexit.unregister', frames: /atexit_unregister|atexit_delete_cb/, ops: /^atexit\./ },
  { gh: 133253, fixedIn: '3.13.12', area: 'linecache', news: 'thread-safety issues in linecache', ops: /^linecache\./ },
  { gh: 142651, fixedIn: '3.13.12', area: 'unittest.mock', news: 'Mock.call_count may be inaccurate when the mock is called concurrently', ops: /^(Threading)?Mock\./ },
  { gh: 143004, fixedIn: '3.13.12', area: 'collections.Counter', news: 'use-after-free in Counter.update when the Counter is mutated during an update', frames: /_collections__count_elements|count_elements/, ops: /^Counter\.update/ },
  { gh: 142560, fixedIn: '3.13.12', area: 'bytearray', news: 'use-after-free in bytearray search methods (find, count, index, ...) when the bytearray is mutated', frames: /bytearray_find|bytearray_count|bytearray_index|stringlib_find|_Py_bytes_find|find_internal/, ops: /^bytearray\.(find|count|index)/ },
  { gh: 143003, fixedIn: '3.13.12', area: 'bytearray', news: 'overflow of the shared empty buffer in bytearray.extend when __length_hint__() returns 0 for a non-empty iterator', frames: /bytearray_extend/, ops: /^bytearray\.extend/ },
  { gh: 143880, fixedIn: '3.13.13', area: 'functools.partial', news: 'data race in functools.partial in the free-threading build', frames: /partial_vectorcall|partial_call|partial_setvectorcall/, ops: /^partial\./ },
  { gh: 146613, fixedIn: '3.13.13', area: 'itertools.groupby', news: 'crash in itertools.groupby when the grouper iterator is concurrently mutated', frames: /groupby_next|_grouper_next|groupby_step/, ops: /^groupby\./ },
  { gh: 142763, fixedIn: '3.13.13', area: 'zoneinfo', news: 'race between ZoneInfo creation and ZoneInfo.clear_cache that could raise KeyError', ops: /^ZoneInfo\.|^zoneinfo\./ },
  { gh: 143650, fixedIn: '3.13.13', area: 'importlib', news: 'a thread could receive a stale module reference when another thread\'s import fails', ops: /^import\.|^importlib\./ },
  { gh: 130555, fixedIn: '3.13.13', area: 'dict', news: 'use-after-free in dict.clear when values are embedded in an object and a destructor mutates the dict', frames: /clear_embedded_values|dict_clear|PyDict_Clear|clear_lock_held/, ops: /^(instance|slots|SimpleNamespace)\.|^dict\.clear/, both: true },
  { gh: 143008, fixedIn: '3.13.14', area: 'io.TextIOWrapper', news: 'race conditions when re-initializing a TextIOWrapper', frames: /_io_TextIOWrapper___init__|textiowrapper_/, ops: /^TextIOWrapper\./ },
  { gh: 150175, fixedIn: '3.13.14', area: 'unittest.mock', news: 'ThreadingMock lost increments to call_count under concurrent calls', ops: /^(Threading)?Mock\./ },
  { gh: 148735, fixedIn: '3.13.14', area: 'xml.etree.ElementTree', news: 'use-after-free in Element.findtext when the tree is mutated concurrently', frames: /_elementtree_Element_findtext|element_findtext/, ops: /^Element\.findtext/ },
  { gh: 148820, fixedIn: '3.13.14', area: 'interpreter locks', news: 'race in _PyRawMutex: a waiter could destroy its semaphore before the unlocking thread\'s wakeup completed (fatal error)', frames: /_PyRawMutex_|_PySemaphore_Wakeup|_PySemaphore_Destroy/ },
  { gh: 142831, fixedIn: '3.13.14', area: 'json', news: 'use-after-free in json when the object being encoded is modified during serialization', frames: /encoder_listencode|encoder_encode|encoder_listencode_dict|encoder_listencode_list/, ops: /^json\.|\.json_dumps$/ },
  { gh: 79366, fixedIn: '3.13.15', area: 'logging', news: 'a handler removed while a record was emitted made the following handlers of the logger be skipped', ops: /^logging\.|^Logger\./ },
  { gh: 151295, fixedIn: '3.13.15', area: 'bytes, bytearray', news: 'use-after-free in bytes.join / bytearray.join when the sequence being joined is concurrently mutated', frames: /_bytes_join|bytes_join|stringlib_bytes_join/, ops: /\.join$|^bytes\.join|^bytearray\.join/ },
  { gh: 154937, fixedIn: '3.13.15', area: 'threading', news: 'data race on thread handle identifiers when _thread._shutdown() runs while non-daemon threads start', frames: /thread_shutdown|remove_from_shutdown_handles|_thread__shutdown/ },
  { gh: 151065, fixedIn: '3.13.15', area: 'mimalloc', news: 'memory leak when using the mimalloc allocator', kinds: ['leak'] },
  { gh: 153083, fixedIn: '3.13.15', area: 'array', news: 'GC tracking of an array.array deferred to the end of its construction', frames: /array_new|newarrayobject|array_array_/, ops: /^array\./, both: true },
  { gh: 148660, fixedIn: '3.13.15', area: 'collections.OrderedDict', news: 'crash in OrderedDict.copy when the dict is mutated during the copy', frames: /odict_copy|OrderedDict_copy/, ops: /^OrderedDict\.copy/ },
];

/** What a bucket offers for matching: its C frames (and signature), and the ops of its program. */
export interface BucketFacts {
  kind: string;
  frames: string[];
  signature: string;
  ops: string[];
  /** Where the ops came from: the op the faulting thread ran, the signature, or every op of the program. */
  opsFrom?: 'fault' | 'signature' | 'program';
}

/** The functions of the faulting thread's stack in a crash bucket's stack.txt (gdb's `bt` format). */
export function faultingThreadFunctions(stackText: string): string[] {
  const lwp = /faulting thread: LWP (\d+)/.exec(stackText)?.[1];
  if (!lwp) return [];
  const blocks = stackText.split(/\n(?=Thread \d+ )/);
  const block = blocks.find((b) => new RegExp(`^Thread \\d+ \\(.*LWP ${lwp}\\)`).test(b));
  if (!block) return [];
  return [...block.matchAll(/^#\d+\s+(?:0x[0-9a-f]+ in )?([A-Za-z_][\w.]*) \(/gm)].map((m) => m[1] as string);
}

export function bucketFacts(meta: BucketMeta, reproSource: string, stackText = ''): BucketFacts {
  const ops = new Set<string>();
  const add = (text: string) => {
    for (const m of text.matchAll(/\b([A-Za-z_]\w*\.[a-z_]\w*)\b/g)) if (m[1]) ops.add(m[1]);
  };
  let opsFrom: BucketFacts['opsFrom'] = 'program';
  const programOps = () => {
    for (const m of reproSource.matchAll(/'t\d+ ([A-Za-z_]\w*\.\w+)'/g)) if (m[1]) ops.add(m[1]);
  };
  if (meta.kind === 'crash' || meta.kind === 'hang') {
    // The op the faulting thread ran, when the crash oracle could tell; else every op of the program.
    if (meta.native?.op) {
      add(meta.native.op);
      opsFrom = 'fault';
    } else programOps();
  } else if (/^(lost-write|leak)\|/.test(meta.signature)) {
    // Their signatures name the object's ops ("lost-write|phantom|array|array.append,array.pop").
    add(meta.signature);
    opsFrom = 'signature';
  } else {
    // The `_SLOTS` table names every op of a generated program ("t0 BytesIO.write").
    programOps();
  }
  // A crash is matched on its faulting thread's whole stack (the signature keeps the innermost frames,
  // where the allocator often is; the object's own function is further out).
  const frames = [...(meta.native?.frames ?? []), ...(meta.kind === 'crash' ? faultingThreadFunctions(stackText) : [])];
  return { kind: meta.kind, frames, signature: meta.signature, ops: [...ops], opsFrom };
}

/** The known bugs a bucket may be: a frame and/or an op of the bucket matches. */
export function matchKnownBugs(facts: BucketFacts, bugs: readonly KnownBug[] = [...KNOWN_BUGS, ...STILL_OPEN_UPSTREAM]): KnownBug[] {
  // Each frame by its function name ("list_resize (Objects/listobject.c:12)" -> "list_resize").
  const names = [...facts.frames.map((f) => f.split(' ')[0] ?? f), ...(/\|c:([^|]*)/.exec(facts.signature)?.[1]?.split(/ [<|] /).map((f) => f.trim()) ?? [])];
  return bugs.filter((b) => {
    if (b.kinds && !b.kinds.includes(facts.kind)) return false;
    if (!b.frames && !b.ops) return b.kinds !== undefined;
    const byFrame = b.frames !== undefined && names.some((n) => (b.frames as RegExp).test(n));
    const byOp = b.ops !== undefined && facts.ops.some((op) => (b.ops as RegExp).test(op));
    if (b.both) return byFrame && byOp;
    // A crash or hang is its C frames: an op alone does not make it a bug known by other frames, and an
    // op-only entry matches it only by the op its faulting thread ran (not by any op of the program).
    if (facts.frames.length > 0) return byFrame || (b.frames === undefined && byOp && facts.opsFrom !== 'program');
    return byOp;
  });
}
