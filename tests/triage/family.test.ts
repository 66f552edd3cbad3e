// Families: one suspected bug each, whatever op reached it, whichever function faulted first, whichever
// class the hang samples showed; and never two bugs in one (differentials by object kind, op and exception).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { entrySite, factsOf, familyBase, familyOf, implementationSite, moduleOfFile, type FamilyFacts } from '../../src/trials/family.js';
import { parseTsanReports } from '../../src/oracles/raceOracle.js';
import type { NativeFrame, NativeThread } from '../../src/types.js';

/** `func@file` (innermost first); the eval loop and a thread start close every stack. */
const stack = (...frames: string[]): NativeFrame[] => [
  ...frames.map((f) => {
    const [func, file] = f.split('@');
    return { func: func as string, file: file ?? null, line: 1, lib: null };
  }),
  { func: '_PyEval_EvalFrameDefault', file: 'Python/generated_cases.c.h', line: 1, lib: null },
  { func: 'thread_run', file: 'Modules/_threadmodule.c', line: 1, lib: null },
];
const crash = (frames: NativeFrame[], op: string | null = null): FamilyFacts => ({ kind: 'crash', signature: 'crash|SIGSEGV|SIGSEGV|c:x', faultingFrames: frames, op });

describe('crash families', () => {
  it('are where the stack entered the object\'s code, whatever op the thread ran: gh-137400\'s entries', () => {
    const tracing = [
      stack('setup_tracing@Python/legacy_tracing.c', '_PyEval_SetTrace@Python/legacy_tracing.c', 'PyEval_SetTraceAllThreads@Python/ceval.c', 'sys__settraceallthreads@Python/sysmodule.c'),
      stack('_PyEval_SetTrace@Python/legacy_tracing.c', 'PyEval_SetTraceAllThreads@Python/ceval.c', 'sys__settraceallthreads@Python/sysmodule.c'),
      stack('setup_profile@Python/legacy_tracing.c', '_PyEval_SetProfile@Python/legacy_tracing.c'),
      stack('_PyEval_SetProfile@Python/legacy_tracing.c', 'PyEval_SetProfileAllThreads@Python/ceval.c'),
      stack('call_trace_func@Python/legacy_tracing.c', 'sys_trace_start@Python/legacy_tracing.c', '_PyObject_VectorcallTstate@Include/internal/pycore_call.h', 'call_one_instrument@Python/instrumentation.c', 'call_instrumentation_vector@Python/instrumentation.c'),
      stack('call_profile_func@Python/legacy_tracing.c', 'sys_profile_start@Python/legacy_tracing.c', 'call_instrumentation_vector@Python/instrumentation.c'),
    ];
    const keys = tracing.map((s, i) => familyOf(crash(s, i % 2 ? 'list.append on list' : 'dict.get on dict')).key);
    expect(keys).toEqual([
      'crash|Python/legacy_tracing.c|_PyEval_SetTrace', 'crash|Python/legacy_tracing.c|_PyEval_SetTrace',
      'crash|Python/legacy_tracing.c|_PyEval_SetProfile', 'crash|Python/legacy_tracing.c|_PyEval_SetProfile',
      'crash|Python/legacy_tracing.c|sys_trace_start', 'crash|Python/legacy_tracing.c|sys_profile_start',
    ]);
    expect(familyOf(crash(tracing[0] as NativeFrame[])).rule).toBe('entry');
  });

  it('a fault in the tracing machinery of a program that sets tracing for all threads is one family, whatever faulted', () => {
    const sites = [
      stack('setup_tracing@Python/legacy_tracing.c', '_PyEval_SetTrace@Python/legacy_tracing.c', 'PyEval_SetTraceAllThreads@Python/ceval.c'),
      stack('call_trace_func@Python/legacy_tracing.c', 'sys_trace_start@Python/legacy_tracing.c', 'call_instrumentation_vector@Python/instrumentation.c'),
      stack('call_profile_func@Python/legacy_tracing.c', 'sys_profile_return@Python/legacy_tracing.c'),
      stack('_Py_call_instrumentation_line@Python/instrumentation.c'),
    ];
    const objects = { o0: { kind: 'hooks', ops: ['settrace_all', 'setprofile_all'] }, o1: { kind: 'list', ops: ['clear', 'append'] } };
    const families = sites.map((s, i) => familyOf({ ...crash(s, i % 2 ? 'list.clear on list' : 'hooks.settrace_all on hooks'), objects }));
    expect(new Set(families.map((f) => f.key))).toEqual(new Set(['crash|tracing|set for all threads']));
    expect(families[1]?.rule).toBe('tracing');
    expect(families[1]?.label).toContain('call_trace_func');
    // Without a thread that switches tracing, the site is the family; a list crash beside the setters is the list's.
    expect(familyOf({ ...crash(sites[1] as NativeFrame[]), objects: { o1: { kind: 'list', ops: ['clear'] } } }).key).toBe('crash|Python/legacy_tracing.c|sys_trace_start');
    expect(familyOf({ ...crash(stack('list_clear_impl@Objects/listobject.c'), 'list.clear on list'), objects }).key).toBe('crash|Objects/listobject.c|list_clear_impl');
  });

  it('a crash that also shows with the GIL on is not the free-threading crash at the same site', () => {
    const frames = stack('_odict_find_node_hash@Objects/odictobject.c', 'OrderedDict_popitem_impl@Objects/odictobject.c', 'OrderedDict_popitem@Objects/clinic/odictobject.c.h');
    const meta = (modes: string[]) => ({ kind: 'crash' as const, signature: 'crash|SIGSEGV|SIGSEGV|c:x', native: { frames: [], op: 'OrderedDict.popitem on OrderedDict' } as never, modes });
    const off = familyOf({ ...factsOf(meta(['gil-off']), {}), faultingFrames: frames });
    const on = familyOf({ ...factsOf(meta(['gil-off', 'gil-on']), {}), faultingFrames: frames });
    expect(off.key).toBe('crash|Objects/odictobject.c|OrderedDict_popitem');
    expect(on.key).toBe('crash|Objects/odictobject.c|OrderedDict_popitem|with the GIL');
    expect(familyBase(on.key)).toBe(off.key);
  });

  it('a service\'s static helpers under its API function belong to the caller (a stale expat message formatted by _elementtree)', () => {
    const frames = stack('unicode_fromformat_write_cstr@Objects/unicodeobject.c', 'unicode_fromformat_arg@Objects/unicodeobject.c', 'PyUnicode_FromFormatV@Objects/unicodeobject.c', 'PyUnicode_FromFormat@Objects/unicodeobject.c',
      'expat_set_error@Modules/_elementtree.c', 'expat_parse@Modules/_elementtree.c', '_elementtree_XMLParser_close_impl@Modules/_elementtree.c', '_elementtree_XMLParser_close@Modules/clinic/_elementtree.c.h', 'method_vectorcall_NOARGS@Objects/descrobject.c');
    expect(familyOf(crash(frames)).key).toBe('crash|Modules/_elementtree.c|_elementtree_XMLParser_close');
    // The same helpers reached from the interpreter's dispatch are the object's own code.
    expect(familyOf(crash(stack('list_repr_impl@Objects/listobject.c', 'list_repr@Objects/listobject.c', 'PyObject_Repr@Objects/object.c'))).key).toBe('crash|Objects/listobject.c|list_repr');
  });

  it('separate fixes in one file are separate families: bytearray\'s search, extend and item assignment', () => {
    const keys = new Set([
      stack('bytearray_find_internal@Objects/bytearrayobject.c', 'bytearray_find@Objects/clinic/bytearrayobject.c.h', 'method_vectorcall_FASTCALL@Objects/descrobject.c'),
      stack('bytearray_extend@Objects/bytearrayobject.c', 'method_vectorcall_O@Objects/descrobject.c'),
      stack('memcpy@x', 'bytearray_setslice_linear@Objects/bytearrayobject.c', 'bytearray_setslice@Objects/bytearrayobject.c', 'bytearray_ass_subscript@Objects/bytearrayobject.c', 'PyObject_SetItem@Objects/abstract.c'),
    ].map((s) => familyOf(crash(s)).key));
    expect([...keys].sort()).toEqual(['crash|Objects/bytearrayobject.c|bytearray_ass_subscript', 'crash|Objects/bytearrayobject.c|bytearray_extend', 'crash|Objects/bytearrayobject.c|bytearray_find']);
  });

  it('groupby: groupby_next, _grouper_create and PyTuple_Pack < groupby_next all enter at groupby_next', () => {
    const keys = new Set([
      stack('groupby_next@Modules/itertoolsmodule.c', 'builtin_next@Python/bltinmodule.c'),
      stack('_grouper_create@Modules/itertoolsmodule.c', 'groupby_next@Modules/itertoolsmodule.c'),
      stack('PyTuple_Pack@Objects/tupleobject.c', 'groupby_next@Modules/itertoolsmodule.c', 'builtin_next@Python/bltinmodule.c'),
      stack('groupby_step@Modules/itertoolsmodule.c', 'groupby_next@Modules/itertoolsmodule.c'),
    ].map((s) => familyOf(crash(s)).key));
    expect([...keys]).toEqual(['crash|Modules/itertoolsmodule.c|groupby_next']);
    expect(familyOf(crash(stack('groupby_next@Modules/itertoolsmodule.c'), 'groupby.next on groupby')).label).toBe('crash in groupby_next (Modules/itertoolsmodule.c) on groupby');
  });

  it('skips dispatch, refcount helpers and allocators on the way to the implementation', () => {
    // atexit: do_richcompare (object.c) is the dispatch the module called.
    expect(implementationSite(stack('do_richcompare@Objects/object.c', 'PyObject_RichCompare@Objects/object.c', 'atexit_unregister@Modules/atexitmodule.c'))?.file).toBe('Modules/atexitmodule.c');
    // A freed block walked by mimalloc under array.tolist: the array's code asked for it.
    expect(implementationSite(stack('mi_block_nextx@Include/internal/mimalloc/mimalloc/internal.h', '_mi_page_malloc@Objects/mimalloc/alloc.c', 'PyList_New@Objects/listobject.c', 'array_array_tolist_impl@Modules/arraymodule.c'))?.file).toBe('Modules/arraymodule.c');
    // ... unless the list's own code is all there is before Python code.
    expect(implementationSite(stack('_mi_page_malloc@Objects/mimalloc/alloc.c', 'list_resize@Objects/listobject.c', '_PyList_AppendTakeRef@Objects/listobject.c', 'list_append@Objects/listobject.c'))?.file).toBe('Objects/listobject.c');
    // Argument Clinic's wrappers are their file's, and the entry of a clinic method is its wrapper.
    expect(implementationSite(stack('list_sort@Objects/clinic/listobject.c.h'))?.file).toBe('Objects/listobject.c');
    expect(entrySite(stack('list_sort_impl@Objects/listobject.c', 'list_sort@Objects/clinic/listobject.c.h'))?.func).toBe('list_sort');
    // A use after free inside an inline refcount helper is its caller's.
    expect(entrySite(stack('_Py_atomic_load_uint32_relaxed@Include/cpython/pyatomic_gcc.h', 'Py_INCREF@Include/refcount.h', 'element_getitem@Modules/_elementtree.c', 'element_subscr@Modules/_elementtree.c', 'PyObject_GetItem@Objects/abstract.c'))?.func).toBe('element_subscr');
    // A static function gdb names with the line of a header inlined into it: the header is not the site.
    expect(implementationSite(stack('do_richcompare@Include/object.h', 'PyObject_RichCompare@Objects/object.c', 'PyObject_RichCompareBool@Objects/object.c', 'atexit_unregister@Modules/atexitmodule.c'))?.file).toBe('Modules/atexitmodule.c');
    // The signal plumbing of a crash is never the site.
    const faulted: NativeFrame[] = [{ func: '__pthread_kill_implementation', file: null, line: 0, lib: '/lib/x86_64-linux-gnu/libc.so.6' }, { func: '<signal handler called>', file: null, line: 0, lib: null }, ...stack('list_resize@Objects/listobject.c', '_PyList_AppendTakeRef@Objects/listobject.c')];
    expect(implementationSite(faulted)?.file).toBe('Objects/listobject.c');
    // The tracemalloc crashes: a thread primitive called by tracemalloc is tracemalloc's.
    expect(familyOf(crash(stack('PyThread_tss_get@Python/thread_pthread.h', 'get_reentrant@Python/tracemalloc.c', 'tracemalloc_alloc_gil@Python/tracemalloc.c'))).key).toBe('crash|Python/tracemalloc.c|tracemalloc_alloc_gil');
  });

  it('files a heap corruption under the kinds the program shared and mutated, never the op a victim thread ran', () => {
    const heapFault = stack('mi_block_nextx@Include/internal/mimalloc/mimalloc/internal.h', '_mi_page_malloc@Objects/mimalloc/alloc.c', 'PyUnicode_New@Objects/unicodeobject.c', 'unicode_repr@Objects/unicodeobject.c');
    const objects = { o0: { kind: 'bytearray', ops: ['bytearray.extend', 'bytearray.find'] }, o1: { kind: 'deque', ops: ['deque.copy'] } };
    // The faulting thread ran deque.copy (a read): the heap is the bytearray's doing.
    const f = familyOf({ ...crash(heapFault, 'deque.copy on deque'), objects });
    expect(f.key).toBe('heap|bytearray');
    expect(f.rule).toBe('heap');
    expect(f.label).toMatch(/heap corruption .* by a shared bytearray via bytearray.extend/);
    // The same damage found by a thread tearing down, or by a hang in the allocator: the same family.
    const teardown = stack('PyThreadState_Clear@Python/pystate.c', 'thread_run@Modules/_threadmodule.c');
    expect(familyOf({ ...crash(teardown), objects }).key).toBe('heap|bytearray');
    const spin = thread(2, '_mi_page_free_collect@Include/internal/mimalloc/mimalloc/internal.h', 'mi_heap_page_collect@Objects/mimalloc/heap.c', '_PyThreadState_ClearMimallocHeaps@Python/pystate.c', 'PyThreadState_Clear@Python/pystate.c');
    expect(familyOf({ kind: 'hang', signature: 'hang|c:_mi_page_free_collect|heap:bytearray+deque', hangThreads: [spin], objects }).key).toBe('heap|bytearray');
    // A surface program's one shared type.
    expect(familyOf({ ...crash(heapFault), objects: { o0: { kind: 'collections.deque', ops: ['copy', 'append'] } } }).key).toBe('heap|deque');
    // One name per type, whichever generator shared it: a surface program's _io.BytesIO is the op table's BytesIO.
    expect(familyOf({ ...crash(heapFault), objects: { o0: { kind: '_io.BytesIO', ops: ['write', '__setstate__'] } } }).key)
      .toBe(familyOf({ ...crash(heapFault), objects: { o0: { kind: 'BytesIO', ops: ['BytesIO.write'] } } }).key);
    // Another thread caught inside the bytearray's code when it faulted: the bytearray, not every mutated kind.
    const two = { o0: { kind: 'bytearray', ops: ['bytearray.extend'] }, o1: { kind: 'list', ops: ['list.append'] } };
    expect(familyOf({ ...crash(heapFault), objects: two }).key).toBe('heap|bytearray+list');
    const writer: NativeThread = { lwp: 9, name: null, frames: stack('bytearray_setslice_linear@Objects/bytearrayobject.c', 'bytearray_ass_subscript@Objects/bytearrayobject.c') };
    expect(familyOf({ ...crash(heapFault), objects: two, otherThreads: [writer] }).key).toBe('heap|bytearray');
    // A class written in Python beside a C-implemented kind: the C kind (a Queue writes to the heap only through its deque).
    const withQueue = { o0: { kind: 'array', ops: ['array.extend'] }, o1: { kind: 'Queue', ops: ['Queue.put'] } };
    expect(familyOf({ ...crash(heapFault), objects: withQueue }).key).toBe('heap|array');
    // Python-implemented kinds alone stay what they are.
    expect(familyOf({ ...crash(heapFault), objects: { o1: { kind: 'Queue', ops: ['Queue.put'] } } }).key).toBe('heap|Queue');
    // A fault in a runtime service no shared object runs (tracemalloc's lock), in a program sharing a mutated
    // C object: the heap under it was damaged.
    const inTracemalloc = stack('PyThread_acquire_lock_timed@Python/thread_pthread.h', 'tracemalloc_realloc@Python/tracemalloc.c', 'tracemalloc_realloc_gil@Python/tracemalloc.c', 'PyMem_Realloc@Objects/obmalloc.c', 'resize_buffer@Modules/_io/bytesio.c');
    const bytesio = { o0: { kind: 'BytesIO', ops: ['BytesIO.write', 'BytesIO.truncate'] } };
    const victim = familyOf({ ...crash(inTracemalloc), objects: bytesio });
    expect(victim.key).toBe('heap|BytesIO');
    expect(victim.label).toMatch(/a fault in tracemalloc_realloc_gil \(Python\/tracemalloc.c\), runtime code no shared object runs/);
    // ... but with only Python-implemented kinds shared, tracemalloc's own crash stays where it entered.
    expect(familyOf({ ...crash(inTracemalloc), objects: { o0: { kind: 'Queue', ops: ['Queue.put'] } } }).key).toBe('crash|Python/tracemalloc.c|tracemalloc_realloc_gil');
    // Nothing shared known (a hand-written program): where the allocating code was entered.
    expect(familyOf(crash(heapFault)).key).toBe('crash|Objects/unicodeobject.c|unicode_repr');
  });

  it('enters where the op\'s kind code was entered, even when gdb names it with an inlined header\'s line', () => {
    // array.repr: list_repr_impl faulted, called from array_repr (named with Include/object.h's line).
    const repr = stack('Py_INCREF@Include/object.h', 'list_repr_impl@Objects/listobject.c', 'list_repr@Objects/listobject.c', 'PyObject_Repr@Objects/object.c', 'unicode_fromformat_arg@Objects/unicodeobject.c', 'PyUnicode_FromFormat@Objects/unicodeobject.c', 'array_repr@Include/object.h', 'PyObject_Repr@Objects/object.c');
    expect(familyOf(crash(repr, 'array.repr on array')).key).toBe('crash|Modules/arraymodule.c|array_repr');
    // ... and in a shared build, the frame is the extension library's.
    const shared = repr.map((fr) => (fr.func === 'array_repr' ? { ...fr, lib: '/p/lib/python3.13t/lib-dynload/array.cpython-313t-x86_64-linux-gnu.so' } : fr));
    expect(familyOf(crash(shared, 'array.repr on array')).key).toBe('crash|Modules/arraymodule.c|array_repr');
    // Without the op, where the stack says.
    expect(familyOf(crash(repr)).key).toBe('crash|Objects/listobject.c|list_repr');
    // A surface program's op names no kind (`thread_N: obj.__repr__()`): its one shared type does.
    expect(familyOf({ ...crash(shared, 'thread_N: obj.__repr__()'), objects: { o0: { kind: 'array.ArrayType', ops: ['__repr__', 'pop'] } } }).key).toBe('crash|Modules/arraymodule.c|array_repr');
    // A free that faulted in a key function's Python code, run by groupby_step: groupby's.
    const free = [
      { func: 'mi_free', file: 'Objects/mimalloc/alloc.c', line: 576, lib: null },
      { func: 'Py_DECREF', file: 'Include/object.h', line: 1, lib: null },
      { func: '_PyEval_EvalFrameDefault', file: 'Python/generated_cases.c.h', line: 1, lib: null },
      ...stack('PyObject_CallOneArg@Objects/call.c', 'groupby_step@Modules/itertoolsmodule.c', 'groupby_next@Modules/itertoolsmodule.c', 'builtin_next@Python/bltinmodule.c'),
    ];
    expect(familyOf(crash(free, 'groupby.next on groupby')).key).toBe('crash|Modules/itertoolsmodule.c|groupby_next');
  });

  it('keeps different objects apart', () => {
    const list = familyOf(crash(stack('list_resize@Objects/listobject.c')));
    const dict = familyOf(crash(stack('insertdict@Objects/dictobject.c')));
    const deque = familyOf(crash(stack('deque_append@Modules/_collectionsmodule.c')));
    expect(new Set([list.key, dict.key, deque.key]).size).toBe(3);
    expect(moduleOfFile('Modules/_collectionsmodule.c')).toBe('_collections');
  });

  it('takes the signature\'s own frames when the stored evidence is another run\'s crash', () => {
    const meta = { kind: 'crash' as const, signature: 'crash|SIGSEGV|SIGSEGV|c:atexit_delete_cb < atexit_unregister|op:atexit.x on atexit', native: { frames: ['atexit_delete_cb (Modules/atexitmodule.c:62)', 'atexit_unregister (Modules/atexitmodule.c:295)'], op: 'atexit.x on atexit' } };
    const other = { termination: { kind: 'signal' as const, signal: 'SIGSEGV' }, modeRequested: 'gil-off' as const, programPath: '/p.py', stderrTail: '', native: { source: 'core' as const, faultingLwp: 1, signal: 11, clkTck: 100, raw: '', samples: [{ threads: [{ lwp: 1, name: null, frames: stack('list_resize@Objects/listobject.c') }], ticks: {}, python: {}, at: null }] } };
    expect(familyOf(factsOf(meta, { evidence: other })).key).toBe('crash|Modules/atexitmodule.c|atexit_unregister');
  });

  it('without C frames: the object the thread operated on', () => {
    const f = familyOf({ kind: 'crash', signature: 'crash|SIGSEGV|SIGSEGV|py:worker < <program>|op:deque.pop on deque', op: 'deque.pop on deque' });
    expect(f.key).toBe('crash|py|SIGSEGV|deque');
    expect(f.rule).toBe('no-stack');
  });
});

const thread = (lwp: number, ...frames: string[]): NativeThread => ({ lwp, name: null, frames: stack(...frames) });

describe('hang families', () => {
  it('are the same whether the samples called it a deadlock or a spin', () => {
    const waiting = thread(2, 'take_gil@Python/ceval_gil.c', 'PyEval_RestoreThread@Python/ceval_gil.c', 'ThreadHandle_join@Modules/_threadmodule.c');
    const selfWait = thread(3, '_PyMutex_LockSlow@Python/lock.c', '_PyCriticalSection_BeginSlow@Python/critical_section.c', 'deque_copy@Modules/_collectionsmodule.c');
    const spinning = thread(3, '_Py_yield@Python/lock.c', '_PyMutex_LockTimed@Python/lock.c', '_PyMutex_LockSlow@Python/lock.c', 'deque_copy@Modules/_collectionsmodule.c');
    const deadlock = familyOf({ kind: 'hang', signature: 'hang|c:deque_copy', hangThreads: [waiting, selfWait] });
    const spin = familyOf({ kind: 'hang', signature: 'hang|c:deque_copy < x', hangThreads: [waiting, spinning] });
    expect(deadlock.key).toBe('hang|deque_copy (Modules/_collectionsmodule.c)');
    expect(spin.key).toBe(deadlock.key);
  });

  it('a lock retry loop under tracemalloc is tracemalloc\'s', () => {
    const spin = thread(2, 'py_get_monotonic_clock@Python/pytime.c', 'PyTime_MonotonicRaw@Python/pytime.c', 'PyThread_acquire_lock_timed@Python/thread_pthread.h', 'tracemalloc_free@Python/tracemalloc.c', 'dict_repr@Objects/dictobject.c');
    expect(familyOf({ kind: 'hang', signature: 'hang|c:py_get_monotonic_clock', hangThreads: [spin] }).key).toBe('hang|tracemalloc_free (Python/tracemalloc.c)');
  });

  it('a heap walk spinning at thread exit is the shared objects\' heap corruption, never mimalloc\'s', () => {
    const walk = (lwp: number, inner: string) => thread(lwp, inner, 'mi_heap_page_collect@Objects/mimalloc/heap.c', 'mi_heap_collect_ex@Objects/mimalloc/heap.c', '_PyThreadState_ClearMimallocHeaps@Python/pystate.c', 'PyThreadState_Clear@Python/pystate.c', 'thread_run@Modules/_threadmodule.c');
    const objects = { o0: { kind: 'array', ops: ['array.append', 'array.tolist'] } };
    const a = familyOf({ kind: 'hang', signature: 'hang|c:_mi_page_free_collect|heap:array', hangThreads: [walk(2, '_mi_page_free_collect@Include/internal/mimalloc/mimalloc/internal.h')], objects });
    const b = familyOf({ kind: 'hang', signature: 'hang|c:mi_slice_first|heap:array', hangThreads: [walk(3, 'mi_slice_first@Include/internal/mimalloc/mimalloc/internal.h')], objects });
    expect(a.key).toBe('heap|array');
    expect(b.key).toBe(a.key);
    expect(a.key).not.toMatch(/mimalloc/);
  });
});

describe('race families', () => {
  it('fold the pair by source file: every Element method racing on its children is one family', () => {
    const report = (a: string, b: string) => `WARNING: ThreadSanitizer: data race (pid=1)
  Write of size 8 at 0x1 by thread T1:
    #0 ${a} /b/Modules/_elementtree.c:10:1 (python3.13t+0x1)

  Previous read of size 8 at 0x1 by thread T2:
    #0 ${b} /b/Modules/_elementtree.c:20:1 (python3.13t+0x2)

SUMMARY: ThreadSanitizer: data race
`;
    const fam = (a: string, b: string) => {
      const r = parseTsanReports(report(a, b))[0];
      return familyOf({ kind: 'race', signature: `race|data race|${a} ~ ${b}`, tsanStacks: r?.stacks }).key;
    };
    const keys = new Set([fam('element_add_subelement', 'elementiter_next'), fam('element_resize', 'element_getitem'), fam('element_setitem', 'element_length')]);
    expect([...keys]).toEqual(['race|race|Modules/_elementtree.c']);
  });

  it('reads the stacks of the real reports (array, mimalloc, freed block)', () => {
    const reports = parseTsanReports(readFileSync('tests/fixtures/tsan/stdlib_races.txt', 'utf8'));
    expect(familyOf({ kind: 'race', signature: 'race|data race|array_resize ~ ins1', tsanStacks: reports[0]?.stacks }).key).toBe('race|race|Modules/arraymodule.c');
    // A use after free on the ordered dict and its data races are one family: the object's code.
    expect(familyOf({ kind: 'race', signature: 'race|freed-block|odictiter_new', tsanStacks: reports[3]?.stacks }).key).toBe('race|race|Objects/odictobject.c');
  });

  it('files a race between an object and a runtime service (allocator, brc, tracemalloc) under the object', () => {
    const report = (a: string, fileA: string, b: string, fileB: string) => `WARNING: ThreadSanitizer: data race (pid=1)
  Write of size 8 at 0x1 by thread T1:
    #0 ${a} /b/${fileA}:10:1 (python3.13t+0x1)

  Previous read of size 8 at 0x1 by thread T2:
    #0 ${b} /b/${fileB}:20:1 (python3.13t+0x2)

SUMMARY: ThreadSanitizer: data race
`;
    const fam = (a: string, fileA: string, b: string, fileB: string) =>
      familyOf({ kind: 'race', signature: `race|data race|${a} ~ ${b}`, tsanStacks: parseTsanReports(report(a, fileA, b, fileB))[0]?.stacks }).key;
    expect(fam('PyByteArray_Resize', 'Objects/bytearrayobject.c', 'mi_block_nextx', 'Include/internal/mimalloc/mimalloc/internal.h')).toBe('race|race|Objects/bytearrayobject.c');
    expect(fam('PyByteArray_Resize', 'Objects/bytearrayobject.c', 'bytearray_find', 'Objects/bytearrayobject.c')).toBe('race|race|Objects/bytearrayobject.c');
    expect(fam('array_resize', 'Modules/arraymodule.c', 'tracemalloc_realloc', 'Python/tracemalloc.c')).toBe('race|race|Modules/arraymodule.c');
    // A module's C code against a core object's: the module's (json's encoder reading a list another thread
    // resizes skips the list's critical section); two core objects' own code: both stay.
    expect(fam('encoder_listencode_list', 'Modules/_json.c', 'list_resize', 'Objects/listobject.c')).toBe('race|race|Modules/_json.c');
    expect(fam('PyBuffer_ToContiguous', 'Objects/memoryobject.c', 'PyByteArray_Resize', 'Objects/bytearrayobject.c')).toBe('race|race|Objects/bytearrayobject.c ~ Objects/memoryobject.c');
    // A block being initialised (a constructor, a string resized in place): the reader of its previous occupant is the suspect.
    expect(fam('func_get_qualname', 'Objects/funcobject.c', 'resize_compact', 'Objects/unicodeobject.c')).toBe('race|race|Objects/funcobject.c');
    expect(fam('_PyLong_FromMedium', 'Objects/longobject.c', 'save', 'Modules/_pickle.c')).toBe('race|race|Modules/_pickle.c');
    // Services only: they stay too.
    expect(fam('mi_block_nextx', 'Include/internal/mimalloc/mimalloc/internal.h', '_mi_page_free_collect', 'Objects/mimalloc/page.c')).toBe('race|race|Include/internal/mimalloc/mimalloc/internal.h ~ Objects/mimalloc/page.c');
  });
});

describe('written-result families', () => {
  it('a differential is its object kind, op and exception type, never a variable index or a catch-all', () => {
    const a = familyOf({ kind: 'differential', signature: 'differential|unexpected|deque.pop|TypeError|prediction' });
    const b = familyOf({ kind: 'differential', signature: 'differential|unexpected|list.pop|TypeError|prediction' });
    const c = familyOf({ kind: 'differential', signature: 'differential|unexpected|deque.pop|TypeError|cross-run' });
    expect(a.key).not.toBe(b.key);
    expect(a.key).toBe(c.key);
    expect(a.label).toBe('unexpected TypeError from deque.pop');
    expect(a.rule).toBe('op-exception');
    // Another op or another exception type is another family: only a bisected fix joins them.
    const mv = (op: string, exc: string) => familyOf({ kind: 'differential', signature: `differential|unexpected|memoryview.${op}|${exc}|prediction` }).key;
    expect(mv('tobytes', 'ValueError')).not.toBe(mv('len', 'ValueError'));
    const b85 = (exc: string) => familyOf({ kind: 'differential', signature: `differential|unexpected|base64.b85decode|${exc}|prediction` }).key;
    expect(b85('TypeError')).not.toBe(b85('ValueError'));
    // A wrong read is another symptom than an exception.
    expect(familyOf({ kind: 'differential', signature: 'differential|pure_mismatch|base64.b85decode|result|prediction' }).key).not.toBe(b85('TypeError'));
    const len = (kind: string) => familyOf({ kind: 'differential', signature: `differential|${kind}.len_consistent|${kind}|${kind}.append|prediction` }).key;
    expect(len('deque')).not.toBe(len('list'));
  });

  it('an older catch-all bucket gets its observable\'s object kind from the program', () => {
    const f = familyOf({ kind: 'differential', signature: 'differential|o0.len_consistent|prediction|3.13.5t/gil-off', objects: { o0: { kind: 'deque', ops: ['deque.append'] } } });
    expect(f.key).toBe('differential|legacy|deque.len_consistent');
  });

  it('a leak is its object kinds and the ops that write to them, not every op combination', () => {
    const a = familyOf({ kind: 'leak', signature: 'leak|list.append,list.count' });
    const b = familyOf({ kind: 'leak', signature: 'leak|list.append,list.contains' });
    expect(a.key).toBe(b.key);
    expect(a.key).toBe('leak|list|list.append');
  });

  it('lost and duplicated writes of the same writers are one family', () => {
    const lost = familyOf({ kind: 'lost-write', signature: 'lost-write|lost|Mock|Mock.call' });
    const dup = familyOf({ kind: 'lost-write', signature: 'lost-write|duplicated|Mock|Mock.call' });
    expect(lost.key).toBe(dup.key);
  });

  it('a phantom value is its kind\'s, whichever ops the program used', () => {
    const a = familyOf({ kind: 'lost-write', signature: 'lost-write|phantom|array|array.append,array.extend' });
    const b = familyOf({ kind: 'lost-write', signature: 'lost-write|phantom|array|array.getitem_last,array.insert0,array.pop' });
    expect(a.key).toBe(b.key);
    expect(a.key).not.toBe(familyOf({ kind: 'lost-write', signature: 'lost-write|lost|array|array.append' }).key);
  });
});
