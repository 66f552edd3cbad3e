// Planted bugs (tests/fixtures/planted/ftfuzz_planted.c): each is flagged by the oracle meant for it
// under gil-off, with a signature naming it; each correct twin gives no finding in 20 runs.
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { checkProgram } from '../../src/check.js';
import { buildExtension } from '../../src/runtime/extension.js';
import { probeTarget } from '../../src/runtime/targets.js';
import type { Target } from '../../src/types.js';

const dir = path.join(import.meta.dirname, '..', 'fixtures', 'planted');
const fixture = (name: string) => path.join(dir, name);
let target: Target;
let debugTarget: Target;
let buildDir = '';
let debugBuildDir = '';

beforeAll(async () => {
  target = await probeTarget(inject('ftPython'), 'flag');
  debugTarget = await probeTarget(inject('ftPythonDebug'), 'flag');
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-planted-'));
  buildDir = await buildExtension(target, fixture('ftfuzz_planted.c'), path.join(tmp, 'release'));
  debugBuildDir = await buildExtension(debugTarget, fixture('ftfuzz_planted.c'), path.join(tmp, 'debug'));
});

async function run(name: string, variant: 'bug' | 'twin', runs: number, on: Target = target, ext = buildDir) {
  return checkProgram({
    file: fixture(name),
    targets: [on],
    modes: ['gil-off'],
    runs,
    // One execution at a time: a race needs free cores, and two programs on this 2-core machine leave
    // each other's threads little true parallelism.
    jobs: 1,
    timeoutMs: 60_000,
    env: { PYTHONPATH: ext, FTFUZZ_PLANTED: variant },
  });
}

describe('planted bugs are flagged by their oracle under gil-off', () => {
  it('extra Py_INCREF never released -> refcount: leaked-reference via leak_ref', async () => {
    const report = await run('refcount_leak.py', 'bug', 2);
    expect(report.runs.every((r) => r.modeObservedAtEnd === 'gil-off')).toBe(true); // Py_mod_gil kept the GIL off
    expect(report.findings.map((f) => f.signature)).toEqual(['refcount|leaked-reference|ftfuzz_planted.leak_ref']);
  });

  it('borrowed reference returned as new -> refcount: over-release via first_borrowed', async () => {
    const report = await run('refcount_overrelease.py', 'bug', 2);
    expect(report.findings.map((f) => f.signature)).toEqual(['refcount|over-release|ftfuzz_planted.first_borrowed']);
  });

  it('unlocked read-modify-write on a thread-safe counter -> lost-write: lost via Counter.increment', async () => {
    const report = await run('lost_counter.py', 'bug', 6);
    const lost = report.findings.filter((f) => f.kind === 'lost-write');
    expect(lost.map((f) => f.signature)).toEqual(['lost-write|lost|ftfuzz_planted.Counter|Counter.increment']);
    expect(report.findings.filter((f) => f.kind !== 'lost-write')).toEqual([]);
  });

  it('lazy table published before filled -> lost-write: phantom via table_lookup', async () => {
    const report = await run('lazy_table.py', 'bug', 6);
    expect(report.findings.map((f) => f.signature)).toEqual(['lost-write|phantom|ftfuzz_planted lazy table|table_lookup']);
  });

  it('references leaked every round -> leak: gc objects and tracemalloc grow every measured round', async () => {
    const report = await run('leak_rounds.py', 'bug', 1);
    const [leak, ...rest] = report.findings;
    expect(rest).toEqual([]);
    expect(leak?.kind).toBe('leak');
    expect(leak?.signature).toBe('leak|ftfuzz_planted.leak_ref(new list)');
    expect(leak?.title).toMatch(/gc_objects \+[\d/+]+; .*tracemalloc/);
  });

  it('on a debug build, an over-release below zero is caught as a negative refcount', async () => {
    const report = await run('refcount_negative.py', 'bug', 1, debugTarget, debugBuildDir);
    const kinds = report.findings.map((f) => f.kind);
    expect(kinds).toContain('refcount');
    expect(report.findings.find((f) => f.kind === 'refcount')?.signature).toBe('refcount|negative|Probe');
  });
});

describe('debug builds: sys.gettotalrefcount() deltas', () => {
  it('a leak that touches no probe is flagged from the total refcount; the twin stays within tolerance', async () => {
    const bug = await run('refcount_total.py', 'bug', 2, debugTarget, debugBuildDir);
    expect(bug.findings.map((f) => f.signature)).toEqual(['refcount|total-leak|ftfuzz_planted.leak_ref']);
    const twin = await run('refcount_total.py', 'twin', 10, debugTarget, debugBuildDir);
    expect(twin.findings).toEqual([]);
  });
});

describe('correct twins give no finding in 20 runs', () => {
  for (const name of ['refcount_leak.py', 'refcount_overrelease.py', 'lost_counter.py', 'lazy_table.py', 'leak_rounds.py']) {
    it(name, async () => {
      const report = await run(name, 'twin', 20);
      expect(report.runs.every((r) => r.termination.kind === 'exit' && r.termination.code === 0)).toBe(true);
      expect(report.findings).toEqual([]);
    });
  }
});

describe('a documented race in pure Python is not a runtime bug', () => {
  it('x += 1 without a lock differs under gil-off but is never called a runtime bug', async () => {
    const report = await checkProgram({ file: path.join(dir, '..', 'programs', 'race_counter.py'), targets: [target], runs: 3, timeoutMs: 60_000 });
    expect(report.findings.length).toBeGreaterThan(0);
    expect(report.findings.every((f) => f.verdict !== 'runtime-bug')).toBe(true);
  });
});
