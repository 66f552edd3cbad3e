// Reproduction rates of a campaign's new buckets, measured alone but in batches, within a bounded share of
// the campaign (issue "every word true"). Measuring each new bucket the moment it appeared paused the other
// jobs once per bucket: on 3.13.5t the first attempts of programs got 26% of the slot time, and a TSan
// campaign ran one program in four minutes while ten 15-second trials of each new race ran alone.
//
// So new buckets wait in a queue. Between two programs, a slot that finds the queue non-empty and the
// budget open takes the gate exclusively (gate.ts: the other jobs finish their program and wait), measures
// as many queued buckets as the budget allows, one after another, and lets the programs go on. The budget:
// the wall time spent measuring stays under `share` of the campaign's elapsed time (so rates and the idle
// they impose on the other slots stay under `share` of the slot time). A bucket of a family no measured
// bucket speaks for goes first. Trials are sequential (trials/rate.ts): they stop once the interval says
// whether the bucket is flaky, at most `--repro-trials`. What the budget leaves unmeasured is listed at the
// end for `ftfuzz triage --measure`.
import type { Reproduction } from '../store/crashStore.js';
import type { Target } from '../types.js';
import type { ExclusiveGate } from './gate.js';
import type { SlotClock } from './slots.js';

export interface RateJob {
  bucket: string;
  target: Target;
  /** The bucket's family: the first bucket of a family goes before further buckets of a measured one. */
  family?: string;
  /** How long one trial is expected to take (the finding's run, plus a plain start-up), ms. */
  trialMs: number;
  /** Called with the rate once measured. */
  done: (r: Reproduction) => void;
}

export interface RateQueueOptions {
  /** Share of the campaign's elapsed time that measuring (with every other slot paused) may take. */
  share: number;
  /** Trials a measurement expects before the interval decides (sequential trials stop there or later). */
  expectedTrials: number;
  gate: ExclusiveGate;
  clock: SlotClock;
  /** Measures a job's rate; `overBudget` says when its sequential trials should stop short (after 3). */
  measure: (job: RateJob, overBudget: () => boolean) => Promise<Reproduction | undefined>;
  elapsedMs: () => number;
  signal: AbortSignal;
  /** The clock measurements are timed by (default `performance.now`). */
  now?: () => number;
  /**
   * A program is waiting out a finish window (up to a minute): a batch asked for now would hold every slot
   * idle until it ends, so none starts (the next program's end asks again).
   */
  held?: () => boolean;
}

export class RateQueue {
  private readonly queue: RateJob[] = [];
  private readonly measuredFamilies = new Set<string>();
  private spentMs = 0;
  private busy = false;
  /** Measured trial time per interpreter: the estimate of the next measurement's cost. */
  private readonly perTrial = new Map<string, { ms: number; trials: number }>();

  private readonly now: () => number;

  constructor(private readonly o: RateQueueOptions) {
    this.now = o.now ?? (() => performance.now());
  }

  enqueue(job: RateJob): void {
    if (this.o.expectedTrials > 0) this.queue.push(job);
  }

  /** Buckets still waiting for their rate. */
  get pending(): string[] {
    return this.queue.map((j) => j.bucket);
  }

  /** Wall time spent measuring so far, ms. */
  get spent(): number {
    return this.spentMs;
  }

  /** After a campaign without a deadline (a number of programs): measure everything still queued. */
  drain(): Promise<void> {
    return this.runDue(true);
  }

  /** Between programs: when there is work and the budget allows it, measure a batch with the other slots paused. */
  async runDue(all = false): Promise<void> {
    if (this.busy || this.o.signal.aborted || (!all && this.o.held?.() === true)) return;
    const affordable = (job: RateJob, inBatchMs = 0) => all || this.affordable(job, inBatchMs);
    const first = this.next();
    if (!first || !affordable(first)) return;
    this.busy = true;
    const asked = this.now();
    try {
      await this.o.gate.withExclusive(async () => {
        const t0 = this.now();
        // Waiting for the other slots' programs in flight to end.
        this.o.clock.add('waiting', t0 - asked);
        for (let job = this.next(); job && !this.o.signal.aborted && affordable(job, this.now() - t0); job = this.next()) {
          this.queue.splice(this.queue.indexOf(job), 1);
          const started = this.now();
          // A measurement that runs past the budget (a reproducer that hangs to its limit every trial) stops short.
          const r = await this.o.measure(job, () => !all && this.spentMs + (this.now() - t0) > this.o.share * this.o.elapsedMs());
          if (!r) {
            // Cancelled by the deadline: back in the queue, for the list of unmeasured buckets.
            this.queue.unshift(job);
            break;
          }
          const cost = this.perTrial.get(job.target.path) ?? { ms: 0, trials: 0 };
          this.perTrial.set(job.target.path, { ms: cost.ms + (this.now() - started), trials: cost.trials + Math.max(1, r.trials) });
          if (job.family && r.hits > 0) this.measuredFamilies.add(job.family);
          job.done(r);
        }
        const wall = this.now() - t0;
        this.spentMs += wall;
        this.o.clock.add('rates', wall);
      });
    } finally {
      this.busy = false;
    }
  }

  /** The next job: a bucket of a family with no measured bucket first, else the oldest. */
  private next(): RateJob | undefined {
    return this.queue.find((j) => !j.family || !this.measuredFamilies.has(j.family)) ?? this.queue[0];
  }

  /** The longer of the bucket's own expected trial and what trials on its interpreter took so far. */
  private estimate(job: RateJob): number {
    const known = this.perTrial.get(job.target.path);
    const trial = Math.max(job.trialMs, known && known.trials > 0 ? known.ms / known.trials : 0);
    return trial * this.o.expectedTrials;
  }

  /** Whether measuring `job` keeps the time spent measuring within the share of the elapsed time. */
  private affordable(job: RateJob, inBatchMs = 0): boolean {
    return this.spentMs + inBatchMs + this.estimate(job) <= this.o.share * this.o.elapsedMs();
  }
}
