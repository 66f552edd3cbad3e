// A bucket's reproduction rate, measured as a maintainer will see it: plain `python repro.py` (or the
// minimized reproducer, whose own rate later claims use), with how it was measured. Shared by the campaign
// (rates measured while it runs, with its other jobs paused) and triage (measured again, afterwards).
import { findingKind } from '../findingKinds.js';
import os from 'node:os';
import path from 'node:path';
import type { Oracle } from '../oracles/index.js';
import type { ResourceLimits } from '../runtime/limits.js';
import { reproducerIn, type BucketMeta, type CrashStore, type Reproduction } from '../store/crashStore.js';
import type { Target } from '../types.js';
import { bucketTrialLimit, runTrials, trialModes } from './trials.js';
import { rateDecided } from './claims.js';

export interface TrialSettings {
  trials: number;
  timeoutMs: number;
  limits?: ResourceLimits;
  oracles?: Oracle[];
  signal?: AbortSignal;
  /** While nothing showed, go on up to what the recorded rate needs for `not affected`, at most this. */
  maxTrials?: number;
  /** Extra environment of every trial (how a bucket's perturbation seed is replayed: LD_PRELOAD, FTFUZZ_SCHED_SEED). */
  env?: Record<string, string>;
}

/** The reproducer a bucket is replayed from: the minimized one when present. */
export function reproducerOf(store: CrashStore, bucket: string): Promise<string> {
  return reproducerIn(store.dir(bucket));
}

/** Which of a bucket's reproducers a path is (claims use that reproducer's own rate). */
export function reproducerKind(file: string): 'repro.py' | 'repro.min.py' {
  return path.basename(file) === 'repro.min.py' ? 'repro.min.py' : 'repro.py';
}

/** The family key trials count as the bug (a bucket of an older store has none yet: signature only). */
export function familyKey(meta: BucketMeta): string | undefined {
  return meta.family?.key;
}

export interface RateSettings extends TrialSettings {
  flakyBelow: number;
  /** Target processes ftfuzz runs beside these trials (a campaign's other jobs); 0 when they run alone. */
  besideJobs?: number;
  /** Stop once the interval says whether the rate is below `flakyBelow` (claims.ts `rateDecided`), at most `trials`. */
  sequential?: boolean;
  /** Sequential trials also stop (after 3) once this says the time budget is spent: a rate of fewer trials, honestly wider. */
  overBudget?: () => boolean;
}

/**
 * Measure (or re-measure) a bucket's reproduction rate on its own interpreter, with plain `python FILE` as a
 * maintainer runs it: the minimized reproducer's own rate when there is one (claims about it use that).
 */
export async function measureRate(store: CrashStore, bucket: string, meta: BucketMeta, target: Target, s: RateSettings): Promise<BucketMeta> {
  const file = await reproducerOf(store, bucket);
  const reproduction = await measureFileRate(file, meta, target, s);
  if (!reproduction) return meta;
  return store.update(bucket, (m) =>
    reproducerKind(file) === 'repro.min.py' && m.minimized ? { ...m, minimized: { ...m.minimized, reproduction } } : { ...m, reproduction },
  );
}

/** The rate of one reproducer of a bucket, with how it was measured; undefined when cancelled. */
export async function measureFileRate(file: string, meta: BucketMeta, target: Target, s: RateSettings): Promise<Reproduction | undefined> {
  const modes = trialModes(target, meta.modes, meta.signature);
  // The bucket's own interpreter (rates are measured there): its calibrated limit.
  const timeoutMs = bucketTrialLimit(meta, s.timeoutMs, target.path === meta.interpreter?.path);
  const loadAverage = os.loadavg()[0] ?? 0;
  const decided = s.sequential ? (hits: number, trials: number) => rateDecided(hits, trials, s.flakyBelow) || (trials >= 3 && s.overBudget?.() === true) : undefined;
  const r = await runTrials({ file, target, modes, signature: meta.signature, family: familyKey(meta), trials: s.trials, timeoutMs, limits: s.limits, oracles: s.oracles, signal: s.signal, decided, hangHits: findingKind(meta.kind)?.outlivesLimit === true, env: s.env });
  if (r.cancelled) return undefined;
  return {
    interpreter: target.label, modes, trials: r.trials, hits: r.hits, rate: r.rate, flaky: r.rate < s.flakyBelow, measuredAt: new Date().toISOString(),
    how: { plain: true, timeoutMs, besideJobs: s.besideJobs ?? 0, loadAverage: Math.round(loadAverage * 100) / 100, cores: os.availableParallelism(), hitWhen: familyKey(meta) ? 'family' : 'signature' },
  };
}
