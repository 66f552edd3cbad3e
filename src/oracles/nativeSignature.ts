// Signatures from the bug, not from the harness: the C frames where a thread crashed, spun or blocked
// (read by gdb, src/runtime/nativeStacks.ts), and the generated op that thread was executing.
//
// Crash: the faulting thread's innermost meaningful frames, after the signal-handler, abort, assertion
// and fatal-error plumbing, libc's own frames and the eval/call plumbing between Python and C.
// Hang: two samples about a second apart classify it (issue "triage fidelity"):
//   deadlock  no thread's Python position moved and no thread used CPU: signed by the C frames each
//             thread waits in (above the futex / parking-lot / critical-section plumbing);
//   spin      no position moved but a thread burnt CPU (e.g. mimalloc's free-list walk at thread exit):
//             signed by the spinning threads' frames;
//   slow      a position moved: a crawl, not a bug, reported apart.
import { readFileSync } from 'node:fs';
import type { HangClass, NativeEvidence, NativeFrame, NativeThread } from '../types.js';

/** Frames between a fault and the code that faulted: signal delivery, abort, assertion and fatal-error reporting. */
export const CRASH_PLUMBING =
  /^(<signal handler called>|__pthread_kill_implementation|__pthread_kill_internal|__GI___pthread_kill|pthread_kill|__GI_raise|raise|__GI_abort|abort|__assert_fail_base|__GI___assert_fail|__assert_fail|__libc_message|__GI___libc_message|__libc_fatal|malloc_printerr|fatal_error|fatal_error_exit|fatal_error_dump_runtime|_Py_FatalErrorFunc|_Py_FatalErrorFormat|Py_FatalError|_Py_FatalError.*|_PyObject_AssertFailed|_Py_FatalRefcountError.*|_Py_NegativeRefcount|faulthandler_fatal_error|faulthandler_dump.*|faulthandler_user|faulthandler_exc_handler|_Py_DumpTraceback.*|_Py_DumpExtensionModules|_Py_DumpHexadecimal|_Py_DumpASCII)$/;

/**
 * The inline reference-count and atomic helpers (Include/object.h, refcount.h, pyatomic*.h): a use-after-free
 * faults in them, and they say nothing of which object's code is at fault; the caller does.
 */
export const REFCOUNT_INLINE =
  /^(_Py_atomic_.*|Py_INCREF|Py_DECREF|Py_XINCREF|Py_XDECREF|_Py_INCREF.*|_Py_DECREF.*|_Py_XINCREF|_Py_XDECREF|Py_NewRef|_Py_NewRef|Py_XNewRef|_Py_XNewRef|_Py_IsImmortal|_Py_IsOwnedByCurrentThread|_Py_ThreadId|Py_REFCNT|_Py_REFCNT|Py_SET_REFCNT|_Py_TryIncref.*|_Py_TryXGetRef|_Py_ExplicitMergeRefcount|_Py_MergeZeroLocalRefcount|_Py_DecRefShared.*|Py_TYPE|_Py_TYPE|Py_SIZE|_Py_SIZE|Py_IS_TYPE|PyType_HasFeature|_PyType_HasFeature|PyList_GET_ITEM|PyList_SET_ITEM|PyList_GET_SIZE|PyTuple_GET_ITEM|PyTuple_SET_ITEM|PyTuple_GET_SIZE|_PyList_ITEMS|_PyTuple_ITEMS)$/;

/** Waiting: the futex, semaphore, parking-lot, mutex and critical-section machinery a blocked thread sits in. */
export const WAIT_PLUMBING =
  /^(__futex_abstimed_wait_common.*|__GI___futex_abstimed_wait_cancelable.*|futex_wait|futex_.*|__lll_lock_wait.*|lll_.*|___pthread_cond_.*|__pthread_cond_.*|pthread_cond_.*|___pthread_mutex_.*|__pthread_mutex_.*|pthread_mutex_.*|do_futex_wait.*|__new_sem_wait_slow.*|__GI___sem_.*|sem_.*wait|__sem_.*|__GI___clock_nanosleep|__clock_nanosleep|clock_nanosleep.*|__GI___nanosleep|__nanosleep|nanosleep|__sched_yield|sched_yield|syscall|__GI_syscall|_Py_yield|_PySemaphore_.*|_PyParkingLot_.*|_PyMutex_LockTimed|_PyMutex_LockSlow|PyMutex_Lock|_PyMutex_Lock|_PyRecursiveMutex_.*|_PyRWMutex_.*|_PyOnceFlag_.*|_PyCriticalSection.*|PyCriticalSection.*|PyThread_acquire_lock.*|PyEvent_WaitTimed|_PyEvent_.*|PyEvent_Wait|take_gil|tstate_wait_attach|_PyThreadState_Attach|PyCOND_.*|PyMUTEX_.*|_PyEval_AcquireLock|drop_gil.*|_PyEval_ReleaseLock)$/;

/** Between Python and C: the evaluation loop and call dispatch, in every thread's stack. */
export const CALL_PLUMBING =
  /^(_PyEval_EvalFrameDefault|_PyEval_EvalFrame|_PyEval_Vector|PyEval_EvalCode.*|_PyFunction_Vectorcall|_PyObject_VectorcallTstate|PyObject_Vectorcall.*|_PyObject_Vectorcall.*|_PyObject_Call.*|PyObject_Call.*|_PyObject_MakeTpCall|_PyVectorcall_Call|PyVectorcall_Call|method_vectorcall.*|cfunction_vectorcall.*|cfunction_call|vectorcall_.*|_Py_VectorcallTstate|object_vacall|slot_tp_call|method_vectorcall|thread_run|pythread_wrapper|start_thread|clone3|clone|__clone.*|_start|__libc_start_main.*|__libc_start_call_main|main|Py_BytesMain|Py_RunMain|pymain_.*|_PyRun_.*|pyrun_.*|run_mod|run_eval_code_obj|PyRun_.*|builtin_exec.*|context_run|do_call_core|_PyEval_.*Call.*|call_one_instrument|_Py_call_instrumentation.*|slot_tp_.*call.*|wrapper_call|wrap_.*call.*)$/;

/** Threads that wait on Python-level synchronization (join, Lock, sleep): symptoms of a hang elsewhere. */
export const SYNC_WAIT = /^(acquire_timed|lock_PyThread_acquire_lock|lock_acquire.*|rlock_acquire.*|_thread_.*acquire.*|ThreadHandle_join|PyThread_ThreadHandle_join|_PyThread_.*[Jj]oin.*|thread_PyThread_.*join.*|PyThread_join_thread|join_thread|pysleep|time_sleep|select_select.*|semlock_acquire|_queue_SimpleQueue_get.*|PyEval_RestoreThread|PyEval_AcquireThread|_PyEval_StopTheWorld.*|stop_the_world|_PyEval_StartTheWorld.*|PyGILState_Ensure)$/;

/** libc and the dynamic loader: where a fault lands inside memcpy and friends; the caller is the bug. */
export const SYSTEM_LIB = /\/(libc|libm|libpthread|ld-linux[^/]*|libgcc_s|libstdc\+\+|libtsan|libasan|libubsan)[.-][^/]*$/;

/** Fold compiler clone suffixes: `list_resize.constprop.0`, `foo.isra.0`, `bar.part.1`, `baz.cold`. */
export function foldFunction(name: string): string {
  return name.replace(/(\.(constprop|isra|part|cold|lto_priv|llvm|localalias|clone)(\.\d+)?)+$/, '');
}

function named(f: NativeFrame): string | null {
  if (!f.func || f.func === '??') return null;
  return foldFunction(f.func);
}

/** A sanitizer's runtime, linked into a TSan/ASan build's own binary: its frames are never the bug. */
export const SANITIZER_RUNTIME = /^(__tsan|__asan|__ubsan|__msan|__sanitizer|__interceptor_|___interceptor_|__lsan)/;

function isSystem(f: NativeFrame): boolean {
  return (f.lib !== null && SYSTEM_LIB.test(f.lib)) || (f.func !== null && SANITIZER_RUNTIME.test(f.func));
}

/** A frame as it is shown: `func (Objects/listobject.c:123)` or `func [libfoo.so]`. */
export function describeFrame(f: NativeFrame): string {
  const name = named(f) ?? '??';
  if (f.file) return `${name} (${f.file.replace(/^\.\//, '')}:${f.line})`;
  return f.lib ? `${name} [${f.lib.split('/').pop() ?? f.lib}]` : name;
}

/** The innermost frames of a crashed thread that say where the bug is. */
export function crashFrames(thread: NativeThread, depth = 3): NativeFrame[] {
  let frames = thread.frames;
  // faulthandler's handler ran first and re-raised: start below the outermost signal frame (a fault inside
  // the handler nests another one; the gdb script folds their repeats).
  const handler = frames.slice(0, 40).map((f) => f.func).lastIndexOf('<signal handler called>');
  if (handler >= 0) frames = frames.slice(handler + 1);
  const out: NativeFrame[] = [];
  let leading = true;
  for (const f of frames) {
    const name = named(f);
    if (name === null || isSystem(f)) continue;
    if (leading && CRASH_PLUMBING.test(name)) continue;
    leading = false;
    if (REFCOUNT_INLINE.test(name)) continue;
    if (CALL_PLUMBING.test(name)) continue;
    out.push(f);
    if (out.length >= depth) break;
  }
  return out;
}

/** The frames a blocked or spinning thread is in, above the wait machinery. */
export function blockedFrames(thread: NativeThread, depth = 2): NativeFrame[] {
  const out: NativeFrame[] = [];
  for (const f of thread.frames) {
    const name = named(f);
    if (name === null || isSystem(f) || WAIT_PLUMBING.test(name) || CALL_PLUMBING.test(name)) continue;
    out.push(f);
    if (out.length >= depth) break;
  }
  return out;
}

/** The allocator's own code: mimalloc (its sources and inline headers) and obmalloc. */
const HEAP_FILE = /(^|\/)(Objects\/mimalloc\/|Include\/internal\/mimalloc\/|Objects\/obmalloc\.c$)/;
const HEAP_FUNC = /^(_?mi_\w+|_PyObject_Mi\w+|_PyMem_Mi\w+|_PyObject_(Free|Malloc|Realloc|Calloc)|PyObject_(Free|Malloc|Realloc|Calloc)|_?PyMem_(Raw)?(Free|Malloc|Realloc|Calloc)|free_work_item|_PyMem_FreeDelayed\w*|_PyMem_ProcessDelayed\w*)$/;
/**
 * Code that walks what the program's objects left behind: a thread's teardown (clearing its mimalloc
 * heaps), the cycle collector's heap walk. A fault or a spin there found the heap already damaged.
 */
const HEAP_WALK = /^(PyThreadState_Clear|_PyThreadState_ClearMimallocHeaps|tstate_delete_common|_PyThreadState_DeleteCurrent|PyThreadState_Delete|gc_visit_heaps\w*|gc_visit_\w+|visit_decref\w*|visit_clear_unreachable|validate_\w*refcount\w*|update_refs|mark_\w*reachable\w*|scan_heap_visitor|deduce_unreachable_heap|move_legacy_finalizer\w*|_PyGC_\w+|gc_collect_\w+)$/;

/** A frame of the allocator itself. */
export function heapFrame(f: NativeFrame): boolean {
  const name = named(f);
  return (f.file !== null && HEAP_FILE.test(f.file)) || (name !== null && HEAP_FUNC.test(name));
}

/**
 * A heap corruption seen after the fact: the innermost meaningful frames are the allocator's (a free list
 * walked into freed memory, a spin in mimalloc's page collection), or the thread was tearing down or the
 * collector walking the heap when it faulted. Whoever faulted or spun there is a victim: the objects the
 * program shared and mutated did it (programHeader.ts), not the op the victim was running.
 */
export function heapCorruption(frames: readonly NativeFrame[]): boolean {
  const meaningful = frames.filter((f) => named(f) !== null && !isSystem(f) && !CRASH_PLUMBING.test(named(f) ?? '') && !REFCOUNT_INLINE.test(named(f) ?? '') && !WAIT_PLUMBING.test(named(f) ?? ''));
  const first = meaningful[0];
  if (!first) return false;
  if (heapFrame(first)) {
    // Entered through a free its caller made (groupby_step freeing a block in mi_free): the caller handed
    // the allocator a bad pointer, its own bug (a double free, a block it no longer owned); not a victim.
    const allocator = meaningful.slice(0, meaningful.findIndex((f) => !heapFrame(f)) >>> 0);
    return !(allocator.length < meaningful.length && allocator.every((f) => FREE_PATH.test(named(f) ?? '')));
  }
  return HEAP_WALK.test(named(first) ?? '');
}

/**
 * A free's own path, from the API an object's code calls down to reading the block's page: a fault there is
 * the freed pointer's (not a corrupted list walked later, as `_mi_page_free_collect` under a free is).
 */
const FREE_PATH = /^(mi_free\w*|_mi_free_(generic|block\w*)|mi_free_block\w*|mi_page_usable\w*|_mi_ptr_\w+|_mi_segment_page_of|mi_checked_ptr_segment|_PyObject_MiFree|_PyMem_MiFree|_PyObject_Free|PyObject_Free|_?PyMem_(Raw)?Free|PyObject_GC_Del|_PyObject_GC_Del)$/;

export function frameNames(frames: readonly NativeFrame[]): string[] {
  return frames.map((f) => named(f) ?? '??');
}

export interface HangVerdict {
  hangClass: HangClass;
  /** The threads the class is about: the spinning ones, or every blocked one. */
  threads: NativeThread[];
  /** CPU seconds each thread used between the first and last sample (by lwp). */
  cpu: Record<string, number>;
  /** Threads whose Python position moved. */
  moved: number[];
}

/**
 * Deadlock, spin or slow, from the first and last samples. Python positions decide progress; where the
 * interpreter's thread list could not be read, whole C stacks do.
 */
export function classifyHang(e: NativeEvidence): HangVerdict | null {
  if (e.samples.length < 2) return null;
  const a = e.samples[0];
  const b = e.samples[e.samples.length - 1];
  if (!a || !b || b.threads.length === 0) return null;
  const cpu: Record<string, number> = {};
  const moved: number[] = [];
  const havePython = Object.keys(a.python).length > 0 && Object.keys(b.python).length > 0;
  const cStack = (t: NativeThread | undefined) => (t ? frameNames(t.frames).join('<') : '');
  for (const t of b.threads) {
    const key = String(t.lwp);
    const before = a.ticks[key];
    const after = b.ticks[key];
    cpu[key] = before !== undefined && after !== undefined ? Math.max(0, after - before) / e.clkTck : 0;
    const earlier = a.threads.find((x) => x.lwp === t.lwp);
    if (!earlier) {
      moved.push(t.lwp); // started between the samples
      continue;
    }
    const pa = a.python[key];
    const pb = b.python[key];
    const progressed = havePython ? (pa ?? []).join(',') !== (pb ?? []).join(',') : cStack(earlier) !== cStack(t);
    if (progressed) moved.push(t.lwp);
  }
  // A thread that ended between the samples made progress too.
  for (const t of a.threads) if (!b.threads.some((x) => x.lwp === t.lwp)) moved.push(t.lwp);
  if (moved.length > 0) return { hangClass: 'slow', threads: b.threads.filter((t) => moved.includes(t.lwp)), cpu, moved };
  const interval = a.at !== null && b.at !== null ? Math.max(0.2, b.at - a.at) : 1;
  const spinning = b.threads.filter((t) => (cpu[String(t.lwp)] ?? 0) >= 0.2 * interval);
  // Threads burning CPU only to hand the GIL back and forth (a tiny switch interval and contention) are a
  // convoy, which crawls: seen on 3.13.5t with the GIL on, a 8 s program that finishes. Kept as slow.
  if (spinning.length > 0 && spinning.every(inGilHandoff)) return { hangClass: 'slow', threads: spinning, cpu, moved };
  if (spinning.length > 0) return { hangClass: 'spin', threads: spinning, cpu, moved };
  return { hangClass: 'deadlock', threads: b.threads, cpu, moved };
}

const GIL_HANDOFF = /^(take_gil|drop_gil.*|_PyEval_AcquireLock|_PyEval_ReleaseLock)$/;

/** A thread whose innermost CPython frames are the GIL's take / drop machinery. */
function inGilHandoff(t: NativeThread): boolean {
  return t.frames.slice(0, 8).some((f) => GIL_HANDOFF.test(named(f) ?? ''));
}

/**
 * The threads a classified hang is about and their meaningful C frames: threads in join, Lock.acquire,
 * sleep or a GIL wait wait for the others (the symptom, not the bug) and are left out unless nothing else
 * is left. A spin in the lock machinery (PyMutex_Lock's yield loop) shows the code that wants the lock.
 */
export function hangCulprits(v: HangVerdict): NativeFrame[][] {
  // One depth for every class: a spin on a lock's yield loop samples with little CPU and classes as a
  // deadlock now and then, and the same bug must sign the same (deque.copy's self-wait was two buckets).
  const depth = HANG_DEPTH;
  const per = v.threads.map((t) => blockedFrames(t, depth)).filter((frames) => frames.length > 0);
  const culprits = per.filter((frames) => !SYNC_WAIT.test(named(frames[0] as NativeFrame) ?? ''));
  return culprits.length > 0 ? culprits : per;
}

/**
 * Every thread waits on Python-level synchronization (Lock.acquire, join, sleep): a deadlock of the
 * program's own locks (a lock-order inversion), whose C frames are the same lock wait in every thread;
 * its Python frames tell one such deadlock from another.
 */
export function onlyPythonWaits(v: HangVerdict): boolean {
  const per = v.threads.map((t) => blockedFrames(t, 1)).filter((frames) => frames.length > 0);
  return v.hangClass === 'deadlock' && per.length > 0 && per.every((frames) => SYNC_WAIT.test(named(frames[0] as NativeFrame) ?? ''));
}

/** Meaningful C frames per culprit thread in a hang signature. */
export const HANG_DEPTH = 2;

/** The signature part of a classified hang: the culprit threads' C frames, sorted. */
export function hangFrames(v: HangVerdict): string[] {
  return [...new Set(hangCulprits(v).map((frames) => frameNames(frames).join(' < ')))].sort();
}

// ---- the op a thread was executing -------------------------------------------------------------------

/** The program's lines, read when a crash needs its op (rare: no cache, so a rewritten file is never stale). */
function sourceLines(file: string): string[] | null {
  try {
    return readFileSync(file, 'utf8').split('\n');
  } catch {
    return null;
  }
}

/**
 * The op at a line of a program. A generated program marks every op with `tok = SLOT*SPAN + i` and
 * names its slots in `_SLOTS = {slot: 't<thread> <op id>'}`; the op is the slot of the nearest marker
 * above the line, inside the same function. Elsewhere it is the line itself (`func: code`, numbers folded).
 */
export function opAtLine(lines: readonly string[], line: number, func: string): string | null {
  const index = line - 1;
  const text = lines[index];
  if (text === undefined) return null;
  const slots = new Map<number, string>();
  const span = Number(/^SPAN = (\d+)$/m.exec(lines.slice(0, 80).join('\n'))?.[1] ?? 1048576);
  const table = lines.find((l) => l.startsWith('_SLOTS = {'));
  if (table) for (const m of table.matchAll(/(\d+): 't\d+ ([\w.]+)'/g)) slots.set(Number(m[1]), m[2] as string);
  if (slots.size > 0) {
    for (let i = index; i >= 0; i--) {
      const l = lines[i] as string;
      if (/^def /.test(l)) break;
      const tok = /^\s+tok = (\d+) \+ i\b/.exec(l);
      if (tok) {
        const op = slots.get(Math.floor(Number(tok[1]) / span));
        if (op) return `${op} on ${op.split('.')[0] ?? op}`;
        break;
      }
    }
  }
  const code = text.trim().replace(/\b\d+\b/g, 'N').replace(/\s+/g, ' ').slice(0, 80);
  return code ? `${func.replace(/\d+/g, 'N')}: ${code}` : null;
}

/** A program's text: kept on the ref (a re-signed bucket's), else read from its file; null when gone. */
export function programText(program: { path: string; source?: string }): string | null {
  if (program.source !== undefined) return program.source;
  const lines = sourceLines(program.path);
  return lines ? lines.join('\n') : null;
}

/** The op the innermost program frame of a Python stack was executing, read from the program file. */
export function opAt(program: { path: string; source?: string }, frames: readonly { file: string; line: number; func: string }[]): string | null {
  const inProgram = frames.find((f) => f.file === program.path);
  if (!inProgram) return null;
  const lines = program.source !== undefined ? program.source.split('\n') : sourceLines(program.path);
  return lines ? opAtLine(lines, inProgram.line, inProgram.func) : null;
}
