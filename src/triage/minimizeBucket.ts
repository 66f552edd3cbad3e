// `ftfuzz minimize` as a library call: re-sign a bucket of an older signature format, derive the rate a
// candidate must reproduce at, shrink repro.py into repro.min.py, measure the reduced program's own rate and
// record it on the bucket. The CLI resolves options and prints what this returns.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { defaultLimits } from '../runtime/limits.js';
import { probeTarget } from '../runtime/targets.js';
import { reproHeaderFor, type CrashStore } from '../store/crashStore.js';
import type { BucketMeta, Reproduction } from '../store/bucket.js';
import { measureFileRate } from '../trials/rate.js';
import { bucketTrialLimit, trialModes } from '../trials/trials.js';
import type { Target } from '../types.js';
import { minimize, type MinimizeResult } from './minimize.js';
import { describeResign, needsResign, resignBucket } from './resign.js';

/** Minimize's defaults, defined once: the library applies them, and the CLI shows them (`ftfuzz minimize --help`). */
export const MINIMIZE_DEFAULTS = { trials: 5, rateTrials: 10, budgetMs: 10 * 60_000, timeoutMs: 30_000 } as const;

export interface MinimizeBucketOptions {
  /** The interpreter candidates run on (default: the bucket's own). */
  target?: Target;
  /** Runs per candidate. Default 5. */
  trials?: number;
  /** Share of `trials` a candidate must reproduce in. Default: half the bucket's measured rate, at least one run; one run when never measured. */
  rate?: number;
  /** Plain runs of repro.min.py afterwards, to measure its own rate. Default 10. */
  rateTrials?: number;
  /** Time budget of the reduction. Default 10 min. */
  budgetMs?: number;
  /** Per-run cap (a hang bucket's candidates get its calibrated limit). Default 30 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface MinimizeBucketResult {
  /** The bucket's name after any re-signing. */
  bucket: string;
  result: MinimizeResult;
  /** repro.min.py's path; null when no smaller program reproduced the bug. */
  file: string | null;
  /** repro.min.py's own rate; null when it was not measured (stopped, or nothing was written). */
  reproduction: Reproduction | null;
}

/** The hits in `trials` a candidate needs: `rate` given, else half the bucket's measured rate (one run at least). */
export function requiredHitsFor(meta: BucketMeta, trials: number, rate?: number): number {
  // A bucket whose rate was never measured (a campaign that ended while measuring) asks for one run in
  // `trials`: its rate is unknown, and assuming 100% would refuse every flaky bug at the baseline.
  const share = rate ?? (meta.reproduction ? Math.max(1 / trials, meta.reproduction.rate / 2) : 1 / trials);
  if (!(share > 0 && share <= 1)) throw new UsageError(`--rate ${share}: expected a share in (0, 1]`);
  return Math.max(1, Math.ceil(share * trials - 1e-9));
}

export async function minimizeBucket(store: CrashStore, name: string, o: MinimizeBucketOptions): Promise<MinimizeBucketResult> {
  const log = o.log ?? (() => undefined);
  const capMs = o.timeoutMs ?? MINIMIZE_DEFAULTS.timeoutMs;
  let bucket = name;
  let meta = await store.read(bucket);
  if (!meta) throw new InputError(store.dir(bucket), 'is not a complete bucket (no meta.json); pass a directory under crashes/');
  const target = o.target ?? (await probeTarget(meta.interpreter.path, 'flag'));
  // The interestingness test is the signature: one of an older format is re-signed first.
  if (needsResign(meta)) {
    const r = await resignBucket(store, bucket, meta, { target, trials: 5, timeoutMs: capMs, limits: defaultLimits(1, capMs) });
    log(describeResign(meta, r));
    if (r.to) bucket = r.to;
    meta = (await store.read(bucket)) ?? meta;
  }
  const trials = o.trials ?? MINIMIZE_DEFAULTS.trials;
  const requiredHits = requiredHitsFor(meta, trials, o.rate);
  // A hang bucket's candidates get the calibrated limit its finding had, not the whole cap.
  const timeoutMs = bucketTrialLimit(meta, capMs);
  const file = path.join(store.dir(bucket), 'repro.py');
  const source = await fs.readFile(file, 'utf8');
  const modes = trialModes(target, meta.modes, meta.signature);
  log(`minimizing ${bucket} on ${target.label} (${modes.join(', ')}): a candidate must show it in ${requiredHits}/${trials} runs`);
  const result = await minimize({
    file, source, target, modes, signature: meta.signature, trialsPerCandidate: trials, requiredHits, timeoutMs,
    budgetMs: o.budgetMs ?? MINIMIZE_DEFAULTS.budgetMs, limits: defaultLimits(1, timeoutMs), signal: o.signal, log,
  });
  if (result.stoppedBy === 'no-baseline') {
    throw new InputError(file, `does not reproduce its bug on ${target.label} at the required rate (${result.baseline.hits}/${result.baseline.trials}); try more --trials or a lower --rate`);
  }
  if (result.stoppedBy === 'unsafe') {
    throw new InputError(file, `cannot be reduced safely: a hand-written program whose ${meta.kind} finding also shows under the GIL has no scenario to recompute its checks from`);
  }
  if (result.accepted === 0) return { bucket, result, file: null, reproduction: null };
  const out = await store.writeFile(bucket, 'repro.min.py', reproHeaderFor(meta, 'repro.min.py', target) + result.source);
  // The reduced program's own rate: it was accepted at `requiredHits` in `trials`, which says little about
  // how often it shows; every later claim about the bucket (fixed, not affected) rests on it.
  const rateTrials = o.rateTrials ?? MINIMIZE_DEFAULTS.rateTrials;
  log(`measuring repro.min.py's own rate (${rateTrials} plain runs)`);
  const reproduction = await measureFileRate(out, meta, target, { trials: rateTrials, timeoutMs: capMs, limits: defaultLimits(1, timeoutMs), flakyBelow: 0.5, signal: o.signal });
  await store.update(bucket, (m) => ({
    ...m,
    minimized: {
      file: 'repro.min.py', bytesBefore: result.bytesBefore, bytesAfter: result.bytesAfter, linesBefore: result.linesBefore, linesAfter: result.linesAfter,
      requiredRate: requiredHits / trials, trialsPerCandidate: trials, candidatesTried: result.candidatesTried, measuredAt: new Date().toISOString(),
      ...(reproduction ? { reproduction } : {}),
    },
  }));
  return { bucket, result, file: out, reproduction: reproduction ?? null };
}
