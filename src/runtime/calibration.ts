// Calibrated time limits (issue "triage fidelity"; AFL's calibration in spirit): a program's limit comes
// from its own measured run time, a multiple with a floor, capped by --timeout. Each GIL mode on its own:
// the reference is the program's first run in that mode, and the reference run's own limit comes from the
// run times of earlier references of that mode in the same campaign (a multiple of their 95th percentile,
// with a larger floor), so a program that hangs is not waited on for the whole cap either.
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
  /** ... once this many references were measured; before that, this (at most the cap). */
  minHistory: number;
  initialRefMs: number;
}

/**
 * A reference run's limit is 10x its mode's p95, at least 3 s; before a mode has 8 references, 10 s (at most
 * the cap). The limit no longer separates a hang from a crawl (the finish window does), but a program past
 * it costs its samples and, crawling, is killed with its work lost: with 5x the p95, 36 runs of a 10-minute
 * 3.13.5t campaign went past their limits, 62% of its run time. A real hang is cheap to prove either way (an
 * allocator spin proves itself in its samples; a proved signature is not waited on again).
 */
export const DEFAULT_CALIBRATION: CalibrationOptions = { multiplier: 10, floorMs: 2000, refMultiplier: 10, refFloorMs: 3000, minHistory: 8, initialRefMs: 10_000 };

const HISTORY = 512;

/** A ring of recent reference run times. */
class History {
  private readonly times: number[] = [];
  private next = 0;

  add(ms: number): void {
    if (this.times.length < HISTORY) this.times.push(ms);
    else this.times[this.next++ % HISTORY] = ms;
  }

  get size(): number {
    return this.times.length;
  }

  p95(): number {
    const sorted = [...this.times].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? 0;
  }
}

/**
 * Each GIL mode is calibrated on its own runs: a program can be 20x slower with the GIL on than without
 * (a GIL-on convoy), so a limit derived from the other mode's time (or history) is either far too tight
 * or far too loose. A mode's reference history is its own, and so is a program's reference run.
 */
export class TimeoutCalibrator {
  private readonly history = new Map<string, History>();
  readonly options: CalibrationOptions;

  constructor(
    /** `--timeout`: no limit exceeds it. */
    readonly capMs: number,
    options: Partial<CalibrationOptions> = {},
  ) {
    this.options = { ...DEFAULT_CALIBRATION, ...options };
  }

  /** A reference run in `mode` finished normally after `ms`. */
  observe(ms: number, mode = 'any'): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    let h = this.history.get(mode);
    if (!h) this.history.set(mode, (h = new History()));
    h.add(ms);
  }

  /** The limit of a reference run in `mode`: a multiple of that mode's p95, the cap until enough are known. */
  referenceLimit(mode = 'any'): number {
    const { refMultiplier, refFloorMs, minHistory, initialRefMs } = this.options;
    const h = this.history.get(mode);
    if (!h || h.size < minHistory) return Math.min(this.capMs, initialRefMs);
    return clampLimit(refMultiplier * h.p95(), refFloorMs, this.capMs);
  }

  /** The limit of a run whose reference (same program, same mode) took `referenceMs`. */
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

/** The shortest finish window: long enough that a convoy or a long C call shows it ends. */
export const FINISH_WINDOW_MIN_MS = 60_000;

/**
 * How long a run past `limitMs` whose samples saw no progress is waited for before it is called a hang
 * (README "Hangs are programs that do not finish"): 10x its limit, at least 60 s, and at most twice the
 * cap (`--timeout`) where that is above 60 s. A GIL-on convoy can make a program 20x slower than without
 * the GIL (3.13.15t: a deque.copy under growth took 13-27 s with the GIL, 0.6-2 s without): its samples look
 * stuck, and only waiting tells.
 */
export function finishWindowMs(limitMs: number, capMs: number, minMs = FINISH_WINDOW_MIN_MS): number {
  return Math.round(Math.max(minMs, Math.min(10 * limitMs, 2 * capMs)));
}
