// Calibrated time limits (issue "triage fidelity"; AFL's calibration in spirit): a program's limit comes
// from its own measured run time, a multiple with a floor, capped by --timeout. The reference is the
// program's GIL-on run (or, without one, its first run); the reference run's own limit comes from the
// run times of earlier references in the same campaign (a multiple of their 95th percentile, with a
// larger floor), so a program that hangs in both modes is not waited on for the whole cap either.
// A run that outlives its limit is sampled before it is killed; a crawl is told apart from a hang there
// (hangOracle: `slow`), so a tight limit costs a slow finding, never a false hang.

export interface CalibrationOptions {
  /** Limit of a run = multiplier × the reference's run time ... */
  multiplier: number;
  /** ... but at least this (ms): start-up noise, a loaded machine, lock contention without the GIL. */
  floorMs: number;
  /** Limit of a reference run = refMultiplier × the p95 of earlier references ... */
  refMultiplier: number;
  /** ... at least this (ms) ... */
  refFloorMs: number;
  /** ... once this many references were measured (before that: the cap). */
  minHistory: number;
}

export const DEFAULT_CALIBRATION: CalibrationOptions = { multiplier: 10, floorMs: 2000, refMultiplier: 10, refFloorMs: 5000, minHistory: 8 };

const HISTORY = 512;

export class TimeoutCalibrator {
  private readonly history: number[] = [];
  private next = 0;
  readonly options: CalibrationOptions;

  constructor(
    /** `--timeout`: no limit exceeds it. */
    readonly capMs: number,
    options: Partial<CalibrationOptions> = {},
  ) {
    this.options = { ...DEFAULT_CALIBRATION, ...options };
  }

  /** A reference run finished normally after `ms`. */
  observe(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    if (this.history.length < HISTORY) this.history.push(ms);
    else this.history[this.next++ % HISTORY] = ms;
  }

  /** The limit of a reference run. */
  referenceLimit(): number {
    const { refMultiplier, refFloorMs, minHistory } = this.options;
    if (this.history.length < minHistory) return this.capMs;
    const sorted = [...this.history].sort((a, b) => a - b);
    const p95 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? 0;
    return clampLimit(refMultiplier * p95, refFloorMs, this.capMs);
  }

  /** The limit of a run whose reference took `referenceMs`. */
  limitFor(referenceMs: number): number {
    return clampLimit(this.options.multiplier * referenceMs, this.options.floorMs, this.capMs);
  }
}

function clampLimit(ms: number, floor: number, cap: number): number {
  return Math.round(Math.min(cap, Math.max(floor, ms)));
}

/**
 * The limit of a plain `python repro.py` trial of a bucket: the calibrated limit its finding had, plus
 * the start-up a plain run pays that a fork-server worker does not; the cap where none was recorded.
 */
export function trialLimit(recordedMs: number | undefined, capMs: number): number {
  return recordedMs !== undefined && recordedMs > 0 ? Math.min(capMs, recordedMs + PLAIN_STARTUP_MS) : capMs;
}

export const PLAIN_STARTUP_MS = 1000;
