// One run's watchdog, shared by both executors: the time limit (sample the C stacks and CPU time while it
// still runs, ask faulthandler for every thread's stack, then kill), the resident-set cap, the output cap
// and cancellation. What ended the run is decided here, once: the first cap or signal that stops it.
import type { NativeEvidence, Termination } from '../types.js';
import { OUTPUT_CAP_BYTES, type ExecRequest } from './executor.js';
import { watchResidentSet } from './limits.js';
import { sampleHungRun } from './nativeStacks.js';

/** How long a timed-out run gets to print its stacks (faulthandler) before SIGKILL. */
export const STACK_DUMP_GRACE_MS = 500;

export interface WatchdogHooks {
  /** Ask the program for every thread's Python stack (faulthandler). */
  dumpStacks: () => void;
  /** Kill the run (its process group, or its fork-server worker). */
  kill: () => void;
}

export class RunWatchdog {
  /** What ended the run, when ftfuzz ended it (a cap, the time limit, cancellation); null: it ended by itself. */
  termination: Termination | null = null;
  /** C stacks and CPU time sampled when the run passed its time limit. */
  native: NativeEvidence | undefined;
  /** Ended on its own inside its finish window: when (ms from the start), for a crawl's record. */
  late: { limitMs: number; finishedMs: number; native?: NativeEvidence } | undefined;
  /** Wall time spent in gdb sampling this run. */
  gdbMs = 0;
  /** Past the limit, inside the finish window: the run goes on. */
  private waiting = false;
  private started = 0;
  private windowTimer: NodeJS.Timeout | undefined;
  private settled = false;
  /** Set once the timed-out run is signalled: a run that ends on its own while being sampled finished late. */
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private rssPoll: NodeJS.Timeout | undefined;
  private outputPoll: NodeJS.Timeout | undefined;
  private readonly onAbort = () => {
    this.termination ??= { kind: 'cancelled' };
    this.hooks.kill();
  };

  constructor(
    private readonly request: ExecRequest,
    private readonly hooks: WatchdogHooks,
  ) {}

  /** Stops the run for a reason of ftfuzz's (a cap): the first reason stands. */
  stop(termination: Termination): void {
    if (this.termination !== null) return;
    this.termination = termination;
    this.hooks.kill();
  }

  /** Records why the run could not go on (e.g. a spawn error) without killing anything. */
  note(termination: Termination): void {
    this.termination ??= termination;
  }

  /** Output past the cap: the run is stopped as a resource finding. */
  outputOverflow(): void {
    this.stop({ kind: 'resource', resource: 'output', detail: `more than ${OUTPUT_CAP_BYTES} bytes of output` });
  }

  /**
   * Watch the running process: cancellation, the time limit, the resident-set cap, and (when the executor
   * cannot see the output stream itself) the output size, polled. `reused`: the process ran other programs
   * before (a fork-server worker), so it never gets a finish window.
   */
  arm(pid: number | undefined, outputSize?: () => number, reused = false): void {
    const { request } = this;
    this.started = performance.now();
    if (request.signal?.aborted) this.onAbort();
    else request.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.timer = setTimeout(() => {
      this.termination = { kind: 'timeout', afterMs: request.timeoutMs };
      void (async () => {
        // C stacks and CPU time, sampled twice while it still runs (deadlock, spin or crawl?).
        if (pid !== undefined) {
          const t0 = performance.now();
          this.native = await sampleHungRun(request.target.executable, pid, request.signal);
          this.gdbMs += performance.now() - t0;
        }
        if (this.settled) return;
        const windowMs = reused ? null : (request.finishWindow?.windowFor(this.native) ?? null);
        const left = windowMs === null ? 0 : windowMs - (performance.now() - this.started);
        if (windowMs !== null && left > 0) {
          // No progress in the samples: a hang, or one long C call or convoy that will end. Wait and see.
          this.waiting = true;
          request.finishWindow?.onWait?.(true);
          this.termination = { kind: 'timeout', afterMs: request.timeoutMs, waitedMs: windowMs };
          this.windowTimer = setTimeout(() => this.kill(), left);
          return;
        }
        this.kill();
      })();
    }, request.timeoutMs);
    const cap = request.limits?.memoryBytes;
    if (cap !== undefined && pid !== undefined) this.rssPoll = watchResidentSet(pid, cap, (t) => this.stop(t));
    if (outputSize) {
      this.outputPoll = setInterval(() => {
        if (outputSize() > OUTPUT_CAP_BYTES) this.outputOverflow();
      }, 200);
    }
  }

  /** Past the limit (and any finish window): faulthandler's stacks, then the kill. */
  private kill(): void {
    if (this.settled) return;
    this.stopping = true;
    this.hooks.dumpStacks();
    this.killTimer = setTimeout(() => this.hooks.kill(), STACK_DUMP_GRACE_MS);
  }

  /** The run ended: every timer stops; a time limit that had not yet stopped the run is void (it finished late). */
  settle(): void {
    this.settled = true;
    if (this.waiting) this.request.finishWindow?.onWait?.(false);
    if (this.termination?.kind === 'timeout' && !this.stopping) {
      // Ended on its own inside the finish window: a crawl, with both times.
      if (this.waiting) this.late = { limitMs: this.request.timeoutMs, finishedMs: Math.round(performance.now() - this.started), ...(this.native ? { native: this.native } : {}) };
      this.termination = null;
      this.native = undefined;
    }
    clearTimeout(this.timer);
    clearTimeout(this.windowTimer);
    clearTimeout(this.killTimer);
    clearInterval(this.rssPoll);
    clearInterval(this.outputPoll);
    this.request.signal?.removeEventListener('abort', this.onAbort);
  }
}
