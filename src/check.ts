// The library entry point behind `ftfuzz run`: run one program on targets × modes × repeats and apply
// the oracles. Usable from TypeScript without the CLI.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EnvironmentError, InputError } from './errors.js';
import { applyOracles, selectOracles, type Oracle } from './oracles/index.js';
import type { TimeoutCalibrator } from './runtime/calibration.js';
import { planRuns, runMatrix, type PlannedRun } from './runtime/matrix.js';
import { ensureDefaultTarget } from './runtime/provision.js';
import { createExecutor } from './runtime/forkServerExecutor.js';
import type { Executor, ResourceLimits } from './runtime/executor.js';
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
  onRun?: (run: RunResult) => void;
}

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
  const matrix = (fresh: boolean, runs: readonly PlannedRun[] = planned) =>
    runMatrix({
      program,
      planned: runs,
      executor,
      timeoutMs: options.timeoutMs ?? 30_000,
      jobs: options.jobs ?? os.availableParallelism(),
      env: options.env,
      limits: options.limits,
      signal: options.signal,
      plain: options.plain,
      fresh,
      onRun: options.onRun,
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
    // Something an earlier program left in the process could have caused it: only fresh processes report.
    const freshRuns = await matrix(true);
    if (options.signal?.aborted) return { program, targets: options.targets, modes, runs: freshRuns, findings: [], notices, cancelled: true };
    const confirmed = applyOracles(oracles, freshRuns);
    const notAgain = findings.filter((f) => !confirmed.some((c) => c.signature === f.signature));
    return { program, targets: options.targets, modes, runs: freshRuns, findings: confirmed, notices, unconfirmed: { runs, findings, notAgain } };
  } finally {
    if (!options.executor) await executor.close();
  }
}

/**
 * Reference runs first (GIL-on, else each target's first run), then the rest with limits derived from
 * the references' times. Limits are written into `planned`, so a fresh confirmation uses the same ones.
 */
async function calibratedMatrix(planned: PlannedRun[], calibrator: TimeoutCalibrator, run: (p: PlannedRun[]) => Promise<RunResult[]>): Promise<RunResult[]> {
  const refs = new Map<string, PlannedRun>();
  for (const p of planned) {
    const known = refs.get(p.target.path);
    if (!known || (known.mode !== 'gil-on' && p.mode === 'gil-on')) refs.set(p.target.path, p);
  }
  const first = [...refs.values()];
  const refLimit = calibrator.referenceLimit();
  for (const p of first) p.timeoutMs = refLimit;
  const refRuns = await run(first);
  const rest = planned.filter((p) => !first.includes(p));
  for (const p of rest) {
    const ref = refRuns.find((r) => r.target.path === p.target.path);
    if (!ref || ref.termination.kind === 'cancelled') p.timeoutMs = refLimit;
    else if (ref.termination.kind === 'timeout') p.timeoutMs = ref.termination.afterMs;
    else if (ref.termination.kind === 'exit') p.timeoutMs = calibrator.limitFor(ref.durationMs);
    else p.timeoutMs = refLimit;
  }
  for (const r of refRuns) if (r.termination.kind === 'exit') calibrator.observe(r.durationMs);
  const restRuns = rest.length ? await run(rest) : [];
  // Keep the planned order (modes interleaved), as an uncalibrated matrix returns it.
  return planned.map((p) => (first.includes(p) ? refRuns[first.indexOf(p)] : restRuns[rest.indexOf(p)]) as RunResult);
}
