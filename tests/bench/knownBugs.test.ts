// Which upstream issue a bucket may be: each hand-written recogniser against a bucket that must match and one
// that must not, links that never propose a fix the bucket's interpreter already has, and the benchmark's
// counting (families, real bugs, a fresh --out).
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshOutDir, formatBugsReport, isRealBug, type GradedFamily } from '../../bench/bugs.js';
import { bucketFacts, faultingThreadFunctions, fixedLabel, inNews, KNOWN_BUGS, STILL_OPEN_UPSTREAM, upstreamLinks, type BucketFacts } from '../../src/triage/knownBugs.js';
import { NewsIndex, parseNews } from '../../src/triage/news.js';
import type { BucketMeta } from '../../src/store/crashStore.js';

const meta = (over: Partial<BucketMeta>): BucketMeta =>
  ({ version: 1, id: 'x', signature: 'crash|SIGSEGV|SIGSEGV|c:f', kind: 'crash', oracle: 'crash', title: 't', verdict: 'runtime-bug', modes: ['gil-off'], reproduce: 'python repro.py', firstSeen: '2026-01-01T00:00:00Z', lastSeen: '2026-01-01T00:00:00Z', hits: 1, interpreter: { version: '3.13.5' }, ...over }) as BucketMeta;

const STACK = `# C stacks (gdb, from the core file of the crashed process); faulting thread: LWP 12
Thread 2 (Thread 0x7f (LWP 11)):
#0  0x00007f in ThreadHandle_join (self=0x1) at ./Modules/_threadmodule.c:512
#1  0x00007f in _io_BytesIO_write (self=0x1) at ./Modules/_io/bytesio.c:1

Thread 1 (Thread 0x7e (LWP 12)):
#0  mi_slice_first (slice=0x1) at Include/internal/mimalloc/mimalloc/internal.h:423
#1  0x000055 in _mi_free_delayed_block (block=0x1) at Objects/mimalloc/alloc.c:616
#2  0x000055 in resize_buffer (self=0x1, size=8) at ./Modules/_io/bytesio.c:150
#3  0x000055 in _io_BytesIO_write (self=0x1, b=0x2) at ./Modules/_io/bytesio.c:700
`;

const crash = (frames: string[], op: string | null, version = '3.13.5'): BucketFacts => ({ kind: 'crash', frames, signature: `crash|SIGSEGV|SIGSEGV|c:${frames.join(' < ')}`, ops: op ? [op] : [], version });
const hang = (frames: string[], version = '3.13.5'): BucketFacts => ({ kind: 'hang', frames, signature: `hang|c:${frames.join(' < ')}`, ops: [], version });
const written = (kind: 'lost-write' | 'differential', ops: string[], version = '3.13.5'): BucketFacts => ({ kind, frames: [], signature: `${kind}|x|${ops.join(',')}`, ops, version });

/** Per recogniser: a bucket it must recognise, and a near miss it must not. */
const CASES: Record<number, { yes: BucketFacts; no: BucketFacts }> = {
  91153: { yes: crash(['bytearray_ass_subscript'], 'bytearray.setitem'), no: crash(['bytearray_ass_subscript_extra'], 'list.append') },
  135878: { yes: crash(['namespace_repr'], 'SimpleNamespace.repr'), no: crash(['namespace_reprs'], 'SimpleNamespace.setattr') },
  135607: { yes: crash(['PyObject_ClearWeakRefs'], 'WeakSet.add'), no: crash(['PyObject_ClearWeakRefsNoCallbacks'], 'list.append') },
  132617: { yes: written('differential', ['dict.update']), no: written('differential', ['dict.update_keys']) },
  137400: { yes: crash(['setup_tracing', '_PyEval_SetTrace'], 'threading.settrace_all_threads'), no: crash(['setup_tracing_extra'], 'list.append') },
  137017: { yes: written('differential', ['Thread.is_alive']), no: written('lost-write', ['Thread.is_alive']) },
  141311: { yes: crash(['_io_BytesIO_readinto_impl'], 'BytesIO.readinto'), no: crash(['_io_BytesIO_read_impl'], 'BytesIO.read') },
  140551: { yes: crash(['_Py_dict_lookup'], 'dict.clear'), no: crash(['_Py_dict_lookup_threadsafe'], 'dict.clear') },
  141141: { yes: written('differential', ['base64.b85decode']), no: written('differential', ['base64.b64decode']) },
  142048: { yes: hang(['gc_collect_main']), no: crash(['gc_collect_main'], null) },
  141805: { yes: crash(['set_add_entry'], 'hash_set.add_discard'), no: crash(['set_add_entry_extra'], 'frozenset.contains') },
  142495: { yes: written('lost-write', ['defaultdict_list.append_missing']), no: written('lost-write', ['defaultdict_list.len']) },
  143378: { yes: crash(['resize_buffer', '_io_BytesIO_write'], 'BytesIO.write'), no: crash(['resize_buffers'], 'StringIO.write') },
  143200: { yes: crash(['element_getitem'], 'Element.getitem0'), no: crash(['element_getitem_extra'], 'list.append') },
  143638: { yes: crash(['batch_list_exact'], 'dict_of_lists.pickle_dumps'), no: crash(['_Py_atomic_load_uint32_relaxed'], 'list.append') },
  142881: { yes: crash(['atexit_delete_cb', 'atexit_unregister'], 'atexit.register_unregister'), no: crash(['atexit_callfuncs'], 'list.append') },
  133253: { yes: written('differential', ['linecache.getline']), no: written('differential', ['linecache_like.getline']) },
  142651: { yes: written('lost-write', ['Mock.call']), no: written('lost-write', ['MockLike.call']) },
  143004: { yes: crash(['_collections__count_elements_impl'], 'Counter.update'), no: crash(['_collections__count_elements_extra'], 'Counter.most_common') },
  142560: { yes: crash(['bytearray_find'], 'bytearray.find'), no: crash(['bytes_find'], 'bytes.find') },
  143003: { yes: crash(['bytearray_extend'], 'bytearray.extend'), no: crash(['bytearray_extend_more'], 'list.extend') },
  143880: { yes: crash(['partial_vectorcall'], 'partial.call'), no: crash(['partial_vectorcall_fallback'], 'list.append') },
  146613: { yes: crash(['PyTuple_Pack', 'groupby_next'], 'groupby.next'), no: crash(['groupby_nexts'], 'chain.next') },
  142763: { yes: written('differential', ['ZoneInfo.clear_cache']), no: written('differential', ['timezone.utcoffset']) },
  143650: { yes: written('differential', ['importlib.import_module']), no: written('differential', ['importlibx.import_module']) },
  130555: { yes: crash(['clear_embedded_values'], 'instance.setattr'), no: crash(['clear_embedded_values'], 'list.append') },
  143008: { yes: crash(['_io_TextIOWrapper___init__'], 'TextIOWrapper.reinit'), no: crash(['_io_TextIOWrapper_write'], 'StringIO.write') },
  150175: { yes: written('lost-write', ['ThreadingMock.call']), no: written('lost-write', ['Mock.call']) },
  148735: { yes: crash(['_elementtree_Element_findtext_impl'], 'Element.findtext'), no: crash(['_elementtree_Element_find_impl'], 'Element.find') },
  148820: { yes: crash(['_PyRawMutex_UnlockSlow'], null), no: hang(['_PySemaphore_Wakeup']) },
  142831: { yes: crash(['encoder_listencode_list'], 'list.json_dumps'), no: crash(['encoder_listencode_lists'], 'list.append') },
  79366: { yes: written('differential', ['Logger.removeHandler']), no: written('differential', ['LoggerAdapter.log']) },
  151295: { yes: crash(['bytes_join'], 'bytes.join'), no: crash(['unicode_join'], 'str.join') },
  154937: { yes: crash(['thread_shutdown'], null), no: crash(['thread_shutdown_handles'], null) },
  153083: { yes: crash(['array_new'], 'array.reduce'), no: crash(['array_new'], 'list.append') },
  148660: { yes: crash(['odict_copy'], 'OrderedDict.copy'), no: crash(['odict_copy_keys'], 'OrderedDict.keys') },
  155606: { yes: crash(['memory_subscript'], 'memoryview.slice'), no: crash(['memory_subscript_extra'], 'bytes.slice') },
  128942: { yes: crash(['array_resize'], 'array.append'), no: crash(['array_resized'], 'list.append') },
  129107: { yes: crash(['bytearray_setslice'], 'bytearray.setslice'), no: crash(['bytearrays_setslice'], 'bytes.join') },
};

const gh = (links: ReturnType<typeof upstreamLinks>) => links.map((l) => l.bug.gh);

describe('upstream recognisers', () => {
  it('every entry names its issue, release and a way to be recognised that is not a kind alone', () => {
    expect(KNOWN_BUGS.length).toBeGreaterThanOrEqual(30);
    for (const b of KNOWN_BUGS) {
      expect(b.fixedIn).toMatch(/^3\.13\.(\d+)$/);
      expect(b.frames ?? b.ops, `gh-${b.gh}`).toBeDefined();
    }
    expect(new Set(KNOWN_BUGS.map((b) => b.gh)).size).toBe(KNOWN_BUGS.length);
  });

  it('each recogniser matches its bucket and not its near miss', () => {
    for (const b of [...KNOWN_BUGS, ...STILL_OPEN_UPSTREAM]) {
      const c = CASES[b.gh];
      expect(c, `gh-${b.gh} has a test case`).toBeDefined();
      if (!c) continue;
      expect(gh(upstreamLinks(c.yes, undefined, [b])), `gh-${b.gh} must match`).toEqual([b.gh]);
      expect(gh(upstreamLinks(c.no, undefined, [b])), `gh-${b.gh} must not match`).toEqual([]);
    }
  });

  it('says what matched, and is a match only when a frame and an op both agree', () => {
    const both = upstreamLinks(crash(['PyTuple_Pack', 'groupby_next'], 'groupby.next'));
    expect(both.find((l) => l.bug.gh === 146613)).toMatchObject({ strength: 'match', matched: ['frame groupby_next', 'op groupby.next'] });
    const frameOnly = upstreamLinks(crash(['groupby_next'], null));
    expect(frameOnly.find((l) => l.bug.gh === 146613)).toMatchObject({ strength: 'candidate', matched: ['frame groupby_next'] });
    const opOnly = upstreamLinks(written('lost-write', ['Mock.call']));
    expect(opOnly.find((l) => l.bug.gh === 142651)).toMatchObject({ strength: 'candidate', matched: ['op Mock.call'] });
  });

  it('never matches by a finding kind alone, nor by an op of the program the faulting thread did not run', () => {
    const leak = meta({ kind: 'leak', signature: 'leak|set.add,set.contains', native: undefined });
    expect(upstreamLinks(bucketFacts(leak))).toEqual([]);
    const h = meta({ kind: 'hang', signature: 'hang|c:dequeiter_next < deque_extend_impl', native: { frames: ['dequeiter_next (Modules/_collectionsmodule.c:1966)'], op: null } });
    // The program also ran base64.b85decode, in another thread: not this hang's op.
    expect(upstreamLinks(bucketFacts(h, "_SLOTS = {1: 't0 deque.copy', 2: 't1 base64.b85decode'}"))).toEqual([]);
  });

  it('matches frames at the crash site only, never a frame further out, and never an op alone', () => {
    expect(faultingThreadFunctions(STACK)).toEqual(['mi_slice_first', '_mi_free_delayed_block', 'resize_buffer', '_io_BytesIO_write']);
    // The faulting thread's innermost frames are the allocator's; the BytesIO functions further out say nothing.
    const c = meta({ native: { frames: ['mi_slice_first (internal.h:423)'], op: 'BytesIO.write on BytesIO' } });
    expect(gh(upstreamLinks(bucketFacts(c, '', STACK)))).toEqual([]);
    // Where the stack entered BytesIO (its family's entry) is at the site.
    const entered = meta({ native: { frames: ['resize_buffer (Modules/_io/bytesio.c:150)'], op: 'BytesIO.write on BytesIO' }, family: { key: 'crash|Modules/_io/bytesio.c|_io_BytesIO_write', label: 'crash in _io_BytesIO_write', format: 6 } });
    expect(upstreamLinks(bucketFacts(entered, '', STACK)).find((l) => l.bug.gh === 143378)).toMatchObject({ strength: 'match' });
    // An unrelated list crash with _Py_dict_lookup further out is not the dict.clear fix.
    const list = meta({ signature: 'crash|SIGSEGV|SIGSEGV|c:list_resize < list_append|op:dict.get on dict', native: { frames: ['list_resize (Objects/listobject.c:1)', 'list_append (Objects/listobject.c:2)'], op: 'dict.get on dict' } });
    expect(gh(upstreamLinks(bucketFacts(list, '', 'faulting thread: LWP 1\nThread 1 (Thread 0x1 (LWP 1)):\n#0  list_resize (x=1) at a.c:1\n#1  _Py_dict_lookup (x=1) at b.c:2\n')))).not.toContain(140551);
    // A heap corruption's op is a victim's: never linked by it.
    const heap = meta({ signature: 'crash|SIGSEGV|SIGSEGV|c:mi_block_nextx|heap:bytearray', native: { frames: ['mi_block_nextx (internal.h:640)'], op: 'base64.b85decode on base64' } });
    expect(gh(upstreamLinks(bucketFacts(heap)))).not.toContain(141141);
  });

  it('keeps array and bytearray apart from 3.13 NEWS: fixed in 3.14 only', () => {
    const array = meta({ kind: 'lost-write', signature: 'lost-write|phantom|array|array.append,array.pop' });
    const links = upstreamLinks(bucketFacts(array));
    expect(links.filter((l) => inNews(l.bug))).toEqual([]);
    expect(links.map((l) => [l.bug.gh, fixedLabel(l.bug)])).toEqual([[128942, 'fixed in 3.14 only']]);
  });
});

const NEWS = `+++++++++++
Python News
+++++++++++

What's New in Python 3.13.15 final?
===================================

Library
-------

- gh-153083: Defer GC tracking of an :class:\`array.array\` to the end of its
  construction. Patch by Donghee Na.

- gh-160001: Fix a data race in :class:\`collections.deque\` iterators when
  the deque is concurrently mutated in the free-threaded build.

What's New in Python 3.13.12 final?
===================================

Library
-------

- gh-142881: Fix concurrent and reentrant call of :func:\`atexit.unregister\`.

What's New in Python 3.13.10 final?
===================================

Core and Builtins
-----------------

- gh-137400: Fix a crash in the :term:\`free threading\` build when disabling
  profiling or tracing across all threads.

What's New in Python 3.13.7 final?
==================================

Core and Builtins
-----------------

- gh-137400: Fix a crash in the :term:\`free threading\` build when disabling
  profiling or tracing across all threads.
`;

describe('links read from the changelog', () => {
  const news = new NewsIndex(parseNews(NEWS), ['3.13.15']);

  it('parses releases, sections and entries', () => {
    expect(news.get(137400)?.releases).toEqual(['3.13.7', '3.13.10']);
    expect(news.get(160001)).toMatchObject({ releases: ['3.13.15'], section: 'Library' });
    expect(news.get(160001)?.text).toContain('collections.deque iterators');
    expect(news.contains(142881, '3.13.15')).toBe(true);
    expect(news.contains(142881, '3.13.5')).toBe(false);
    // Fixed twice: 3.13.8 has the first fix only.
    expect(news.contains(137400, '3.13.8')).toBe(false);
    expect(news.contains(999999, '3.13.15')).toBe(false);
    expect(news.contains(999999, '3.14.2')).toBeNull();
    // A fix of an earlier series' development (3.13's NEWS repeats 3.12's alphas) is in every later series.
    const older = new NewsIndex(parseNews(`What's New in Python 3.12.0 alpha 1?\n=================================\n\nLibrary\n-------\n\n- gh-96612: Make tracemalloc thread-safe.\n`), ['3.13.15']);
    expect(older.get(96612)?.releases).toEqual(['3.12.0a1']);
    expect(older.contains(96612, '3.13.5')).toBe(true);
  });

  it('never proposes a fix the bucket\'s own interpreter already contains', () => {
    const atexit = (version: string) => crash(['atexit_delete_cb'], 'atexit.register_unregister', version);
    expect(gh(upstreamLinks(atexit('3.13.5'), news))).toEqual([142881]);
    expect(gh(upstreamLinks(atexit('3.13.15'), news))).toEqual([]);
    // The same without a changelog: the table's release decides.
    expect(gh(upstreamLinks(atexit('3.13.15')))).toEqual([]);
    const array = (version: string) => crash(['array_new', 'newarrayobject'], 'array.reduce', version);
    expect(gh(upstreamLinks(array('3.13.15'), news))).not.toContain(153083);
    expect(gh(upstreamLinks(array('3.13.14'), news))).toContain(153083);
    expect(upstreamLinks(crash(['setup_tracing'], 'threading.settrace_all_threads', '3.13.8'), news)[0]).toMatchObject({ status: 'fixed in 3.13.7 and 3.13.10, after 3.13.8' });
  });

  it('offers a newer release\'s fix without a code change, as a candidate that says why', () => {
    const facts = { ...hang(['dequeiter_next'], '3.13.5'), objects: ['deque'] };
    const links = upstreamLinks(facts, news);
    expect(links.map((l) => [l.bug.gh, l.strength, l.matched])).toEqual([[160001, 'candidate', ['NEWS text names deque', 'NEWS text concurrency']]]);
    expect(upstreamLinks({ ...facts, version: '3.13.15' }, news)).toEqual([]);
  });
});

describe('the benchmark counts bugs', () => {
  it('refuses a non-empty --out', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ftfuzz-out-'));
    await expect(freshOutDir(path.join(dir, 'new'))).resolves.toBeUndefined();
    mkdirSync(path.join(dir, 'used'));
    writeFileSync(path.join(dir, 'used', 'bugs.json'), '{}');
    await expect(freshOutDir(path.join(dir, 'used'))).rejects.toThrow(/is not empty/);
  });

  it('never counts an unknown verdict or an inconclusive grade as a real bug', () => {
    const g = (over: Partial<GradedFamily>): GradedFamily => ({
      id: 'fam-1', key: 'k', label: 'l', kind: 'crash', verdict: 'runtime-bug', buckets: ['b'], graded: 'b', firstFoundMs: 60_000, recorded: { hits: 5, trials: 10 },
      old: { hits: 6, trials: 12 }, new: { hits: 0, trials: 12 }, p: 0.01, grade: 'fixed-between', why: '', upstream: [], inTable: false, fromSurface: false, ...over,
    });
    expect(isRealBug(g({}))).toBe(true);
    expect(isRealBug(g({ verdict: 'unknown' }))).toBe(false);
    expect(isRealBug(g({ grade: 'inconclusive' }))).toBe(false);
    const report = formatBugsReport({
      stats: { programs: 10, executions: 20, elapsedMs: 1_800_000, byExecutor: {}, yield: { byShape: {} } } as never,
      families: [g({}), g({ id: 'fam-2', verdict: 'unknown', grade: 'still-present' }), g({ id: 'fam-3', grade: 'still-present', inTable: true, fromSurface: true })], old: '3.13.5t', new: '3.13.15t', jobs: 2,
    });
    expect(report.join('\n')).toMatch(/real bugs \(runtime-bug families graded on both releases\): 2/);
    expect(report.join('\n')).toMatch(/fixed-between: 1 \(in the table 0, outside it 1\)/);
    expect(report.join('\n')).toMatch(/unknown verdict 1/);
    expect(report.join('\n')).toMatch(/found by surface programs: 1 \(outside the table 0\)/);
    expect(report.join('\n')).toMatch(/fam-3[\s\S]*from surface programs/);
  });
});
