// `npm run bench`: speed and memory figures, measured in one run and reported as rates and ratios
// (never asserted in tests: these machines are shared and noisy).
import { UsageError } from '../src/errors.js';
import { checkSeed } from '../src/seed.js';
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkProgram } from '../src/check.js';
import yargs from 'yargs';
import { parseDuration } from '../src/units.js';
import { generateProgram } from '../src/generators/program.js';
import { bugsBenchmark, formatBugsReport, isRealBug, regradeBenchmark } from './bugs.js';
import { fleetSection } from './fleet.js';
import { familiesSection } from './families.js';
import { feedbackSection } from './feedback.js';
import { fleetLoadBenchmark } from './fleetLoad.js';
import { checkExtension, formatExtensionRow, PACKAGES } from './extensions.js';
import { reportSection } from './report.js';
import { ALL_ORACLES } from '../src/oracles/index.js';
import { buildExtension } from '../src/runtime/extension.js';
import { packageRoot } from '../src/runtime/paths.js';
import { ensureDefaultTarget, installPython } from '../src/runtime/provision.js';
import { parseTsanReports, raceOracle } from '../src/oracles/raceOracle.js';
import type { Target } from '../src/types.js';
import { mutateProgram } from '../src/generators/mutators.js';
import { Rng } from '../src/generators/rng.js';
import { CrashStore } from '../src/store/crashStore.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createExecutor, ForkServerExecutor } from '../src/runtime/forkServerExecutor.js';
import { mapConcurrent } from '../src/runtime/matrix.js';
import type { Executor } from '../src/runtime/executor.js';
import { SpawnExecutor } from '../src/runtime/spawnExecutor.js';

const execFileP = promisify(execFile);
import { minimize } from '../src/triage/minimize.js';

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
      trialsPerCandidate: 3, requiredHits: 2, timeoutMs: 60_000, budgetMs: 120_000,
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

/**
 * Executors on the same generated programs (small, medium, large), in one run: spawn (a fresh process per
 * execution), the fork server (persistent workers, the default), the fork server with a fresh worker per
 * program (what persistence saves), and the in-process bound (every program in one interpreter, no
 * isolation, started like the fork server and timed without its start-up, like the fork server). Each
 * execution is one program in gil-off mode; `jobs` executions at once.
 */
async function executorSection(target: Target): Promise<Row[]> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-bench-exec-'));
  const sizes = [
    { name: 'small', n: 120, options: { threads: [4, 4] as [number, number], iterations: [20, 20] as [number, number], objects: [1, 1] as [number, number] } },
    { name: 'medium', n: 60, options: { threads: [4, 8] as [number, number], iterations: [200, 200] as [number, number], objects: [2, 3] as [number, number] } },
    { name: 'large', n: 20, options: { threads: [8, 16] as [number, number], iterations: [2000, 2000] as [number, number], objects: [3, 5] as [number, number] } },
  ];
  const jobs = os.availableParallelism();
  const rows: Row[] = [];
  for (const size of sizes) {
    // crash-only and invariant-only ops excluded: the in-process bound must be able to run them all in one interpreter.
    const files: string[] = [];
    for (let i = 0; i < size.n; i++) {
      const file = path.join(dir, `${size.name}-${i}.py`);
      await fs.writeFile(file, generateProgram(`bench-${size.name}-${i}`, { ...size.options, effects: ['exact'] }).source);
      files.push(file);
    }
    const request = (file: string, i: number, fresh = false) => ({ program: { path: file, name: path.basename(file) }, target, mode: 'gil-off' as const, runIndex: i, timeoutMs: 60_000, fresh });
    const rate = async (executor: Executor, fresh = false) => {
      await executor.execute(request(files[0] as string, 0, fresh)); // start-up outside the timing
      const started = performance.now();
      let peak = 0;
      const poll = setInterval(() => {
        peak = Math.max(peak, poolMemory(executor));
      }, 100);
      await mapConcurrent(files, jobs, (file, i) => executor.execute(request(file, i, fresh)));
      clearInterval(poll);
      await executor.close();
      return { perSecond: files.length / ((performance.now() - started) / 1000), peak };
    };
    const spawn = await rate(new SpawnExecutor());
    const fork = await rate(new ForkServerExecutor());
    const fresh = await rate(new ForkServerExecutor(), true);
    // In-process: the files split over `jobs` interpreters running at once, each its share back to back.
    const shares = Array.from({ length: jobs }, (_, j) => files.filter((_f, i) => i % jobs === j));
    const outputs = await Promise.all(
      shares.map((share) => execFileP(target.path, [path.join(packageRoot, 'python', 'ftfuzz_inprocess.py'), ...share], { env: { ...process.env, PYTHON_GIL: '0' }, maxBuffer: 1 << 20 })),
    );
    const slowest = Math.max(...outputs.map((o) => (JSON.parse(o.stdout.trim().split('\n').pop() ?? '{}') as { seconds: number }).seconds));
    const inProcess = files.length / slowest;
    rows.push(
      { name: `${size.name}: spawn execs/s`, value: spawn.perSecond.toFixed(1), note: `${files.length} programs, ${jobs} jobs` },
      { name: `${size.name}: fork server execs/s`, value: fork.perSecond.toFixed(1), note: `persistent workers; peak pool PSS ${(fork.peak / 1024 ** 2).toFixed(0)} MiB` },
      { name: `${size.name}: fork server, fresh worker per program`, value: fresh.perSecond.toFixed(1), note: `peak pool PSS ${(fresh.peak / 1024 ** 2).toFixed(0)} MiB` },
      { name: `${size.name}: in-process bound execs/s`, value: inProcess.toFixed(1), note: 'no isolation' },
      { name: `${size.name}: fork server / spawn`, value: `${(fork.perSecond / spawn.perSecond).toFixed(2)}x`, note: `fresh workers: ${(fresh.perSecond / spawn.perSecond).toFixed(2)}x` },
      { name: `${size.name}: fork server / in-process`, value: `${(fork.perSecond / inProcess).toFixed(2)}x`, note: `in-process / spawn: ${(inProcess / spawn.perSecond).toFixed(2)}x` },
    );
  }
  // The harness's own cost per execution: an empty program, one at a time, through each executor.
  const empty = path.join(dir, 'empty.py');
  await fs.writeFile(empty, 'pass\n');
  const n = 100;
  for (const [name, executor] of [['fork server', new ForkServerExecutor()], ['spawn', new SpawnExecutor()]] as const) {
    await executor.execute(request0(empty, target));
    const started = performance.now();
    for (let i = 0; i < n; i++) await executor.execute(request0(empty, target));
    await executor.close();
    rows.push({ name: `harness overhead per execution, ${name} (empty program)`, value: `${((performance.now() - started) / n).toFixed(1)} ms`, note: `${n} sequential executions` });
  }
  await fs.rm(dir, { recursive: true, force: true });
  return rows;
}

function request0(file: string, target: Target) {
  return { program: { path: file, name: path.basename(file) }, target, mode: 'gil-off' as const, runIndex: 0, timeoutMs: 60_000 };
}

/** Proportional memory (PSS: shared pages split among sharers) of a fork-server executor's servers and workers. */
function poolMemory(executor: Executor): number {
  if (!(executor instanceof ForkServerExecutor)) return 0;
  const pids = executor.serverPids().flatMap((pid) => [pid, ...childPids(pid)]);
  return pids.reduce((sum, pid) => sum + (proportionalBytes(pid) ?? 0), 0);
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function proportionalBytes(pid: number): number | null {
  try {
    const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * `npm run bench -- tsan`: a ThreadSanitizer build against the plain build of the same version, on the same
 * generated programs, one at a time (spawn executor both): the slowdown, the share of a TSan run that is
 * interpreter start-up (all a fork server could save), and the race reports per program.
 */
async function tsanSection(): Promise<Row[]> {
  const plain = (await installPython({ version: '3.13.15' })).target;
  const tsan = (await installPython({ version: '3.13.15', variant: 'tsan' })).target;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-bench-tsan-'));
  const n = 30;
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const file = path.join(dir, `p${i}.py`);
    await fs.writeFile(file, generateProgram(`bench-tsan-${i}`, { threads: [4, 4], iterations: [200, 200], objects: [1, 2] }).source);
    files.push(file);
  }
  const executor = new SpawnExecutor();
  const time = async (target: Target, list: string[]) => {
    const started = performance.now();
    let reports = 0;
    const signatures = new Set<string>();
    for (const [i, file] of list.entries()) {
      const run = await executor.execute({ program: { path: file, name: path.basename(file) }, target, mode: 'gil-off', runIndex: i, timeoutMs: 120_000 });
      reports += parseTsanReports(run.sanitizerLog ?? '').length;
      for (const f of raceOracle.check([run])) signatures.add(f.signature);
    }
    return { seconds: (performance.now() - started) / 1000, reports, signatures: signatures.size };
  };
  const empty = path.join(dir, 'empty.py');
  await fs.writeFile(empty, 'pass\n');
  const plainRuns = await time(plain, files);
  const tsanRuns = await time(tsan, files);
  const plainStart = await time(plain, Array.from({ length: 10 }, () => empty));
  const tsanStart = await time(tsan, Array.from({ length: 10 }, () => empty));
  await fs.rm(dir, { recursive: true, force: true });
  return [
    { name: 'plain 3.13.15t: s per program', value: (plainRuns.seconds / n).toFixed(2), note: `${n} generated programs, gil-off, one at a time` },
    { name: 'TSan 3.13.15t: s per program', value: (tsanRuns.seconds / n).toFixed(2), note: `${tsanRuns.reports} reports, ${tsanRuns.signatures} race signatures` },
    { name: 'TSan / plain slowdown', value: `${(tsanRuns.seconds / plainRuns.seconds).toFixed(1)}x` },
    { name: 'start-up (empty program): plain / TSan, ms', value: `${((plainStart.seconds / 10) * 1000).toFixed(0)} / ${((tsanStart.seconds / 10) * 1000).toFixed(0)}` },
    { name: 'start-up share of a TSan run', value: `${((tsanStart.seconds / 10 / (tsanRuns.seconds / n)) * 100).toFixed(0)}%`, note: 'the most a fork server could save' },
  ];
}

/**
 * `npm run bench -- bugs [--budget 30m] [--old 3.13.5] [--new 3.13.15] [--seed S] [--jobs 2] [--out DIR] [--regrade DIR]
 * [--executor forkserver|spawn] [--spawn-share X] [--surface-share X]`:
 * the known-bug benchmark (bugs.ts). Not part of the default run: it is a campaign.
 */
async function bugsSection(argv: string[]): Promise<Row[]> {
  const args = await yargs(argv)
    .option('budget', { type: 'string', default: '30m' })
    .option('old', { type: 'string', default: '3.13.5' })
    .option('new', { type: 'string', default: '3.13.15' })
    .option('seed', { type: 'string', default: `bugs-${Date.now().toString(36)}` })
    .option('jobs', { type: 'number', default: 2 })
    .option('out', { type: 'string', describe: 'a new or empty directory for the run' })
    .option('regrade', { type: 'string', describe: 'grade the store of an earlier run (its --out directory) again, without a campaign' })
    .option('executor', { choices: ['forkserver', 'spawn'] as const, default: 'forkserver' as const, describe: 'the campaign executor (spawn: every program in a fresh process)' })
    .option('spawn-share', { type: 'number', describe: 'share of fork-server programs run in fresh processes instead (campaign default 0.1)' })
    .option('surface-share', { type: 'number', describe: 'share of surface programs on the old release\'s C surface (campaign default 0.5; 0: the op table alone)' })
    .strict()
    .parse();
  const dir = args.regrade ?? args.out ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-bench-bugs-')));
  const report = args.regrade
    ? await regradeBenchmark({ dir, oldVersion: args.old, newVersion: args.new, log: (line) => console.log(line) })
    : await bugsBenchmark({
        budgetMs: parseDuration(args.budget, '--budget'), oldVersion: args.old, newVersion: args.new, seed: checkSeed(args.seed), jobs: args.jobs, dir,
        executor: args.executor === 'spawn' ? createExecutor('spawn') : undefined, spawnShare: args['spawn-share'], surfaceShare: args['surface-share'],
        log: (line) => console.log(line),
      });
  for (const line of formatBugsReport(report)) console.log(line);
  const real = report.families.filter(isRealBug);
  return [
    { name: 'families (suspected bugs) / buckets', value: `${report.families.length}/${report.families.reduce((n, f) => n + f.buckets.length, 0)}` },
    { name: 'real bugs: fixed-between', value: String(real.filter((g) => g.grade === 'fixed-between').length), note: `outside the table: ${real.filter((g) => g.grade === 'fixed-between' && !g.inTable).length}; results in ${dir}` },
    { name: 'real bugs: still present', value: String(real.filter((g) => g.grade === 'still-present').length), note: `outside the table: ${real.filter((g) => g.grade === 'still-present' && !g.inTable).length}` },
    { name: 'programs per CPU-hour', value: (report.stats.programs / ((report.stats.elapsedMs / 3_600_000) * args.jobs)).toFixed(0) },
  ];
}

/**
 * `npm run bench -- fleet-load [--workers 200] [--slices 2000] [--slice-ms 1000] [--jitter J]`: one coordinator,
 * one redis-server, many simulated workers (fleetLoad.ts); by default twice: slices of equal length (every
 * worker commits in the same burst) and slices of ±25%.
 */
async function fleetLoadSection(argv: string[]): Promise<Row[]> {
  const args = await yargs(argv)
    .option('workers', { type: 'number', default: 200 })
    .option('slices', { type: 'number', default: 2000 })
    .option('slice-ms', { type: 'number', default: 1000 })
    .option('jitter', { type: 'number', describe: 'slice times spread ±J (0..0.9); default: run with 0 and with 0.25' })
    .strict()
    .parse();
  if (args.jitter !== undefined && !(args.jitter >= 0 && args.jitter <= 0.9)) throw new UsageError(`--jitter ${args.jitter}: expected 0..0.9`);
  const rows: Row[] = [];
  for (const jitter of args.jitter === undefined ? [0, 0.25] : [args.jitter]) {
    const r = await fleetLoadBenchmark({ workers: args.workers, slices: args.slices, sliceMs: args['slice-ms'], jitter, log: (line) => console.log(`  ${line}`) });
    const ms = (s: { median: number; p99: number; mean: number }) => `median ${s.median.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, mean ${s.mean.toFixed(1)} ms`;
    const how = jitter ? `slices of ${r.sliceMs} ms ±${Math.round(jitter * 100)}%` : `slices of ${r.sliceMs} ms, all equal (lockstep)`;
    rows.push(
      { name: `${how}: slices committed / lost / run twice`, value: `${r.committed}/${r.lost}/${r.runTwice}`, note: `${r.workers} workers, ${r.slices} slices in ${(r.wallMs / 1000).toFixed(1)} s${r.failed.length ? `; lost: ${r.failed.slice(0, 3).join('; ')}` : ''}` },
      { name: `${how}: coordination share of slice time`, value: `${(100 * r.share).toFixed(2)}%`, note: `per slice: worker overhead ${ms(r.overheadMs)}; hand-off ${ms(r.handoffMs)}` },
      { name: `${how}: a worker's own signing and verifying per slice`, value: `${r.cryptoMs.toFixed(2)} ms`, note: 'what each machine spends on its own CPU; here all workers share one process, so a burst makes each wait for the others\' too' },
      { name: `${how}: lock renewals missed (stalled jobs)`, value: String(r.stalled) },
      { name: `${how}: redis-server CPU`, value: `${r.redisCpuSeconds.toFixed(1)} s`, note: `${((100 * r.redisCpuSeconds) / (r.wallMs / 1000)).toFixed(0)}% of one core over the run` },
    );
  }
  return rows;
}

/**
 * `npm run bench -- extensions [--duration 2m] [--packages markupsafe,pyrsistent]`: real C extensions from
 * Debian's source packages, built for the release and TSan 3.13.15t and checked for readiness (extensions.ts).
 */
async function extensionsSection(argv: string[]): Promise<Row[]> {
  const args = await yargs(argv)
    .option('duration', { type: 'string', default: '2m' })
    .option('packages', { type: 'string', describe: `comma-separated Debian source packages (default: ${PACKAGES.map((p) => p.pkg).join(',')})` })
    .strict()
    .parse();
  const wanted = args.packages ? args.packages.split(',') : PACKAGES.map((p) => p.pkg);
  const unknown = wanted.filter((w) => !PACKAGES.some((p) => p.pkg === w));
  if (unknown.length) throw new UsageError(`--packages ${unknown.join(',')}: not in the table (${PACKAGES.map((p) => p.pkg).join(', ')})`);
  const durationS = Math.round(parseDuration(args.duration, '--duration') / 1000);
  const rows: Row[] = [];
  for (const p of PACKAGES.filter((x) => wanted.includes(x.pkg))) {
    console.log(`  ${p.pkg}: building and checking (${durationS} s of fuzzing)`);
    const r = await checkExtension(p, { durationS, log: (l) => console.log(`    ${l}`) });
    const row = formatExtensionRow(r);
    console.log(`  ${row.name}: ${row.value} — ${row.note}`);
    rows.push(row);
  }
  return rows;
}

async function main(): Promise<void> {
  const sections: [string, () => Row[] | Promise<Row[]>][] = [
    ['generators', generatorSection],
    ['oracles', async () => oracleSection(await ensureDefaultTarget())],
    ['minimize', async () => minimizeSection(await ensureDefaultTarget())],
    ['executors', async () => executorSection(await ensureDefaultTarget())],
    ['tsan', tsanSection],
    ['bugs', () => bugsSection(process.argv.slice(3))],
    ['families', () => familiesSection(process.argv.slice(3))],
    ['report', () => reportSection()],
    ['fleet', async () => fleetSection(await ensureDefaultTarget(), { log: (line) => console.log(`  ${line}`) })],
    ['fleet-load', () => fleetLoadSection(process.argv.slice(3))],
    ['extensions', () => extensionsSection(process.argv.slice(3))],
    ['feedback', () => feedbackSection(process.argv.slice(3))],
  ];
  const only = process.argv[2];
  const names = sections.map(([name]) => name);
  if (only === '--help' || only === '-h') {
    console.log(`npm run bench [-- SECTION [OPTIONS]]   sections: ${names.join(', ')} (bugs, families, fleet, fleet-load, extensions and feedback run only when named)`);
    return;
  }
  if (only !== undefined && !names.includes(only)) {
    console.error(`ftfuzz bench: no section "${only}"; name one of ${names.join(', ')}`);
    process.exitCode = 2;
    return;
  }
  for (const [name, run] of sections) {
    if (only ? only !== name : ['bugs', 'families', 'fleet', 'fleet-load', 'extensions', 'feedback'].includes(name)) continue;
    console.log(`== ${name}`);
    for (const row of await run()) console.log(`  ${row.name.padEnd(56)} ${row.value.padStart(8)}${row.note ? `   (${row.note})` : ''}`);
  }
}

await main();
