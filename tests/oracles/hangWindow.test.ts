// A hang is a program that does not finish: a run past its limit whose samples saw no progress is waited on
// through a finish window; one that ends in it is a crawl with both times. Each GIL mode is calibrated on
// its own runs. A heap corruption is signed by the objects the program shared, never by a victim's op.
import { describe, expect, it } from 'vitest';
import { hangOracle, samplesVerdict } from '../../src/oracles/hangOracle.js';
import { crashOracle, heapCulprits } from '../../src/oracles/crashOracle.js';
import { heapCorruption } from '../../src/oracles/nativeSignature.js';
import { finishWindowMs, TimeoutCalibrator } from '../../src/runtime/calibration.js';
import { windowLimits } from '../../src/runtime/limits.js';
import { heapKinds, sharedObjects } from '../../src/programHeader.js';
import type { NativeEvidence, NativeFrame, NativeThread } from '../../src/types.js';
import { fakeRun } from '../helpers/runs.js';

const frames = (...names: string[]): NativeFrame[] => names.map((n) => {
  const [func, file] = n.split('@');
  return { func: func as string, file: file ?? null, line: 1, lib: null };
});
const thread = (lwp: number, ...names: string[]): NativeThread => ({ lwp, name: null, frames: frames(...names) });

/** Two samples a second apart: the same stacks, no Python position moved, `cpu` CPU-s used by thread 2. */
function samples(threads: NativeThread[], cpu: number, moved = false): NativeEvidence {
  const python = (k: number) => Object.fromEntries(threads.map((t) => [String(t.lwp), [moved && t.lwp === 2 ? k : 1]]));
  return {
    source: 'attach', faultingLwp: null, signal: null, clkTck: 100, raw: '',
    samples: [
      { threads, ticks: { 2: 0, 3: 0 }, python: python(1), at: 0 },
      { threads, ticks: { 2: cpu * 100, 3: 0 }, python: python(2), at: 1 },
    ],
  };
}

const SCENARIO = `# generator: ftfuzz-gen/2\n# scenario: {"threads":2,"iterations":5,"switchInterval":0.005,"objects":[{"v":"o0","kind":"bytearray","viaContainer":false},{"v":"o1","kind":"deque","viaContainer":false}],"threadOps":[{"ops":[{"op":"bytearray.extend","obj":"o0","sleepAfter":false}],"gcEvery":null},{"ops":[{"op":"deque.copy","obj":"o1","sleepAfter":false}],"gcEvery":null}]}\nprint(1)\n`;

describe('the finish window', () => {
  it('is 10x the limit, at least 60 s, at most twice the cap above that', () => {
    expect(finishWindowMs(2000, 30_000)).toBe(60_000);
    expect(finishWindowMs(5000, 30_000)).toBe(60_000);
    expect(finishWindowMs(30_000, 30_000)).toBe(60_000);
    expect(finishWindowMs(20_000, 120_000)).toBe(200_000);
    // The CPU cap covers the window as it covered the limit (a spin must stay a hang with stacks).
    expect(windowLimits({ memoryBytes: 1, cpuSeconds: 70 }, 60_000, 30_000, 2)).toEqual({ memoryBytes: 1, cpuSeconds: 130 });
    // A cap within reach of the limit is the user's (--cpu-limit 2s): it stays.
    expect(windowLimits({ cpuSeconds: 2 }, 120_000, 60_000, 2)).toEqual({ cpuSeconds: 2 });
  });

  it('reads the samples: progress is a crawl, no progress is stuck with the signature a hang would have', () => {
    const waiter = thread(3, 'take_gil@Python/ceval_gil.c', 'ThreadHandle_join@Modules/_threadmodule.c');
    const copier = thread(2, 'dequeiter_next@Modules/_collectionsmodule.c', 'deque_extend_impl@Modules/_collectionsmodule.c');
    expect(samplesVerdict(samples([copier, waiter], 0.9, true))).toEqual({ state: 'progress' });
    expect(samplesVerdict(samples([copier, waiter], 0.9))).toEqual({ state: 'stuck', signature: 'hang|c:dequeiter_next < deque_extend_impl', proved: false });
    expect(samplesVerdict(undefined)).toEqual({ state: 'unknown' });
    // A spin in mimalloc's page collection at thread exit: a heap corruption, signed by what the program shares.
    const spin = thread(2, '_mi_page_free_collect@Include/internal/mimalloc/mimalloc/internal.h', 'mi_heap_page_collect@Objects/mimalloc/heap.c', '_PyThreadState_ClearMimallocHeaps@Python/pystate.c', 'PyThreadState_Clear@Python/pystate.c');
    expect(samplesVerdict(samples([spin, waiter], 0.95), { path: '/x.py', name: 'x.py', source: SCENARIO })).toEqual({ state: 'stuck', signature: 'hang|c:_mi_page_free_collect < mi_heap_page_collect|heap:bytearray+deque', proved: true });
  });

  it('a run that finished in its window is a crawl with both times, never a hang; one that did not is a proved hang', () => {
    const late = fakeRun('gil-on', { durationMs: 13_000, late: { limitMs: 5000, finishedMs: 13_000 } });
    const [crawl] = hangOracle.check([late]);
    expect(crawl?.kind).toBe('slow');
    expect(crawl?.title).toMatch(/5000 ms limit, but it finished after 13000 ms/);
    expect(crawl?.verdict).toBe('slow');
    const stuck = samples([thread(2, 'deque_copy@Modules/_collectionsmodule.c'), thread(3, 'take_gil@Python/ceval_gil.c', 'ThreadHandle_join@Modules/_threadmodule.c')], 0);
    const waited = fakeRun('gil-off', { termination: { kind: 'timeout', afterMs: 5000, waitedMs: 60_000 }, native: stuck, durationMs: 60_000 });
    const killed = fakeRun('gil-off', { termination: { kind: 'timeout', afterMs: 5000 }, native: stuck, durationMs: 6000 });
    const [hang] = hangOracle.check([waited]);
    expect(hang?.kind).toBe('hang');
    expect(hang?.proved).toBe(true);
    expect(hang?.title).toMatch(/no exit after 60000 ms \(limit 5000 ms, then waited/);
    expect(hangOracle.check([killed])[0]?.proved).toBe(false);
  });

  it('takes an allocator free-list walk spinning through both samples as proof: no window', () => {
    const waiter = thread(3, 'take_gil@Python/ceval_gil.c', 'ThreadHandle_join@Modules/_threadmodule.c');
    const walk = thread(2, '_mi_page_free_collect@Include/internal/mimalloc/mimalloc/internal.h', 'mi_heap_page_collect@Objects/mimalloc/heap.c', 'PyThreadState_Clear@Python/pystate.c');
    const program = { path: '/x.py', name: 'x.py', source: SCENARIO };
    expect(samplesVerdict(samples([walk, waiter], 0.9), program)).toMatchObject({ state: 'stuck', proved: true });
    // Stuck in the allocator without burning CPU is not a walk in a cycle: it still needs its window.
    expect(samplesVerdict(samples([walk, waiter], 0), program)).toMatchObject({ state: 'stuck', proved: false });
    // A thread freeing (json.dumps dropping a big dict, twice caught in mi_free) is in the allocator but in no
    // walk: a crawl looks like that; it gets its window (repr_growth.py with the GIL on).
    const freeing = thread(2, '_mi_segment_page_of@Include/internal/mimalloc/mimalloc/internal.h', 'mi_free@Objects/mimalloc/alloc.c', 'dict_dealloc@Objects/dictobject.c');
    expect(samplesVerdict(samples([freeing, waiter], 0.9), program)).toMatchObject({ state: 'stuck', proved: false });
    const killed = fakeRun('gil-off', { program, termination: { kind: 'timeout', afterMs: 3000 }, native: samples([walk, waiter], 0.9), durationMs: 6000 });
    const [hang] = hangOracle.check([killed]);
    expect(hang?.proved).toBe(true);
    expect(hang?.title).toMatch(/free-list walk through both samples: a cycle/);
  });
});

describe('calibration, each GIL mode on its own runs', () => {
  it('keeps a history per mode: a slow GIL-on history does not loosen the GIL-off limit', () => {
    const c = new TimeoutCalibrator(30_000);
    expect(c.referenceLimit('gil-off')).toBe(10_000);
    expect(new TimeoutCalibrator(8000).referenceLimit('gil-off')).toBe(8000);
    for (let i = 0; i < 10; i++) {
      c.observe(200, 'gil-off');
      c.observe(2500, 'gil-on');
    }
    expect(c.referenceLimit('gil-off')).toBe(3000);
    expect(c.referenceLimit('gil-on')).toBe(25_000);
    expect(c.limitFor(150)).toBe(2000);
  });
});

describe('heap corruption, signed by the shared objects', () => {
  it('reads what a program shares from its header', () => {
    expect(sharedObjects(SCENARIO)).toEqual([{ kind: 'bytearray', ops: ['bytearray.extend'] }, { kind: 'deque', ops: ['deque.copy'] }]);
    expect(heapKinds(sharedObjects(SCENARIO) ?? [])).toBe('bytearray+deque');
    const surface = '# ftfuzz surface program: method-pair on collections.deque; every exception is caught\n# generator: ftfuzz-surface/6\n# seed: s\n# members: append, copy\n';
    expect(sharedObjects(surface)).toEqual([{ kind: 'collections.deque', ops: ['append', 'copy'] }]);
    // In a bucket's repro.py, after the reproducer's own header lines.
    expect(sharedObjects(`# ftfuzz reproducer: crash\n# signature: x\n${surface}`)).toEqual([{ kind: 'collections.deque', ops: ['append', 'copy'] }]);
    expect(sharedObjects('print(1)\n')).toBeNull();
  });

  it('a fault in the allocator, a teardown or the collector\'s walk is one; a fault in an object\'s own code is not', () => {
    expect(heapCorruption(frames('mi_block_nextx@Include/internal/mimalloc/mimalloc/internal.h', '_mi_page_malloc@Objects/mimalloc/alloc.c', 'PyList_New@Objects/listobject.c'))).toBe(true);
    expect(heapCorruption(frames('<signal handler called>', '_Py_atomic_load_uint32_relaxed@Include/cpython/pyatomic_gcc.h', 'PyThreadState_Clear@Python/pystate.c'))).toBe(true);
    expect(heapCorruption(frames('gc_visit_heaps_lock_held@Python/gc_free_threading.c', 'gc_collect_main@Python/gc_free_threading.c'))).toBe(true);
    expect(heapCorruption(frames('bytearray_find_internal@Objects/bytearrayobject.c'))).toBe(false);
    // A free the object's own code made with a bad pointer is that object's bug, not a victim's fault.
    expect(heapCorruption(frames('mi_free@Objects/mimalloc/alloc.c', 'groupby_step@Modules/itertoolsmodule.c', 'groupby_next@Modules/itertoolsmodule.c'))).toBe(false);
    expect(heapCorruption(frames('_mi_page_free_collect@Include/internal/mimalloc/mimalloc/internal.h', 'mi_heap_page_collect@Objects/mimalloc/heap.c', '_mi_heap_collect_retired@Objects/mimalloc/heap.c', 'mi_free@Objects/mimalloc/alloc.c', 'list_dealloc@Objects/listobject.c'))).toBe(true);
  });

  it('signs a heap-corruption crash by the shared objects, not the op the faulting thread ran', () => {
    const program = { path: '/x.py', name: 'x.py', source: SCENARIO };
    const core = (inner: string[]): NativeEvidence => ({ source: 'core', faultingLwp: 2, signal: 11, clkTck: 100, raw: '', samples: [{ threads: [thread(2, ...inner)], ticks: {}, python: {}, at: null }] });
    const heap = fakeRun('gil-off', { program, termination: { kind: 'signal', signal: 'SIGSEGV' }, native: core(['mi_block_nextx@Include/internal/mimalloc/mimalloc/internal.h', '_mi_page_malloc@Objects/mimalloc/alloc.c', 'deque_copy@Modules/_collectionsmodule.c']) });
    const [finding] = crashOracle.check([heap]);
    expect(finding?.signature).toMatch(/\|heap:bytearray\+deque$/);
    expect(finding?.signature).not.toMatch(/\|op:/);
    expect(heapCulprits(frames('bytearray_find_internal@Objects/bytearrayobject.c'), program)).toBeNull();
  });
});
