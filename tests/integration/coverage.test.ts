// The coverage build (variant coverage, SanitizerCoverage + native/ftfuzz_cov.c) and the schedule shim
// (native/ftfuzz_sched.c), on a real interpreter: per-run edges from both executors, fork-server workers
// included; collision witnesses that a single thread does not reach; a campaign that reports them; and a
// perturbed run with the shim's helper thread in it.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { CollisionCoverage } from '../../src/campaign/collisions.js';
import type { Executor } from '../../src/runtime/executor.js';
import { ForkServerExecutor } from '../../src/runtime/forkServerExecutor.js';
import { coverageMapFor, type ObjectEdges } from '../../src/runtime/nativeCoverage.js';
import { schedShim } from '../../src/runtime/schedShim.js';
import { SpawnExecutor } from '../../src/runtime/spawnExecutor.js';
import { probeTarget } from '../../src/runtime/targets.js';
import type { GilMode, RunResult, Target } from '../../src/types.js';

const fixture = (name: string) => path.join(import.meta.dirname, '..', 'fixtures', 'programs', 'collide', name);
const bin = path.join(import.meta.dirname, '..', '..', 'bin', 'ftfuzz.js');

let dumps = 0;

async function runOn(executor: Executor, target: Target, file: string, mode: GilMode, work: string, extra: { fresh?: boolean } = {}): Promise<RunResult> {
  const edgesFile = path.join(work, `${path.basename(file)}.${mode}.${dumps++}.cov`);
  return executor.execute({ program: { path: file, name: path.basename(file) }, target, mode, runIndex: 0, timeoutMs: 120_000, edgesFile, ...extra });
}

const hitsIn = (edges: ObjectEdges[] | undefined, object: (name: string) => boolean) =>
  (edges ?? []).filter((o) => object(o.object)).reduce((n, o) => n + o.bits.reduce((m, b) => m + (b.toString(2).match(/1/g)?.length ?? 0), 0), 0);

describe('coverage build', () => {
  it('gives each run its own edges, in fresh processes and in reused fork-server workers', async () => {
    const target = await probeTarget(inject('ftPythonCoverage'), 'flag');
    expect(target.coverage).toBe(true);
    expect(target.label).toContain('coverage');
    const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-cov-'));
    const fork = new ForkServerExecutor();
    const spawned = new SpawnExecutor();
    try {
      const json = (o: string) => /\/_json\./.test(o);
      const a = await runOn(fork, target, fixture('uses_json.py'), 'gil-off', work);
      const b = await runOn(fork, target, fixture('alone.py'), 'gil-off', work);
      // b ran in the worker a left (a was quiet): its flags were cleared first, so none of _json's.
      expect(b.reusedProcess).toBe(true);
      expect(hitsIn(a.edges, json)).toBeGreaterThan(10);
      expect(hitsIn(b.edges, json)).toBe(0);
      const c = await runOn(spawned, target, fixture('uses_json.py'), 'gil-off', work);
      expect(hitsIn(c.edges, json)).toBeGreaterThan(10);
      expect(hitsIn(c.edges, (o) => o === target.executable || o.endsWith('/python3.13t'))).toBeGreaterThan(1000);
      // Every dump was read and removed.
      expect((await fs.readdir(work)).filter((n) => n.endsWith('.cov'))).toEqual([]);
    } finally {
      await fork.close();
      await fs.rm(work, { recursive: true, force: true });
    }
  });

  it('finds collision witnesses where threads meet in C code, and none for one thread', async () => {
    const target = await probeTarget(inject('ftPythonCoverage'), 'flag');
    const map = await coverageMapFor(target);
    // The interpreter's own witnesses are in the map: the contended slow paths are functions of this build.
    expect(map.witnessRules()).toEqual(expect.arrayContaining(['critical-section-slow', 'brc-queue']));
    const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-cov-'));
    const spawned = new SpawnExecutor();
    try {
      const alone = new CollisionCoverage(map);
      for (let i = 0; i < 2; i++) {
        const runs = [await runOn(spawned, target, fixture('alone.py'), 'gil-off', work), await runOn(spawned, target, fixture('alone.py'), 'gil-on', work)];
        expect(alone.record(runs, ['dict', 'list']).witnesses).toEqual([]);
      }
      // Races need free cores: a few attempts, each a GIL-off run against its GIL-on baseline.
      const met = new CollisionCoverage(map);
      let witnesses: string[] = [];
      for (let i = 0; i < 4 && witnesses.length === 0; i++) {
        const runs = [await runOn(spawned, target, fixture('contended.py'), 'gil-off', work), await runOn(spawned, target, fixture('contended.py'), 'gil-on', work)];
        witnesses = met.record(runs, ['dict', 'list']).witnesses;
      }
      expect(witnesses.length).toBeGreaterThan(0);
      expect(met.stats().witnessPairs).toBeGreaterThan(0);
    } finally {
      await fs.rm(work, { recursive: true, force: true });
    }
  });

  it('runs a campaign whose summary and --json show C edges and witnesses', async () => {
    const python = inject('ftPythonCoverage');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-cov-campaign-'));
    try {
      const out = execFileSync(process.execPath, [bin, 'fuzz', '--python', python, '--runs', '24', '--seed', 'covtest', '--crashes', path.join(dir, 'c'), '--corpus', path.join(dir, 'k'), '--json', path.join(dir, 's.json'), '--repro-trials', '0'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 170_000 });
      const stats = JSON.parse(await fs.readFile(path.join(dir, 's.json'), 'utf8')) as { programs: number; corpusAdded: number; collisions?: { edgesSeen: number; edgesTotal: number; programs: number; byArea: Record<string, { seen: number }> } };
      expect(stats.collisions?.edgesSeen).toBeGreaterThan(5000);
      expect(stats.collisions?.edgesTotal).toBeGreaterThan(stats.collisions?.edgesSeen ?? 0);
      expect(stats.collisions?.byArea.Objects?.seen).toBeGreaterThan(1000);
      // The first programs all reach new edges: the corpus keeps them.
      expect(stats.corpusAdded).toBeGreaterThan(0);
      expect(out).toMatch(/C coverage \(CPython 3\.13\.\d+t \(coverage\)\): \d+\/\d+ edges/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('schedule perturbation', () => {
  it('puts its helper thread in a perturbed run (fork server and plain), and none in the others', async () => {
    const target = await probeTarget(inject('ftPython'), 'flag');
    const shim = await schedShim();
    const file = fixture('threads_seen.py');
    const fork = new ForkServerExecutor();
    const count = (r: RunResult) => Number(/os-threads (\d+)/.exec(r.stdoutTail)?.[1]);
    try {
      const run = (sched: boolean, executor: Executor = fork, plain = false) =>
        executor.execute({ program: { path: file, name: 'threads_seen.py' }, target, mode: 'gil-off', runIndex: 0, timeoutMs: 60_000, plain, ...(sched ? { sched: { shim, seed: '42' } } : {}) });
      const quiet = await run(false);
      const perturbed = await run(true);
      const after = await run(false);
      expect([count(quiet), count(perturbed), count(after)]).toEqual([3, 4, 3]);
      expect(perturbed.schedSeed).toBe('42');
      // A reproducer run as the header says: LD_PRELOAD and the seed in its environment, no harness.
      const plainRun = await new SpawnExecutor().execute({ program: { path: file, name: 'threads_seen.py' }, target, mode: 'gil-off', runIndex: 0, timeoutMs: 60_000, plain: true, env: { LD_PRELOAD: shim, FTFUZZ_SCHED_SEED: '42' } });
      expect(count(plainRun)).toBe(4);
    } finally {
      await fork.close();
    }
  });
});
