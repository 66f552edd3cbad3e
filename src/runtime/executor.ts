// The executor interface: what a run asks for (ExecRequest) and what runs it (Executor). Two executors
// implement it: spawn (spawnExecutor.ts, a fresh process per run, the reference) and the fork server
// (forkServerExecutor.ts, persistent workers); resilience and limits live beside them, not in them.
import { reproduceCommand } from '../reproduce.js';
import type { GilMode, ProgramRef, RunResult, Target, Termination } from '../types.js';
import type { RunFields } from './protocol.js';
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
  };
}

