// Which upstream issue a bucket may be. Two sources, both read from CPython itself:
//
// - The changelogs (`Misc/NEWS` of the tarballs ftfuzz built from, triage/news.ts): for every gh issue, the
//   releases that fixed it. A candidate is never a fix the bucket's own interpreter already contains, and a
//   newer release's fixes appear without a code change (a concurrency entry that names the bucket's object
//   is offered as a candidate, saying so).
// - Recognisers written by hand for the free-threading fixes of 3.13.6 … 3.13.15 a concurrency fuzzer can
//   reach (and the issues 3.13.15 still has): the C functions of the bug (whole names) and the ops that reach
//   it. They add precision the changelog text cannot: a link is a `match` only when a frame and an op both
//   agree; one of the two makes it a `candidate`, and the link says which frame or op matched. Nothing is
//   matched by a finding kind alone, or by an op the program ran somewhere else than in the faulting thread.
//
// `npm run bench -- bugs` grades against the same recognisers; the issues after 3.13.15 (3.13.16+, 3.14.x)
// are not among them on purpose: they measure what the generator reaches without being designed for it.
import type { BucketMeta } from '../store/crashStore.js';
import { compareReleases, rankFixes, seriesOfRelease, type NewsIndex } from './news.js';
import { findingKind } from '../findingKinds.js';
import { parseSignature } from '../signature.js';

export interface KnownBug {
  gh: number;
  /** The first release with the fix, as the changelog says (used when no changelog of the series is at hand). */
  fixedIn: string;
  /** The object or module at fault. */
  area: string;
  /** Upstream's description, shortened. */
  news: string;
  /** The bug's C functions, matched against whole function names of the faulting thread (or culprits). */
  frames?: RegExp;
  /** The ops that reach it, matched against the op the faulting thread ran, or the ops a signature names. */
  ops?: RegExp;
  /** Both must agree for any link at all (a C function shared with other bugs). */
  both?: boolean;
  /** Only buckets of these kinds (a crash fix is no lost write). */
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

/** Whole function names: `name` and its compiler clones, never a longer name that starts the same. */
const fn = (...names: string[]) => new RegExp(`^(${names.join('|')})$`);

/**
 * Upstream issues that 3.13.15 still has, for still-present buckets: open ones, and those fixed only in a
 * later series (not backported to 3.13). Not NEWS entries: the benchmark never counts them as fixed.
 */
export const STILL_OPEN_UPSTREAM: readonly KnownBug[] = [
  { gh: 155606, fixedIn: 'open', area: 'memoryview', news: 'slicing a shared memoryview from several threads raises "operation forbidden on released memoryview object" (the managed buffer\'s export count is incremented non-atomically)', frames: fn('memory_subscript', 'mbuf_add_view', 'memory_getbuf', 'memory_release\\w*'), ops: /^memoryview\./, kinds: ['differential', 'crash'] },
  { gh: 128942, fixedIn: '3.14', area: 'array', news: 'the array module is not free-thread safe: concurrent mutation and reads crash (made safe in the 3.14 series)', frames: fn('array_resize', 'array_array_\\w+_impl', 'array_ass_subscr', 'array_subscr', 'getarrayitem', 'newarrayobject', 'ins1', '[a-zA-Z]_(get|set)item', 'array_item', 'array_ass_item', 'array_repr', 'array_richcompare', 'array_iter\\w*', 'arrayiter_next', 'array_array_buffer_info', 'array_array_tolist_impl'), ops: /^array\./, kinds: ['crash', 'hang', 'lost-write'] },
  { gh: 129107, fixedIn: '3.14', area: 'bytearray', news: 'bytearray is not free-thread safe (made safe in the 3.14 series)', frames: fn('bytearray_\\w+', 'PyByteArray_Resize', 'bytearray_setslice_linear'), ops: /^bytearray\./, kinds: ['crash', 'hang'] },
];

export const KNOWN_BUGS: readonly KnownBug[] = [
  { gh: 91153, fixedIn: '3.13.6', area: 'bytearray', news: 'crash when a bytearray is concurrently mutated during item assignment', frames: fn('bytearray_ass_subscript', 'bytearray_setslice', 'bytearray_setslice_linear'), ops: /^bytearray\./ },
  { gh: 135878, fixedIn: '3.13.6', area: 'types.SimpleNamespace', news: 'crash when several threads call repr() of a SimpleNamespace at the same time', frames: fn('namespace_repr'), ops: /^SimpleNamespace\.(repr|str|format)$/ },
  { gh: 135607, fixedIn: '3.13.6', area: 'weakref', news: 'weakref races in an object\'s destructor', frames: fn('PyObject_ClearWeakRefs', '_PyWeakref_ClearRef', 'clear_weakref', 'clear_weakref_lock_held', 'handle_callback'), ops: /^(WeakSet|WeakValueDictionary|WeakKeyDictionary|weakref)\./ },
  { gh: 132617, fixedIn: '3.13.6', area: 'dict', news: 'dict.update raised "dict mutated during update" when a different dict sharing the keys was modified', ops: /^dict\.(update|ior)$/, kinds: ['differential'] },
  { gh: 137400, fixedIn: '3.13.7', area: 'sys / threading (profiling, tracing)', news: 'crash when disabling profiling or tracing across all threads (setprofile_all_threads, settrace_all_threads)', frames: fn('_PyEval_SetProfile', '_PyEval_SetTrace', 'PyEval_SetProfileAllThreads', 'PyEval_SetTraceAllThreads', 'setup_profile', 'setup_tracing', 'call_trace_func', 'call_profile_func', 'sys_profile_\\w+', 'sys_trace_\\w+', 'profile_trampoline', 'trace_trampoline'), ops: /(setprofile|settrace)/ },
  { gh: 137017, fixedIn: '3.13.8', area: 'threading.Thread', news: 'Thread.is_alive() was False before the OS thread was cleaned up', ops: /^Thread\.is_alive$/, kinds: ['differential'] },
  { gh: 141311, fixedIn: '3.13.10', area: 'io.BytesIO', news: 'assertion failure in BytesIO.readinto when the read position is above the capacity', frames: fn('_io_BytesIO_readinto_impl', '_io_BytesIO_readinto'), ops: /^BytesIO\.readinto$/ },
  { gh: 140551, fixedIn: '3.13.10', area: 'dict', news: 'crash in dict if dict.clear() is called at the lookup stage', frames: fn('do_lookup', 'unicodekeys_lookup_unicode', 'unicodekeys_lookup_generic', 'dictkeys_generic_lookup', '_Py_dict_lookup'), ops: /^dict\.(clear|get|contains|setitem|pop)/, both: true },
  { gh: 141141, fixedIn: '3.13.10', area: 'base64', news: 'thread safety issue in base64.b85decode', ops: /^base64\.b85decode$/ },
  { gh: 142048, fixedIn: '3.13.10', area: 'gc', news: 'quadratically increasing garbage collection delays in the free-threaded build', kinds: ['slow', 'hang'], frames: fn('gc_collect_main', '_PyGC_Collect', 'gc_visit_heaps', 'gc_visit_heaps_lock_held', 'deduce_unreachable_heap') },
  { gh: 141805, fixedIn: '3.13.12', area: 'set', news: 'crash in set when objects with the same hash are concurrently added after removing one with that hash', frames: fn('set_add_entry', 'set_discard_entry', 'set_lookkey', 'set_table_resize'), ops: /^(hash_)?set\./, kinds: ['crash', 'hang'] },
  { gh: 142495, fixedIn: '3.13.12', area: 'collections.defaultdict', news: 'race where a default value from default_factory overwrote a value set before default_factory returned', ops: /^defaultdict(_list)?\.(missing|setdefault|append_missing|inc)$/ },
  { gh: 143378, fixedIn: '3.13.12', area: 'io.BytesIO', news: 'use-after-free when a BytesIO is concurrently mutated during write() or writelines()', frames: fn('_io_BytesIO_write', '_io_BytesIO_writelines', 'write_bytes', 'write_bytes_lock_held', 'resize_buffer', 'resize_buffer_lock_held'), ops: /^BytesIO\./ },
  { gh: 143200, fixedIn: '3.13.12', area: 'xml.etree.ElementTree', news: 'use-after-free in Element __getitem__ / __setitem__ when the element is concurrently mutated', frames: fn('element_getitem', 'element_setitem', 'element_subscr', 'element_ass_subscr'), ops: /^Element\./ },
  { gh: 143638, fixedIn: '3.13.12', area: 'pickle', news: 'concurrent calls of methods of the same Pickler/Unpickler could crash or corrupt data', frames: fn('_pickle_\\w+', 'save', 'save_reduce', 'save_list', 'save_dict', 'batch_list\\w*', 'batch_dict\\w*', 'Pickler_\\w+', 'Unpickler_\\w+', 'load_build', 'load_reduce'), ops: /^Pickler\.|^pickle\.|\.pickle_dumps$/ },
  { gh: 142881, fixedIn: '3.13.12', area: 'atexit', news: 'concurrent and reentrant atexit.unregister', frames: fn('atexit_unregister', 'atexit_delete_cb', 'atexit_unregister_impl'), ops: /^atexit\./ },
  { gh: 133253, fixedIn: '3.13.12', area: 'linecache', news: 'thread-safety issues in linecache', ops: /^linecache\./ },
  { gh: 142651, fixedIn: '3.13.12', area: 'unittest.mock', news: 'Mock.call_count may be inaccurate when the mock is called concurrently', ops: /^Mock\./, kinds: ['lost-write', 'differential'] },
  { gh: 143004, fixedIn: '3.13.12', area: 'collections.Counter', news: 'use-after-free in Counter.update when the Counter is mutated during an update', frames: fn('_collections__count_elements_impl', '_collections__count_elements'), ops: /^Counter\.update$/ },
  { gh: 142560, fixedIn: '3.13.12', area: 'bytearray', news: 'use-after-free in bytearray search methods (find, count, index, ...) when the bytearray is mutated', frames: fn('bytearray_find\\w*', 'bytearray_count\\w*', 'bytearray_index\\w*', 'bytearray_rfind\\w*', 'bytearray_rindex\\w*', '_Py_bytes_find', '_Py_bytes_count', '_Py_bytes_index', 'find_internal'), ops: /^bytearray\.(find|count|index|rfind|rindex)/ },
  { gh: 143003, fixedIn: '3.13.12', area: 'bytearray', news: 'overflow of the shared empty buffer in bytearray.extend when __length_hint__() returns 0 for a non-empty iterator', frames: fn('bytearray_extend', 'bytearray_extend_impl'), ops: /^bytearray\.extend$/ },
  { gh: 143880, fixedIn: '3.13.13', area: 'functools.partial', news: 'data race in functools.partial in the free-threading build', frames: fn('partial_vectorcall', 'partial_call', 'partial_setvectorcall'), ops: /^partial\./ },
  { gh: 146613, fixedIn: '3.13.13', area: 'itertools.groupby', news: 'crash in itertools.groupby when the grouper iterator is concurrently mutated', frames: fn('groupby_next', '_grouper_next', 'groupby_step', '_grouper_create'), ops: /^groupby\./ },
  { gh: 142763, fixedIn: '3.13.13', area: 'zoneinfo', news: 'race between ZoneInfo creation and ZoneInfo.clear_cache that could raise KeyError', ops: /^ZoneInfo\.|^zoneinfo\./ },
  { gh: 143650, fixedIn: '3.13.13', area: 'importlib', news: 'a thread could receive a stale module reference when another thread\'s import fails', ops: /^import\.|^importlib\./ },
  { gh: 130555, fixedIn: '3.13.13', area: 'dict', news: 'use-after-free in dict.clear when values are embedded in an object and a destructor mutates the dict', frames: fn('clear_embedded_values', 'dict_clear', 'PyDict_Clear', 'clear_lock_held'), ops: /^(instance|slots|SimpleNamespace)\.|^dict\.clear$/, both: true },
  { gh: 143008, fixedIn: '3.13.14', area: 'io.TextIOWrapper', news: 'race conditions when re-initializing a TextIOWrapper', frames: fn('_io_TextIOWrapper___init__\\w*', 'textiowrapper_\\w+'), ops: /^TextIOWrapper\./ },
  { gh: 150175, fixedIn: '3.13.14', area: 'unittest.mock', news: 'ThreadingMock lost increments to call_count under concurrent calls', ops: /^ThreadingMock\./, kinds: ['lost-write', 'differential'] },
  { gh: 148735, fixedIn: '3.13.14', area: 'xml.etree.ElementTree', news: 'use-after-free in Element.findtext when the tree is mutated concurrently', frames: fn('_elementtree_Element_findtext_impl', '_elementtree_Element_findtext', 'element_findtext'), ops: /^Element\.findtext$/ },
  { gh: 148820, fixedIn: '3.13.14', area: 'interpreter locks', news: 'race in _PyRawMutex: a waiter could destroy its semaphore before the unlocking thread\'s wakeup completed (fatal error)', frames: fn('_PyRawMutex_\\w+', '_PySemaphore_Destroy'), kinds: ['crash'] },
  { gh: 142831, fixedIn: '3.13.14', area: 'json', news: 'use-after-free in json when the object being encoded is modified during serialization', frames: fn('encoder_listencode_obj', 'encoder_listencode_dict', 'encoder_listencode_list', 'encoder_encode', 'encoder_call'), ops: /^json\.|\.json_dumps$/ },
  { gh: 79366, fixedIn: '3.13.15', area: 'logging', news: 'a handler removed while a record was emitted made the following handlers of the logger be skipped', ops: /^(logging|Logger)\./, kinds: ['differential', 'lost-write'] },
  { gh: 151295, fixedIn: '3.13.15', area: 'bytes, bytearray', news: 'use-after-free in bytes.join / bytearray.join when the sequence being joined is concurrently mutated', frames: fn('_bytes_join', 'bytes_join', 'stringlib_bytes_join', 'bytearray_join'), ops: /^(bytes|bytearray)\.join$/ },
  { gh: 154937, fixedIn: '3.13.15', area: 'threading', news: 'data race on thread handle identifiers when _thread._shutdown() runs while non-daemon threads start', frames: fn('thread_shutdown', 'remove_from_shutdown_handles', '_thread__shutdown\\w*') },
  { gh: 153083, fixedIn: '3.13.15', area: 'array', news: 'GC tracking of an array.array deferred to the end of its construction', frames: fn('array_new', 'newarrayobject', 'array_array___reduce_ex__\\w*'), ops: /^array\./, both: true },
  { gh: 148660, fixedIn: '3.13.15', area: 'collections.OrderedDict', news: 'crash in OrderedDict.copy when the dict is mutated during the copy', frames: fn('odict_copy', 'OrderedDict_copy\\w*'), ops: /^OrderedDict\.copy$/ },
];

/** What a bucket offers for matching. */
export interface BucketFacts {
  kind: string;
  /** C function names: the signature's frames, then the faulting thread's (or culprits') whole stack. */
  frames: string[];
  signature: string;
  /** The op the faulting thread ran, or the ops the signature names; never the program's other ops. */
  ops: string[];
  /** The interpreter the bucket was found on (`3.13.15`). */
  version?: string;
  /** Names of the object or module at fault, for changelog text: the op's kind, the family's module. */
  objects?: string[];
}

/** The functions of the faulting thread's stack in a crash bucket's stack.txt (gdb's `bt` format). */
export function faultingThreadFunctions(stackText: string): string[] {
  const lwp = /faulting thread: LWP (\d+)/.exec(stackText)?.[1];
  if (!lwp) return [];
  const blocks = stackText.split(/\n(?=Thread \d+ )/);
  const block = blocks.find((b) => new RegExp(`^Thread \\d+ \\(.*LWP ${lwp}\\)`).test(b));
  if (!block) return [];
  return [...block.matchAll(/^#\d+\s+(?:0x[0-9a-f]+ in )?([A-Za-z_][\w.]*) \(/gm)].map((m) => (m[1] as string).replace(/\..*$/, ''));
}

/**
 * What a bucket offers for matching, read at its crash site only (issue "every word true"): the innermost
 * meaningful C frames its signature keeps (a crash's faulting thread, a hang's culprits, a race's two
 * accesses) and the function where the stack entered the object (its family's), never a frame further out
 * (an unrelated list crash with `_Py_dict_lookup` further out is not the dict.clear fix). The op is the
 * faulting thread's, and none for a heap corruption (whoever tripped over the damage is a victim).
 */
export function bucketFacts(meta: BucketMeta, _reproSource = '', _stackText = ''): BucketFacts {
  const ops = new Set<string>();
  const add = (text: string) => {
    for (const m of text.matchAll(/\b([A-Za-z_]\w*\.[a-z_]\w*)\b/g)) if (m[1]) ops.add(m[1]);
  };
  const heap = /\|heap:([^|]*)/.exec(meta.signature)?.[1];
  if (findingKind(meta.kind)?.stacks === 'gdb') {
    // The op the faulting thread ran, when the crash oracle could tell: never another thread's op.
    if (meta.native?.op && !heap) add(meta.native.op.replace(/ on \S+$/, ''));
  } else if (['lost-write', 'differential'].includes(findingKind(parseSignature(meta.signature).kind ?? '')?.family ?? '')) {
    // Their signatures name the ops that wrote the lost tokens, or the op an exception escaped from.
    add(parseSignature(meta.signature).parts.slice(1).join('|'));
  }
  const sigFrames = /\|c:([^|]*)/.exec(meta.signature)?.[1]?.split(/ [<|] /).map((f) => f.trim()) ?? [];
  const racePair = findingKind(meta.kind)?.stacks === 'tsan' ? (parseSignature(meta.signature).parts[1] ?? '').split(' ~ ').map((f) => f.replace(/ \[.*$/, '').trim()) : [];
  const family = meta.family?.key ?? '';
  const entry = /^crash\|[^|]+\|(\w+)$/.exec(family)?.[1];
  const hangEntries = family.startsWith('hang|') ? [...family.matchAll(/(\w+) \([^)]*\)/g)].map((m) => m[1] as string) : [];
  const frames = [...new Set([...(meta.native?.frames ?? []).map((f) => f.split(' ')[0] ?? f), ...sigFrames, ...racePair, ...(entry ? [entry] : []), ...hangEntries])].filter(Boolean);
  const objects = new Set<string>();
  const opKind = / on (\S+)$/.exec(meta.native?.op ?? '')?.[1];
  if (opKind && !heap) objects.add(opKind);
  for (const op of ops) objects.add(op.split('.')[0] as string);
  for (const k of heap?.split('+') ?? []) objects.add(k.split('.').pop() ?? k);
  const file = /\(((?:Objects|Modules|Python)\/[^()]+)\)/.exec(meta.family?.label ?? '')?.[1] ?? /^(?:crash|race\|\w+)\|((?:Objects|Modules|Python)\/[^|~ ]+)/.exec(family)?.[1];
  if (file) objects.add((file.split('/').pop() ?? file).replace(/\.c$/, '').replace(/(module|object)$/, '').replace(/^_/, ''));
  return { kind: meta.kind, frames, signature: meta.signature, ops: [...ops], version: meta.interpreter?.version, objects: [...objects] };
}

/** A link from a bucket to an upstream issue, with what it rests on. */
export interface UpstreamLink {
  bug: KnownBug;
  /**
   * `bisected`: an entry of the release that bisection found fixes the bug (triage/bisect.ts), ranked by the
   * crash site's words; `match`: a frame at the site and the op both agree; `candidate`: a frame at the site
   * (or, for a lost write or differential, the op its signature names), or the changelog's text.
   */
  strength: 'bisected' | 'match' | 'candidate';
  /** What matched: `frame groupby_next`, `op groupby.next`, `NEWS text names groupby`. */
  matched: string[];
  /** The releases that list the fix (from the changelogs when read, else the table). */
  fixedIn: string[];
  /** Where the fix stands against the bucket's interpreter, in words. */
  status: string;
}

function firstMatch(names: readonly string[], re: RegExp | undefined): string | undefined {
  return re ? names.find((n) => re.test(n)) : undefined;
}

/**
 * Whether the bucket's interpreter already has the fix: from the changelogs when they cover its series,
 * else from the table's release (same series only). True: never a candidate.
 */
function alreadyFixed(bug: KnownBug, version: string | undefined, news: NewsIndex | undefined): boolean {
  if (!version) return false;
  const fromNews = news?.contains(bug.gh, version);
  if (fromNews !== undefined && fromNews !== null) return fromNews;
  if (!/^\d+\.\d+\.\d+$/.test(bug.fixedIn)) return false;
  return seriesOfRelease(bug.fixedIn) === seriesOfRelease(version) && compareReleases(version, bug.fixedIn) >= 0;
}

function statusOf(bug: KnownBug, fixedIn: string[], version: string | undefined): string {
  if (bug.fixedIn === 'open') return 'open upstream';
  const series = version ? seriesOfRelease(version) : undefined;
  const mine = fixedIn.filter((r) => !series || seriesOfRelease(r) === series);
  if (mine.length) return `fixed in ${mine.join(' and ')}${version ? `, after ${version}` : ''}`;
  return `fixed in ${fixedIn.join(', ')} only${version ? ` (not in ${series})` : ''}`;
}

/** Names too common in changelog text to say which entry a bucket is. */
const COMMON_NAMES = new Set(['list', 'dict', 'set', 'str', 'int', 'bytes', 'tuple', 'type', 'object', 'float', 'frozenset', 'range', 'instance', 'slots', 'import', 'module', 'thread', 'lock', 'threading', 'sys', 'os', 'io', 'gc', 'mimalloc', 'pystate', 'ceval']);

/**
 * The upstream issues a bucket may be, strongest first. `news`: the changelogs (else the table's releases);
 * a fix the bucket's interpreter already has is never proposed.
 */
export function upstreamLinks(facts: BucketFacts, news?: NewsIndex, table: readonly KnownBug[] = [...KNOWN_BUGS, ...STILL_OPEN_UPSTREAM]): UpstreamLink[] {
  const links: UpstreamLink[] = [];
  // A crash, hang or race is linked by a frame at its site; its op alone is no evidence (a gh-137400 crash
  // whose faulting thread happened to run base64.b85decode is not the b85decode fix).
  const needsFrame = findingKind(facts.kind)?.stacks !== 'none';
  for (const bug of table) {
    if (bug.kinds && !bug.kinds.includes(facts.kind)) continue;
    const frame = firstMatch(facts.frames, bug.frames);
    const op = firstMatch(facts.ops, bug.ops);
    if (!frame && !op) continue;
    if (bug.both && !(frame && op)) continue;
    if (needsFrame && !frame) continue;
    if (alreadyFixed(bug, facts.version, news)) continue;
    const fixedIn = bug.fixedIn === 'open' ? [] : (news?.get(bug.gh)?.releases ?? [bug.fixedIn]);
    links.push({
      bug,
      strength: frame && op ? 'match' : 'candidate',
      matched: [...(frame ? [`frame ${frame}`] : []), ...(op ? [`op ${op}`] : [])],
      fixedIn,
      status: statusOf(bug, fixedIn, facts.version),
    });
  }
  // Changelog entries the table has no recogniser for, ranked by the site's words (news.ts rankFixes: the
  // object named and the site's function words, never an op's name alone). Text is weak evidence: always a
  // candidate, and it says what matched.
  if (news) {
    const known = new Set(table.map((b) => b.gh));
    const names = (facts.objects ?? []).filter((n) => !COMMON_NAMES.has(n.toLowerCase()));
    const fixes = news.all().filter((f) => !known.has(f.gh));
    for (const r of rankFixes(fixes, { functions: facts.frames, names })) {
      const bug: KnownBug = { gh: r.fix.gh, fixedIn: r.fix.releases[0] ?? '?', area: names[0] ?? '?', news: r.fix.text.slice(0, 160) };
      if (alreadyFixed(bug, facts.version, news)) continue;
      links.push({ bug, strength: 'candidate', matched: r.matched.map((m) => `NEWS text ${m}`), fixedIn: r.fix.releases, status: statusOf(bug, r.fix.releases, facts.version) });
    }
  }
  return links.sort(byStrength);
}

const STRENGTH_ORDER: UpstreamLink['strength'][] = ['bisected', 'match', 'candidate'];

/** Strongest first: bisected, then match, then candidate. */
export function byStrength(a: UpstreamLink, b: UpstreamLink): number {
  return STRENGTH_ORDER.indexOf(a.strength) - STRENGTH_ORDER.indexOf(b.strength);
}

/**
 * The links a bisection makes: each ranked entry of the first fixing release's NEWS, said to be bisected,
 * before (and instead of) any resemblance-based link to the same issue.
 */
export function withBisection(links: readonly UpstreamLink[], bisection: BucketMeta['bisection'], version: string | undefined): UpstreamLink[] {
  if (!bisection?.firstFixed) return [...links];
  const fixed = bisection.firstFixed;
  const bisected: UpstreamLink[] = bisection.candidates.map((c) => ({
    bug: { gh: c.gh, fixedIn: fixed, area: links.find((l) => l.bug.gh === c.gh)?.bug.area ?? '?', news: c.text },
    strength: 'bisected',
    matched: [`bisected: first fixed in ${fixed}`, ...c.matched.map((m) => `NEWS ${m}`)],
    fixedIn: [fixed],
    status: `fixed in ${fixed}${version ? `, after ${version}` : ''} (bisected)`,
  }));
  return [...bisected, ...links.filter((l) => !bisected.some((b) => b.bug.gh === l.bug.gh))].sort(byStrength);
}

/** One line per link: `gh-146613 (itertools.groupby, fixed in 3.13.13, after 3.13.5) match: frame groupby_next, op groupby.next`. */
export function formatLink(l: UpstreamLink): string {
  return `gh-${l.bug.gh} (${l.bug.area}, ${l.status}) ${l.strength}: ${l.matched.join(', ')}`;
}
