// `npm run bench`: speed and memory figures, measured in one run and reported as rates and ratios
// (never asserted in tests: these machines are shared and noisy).
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkProgram } from '../check.js';
import { generateProgram } from '../generators/program.js';
import { ALL_ORACLES } from '../oracles/index.js';
import { buildExtension } from '../runtime/extension.js';
import { packageRoot } from '../runtime/paths.js';
import { ensureDefaultTarget } from '../runtime/provision.js';
import type { Target } from '../types.js';
import { mutateProgram } from '../generators/mutators.js';
import { Rng } from '../generators/rng.js';
import { CrashStore } from '../store/crashStore.js';
import { minimize } from '../triage/minimize.js';

interface Row {
  name: string;
  value: string;
  note?: string;
}

function timeIt(n: number, fn: (i: number) => void): number {
  const start = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return (performance.now() - start) / 1000;
}

function generatorSection(): Row[] {
  // Warm-up so JIT compilation is not billed to the first programs.
  for (let i = 0; i < 50; i++) generateProgram(`warm-${i}`);
  const n = 2000;
  let bytes = 0;
  const genSeconds = timeIt(n, (i) => {
    bytes += generateProgram(i).source.length;
  });
  const rng = new Rng('bench-mutate');
  const parents = Array.from({ length: 50 }, (_, i) => generateProgram(`p${i}`).meta);
  const mutSeconds = timeIt(n, (i) => {
    const p = parents[i % parents.length];
    if (p) mutateProgram(rng, { scenario: p.scenario, options: p.options, seed: p.seed }, 2);
  });
  return [
    { name: 'generate: programs/s', value: (n / genSeconds).toFixed(0), note: `${n} programs, mean ${(bytes / n / 1024).toFixed(1)} KiB of source` },
    { name: 'mutate (2 mutations + render): programs/s', value: (n / mutSeconds).toFixed(0) },
  ];
}

const PLANTED = [
  { oracle: 'refcount', file: 'refcount_leak.py', bug: 'extra Py_INCREF (leak_ref)' },
  { oracle: 'refcount', file: 'refcount_overrelease.py', bug: 'borrowed returned as new (first_borrowed)' },
  { oracle: 'lost-write', file: 'lost_counter.py', bug: 'unlocked counter RMW (Counter.increment)' },
  { oracle: 'lost-write', file: 'lazy_table.py', bug: 'table published before filled (table_lookup)' },
  { oracle: 'leak', file: 'leak_rounds.py', bug: 'leaked reference per call, 8 rounds (leak_ref)' },
];

/**
 * Per oracle: detection rate on its planted bug over 20 gil-off runs, false positives on the correct
 * twin over 20 runs, and the cost it adds per execution: wall time with the oracle's instrumentation
 * (probes, accounting, rounds) over the same program with it off (FTFUZZ_ORACLE_OFF=1), plus the time to
 * evaluate all oracles on a run.
 */
async function oracleSection(target: Target): Promise<Row[]> {
  const dir = path.join(packageRoot, 'tests', 'fixtures', 'planted');
  const ext = await buildExtension(target, path.join(dir, 'ftfuzz_planted.c'), await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-bench-')));
  const rows: Row[] = [];
  const runs = 20;
  for (const p of PLANTED) {
    const exec = (variant: string, off: boolean) =>
      checkProgram({
        file: path.join(dir, p.file),
        targets: [target],
        modes: ['gil-off'],
        runs,
        jobs: 1,
        timeoutMs: 60_000,
        env: { PYTHONPATH: ext, FTFUZZ_PLANTED: variant, FTFUZZ_ORACLE_OFF: off ? '1' : '0' },
      });
    const bug = await exec('bug', false);
    const oracle = ALL_ORACLES.find((o) => o.name === p.oracle);
    const detected = bug.runs.filter((r) => (oracle?.check([r]) ?? []).length > 0).length;
    const twin = await exec('twin', false);
    const off = await exec('bug', true);
    const mean = (xs: { durationMs: number }[]) => xs.reduce((a, r) => a + r.durationMs, 0) / xs.length;
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) for (const r of bug.runs) for (const o of ALL_ORACLES) o.check([r]);
    const checkMs = (performance.now() - t0) / (200 * bug.runs.length);
    rows.push({
      name: `${p.oracle}: ${p.bug}`,
      value: `${detected}/${runs}`,
      note: `twin findings ${twin.findings.length} in ${runs} runs; cost ${(mean(bug.runs) / mean(off.runs)).toFixed(2)}x a run without it (${mean(bug.runs).toFixed(0)} vs ${mean(off.runs).toFixed(0)} ms); oracle evaluation ${(checkMs * 1000).toFixed(0)} µs/run`,
    });
  }
  return rows;
}

/**
 * Minimization of the planted bugs: each fixture recorded as a bucket (with the extension copied beside
 * repro.py, so plain `python repro.py` imports it), then `minimize` with 3 trials per candidate. Hand-written
 * programs get AST reduction; their checked findings must also pass under the GIL (the guard), so a bug
 * that shows with the GIL too (the refcount ones) is reported as not safely reducible.
 */
async function minimizeSection(target: Target): Promise<Row[]> {
  const dir = path.join(packageRoot, 'tests', 'fixtures', 'planted');
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-bench-min-'));
  const ext = await buildExtension(target, path.join(dir, 'ftfuzz_planted.c'), path.join(work, 'ext'));
  const store = new CrashStore(path.join(work, 'crashes'));
  const rows: Row[] = [];
  const reductions: number[] = [];
  for (const p of PLANTED) {
    const report = await checkProgram({ file: path.join(dir, p.file), targets: [target], modes: ['gil-off'], runs: 1, timeoutMs: 60_000, env: { PYTHONPATH: ext } });
    const finding = report.findings.find((f) => f.oracle === p.oracle);
    if (!finding) {
      rows.push({ name: `${p.oracle}: ${p.bug}`, value: 'n/a', note: 'not found in one run' });
      continue;
    }
    const source = await fs.readFile(path.join(dir, p.file), 'utf8');
    const { bucket } = await store.record({ finding, source, target, stderrTail: '' });
    for (const f of await fs.readdir(ext)) await fs.copyFile(path.join(ext, f), path.join(store.dir(bucket), f));
    const file = path.join(store.dir(bucket), 'repro.py');
    const started = performance.now();
    const r = await minimize({
      file, source: await fs.readFile(file, 'utf8'), target, modes: ['gil-off'], signature: finding.signature,
      trialsPerCandidate: 3, requiredHits: 2, timeoutMs: 60_000, budgetMs: 180_000,
    });
    const pct = r.accepted ? Math.round((1 - r.linesAfter / r.linesBefore) * 100) : 0;
    if (r.stoppedBy !== 'unsafe' && r.stoppedBy !== 'no-baseline') reductions.push(pct);
    rows.push({
      name: `${p.oracle}: ${p.bug}`,
      value: r.stoppedBy === 'unsafe' ? 'unsafe' : `-${pct}%`,
      note: `${r.linesBefore} -> ${r.linesAfter} lines by ${r.strategy}; ${r.candidatesTried} candidates, ${r.accepted} kept, ${((performance.now() - started) / 1000).toFixed(0)} s, stopped by ${r.stoppedBy}`,
    });
  }
  const sorted = [...reductions].sort((a, b) => a - b);
  const median = sorted.length ? ((sorted[(sorted.length - 1) >> 1] as number) + (sorted[sorted.length >> 1] as number)) / 2 : 0;
  rows.push({ name: 'median line reduction (safely reducible)', value: `${median}%`, note: `${sorted.length} planted bug(s)` });
  return rows;
}

async function main(): Promise<void> {
  const sections: [string, () => Row[] | Promise<Row[]>][] = [
    ['generators', generatorSection],
    ['oracles', async () => oracleSection(await ensureDefaultTarget())],
    ['minimize', async () => minimizeSection(await ensureDefaultTarget())],
  ];
  const only = process.argv[2];
  for (const [name, run] of sections) {
    if (only && only !== name) continue;
    console.log(`== ${name}`);
    for (const row of await run()) console.log(`  ${row.name.padEnd(56)} ${row.value.padStart(8)}${row.note ? `   (${row.note})` : ''}`);
  }
}

await main();
