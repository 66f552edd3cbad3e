// Judging one program: its runs (one per mode and target), then, where one run per mode is no evidence
// either way, more runs judged together; a finding seen only in a reused fork-server worker is retried on
// fresh processes and promoted when it shows again.
import type { CheckReport } from '../check.js';
import { FINDING_KINDS } from '../findingKinds.js';
import { applyOracles, type Oracle } from '../oracles/index.js';
import type { Finding, GilMode, RunResult } from '../types.js';
import { evidenceRun } from './recorder.js';

/** Re-runs per mode of a program whose lost write or differential lacks evidence (oracle EVIDENCE_RUNS). */
const EVIDENCE_RERUNS = 3;

export interface Judged {
  findings: Finding[];
  /** Every run the findings were judged on (evidence for the buckets). */
  runs: RunResult[];
  /** Sightings fresh retries did not show again, with the run that first showed each. */
  unconfirmed: { finding: Finding; firstRun: RunResult | undefined }[];
  /** Sightings a fresh retry showed again (now among the findings). */
  promoted: number;
}

export interface JudgeOptions {
  /** Runs the program: once per mode and target (or in `modes` only), `runs` times, in fresh processes when asked. */
  check: (extra?: { runs?: number; fresh?: boolean; modes?: GilMode[] }) => Promise<CheckReport>;
  /** Counts runs into the campaign's figures. */
  account: (runs: readonly RunResult[]) => void;
  oracles: readonly Oracle[];
  signal: AbortSignal;
  unconfirmedRetries: number;
  /**
   * A bug already stored (a bucket confirmed in fresh processes): no evidence re-runs for its lost write or
   * differential (the bucket's verdict stands), no fresh retries for a sighting of it in a reused worker.
   */
  known?: (signature: string) => boolean;
}

/** The program's verdicts; null when the first check was cancelled (the budget ended while it ran). */
export async function judgeProgram(o: JudgeOptions): Promise<Judged | null> {
  const result = await o.check();
  if (result.cancelled) return null;
  o.account(result.runs);
  o.account(result.unconfirmed?.runs ?? []);
  let findings = result.findings;
  let runs = result.runs;
  // A lost write or differential from one run per mode is no evidence either way: run it again
  // (EVIDENCE_RERUNS per mode) and judge on all the runs together.
  const rejudged = (f: Finding) => FINDING_KINDS[f.kind].judgedOnReruns;
  if (findings.some((f) => rejudged(f) && f.verdict !== 'runtime-bug' && o.known?.(f.signature) !== true) && !o.signal.aborted) {
    const again = await o.check({ runs: EVIDENCE_RERUNS });
    if (!again.cancelled) {
      o.account(again.runs);
      runs = [...runs, ...again.runs];
      const judged = applyOracles([...o.oracles], runs);
      findings = [...findings.filter((f) => !rejudged(f)), ...judged.filter(rejudged)];
    }
  }
  // Seen only in a reused worker: retried on fresh ones a few times more; promoted when it shows.
  const unconfirmed: Judged['unconfirmed'] = [];
  let promoted = 0;
  for (const f of result.unconfirmed?.notAgain ?? []) {
    // A known bug's sighting in a reused worker: counted for its family, not retried.
    if (o.known?.(f.signature) === true) {
      unconfirmed.push({ finding: f, firstRun: evidenceRun(f, result.unconfirmed?.runs ?? [], o.oracles) });
      continue;
    }
    let shown: Finding | undefined;
    let evidence: RunResult | undefined;
    for (let i = 0; i < o.unconfirmedRetries && !shown && !o.signal.aborted; i++) {
      // In the modes it showed in (a differential needs its GIL-on reference too: every mode).
      const retry = await o.check({ fresh: true, ...(FINDING_KINDS[f.kind].judgedOnReruns ? {} : { modes: f.modes }) });
      if (retry.cancelled) break;
      o.account(retry.runs);
      shown = retry.findings.find((g) => g.signature === f.signature);
      if (shown) evidence = evidenceRun(shown, retry.runs, o.oracles);
    }
    if (shown) {
      promoted += 1;
      findings = [...findings.filter((g) => g.signature !== shown.signature), shown];
      runs = [...runs, ...(evidence ? [evidence] : [])];
      continue;
    }
    unconfirmed.push({ finding: f, firstRun: evidenceRun(f, result.unconfirmed?.runs ?? [], o.oracles) });
  }
  return { findings, runs, unconfirmed, promoted };
}
