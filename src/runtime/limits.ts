// Containment of one target process (README "Containment"): the caps a campaign sets, how the harness
// applies them inside the child (environment), the resident-set watcher both executors run, and how a
// run stopped by a cap is told from a crash or a program failure.
import os from 'node:os';
import { readFileSync } from 'node:fs';
import type { RunResult, Target, Termination } from '../types.js';

/** Containment of one target process (README "Containment"). */
export interface ResourceLimits {
  /** Address-space cap (RLIMIT_AS, set by the harness) and resident-set cap (polled); bytes. */
  memoryBytes?: number;
  /** CPU-time cap (RLIMIT_CPU): SIGXCPU when exceeded; seconds. */
  cpuSeconds?: number;
}

/**
 * Default caps for a campaign: half the machine's RAM shared among the jobs, and a CPU cap that a run
 * cannot reach before its wall-clock timeout (every core busy for the whole timeout, plus a margin), so
 * a spinning program is still reported as a hang with stacks; the CPU cap is the backstop.
 */
export function defaultLimits(jobs: number, timeoutMs: number, totalMem = os.totalmem(), cores = os.availableParallelism()): Required<ResourceLimits> {
  const share = Math.floor(totalMem / 2 / Math.max(1, jobs));
  return {
    memoryBytes: Math.max(share, 1024 ** 3),
    cpuSeconds: Math.ceil((cores * timeoutMs) / 1000) + 10,
  };
}

/**
 * The resident-set cap, polled every 200 ms (RLIMIT_AS covers most runaway allocations inside the child;
 * the poll covers what it cannot: sanitizer builds reserve terabytes of address space). Calls `exceeded`
 * with the resource termination once; returns the timer to clear when the run ends.
 */
export function watchResidentSet(pid: number, cap: number, exceeded: (t: Termination) => void): NodeJS.Timeout {
  let fired = false;
  return setInterval(() => {
    const rss = residentBytes(pid);
    if (!fired && rss !== null && rss > cap) {
      fired = true;
      exceeded({ kind: 'resource', resource: 'memory', detail: `resident set ${rss} bytes above the ${cap}-byte cap` });
    }
  }, 200);
}

/** Exception messages that mean the memory cap, not the program, failed the run. */
const MEMORY_EXHAUSTED = /^(MemoryError)$/;
const THREAD_START_FAILED = /can't start new thread/;

/** Resident set size of a live process, from /proc (Linux); null when unreadable. */
export function residentBytes(pid: number): number | null {
  try {
    const pages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    return Number.isFinite(pages) ? pages * 4096 : null;
  } catch {
    return null;
  }
}

/** The harness's wall-clock backstop: well after the runner's own timeout, for runs whose runner died. */
export function wallEnv(timeoutMs: number): Record<string, string> {
  return { FTFUZZ_LIMIT_WALL: String(Math.ceil(timeoutMs / 1000) + 30) };
}

/**
 * The caps of a run that may be waited on past its limit (a finish window, executor.ts): a CPU cap out of
 * reach for the limit (the default, cores x the cap on the time limit) stays out of reach for the whole
 * window, so that a spin is still a hang with stacks. A cap within reach of the limit is the user's choice
 * (`--cpu-limit 2s`: a CPU burner is stopped there), and stays.
 */
export function windowLimits(limits: ResourceLimits | undefined, windowMs: number | undefined, limitMs: number, cores = os.availableParallelism()): ResourceLimits | undefined {
  if (!limits?.cpuSeconds || windowMs === undefined) return limits;
  if (limits.cpuSeconds * 1000 < cores * limitMs) return limits;
  return { ...limits, cpuSeconds: Math.max(limits.cpuSeconds, Math.ceil((cores * windowMs) / 1000) + 10) };
}

/** The environment through which the harness applies the caps inside the child. */
export function limitEnv(limits: ResourceLimits | undefined, target: Target): Record<string, string> {
  const env: Record<string, string> = {};
  // An address-space cap would break sanitizer builds, which reserve huge shadow mappings.
  if (limits?.memoryBytes !== undefined && target.sanitizers.length === 0) env.FTFUZZ_LIMIT_AS = String(limits.memoryBytes);
  if (limits?.cpuSeconds !== undefined) env.FTFUZZ_LIMIT_CPU = String(limits.cpuSeconds);
  return env;
}

/**
 * A run that ended because a cap was hit is a resource termination, not a crash or a program failure:
 * SIGXCPU is the CPU cap; MemoryError (or a thread that could not start) under the memory cap is the
 * memory cap. A fatal signal other than SIGXCPU stays a crash even under a cap.
 */
export function capped(termination: Termination, fields: Pick<RunResult, 'uncaughtException' | 'threadExceptions'>, limits: ResourceLimits | undefined): Termination {
  if (termination.kind === 'signal' && termination.signal === 'SIGXCPU' && limits?.cpuSeconds !== undefined) {
    return { kind: 'resource', resource: 'cpu', detail: `more than ${limits.cpuSeconds} s of CPU time` };
  }
  if (termination.kind === 'exit' && limits?.memoryBytes !== undefined) {
    const failures = [fields.uncaughtException, ...fields.threadExceptions].filter((e) => e !== null);
    const hit = failures.find((e) => MEMORY_EXHAUSTED.test(e.excType) || (e.excType === 'RuntimeError' && THREAD_START_FAILED.test(e.message)));
    if (hit) return { kind: 'resource', resource: 'memory', detail: `${hit.excType} under the ${limits.memoryBytes}-byte memory cap` };
  }
  return termination;
}

