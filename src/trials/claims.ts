// Claims the numbers support (issue "verdicts a maintainer can sign"). A rate is an estimate with an
// interval, never a number to plug in:
//
// - A bucket's recorded rate k/n says the true rate is at least its one-sided 95% Clopper-Pearson lower
//   bound p_L (with k = 0 it says nothing: no absence can ever be claimed against it).
// - `fixed` (replay), `not affected` (triage --versions) and the absence half of `fixed-between` need m
//   trials with no sighting where (1 - p_L)^m <= 0.05: a bug still there at p_L or more would have shown
//   with 95% probability. Taking p_L instead of k/n is what keeps the false `fixed` rate under 5% for every
//   true rate (tests/triage/claimsSimulation.test.ts); with the point estimate, 2/2 was `fixed` after one
//   clean trial.
// - `fixed-between` also needs the old release to show the bug in the same session, more often than the
//   new one by Fisher's exact test (one-sided, p < 0.05): rates drift with the machine's load, so the
//   recorded rate alone is no control.
// - A crash or hang of the same family on the interpreter blocks any absence claim there: the bug moved,
//   it did not go.
// A bug that needs the GIL off cannot show on a GIL-only build, and a race cannot show on a build without
// ThreadSanitizer: `not applicable`, never `not affected` or `fixed`.
import betaQuantile from '@stdlib/stats-base-dists-beta-quantile';
import hypergeometricCdf from '@stdlib/stats-base-dists-hypergeometric-cdf';
import type { BucketMeta } from '../store/crashStore.js';
import type { GilMode, Target } from '../types.js';
import { findingKind } from '../findingKinds.js';

export const CONFIDENCE = 0.95;

/** Hits out of trials: what a rate is measured as. */
export interface Count {
  hits: number;
  trials: number;
}

/** One-sided lower confidence bound of a rate (Clopper-Pearson): the true rate is at least this with `confidence`. */
export function rateLowerBound(c: Count, confidence = CONFIDENCE): number {
  if (!(c.trials > 0) || c.hits <= 0) return 0;
  if (c.hits >= c.trials) return (1 - confidence) ** (1 / c.trials);
  return betaQuantile(1 - confidence, c.hits, c.trials - c.hits + 1);
}

/** One-sided upper confidence bound of a rate (Clopper-Pearson). */
export function rateUpperBound(c: Count, confidence = CONFIDENCE): number {
  if (!(c.trials > 0) || c.hits >= c.trials) return 1;
  if (c.hits <= 0) return 1 - (1 - confidence) ** (1 / c.trials);
  return betaQuantile(confidence, c.hits + 1, c.trials - c.hits);
}

/** The two-sided interval of a rate at `confidence` (Clopper-Pearson), for tables: [low, high]. */
export function rateInterval(c: Count, confidence = CONFIDENCE): [number, number] {
  const tail = (1 + confidence) / 2;
  return [rateLowerBound(c, tail), rateUpperBound(c, tail)];
}

/** `3/10 (30%, 95% CI 7-65%)`. */
export function formatRate(c: Count): string {
  if (!(c.trials > 0)) return 'unmeasured';
  const [lo, hi] = rateInterval(c);
  const pct = (x: number) => Math.round(x * 100);
  return `${c.hits}/${c.trials} (${pct(c.hits / c.trials)}%, 95% CI ${pct(lo)}-${pct(hi)}%)`;
}

/**
 * Clean trials after which a bug whose rate is at least `rate` would have shown at least once with
 * `confidence`: (1 - rate)^m <= 1 - confidence.
 */
export function trialsToRuleOut(rate: number, confidence = CONFIDENCE): number {
  if (!(rate > 0)) return Infinity;
  if (rate >= 1) return 1;
  return Math.ceil(Math.log(1 - confidence) / Math.log(1 - rate));
}

/** Clean trials an absence claim against a recorded rate needs: enough to rule out its 95% lower bound. */
export function trialsNeeded(recorded: Count | null, confidence = CONFIDENCE): number {
  return recorded ? trialsToRuleOut(rateLowerBound(recorded, confidence), confidence) : Infinity;
}

/**
 * The rate claims about a bucket are made against: the minimized reproducer's own, when that is what is
 * replayed and it was measured; else the bucket's; null when never measured.
 */
export function recordedCount(meta: Pick<BucketMeta, 'reproduction' | 'minimized'>, replaying: 'repro.py' | 'repro.min.py' = meta.minimized ? 'repro.min.py' : 'repro.py'): Count | null {
  const r = replaying === 'repro.min.py' ? meta.minimized?.reproduction : meta.reproduction;
  return r && r.trials > 0 ? { hits: r.hits, trials: r.trials } : null;
}

/** The point estimate of a recorded count (for display and for scheduling; never for claims). */
export function recordedRate(meta: Pick<BucketMeta, 'reproduction' | 'minimized'>): number {
  const c = recordedCount(meta);
  return c ? c.hits / c.trials : 0;
}

/**
 * Sequential rate trials (a campaign's, within its budget): the hits so far answer the question a rate is
 * measured for, whether the bucket reproduces at `flakyBelow` or more, once the one-sided 95% interval lies
 * wholly on one side of it (5/5 and 0/5 decide at 0.5; 1/6 goes on). At least `minTrials` either way.
 */
export function rateDecided(hits: number, trials: number, flakyBelow: number, minTrials = 3): boolean {
  if (trials < minTrials) return false;
  const c = { hits, trials };
  return rateLowerBound(c) >= flakyBelow || rateUpperBound(c) < flakyBelow;
}

export type AbsenceClaim = 'shown' | 'absent' | 'inconclusive';

/**
 * What `hits` out of `trials` say about a bug recorded at `recorded`. `sameFamily`: the trials showed a
 * crash or hang of the bug's family under another signature, which is the bug, not its absence.
 */
export function absenceClaim(hits: number, trials: number, recorded: Count | null, sameFamily = false): AbsenceClaim {
  if (hits > 0 || sameFamily) return 'shown';
  return trials >= trialsNeeded(recorded) ? 'absent' : 'inconclusive';
}

/** One line saying why a claim is inconclusive, for tables and JUnit. */
export function inconclusiveWhy(trials: number, recorded: Count | null): string {
  const need = trialsNeeded(recorded);
  if (!recorded || recorded.hits === 0) return `0/${trials}, and the bucket has no measured reproduction rate above zero (ftfuzz triage --measure first)`;
  const lower = rateLowerBound(recorded);
  return Number.isFinite(need)
    ? `0/${trials} is not enough: the recorded ${recorded.hits}/${recorded.trials} only says the rate is at least ${(lower * 100).toFixed(1)}% (95% lower bound), and ruling that out takes ${need} clean trials (--max-trials ${need})`
    : `0/${trials}: the recorded ${recorded.hits}/${recorded.trials} bounds nothing`;
}

/** What an absence claim rules out, for people: `a rate of 22% or more is ruled out at 95%`. */
export function ruledOut(trials: number, recorded: Count | null): string {
  const lower = recorded ? rateLowerBound(recorded) : 0;
  return `0/${trials}: a rate of ${(lower * 100).toFixed(1)}% or more (the 95% lower bound of the recorded ${recorded?.hits ?? 0}/${recorded?.trials ?? 0}) is ruled out at 95%`;
}

/**
 * Fisher's exact test, one-sided: the p-value of seeing `a.hits` or more among `a`'s trials if `a` and `b`
 * had the same rate (small: `a`'s rate is higher).
 */
export function fisherGreater(a: Count, b: Count): number {
  const total = a.trials + b.trials;
  const hits = a.hits + b.hits;
  if (a.trials <= 0 || hits === 0) return 1;
  // P(X >= a.hits) for X hypergeometric: `total` trials, `hits` of them hits, `a.trials` drawn.
  return a.hits <= 0 ? 1 : Math.max(0, Math.min(1, 1 - hypergeometricCdf(a.hits - 1, total, hits, a.trials)));
}

export const SIGNIFICANCE = 0.05;

export type BetweenClaim = 'fixed-between' | 'still-present' | 'inconclusive';

export interface BetweenEvidence {
  claim: BetweenClaim;
  /** Fisher's one-sided p-value, old rate above new (null when the new release showed the bug). */
  p: number | null;
  why: string;
}

/**
 * Fixed between an old and a new release, from trials of both in one session: absent on the new one
 * against the recorded rate (and no crash or hang of its family there), and shown on the old one
 * significantly more often.
 */
export function fixedBetween(oldRun: Count, newRun: Count & { sameFamily?: boolean; otherFailures?: { trials: number; titles: string[] } }, recorded: Count | null): BetweenEvidence {
  const absence = absenceClaim(newRun.hits, newRun.trials, recorded, newRun.sameFamily);
  if (absence === 'shown') {
    return { claim: 'still-present', p: null, why: newRun.hits > 0 ? `new ${newRun.hits}/${newRun.trials}` : `new release crashed or hung in the same family (${newRun.trials} trials)` };
  }
  const p = fisherGreater(oldRun, newRun);
  // The program still crashes or hangs on the new release, with other frames: the bug may have moved, not gone.
  const other = newRun.otherFailures;
  if (other && other.trials > 0) {
    return { claim: 'inconclusive', p, why: `the new release crashed or hung otherwise in ${other.trials} of ${newRun.trials} trials (${other.titles.slice(0, 2).map((t) => t.slice(0, 120)).join('; ')}): the bug may have moved, no absence is claimed` };
  }
  if (absence === 'inconclusive') return { claim: 'inconclusive', p, why: inconclusiveWhy(newRun.trials, recorded) };
  if (oldRun.hits === 0) return { claim: 'inconclusive', p, why: `the old release did not show it either in this session (0/${oldRun.trials}): no control` };
  if (p >= SIGNIFICANCE) return { claim: 'inconclusive', p, why: `old ${oldRun.hits}/${oldRun.trials} against new 0/${newRun.trials}: Fisher's p = ${p.toFixed(3)} is not below ${SIGNIFICANCE}` };
  return { claim: 'fixed-between', p, why: `old ${oldRun.hits}/${oldRun.trials}, new 0/${newRun.trials} (Fisher's one-sided p = ${p.toFixed(4)}); ${ruledOut(newRun.trials, recorded)}` };
}

export type VersionStatus = 'affected' | 'not-affected' | 'inconclusive' | 'not-applicable';

/**
 * Why no absence can be claimed for a bucket on an interpreter whatever its trials show, or null: a bug that
 * needs the GIL off on a GIL-only build, and a race (a ThreadSanitizer report) on a build without TSan, which
 * cannot see races at all.
 */
export function absenceImpossible(target: Pick<Target, 'freeThreaded' | 'sanitizers'>, bucket: { kind: string; modes: readonly GilMode[] }): string | null {
  if (!target.freeThreaded && bucket.modes.length > 0 && bucket.modes.every((m) => m === 'gil-off')) return 'a GIL-only build cannot run it without the GIL';
  if (findingKind(bucket.kind)?.stacks === 'tsan' && !target.sanitizers.includes('thread')) return 'a race is seen only by ThreadSanitizer: replay it on a TSan build of that version (triage --promote tells whether it crashes a plain build)';
  return null;
}

/** The status of one interpreter in `triage --versions`. */
export function versionStatus(target: Pick<Target, 'freeThreaded' | 'sanitizers'>, bucket: { kind: string; modes: readonly GilMode[] }, hits: number, trials: number, recorded: Count | null, sameFamily = false): VersionStatus {
  if (hits > 0 || sameFamily) return 'affected';
  if (absenceImpossible(target, bucket)) return 'not-applicable';
  return absenceClaim(0, trials, recorded) === 'absent' ? 'not-affected' : 'inconclusive';
}
