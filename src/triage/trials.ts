// Re-running a program to see whether a finding shows again: the reproduction rate of a new bucket, the
// affected versions in triage, the interestingness test of the minimizer and the statuses of replay.
//
// A trial runs the file as plain `python FILE` (no harness: the reproducer must stand alone), once in each
// mode the finding needs; the finding reproduced in a trial when the oracles
// report the same bug (same signature, up to interpreter versions) from that trial's runs.
import { checkProgram } from '../check.js';
import { trialLimit } from '../runtime/calibration.js';
import type { Oracle } from '../oracles/index.js';
import type { ResourceLimits } from '../runtime/limits.js';
import type { Finding, GilMode, Target } from '../types.js';

/** Interpreter versions in a signature ("3.13.15t/gil-off" in differential ones) do not change the bug. */
export function versionless(signature: string): string {
  return signature.replace(/\b\d+\.\d+\.\d+[a-z]*\d*t?d?(?=[/ ,|)]|$)/g, '<v>');
}

/**
 * A crash signed by C frames, reduced to what survives a change of patch release: the signal, the fatal
 * line, the innermost C frame and the op (the outer frames move with the compiler's inlining choices).
 */
function crashCore(signature: string): string | null {
  const m = /^crash\|([^|]*)\|([^|]*)\|c:([^|<]*?)(?: < [^|]*)?((?:\|op:.*)?)$/.exec(signature);
  return m ? `crash|${m[1]}|${m[2]}|c:${m[3]?.trim()}${m[4] ?? ''}` : null;
}

export function sameBug(a: string, b: string): boolean {
  if (a === b || versionless(a) === versionless(b)) return true;
  const ca = crashCore(a);
  return ca !== null && ca === crashCore(b);
}

/**
 * The modes a trial runs: the modes the finding showed in that the target can run, plus GIL-on when the
 * finding compares against a GIL-on reference (differential without a prediction). A GIL-only build
 * runs its only mode.
 */
export function trialModes(target: Pick<Target, 'freeThreaded'>, findingModes: readonly GilMode[], signature: string): GilMode[] {
  if (!target.freeThreaded) return ['gil-on'];
  const modes = new Set<GilMode>(findingModes.length ? findingModes : ['gil-off']);
  if (/^differential\|[^|]*\|cross-run\|/.test(signature)) modes.add('gil-on');
  return (['gil-off', 'gil-on'] as const).filter((m) => modes.has(m));
}

/**
 * The time limit of a trial of a bucket: a hang keeps the calibrated limit its finding had (plus plain
 * start-up, runtime/calibration.ts), anything else gets the whole cap (a slow reproduction of a crash is
 * still a crash).
 */
export function bucketTrialLimit(meta: { kind: string; timeoutMs?: number }, capMs: number): number {
  return meta.kind === 'hang' ? trialLimit(meta.timeoutMs, capMs) : capMs;
}

export interface TrialOptions {
  file: string;
  target: Target;
  modes: GilMode[];
  /** The bug to look for; without one, a trial hits when it shows any finding (replay of corpus programs). */
  signature?: string;
  trials: number;
  timeoutMs: number;
  limits?: ResourceLimits;
  oracles?: Oracle[];
  signal?: AbortSignal;
  /** Stop early once this many trials reproduced (the minimizer needs only its required count). */
  enoughHits?: number;
  /** Plain `python FILE` (default), or through the harness. */
  plain?: boolean;
  /** While nothing showed, go on up to this many trials (claims.ts: enough for a `fixed` to be earned). */
  extendTo?: number;
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
}

export async function runTrials(o: TrialOptions): Promise<TrialResult> {
  let done = 0;
  let hits = 0;
  let slowestHitMs = 0;
  const others = new Map<string, Finding>();
  const hitsByMode: Partial<Record<GilMode, number>> = {};
  const result = (cancelled: boolean): TrialResult => ({ trials: done, hits, rate: done ? hits / done : 0, others: [...others.values()], cancelled, slowestHitMs, hitsByMode });
  const most = Math.max(o.trials, o.extendTo ?? 0);
  for (let i = 0; i < most; i++) {
    if (i >= o.trials && hits > 0) break;
    if (o.signal?.aborted) return result(true);
    const report = await checkProgram({ file: o.file, targets: [o.target], modes: o.modes, runs: 1, jobs: 1, timeoutMs: o.timeoutMs, limits: o.limits, oracles: o.oracles, signal: o.signal, plain: o.plain ?? true });
    if (report.cancelled) return result(true);
    done += 1;
    let hit = false;
    const wanted = o.signature;
    const modesHit = new Set<GilMode>();
    for (const f of report.findings) {
      if (wanted === undefined || sameBug(f.signature, wanted)) {
        hit = true;
        for (const m of f.modes) modesHit.add(m);
      }
      if ((wanted === undefined || !sameBug(f.signature, wanted)) && !others.has(f.signature)) others.set(f.signature, f);
    }
    for (const m of modesHit) hitsByMode[m] = (hitsByMode[m] ?? 0) + 1;
    if (hit) {
      hits += 1;
      slowestHitMs = Math.max(slowestHitMs, ...report.runs.map((r) => r.durationMs));
    }
    if (o.enoughHits !== undefined && hits >= o.enoughHits) break;
    // Cannot reach enoughHits any more: stop spending runs on this candidate.
    if (o.enoughHits !== undefined && hits + (o.trials - done) < o.enoughHits) break;
  }
  return result(false);
}
