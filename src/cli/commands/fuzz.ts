// `ftfuzz fuzz`.
import type { Argv } from 'yargs';
import bytes from 'bytes';
import os from 'node:os';
import { resolveTargets } from '../../check.js';
import { introspectModule } from '../../runtime/introspect.js';
import { introspectSurface } from '../../runtime/surface.js';
import { writeFileAtomic } from '../../atomicWrite.js';
import { runCampaign } from '../../campaign/fuzz.js';
import { formatReadiness, readinessOf } from '../../triage/readiness.js';
import { CrashStore } from '../../store/crashStore.js';
import { minimizeBucket } from '../../triage/minimizeBucket.js';
import { terminalSafe } from '../../text.js';
import { formatDuration } from '../../units.js';
import { formatBucket, formatStats, formatSummary } from '../campaignFormat.js';
import { defaultLimits } from '../../runtime/limits.js';
import { createExecutor } from '../../runtime/forkServerExecutor.js';
import { nativeSupport } from '../../runtime/nativeStacks.js';
import path from 'node:path';
import { ExitCode, type Target } from '../../types.js';
import { duration, fleetCoordinator, onStopSignals, parseBytes, positiveInt, say, settingsFromArgs, timelineArg, withCampaignSettings, withExecutorOption, withRedisOptions, withTargetOptions } from '../options.js';

export function fuzzCommand(y: Argv): Argv {
  return y.command('fuzz', 'a fuzz campaign: generated and mutated programs in every mode; findings to the crash store', fuzzOptions, fuzz);
}

function fuzzOptions(y: Argv) {
  return (
    // The campaign's settings: one flag per row of campaign/settings.ts (--seed, --duration, --runs, --modes,
    // --timeout, the shares, ...) and the generator flags; the rest are this machine's.
    withRedisOptions(withExecutorOption(withTargetOptions(withCampaignSettings(y))))
      .option('jobs', { type: 'number', default: os.availableParallelism(), describe: 'programs in parallel' })
      .option('module', { type: 'string', describe: 'module mode: concurrent calls on shared instances of this module (see `gen --module`)' })
      .option('readiness-minimize', { type: 'string', default: '2m', describe: 'module mode: after the campaign, minimize the first bucket of each family found for up to this long (0: not at all), so the readiness report points at repro.min.py' })
      .option('crashes', { type: 'string', default: 'crashes', describe: 'crash store directory' })
      .option('corpus', { type: 'string', default: 'corpus', describe: 'corpus directory (read for mutation, new behaviour added)' })
      .option('memory-limit', { type: 'string', describe: 'memory cap per target process, e.g. 4G (default: half the RAM / jobs)' })
      .option('cpu-limit', { type: 'string', describe: 'CPU-time cap per target process (default: cores x timeout + 10s)' })
      .option('progress-every', { type: 'string', default: '30s', describe: 'interval of progress lines when stderr is not a terminal' })
      .option('timeline', { type: 'string', describe: 'append a line of statistics every few seconds to this JSONL file (default <crashes>/.timeline/<seed>.jsonl; read by ftfuzz report)' })
      .option('slice-runs', { type: 'number', default: 25, describe: 'with --redis and --runs: programs per slice of work' })
      .option('slice', { type: 'string', default: '5m', describe: 'with --redis and --duration: time budget per slice of work' })
      .option('json', { type: 'string', describe: 'also write the summary as JSON to this file' })
  );
}

type FuzzArgs = Awaited<ReturnType<typeof fuzzOptions>['argv']>;

async function fuzz(args: FuzzArgs): Promise<void> {
  // Every option is checked before an interpreter is resolved (which may build one): the settings first.
  const settings = settingsFromArgs(args);
  if (args.redis) {
    await fleetCoordinator(args, settings);
    return;
  }
  const jobs = positiveInt(args.jobs, '--jobs');
  const limits = defaultLimits(jobs, settings.timeoutMs);
  if (args['memory-limit'] !== undefined) limits.memoryBytes = parseBytes(args['memory-limit'], '--memory-limit');
  if (args['cpu-limit'] !== undefined) limits.cpuSeconds = Math.ceil(duration(args['cpu-limit'], '--cpu-limit') / 1000);
  const progressEveryMs = duration(args['progress-every'], '--progress-every');
  // Read before the campaign: a bad value must not wait for its end to be reported.
  const readinessMinimizeMs = duration(args['readiness-minimize'], '--readiness-minimize');
  const { seed, modes, timeoutMs } = settings;
  const targets = await resolveTargets({ python: args.python, log: say });
  const surface = args.module ? await introspectModule(targets[0] as Target, args.module) : undefined;
  // The C surface of the first interpreter; in module mode, of that module alone.
  // A surface that cannot be read (an interpreter that dies at every probe) costs the surface programs, not the campaign.
  const cSurface =
    settings.surfaceShare > 0
      ? await introspectSurface(targets[0] as Target, { modules: args.module ? [args.module] : undefined, log: say }).catch((error: unknown) => {
          say(`${(error as Error).message}; this campaign runs without surface programs`);
          return undefined;
        })
      : undefined;
  if (cSurface) say(`surface of ${(targets[0] as Target).label}: ${cSurface.types.length} C types in ${cSurface.modules.length} modules${cSurface.crashes.length ? `; it died single-threaded under ${cSurface.crashes.map((c) => c.probe).join(', ')} while introspected (see ftfuzz surface)` : ''}`);
  const crashDir = path.resolve(args.crashes);
  say(`campaign seed ${seed} on ${targets.map((t) => t.label).join(', ')} (${modes.join(', ')}), ${jobs} job(s)${surface ? `, module ${surface.module}` : ''}; crashes -> ${crashDir}`);
  say(`caps per process: memory ${bytes.format(limits.memoryBytes, { unitSeparator: ' ' })}, CPU ${limits.cpuSeconds} s, time limit ${settings.calibrate ? `calibrated per program, at most ${timeoutMs / 1000} s` : `${timeoutMs / 1000} s`}`);
  const native = nativeSupport();
  say(native.note ?? `C stacks: gdb (${native.gdb ?? ''}), core files per kernel.core_pattern=${native.corePattern ?? ''}`);
  const stopping = onStopSignals('stopping: killing the runs in flight, keeping everything found (signal again to quit at once)', say);
  const live = process.stderr.isTTY === true;
  const status = (line: string) => (live ? process.stderr.write(`\r\x1b[K${line}`) : say(line));
  const endStatus = () => {
    if (live) process.stderr.write('\r\x1b[K');
  };
  const executor = createExecutor(args.executor);
  try {
    const stats = await runCampaign({
      settings, executor, targets, jobs, crashDir, corpusDir: path.resolve(args.corpus), module: surface, limits, surface: cSurface, signal: stopping.signal,
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
    // Module mode: the extension's readiness, as its author reads it, each family with a minimized reproducer
    // (within the budget); "nothing exercised" is its own exit code.
    const store = new CrashStore(crashDir);
    if (surface) await minimizeFamilies(store, stats.families, readinessMinimizeMs, stopping.signal);
    const readiness = surface ? await readinessOf({ surface, stats, store, targets }) : undefined;
    if (readiness) process.stdout.write(`${formatReadiness(readiness)}\n`);
    if (args.json) await writeFileAtomic(args.json, `${JSON.stringify(readiness ? { ...stats, readiness } : stats, null, 2)}\n`);
    // Anything found wins: exit 1 whatever else; 6 only when nothing was found and nothing was exercised.
    process.exitCode = stats.buckets.length > 0 ? ExitCode.Findings : readiness?.verdict === 'nothing-exercised' ? ExitCode.NothingExercised : ExitCode.Clean;
  } finally {
    await executor.close();
    stopping.release();
  }
}

/** The first bucket of each family, minimized within `budgetMs` each (a failure is said, never fatal). */
async function minimizeFamilies(store: CrashStore, families: readonly { label: string; buckets: string[] }[], budgetMs: number, signal: AbortSignal): Promise<void> {
  if (budgetMs <= 0) return;
  for (const f of families) {
    const bucket = f.buckets[0];
    if (!bucket || signal.aborted || (await store.read(bucket))?.minimized) continue;
    say(`minimizing ${bucket} (${terminalSafe(f.label)}) for up to ${formatDuration(budgetMs)}`);
    const r = await minimizeBucket(store, bucket, { budgetMs, signal, trials: 3, rateTrials: 3 }).catch((error: unknown) => void say(`minimizing ${bucket}: ${(error as Error).message}`));
    if (r?.file) say(`${r.file}: ${r.result.linesBefore} -> ${r.result.linesAfter} lines`);
  }
}

