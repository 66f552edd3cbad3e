// The library entry point behind `ftfuzz run`: run one program on targets × modes × repeats and apply
// the oracles. Usable from TypeScript without the CLI.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EnvironmentError, InputError } from './errors.js';
import { applyOracles, selectOracles, type Oracle } from './oracles/index.js';
import { finishWindowMs, type TimeoutCalibrator } from './runtime/calibration.js';
import { samplesVerdict } from './oracles/hangOracle.js';
import { findingKind } from './findingKinds.js';
import { planRuns, runMatrix, type NativeFor, type PlannedRun } from './runtime/matrix.js';
import { ensureDefaultTarget } from './runtime/provision.js';
import { createExecutor } from './runtime/forkServerExecutor.js';
import type { Executor, FinishWindow, ResourceLimits } from './runtime/executor.js';
import { probeTarget } from './runtime/targets.js';
import type { Finding, GilMode, ProgramRef, RunResult, Target } from './types.js';

export interface ResolveTargetsOptions {
  /** `--python` values; empty means the embedded default (found or built). */
  python?: string[];
  log?: (line: string) => void;
  cacheRoot?: string;
}

/** The interpreters to run on: the named ones (each must probe), or the default free-threaded one. */
export async function resolveTargets(options: ResolveTargetsOptions = {}): Promise<Target[]> {
  const named = options.python ?? [];
  if (named.length === 0) return [await ensureDefaultTarget({ log: options.log, cacheRoot: options.cacheRoot })];
  const targets: Target[] = [];
  for (const p of named) {
    const resolved = p.includes('/') ? path.resolve(p) : p;
    targets.push(await probeTarget(resolved, 'flag'));
  }
  return targets;
}

export async function loadProgram(file: string): Promise<ProgramRef> {
  const abs = path.resolve(file);
  try {
    const stat = await fs.stat(abs);
    if (!stat.isFile()) throw new InputError(file, 'not a regular file; pass a Python program (.py)');
    await fs.access(abs, fs.constants.R_OK);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(file, 'cannot be read; check the path', { cause: error });
  }
  return { path: abs, name: path.basename(abs) };
}

export interface CheckOptions {
  file: string;
  targets: Target[];
  modes?: GilMode[];
  runs?: number;
  timeoutMs?: number;
  jobs?: number;
  oracles?: Oracle[];
  executor?: Executor;
  env?: Record<string, string>;
  /** Per run: its coverage dump and its perturbation (a campaign's native feedback, campaign/fuzz.ts). */
  nativeFor?: NativeFor;
  /** Memory and CPU caps per run (none by default for a single `run`; campaigns always set them). */
  limits?: ResourceLimits;
  /** Cancels the runs in flight (their processes are killed); the report then says `cancelled`. */
  signal?: AbortSignal;
  /** Run the file as `python FILE` without the harness (how reproducers are judged). */
  plain?: boolean;
  /**
   * Calibrated limits (runtime/calibration.ts): the reference runs (GIL-on, else the first) go first, and
   * every other run's limit is a multiple of its target's reference time; `timeoutMs` is the cap.
   */
  calibrator?: TimeoutCalibrator;
  /** Every run in a process no other program ran in (how unconfirmed findings are retried). */
  fresh?: boolean;
  /**
   * Hangs are programs that do not finish: a run past its limit whose samples saw no progress is waited on
   * through a finish window (`finishWindowMs`, at least 60 s) before it is called a hang, and is a crawl if
   * it ends meanwhile. On by default for harness runs (off for plain trials, which count a run past the
   * limit of a confirmed hang); `false` turns it off. `knownHang`: whether a stuck run's signature is a hang
   * proved already (`signature`: not waited for; a sighting, never new evidence) or its C stacks are
   * (`stacks`: another program's, a shorter window). `minMs`: the shortest window instead of 60 s (tests of
   * programs known to hang; a user wanting proof waits the full window).
   */
  finishWindow?: false | { knownHang?: (signature: string) => 'signature' | 'stacks' | false; minMs?: number; onWait?: (waiting: boolean) => void };
  /**
   * Signatures of bugs already confirmed in fresh processes (a campaign's buckets): seen again in a reused
   * worker, they are not re-run and come back as sightings (`unconfirmed.notAgain`), never as findings.
   */
  knownFinding?: (signature: string) => boolean;
  onRun?: (run: RunResult) => void;
}

/**
 * The finish window of check's runs (CheckOptions.finishWindow), per run limit: the whole window
 * (`finishWindowMs`) for stacks no run has proved yet; none for a sighting of a proved hang (exactly its
 * signature); and a short one (`PROVED_PATTERN_WINDOW`) for the C stacks of a proved hang in another program
 * (the allocator spin of a heap corruption is the same C stacks whichever objects corrupted the heap: the
 * signature's objects differ, the stacks were proved not to finish).
 */
function finishWindowOf(options: CheckOptions, program: ProgramRef, capMs: number, provedHere: ReadonlySet<string>): ((limitMs: number) => FinishWindow) | undefined {
  if (options.finishWindow === false || options.plain) return undefined;
  // A hang this program's other mode already proved is not waited on again (its signature is the same bug).
  const known = (signature: string) => (provedHere.has(signature) ? 'signature' : (options.finishWindow ? options.finishWindow.knownHang?.(signature) : undefined) ?? false);
  const minMs = options.finishWindow?.minMs;
  return (limitMs) => {
    const full = finishWindowMs(limitMs, capMs, minMs);
    return {
      maxMs: full,
      onWait: options.finishWindow ? options.finishWindow.onWait : undefined,
      windowFor: (native) => {
        const v = samplesVerdict(native, program);
        // A crawl (progress), or a hang the samples prove themselves (an allocator free-list walk spinning
        // through both of them): no window.
        if (v.state === 'progress' || (v.state === 'stuck' && v.proved)) return null;
        const proved = v.state === 'stuck' && v.signature !== null ? known?.(v.signature) : false;
        if (proved === 'signature') return null;
        if (proved === 'stacks') return Math.min(full, Math.max(PROVED_PATTERN_WINDOW.minMs, PROVED_PATTERN_WINDOW.factor * limitMs));
        return full;
      },
    };
  };
}

/** The window of a run stuck in the C stacks of a hang another program proved (3x its limit, at least 15 s). */
export const PROVED_PATTERN_WINDOW = { factor: 3, minMs: 15_000 };

export interface CheckReport {
  program: ProgramRef;
  targets: Target[];
  modes: GilMode[];
  runs: RunResult[];
  findings: Finding[];
  notices: string[];
  /** The signal fired before every run ended: runs are incomplete and no oracle was applied. */
  cancelled?: boolean;
  /**
   * Findings from runs in reused processes (a fork server's persistent workers) are never reported as
   * they are: the runs are repeated, each in a fresh process, and the findings of those runs are the
   * report's. Here: the first runs and their findings, and the findings that did not show again.
   */
  unconfirmed?: { runs: RunResult[]; findings: Finding[]; notAgain: Finding[] };
  /** Wall time of the fresh re-run that confirmed findings of reused processes (0 when none was needed), ms. */
  confirmMs?: number;
}

export async function checkProgram(options: CheckOptions): Promise<CheckReport> {
  const program = await loadProgram(options.file);
  const modes = options.modes ?? ['gil-off', 'gil-on'];
  const { planned, notices } = planRuns(options.targets, modes, options.runs ?? 1);
  if (planned.length === 0) {
    throw new EnvironmentError(
      `nothing to run: no target can run the modes ${modes.join(',')} (${notices.join('; ')}); use a free-threaded interpreter or --modes gil-on`,
    );
  }
  const executor = options.executor ?? createExecutor();
  const oracles = options.oracles ?? selectOracles('all');
  const provedHere = new Set<string>();
  const onRun = (run: RunResult) => {
    const t = run.termination;
    if (t.kind === 'timeout' && t.waitedMs !== undefined) {
      const v = samplesVerdict(run.native, program);
      if (v.state === 'stuck' && v.signature) provedHere.add(v.signature);
    }
    options.onRun?.(run);
  };
  const matrix = (fresh: boolean, runs: readonly PlannedRun[] = planned) =>
    runMatrix({
      program,
      planned: runs,
      executor,
      timeoutMs: options.timeoutMs ?? 30_000,
      jobs: options.jobs ?? os.availableParallelism(),
      env: options.env,
      nativeFor: options.nativeFor,
      limits: options.limits,
      signal: options.signal,
      plain: options.plain,
      fresh,
      finishWindow: finishWindowOf(options, program, options.timeoutMs ?? 30_000, provedHere),
      onRun,
    });
  try {
    const first = options.fresh === true;
    const runs = options.calibrator ? await calibratedMatrix(planned, options.calibrator, (p) => matrix(first, p)) : await matrix(first);
    if (options.signal?.aborted) return { program, targets: options.targets, modes, runs, findings: [], notices, cancelled: true };
    // A program that does not even compile is bad input, not a finding.
    const syntax = runs.find((r) => r.uncaughtException && /^(SyntaxError|IndentationError|TabError)$/.test(r.uncaughtException.excType));
    if (syntax && runs.every((r) => r.uncaughtException?.excType === syntax.uncaughtException?.excType)) {
      throw new InputError(options.file, `is not valid Python: ${syntax.uncaughtException?.message ?? ''}`);
    }
    const findings = applyOracles(oracles, runs);
    if (findings.length === 0 || !runs.some((r) => r.reusedProcess)) return { program, targets: options.targets, modes, runs, findings, notices };
    // A known bug seen again in a reused worker is not worth a fresh re-run: it stays a sighting (notAgain).
    const unknown = findings.filter((f) => options.knownFinding?.(f.signature) !== true);
    if (unknown.length === 0) return { program, targets: options.targets, modes, runs, findings: [], notices, unconfirmed: { runs, findings, notAgain: findings }, confirmMs: 0 };
    // Something an earlier program left in the process could have caused it: only fresh processes report. A
    // crash, hang or race is confirmed in the modes and targets it showed in; anything judged against other
    // runs (a differential's GIL-on reference) on all of them.
    const alone = unknown.every((f) => findingKind(f.kind)?.stacks !== 'none');
    const confirming = alone ? planned.filter((p) => unknown.some((f) => f.modes.includes(p.mode) && f.targets.some((t) => t.path === p.target.path))) : planned;
    const confirmStart = performance.now();
    const freshRuns = await matrix(true, confirming);
    const confirmMs = performance.now() - confirmStart;
    if (options.signal?.aborted) return { program, targets: options.targets, modes, runs: freshRuns, findings: [], notices, cancelled: true };
    const confirmed = applyOracles(oracles, freshRuns);
    const notAgain = findings.filter((f) => !confirmed.some((c) => c.signature === f.signature));
    return { program, targets: options.targets, modes, runs: freshRuns, findings: confirmed, notices, unconfirmed: { runs, findings, notAgain }, confirmMs };
  } finally {
    if (!options.executor) await executor.close();
  }
}

/**
 * Reference runs first (each target's first run in each mode, with its mode's reference limit), then the
 * repeats with limits derived from their own mode's reference time: each GIL mode is calibrated on its own
 * runs (a program can be 20x slower with the GIL on). Limits are written into `planned`, so a fresh
 * confirmation uses the same ones.
 */
async function calibratedMatrix(planned: PlannedRun[], calibrator: TimeoutCalibrator, run: (p: PlannedRun[]) => Promise<RunResult[]>): Promise<RunResult[]> {
  const refs = new Map<string, PlannedRun>();
  const keyOf = (p: { target: Target; mode: GilMode }) => `${p.target.path}\0${p.mode}`;
  for (const p of planned) if (!refs.has(keyOf(p))) refs.set(keyOf(p), p);
  const first = [...refs.values()];
  for (const p of first) p.timeoutMs = calibrator.referenceLimit(p.mode);
  const refRuns = await run(first);
  const rest = planned.filter((p) => !first.includes(p));
  for (const p of rest) {
    const ref = refRuns.find((r) => r.target.path === p.target.path && r.modeRequested === p.mode);
    const refLimit = calibrator.referenceLimit(p.mode);
    if (!ref || ref.termination.kind === 'cancelled') p.timeoutMs = refLimit;
    else if (ref.termination.kind === 'timeout') p.timeoutMs = ref.termination.afterMs;
    else if (ref.termination.kind === 'exit' && !ref.late) p.timeoutMs = calibrator.limitFor(ref.durationMs);
    else p.timeoutMs = refLimit;
  }
  // A crawl's time says nothing of the mode's ordinary programs: only runs that ended in time are history.
  for (const r of refRuns) if (r.termination.kind === 'exit' && !r.late) calibrator.observe(r.durationMs, r.modeRequested);
  const restRuns = rest.length ? await run(rest) : [];
  // Keep the planned order (modes interleaved), as an uncalibrated matrix returns it.
  return planned.map((p) => (first.includes(p) ? refRuns[first.indexOf(p)] : restRuns[rest.indexOf(p)]) as RunResult);
}
