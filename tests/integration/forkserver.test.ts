// The fork-server executor: the same results as the spawn reference on the same programs, isolation from
// crashing children, and a campaign that goes on, losing nothing, when its fork server is killed.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { runCampaign } from '../../src/campaign/fuzz.js';
import { checkProgram } from '../../src/check.js';
import { ForkServerExecutor } from '../../src/runtime/forkServerExecutor.js';
import { SpawnExecutor } from '../../src/runtime/spawnExecutor.js';
import { probeTarget } from '../../src/runtime/targets.js';
import type { RunResult } from '../../src/types.js';

const program = (name: string) => path.join(import.meta.dirname, '..', 'fixtures', 'programs', name);

/** What must be identical between executors: everything but timing, pids and racy values. */
const essence = (r: RunResult) => ({
  mode: r.modeRequested,
  termination: r.termination.kind === 'timeout' ? 'timeout' : r.termination,
  start: r.modeObservedAtStart,
  end: r.modeObservedAtEnd,
  expected: r.expected,
  racy: r.racy,
  threadExceptions: [...r.threadExceptions].sort((a, b) => a.thread.localeCompare(b.thread)),
  uncaught: r.uncaughtException,
  records: r.records.map((x) => x.type).sort(),
});

describe('fork-server executor', () => {
  it('gives the spawn executor\'s results and findings on the fixtures', async () => {
    const target = await probeTarget(inject('ftPython'), 'flag');
    const fork = new ForkServerExecutor();
    try {
      for (const name of ['clean.py', 'segfault_thread.py', 'deadlock.py', 'unbounded_alloc.py']) {
        // Only the deadlock should time out: the others get a timeout no loaded machine reaches.
        const timeoutMs = name === 'deadlock.py' ? 3_000 : 120_000;
        const common = { file: program(name), targets: [target], runs: 1, jobs: 1, timeoutMs, limits: { memoryBytes: 2 * 1024 ** 3 } };
        const viaSpawn = await checkProgram({ ...common, executor: new SpawnExecutor() });
        const viaFork = await checkProgram({ ...common, executor: fork });
        expect(viaFork.runs.map(essence), name).toEqual(viaSpawn.runs.map(essence));
        expect(viaFork.findings.map((f) => f.signature), name).toEqual(viaSpawn.findings.map((f) => f.signature));
        if (name === 'clean.py') expect(viaFork.runs.map((r) => r.observables)).toEqual(viaSpawn.runs.map((r) => r.observables));
      }
      // Crashing, hanging and exhausted children left the server serving: one server per mode.
      expect(fork.serversStarted).toBe(2);
    } finally {
      await fork.close();
    }
  });

  it('replaces a server that dies, and recycles one after its program quota', async () => {
    const target = await probeTarget(inject('ftPython'), 'flag');
    const fork = new ForkServerExecutor({ recycleAfter: 3 });
    try {
      const run = () => checkProgram({ file: program('clean.py'), targets: [target], modes: ['gil-off'], runs: 1, timeoutMs: 60_000, executor: fork });
      for (let i = 0; i < 4; i++) expect((await run()).runs[0]?.termination).toEqual({ kind: 'exit', code: 0 });
      expect(fork.serversStarted).toBe(2);
      for (const pid of fork.serverPids()) process.kill(pid, 'SIGKILL');
      expect((await run()).runs[0]?.termination).toEqual({ kind: 'exit', code: 0 });
      expect(fork.serversStarted).toBe(3);
    } finally {
      await fork.close();
    }
  });

  it('a campaign goes on when its fork server is killed mid-run, and loses no program', async () => {
    const target = await probeTarget(inject('ftPython'), 'flag');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-fork-'));
    const fork = new ForkServerExecutor();
    let kills = 0;
    const killer = setInterval(() => {
      for (const pid of fork.serverPids()) {
        process.kill(pid, 'SIGKILL');
        kills += 1;
      }
    }, 700);
    try {
      const stats = await runCampaign({
        targets: [target], modes: ['gil-off', 'gil-on'], jobs: 2, timeoutMs: 30_000, seed: 'killed-server', maxPrograms: 40, executor: fork,
        crashDir: path.join(dir, 'crashes'), corpusDir: path.join(dir, 'corpus'),
        genOptions: { kinds: ['list', 'dict', 'set'], effects: ['exact'], iterations: [20, 60] },
      });
      expect(kills).toBeGreaterThan(0);
      // Every program ran in both modes and nothing was reported for the servers' deaths.
      expect(stats).toMatchObject({ programs: 40, executions: 80, buckets: [], stoppedBy: 'budget' });
      expect(fork.serversStarted).toBeGreaterThan(2);
    } finally {
      clearInterval(killer);
      await fork.close();
    }
  });
});
