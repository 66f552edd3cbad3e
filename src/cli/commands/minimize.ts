// `ftfuzz minimize`.
import type { Argv } from 'yargs';
import { resolveTargets } from '../../check.js';
import { UsageError } from '../../errors.js';
import { promises as fs } from 'node:fs';
import { InputError } from '../../errors.js';
import { defaultLimits } from '../../runtime/limits.js';
import { CrashStore, reproHeaderFor } from '../../store/crashStore.js';
import { minimize } from '../../triage/minimize.js';
import { measureFileRate } from '../../trials/rate.js';
import { formatRate } from '../../trials/claims.js';
import { bucketTrialLimit, trialModes } from '../../trials/trials.js';
import { describeResign, needsResign, resignBucket } from '../../triage/resign.js';
import path from 'node:path';
import { probeTarget } from '../../runtime/targets.js';
import { ExitCode, type Target } from '../../types.js';
import { duration, onStopSignals, positiveInt, resolveBucketDir, say, withRedis, withRedisOptions, withTargetOptions } from '../options.js';

export function minimizeCommand(y: Argv): Argv {
  return y
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
  );
}
