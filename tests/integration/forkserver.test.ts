// The fork-server executor: the same results as the spawn reference on the same programs, isolation from
// crashing children, and a campaign that goes on, losing nothing, when its fork server is killed.
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { resolveSettings, runCampaign } from '../../src/campaign/fuzz.js';
import { checkProgram } from '../../src/check.js';
import { KINDS, OPS } from '../../src/generators/ops.js';
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
    let reusedSeen = false;
    try {
      // clean.py twice: the second time it runs in the worker the first left (quiet), and must not differ.
      for (const name of ['clean.py', 'clean.py', 'segfault_thread.py', 'deadlock.py', 'unbounded_alloc.py']) {
        // Only the deadlock should time out: the others get a timeout no loaded machine reaches. The deadlock
        // is known to hang: a short finish window (a campaign waits 60 s before it calls a run a hang).
        const timeoutMs = name === 'deadlock.py' ? 3_000 : 120_000;
        const common = { file: program(name), targets: [target], runs: 1, jobs: 1, timeoutMs, limits: { memoryBytes: 2 * 1024 ** 3 }, finishWindow: { minMs: 2 * timeoutMs } };
        const viaSpawn = await checkProgram({ ...common, executor: new SpawnExecutor() });
        const viaFork = await checkProgram({ ...common, executor: fork });
        if (viaFork.runs.some((r) => r.reusedProcess)) reusedSeen = true;
        expect(viaFork.runs.map(essence), name).toEqual(viaSpawn.runs.map(essence));
        expect(viaFork.findings.map((f) => f.signature), name).toEqual(viaSpawn.findings.map((f) => f.signature));
        if (name === 'clean.py') {
          expect(viaFork.runs.map((r) => r.observables)).toEqual(viaSpawn.runs.map((r) => r.observables));
          // A fresh worker (one program, then it ends as `python PROGRAM` does) gives the same too.
          for (const spawned of viaSpawn.runs) {
            const fresh = await fork.execute({ program: spawned.program, target, mode: spawned.modeRequested, runIndex: 0, timeoutMs, limits: common.limits, fresh: true });
            expect(fresh.reusedProcess).toBeUndefined();
            expect(essence(fresh)).toEqual(essence(spawned));
            expect(fresh.observables).toEqual(spawned.observables);
          }
        }
      }
      // Crashing, hanging and exhausted workers left the server serving: one server per mode.
      expect(fork.serversStarted).toBe(2);
      expect(reusedSeen).toBe(true);
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
        settings: resolveSettings({ seed: 'killed-server', maxPrograms: 40, genOptions: { kinds: ['list', 'dict', 'set'], effects: ['exact'], iterations: [20, 60] } }),
        targets: [target], jobs: 2, executor: fork, crashDir: path.join(dir, 'crashes'), corpusDir: path.join(dir, 'corpus'),
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

  it('a worker runs the next program only if the last one left the interpreter as it found it', async () => {
    const target = await probeTarget(inject('ftPython'), 'flag');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-reuse-'));
    // What the next program sees of the state the earlier ones could change.
    const probe = path.join(dir, 'probe.py');
    await fs.writeFile(
      probe,
      'import gc, json, signal, sys, threading\n' +
        'print(json.dumps({"gc": gc.isenabled(), "recursion": sys.getrecursionlimit(), "switch": sys.getswitchinterval(),\n' +
        '  "threads": threading.active_count(), "sigterm": str(signal.getsignal(signal.SIGTERM)), "trace": sys.gettrace() is None}))\n',
    );
    const changes: Record<string, string> = {
      switch: 'import sys\nsys.setswitchinterval(0.5)\n', // restored before every program: the worker lives on
      gc: 'import gc\ngc.disable()\n',
      recursion: 'import sys\nsys.setrecursionlimit(77)\n',
      signal: 'import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n',
      daemon: 'import threading, time\nthreading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n',
      stderr: 'import sys\nsys.stderr.write("a warning\\n")\n',
      trace: 'import sys\nsys.settrace(lambda *a: None)\n',
      exit1: 'raise SystemExit(1)\n',
    };
    const fork = new ForkServerExecutor();
    const run = async (file: string) =>
      fork.execute({ program: { path: file, name: path.basename(file) }, target, mode: 'gil-off', runIndex: 0, timeoutMs: 60_000 });
    try {
      const pristine = await run(probe);
      expect(pristine.termination).toEqual({ kind: 'exit', code: 0 });
      for (const [name, source] of Object.entries(changes)) {
        const file = path.join(dir, `${name}.py`);
        await fs.writeFile(file, source);
        const changed = await run(file);
        const after = await run(probe);
        // The probe saw what a fresh `python probe.py` sees, whatever the program before it did.
        expect(after.stdoutTail, name).toBe(pristine.stdoutTail);
        // Only the switch-interval program (its change is undone between programs) left a reusable worker.
        expect(after.reusedProcess === true, name).toBe(name === 'switch');
        expect(changed.reusedProcess, name).toBe(true); // each ran after a quiet probe
      }
    } finally {
      await fork.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('pre-imports every module a generated kind or op names (the server is told, not a list of its own)', async () => {
    const target = await probeTarget(inject('ftPython'), 'flag');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-warm-'));
    const wanted = [...new Set([...KINDS.flatMap((k) => k.imports), ...OPS.flatMap((o) => o.imports ?? [])])].sort();
    // xml.etree.ElementTree and unittest.mock are in no list of the server's own.
    expect(wanted).toEqual(expect.arrayContaining(['xml.etree.ElementTree', 'unittest.mock', 'pickle']));
    const probe = path.join(dir, 'loaded.py');
    await fs.writeFile(probe, `import json, sys\nprint(json.dumps([m for m in ${JSON.stringify(wanted)} if m not in sys.modules]))\n`);
    const fork = new ForkServerExecutor();
    try {
      const r = await fork.execute({ program: { path: probe, name: 'loaded.py' }, target, mode: 'gil-off', runIndex: 0, timeoutMs: 60_000 });
      expect(r.termination).toEqual({ kind: 'exit', code: 0 });
      expect(JSON.parse(r.stdoutTail.trim().split('\n').pop() ?? 'null')).toEqual([]);
    } finally {
      await fork.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('a finding from a reused worker is reported only if a fresh process shows it too', async () => {
    const target = await probeTarget(inject('ftPython'), 'flag');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-confirm-'));
    // `poison` ends quiet but leaves a mark no check can see; `victim` aborts only where the mark is.
    const poison = path.join(dir, 'poison.py');
    const victim = path.join(dir, 'victim.py');
    await fs.writeFile(poison, 'import json\njson._ftfuzz_mark = True\n');
    await fs.writeFile(victim, 'import json, os\nif getattr(json, "_ftfuzz_mark", False):\n    os.abort()\n');
    const fork = new ForkServerExecutor();
    const check = (file: string) => checkProgram({ file, targets: [target], modes: ['gil-off'], runs: 1, jobs: 1, timeoutMs: 60_000, executor: fork });
    try {
      expect((await check(poison)).findings).toEqual([]);
      const report = await check(victim);
      // The abort happened, in the poisoned worker, and is not reported: the fresh run is clean.
      expect(report.unconfirmed?.runs[0]?.reusedProcess).toBe(true);
      expect(report.unconfirmed?.runs[0]?.termination).toEqual({ kind: 'signal', signal: 'SIGABRT' });
      expect(report.unconfirmed?.notAgain.map((f) => f.kind)).toEqual(['crash']);
      expect(report.findings).toEqual([]);
      expect(report.runs[0]?.reusedProcess).toBeUndefined();
      expect(report.runs[0]?.termination).toEqual({ kind: 'exit', code: 0 });
      // A real crash after a quiet program is confirmed on a fresh worker and reported.
      expect((await check(poison)).findings).toEqual([]);
      const real = await check(program('segfault_thread.py'));
      expect(real.unconfirmed?.runs[0]?.reusedProcess).toBe(true);
      expect(real.unconfirmed?.notAgain).toEqual([]);
      expect(real.findings.map((f) => f.kind)).toEqual(['crash']);
    } finally {
      await fork.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('shuts down cleanly: closing the pool ends the workers of runs in flight, which end as cancelled', async () => {
    const target = await probeTarget(inject('ftPython'), 'flag');
    const fork = new ForkServerExecutor();
    const running = fork.execute({ program: { path: program('deadlock.py'), name: 'deadlock.py' }, target, mode: 'gil-off', runIndex: 0, timeoutMs: 120_000 });
    let workers: number[] = [];
    for (let i = 0; i < 100 && workers.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      workers = fork.serverPids().flatMap((pid) => childPids(pid));
    }
    expect(workers.length).toBe(1);
    await fork.close();
    expect((await running).termination).toEqual({ kind: 'cancelled' });
    // Gone, not orphaned to run until the wall alarm (a zombie awaiting its reaper counts as gone).
    await new Promise((r) => setTimeout(r, 200));
    for (const pid of workers) expect(alive(pid), `worker ${pid}`).toBe(false);
  });
});

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
