// What a campaign reports: its figures, the buckets it created and the families it hit. Shared by the
// campaign, its timeline, the fleet and the CLI's formatting (a type module: it imports no code).
import type { ResourceLimits } from '../runtime/limits.js';
import type { Reproduction } from '../store/crashStore.js';
import type { FindingKind, GilMode, Verdict } from '../types.js';
import type { YieldReport } from './schedule.js';
import type { ModuleCallStats, SurfaceCoverageStats } from './coverage.js';
import type { SlotStats } from './slots.js';
import type { CollisionStats } from './collisions.js';

export interface BucketSummary {
  bucket: string;
  kind: FindingKind;
  title: string;
  /** The family (suspected bug) the bucket belongs to. */
  family?: { id: string; key: string; label: string };
  interpreter: string;
  modes: GilMode[];
  verdict: Verdict;
  reproduction?: Reproduction;
}

export interface CampaignStats {
  seed: string;
  elapsedMs: number;
  programs: number;
  executions: number;
  findingsByKind: Partial<Record<FindingKind, number>>;
  /** Distinct crash-store buckets hit by this campaign. */
  buckets: string[];
  /** The families (suspected bugs) those buckets belong to, most hits first: what a triager counts. */
  families: CampaignFamily[];
  newBuckets: BucketSummary[];
  /** Distinct resource signatures (oom, cpu, output) and where their examples are. */
  resources: { signature: string; hits: number; example: string }[];
  corpusAdded: number;
  /** Programs made by mutating a corpus program. */
  mutated: number;
  /** Programs dropped because the budget ended (or a signal came) while they ran. */
  cancelledPrograms: number;
  /**
   * Findings seen in a reused fork-server worker that did not show again when the program was re-run in
   * fresh processes (check.ts): not reported, counted here by kind.
   */
  unconfirmedByKind: Partial<Record<FindingKind, number>>;
  /** Findings first seen in a reused worker that a fresh retry then confirmed (promoted to buckets). */
  promoted: number;
  /** Crawls: runs past their limit whose threads kept making progress (kept in `<crashes>/.slow`). */
  slow: number;
  /** Wall time of runs that went past their time limit (hangs and crawls, confirmations included), ms. */
  timeoutWallMs: number;
  /** Of timeoutWallMs: runs that finished in their finish window, or whose samples saw progress (crawls). */
  crawlWallMs: number;
  /** Of timeoutWallMs: runs that did not finish (hangs, and sightings of proved hangs killed at their limit). */
  hangWallMs: number;
  /** Sum of the wall time of all runs, ms (the denominator of timeoutWallMs). */
  runWallMs: number;
  /** Median of the time limits the runs had (calibrated), ms. */
  medianLimitMs: number;
  /** Whether limits were calibrated per program (else every run had the cap). */
  calibrated: boolean;
  /** Runs that ended at their time limit (hangs and crawls, confirmations and retries included). */
  timeoutRuns: number;
  /** Programs run with the leak harness (rounds > 1). */
  leakPrograms: number;
  /** Programs run in fresh processes (the spawn executor) instead of the fork server. */
  spawnPrograms: number;
  /** What each executor's programs yielded (spawn vs fork server: does the fork server hide bugs?). */
  byExecutor: Record<string, { programs: number; runMs: number; findings: number; newBuckets: number }>;
  /** New buckets by verdict. */
  verdicts: Partial<Record<Verdict, number>>;
  environmentWarnings: string[];
  limits: ResourceLimits;
  stoppedBy: 'budget' | 'signal' | 'running';
  /** What the programs yielded per shape (broad, focused, mutated), object kind and op. */
  yield: YieldReport;
  /** Coverage of the target's C surface by surface programs (absent: no surface programs in this campaign). */
  surface?: SurfaceCoverageStats;
  /** Module mode: the calls its programs made, and those that returned at least once. */
  moduleCalls?: ModuleCallStats;
  /** Where the slots' time went: first attempts, confirmations, rate trials, gdb, recording, idle (slots.ts). */
  slots?: SlotStats;
  /** New buckets whose rate the budget left unmeasured (`ftfuzz triage --measure`). */
  unmeasured?: string[];
  /** On a coverage build: C edges reached and collision witnesses (collisions.ts), for its first coverage target. */
  collisions?: CollisionStats & { target: string };
  /** Programs run with schedule perturbation (native/ftfuzz_sched.c). */
  perturbedPrograms?: number;
  /** TSan: race families suppressed for later programs (campaign-local suppressions, suppressions.ts). */
  suppressedRaces?: { family: string; functions: string[] }[];
  /** Findings whose family was new to the store: what the scheduler rewards most. */
  newFamilies?: number;
}

export interface CampaignFamily {
  id: string;
  key: string;
  label: string;
  kind: FindingKind;
  /** Buckets of the family this campaign hit, and how many of them it created. */
  buckets: string[];
  newBuckets: number;
  /** Whether the store had no bucket of this family before the campaign. */
  isNew: boolean;
  hits: number;
  /** Sightings set aside as unconfirmed (reused worker only) that belong to this family: they count for it. */
  unconfirmed: number;
  /** A crash or race of it also showed with the GIL on (a bug of the build, not a free-threading race). */
  alsoWithGil?: boolean;
}
