// Claims the numbers support (issue "triage fidelity"): a bucket is called `fixed` (replay) or `not
// affected` (triage --versions) only when enough trials ran for its recorded reproduction rate to have
// shown at least once with 95% probability: trials >= ln(0.05) / ln(1 - rate). Fewer trials, or a bucket
// whose rate was never measured above zero, are `inconclusive`. A bug that needs the GIL off cannot show
// on a GIL-only build: `not applicable`, never `not affected`.
import type { BucketMeta } from '../store/crashStore.js';
import type { GilMode, Target } from '../types.js';

export const CONFIDENCE = 0.95;

/** Trials after which a bug of this per-trial rate would have shown at least once with `confidence`. */
export function trialsNeeded(rate: number, confidence = CONFIDENCE): number {
  if (!(rate > 0)) return Infinity;
  if (rate >= 1) return 1;
  return Math.ceil(Math.log(1 - confidence) / Math.log(1 - rate));
}

/** The per-trial rate a bucket is known to reproduce at: its measured rate, else none (0). */
export function recordedRate(meta: Pick<BucketMeta, 'reproduction'>): number {
  const r = meta.reproduction;
  return r && r.trials > 0 ? r.hits / r.trials : 0;
}

export type AbsenceClaim = 'shown' | 'absent' | 'inconclusive';

/** What `hits` out of `trials` say about a bug reproducing at `rate`. */
export function absenceClaim(hits: number, trials: number, rate: number): AbsenceClaim {
  if (hits > 0) return 'shown';
  return trials >= trialsNeeded(rate) ? 'absent' : 'inconclusive';
}

/** One line saying why a claim is inconclusive, for tables and JUnit. */
export function inconclusiveWhy(trials: number, rate: number): string {
  const need = trialsNeeded(rate);
  return Number.isFinite(need)
    ? `0/${trials} is not enough at the recorded ${(rate * 100).toFixed(0)}% rate: ${need} trials are needed for 95% confidence (--trials ${need})`
    : `0/${trials}, and the bucket has no measured reproduction rate above zero (ftfuzz triage --measure first)`;
}

export type VersionStatus = 'affected' | 'not-affected' | 'inconclusive' | 'not-applicable';

/** The status of one interpreter in `triage --versions`. */
export function versionStatus(target: Pick<Target, 'freeThreaded'>, bucketModes: readonly GilMode[], hits: number, trials: number, rate: number): VersionStatus {
  if (hits > 0) return 'affected';
  if (!target.freeThreaded && bucketModes.length > 0 && bucketModes.every((m) => m === 'gil-off')) return 'not-applicable';
  return absenceClaim(0, trials, rate) === 'absent' ? 'not-affected' : 'inconclusive';
}
