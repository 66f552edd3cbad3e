// Planning and executing the runs of one program: every target × every mode × N repeats.
import pLimit from 'p-limit';
import type { GilMode, ProgramRef, RunResult, Target } from '../types.js';
import { emptyRunFields } from './protocol.js';
import type { ExecRequest, Executor, FinishWindow, ResourceLimits } from './executor.js';

export interface PlannedRun {
  target: Target;
  mode: GilMode;
  runIndex: number;
  /** This run's own time limit (calibrated); the matrix's `timeoutMs` otherwise. */
  timeoutMs?: number;
}

/**
 * Runs interleave modes and targets (off, on, off, on, ...) so that a burst of machine load does not
 * land on one mode only. A GIL-only build cannot run without the GIL: its gil-off runs are skipped with
 * a notice rather than reported as a mode mismatch on every run.
 */
export function planRuns(targets: readonly Target[], modes: readonly GilMode[], repeats: number): { planned: PlannedRun[]; notices: string[] } {
  const planned: PlannedRun[] = [];
  const notices: string[] = [];
  for (const target of targets) {
    if (!target.freeThreaded && modes.includes('gil-off')) {
      notices.push(`${target.label} (${target.path}) is a GIL-only build: its gil-off runs are skipped`);
    }
  }
  for (let i = 0; i < repeats; i++) {
    for (const target of targets) {
      for (const mode of modes) {
        if (mode === 'gil-off' && !target.freeThreaded) continue;
        planned.push({ target, mode, runIndex: i });
      }
    }
  }
  return { planned, notices };
}

/** `fn` over `items`, at most `limit` at a time (p-limit), results in item order. */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const run = pLimit(Math.max(1, limit));
  return Promise.all(items.map((item, index) => run(() => fn(item, index))));
}

export interface MatrixOptions {
  program: ProgramRef;
  planned: readonly PlannedRun[];
  executor: Executor;
  timeoutMs: number;
  jobs: number;
  env?: Record<string, string>;
  limits?: ResourceLimits;
  signal?: AbortSignal;
  plain?: boolean;
  /** Every run in a process of its own (ExecRequest.fresh). */
  fresh?: boolean;
  /** The finish window of a run with this limit (ExecRequest.finishWindow), if it gets one. */
  finishWindow?: (limitMs: number) => FinishWindow | undefined;
  onRun?: (run: RunResult) => void;
  /** Per run: where its coverage goes and its perturbation (ExecRequest.edgesFile, .sched). */
  nativeFor?: NativeFor;
}

export type NativeFor = (run: { target: Target; mode: GilMode; runIndex: number }) => Pick<ExecRequest, 'edgesFile' | 'sched'>;

export function runMatrix(options: MatrixOptions): Promise<RunResult[]> {
  return mapConcurrent(options.planned, options.jobs, async (p) => {
    if (options.signal?.aborted) return cancelledRun(options.program, p);
    const timeoutMs = p.timeoutMs ?? options.timeoutMs;
    const result = await options.executor.execute({
      program: options.program,
      target: p.target,
      mode: p.mode,
      runIndex: p.runIndex,
      timeoutMs,
      finishWindow: options.finishWindow?.(timeoutMs),
      env: options.env,
      limits: options.limits,
      signal: options.signal,
      plain: options.plain,
      fresh: options.fresh,
      ...(options.nativeFor && !options.plain ? options.nativeFor({ target: p.target, mode: p.mode, runIndex: p.runIndex }) : {}),
    });
    options.onRun?.(result);
    return result;
  });
}

/** A planned run that never started because the matrix was cancelled. */
function cancelledRun(program: ProgramRef, p: PlannedRun): RunResult {
  return {
    program,
    target: p.target,
    modeRequested: p.mode,
    runIndex: p.runIndex,
    termination: { kind: 'cancelled' },
    durationMs: 0,
    stdoutTail: '',
    stderrTail: '',
    ...emptyRunFields(),
    reproduceCommand: '',
  };
}
