// "Retry, then fall back", as a wrapper around an executor that can lose a run. The fork server's pool loses
// a run when its server dies under it (the program crashed the server, or the server was killed): that run is
// tried again on a fresh server, then on the reference executor, so nothing a campaign generated is lost.
// Requests the pool must not take (reproducers, TSan targets) go to the fallback directly.
import { emptyRunFields } from './protocol.js';
import { runResult, type ExecRequest, type Executor } from './executor.js';
import type { RunResult } from '../types.js';

/** An executor whose runs can be lost, said with `null`, and which may decline a request. */
export interface LossyExecutor {
  /** False when this request must go to the fallback (the lossy executor cannot run it faithfully). */
  accepts(request: ExecRequest): boolean;
  /** The run, or null when it was lost (its process pool died or could not start). */
  tryExecute(request: ExecRequest): Promise<RunResult | null>;
  close(): Promise<void>;
}

export class RetryThenFallback implements Executor {
  private closed = false;

  /** `attempts`: tries on the lossy executor before the fallback runs the request. */
  constructor(
    readonly name: string,
    protected readonly primary: LossyExecutor,
    private readonly fallback: Executor,
    private readonly attempts = 2,
  ) {}

  async execute(request: ExecRequest): Promise<RunResult> {
    if (!this.primary.accepts(request)) return this.fallback.execute(request);
    for (let attempt = 0; attempt < this.attempts && !this.closed; attempt++) {
      const result = await this.primary.tryExecute(request);
      if (result) return result;
    }
    // A run in flight when the executor is closed ends with it; nothing starts afterwards.
    if (this.closed) return runResult(request, { kind: 'cancelled' }, 0, '', '', emptyRunFields());
    return this.fallback.execute(request);
  }

  /** Runs in flight on the primary end as `cancelled`; the fallback closes after it. */
  async close(): Promise<void> {
    this.closed = true;
    await this.primary.close();
    await this.fallback.close();
  }
}
