// The command line: parse options, call the library, print. Nothing here that a TypeScript user of the
// library would need.
import bytes from 'bytes';
import os from 'node:os';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { checkProgram, resolveTargets } from '../check.js';
import { FtfuzzError, UsageError, exitCodeOf } from '../errors.js';
import { selectOracles } from '../oracles/index.js';
import { installPython, VARIANTS } from '../runtime/provision.js';
import { ensureTools, missingTools, TOOL_PURPOSES, TOOLS } from '../runtime/provision/tools.js';
import { generateProgram } from '../generators/program.js';
import { resolveGenOptions, type GenOptions } from '../generators/scenario.js';
import { generateModuleProgram } from '../generators/moduleMode.js';
import { introspectModule } from '../runtime/introspect.js';
import { writeFileAtomic } from '../atomicWrite.js';
import { formatOpsTable } from './opsTable.js';
import { formatBucket, formatStats, formatSummary, runCampaign } from '../campaign/fuzz.js';
import { promises as fs } from 'node:fs';
import { InputError } from '../errors.js';
import { defaultLimits } from '../runtime/limits.js';
import { createExecutor, EXECUTORS } from '../runtime/forkServerExecutor.js';
import { nativeSupport } from '../runtime/nativeStacks.js';
import { CrashStore, reproHeaderFor } from '../store/crashStore.js';
import { minimize } from '../triage/minimize.js';
import { collectReplayItems, isFailing, replay, REPLAY_STATUSES, toJUnit } from '../triage/replay.js';
import { formatFamilyRow, formatTriageRow, shortLabel } from '../triage/triage.js';
import { measureFileRate } from '../trials/rate.js';
import { familyJson } from '../triage/families.js';
import { triageStore } from '../triage/session.js';
import { formatRate } from '../trials/claims.js';
import { bucketTrialLimit, trialModes } from '../trials/trials.js';
import { describeResign, needsResign, resignBucket } from '../triage/resign.js';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { EffectClass } from '../generators/ops.js';
import { discoverTargets, probeTarget } from '../runtime/targets.js';
import { ExitCode, GIL_MODES, type GilMode, type Target } from '../types.js';
import { formatReport, formatTargetRow } from './format.js';
import { parseDuration } from '../units.js';
import { openFleet, withExported } from '../fleet/session.js';
import { formatFleetSummary, runCoordinator, runWorker } from '../fleet/fleet.js';
import { redactUrl } from '../fleet/trust.js';
import { loadReportData, renderReport, timelineFiles } from '../report/report.js';

const say = (line: string) => process.stderr.write(`ftfuzz: ${line}\n`);

function parseModes(text: string): GilMode[] {
  const modes = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const m of modes) {
    if (!GIL_MODES.includes(m as GilMode)) throw new UsageError(`--modes ${text}: unknown mode "${m}"; use gil-off, gil-on or both`);
  }
  if (modes.length === 0) throw new UsageError('--modes is empty; use gil-off, gil-on or gil-off,gil-on');
  return modes as GilMode[];
}

function positiveInt(value: number, option: string): number {
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${option} ${value}: expected a whole number ≥ 1`);
  return value;
}

/** A duration option (a malformed one is a usage error, units.ts). */
function duration(value: string | number, option: string): number {
  return parseDuration(value, option);
}

/** `--memory-limit 4G` (the `bytes` package, binary units; a bare `G`, `M`, `K` means GiB, MiB, KiB). */
function parseBytes(text: string, option: string): number {
  const normal = text.trim().replace(/^(\d+(?:\.\d+)?)\s*([kmgtp])i?$/i, '$1$2b');
  const value = /^\d+(?:\.\d+)?\s*[kmgtp]?b$|^\d+$/i.test(normal) ? bytes.parse(normal) : null;
  if (value === null || !Number.isFinite(value)) throw new UsageError(`${option} ${text}: expected a size like 512M or 4G`);
  const size = Math.floor(value);
  if (size < 64 * 1024 ** 2) throw new UsageError(`${option} ${text}: below 64M an interpreter cannot even start its threads`);
  return size;
}

/** A bucket given as a directory, or as a name inside the crash store. */
async function resolveBucketDir(bucket: string, crashes: string): Promise<string> {
  for (const candidate of [path.resolve(bucket), path.resolve(crashes, bucket)]) {
    try {
      if ((await fs.stat(candidate)).isDirectory()) return candidate;
    } catch {
      // try the next
    }
  }
  throw new InputError(bucket, `is neither a bucket directory nor a bucket in ${crashes}; list them with ftfuzz triage`);
}

function parseRange(text: string | undefined, option: string): [number, number] | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)(?:\.\.(\d+))?$/.exec(text.trim());
  if (!m) throw new UsageError(`${option} ${text}: expected a number or a range like 2..8`);
  return [Number(m[1]), Number(m[2] ?? m[1])];
}

const EFFECTS: EffectClass[] = ['exact', 'invariant-only', 'crash-only'];

/** Generator knobs shared by `gen` (and later `fuzz`). */
function withGenOptions<T>(y: Argv<T>) {
  return y
    .option('threads', { type: 'string', describe: 'thread count or range, 2..16 (default 2..8)' })
    .option('iterations', { type: 'string', describe: 'iterations per thread, number or range (default 20..200)' })
    .option('objects', { type: 'string', describe: 'shared objects per program (default 1..3)' })
    .option('effects', { type: 'string', describe: 'effect classes allowed: exact,invariant-only,crash-only (default all)' })
    .option('kinds', { type: 'string', describe: 'restrict shared object kinds (see `ftfuzz ops`)' })
    .option('options', { type: 'string', describe: 'all generator options as JSON (as a program header records them)' });
}

type GenArgs = { threads?: string; iterations?: string; objects?: string; effects?: string; kinds?: string; options?: string };

function genOptionsFrom(args: GenArgs): GenOptions {
  try {
    return resolveGenOptions(genPartialFrom(args));
  } catch (error) {
    throw new UsageError(`generator options: ${(error as Error).message}`);
  }
}

/** The generator options a user gave (validated), without the defaults: a campaign's focused programs set the rest. */
function genPartialFrom(args: GenArgs): Partial<GenOptions> {
  let partial: Partial<GenOptions> = {};
  if (args.options) {
    try {
      partial = JSON.parse(args.options) as Partial<GenOptions>;
    } catch {
      throw new UsageError(`--options: not valid JSON; pass the object a program header records after "options:"`);
    }
  }
  const threads = parseRange(args.threads, '--threads');
  const iterations = parseRange(args.iterations, '--iterations');
  const objects = parseRange(args.objects, '--objects');
  if (threads) partial.threads = threads;
  if (iterations) partial.iterations = iterations;
  if (objects) partial.objects = objects;
  if (args.effects) {
    const effects = args.effects.split(',').map((e) => e.trim());
    for (const e of effects) if (!EFFECTS.includes(e as EffectClass)) throw new UsageError(`--effects: unknown effect class "${e}"; use ${EFFECTS.join(', ')}`);
    partial.effects = effects as EffectClass[];
  }
  if (args.kinds) partial.kinds = args.kinds.split(',').map((k) => k.trim());
  try {
    resolveGenOptions(partial);
  } catch (error) {
    throw new UsageError(`generator options: ${(error as Error).message}`);
  }
  return partial;
}

function withTargetOptions<T>(y: Argv<T>) {
  return y.option('python', {
    type: 'string',
    array: true,
    describe: 'interpreter to use (repeatable); default: newest free-threaded found, else built',
  });
}

function withExecutorOption<T>(y: Argv<T>) {
  return y.option('executor', { choices: EXECUTORS, default: EXECUTORS[0], describe: 'forkserver: run programs in persistent workers forked from a warmed interpreter, findings confirmed in fresh ones; spawn: a fresh process per run (the reference)' });
}

/** `--redis URL` and `--fleet-key-file`: the fleet's shared store (fleet/). */
function withRedisOptions<T>(y: Argv<T>) {
  return y
    .option('redis', { type: 'string', describe: 'a fleet\'s Redis store (redis://[:password@]host:port[/db], rediss:// for TLS) instead of directories' })
    .option('fleet-key-file', { type: 'string', describe: 'file holding the fleet key (default: $FTFUZZ_FLEET_KEY_FILE, else $FTFUZZ_FLEET_KEY); never pass the key itself' });
}

type RedisArgs = { redis?: string; 'fleet-key-file'?: string };

/** Run a directory command on the fleet store (written out to a scratch copy), or on the directories. */
async function withRedis<T>(args: RedisArgs, opts: { writeBack: boolean; corpus?: boolean }, fn: (dirs: { crashes?: string; corpus?: string }) => Promise<T>): Promise<T> {
  if (!args.redis) return fn({});
  const fleet = await openFleet(args.redis, args['fleet-key-file']);
  try {
    const { value, refused } = await withExported(fleet, opts, fn);
    for (const r of refused) say(`refused: ${r}`);
    if (refused.length && !process.exitCode) process.exitCode = ExitCode.Refused;
    return value;
  } finally {
    await fleet.close();
  }
}

interface FleetFuzzArgs extends RedisArgs, GenArgs {
  redis?: string;
  duration?: string;
  runs?: number;
  seed?: string;
  modes: string;
  timeout: string;
  calibrate: boolean;
  'leak-share': number;
  'spawn-share': number;
  'focused-share': number;
  module?: string;
  oracles: string;
  'repro-trials': number;
  'flaky-below': number;
  'progress-every': string;
  'slice-runs': number;
  slice: string;
  json?: string;
}

/** `--timeline FILE`: a bare `--timeline` (yargs gives '') is a usage error, not the current directory. */
function timelineArg(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!value.trim()) throw new UsageError('--timeline needs a file path (default: <crashes>/.timeline/<seed>.jsonl)');
  return value;
}

/**
 * Turns SIGINT/SIGTERM into an abort of the returned signal (the command stops, keeping what it found); a
 * second signal exits at once with 130. Call release() when the command ends.
 */
function onStopSignals(message: string | undefined, log: (line: string) => void): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  let interrupts = 0;
  const stop = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    if (message) log(message);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}

/** `ftfuzz fuzz --redis URL`: the campaign as slices on the fleet's queue; progress until every slice ran. */
async function fleetCoordinator(args: FleetFuzzArgs): Promise<void> {
  if (args.module) throw new UsageError('--module with --redis: module mode is not run on a fleet yet; run it locally without --redis');
  if (args.duration !== undefined && args.runs !== undefined) throw new UsageError('with --redis give one budget: --runs N (program-range slices) or --duration D (time slices)');
  const durationMs = args.duration === undefined ? undefined : duration(args.duration, '--duration');
  const runs = args.runs === undefined ? undefined : positiveInt(args.runs, '--runs');
  selectOracles(args.oracles); // validated here, applied by the workers
  const shares = { 'leak-share': args['leak-share'], 'spawn-share': args['spawn-share'], 'focused-share': args['focused-share'], 'flaky-below': args['flaky-below'] };
  for (const [name, v] of Object.entries(shares)) if (!(v >= 0 && v <= 1)) throw new UsageError(`--${name} ${v}: expected a share between 0 and 1`);
  if (!Number.isInteger(args['repro-trials']) || args['repro-trials'] < 0) throw new UsageError(`--repro-trials ${args['repro-trials']}: expected a whole number ≥ 0`);
  const fleet = await openFleet(args.redis as string, args['fleet-key-file']);
  const stopping = onStopSignals('coordinator stopping; the slices on the queue stay there for the workers (run the same command again to follow them)', say);
  try {
    const seed = args.seed ?? randomBytes(4).toString('hex');
    say(`fleet campaign ${seed} on ${redactUrl(fleet.url)}: ${runs !== undefined ? `${runs} programs in slices of ${positiveInt(args['slice-runs'], '--slice-runs')}` : `${args.duration} in slices of ${args.slice}`}; start workers with: ftfuzz worker --redis URL`);
    const summary = await runCoordinator({
      store: fleet.store, connection: await fleet.bull(), key: fleet.store.key, seed, runs, durationMs,
      sliceRuns: positiveInt(args['slice-runs'], '--slice-runs'), sliceMs: duration(args.slice, '--slice'),
      plan: {
        modes: parseModes(args.modes), timeoutMs: duration(args.timeout, '--timeout'), genOptions: genPartialFrom(args), oracles: args.oracles,
        reproTrials: args['repro-trials'], flakyBelow: args['flaky-below'], leakShare: args['leak-share'], spawnShare: args['spawn-share'],
        focusedShare: args['focused-share'], calibrate: args.calibrate,
      },
      log: say, progressEveryMs: duration(args['progress-every'], '--progress-every'), signal: stopping.signal,
    });
    process.stdout.write(`${formatFleetSummary(summary)}\n`);
    if (args.json) await writeFileAtomic(args.json, `${JSON.stringify(summary, null, 2)}\n`);
    process.exitCode = summary.refused.length ? ExitCode.Refused : summary.failed.length ? ExitCode.Internal : summary.buckets.length ? ExitCode.Findings : ExitCode.Clean;
  } finally {
    stopping.release();
    await fleet.close();
  }
}

export function buildCli(argv: string[]) {
  return yargs(argv)
    .scriptName('ftfuzz')
    .usage('$0 <command> [options]\n\nFuzz and stress-test free-threaded CPython.')
    .command('python', 'find, list and build interpreters', (y) =>
      y
        .command(
          'list',
          'list the interpreters ftfuzz can see (PATH, FTFUZZ_PYTHON, --python, its cache)',
          (yy) => withTargetOptions(yy).option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
          async (args) => {
            const found = await discoverTargets({ explicit: args.python });
            if (args.json) {
              process.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
              return;
            }
            if (found.length === 0) process.stdout.write('no interpreters found; run `ftfuzz python install`\n');
            for (const d of found) process.stdout.write(d.target ? `${formatTargetRow(d.target)}\n` : `unusable ${d.path}: ${d.error}\n`);
          },
        )
        .command(
          'install',
          'build a free-threaded CPython from source into the cache (a no-op when already there)',
          (yy) =>
            yy
              .option('version', { type: 'string', describe: 'a series (3.13: newest obtainable) or exact release (3.13.5); default newest 3.14, else 3.13' })
              .option('variant', { choices: VARIANTS, default: 'release' as const, describe: 'debug = --with-pydebug; tsan = --with-thread-sanitizer (clang), with CPython\'s TSan suppressions installed beside it' })
              .option('source', { type: 'string', describe: 'a CPython source tarball path or URL to build from' })
              .option('jobs', { type: 'number', default: os.availableParallelism(), describe: 'parallel make jobs' })
              .option('json', { type: 'boolean', default: false }),
          async (args) => {
            const result = await installPython({
              version: args.version,
              variant: args.variant,
              source: args.source,
              jobs: positiveInt(args.jobs, '--jobs'),
              log: say,
            });
            if (args.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
            else process.stdout.write(`${result.target.executable}\n`);
          },
        )
        .demandCommand(1, 'python: choose list or install'),
    )
    .command(
      'setup',
      "install the Debian packages ftfuzz uses (gdb, clang, redis-server, chromium, CPython's build dependencies), or print the one command that does",
      (y) =>
        y
          .option('for', { choices: TOOL_PURPOSES, default: 'tests' as const, describe: 'what the tools are for: tests needs every one' })
          .option('check', { type: 'boolean', default: false, describe: 'only report what is missing (exit 3 when something is)' }),
      async (args) => {
        const missing = await missingTools(args.for);
        if (missing.length === 0) {
          say(`setup: everything ${args.for} needs is installed (${TOOLS.filter((t) => t.purposes.includes(args.for)).map((t) => t.pkg).join(', ')})`);
          return;
        }
        await ensureTools({ purpose: args.for, install: !args.check, log: (line) => say(`setup: ${line}`) });
      },
    )
    .command(
      'gen',
      'print a generated program (same seed, options and generator version: same bytes)',
      (y) =>
        withTargetOptions(withGenOptions(y))
          .option('seed', { type: 'string', demandOption: true, describe: 'the seed' })
          .option('module', { type: 'string', describe: 'module mode: concurrent calls on shared instances of this importable module (introspected on --python)' })
          .option('out', { type: 'string', describe: 'write to this file (atomically) instead of stdout' })
          .option('json', { type: 'boolean', default: false, describe: 'print {source, meta} as JSON' }),
      async (args) => {
        let text: string;
        if (args.module) {
          const [target] = await resolveTargets({ python: args.python, log: say });
          const surface = await introspectModule(target as Target, args.module);
          const threads = parseRange(args.threads, '--threads');
          const iterations = parseRange(args.iterations, '--iterations');
          const program = generateModuleProgram(surface, args.seed, { threads: threads?.[0], iterations: iterations?.[0] });
          text = args.json ? `${JSON.stringify({ ...program, surface }, null, 2)}\n` : program.source;
        } else {
          const program = generateProgram(args.seed, genOptionsFrom(args));
          text = args.json ? `${JSON.stringify({ source: program.source, meta: program.meta }, null, 2)}\n` : program.source;
        }
        if (args.out) await writeFileAtomic(args.out, text);
        else process.stdout.write(text);
      },
    )
    .command(
      'ops',
      'print the operation library: per op, its effect class, token effect and documented thread safety',
      (y) =>
        y
          .option('kind', { type: 'string', describe: 'only this object kind' })
          .option('json', { type: 'boolean', default: false }),
      (args) => {
        process.stdout.write(formatOpsTable({ kind: args.kind, json: args.json }));
      },
    )
    .command(
      'fuzz',
      'a fuzz campaign: generated and mutated programs in every mode; findings to the crash store',
      (y) =>
        withRedisOptions(withExecutorOption(withTargetOptions(withGenOptions(y))))
          .option('duration', { type: 'string', describe: 'stop after this long (e.g. 60s, 10m, 8h)' })
          .option('runs', { type: 'number', describe: 'stop after this many programs' })
          .option('seed', { type: 'string', describe: 'campaign seed (default: random, printed at start)' })
          .option('modes', { type: 'string', default: 'gil-off,gil-on', describe: 'GIL modes to run in' })
          .option('jobs', { type: 'number', default: os.availableParallelism(), describe: 'programs in parallel' })
          .option('timeout', { type: 'string', default: '30s', describe: 'cap of the per-run time limit; each program\'s own limit is calibrated from its measured run time (--no-calibrate: the cap for every run)' })
          .option('calibrate', { type: 'boolean', default: true, describe: 'calibrated per-program time limits (a multiple of the GIL-on run time, 2 s floor)' })
          .option('leak-share', { type: 'number', default: 0.1, describe: 'share of generated programs run with the leak harness (several rounds in one process)' })
          .option('spawn-share', { type: 'number', default: 0.1, describe: 'share of programs run in fresh processes instead of the fork server (whose pre-imported modules and reused workers hide first-import and lazy-initialisation races)' })
          .option('focused-share', { type: 'number', default: 0.5, describe: 'share of generated programs that are focused: one shared object, 2-3 ops per thread, many iterations, its kind chosen by what kinds yielded so far (0: broad programs only)' })
          .option('module', { type: 'string', describe: 'module mode: concurrent calls on shared instances of this module (see `gen --module`)' })
          .option('crashes', { type: 'string', default: 'crashes', describe: 'crash store directory' })
          .option('corpus', { type: 'string', default: 'corpus', describe: 'corpus directory (read for mutation, new behaviour added)' })
          .option('oracles', { type: 'string', default: 'all', describe: 'oracles to apply' })
          .option('memory-limit', { type: 'string', describe: 'memory cap per target process, e.g. 4G (default: half the RAM / jobs)' })
          .option('cpu-limit', { type: 'string', describe: 'CPU-time cap per target process (default: cores x timeout + 10s)' })
          .option('repro-trials', { type: 'number', default: 10, describe: 're-runs of each new bucket to measure its rate (0: skip)' })
          .option('flaky-below', { type: 'number', default: 0.5, describe: 'a bucket reproducing less often than this is marked flaky' })
          .option('progress-every', { type: 'string', default: '30s', describe: 'interval of progress lines when stderr is not a terminal' })
          .option('timeline', { type: 'string', describe: 'append a line of statistics every few seconds to this JSONL file (default <crashes>/.timeline/<seed>.jsonl; read by ftfuzz report)' })
          .option('slice-runs', { type: 'number', default: 25, describe: 'with --redis and --runs: programs per slice of work' })
          .option('slice', { type: 'string', default: '5m', describe: 'with --redis and --duration: time budget per slice of work' })
          .option('json', { type: 'string', describe: 'also write the summary as JSON to this file' }),
      async (args) => {
        if (args.duration === undefined && args.runs === undefined) throw new UsageError('fuzz needs a budget: --duration D and/or --runs N');
        if (args.redis) {
          await fleetCoordinator(args);
          return;
        }
        const durationMs = args.duration === undefined ? undefined : duration(args.duration, '--duration');
        const maxPrograms = args.runs === undefined ? undefined : positiveInt(args.runs, '--runs');
        const oracles = selectOracles(args.oracles);
        const modes = parseModes(args.modes);
        const jobs = positiveInt(args.jobs, '--jobs');
        const timeoutMs = duration(args.timeout, '--timeout');
        const limits = defaultLimits(jobs, timeoutMs);
        if (args['memory-limit'] !== undefined) limits.memoryBytes = parseBytes(args['memory-limit'], '--memory-limit');
        if (args['cpu-limit'] !== undefined) limits.cpuSeconds = Math.ceil(duration(args['cpu-limit'], '--cpu-limit') / 1000);
        const reproTrials = args['repro-trials'];
        if (!Number.isInteger(reproTrials) || reproTrials < 0) throw new UsageError(`--repro-trials ${reproTrials}: expected a whole number ≥ 0`);
        const flakyBelow = args['flaky-below'];
        if (!(flakyBelow >= 0 && flakyBelow <= 1)) throw new UsageError(`--flaky-below ${flakyBelow}: expected a share between 0 and 1`);
        const progressEveryMs = duration(args['progress-every'], '--progress-every');
        const genOptions = genPartialFrom(args);
        const targets = await resolveTargets({ python: args.python, log: say });
        const surface = args.module ? await introspectModule(targets[0] as Target, args.module) : undefined;
        const seed = args.seed ?? randomBytes(4).toString('hex');
        const crashDir = path.resolve(args.crashes);
        say(`campaign seed ${seed} on ${targets.map((t) => t.label).join(', ')} (${modes.join(', ')}), ${jobs} job(s)${surface ? `, module ${surface.module}` : ''}; crashes -> ${crashDir}`);
        say(`caps per process: memory ${bytes.format(limits.memoryBytes, { unitSeparator: ' ' })}, CPU ${limits.cpuSeconds} s, time limit ${args.calibrate ? `calibrated per program, at most ${timeoutMs / 1000} s` : `${timeoutMs / 1000} s`}`);
        const native = nativeSupport();
        say(native.note ?? `C stacks: gdb (${native.gdb ?? ''}), core files per kernel.core_pattern=${native.corePattern ?? ''}`);
        const leakShare = args['leak-share'];
        if (!(leakShare >= 0 && leakShare <= 1)) throw new UsageError(`--leak-share ${leakShare}: expected a share between 0 and 1`);
        const spawnShare = args['spawn-share'];
        if (!(spawnShare >= 0 && spawnShare <= 1)) throw new UsageError(`--spawn-share ${spawnShare}: expected a share between 0 and 1`);
        const focusedShare = args['focused-share'];
        if (!(focusedShare >= 0 && focusedShare <= 1)) throw new UsageError(`--focused-share ${focusedShare}: expected a share between 0 and 1`);
        const stopping = onStopSignals('stopping: killing the runs in flight, keeping everything found (signal again to quit at once)', say);
        const live = process.stderr.isTTY === true;
        const status = (line: string) => (live ? process.stderr.write(`\r\x1b[K${line}`) : say(line));
        const endStatus = () => {
          if (live) process.stderr.write('\r\x1b[K');
        };
        const executor = createExecutor(args.executor);
        try {
          const stats = await runCampaign({
            executor,
            targets,
            modes,
            seed,
            durationMs,
            maxPrograms,
            jobs,
            timeoutMs,
            crashDir,
            corpusDir: path.resolve(args.corpus),
            genOptions,
            module: surface,
            oracles,
            limits,
            reproTrials,
            flakyBelow,
            calibrate: args.calibrate,
            leakShare,
            focusedShare,
            spawnShare,
            signal: stopping.signal,
            progressEveryMs: live ? 1000 : progressEveryMs,
            timelineFile: path.resolve(timelineArg(args.timeline) ?? path.join(crashDir, '.timeline', `${seed.replace(/[^A-Za-z0-9._-]/g, '_')}.jsonl`)),
            onProgress: (st) => status(formatStats(st)),
            onBucket: (b) => {
              endStatus();
              say(`${b.reproduction ? 'rate' : 'new bucket'}: ${formatBucket(b, args.crashes).replace(/\n\s*/g, ' — ')}`);
            },
          });
          endStatus();
          process.stdout.write(`${formatSummary(stats, args.crashes)}\n`);
          if (args.json) await writeFileAtomic(args.json, `${JSON.stringify(stats, null, 2)}\n`);
          process.exitCode = stats.buckets.length > 0 ? ExitCode.Findings : ExitCode.Clean;
        } finally {
          await executor.close();
          stopping.release();
        }
      },
    )
    .command(
      'triage',
      'list the crash buckets; --versions replays each on every known interpreter',
      (y) =>
        withRedisOptions(withTargetOptions(y))
          .option('crashes', { type: 'string', default: 'crashes', describe: 'crash store directory' })
          .option('versions', { type: 'boolean', default: false, describe: 'replay every bucket on the --python interpreters, else on every known one (cache, PATH); record affected / not' })
          .option('measure', { type: 'boolean', default: false, describe: 'measure (again) the reproduction rate of the buckets on their own interpreter' })
          .option('bucket', { type: 'string', array: true, describe: 'only these buckets (names)' })
          .option('trials', { type: 'number', default: 10, describe: 'runs per bucket and interpreter' })
          .option('max-trials', { type: 'number', default: 30, describe: 'while a bucket shows nothing on an interpreter, go on up to the trials its recorded rate needs for "not affected" (95%), at most this many' })
          .option('timeout', { type: 'string', default: '30s', describe: 'per-run cap (a hang bucket uses its calibrated limit)' })
          .option('flaky-below', { type: 'number', default: 0.5, describe: 'rate under which a bucket is marked flaky' })
          .option('promote', { type: 'boolean', default: false, describe: 'replay race buckets (ThreadSanitizer reports) on the plain free-threaded build of the same version (--python, else every known one) and record whether they crash or hang there' })
          .option('resign', { type: 'boolean', default: false, describe: 're-sign every crash and hang bucket (buckets of an older signature format are always re-signed)' })
          .option('json', { type: 'boolean', default: false, describe: 'print the buckets as JSON' }),
      async (args) =>
        withRedis(args, { writeBack: true }, async (dirs) => {
        const store = new CrashStore(path.resolve(dirs.crashes ?? args.crashes));
        // The interpreters named with --python, else every one ftfuzz can see (for --versions and --promote).
        const named = args.python?.length ? await resolveTargets({ python: args.python, log: say }) : null;
        const known = args.versions || args.promote ? (named ?? (await discoverTargets()).flatMap((d) => (d.target ? [d.target] : []))) : [];
        const { families, buckets: chosen, links, familyLinks: linksOf, errors, missing, unconfirmed, slow } = await triageStore(store, {
          trials: positiveInt(args.trials, '--trials'),
          maxTrials: positiveInt(args['max-trials'], '--max-trials'),
          timeoutMs: duration(args.timeout, '--timeout'),
          flakyBelow: args['flaky-below'],
          only: args.bucket,
          measure: args.measure,
          versions: args.versions ? known : undefined,
          promoteOn: args.promote ? known : undefined,
          resignAll: args.resign,
          python: named?.[0],
          log: say,
        });
        for (const name of missing) say(`no complete bucket ${name} in ${store.root}`);
        if (args.json) {
          const json = {
            families: families.map((row) => ({ ...familyJson(row), upstream: linksOf(row).map((l) => ({ gh: l.bug.gh, area: l.bug.area, strength: l.strength, matched: l.matched, fixedIn: l.fixedIn, status: l.status })) })),
            buckets: chosen,
            errors,
          };
          process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
        } else {
          if (chosen.length === 0) process.stdout.write(`no buckets in ${args.redis ? redactUrl(args.redis) : store.root}\n`);
          else process.stdout.write(`${families.length} famil${families.length === 1 ? 'y' : 'ies'} (suspected bugs) in ${chosen.length} bucket(s):\n\n`);
          for (const row of families) {
            process.stdout.write(`${formatFamilyRow(row, linksOf(row))}\n`);
            for (const b of row.buckets) process.stdout.write(`${formatTriageRow(b.bucket, b.meta, links.get(b.bucket) ?? [], '    ')}\n`);
            process.stdout.write('\n');
          }
          for (const e of errors) process.stdout.write(`malformed ${e.bucket}: ${e.error}\n`);
          if (unconfirmed.length) {
            process.stdout.write(`${unconfirmed.length} unconfirmed finding(s) in ${path.join(store.root, '.unconfirmed')} (seen in a reused worker, not in fresh retries):\n`);
            for (const u of unconfirmed) process.stdout.write(`  ${u.meta.kind.padEnd(14)} ${u.bucket}  hits ${u.meta.hits}  ${u.meta.title.slice(0, 120)}\n`);
          }
          if (slow.length) process.stdout.write(`${slow.length} crawl(s) in ${path.join(store.root, '.slow')} (past the limit, still making progress; not hangs)\n`);
        }
        process.exitCode = errors.length ? ExitCode.Input : chosen.length ? ExitCode.Findings : ExitCode.Clean;
      }),
    )
    .command(
      'minimize <bucket>',
      'shrink a bucket\'s reproducer while the same bug still shows; writes repro.min.py',
      (y) =>
        withRedisOptions(withTargetOptions(y))
          .positional('bucket', { type: 'string', demandOption: true, describe: 'a bucket directory, or a bucket name in --crashes' })
          .option('crashes', { type: 'string', default: 'crashes', describe: 'crash store directory (for bucket names)' })
          .option('trials', { type: 'number', default: 5, describe: 'runs per candidate' })
          .option('rate', { type: 'number', describe: 'share of trials a candidate must reproduce in (default: half the bucket\'s measured rate, at least one run; one run when never measured)' })
          .option('rate-trials', { type: 'number', default: 10, describe: 'plain runs of repro.min.py afterwards to measure its own rate (later claims about the bucket use it)' })
          .option('budget', { type: 'string', default: '10m', describe: 'time budget' })
          .option('timeout', { type: 'string', default: '30s', describe: 'per-run timeout' }),
      async (args) =>
        withRedis(args, { writeBack: true }, async (dirs) => {
        let dir = await resolveBucketDir(args.bucket, dirs.crashes ?? args.crashes);
        const store = new CrashStore(path.dirname(dir));
        let bucket = path.basename(dir);
        let meta = await store.read(bucket);
        if (!meta) throw new InputError(dir, 'is not a complete bucket (no meta.json); pass a directory under crashes/');
        const target = args.python?.length ? (await resolveTargets({ python: args.python, log: say }))[0] as Target : await probeTarget(meta.interpreter.path, 'flag');
        // The interestingness test is the signature: one of an older format is re-signed first.
        if (needsResign(meta)) {
          const capMs = duration(args.timeout, '--timeout');
          const r = await resignBucket(store, bucket, meta, { target, trials: 5, timeoutMs: capMs, limits: defaultLimits(1, capMs) });
          say(describeResign(meta, r));
          if (r.to) {
            bucket = r.to;
            dir = store.dir(bucket);
          }
          meta = (await store.read(bucket)) ?? meta;
        }
        const trials = positiveInt(args.trials, '--trials');
        // Half the bucket's measured rate; a bucket whose rate was never measured (a campaign that ended
        // while measuring) asks for one run in `trials`: its rate is unknown, and assuming 100% would refuse
        // every flaky bug at the baseline.
        const rate = args.rate ?? (meta.reproduction ? Math.max(1 / trials, meta.reproduction.rate / 2) : 1 / trials);
        if (!(rate > 0 && rate <= 1)) throw new UsageError(`--rate ${rate}: expected a share in (0, 1]`);
        const requiredHits = Math.max(1, Math.ceil(rate * trials - 1e-9));
        // A hang bucket's candidates get the calibrated limit its finding had, not the whole cap.
        const timeoutMs = bucketTrialLimit(meta, duration(args.timeout, '--timeout'));
        const file = path.join(dir, 'repro.py');
        const source = await fs.readFile(file, 'utf8');
        const modes = trialModes(target, meta.modes, meta.signature);
        say(`minimizing ${bucket} on ${target.label} (${modes.join(', ')}): a candidate must show it in ${requiredHits}/${trials} runs`);
        const stopping = onStopSignals(undefined, say);
        try {
          const result = await minimize({
            file, source, target, modes, signature: meta.signature, trialsPerCandidate: trials, requiredHits, timeoutMs,
            budgetMs: duration(args.budget, '--budget'), limits: defaultLimits(1, timeoutMs), signal: stopping.signal, log: say,
          });
          if (result.stoppedBy === 'no-baseline') {
            throw new InputError(file, `does not reproduce its bug on ${target.label} at the required rate (${result.baseline.hits}/${result.baseline.trials}); try more --trials or a lower --rate`);
          }
          if (result.stoppedBy === 'unsafe') {
            throw new InputError(file, `cannot be reduced safely: a hand-written program whose ${meta.kind} finding also shows under the GIL has no scenario to recompute its checks from`);
          }
          if (result.accepted === 0) {
            process.stdout.write(`${bucket}: no smaller program reproduces it (${result.candidatesTried} candidates tried, stopped by ${result.stoppedBy})\n`);
            process.exitCode = ExitCode.Clean;
            return;
          }
          const header = reproHeaderFor(meta, 'repro.min.py', target);
          const out = await store.writeFile(bucket, 'repro.min.py', header + result.source);
          // The reduced program's own rate: it was accepted at `requiredHits` in `trials`, which says little
          // about how often it shows; every later claim about the bucket (fixed, not affected) rests on it.
          const rateTrials = positiveInt(args['rate-trials'], '--rate-trials');
          say(`measuring repro.min.py's own rate (${rateTrials} plain runs)`);
          const reproduction = await measureFileRate(out, meta, target, { trials: rateTrials, timeoutMs: duration(args.timeout, '--timeout'), limits: defaultLimits(1, timeoutMs), flakyBelow: 0.5, signal: stopping.signal });
          await store.update(bucket, (m) => ({
            ...m,
            minimized: {
              file: 'repro.min.py', bytesBefore: result.bytesBefore, bytesAfter: result.bytesAfter, linesBefore: result.linesBefore, linesAfter: result.linesAfter,
              requiredRate: requiredHits / trials, trialsPerCandidate: trials, candidatesTried: result.candidatesTried, measuredAt: new Date().toISOString(),
              ...(reproduction ? { reproduction } : {}),
            },
          }));
          const pct = Math.round((1 - result.linesAfter / Math.max(1, result.linesBefore)) * 100);
          process.stdout.write(
            `${out}: ${result.linesBefore} -> ${result.linesAfter} lines, ${result.bytesBefore} -> ${result.bytesAfter} bytes (${pct}% fewer lines) by ${result.strategy} reduction; ${result.candidatesTried} candidates, ${result.accepted} kept, stopped by ${result.stoppedBy}; ${reproduction ? `its own rate ${formatRate(reproduction)}` : 'its rate was not measured (stopped)'}\n`,
          );
        } finally {
          stopping.release();
        }
      }),
    )
    .command(
      'replay [paths..]',
      'replay corpus programs and crash reproducers; per-file status; exit 1 if anything still fails',
      (y) =>
        withRedisOptions(withTargetOptions(y))
          .positional('paths', { type: 'string', array: true, describe: 'files, bucket directories, crashes/ or corpus/ (with --redis: the fleet store as well)' })
          .option('modes', { type: 'string', default: 'gil-off,gil-on', describe: 'GIL modes for corpus programs' })
          .option('trials', { type: 'number', default: 3, describe: 'runs per file and interpreter' })
          .option('max-trials', { type: 'number', default: 30, describe: 'while a reproducer shows nothing, go on up to the trials its recorded rate needs for "fixed" (95%), at most this many; fewer: inconclusive' })
          .option('timeout', { type: 'string', default: '30s', describe: 'per-run cap (a hang reproducer uses its calibrated limit)' })
          .option('jobs', { type: 'number', default: os.availableParallelism(), describe: 'files in parallel' })
          .option('junit', { type: 'string', describe: 'write JUnit XML here (for CI)' })
          .option('json', { type: 'boolean', default: false, describe: 'print the entries as JSON' }),
      async (args) =>
        withRedis(args, { writeBack: false, corpus: true }, async (dirs) => {
        const modes = parseModes(args.modes);
        const trials = positiveInt(args.trials, '--trials');
        const jobs = positiveInt(args.jobs, '--jobs');
        const timeoutMs = duration(args.timeout, '--timeout');
        const targets = await resolveTargets({ python: args.python, log: say });
        const paths = dirs.crashes && dirs.corpus ? [dirs.crashes, dirs.corpus, ...(args.paths ?? [])] : (args.paths ?? []);
        if (paths.length === 0) throw new UsageError('replay needs paths (files, bucket directories, crashes/, corpus/) or --redis URL');
        const items = await collectReplayItems(paths);
        if (items.length === 0) throw new InputError(paths.join(' '), 'holds no programs or reproducers to replay');
        const entries = await replay({
          items, targets, modes, trials, timeoutMs, jobs, limits: defaultLimits(jobs, timeoutMs), maxTrials: positiveInt(args['max-trials'], '--max-trials'),
          onEntry: (e) => {
            if (!args.json) process.stdout.write(`${e.status.padEnd(13)} ${path.relative(process.cwd(), e.file) || e.file}  [${shortLabel(targets.find((t) => t.path === e.interpreterPath) ?? targets[0] as Target)}] ${e.detail}\n`);
          },
        });
        if (args.json) process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
        if (args.junit) await writeFileAtomic(args.junit, toJUnit(entries));
        const count = (s: string) => entries.filter((e) => e.status === s).length;
        process.stderr.write(
          `ftfuzz: replayed ${items.length} file(s) on ${targets.length} interpreter(s): ${REPLAY_STATUSES.map((s) => `${s} ${count(s)}`).join(', ')}\n`,
        );
        process.exitCode = entries.some((e) => isFailing(e.status)) ? ExitCode.Findings : count('error') ? ExitCode.Input : ExitCode.Clean;
      }),
    )
    .command(
      'worker',
      'take slices of fleet campaigns from the Redis queue and run them on this machine\'s interpreters',
      (y) =>
        withRedisOptions(withTargetOptions(y))
          .option('jobs', { type: 'number', default: os.availableParallelism(), describe: 'programs in parallel within a slice' })
          .option('lock', { type: 'string', default: '30s', describe: 'a slice\'s lock: a worker silent this long is taken for dead and its slice is run again elsewhere' })
          .option('slices', { type: 'number', describe: 'exit after this many slices' })
          .option('idle-exit', { type: 'string', describe: 'exit when no slice came for this long (default: wait for work forever)' }),
      async (args) => {
        if (!args.redis) throw new UsageError('worker needs --redis URL (the fleet\'s Redis server)');
        const jobs = positiveInt(args.jobs, '--jobs');
        const fleet = await openFleet(args.redis, args['fleet-key-file']);
        const targets = await resolveTargets({ python: args.python, log: say });
        const stopping = onStopSignals('worker stopping: the slice in flight goes back to the queue (signal again to quit at once)', say);
        try {
          say(`worker ${os.hostname()}:${process.pid} on ${redactUrl(fleet.url)} with ${targets.map((t) => t.label).join(', ')}, ${jobs} job(s) per slice`);
          const r = await runWorker({
            store: fleet.store, connection: await fleet.bull(), key: fleet.store.key, targets, jobs, lockMs: duration(args.lock, '--lock'), log: say,
            maxSlices: args.slices === undefined ? undefined : positiveInt(args.slices, '--slices'),
            idleMs: args['idle-exit'] === undefined ? undefined : duration(args['idle-exit'], '--idle-exit'), signal: stopping.signal,
          });
          say(`worker done: ${r.slices} slice(s) run, ${r.refused} job(s) refused`);
          process.exitCode = r.refused ? ExitCode.Refused : ExitCode.Clean;
        } finally {
          stopping.release();
          await fleet.close();
        }
      },
    )
    .command(
      'sync <direction>',
      'copy a fleet\'s Redis store out to ordinary crashes/ and corpus/ directories, or directories into it',
      (y) =>
        withRedisOptions(y)
          .positional('direction', { choices: ['out', 'in'] as const, demandOption: true, describe: 'out: Redis -> directories; in: directories -> Redis' })
          .option('crashes', { type: 'string', default: 'crashes', describe: 'crash store directory' })
          .option('corpus', { type: 'string', default: 'corpus', describe: 'corpus directory' }),
      async (args) => {
        if (!args.redis) throw new UsageError('sync needs --redis URL');
        const fleet = await openFleet(args.redis, args['fleet-key-file']);
        try {
          const crashes = path.resolve(args.crashes);
          const corpus = path.resolve(args.corpus);
          const r = args.direction === 'out' ? await fleet.store.exportTo(crashes, corpus) : await fleet.store.importFrom(crashes, corpus);
          for (const e of r.errors) say(args.direction === 'out' ? `refused: ${e}` : e);
          say(`${args.direction === 'out' ? `wrote ${r.buckets} bucket(s) to ${crashes} and ${r.corpus} corpus program(s) to ${corpus}` : `read ${r.buckets} bucket(s) from ${crashes} and ${r.corpus} corpus program(s) from ${corpus} into ${redactUrl(fleet.url)}`}`);
          process.exitCode = r.errors.length ? (args.direction === 'out' ? ExitCode.Refused : ExitCode.Input) : ExitCode.Clean;
        } finally {
          await fleet.close();
        }
      },
    )
    .command(
      'report',
      'one self-contained HTML page: plots over time, a table of the buckets, their stacks and reproducers',
      (y) =>
        withRedisOptions(y)
          .option('crashes', { type: 'string', default: 'crashes', describe: 'crash store directory (its .timeline/*.jsonl are read too)' })
          .option('stats', { type: 'string', array: true, describe: 'campaign timeline files (JSONL, from ftfuzz fuzz) besides those in <crashes>/.timeline' })
          .option('title', { type: 'string', default: 'ftfuzz campaign report' })
          .option('out', { type: 'string', demandOption: true, describe: 'the HTML file to write (atomically)' }),
      async (args) =>
        withRedis(args, { writeBack: false }, async (dirs) => {
          for (const f of args.stats ?? []) {
            await fs.access(f).catch(() => {
              throw new InputError(f, 'no such timeline file; campaigns write theirs to <crashes>/.timeline/<seed>.jsonl');
            });
          }
          const crashDir = path.resolve(dirs.crashes ?? args.crashes);
          const localTimelines = dirs.crashes ? await timelineFiles(path.resolve(args.crashes)) : [];
          const data = await loadReportData({ crashDir, statsFiles: [...localTimelines, ...(args.stats ?? [])], source: args.redis ? redactUrl(args.redis) : crashDir, filesOnDisk: !dirs.crashes });
          data.title = args.title;
          const out = path.resolve(args.out);
          await writeFileAtomic(out, renderReport(data, out));
          for (const e of data.errors) say(e);
          process.stdout.write(`${out}\n`);
          say(`report: ${data.buckets.length} bucket(s), ${data.timelines.length} timeline(s) (${data.timelines.reduce((n, t) => n + t.lines.length, 0)} lines)`);
        }),
    )
    .command(
      'run <file>',
      'run one program on the interpreters in both GIL modes and report findings',
      (y) =>
        withExecutorOption(withTargetOptions(y))
          .positional('file', { type: 'string', demandOption: true, describe: 'a Python program' })
          .option('modes', { type: 'string', default: 'gil-off,gil-on', describe: 'GIL modes to run' })
          .option('runs', { type: 'number', default: 3, describe: 'repeats per interpreter and mode' })
          .option('timeout', { type: 'string', default: '30s', describe: 'per-run timeout (a hang beyond it is a finding)' })
          .option('jobs', { type: 'number', default: os.availableParallelism(), describe: 'runs in parallel' })
          .option('oracles', { type: 'string', default: 'all', describe: `oracles to apply: all, or a list (${selectOracles('all').map((o) => o.name).join(', ')}); -name removes one` })
          .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' }),
      async (args) => {
        const oracles = selectOracles(args.oracles);
        const modes = parseModes(args.modes);
        const runs = positiveInt(args.runs, '--runs');
        const jobs = positiveInt(args.jobs, '--jobs');
        const timeoutMs = duration(args.timeout, '--timeout');
        const targets = await resolveTargets({ python: args.python, log: say });
        const executor = createExecutor(args.executor);
        const report = await checkProgram({ file: args.file, targets, modes, runs, timeoutMs, jobs, oracles, executor }).finally(() => executor.close());
        process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
        process.exitCode = report.findings.length > 0 ? ExitCode.Findings : ExitCode.Clean;
      },
    )
    .demandCommand(1, 'choose a command')
    .strict()
    .help()
    .version(false)
    .epilog('Exit codes: 0 nothing found, 1 findings, 2 usage error, 3 environment error, 4 bad input file, 5 a fleet job, corpus entry or bucket refused (signature).')
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    });
}

export async function main(argv = hideBin(process.argv)): Promise<number> {
  try {
    await buildCli(argv).parseAsync();
    return Number(process.exitCode ?? ExitCode.Clean);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // yargs puts its detail on the next lines ("Invalid values:\n  Argument: ..."): one line of it all.
    const line = error instanceof UsageError ? message.split('\n').map((l) => l.trim()).filter(Boolean).join(' ') : message.split('\n')[0];
    process.stderr.write(`ftfuzz: error: ${line}\n`);
    if (!(error instanceof FtfuzzError) && process.env.FTFUZZ_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return exitCodeOf(error);
  }
}
