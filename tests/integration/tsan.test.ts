// ThreadSanitizer builds (issue "ThreadSanitizer builds"): the planted extension, compiled with
// -fsanitize=thread for the TSan interpreter, shows its unlocked counter and its lazily published table as
// races naming the planted C functions, in 20 of 20 runs; their correct twins show no report in 20 runs.
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { checkProgram } from '../../src/check.js';
import { crashOracle } from '../../src/oracles/crashOracle.js';
import { raceOracle } from '../../src/oracles/raceOracle.js';
import { buildExtension } from '../../src/runtime/extension.js';
import { probeTarget } from '../../src/runtime/targets.js';
import type { Target } from '../../src/types.js';

const dir = path.join(import.meta.dirname, '..', 'fixtures', 'planted');
let tsan: Target;
let ext = '';

beforeAll(async () => {
  tsan = await probeTarget(inject('ftPythonTsan'), 'flag');
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-tsan-planted-'));
  ext = await buildExtension(tsan, path.join(dir, 'ftfuzz_planted.c'), tmp);
});

// Fewer iterations than on plain builds (TSan sees a race on the first unordered pair, at 5-15x the cost),
// in rounds of fresh threads: a run's accesses are ordered for TSan by the threads' own synchronization
// now and then (a stop-the-world collection, a shared lock), so one round shows the race in most runs, not all.
const SCALE: Record<string, Record<string, string>> = {
  'lost_counter.py': { FTFUZZ_PLANTED_ITERS: '2000', FTFUZZ_PLANTED_ROUNDS: '5' },
  'lazy_table.py': { FTFUZZ_PLANTED_ROUNDS: '20' },
};

async function run(name: string, variant: 'bug' | 'twin', runs: number) {
  return checkProgram({
    file: path.join(dir, name),
    targets: [tsan],
    modes: ['gil-off'],
    runs,
    jobs: 1,
    timeoutMs: 120_000,
    oracles: [raceOracle],
    env: { PYTHONPATH: ext, FTFUZZ_PLANTED: variant, ...SCALE[name] },
  });
}

describe('ThreadSanitizer build', () => {
  it('is a free-threaded TSan build with CPython\'s free-threading suppressions installed beside it', async () => {
    expect(tsan.sanitizers).toContain('thread');
    expect(tsan.freeThreaded).toBe(true);
    expect(tsan.tsanSuppressions).toBeDefined();
    expect(await fs.readFile(tsan.tsanSuppressions as string, 'utf8')).toMatch(/^race(_top)?:/m);
  });

  it('reports the planted unlocked counter as a race in counter_increment in 20/20 runs; its twin in none', async () => {
    const bug = await run('lost_counter.py', 'bug', 20);
    const planted = bug.findings.filter((f) => f.signature === 'race|data race|counter_increment [ftfuzz_planted] ~ counter_increment [ftfuzz_planted]');
    expect(planted).toHaveLength(1);
    // Every run: with TSan's default history_size some runs showed none (TSan drops a report whose earlier
    // access's stack it cannot restore); ftfuzz runs TSan with history_size=7 (src/reproduce.ts).
    expect(planted[0]?.hits).toBe(20);
    expect(planted[0]?.details).toMatch(/Previous (read|write)/);
    // The title names the planted module's own source lines for both accesses (what an extension's author reads).
    expect(planted[0]?.title).toMatch(/^data race: counter_increment \[ftfuzz_planted\] \(ftfuzz_planted\.c:\d+\) ~ counter_increment \[ftfuzz_planted\] \(ftfuzz_planted\.c:\d+\)$/);
    const twin = await run('lost_counter.py', 'twin', 20);
    expect(twin.findings.map((f) => f.signature)).toEqual([]);
    expect(twin.runs.every((r) => r.sanitizerLog === '')).toBe(true);
  }, 600_000);

  it('reports the lazily published table as a race between fill_table and table_lookup in 20/20 runs; its twin in none', async () => {
    const bug = await run('lazy_table.py', 'bug', 20);
    const planted = bug.findings.filter((f) => /^race\|data race\|.*(fill_table|table_lookup) \[ftfuzz_planted\]/.test(f.signature));
    expect(planted.length).toBeGreaterThan(0);
    // Every run shows the table race (under one signature or another of the planted functions).
    const runsWithPlanted = bug.runs.filter((r) => /fill_table|table_lookup/.test(r.sanitizerLog ?? '')).length;
    expect(runsWithPlanted).toBe(20);
    const twin = await run('lazy_table.py', 'twin', 20);
    expect(twin.findings.map((f) => f.signature)).toEqual([]);
    expect(twin.runs.every((r) => r.sanitizerLog === '')).toBe(true);
  }, 600_000);

  it('signs a crash on the TSan build by its C frames, from a core file (TSan turns cores off unless told)', async () => {
    const r = await checkProgram({
      file: path.join(dir, '..', 'native', 'crash_a.py'), targets: [tsan], modes: ['gil-off'], runs: 1, jobs: 1, timeoutMs: 60_000,
      oracles: [crashOracle], env: { PYTHONPATH: ext },
    });
    expect(r.findings.map((f) => f.signature)).toEqual([expect.stringMatching(/^crash\|SIGSEGV\|.*c:planted_crash_a/)]);
    expect(r.runs[0]?.native?.source).toBe('core');
  }, 120_000);
});
