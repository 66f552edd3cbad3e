// "Retry, then fall back": a lost run is tried again on the lossy executor, then on the fallback; a declined
// request goes straight to the fallback; nothing starts once the wrapper is closed.
import { describe, expect, it } from 'vitest';
import { RetryThenFallback, type LossyExecutor } from '../../src/runtime/fallback.js';
import type { ExecRequest, Executor } from '../../src/runtime/executor.js';
import type { RunResult } from '../../src/types.js';
import { fakeRun, fakeTarget } from '../helpers/runs.js';

const request = (overrides: Partial<ExecRequest> = {}): ExecRequest => ({
  program: { path: '/work/prog.py', name: 'prog.py' },
  target: fakeTarget(),
  mode: 'gil-off',
  runIndex: 0,
  timeoutMs: 1000,
  ...overrides,
});

/** A lossy executor that loses its first `losses` runs, then returns `result`. */
function lossy(losses: number, result: RunResult, declines = (r: ExecRequest) => r.plain === true) {
  const calls: ExecRequest[] = [];
  let closed = 0;
  const executor: LossyExecutor = {
    accepts: (r) => !declines(r),
    tryExecute: (r) => {
      calls.push(r);
      return Promise.resolve(calls.length <= losses ? null : result);
    },
    close: () => {
      closed += 1;
      return Promise.resolve();
    },
  };
  return { executor, calls, closed: () => closed };
}

function fallback(result: RunResult) {
  const calls: ExecRequest[] = [];
  let closed = 0;
  const executor: Executor = {
    name: 'spawn',
    execute: (r) => {
      calls.push(r);
      return Promise.resolve(result);
    },
    close: () => {
      closed += 1;
      return Promise.resolve();
    },
  };
  return { executor, calls, closed: () => closed };
}

const fromPool = fakeRun('gil-off', { stdoutTail: 'pool' });
const fromSpawn = fakeRun('gil-off', { stdoutTail: 'spawn' });

describe('RetryThenFallback', () => {
  it('returns the first run the lossy executor does not lose', async () => {
    const pool = lossy(1, fromPool);
    const spawn = fallback(fromSpawn);
    const executor = new RetryThenFallback('forkserver', pool.executor, spawn.executor);
    expect((await executor.execute(request())).stdoutTail).toBe('pool');
    expect(pool.calls).toHaveLength(2);
    expect(spawn.calls).toHaveLength(0);
  });

  it('runs a request lost on every attempt on the fallback', async () => {
    const pool = lossy(5, fromPool);
    const spawn = fallback(fromSpawn);
    const executor = new RetryThenFallback('forkserver', pool.executor, spawn.executor, 3);
    expect((await executor.execute(request())).stdoutTail).toBe('spawn');
    expect(pool.calls).toHaveLength(3);
    expect(spawn.calls).toHaveLength(1);
  });

  it('sends a declined request to the fallback without trying the lossy executor', async () => {
    const pool = lossy(0, fromPool);
    const spawn = fallback(fromSpawn);
    const executor = new RetryThenFallback('forkserver', pool.executor, spawn.executor);
    expect((await executor.execute(request({ plain: true }))).stdoutTail).toBe('spawn');
    expect(pool.calls).toHaveLength(0);
  });

  it('cancels instead of falling back once closed, and closes both executors', async () => {
    const pool = lossy(5, fromPool);
    const spawn = fallback(fromSpawn);
    const executor = new RetryThenFallback('forkserver', pool.executor, spawn.executor);
    await executor.close();
    expect((await executor.execute(request())).termination).toEqual({ kind: 'cancelled' });
    expect(spawn.calls).toHaveLength(0);
    expect([pool.closed(), spawn.closed()]).toEqual([1, 1]);
  });
});
