import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crashOracle } from '../../src/oracles/crashOracle.js';
import { hangOracle } from '../../src/oracles/hangOracle.js';
import { blockedFrames, classifyHang, crashFrames, foldFunction, hangFrames, opAtLine } from '../../src/oracles/nativeSignature.js';
import { findCore, parseGdbOutput } from '../../src/runtime/nativeStacks.js';
import type { NativeEvidence, NativeFrame, NativeSample, NativeThread } from '../../src/types.js';
import { fakeRun } from '../helpers/runs.js';

const f = (func: string, lib: string | null = null, file: string | null = 'Objects/x.c'): NativeFrame => ({ func, file, line: 1, lib });
const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
const thread = (lwp: number, ...names: (string | NativeFrame)[]): NativeThread => ({ lwp, name: null, frames: names.map((n) => (typeof n === 'string' ? f(n) : n)) });
const sample = (threads: NativeThread[], ticks: Record<string, number>, python: Record<string, number[]>, at: number): NativeSample => ({ threads, ticks, python, at });
const evidence = (samples: NativeSample[], extra: Partial<NativeEvidence> = {}): NativeEvidence => ({ source: 'attach', samples, faultingLwp: null, signal: null, clkTck: 100, raw: 'raw', ...extra });

describe('C frames of a sanitizer build', () => {
  it('skip the TSan runtime linked into the binary (a TSan run spins in __tsan::MemoryAccess, not in the bug)', () => {
    const t = thread(3, f('__tsan::MemoryAccess(__tsan::ThreadState*, unsigned long)', null, null), f('__tsan_read8', null, null), 'list_sort_impl', 'list_sort');
    expect(blockedFrames(t).map((x) => x.func)).toEqual(['list_sort_impl', 'list_sort']);
    expect(crashFrames(t, 1).map((x) => x.func)).toEqual(['list_sort_impl']);
  });
});

describe('C frames of a crash', () => {
  it('skips the signal handler, abort and fatal-error plumbing, libc and eval plumbing', () => {
    const t = thread(
      7,
      f('__pthread_kill_implementation', LIBC, null),
      f('raise', LIBC, null),
      'faulthandler_fatal_error',
      f('<signal handler called>', null, null),
      f('__memmove_avx_unaligned_erms', LIBC, null),
      'array_array_extend_impl',
      'array_array_extend',
      'cfunction_vectorcall_O',
      '_PyEval_EvalFrameDefault',
      'ins1.constprop.0',
    );
    expect(crashFrames(t).map((x) => foldFunction(x.func ?? ''))).toEqual(['array_array_extend_impl', 'array_array_extend', 'ins1']);
  });

  it('starts below the outermost signal frame when the fault handler itself faulted', () => {
    const sig = f('<signal handler called>', null, null);
    const t = thread(3, 'faulthandler_fatal_error', sig, 'faulthandler_fatal_error', sig, f('___pthread_testcancel', LIBC, null), 'PyThread_acquire_lock_timed', '_PyTraceMalloc_TraceRef');
    expect(crashFrames(t).map((x) => x.func)).toEqual(['PyThread_acquire_lock_timed', '_PyTraceMalloc_TraceRef']);
  });

  it('keeps the caller of Py_FatalError and of a failed assertion', () => {
    const t = thread(1, f('__GI_abort', LIBC, null), 'fatal_error_exit', 'fatal_error', '_Py_FatalErrorFunc', 'list_resize', 'list_append');
    expect(crashFrames(t, 2).map((x) => x.func)).toEqual(['list_resize', 'list_append']);
  });

  it('skips the inline refcount and atomic helpers a use-after-free faults in: the object\'s own code signs', () => {
    const inline = (fn: string) => thread(4, '_Py_atomic_load_uint32_relaxed', 'Py_INCREF', '_Py_NewRef', fn, 'cfunction_vectorcall_O', '_PyEval_EvalFrameDefault');
    expect(crashFrames(inline('element_getitem')).map((x) => x.func)).toEqual(['element_getitem']);
    expect(crashFrames(inline('groupby_next'))[0]?.func).toBe('groupby_next');
    expect(crashFrames(thread(5, '_Py_atomic_load_uint64_relaxed', 'PyType_HasFeature', 'encoder_listencode_obj'))[0]?.func).toBe('encoder_listencode_obj');
    expect(crashFrames(thread(6, 'PyList_SET_ITEM', 'array_array_tolist_impl'))[0]?.func).toBe('array_array_tolist_impl');
  });

  it('folds compiler clone suffixes', () => {
    expect(foldFunction('list_resize.constprop.0')).toBe('list_resize');
    expect(foldFunction('mi_free.part.3.cold')).toBe('mi_free');
    expect(foldFunction('plain')).toBe('plain');
  });

  it('signs two crashes in different C functions apart, whatever the Python frames', () => {
    const stderr = 'Fatal Python error: Segmentation fault\n\nCurrent thread 0x1 (most recent call first):\n  File "/work/prog.py", line 3 in worker\n';
    const core = (fn: string): NativeEvidence => evidence([sample([thread(5, f('<signal handler called>', null, null), fn, '_PyEval_EvalFrameDefault')], {}, {}, null as unknown as number)], { source: 'core', faultingLwp: 5 });
    const a = crashOracle.check([fakeRun('gil-off', { termination: { kind: 'signal', signal: 'SIGSEGV' }, stderrTail: stderr, native: core('planted_crash_a') })])[0];
    const b = crashOracle.check([fakeRun('gil-off', { termination: { kind: 'signal', signal: 'SIGSEGV' }, stderrTail: stderr, native: core('planted_crash_b') })])[0];
    expect(a?.signature).toContain('c:planted_crash_a');
    expect(b?.signature).toContain('c:planted_crash_b');
    expect(a?.signature).not.toBe(b?.signature);
  });
});

describe('hang classes', () => {
  const main = () => thread(100, f('__futex_abstimed_wait_common', LIBC, null), '_PySemaphore_PlatformWait', '_PySemaphore_Wait', '_PyParkingLot_Park', 'PyEvent_WaitTimed', 'ThreadHandle_join', '_PyEval_EvalFrameDefault');
  const waiter = (lwp: number, fn: string) => thread(lwp, f('__lll_lock_wait', LIBC, null), f('___pthread_mutex_lock', LIBC, null), 'take_in_order', fn, '_PyEval_EvalFrameDefault', 'thread_run');

  it('deadlock: nothing moved, no CPU; signed by the frames each thread waits in, not by join', () => {
    const threads = [main(), waiter(101, 'planted_lock_ab'), waiter(102, 'planted_lock_ba')];
    const py = { '100': [1, 2], '101': [3], '102': [4] };
    const v = classifyHang(evidence([sample(threads, { '100': 5, '101': 3, '102': 3 }, py, 10), sample(threads, { '100': 5, '101': 3, '102': 3 }, py, 11)]));
    expect(v?.hangClass).toBe('deadlock');
    expect(hangFrames(v!)).toEqual(['take_in_order < planted_lock_ab', 'take_in_order < planted_lock_ba']);
  });

  it('spin: positions still, CPU advancing; signed by the spinning thread', () => {
    const spinner = thread(101, '_mi_page_free_collect', 'mi_heap_collect_ex', 'PyThreadState_Clear');
    const threads = [main(), spinner];
    const py = { '100': [1, 2] };
    const v = classifyHang(evidence([sample(threads, { '100': 5, '101': 300 }, py, 10), sample(threads, { '100': 5, '101': 398 }, py, 11)]));
    expect(v?.hangClass).toBe('spin');
    expect(hangFrames(v!)).toEqual(['_mi_page_free_collect < mi_heap_collect_ex']);
  });

  it('a spin and a deadlock in the same C frames are one bucket: the class is what the samples saw', () => {
    const copier = thread(101, 'sched_yield', '_Py_yield', '_PyMutex_LockTimed', 'PyMutex_Lock', '_PyCriticalSection2_BeginSlow', 'dequeiter_next', 'deque_extend_impl', 'deque_copy_impl');
    const threads = [main(), copier];
    const py = { '100': [1, 2], '101': [7] };
    const run = (ticks: number) =>
      fakeRun('gil-off', { termination: { kind: 'timeout', afterMs: 2000 }, native: evidence([sample(threads, { '100': 5, '101': 300 }, py, 10), sample(threads, { '100': 5, '101': 300 + ticks }, py, 11)]) });
    const [spin] = hangOracle.check([run(90)]);
    const [still] = hangOracle.check([run(0)]);
    expect(spin?.native?.hangClass).toBe('spin');
    expect(still?.native?.hangClass).toBe('deadlock');
    expect(spin?.signature).toBe(still?.signature);
    expect(spin?.signature).toMatch(/^hang\|c:dequeiter_next < deque_extend_impl$/);
  });

  it('slow: a Python position moved between the samples', () => {
    const threads = [main(), thread(101, 'long_add', '_PyEval_EvalFrameDefault')];
    const v = classifyHang(evidence([sample(threads, { '101': 1 }, { '100': [1], '101': [50] }, 10), sample(threads, { '101': 99 }, { '100': [1], '101': [58] }, 11)]));
    expect(v?.hangClass).toBe('slow');
    const run = fakeRun('gil-off', { termination: { kind: 'timeout', afterMs: 2000 }, native: evidence([sample(threads, {}, { '101': [50] }, 10), sample(threads, {}, { '101': [58] }, 11)]) });
    expect(hangOracle.check([run])[0]?.kind).toBe('slow');
  });

  it('without Python positions, whole C stacks decide; with one sample there is no class', () => {
    const a = [thread(1, 'x', 'y')];
    const b = [thread(1, 'z', 'y')];
    expect(classifyHang(evidence([sample(a, {}, {}, 0), sample(b, {}, {}, 1)]))?.hangClass).toBe('slow');
    expect(classifyHang(evidence([sample(a, {}, {}, 0)]))).toBeNull();
  });

  it('the blocked frames of a thread skip the lock machinery', () => {
    expect(blockedFrames(waiter(5, 'planted_lock_ab')).map((x) => x.func)).toEqual(['take_in_order', 'planted_lock_ab']);
  });
});

describe('the op a thread was executing', () => {
  const program = [
    "SPAN = 1048576",
    "_SLOTS = {1: 't0 array.extend', 2: 't0 array.pop', 3: 't1 BytesIO.write'}",
    'def thread_0():',
    '    for i in range(ITERS):',
    '        tok = 1048576 + i',
    '        o0.extend([tok])',
    '        tok = 2097152 + i',
    '        try:',
    '            o0.pop()',
    '        except IndexError:',
    '            pass',
  ];
  it('maps a generated line back to its op through the slot markers', () => {
    expect(opAtLine(program, 6, 'thread_0')).toBe('array.extend on array');
    expect(opAtLine(program, 9, 'thread_0')).toBe('array.pop on array');
  });
  it('falls back to the line itself, numbers folded, in hand-written programs', () => {
    expect(opAtLine(['def worker_3():', '    x.pop(12)'], 2, 'worker_3')).toBe('worker_N: x.pop(N)');
    expect(opAtLine([], 5, 'f')).toBeNull();
  });
});

describe('reading gdb output', () => {
  it('reads the result line and the raw backtrace, and ignores what gdb prints around them', () => {
    const out = [
      '0x00007f in __GI___clock_nanosleep () at x.c:1',
      'FTFUZZ-GDB {"mode":"core","signal":11,"samples":[{"selected":7,"threads":[{"lwp":7,"name":"python3","frames":[{"func":"f","file":"a.c","line":3,"lib":null}]}],"python":{}}]}',
      'FTFUZZ-GDB-RAW-BEGIN',
      'Thread 1 (LWP 7):',
      '#0  f () at a.c:3',
      'FTFUZZ-GDB-RAW-END',
    ].join('\n');
    const e = parseGdbOutput(out, 'core');
    expect(e.faultingLwp).toBe(7);
    expect(e.signal).toBe(11);
    expect(e.samples[0]?.threads[0]?.frames[0]).toMatchObject({ func: 'f', file: 'a.c', line: 3 });
    expect(e.raw).toContain('#0  f () at a.c:3');
    expect(e.error).toBeUndefined();
  });

  it('never throws on damaged output (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.jsonValue(), (noise, value) => {
        for (const text of [noise, `FTFUZZ-GDB ${noise}`, `FTFUZZ-GDB ${JSON.stringify(value)}\nFTFUZZ-GDB-RAW-BEGIN\n${noise}`]) {
          const e = parseGdbOutput(text, 'attach');
          expect(Array.isArray(e.samples)).toBe(true);
        }
      }),
    );
  });
});

describe('finding a core file', () => {
  it('expands core_pattern specifiers and core_uses_pid', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-core-'));
    await fs.writeFile(path.join(dir, 'core'), '');
    await fs.writeFile(path.join(dir, 'core.4242'), '');
    await fs.writeFile(path.join(dir, 'core.python3.13t.4242.1733000000'), '');
    expect(await findCore(4242, dir, 'python3.13t', 'core', false)).toBe(path.join(dir, 'core'));
    expect(await findCore(4242, dir, 'python3.13t', 'core', true)).toBe(path.join(dir, 'core.4242'));
    expect(await findCore(4242, '/elsewhere', 'python3.13t', `${dir}/core.%e.%p.%t`, false)).toBe(path.join(dir, 'core.python3.13t.4242.1733000000'));
    expect(await findCore(99, dir, 'python3.13t', `${dir}/core.%e.%p.%t`, false)).toBeNull();
    expect(await findCore(4242, dir, 'python3.13t', null, false)).toBeNull();
    await fs.rm(dir, { recursive: true, force: true });
  });
});

describe('GIL convoys', () => {
  it('a spin whose threads only hand the GIL back and forth is slow, not a hang', () => {
    const t1 = thread(1, f('__futex_abstimed_wait_common', LIBC, null), 'PyCOND_TIMEDWAIT', 'take_gil', '_PyEval_AcquireLock', 'PyEval_RestoreThread');
    const t2 = thread(2, 'drop_gil_impl', 'drop_gil', '_PyEval_ReleaseLock', '_PyEval_EvalFrameDefault');
    const py = { '1': [5], '2': [6] };
    const v = classifyHang(evidence([sample([t1, t2], { '1': 0, '2': 0 }, py, 0), sample([t1, t2], { '1': 40, '2': 45 }, py, 1)]));
    expect(v?.hangClass).toBe('slow');
  });
});
