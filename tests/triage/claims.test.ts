import { describe, expect, it } from 'vitest';
import { absenceClaim, absenceImpossible, fisherGreater, fixedBetween, formatRate, rateInterval, rateLowerBound, rateUpperBound, recordedCount, trialsNeeded, trialsToRuleOut, versionStatus } from '../../src/trials/claims.js';
import type { GilMode } from '../../src/types.js';

describe('rates are intervals (Clopper-Pearson)', () => {
  it('matches the closed forms at the edges and known values inside', () => {
    // k = n: the lower bound solves p^n = 0.05; k = 0: the upper bound solves (1 - p)^n = 0.05.
    expect(rateLowerBound({ hits: 10, trials: 10 })).toBeCloseTo(0.05 ** (1 / 10), 10);
    expect(rateUpperBound({ hits: 0, trials: 10 })).toBeCloseTo(1 - 0.05 ** (1 / 10), 10);
    expect(rateLowerBound({ hits: 0, trials: 10 })).toBe(0);
    expect(rateUpperBound({ hits: 10, trials: 10 })).toBe(1);
    // 2/10, one-sided 95% lower bound (R: binom.test(2, 10, alternative = "greater")$conf.int[1]).
    expect(rateLowerBound({ hits: 2, trials: 10 })).toBeCloseTo(0.0368, 3);
    // 3/10, two-sided 95% (binom.test(3, 10)$conf.int): 0.0667 to 0.6525.
    const [lo, hi] = rateInterval({ hits: 3, trials: 10 });
    expect(lo).toBeCloseTo(0.0667, 3);
    expect(hi).toBeCloseTo(0.6525, 3);
    expect(formatRate({ hits: 3, trials: 10 })).toBe('3/10 (30%, 95% CI 7-65%)');
  });

  it('needs the trials that rule out the lower bound, not the point estimate', () => {
    expect(trialsToRuleOut(0.2)).toBe(14);
    expect(trialsToRuleOut(1)).toBe(1);
    expect(trialsToRuleOut(0)).toBe(Infinity);
    // 2/2 recorded: the point estimate (100%) asked for 1 clean trial; the lower bound (22%) asks for 12.
    expect(trialsNeeded({ hits: 2, trials: 2 })).toBe(12);
    expect(trialsNeeded({ hits: 10, trials: 10 })).toBe(3);
    expect(trialsNeeded({ hits: 0, trials: 10 })).toBe(Infinity);
    expect(trialsNeeded(null)).toBe(Infinity);
    for (const c of [{ hits: 1, trials: 10 }, { hits: 5, trials: 10 }, { hits: 7, trials: 7 }]) {
      const n = trialsNeeded(c);
      const p = rateLowerBound(c);
      expect((1 - p) ** n).toBeLessThanOrEqual(0.05);
      expect((1 - p) ** (n - 1)).toBeGreaterThan(0.05);
    }
  });

  it('refuses to call a bucket recorded 2/2 fixed after one clean trial', () => {
    expect(absenceClaim(0, 1, { hits: 2, trials: 2 })).toBe('inconclusive');
    expect(absenceClaim(0, 11, { hits: 2, trials: 2 })).toBe('inconclusive');
    expect(absenceClaim(0, 12, { hits: 2, trials: 2 })).toBe('absent');
    expect(absenceClaim(1, 3, { hits: 2, trials: 2 })).toBe('shown');
    // A crash of the same family under another signature is the bug, not its absence.
    expect(absenceClaim(0, 50, { hits: 2, trials: 2 }, true)).toBe('shown');
    expect(absenceClaim(0, 1000, { hits: 0, trials: 10 })).toBe('inconclusive');
    const plain = { freeThreaded: true, sanitizers: [] };
    const crash = (modes: GilMode[]) => ({ kind: 'crash', modes });
    expect(versionStatus(plain, crash(['gil-off']), 0, 3, { hits: 2, trials: 10 })).toBe('inconclusive');
    expect(versionStatus(plain, crash(['gil-off']), 0, 12, { hits: 10, trials: 10 })).toBe('not-affected');
    expect(versionStatus(plain, crash(['gil-off']), 0, 12, { hits: 10, trials: 10 }, true)).toBe('affected');
  });

  it('calls a gil-off bug on a GIL-only build not applicable, never not affected', () => {
    const gilOnly = { freeThreaded: false, sanitizers: [] };
    expect(versionStatus(gilOnly, { kind: 'crash', modes: ['gil-off'] }, 0, 50, { hits: 9, trials: 10 })).toBe('not-applicable');
    expect(versionStatus(gilOnly, { kind: 'crash', modes: ['gil-off', 'gil-on'] }, 0, 50, { hits: 9, trials: 10 })).toBe('not-affected');
  });

  it('never claims a race absent on a build without ThreadSanitizer: it cannot see races', () => {
    const race = { kind: 'race', modes: ['gil-off' as const] };
    expect(versionStatus({ freeThreaded: true, sanitizers: [] }, race, 0, 100, { hits: 10, trials: 10 })).toBe('not-applicable');
    expect(absenceImpossible({ freeThreaded: true, sanitizers: [] }, race)).toMatch(/only by ThreadSanitizer/);
    expect(versionStatus({ freeThreaded: true, sanitizers: ['thread'] }, race, 0, 12, { hits: 10, trials: 10 })).toBe('not-affected');
    expect(absenceImpossible({ freeThreaded: true, sanitizers: ['thread'] }, race)).toBeNull();
  });

  it('claims about a minimized bucket rest on repro.min.py\'s own rate', () => {
    const rep = (hits: number, trials: number) => ({ interpreter: 'x', modes: ['gil-off' as const], trials, hits, rate: hits / trials, flaky: false, measuredAt: '' });
    const meta = { reproduction: rep(10, 10), minimized: { file: 'repro.min.py', bytesBefore: 1, bytesAfter: 1, linesBefore: 1, linesAfter: 1, requiredRate: 0.2, trialsPerCandidate: 5, candidatesTried: 1, measuredAt: '', reproduction: rep(1, 10) } };
    expect(recordedCount(meta)).toEqual({ hits: 1, trials: 10 });
    expect(recordedCount(meta, 'repro.py')).toEqual({ hits: 10, trials: 10 });
    // Minimized before its rate was measured: no claim can rest on it.
    expect(recordedCount({ ...meta, minimized: { ...meta.minimized, reproduction: undefined } })).toBeNull();
  });
});

describe('fixed between two releases', () => {
  it('Fisher\'s exact test, one-sided', () => {
    // All k hits in the old release's n trials, none in the new one's m: p = C(n, k) / C(n + m, k).
    expect(fisherGreater({ hits: 3, trials: 12 }, { hits: 0, trials: 12 })).toBeCloseTo(220 / 2024, 6);
    expect(fisherGreater({ hits: 6, trials: 12 }, { hits: 0, trials: 12 })).toBeCloseTo(924 / 134596, 6);
    expect(fisherGreater({ hits: 0, trials: 5 }, { hits: 0, trials: 5 })).toBe(1);
  });

  it('needs an absence against the recorded rate and a significant control in the same session', () => {
    const recorded = { hits: 6, trials: 10 };
    const ok = fixedBetween({ hits: 7, trials: 12 }, { hits: 0, trials: 12 }, recorded);
    expect(ok.claim).toBe('fixed-between');
    expect(ok.p).toBeLessThan(0.05);
    // The old release showed it, but too rarely to tell it apart from the new one.
    expect(fixedBetween({ hits: 2, trials: 12 }, { hits: 0, trials: 12 }, recorded).claim).toBe('inconclusive');
    // No control at all.
    expect(fixedBetween({ hits: 0, trials: 12 }, { hits: 0, trials: 12 }, recorded).claim).toBe('inconclusive');
    // Too few clean trials on the new release for the recorded rate.
    expect(fixedBetween({ hits: 3, trials: 3 }, { hits: 0, trials: 3 }, { hits: 2, trials: 10 }).claim).toBe('inconclusive');
    expect(fixedBetween({ hits: 7, trials: 12 }, { hits: 1, trials: 12 }, recorded).claim).toBe('still-present');
    expect(fixedBetween({ hits: 7, trials: 12 }, { hits: 0, trials: 12, sameFamily: true }, recorded).claim).toBe('still-present');
    // Clean of this bug, but crashing or hanging otherwise on the new release: the bug may have moved.
    const moved = fixedBetween({ hits: 7, trials: 12 }, { hits: 0, trials: 12, otherFailures: { trials: 2, titles: ['hang (spin): no exit after 30000 ms'] } }, recorded);
    expect(moved.claim).toBe('inconclusive');
    expect(moved.why).toMatch(/crashed or hung otherwise in 2 of 12 trials \(hang \(spin\)/);
  });
});
