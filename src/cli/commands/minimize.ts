// `ftfuzz minimize`: options and output; the work is triage/minimizeBucket.ts.
import type { Argv } from 'yargs';
import path from 'node:path';
import { resolveTargets } from '../../check.js';
import { CrashStore } from '../../store/crashStore.js';
import { MINIMIZE_DEFAULTS, minimizeBucket } from '../../triage/minimizeBucket.js';
import { formatRate } from '../../trials/claims.js';
import { ExitCode } from '../../types.js';
import { formatDuration } from '../../units.js';
import { duration, onStopSignals, positiveInt, resolveBucketDir, say, withRedis, withRedisOptions, withTargetOptions } from '../options.js';

export function minimizeCommand(y: Argv): Argv {
  return y.command(
    'minimize <bucket>',
    'shrink a bucket\'s reproducer while the same bug still shows; writes repro.min.py',
    (y) =>
      withRedisOptions(withTargetOptions(y))
        .positional('bucket', { type: 'string', demandOption: true, describe: 'a bucket directory, or a bucket name in --crashes' })
        .option('crashes', { type: 'string', default: 'crashes', describe: 'crash store directory (for bucket names)' })
        .option('trials', { type: 'number', default: MINIMIZE_DEFAULTS.trials, describe: 'runs per candidate' })
        .option('rate', { type: 'number', describe: 'share of trials a candidate must reproduce in (default: half the bucket\'s measured rate, at least one run; one run when never measured)' })
        .option('rate-trials', { type: 'number', default: MINIMIZE_DEFAULTS.rateTrials, describe: 'plain runs of repro.min.py afterwards to measure its own rate (later claims about the bucket use it)' })
        .option('budget', { type: 'string', default: formatDuration(MINIMIZE_DEFAULTS.budgetMs), describe: 'time budget' })
        .option('timeout', { type: 'string', default: formatDuration(MINIMIZE_DEFAULTS.timeoutMs), describe: 'per-run timeout' }),
    async (args) =>
      withRedis(args, { writeBack: true }, async (dirs) => {
        const dir = await resolveBucketDir(args.bucket, dirs.crashes ?? args.crashes);
        const store = new CrashStore(path.dirname(dir));
        const target = args.python?.length ? (await resolveTargets({ python: args.python, log: say }))[0] : undefined;
        const stopping = onStopSignals(undefined, say);
        try {
          const { bucket, result, file, reproduction } = await minimizeBucket(store, path.basename(dir), {
            target, trials: positiveInt(args.trials, '--trials'), rate: args.rate, rateTrials: positiveInt(args['rate-trials'], '--rate-trials'),
            budgetMs: duration(args.budget, '--budget'), timeoutMs: duration(args.timeout, '--timeout'), signal: stopping.signal, log: say,
          });
          if (!file) {
            process.stdout.write(`${bucket}: no smaller program reproduces it (${result.candidatesTried} candidates tried, stopped by ${result.stoppedBy})\n`);
            process.exitCode = ExitCode.Clean;
            return;
          }
          const pct = Math.round((1 - result.linesAfter / Math.max(1, result.linesBefore)) * 100);
          process.stdout.write(
            `${file}: ${result.linesBefore} -> ${result.linesAfter} lines, ${result.bytesBefore} -> ${result.bytesAfter} bytes (${pct}% fewer lines) by ${result.strategy} reduction; ${result.candidatesTried} candidates, ${result.accepted} kept, stopped by ${result.stoppedBy}; ${reproduction ? `its own rate ${formatRate(reproduction)}` : 'its rate was not measured (stopped)'}\n`,
          );
        } finally {
          stopping.release();
        }
      }),
  );
}
