// Two releases compared in one session: the trials of a bucket's reproducer on an old release (where it was
// found: the control) and a newer one, interleaved (new, old, new, old, ...) so that load drifts alike on
// both. What `fixed-between` (claims.ts) is judged on, in the known-bug benchmark and in release bisection.
import { findingKind } from '../findingKinds.js';
import type { BucketMeta } from '../store/crashStore.js';
import type { Target } from '../types.js';
import { fixedBetween, trialsNeeded, type BetweenEvidence, type Count } from './claims.js';
import { bucketTrialLimit, runTrials, trialModes } from './trials.js';

/**
 * At least 10 rounds: with fewer, even a perfect separation is not significant at a 50% old rate (Fisher's
 * p for 5/10 against 0/10 is 0.016; for 3/6 against 0/6, 0.09).
 */
export const MIN_ROUNDS = 10;
/** Enough for an absence against a recorded 3/10 (its lower bound, 8.7%, takes 33 clean trials). */
export const DEFAULT_MAX_ROUNDS = 40;

/** The trials of both releases, and the other crashes and hangs the new release showed (titles, per trial). */
export interface InterleavedCounts {
  old: Count;
  new: Count;
  /** Trials on the new release that crashed or hung with another bug than this one (titles, first of each). */
  newOthers: { trials: number; titles: string[] };
}

/** A crash or a hang: a failure that may be the same bug moved elsewhere (an exception or a differential is not). */
const MOVED_KINDS = new Set(['crash', 'hang']);

/**
 * As many rounds as an absence claim against the recorded rate needs (at least 10, at most `max`), fewer
 * once the new release showed the bug in 3 rounds, or crashed or hung otherwise in 2 (no absence can be
 * claimed then). A hang hits when the program hangs past its limit.
 */
export async function interleavedTrials(file: string, meta: BucketMeta, recorded: Count, old: Target, neu: Target, max = DEFAULT_MAX_ROUNDS, timeoutMs = 30_000): Promise<InterleavedCounts> {
  const rounds = Math.max(MIN_ROUNDS, Math.min(max, trialsNeeded(recorded)));
  const o = { hits: 0, trials: 0 };
  const n = { hits: 0, trials: 0 };
  const newOthers = { trials: 0, titles: [] as string[] };
  const one = async (target: Target, into: Count) => {
    const r = await runTrials({ file, target, modes: trialModes(target, meta.modes, meta.signature), signature: meta.signature, family: meta.family?.key, trials: 1, timeoutMs: bucketTrialLimit(meta, timeoutMs), hangHits: findingKind(meta.kind)?.outlivesLimit === true });
    into.trials += r.trials;
    into.hits += r.hits;
    return r;
  };
  for (let i = 0; i < rounds; i++) {
    const r = await one(neu, n);
    const moved = r.hits === 0 ? r.others.filter((f) => MOVED_KINDS.has(f.kind)) : [];
    if (moved.length) {
      newOthers.trials += 1;
      for (const f of moved) if (!newOthers.titles.includes(f.title)) newOthers.titles.push(f.title);
    }
    await one(old, o);
    if (n.hits > 0 && i >= 2) break;
    if (n.hits === 0 && newOthers.trials >= 2) break;
  }
  return { old: o, new: n, newOthers };
}

/** The trials and the claim they support: fixed between the two releases, still present, or inconclusive. */
export async function trialsBetween(file: string, meta: BucketMeta, recorded: Count, old: Target, neu: Target, max?: number): Promise<InterleavedCounts & BetweenEvidence> {
  const counts = await interleavedTrials(file, meta, recorded, old, neu, max);
  return { ...counts, ...fixedBetween(counts.old, { ...counts.new, otherFailures: counts.newOthers }, recorded) };
}
