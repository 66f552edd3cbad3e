// The executor interface: what a run asks for (ExecRequest) and what runs it (Executor). Two executors
// implement it: spawn (spawnExecutor.ts, a fresh process per run, the reference) and the fork server
// (forkServerExecutor.ts, persistent workers); resilience and limits live beside them, not in them.
import { reproduceCommand } from '../reproduce.js';
import type { GilMode, NativeEvidence, ProgramRef, RunResult, Target, Termination } from '../types.js';
import type { RunFields } from './protocol.js';
import { readEdgeDump } from './nativeCoverage.js';
import type { ResourceLimits } from './limits.js';

export type { ResourceLimits } from './limits.js';

/** Total stdout+stderr bytes after which a child is killed and a resource termination recorded (both executors). */
export const OUTPUT_CAP_BYTES = 64 * 1024 * 1024;

export interface ExecRequest {
  program: ProgramRef;
  target: Target;
  mode: GilMode;
  runIndex: number;
  timeoutMs: number;
  /** Extra environment for the child (e.g. PYTHONHASHSEED derived from the campaign seed). */
  env?: Record<string, string>;
  /** Bytes of stdout/stderr kept (the tail). */
  tailBytes?: number;
  /** Memory and CPU caps of the child; exceeding one ends the run as a `resource` termination. */
  limits?: ResourceLimits;
  /** Kills the child when it fires; the run ends as `cancelled`. */
  signal?: AbortSignal;
  /**
   * Run `python PROGRAM` exactly as a user would, without the harness: how reproducers are judged. The
   * program's own protocol records still arrive; exceptions are read from the standard tracebacks on
   * stderr; only the resident-set cap applies (the harness sets the rlimits).
   */
  plain?: boolean;
  /**
   * Run in a process no other program ran in. The spawn executor always does; the fork server reuses a
   * worker after a quiet program unless this is set (how findings from reused workers are confirmed).
   */
  fresh?: boolean;
  /**
   * What to do with a run past its limit whose samples saw no progress (a deadlock or a spin, by the
   * caller's reading of them): wait for it up to the window instead of killing it at the limit. A program
   * that does not finish is a hang; one that finishes within the window is a crawl (`RunResult.late`).
   * Only a fresh process waits: a reused worker's run is killed at its limit and confirmed in a fresh one.
   */
  finishWindow?: FinishWindow;
  /**
   * On a coverage build: where the run writes the edges it reached (native/ftfuzz_cov.c); the result
   * carries them parsed (`RunResult.edges`) and the file is removed.
   */
  edgesFile?: string;
  /** Schedule perturbation (native/ftfuzz_sched.c): the shim, preloaded into the process, and this run's seed. */
  sched?: { shim: string; seed: string };
}

/** A finished run's C edges, when it was asked for them (read from its dump, which is removed). */
export async function attachEdges(request: Pick<ExecRequest, 'edgesFile'>, result: RunResult): Promise<RunResult> {
  if (request.edgesFile) {
    const edges = await readEdgeDump(request.edgesFile);
    if (edges) result.edges = edges;
  }
  return result;
}

/** The environment a process needs to start with for a request (the fork server's identity includes it). */
export function preloadEnv(request: Pick<ExecRequest, 'sched'>): Record<string, string> {
  return request.sched ? { LD_PRELOAD: request.sched.shim } : {};
}

/** The environment of one run for its coverage dump and its perturbation seed (read by the harness). */
export function nativeRunEnv(request: Pick<ExecRequest, 'edgesFile' | 'sched'>): Record<string, string> {
  return {
    ...(request.edgesFile ? { FTFUZZ_COV_OUT: request.edgesFile } : {}),
    ...(request.sched ? { FTFUZZ_SCHED_SEED: request.sched.seed } : {}),
  };
}

export interface FinishWindow {
  /** The longest window it may get (ms from the start): the caps are set to cover it. */
  maxMs: number;
  /**
   * From the samples taken at the limit: when to kill the run if it has not ended (ms from its start, above
   * its limit), or null to kill it now (its samples saw progress, or it is a hang known already).
   */
  windowFor: (native: NativeEvidence | undefined) => number | null;
  /** Told when the run starts waiting in its window (true) and when that wait ends, however it ends (false). */
  onWait?: (waiting: boolean) => void;
}

export interface Executor {
  readonly name: string;
  execute(request: ExecRequest): Promise<RunResult>;
  close(): Promise<void>;
}


/** A finished run, as every executor reports it. */
export function runResult(request: ExecRequest, termination: Termination, durationMs: number, stdoutTail: string, stderrTail: string, fields: RunFields): RunResult {
  return {
    program: request.program,
    target: request.target,
    modeRequested: request.mode,
    runIndex: request.runIndex,
    termination,
    durationMs,
    stdoutTail,
    stderrTail,
    ...fields,
    reproduceCommand: reproduceCommand(request.target, request.mode, request.program.path),
    timeoutMs: request.timeoutMs,
    ...(request.sched ? { schedSeed: request.sched.seed } : {}),
  };
}

