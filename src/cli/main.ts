// The command line: parse options, call the library, print. Nothing here that a TypeScript user of the
// library would need.
import os from 'node:os';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { checkProgram, resolveTargets } from '../check.js';
import { FtfuzzError, UsageError, exitCodeOf } from '../errors.js';
import { selectOracles } from '../oracles/index.js';
import { installPython } from '../runtime/provision.js';
import { generateProgram, resolveGenOptions, type GenOptions } from '../generators/program.js';
import { generateModuleProgram, introspectModule } from '../generators/moduleMode.js';
import { writeFileAtomic } from '../store/atomicWrite.js';
import { formatOpsTable } from './opsTable.js';
import { formatStats, runCampaign } from '../campaign/fuzz.js';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { EffectClass } from '../generators/ops.js';
import { discoverTargets } from '../runtime/targets.js';
import { ExitCode, GIL_MODES, type GilMode, type Target } from '../types.js';
import { formatReport, formatTargetRow, parseDuration } from './format.js';

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

function duration(value: string | number, option: string): number {
  try {
    return parseDuration(value, option);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
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

function genOptionsFrom(args: { threads?: string; iterations?: string; objects?: string; effects?: string; kinds?: string; options?: string }): GenOptions {
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
    return resolveGenOptions(partial);
  } catch (error) {
    throw new UsageError(`generator options: ${(error as Error).message}`);
  }
}

function withTargetOptions<T>(y: Argv<T>) {
  return y.option('python', {
    type: 'string',
    array: true,
    describe: 'interpreter to use (repeatable); default: newest free-threaded found, else built',
  });
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
              .option('variant', { choices: ['release', 'debug'] as const, default: 'release' as const, describe: 'debug = --with-pydebug' })
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
        withTargetOptions(withGenOptions(y))
          .option('duration', { type: 'string', describe: 'stop after this long (e.g. 60s, 10m, 8h)' })
          .option('runs', { type: 'number', describe: 'stop after this many programs' })
          .option('seed', { type: 'string', describe: 'campaign seed (default: random, printed at start)' })
          .option('modes', { type: 'string', default: 'gil-off,gil-on', describe: 'GIL modes to run in' })
          .option('jobs', { type: 'number', default: os.availableParallelism(), describe: 'programs in parallel' })
          .option('timeout', { type: 'string', default: '30s', describe: 'per-run timeout' })
          .option('crashes', { type: 'string', default: 'crashes', describe: 'crash store directory' })
          .option('corpus', { type: 'string', default: 'corpus', describe: 'corpus directory (read for mutation, new behaviour added)' })
          .option('oracles', { type: 'string', default: 'all', describe: 'oracles to apply' })
          .option('json', { type: 'string', describe: 'also write the summary as JSON to this file' }),
      async (args) => {
        if (args.duration === undefined && args.runs === undefined) throw new UsageError('fuzz needs a budget: --duration D and/or --runs N');
        const durationMs = args.duration === undefined ? undefined : duration(args.duration, '--duration');
        const maxPrograms = args.runs === undefined ? undefined : positiveInt(args.runs, '--runs');
        const oracles = selectOracles(args.oracles);
        const modes = parseModes(args.modes);
        const jobs = positiveInt(args.jobs, '--jobs');
        const timeoutMs = duration(args.timeout, '--timeout');
        const genOptions = genOptionsFrom(args);
        const targets = await resolveTargets({ python: args.python, log: say });
        const seed = args.seed ?? randomBytes(4).toString('hex');
        say(`campaign seed ${seed} on ${targets.map((t) => t.label).join(', ')} (${modes.join(', ')}), ${jobs} job(s); crashes -> ${path.resolve(args.crashes)}`);
        const controller = new AbortController();
        let interrupts = 0;
        const stop = () => {
          interrupts += 1;
          if (interrupts > 1) process.exit(130);
          say('stopping: finishing the programs in flight (signal again to quit at once)');
          controller.abort();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        try {
          const stats = await runCampaign({
            targets,
            modes,
            seed,
            durationMs,
            maxPrograms,
            jobs,
            timeoutMs,
            crashDir: path.resolve(args.crashes),
            corpusDir: path.resolve(args.corpus),
            genOptions,
            oracles,
            signal: controller.signal,
            onProgress: (s) => say(formatStats(s)),
          });
          process.stdout.write(`${formatStats(stats)}\nstopped by ${stats.stoppedBy}; replay this campaign with --seed ${seed}\n`);
          for (const b of stats.newBuckets) process.stdout.write(`  new bucket ${path.join(args.crashes, b)}\n`);
          for (const w of stats.environmentWarnings) process.stdout.write(`  environment: ${w}\n`);
          if (args.json) await writeFileAtomic(args.json, `${JSON.stringify(stats, null, 2)}\n`);
          process.exitCode = stats.buckets.length > 0 ? ExitCode.Findings : ExitCode.Clean;
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      },
    )
    .command(
      'run <file>',
      'run one program on the interpreters in both GIL modes and report findings',
      (y) =>
        withTargetOptions(y)
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
        const report = await checkProgram({ file: args.file, targets, modes, runs, timeoutMs, jobs, oracles });
        process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
        process.exitCode = report.findings.length > 0 ? ExitCode.Findings : ExitCode.Clean;
      },
    )
    .demandCommand(1, 'choose a command')
    .strict()
    .help()
    .version(false)
    .epilog('Exit codes: 0 nothing found, 1 findings, 2 usage error, 3 environment error, 4 bad input file.')
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
    process.stderr.write(`ftfuzz: error: ${message.split('\n')[0]}\n`);
    if (!(error instanceof FtfuzzError) && process.env.FTFUZZ_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return exitCodeOf(error);
  }
}
