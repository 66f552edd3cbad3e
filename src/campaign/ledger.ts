// The campaign's accounting of runs: its figures before the first program, and every run's cost added to
// them, split into run time in runs past their limit that were hangs and that were crawls.
import { samplesVerdict } from '../oracles/hangOracle.js';
import type { ResourceLimits } from '../runtime/limits.js';
import type { RunResult } from '../types.js';
import type { YieldReport } from './schedule.js';
import type { CampaignStats } from './stats.js';

/** A run that went past its limit: killed there, or waited on and finished late. */
export function pastLimit(r: RunResult): boolean {
  return r.termination.kind === 'timeout' || r.late !== undefined;
}

/** A run that went past its limit and then finished, or kept making progress: a crawl. */
export function crawled(r: RunResult): boolean {
  return r.late !== undefined || (r.termination.kind === 'timeout' && samplesVerdict(r.native).state === 'progress');
}

/** A campaign's figures before its first program. */
export function emptyStats(seed: string, calibrated: boolean, limits: ResourceLimits, yields: YieldReport): CampaignStats {
  return {
    seed, elapsedMs: 0, programs: 0, executions: 0, findingsByKind: {}, buckets: [], families: [], newBuckets: [], resources: [],
    corpusAdded: 0, mutated: 0, cancelledPrograms: 0, unconfirmedByKind: {}, promoted: 0, slow: 0, timeoutWallMs: 0, crawlWallMs: 0, hangWallMs: 0, runWallMs: 0,
    medianLimitMs: 0, calibrated, timeoutRuns: 0, leakPrograms: 0, spawnPrograms: 0, byExecutor: {}, verdicts: {},
    environmentWarnings: [], limits, stoppedBy: 'running', yield: yields,
  };
}

/** Every run's cost, added to the stats; the runs' time limits sampled for their median. */
export class RunLedger {
  private readonly limits: number[] = [];

  constructor(private readonly stats: CampaignStats) {}

  add(runs: readonly RunResult[]): void {
    const stats = this.stats;
    stats.executions += runs.length;
    for (const r of runs) {
      stats.runWallMs += r.durationMs;
      if (pastLimit(r)) {
        stats.timeoutWallMs += r.durationMs;
        stats.timeoutRuns += 1;
        // A crawl: it finished in its finish window, or its samples saw a thread move. Else a hang (proved
        // by its window, or a sighting of one killed at its limit).
        if (crawled(r)) stats.crawlWallMs += r.durationMs;
        else stats.hangWallMs += r.durationMs;
      }
      if (r.timeoutMs !== undefined && this.limits.length < 100_000) this.limits.push(r.timeoutMs);
    }
  }

  medianLimitMs(): number {
    const sorted = [...this.limits].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? 0;
  }
}
