// Re-running a program to see whether a finding shows again: the reproduction rate of a new bucket, the
// affected versions in triage, the interestingness test of the minimizer and the statuses of replay.
//
// A trial runs the file as plain `python FILE` (no harness: the reproducer must stand alone), once in each
// mode the finding needs; the finding reproduced in a trial when the oracles
// report the same bug (same signature, up to interpreter versions) from that trial's runs.
import { promises as fs } from 'node:fs';
import { checkProgram } from '../check.js';
import { familyBase, familyOfFinding } from './family.js';
import { trialLimit } from '../runtime/calibration.js';
import type { Oracle } from '../oracles/index.js';
import type { ResourceLimits } from '../runtime/limits.js';
import type { Finding, GilMode, Target } from '../types.js';
import { FINDING_KINDS, findingKind } from '../findingKinds.js';

/** Interpreter versions in a signature ("3.13.15t/gil-off" in differential ones) do not change the bug. */
export function versionless(signature: string): string {
  return signature.replace(/\b\d+\.\d+\.\d+[a-z]*\d*t?d?(?=[/ ,|)]|$)/g, '<v>');
}

/**
 * A crash signed by C frames, reduced to what survives a change of patch release: the signal, the fatal
 * line, the innermost C frame and the op (the outer frames move with the compiler's inlining choices).
 */
function crashCore(signature: string): string | null {
  const m = /^crash\|([^|]*)\|([^|]*)\|c:([^|<]*?)(?: < [^|]*)?((?:\|(?:op|heap):.*)?)$/.exec(signature);
  return m ? `crash|${m[1]}|${m[2]}|c:${m[3]?.trim()}${m[4] ?? ''}` : null;
}

/**
 * Differential signatures before generator gen/2 named the observable by its variable (`o1.len_consistent`),
 * lumped every unexpected exception into `unexpected`, and ended with the deviating side's labels. Such a
 * bucket is the same bug as a finding of today's shape on the same observable field.
 */
function legacyDifferential(signature: string): string | null {
  const m = /^differential\|([^|]*)\|(prediction|cross-run)\|[^|]*$/.exec(signature);
  return m ? `${(m[1] as string).replace(/^o\d+\./, '')}|${m[2] as string}` : null;
}

function differentialField(signature: string): string | null {
  const m = /^differential\|([^|]*)\|[^|]*\|[^|]*\|(prediction|cross-run)$/.exec(signature);
  return m ? `${(m[1] as string).replace(/^[^.]*\./, '')}|${m[2] as string}` : null;
}

export function sameBug(a: string, b: string): boolean {
  if (a === b || versionless(a) === versionless(b)) return true;
  const la = legacyDifferential(a);
  const lb = legacyDifferential(b);
  if (la !== null && lb !== null) return false;
  if (la !== null) return la === differentialField(b);
  if (lb !== null) return lb === differentialField(a);
  const ca = crashCore(a);
  return ca !== null && ca === crashCore(b);
}

/** A differential judged against a GIL-on reference run (no prediction): its trials need that run too. */
export function isCrossRun(signature: string): boolean {
  return /^differential\|.*\|cross-run$/.test(signature) || /^differential\|[^|]*\|cross-run\|/.test(signature);
}

/**
 * The modes a trial runs: the modes the finding showed in that the target can run, plus GIL-on when the
 * finding compares against a GIL-on reference (differential without a prediction). A GIL-only build
 * runs its only mode.
 */
export function trialModes(target: Pick<Target, 'freeThreaded'>, findingModes: readonly GilMode[], signature: string): GilMode[] {
  if (!target.freeThreaded) return ['gil-on'];
  const modes = new Set<GilMode>(findingModes.length ? findingModes : ['gil-off']);
  if (isCrossRun(signature)) modes.add('gil-on');
  return (['gil-off', 'gil-on'] as const).filter((m) => modes.has(m));
}

/**
 * The time limit of a trial of a bucket (findingKinds.ts `trialLimit`): a hang keeps the calibrated limit
 * its finding had (plus plain start-up, runtime/calibration.ts); other kinds keep it on the bucket's own
 * interpreter (`ownInterpreter`: its rate trials) and get the whole cap elsewhere.
 */
export function bucketTrialLimit(meta: { kind: string; timeoutMs?: number }, capMs: number, ownInterpreter = false): number {
  const rule = findingKind(meta.kind)?.trialLimit;
  return rule === 'calibrated' || (rule === 'calibrated-own' && ownInterpreter) ? trialLimit(meta.timeoutMs, capMs) : capMs;
}

export interface TrialOptions {
  file: string;
  target: Target;
  modes: GilMode[];
  /** The bug to look for; without one, a trial hits when it shows any finding (replay of corpus programs). */
  signature?: string;
  /**
   * The bug's family key (triage/family.ts): a finding of the same family under another signature is the
   * same bug (another op reached it, another thread faulted first) and counts as a hit.
   */
  family?: string;
  trials: number;
  timeoutMs: number;
  limits?: ResourceLimits;
  oracles?: Oracle[];
  signal?: AbortSignal;
  /** Stop early once this many trials reproduced (the minimizer needs only its required count). */
  enoughHits?: number;
  /** Plain `python FILE` (default), or through the harness. */
  plain?: boolean;
  /** Extra environment of every trial (a reproducer's perturbation: LD_PRELOAD and FTFUZZ_SCHED_SEED). */
  env?: Record<string, string>;
  /** While nothing showed, go on up to this many trials (claims.ts: enough for a `fixed` to be earned). */
  extendTo?: number;
  /** Sequential trials: stop as soon as this says the hits so far answer the question (claims.ts `rateDecided`). */
  decided?: (hits: number, trials: number) => boolean;
  /**
   * The bug is a confirmed hang: a trial hits when the program hangs past the limit, whatever frames its
   * samples catch (a spinning loop is caught at different points; the bucket's own signature is one of them).
   */
  hangHits?: boolean;
}

export interface TrialResult {
  trials: number;
  hits: number;
  rate: number;
  /** Other findings seen in the trials (a different bug, or a different symptom of this one). */
  others: Finding[];
  cancelled: boolean;
  /** The longest run of the trials that showed the bug (0 when none did). */
  slowestHitMs: number;
  /** Trials in which the bug showed in each mode (a finding names the modes it showed in). */
  hitsByMode: Partial<Record<GilMode, number>>;
  /** Trials that hit only through the family (another signature of the same bug). */
  familyHits: number;
}

/** What one trial showed. */
export interface TrialOutcome {
  hit: boolean;
  /** A hit only by family, not by signature. */
  byFamily?: boolean;
  others: Finding[];
  modesHit: GilMode[];
  durationMs: number;
  cancelled?: boolean;
}

export interface TrialPlan {
  trials: number;
  extendTo?: number;
  enoughHits?: number;
  signal?: AbortSignal;
  decided?: (hits: number, trials: number) => boolean;
}

/**
 * The stopping rule of every trial series, apart from what a trial is (tests drive it with a simulated
 * one): `trials` trials; while nothing showed, on up to `extendTo`; stop once `enoughHits` showed, or once
 * they can no longer be reached.
 */
export async function trialLoop(plan: TrialPlan, once: () => Promise<TrialOutcome>): Promise<TrialResult> {
  let done = 0;
  let hits = 0;
  let familyHits = 0;
  let slowestHitMs = 0;
  const others = new Map<string, Finding>();
  const hitsByMode: Partial<Record<GilMode, number>> = {};
  const result = (cancelled: boolean): TrialResult => ({ trials: done, hits, rate: done ? hits / done : 0, others: [...others.values()], cancelled, slowestHitMs, hitsByMode, familyHits });
  const most = Math.max(plan.trials, Number.isFinite(plan.extendTo) ? (plan.extendTo ?? 0) : 0);
  for (let i = 0; i < most; i++) {
    if (i >= plan.trials && hits > 0) break;
    if (plan.signal?.aborted) return result(true);
    const outcome = await once();
    if (outcome.cancelled) return result(true);
    done += 1;
    for (const f of outcome.others) if (!others.has(f.signature)) others.set(f.signature, f);
    for (const m of outcome.modesHit) hitsByMode[m] = (hitsByMode[m] ?? 0) + 1;
    if (outcome.hit) {
      hits += 1;
      if (outcome.byFamily) familyHits += 1;
      slowestHitMs = Math.max(slowestHitMs, outcome.durationMs);
    }
    if (plan.enoughHits !== undefined && hits >= plan.enoughHits) break;
    if (plan.decided?.(hits, done)) break;
    // Cannot reach enoughHits any more: stop spending runs on this candidate.
    if (plan.enoughHits !== undefined && hits + (plan.trials - done) < plan.enoughHits) break;
  }
  return result(false);
}

export async function runTrials(o: TrialOptions): Promise<TrialResult> {
  const source = o.family !== undefined ? await fs.readFile(o.file, 'utf8').catch(() => undefined) : undefined;
  return trialLoop(o, async () => {
    const report = await checkProgram({ file: o.file, targets: [o.target], modes: o.modes, runs: 1, jobs: 1, timeoutMs: o.timeoutMs, limits: o.limits, oracles: o.oracles, signal: o.signal, plain: o.plain ?? true, env: o.env });
    if (report.cancelled) return { hit: false, others: [], modesHit: [], durationMs: 0, cancelled: true };
    const wanted = o.signature;
    let hit = false;
    let bySignature = false;
    const modesHit = new Set<GilMode>();
    const others: Finding[] = [];
    for (const f of report.findings) {
      const signed = wanted === undefined || sameBug(f.signature, wanted);
      const kin = !signed && ((o.hangHits === true && FINDING_KINDS[f.kind].outlivesLimit) || (o.family !== undefined && familyBase(familyOfFinding(f, report.runs, source).key) === familyBase(o.family)));
      if (signed || kin) {
        hit = true;
        bySignature ||= signed;
        for (const m of f.modes) modesHit.add(m);
      }
      if (!signed) others.push(f);
    }
    return { hit, byFamily: hit && !bySignature, others, modesHit: [...modesHit], durationMs: Math.max(0, ...report.runs.map((r) => r.durationMs)) };
  });
}
