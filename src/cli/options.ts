// What the commands share: option groups (targets, generator knobs, campaign settings, Redis), their parsers,
// and the campaign helpers (stop signals, the fleet coordinator). A campaign's settings are read, checked and
// defaulted in campaign/settings.ts: here their flags are declared and mapped onto it, nothing more.
import { terminalSafe } from '../text.js';
import bytes from 'bytes';
import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import { resolveGenOptions, type GenOptions } from '../generators/scenario.js';
import { writeFileAtomic } from '../atomicWrite.js';
import { promises as fs } from 'node:fs';
import { InputError } from '../errors.js';
import { EXECUTORS } from '../runtime/forkServerExecutor.js';
import path from 'node:path';
import { ExitCode } from '../types.js';
import { formatDuration, parseDuration } from '../units.js';
import { openFleet, withExported, type FleetKeys } from '../fleet/session.js';
import { formatFleetSummary, runCoordinator } from '../fleet/fleet.js';
import { redactUrl } from '../fleet/trust.js';
import { genPartialFrom, resolveSettings, SETTING_FLAGS, type CampaignSettings, type GenArgs, type SettingsInput } from '../campaign/settings.js';

export { genPartialFrom, parseRange, type GenArgs } from '../campaign/settings.js';

/** A line for the user on stderr; text from targets and stores can hold escape sequences, shown as `?`. */
export const say = (line: string) => process.stderr.write(`ftfuzz: ${terminalSafe(line)}\n`);

export { parseModes } from '../campaign/settings.js';

export function positiveInt(value: number, option: string): number {
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${option} ${value}: expected a whole number ≥ 1`);
  return value;
}

/** A duration option (a malformed one is a usage error, units.ts). */
export const duration = parseDuration;

/** `--memory-limit 4G` (the `bytes` package, binary units; a bare `G`, `M`, `K` means GiB, MiB, KiB). */
export function parseBytes(text: string, option: string): number {
  const normal = text.trim().replace(/^(\d+(?:\.\d+)?)\s*([kmgtp])i?$/i, '$1$2b');
  const value = /^\d+(?:\.\d+)?\s*[kmgtp]?b$|^\d+$/i.test(normal) ? bytes.parse(normal) : null;
  if (value === null || !Number.isFinite(value)) throw new UsageError(`${option} ${text}: expected a size like 512M or 4G`);
  const size = Math.floor(value);
  if (size < 64 * 1024 ** 2) throw new UsageError(`${option} ${text}: below 64M an interpreter cannot even start its threads`);
  return size;
}

/** A bucket given as a directory, or as a name inside the crash store. */
export async function resolveBucketDir(bucket: string, crashes: string): Promise<string> {
  for (const candidate of [path.resolve(bucket), path.resolve(crashes, bucket)]) {
    try {
      if ((await fs.stat(candidate)).isDirectory()) return candidate;
    } catch {
      // try the next
    }
  }
  throw new InputError(bucket, `is neither a bucket directory nor a bucket in ${crashes}; list them with ftfuzz triage`);
}

/** Generator knobs shared by `gen` (and later `fuzz`). */
export function withGenOptions<T>(y: Argv<T>) {
  return y
    .option('threads', { type: 'string', describe: 'thread count or range, 2..16 (default 2..8)' })
    .option('iterations', { type: 'string', describe: 'iterations per thread, number or range (default 20..200)' })
    .option('objects', { type: 'string', describe: 'shared objects per program (default 1..3)' })
    .option('effects', { type: 'string', describe: 'effect classes allowed: exact,invariant-only,crash-only (default all)' })
    .option('kinds', { type: 'string', describe: 'restrict shared object kinds (see `ftfuzz ops`)' })
    .option('options', { type: 'string', describe: 'all generator options as JSON (as a program header records them)' });
}

/** Generator options from the flags `withGenOptions` declares, the defaults applied (`ftfuzz gen`). */
export function genOptionsFrom(args: GenArgs): GenOptions {
  try {
    return resolveGenOptions(genPartialFrom(args));
  } catch (error) {
    throw new UsageError(`generator options: ${(error as Error).message}`);
  }
}

/** The campaign settings' flags, one per row of SETTINGS (campaign/settings.ts): declared here, read there. */
export function withCampaignSettings<T>(y: Argv<T>): Argv<T & GenArgs> {
  const out = withGenOptions(y) as unknown as Argv<T & GenArgs>;
  for (const f of SETTING_FLAGS) out.option(f.flag, { type: f.type, describe: f.describe });
  return out;
}

/** The campaign settings a command line gives: each row's flag mapped onto it, the generator flags onto genOptions. */
export function settingsFromArgs(args: GenArgs): CampaignSettings {
  const input: SettingsInput = { genOptions: genPartialFrom(args) };
  const given = args as Record<string, unknown>;
  for (const f of SETTING_FLAGS) if (given[f.flag] !== undefined) (input as Record<string, unknown>)[f.key] = given[f.flag];
  return resolveSettings(input);
}

export function withTargetOptions<T>(y: Argv<T>) {
  return y.option('python', {
    type: 'string',
    array: true,
    describe: 'interpreter to use (repeatable); default: newest free-threaded found, else built',
  });
}

export function withExecutorOption<T>(y: Argv<T>) {
  return y.option('executor', { choices: EXECUTORS, default: EXECUTORS[0], describe: 'forkserver: run programs in persistent workers forked from a warmed interpreter, findings confirmed in fresh ones; spawn: a fresh process per run (the reference)' });
}

/** `--redis URL`, `--fleet-key-file` and `--coordinator-key`: the fleet's shared store and this machine's keys (fleet/). */
export function withRedisOptions<T>(y: Argv<T>) {
  return y
    .option('redis', { type: 'string', describe: 'a fleet\'s Redis store (redis://[:password@]host:port[/db], rediss:// for TLS) instead of directories' })
    .option('fleet-key-file', { type: 'string', describe: 'this machine\'s private fleet key, from ftfuzz fleet keygen (default: $FTFUZZ_FLEET_KEY_FILE, else the PEM text in $FTFUZZ_FLEET_KEY); never pass the key itself' })
    .option('coordinator-key', { type: 'string', describe: 'the fleet coordinator\'s public key (its .pub file; default: $FTFUZZ_COORDINATOR_KEY_FILE); without it this machine\'s own key is the coordinator\'s' });
}

export type RedisArgs = { redis?: string; 'fleet-key-file'?: string; 'coordinator-key'?: string };

/** The key files a fleet command was given. */
export const fleetKeys = (args: RedisArgs): FleetKeys => ({ keyFile: args['fleet-key-file'], coordinatorKeyFile: args['coordinator-key'] });

/** Run a directory command on the fleet store (written out to a scratch copy), or on the directories. */
export async function withRedis<T>(args: RedisArgs, opts: { writeBack: boolean; corpus?: boolean }, fn: (dirs: { crashes?: string; corpus?: string }) => Promise<T>): Promise<T> {
  if (!args.redis) return fn({});
  const fleet = await openFleet(args.redis, fleetKeys(args));
  try {
    const { value, refused } = await withExported(fleet, opts, fn);
    for (const r of refused) say(`refused: ${r}`);
    if (refused.length && !process.exitCode) process.exitCode = ExitCode.Refused;
    return value;
  } finally {
    await fleet.close();
  }
}

export interface FleetFuzzArgs extends RedisArgs {
  'progress-every': string;
  'slice-runs': number;
  slice: string;
  json?: string;
  module?: string;
}

/** `--timeline FILE`: a bare `--timeline` (yargs gives '') is a usage error, not the current directory. */
export function timelineArg(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!value.trim()) throw new UsageError('--timeline needs a file path (default: <crashes>/.timeline/<seed>.jsonl)');
  return value;
}

/**
 * Turns SIGINT/SIGTERM into an abort of the returned signal (the command stops, keeping what it found); a
 * second signal exits at once with 130. Call release() when the command ends.
 */
export function onStopSignals(message: string | undefined, log: (line: string) => void): { signal: AbortSignal; release: () => void } {
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
export async function fleetCoordinator(args: FleetFuzzArgs, settings: CampaignSettings): Promise<void> {
  if (args.module) throw new UsageError('--module with --redis: module mode is not run on a fleet yet; run it locally without --redis');
  if (settings.durationMs !== undefined && settings.maxPrograms !== undefined) throw new UsageError('with --redis give one budget: --runs N (program-range slices) or --duration D (time slices)');
  const sliceRuns = positiveInt(args['slice-runs'], '--slice-runs');
  const sliceMs = duration(args.slice, '--slice');
  const progressEveryMs = duration(args['progress-every'], '--progress-every');
  const fleet = await openFleet(args.redis as string, fleetKeys(args));
  const stopping = onStopSignals('coordinator stopping; the slices on the queue stay there for the workers (run the same command again to follow them)', say);
  try {
    say(`fleet campaign ${settings.seed} on ${redactUrl(fleet.url)}: ${settings.maxPrograms !== undefined ? `${settings.maxPrograms} programs in slices of ${sliceRuns}` : `${formatDuration(settings.durationMs ?? 0)} in slices of ${args.slice}`}; start workers with: ftfuzz worker --redis URL`);
    const summary = await runCoordinator({ store: fleet.store, connection: await fleet.bull(), trust: fleet.store.trust, settings, sliceRuns, sliceMs, log: say, progressEveryMs, signal: stopping.signal });
    process.stdout.write(`${formatFleetSummary(summary)}\n`);
    if (args.json) await writeFileAtomic(args.json, `${JSON.stringify(summary, null, 2)}\n`);
    process.exitCode = summary.refused.length ? ExitCode.Refused : summary.failed.length ? ExitCode.Internal : summary.buckets.length ? ExitCode.Findings : ExitCode.Clean;
  } finally {
    stopping.release();
    await fleet.close();
  }
}
