// Where a campaign's slot time goes (slots.ts), and rates measured in budgeted batches (rates.ts): the first
// attempts of programs are what a fuzzer is for; confirmations, trials, gdb and waiting are accounted apart.
import { describe, expect, it } from 'vitest';
import { ExclusiveGate } from '../../src/campaign/gate.js';
import { RateQueue, type RateJob } from '../../src/campaign/rates.js';
import { SlotClock, formatSlots, windowMs } from '../../src/campaign/slots.js';
import { rateDecided } from '../../src/trials/claims.js';
import type { Reproduction } from '../../src/store/crashStore.js';
import { fakeRun, fakeTarget } from '../helpers/runs.js';

describe('slot time', () => {
  it('charges gdb to sampling and a finish window to confirmation, the rest to the use asked for', () => {
    const clock = new SlotClock();
    const hung = fakeRun('gil-off', { durationMs: 65_000, termination: { kind: 'timeout', afterMs: 5000, waitedMs: 60_000 }, gdbMs: 3000 });
    const crawled = fakeRun('gil-on', { durationMs: 13_000, late: { limitMs: 5000, finishedMs: 13_000 } });
    expect(windowMs(hung)).toBe(60_000);
    expect(windowMs(crawled)).toBe(8000);
    clock.charge('first', 80_000, [hung, crawled]);
    clock.charge('confirm', 1000, [], 'fresh');
    clock.add('rates', 4000);
    const s = clock.stats(50_000, 2);
    expect(s.totalMs).toBe(100_000);
    expect(s.ms.sampling).toBe(3000);
    expect(s.ms.confirm).toBe(1000 + 68_000);
    expect(s.ms.first).toBe(80_000 - 3000 - 68_000);
    expect(s.ms.idle).toBe(100_000 - 80_000 - 1000 - 4000);
    expect(Object.values(s.shares).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(s.confirm).toEqual({ window: 68_000, fresh: 1000, evidence: 0, retries: 0 });
    expect(formatSlots(s)).toBe('first 9%, confirm 69% (window 68%, fresh 1%, evidence 0%, retries 0%), rates 4%, sampling 3%, cores 0%, record 0%, plan 0%, waiting 0%, idle 15%');
    // gdb reading a crash's core is accounted apart from a hang's samples.
    const crash = new SlotClock();
    crash.charge('first', 2000, [fakeRun('gil-off', { termination: { kind: 'signal', signal: 'SIGSEGV' }, gdbMs: 800 })]);
    expect(crash.stats(2000, 1).ms).toMatchObject({ first: 1200, cores: 800, sampling: 0 });
  });
});

describe('sequential rate trials', () => {
  it('stop once the one-sided interval lies on one side of the flaky line', () => {
    expect(rateDecided(3, 3, 0.5)).toBe(false);
    expect(rateDecided(5, 5, 0.5)).toBe(true);
    expect(rateDecided(0, 5, 0.5)).toBe(true);
    expect(rateDecided(1, 6, 0.5)).toBe(false);
    expect(rateDecided(1, 10, 0.5)).toBe(true);
    expect(rateDecided(5, 10, 0.5)).toBe(false);
  });
});

const rep = (hits: number, trials: number): Reproduction => ({ interpreter: 'x', modes: ['gil-off'], trials, hits, rate: hits / trials, flaky: false, measuredAt: '' });

describe('the rate queue', () => {
  it('measures in one exclusive batch within its share of the elapsed time, new families first', async () => {
    let elapsed = 0;
    let now = 0;
    const gate = new ExclusiveGate();
    const order: string[] = [];
    const measured: string[] = [];
    const queue = new RateQueue({
      share: 0.1, expectedTrials: 5, gate, clock: new SlotClock(), elapsedMs: () => elapsed, signal: new AbortController().signal, now: () => now,
      // Five trials of one second each.
      measure: (job) => {
        order.push(job.bucket);
        now += 5000;
        return Promise.resolve(rep(5, 5));
      },
    });
    const job = (bucket: string, family: string, trialMs = 1000): RateJob => ({ bucket, family, target: fakeTarget(), trialMs, done: () => measured.push(bucket) });
    queue.enqueue(job('a1', 'A'));
    queue.enqueue(job('a2', 'A'));
    queue.enqueue(job('b1', 'B'));
    // 10% of 40 s is 4 s: not enough for one measurement of five 1-second trials.
    elapsed = 40_000;
    await queue.runDue();
    expect(order).toEqual([]);
    // 10% of 120 s: two measurements; a family with a measured bucket waits behind one without.
    elapsed = 120_000;
    await queue.runDue();
    expect(order).toEqual(['a1', 'b1']);
    expect(queue.pending).toEqual(['a2']);
    expect(queue.spent).toBe(10_000);
    // A hang's trial runs to its limit: its estimate is its own (155 s), not the interpreter's average; a
    // new family goes first even so, so nothing is measured until the budget has room for it.
    queue.enqueue(job('h1', 'H', 31_000));
    elapsed = 200_000;
    await queue.runDue();
    expect(order).toEqual(['a1', 'b1']);
    expect(queue.pending).toEqual(['a2', 'h1']);
    // A campaign of a number of programs measures what is left afterwards, whatever the budget.
    await queue.drain();
    expect(measured).toEqual(['a1', 'b1', 'h1', 'a2']);
  });

  it('takes the gate exclusively: no program runs while it measures', async () => {
    const gate = new ExclusiveGate();
    let programs = 0;
    let seenDuring = -1;
    const queue = new RateQueue({
      share: 1, expectedTrials: 1, gate, clock: new SlotClock(), elapsedMs: () => 1e9, signal: new AbortController().signal,
      measure: () => {
        seenDuring = programs;
        return Promise.resolve(rep(1, 1));
      },
    });
    const program = gate.withShared(async () => {
      programs += 1;
      await new Promise((r) => setTimeout(r, 20));
      programs -= 1;
    });
    queue.enqueue({ bucket: 'x', target: fakeTarget(), trialMs: 1, done: () => undefined });
    await Promise.all([program, queue.runDue()]);
    expect(seenDuring).toBe(0);
  });
});
