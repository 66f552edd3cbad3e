import { describe, expect, it } from 'vitest';
import { capped, defaultLimits } from '../../src/runtime/limits.js';

const none = { uncaughtException: null, threadExceptions: [] };

describe('containment caps', () => {
  it('shares half the RAM among the jobs, never below 1 GiB, and keeps the CPU cap beyond the timeout', () => {
    const GiB = 1024 ** 3;
    expect(defaultLimits(2, 30_000, 24 * GiB, 2)).toEqual({ memoryBytes: 6 * GiB, cpuSeconds: 70 });
    expect(defaultLimits(64, 30_000, 8 * GiB, 2).memoryBytes).toBe(GiB);
    // Every core busy for the whole timeout stays under the CPU cap: a spin is reported as a hang.
    const l = defaultLimits(1, 10_000, 8 * GiB, 4);
    expect(l.cpuSeconds).toBeGreaterThan((4 * 10_000) / 1000);
  });

  it('turns SIGXCPU and MemoryError under a cap into resource terminations, and nothing else', () => {
    expect(capped({ kind: 'signal', signal: 'SIGXCPU' }, none, { cpuSeconds: 5 })).toEqual({ kind: 'resource', resource: 'cpu', detail: 'more than 5 s of CPU time' });
    // Without a CPU cap SIGXCPU is not ours to explain.
    expect(capped({ kind: 'signal', signal: 'SIGXCPU' }, none, undefined)).toEqual({ kind: 'signal', signal: 'SIGXCPU' });
    const oom = { uncaughtException: null, threadExceptions: [{ thread: 'T1', excType: 'MemoryError', message: '' }] };
    expect(capped({ kind: 'exit', code: 0 }, oom, { memoryBytes: 100 })).toMatchObject({ kind: 'resource', resource: 'memory' });
    expect(capped({ kind: 'exit', code: 0 }, oom, undefined)).toEqual({ kind: 'exit', code: 0 });
    const noThread = { uncaughtException: { excType: 'RuntimeError', message: "can't start new thread" }, threadExceptions: [] };
    expect(capped({ kind: 'exit', code: 1 }, noThread, { memoryBytes: 100 })).toMatchObject({ kind: 'resource', resource: 'memory' });
    const other = { uncaughtException: { excType: 'RuntimeError', message: 'boom' }, threadExceptions: [] };
    expect(capped({ kind: 'exit', code: 1 }, other, { memoryBytes: 100 })).toEqual({ kind: 'exit', code: 1 });
    // A segfault under a cap is still a crash.
    expect(capped({ kind: 'signal', signal: 'SIGSEGV' }, oom, { memoryBytes: 100, cpuSeconds: 1 })).toEqual({ kind: 'signal', signal: 'SIGSEGV' });
  });
});
