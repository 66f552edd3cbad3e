// Where a campaign's time goes. A campaign of `jobs` slots for `elapsed` has elapsed × jobs of slot time;
// each slot runs one thing at a time, and every span of it is charged to one use:
//
//   first      a program's first attempt: its runs in every mode (the work a fuzzer exists to do)
//   confirm    anything that re-runs a program already run: the fresh re-run of a finding from a reused
//              worker, the evidence re-runs of a lost write or differential, the retries of an unconfirmed
//              sighting, and the finish window of a run past its limit (hang or crawl?)
//   rates      reproduction trials of new buckets (plain `python repro.py`, with the other slots paused)
//   sampling   gdb attached to a run past its limit (its two samples)
//   cores      gdb reading a crashed run's core (the C stacks that sign the crash)
//   record     writing buckets, the corpus and the crawl store
//   plan       generating or mutating the next program
//   waiting    a program held at the gate while the other slots' rate batch runs (or is about to)
//   idle       the rest: the campaign's start and end, Node itself
//
// The summary, `--json` (`slots`) and the timeline report the shares (issue "every word true": a campaign
// that spends a quarter of its slots on first attempts finds bugs at a quarter of the speed it could).
import type { RunResult } from '../types.js';

export const SLOT_USES = ['first', 'confirm', 'rates', 'sampling', 'cores', 'record', 'plan', 'waiting', 'idle'] as const;
export type SlotUse = (typeof SLOT_USES)[number];

/** What confirmation time was spent on. */
export const CONFIRM_KINDS = ['window', 'fresh', 'evidence', 'retries'] as const;
export type ConfirmKind = (typeof CONFIRM_KINDS)[number];

export interface SlotStats {
  /** elapsed × jobs, ms. */
  totalMs: number;
  ms: Record<SlotUse, number>;
  /** Each use's share of totalMs (idle: what no other use accounts for). */
  shares: Record<SlotUse, number>;
  /**
   * Confirmation time by what it confirmed: finish windows past a limit, the fresh re-run of a reused worker's
   * finding, the evidence re-runs of a lost write or differential, the retries of an unconfirmed sighting (ms).
   */
  confirm: Record<ConfirmKind, number>;
}

const zero = (): Record<SlotUse, number> => ({ first: 0, confirm: 0, rates: 0, sampling: 0, cores: 0, record: 0, plan: 0, waiting: 0, idle: 0 });

/** Time a run spent past its limit while it was waited on (its finish window): confirmation, not a first attempt. */
export function windowMs(run: RunResult): number {
  if (run.late) return Math.max(0, run.late.finishedMs - run.late.limitMs);
  if (run.termination.kind === 'timeout' && run.termination.waitedMs !== undefined) return Math.max(0, run.durationMs - run.termination.afterMs);
  return 0;
}

export class SlotClock {
  private readonly ms = zero();
  private readonly confirmed: Record<ConfirmKind, number> = { window: 0, fresh: 0, evidence: 0, retries: 0 };

  add(use: SlotUse, ms: number, confirm?: ConfirmKind): void {
    if (!Number.isFinite(ms) || ms <= 0) return;
    this.ms[use] += ms;
    if (use === 'confirm' && confirm) this.confirmed[confirm] += ms;
  }

  /** Run `fn`, charging its wall time to `use`. */
  async time<T>(use: SlotUse, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.add(use, performance.now() - t0);
    }
  }

  /**
   * A span of `wallMs` in which `runs` ran as `use`: their gdb time is sampling, and the part of their
   * finish windows past the limit is confirmation; the rest is `use`.
   */
  charge(use: SlotUse, wallMs: number, runs: readonly RunResult[], confirm?: ConfirmKind): void {
    const sampled = runs.reduce((t, r) => t + (r.termination.kind === 'signal' ? 0 : (r.gdbMs ?? 0)), 0);
    const cores = runs.reduce((t, r) => t + (r.termination.kind === 'signal' ? (r.gdbMs ?? 0) : 0), 0);
    const gdb = Math.min(wallMs, sampled + cores);
    const window = runs.reduce((t, r) => t + windowMs(r), 0);
    const rest = Math.max(0, wallMs - gdb - window);
    this.add('sampling', Math.min(sampled, gdb));
    this.add('cores', Math.max(0, gdb - Math.min(sampled, gdb)));
    this.add('confirm', Math.min(window, Math.max(0, wallMs - gdb)), 'window');
    this.add(use, rest, confirm);
  }

  stats(elapsedMs: number, jobs: number): SlotStats {
    const totalMs = Math.max(0, elapsedMs * Math.max(1, jobs));
    const ms = { ...this.ms };
    const used = SLOT_USES.filter((u) => u !== 'idle').reduce((t, u) => t + ms[u], 0);
    ms.idle = Math.max(0, totalMs - used);
    const shares = zero();
    for (const u of SLOT_USES) shares[u] = totalMs > 0 ? ms[u] / totalMs : 0;
    return { totalMs, ms, shares, confirm: { ...this.confirmed } };
  }
}

/** `first 71%, confirm 9% (window 5%, fresh 3%, …), rates 8%, …, idle 5%`. */
export function formatSlots(s: SlotStats): string {
  const pct = (ms: number) => `${Math.round((100 * ms) / Math.max(1, s.totalMs))}%`;
  const confirm = s.confirm ? ` (${CONFIRM_KINDS.map((k) => `${k} ${pct(s.confirm[k])}`).join(', ')})` : '';
  return SLOT_USES.map((u) => `${u} ${Math.round(s.shares[u] * 100)}%${u === 'confirm' ? confirm : ''}`).join(', ');
}
