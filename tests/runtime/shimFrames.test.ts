// Stacks of perturbed runs: the schedule shim's frames are not the program's (runtime/nativeStacks.ts withoutShim).
import { describe, expect, it } from 'vitest';
import { withoutShim } from '../../src/runtime/nativeStacks.js';
import type { NativeFrame } from '../../src/types.js';

const SHIM = '/root/.cache/ftfuzz/native/libftfuzz_sched-5d4a5bb1a71e.so';
const f = (func: string, lib: string | null = null): NativeFrame => ({ func, file: null, line: 0, lib });

describe('stacks without the schedule shim', () => {
  it("drops its helper thread, and a stalled thread's handler frames down to what the thread was doing", () => {
    expect(withoutShim([f('clock_nanosleep', 'libc.so.6'), f('sleep_us', SHIM), f('helper_main', SHIM), f('start_thread', 'libc.so.6')])).toBeNull();
    const stalled = [f('clock_nanosleep', 'libc.so.6'), f('nanosleep', 'libc.so.6'), f('sleep_us', SHIM), f('on_stall_slot', SHIM), f('<signal handler called>'), f('list_ass_slice'), f('_PyEval_EvalFrameDefault')];
    expect(withoutShim(stalled)?.map((x) => x.func)).toEqual(['list_ass_slice', '_PyEval_EvalFrameDefault']);
    // Delayed inside the sem_post wrapper: the caller stays.
    const delayed = [f('clock_gettime', 'linux-vdso.so.1'), f('spin_us', SHIM), f('sem_post', SHIM), f('_PySemaphore_Wakeup'), f('_PyParkingLot_Unpark')];
    expect(withoutShim(delayed)?.map((x) => x.func)).toEqual(['_PySemaphore_Wakeup', '_PyParkingLot_Unpark']);
    const plain = [f('mi_free'), f('list_dealloc')];
    expect(withoutShim(plain)).toBe(plain);
  });
});
