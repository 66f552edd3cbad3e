// A campaign's defaults, defined once: the library applies them, and the CLI shows them (`ftfuzz fuzz --help`).
export const CAMPAIGN_DEFAULTS = {
  /** Share of programs made by mutating a corpus program. */
  mutateShare: 0.3,
  /** Share of generated programs run with the leak harness. */
  leakShare: 0.1,
  /** Share of programs run in fresh processes instead of the fork server. */
  spawnShare: 0.1,
  /** Share of programs that are surface programs (a generic shape on a C type of the target), when its surface is known. */
  surfaceShare: 0.5,
  /** Share of generated programs that are focused (one shared object, its kind chosen by yield). */
  focusedShare: 0.5,
  /** Most plain re-runs of each new bucket that measure its rate (0: skip); they stop once the interval decides. */
  reproTrials: 10,
  /** Share of a campaign's elapsed time that rate measurements (alone: the other jobs paused) may take. */
  rateShare: 0.1,
  /** A bucket reproducing less often than this is marked flaky. */
  flakyBelow: 0.5,
  /**
   * Fresh re-runs of a finding seen only in a reused worker before it is kept as unconfirmed: 2 (3 took 8% of
   * a 3.13.5t campaign's slot time, mostly on flaky crashes that a third try did not show either).
   */
  unconfirmedRetries: 2,
} as const;
