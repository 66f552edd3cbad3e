// The rate a minimization candidate must reproduce at: half the bucket's measured rate, one run at least,
// one run in `trials` when the rate was never measured, and a usage error outside (0, 1].
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import type { BucketMeta } from '../../src/store/bucket.js';
import { requiredHitsFor } from '../../src/triage/minimizeBucket.js';

const meta = (rate?: number) => (rate === undefined ? {} : { reproduction: { rate } }) as unknown as BucketMeta;

describe('requiredHitsFor', () => {
  it('asks for half the measured rate', () => {
    expect(requiredHitsFor(meta(1), 10)).toBe(5);
    expect(requiredHitsFor(meta(0.6), 5)).toBe(2);
  });

  it('asks for one run at least, and one run when the rate was never measured', () => {
    expect(requiredHitsFor(meta(0.05), 5)).toBe(1);
    expect(requiredHitsFor(meta(), 5)).toBe(1);
  });

  it('takes a given share over the measured rate, and refuses one outside (0, 1]', () => {
    expect(requiredHitsFor(meta(0.2), 5, 1)).toBe(5);
    expect(() => requiredHitsFor(meta(), 5, 0)).toThrow(UsageError);
    expect(() => requiredHitsFor(meta(), 5, 1.5)).toThrow(UsageError);
  });
});
