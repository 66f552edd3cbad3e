// `ftfuzz replay`.
import type { Argv } from 'yargs';
import os from 'node:os';
import { resolveTargets } from '../../check.js';
import { UsageError } from '../../errors.js';
import { writeFileAtomic } from '../../atomicWrite.js';
import { InputError } from '../../errors.js';
import { collectReplayItems, isFailing, replay, REPLAY_DEFAULTS, REPLAY_STATUSES, toJUnit } from '../../triage/replay.js';
import { formatDuration } from '../../units.js';
import { shortLabel } from '../../triage/triage.js';
import path from 'node:path';
import { ExitCode, type Target } from '../../types.js';
import { duration, parseModes, positiveInt, say, withRedis, withRedisOptions, withTargetOptions } from '../options.js';

export function replayCommand(y: Argv): Argv {
  return y
  .command(
    'replay [paths..]',
    'replay corpus programs and crash reproducers; per-file status; exit 1 if anything still fails',
    (y) =>
      withRedisOptions(withTargetOptions(y))
        .positional('paths', { type: 'string', array: true, describe: 'files, bucket directories, crashes/ or corpus/ (with --redis: the fleet store as well)' })
        .option('modes', { type: 'string', default: REPLAY_DEFAULTS.modes.join(','), describe: 'GIL modes for corpus programs' })
        .option('trials', { type: 'number', default: REPLAY_DEFAULTS.trials, describe: 'runs per file and interpreter' })
        .option('max-trials', { type: 'number', default: REPLAY_DEFAULTS.maxTrials, describe: 'while a reproducer shows nothing, go on up to the trials its recorded rate needs for "fixed" (95%), at most this many; fewer: inconclusive' })
        .option('timeout', { type: 'string', default: formatDuration(REPLAY_DEFAULTS.timeoutMs), describe: 'per-run cap (a hang reproducer uses its calibrated limit)' })
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
        items, targets, modes, trials, timeoutMs, jobs, maxTrials: positiveInt(args['max-trials'], '--max-trials'),
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
  );
}
