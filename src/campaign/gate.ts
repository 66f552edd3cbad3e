// Rates measured the way a maintainer will see them: a new bucket's reproduction trials run with the
// campaign's other jobs paused, so the reproducer has the machine's cores to itself (issue "verdicts a
// maintainer can sign": with 2 jobs on 2 cores, 15 of 16 buckets recorded 0/10 in the campaign failed
// again in 5 of 5 plain runs alone; a race needs free cores to fire).
//
// Program runs hold the gate shared; a measurement holds it exclusively: it waits for the programs in
// flight to end, and no program starts until it is done.
export class ExclusiveGate {
  private shared = 0;
  private exclusive = false;
  // Waiters are resolved with their hold already taken (ownership handed over), so nobody slips in between.
  private readonly waitingShared: (() => void)[] = [];
  private readonly waitingExclusive: (() => void)[] = [];

  /** Run `fn` beside other shared holders, never during an exclusive one. */
  async withShared<T>(fn: () => Promise<T>): Promise<T> {
    // Exclusive holders waiting go first: otherwise a stream of programs starves a measurement.
    if (this.exclusive || this.waitingExclusive.length > 0) await new Promise<void>((resolve) => this.waitingShared.push(resolve));
    else this.shared += 1;
    try {
      return await fn();
    } finally {
      this.shared -= 1;
      this.wake();
    }
  }

  /** Run `fn` alone: after every shared holder in flight has ended, before any new one starts. */
  async withExclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.exclusive || this.shared > 0) await new Promise<void>((resolve) => this.waitingExclusive.push(resolve));
    else this.exclusive = true;
    try {
      return await fn();
    } finally {
      this.exclusive = false;
      this.wake();
    }
  }

  /** Shared holders right now (for the record of how a rate was measured). */
  get sharedHolders(): number {
    return this.shared;
  }

  private wake(): void {
    if (this.exclusive) return;
    if (this.waitingExclusive.length > 0) {
      if (this.shared > 0) return;
      this.exclusive = true;
      (this.waitingExclusive.shift() as () => void)();
      return;
    }
    for (const resolve of this.waitingShared.splice(0)) {
      this.shared += 1;
      resolve();
    }
  }
}
