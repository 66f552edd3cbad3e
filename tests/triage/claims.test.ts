import { describe, expect, it } from 'vitest';
import { absenceClaim, trialsNeeded, versionStatus } from '../../src/triage/claims.js';

describe('claims the numbers support', () => {
  it('needs ln(0.05)/ln(1-rate) trials for a 95% chance to have seen the bug', () => {
    expect(trialsNeeded(0.2)).toBe(14);
    expect(trialsNeeded(0.5)).toBe(5);
    expect(trialsNeeded(1)).toBe(1);
    expect(trialsNeeded(0)).toBe(Infinity);
    // (1 - rate)^n <= 0.05 at the returned n, and not one trial earlier
    for (const rate of [0.01, 0.1, 0.3, 0.77]) {
      const n = trialsNeeded(rate);
      expect((1 - rate) ** n).toBeLessThanOrEqual(0.05);
      expect((1 - rate) ** (n - 1)).toBeGreaterThan(0.05);
    }
  });

  it('refuses to call a 20%-rate bucket fixed or not affected after 3 clean trials', () => {
    expect(absenceClaim(0, 3, 0.2)).toBe('inconclusive');
    expect(absenceClaim(0, 14, 0.2)).toBe('absent');
    expect(absenceClaim(1, 3, 0.2)).toBe('shown');
    expect(versionStatus({ freeThreaded: true }, ['gil-off'], 0, 3, 0.2)).toBe('inconclusive');
    expect(versionStatus({ freeThreaded: true }, ['gil-off'], 0, 14, 0.2)).toBe('not-affected');
    expect(absenceClaim(0, 1000, 0)).toBe('inconclusive');
  });

  it('calls a gil-off bug on a GIL-only build not applicable, never not affected', () => {
    expect(versionStatus({ freeThreaded: false }, ['gil-off'], 0, 50, 0.9)).toBe('not-applicable');
    expect(versionStatus({ freeThreaded: false }, ['gil-off', 'gil-on'], 0, 50, 0.9)).toBe('not-affected');
  });
});
