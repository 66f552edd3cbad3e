// The oracle interface. An oracle reads the runs of one program (across modes, repeats and interpreters)
// and returns typed findings. Per-run observations with the same signature are merged into one finding
// whose `hits` counts the runs that showed it.
import type { Finding, GilMode, RunResult } from '../types.js';

export interface Oracle {
  readonly name: string;
  /** One line: what it detects, for `--oracles` help and reports. */
  readonly description: string;
  check(runs: readonly RunResult[]): Finding[];
}

export { signatureId } from '../signature.js';

type PerRun = Omit<Finding, 'hits' | 'runs' | 'targets' | 'modes'>;

/**
 * Merge per-run findings by signature: hits, union of targets and modes, first run's evidence. A run
 * may yield several findings (one per deviating observable, for the lost-write oracle).
 */
export function mergeBySignature(
  runs: readonly RunResult[],
  perRun: (run: RunResult) => PerRun | PerRun[] | null,
): Finding[] {
  const merged = new Map<string, Finding>();
  for (const run of runs) {
    const found = perRun(run);
    const target = { label: run.target.label, path: run.target.path, version: run.target.version };
    for (const f of found === null ? [] : Array.isArray(found) ? found : [found]) {
      const existing = merged.get(f.signature);
      if (!existing) {
        merged.set(f.signature, { ...f, hits: 1, runs: runs.length, targets: [target], modes: [run.modeRequested] });
        continue;
      }
      existing.hits += 1;
      // A hang proved by one run's finish window is proved.
      if (f.proved) existing.proved = true;
      if (!existing.targets.some((t) => t.path === target.path)) existing.targets.push(target);
      if (!existing.modes.includes(run.modeRequested)) existing.modes.push(run.modeRequested);
    }
  }
  return [...merged.values()];
}

/**
 * Token and counter accounting observables (`<obj>.missing`, `.dup`, `.phantom`, `.wrong_owner`,
 * `.count`, `.keys`, `.attrs`): the lost-write oracle owns them, the differential oracle leaves them alone.
 */
export const ACCOUNTING_KEY = /^(.+)\.(missing|dup|phantom|wrong_owner|count|keys|attrs)$/;

export function groupKey(run: RunResult): string {
  return `${run.target.label} @ ${run.target.path} ${run.modeRequested}`;
}

export function modesOf(runs: readonly RunResult[]): GilMode[] {
  return [...new Set(runs.map((r) => r.modeRequested))];
}

/**
 * Runs that must have met a prediction, and runs that must have missed it, before a deviation is called a
 * runtime bug (issue "triage fidelity"): one run per mode is no evidence, since a missed prediction can
 * as well be the generator's mistake, and a met one luck. A campaign re-runs such programs before storing.
 */
export const EVIDENCE_RUNS = 2;
