// The one merge rule of a bucket's sightings (file store, fleet store and re-signing all use it).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeSightings, type BucketMeta, type Sighting } from '../../src/store/crashStore.js';
import type { GilMode, Verdict } from '../../src/types.js';

const base: BucketMeta = {
  version: 1, id: 'abc', signature: 'crash|SIGSEGV|c:f', kind: 'crash', oracle: 'crash', title: 't', verdict: 'unknown',
  origin: {}, interpreter: { label: 'x', path: '/x', version: '3.13.15', freeThreaded: true, debug: false, sanitizers: [], configArgs: '' },
  modes: ['gil-off'], reproduce: 'python repro.py', firstSeen: '2026-01-02T00:00:00.000Z', lastSeen: '2026-01-02T00:00:00.000Z', hits: 1,
};

const day = fc.integer({ min: 1, max: 28 }).map((d) => `2026-01-${String(d).padStart(2, '0')}T00:00:00.000Z`);
const sighting: fc.Arbitrary<Sighting> = fc.record({
  hits: fc.integer({ min: 0, max: 50 }),
  firstSeen: fc.option(day, { nil: undefined }),
  lastSeen: day,
  modes: fc.subarray<GilMode>(['gil-off', 'gil-on']),
  verdict: fc.constantFrom<Verdict>('runtime-bug', 'program-race', 'unknown', 'slow', 'environment'),
});

describe('mergeSightings', () => {
  it('adds hits, widens first and last seen and unites modes, in any order', () => {
    fc.assert(
      fc.property(fc.array(sighting, { maxLength: 6 }), (all) => {
        const a = mergeSightings(base, all);
        const b = mergeSightings(base, [...all].reverse());
        expect(a.hits).toBe(base.hits + all.reduce((n, s) => n + s.hits, 0));
        expect(b.hits).toBe(a.hits);
        expect(a.firstSeen).toBe([base.firstSeen, ...all.flatMap((s) => (s.firstSeen ? [s.firstSeen] : []))].sort()[0]);
        expect(a.lastSeen).toBe([base.lastSeen, ...all.map((s) => s.lastSeen)].sort().at(-1));
        expect(new Set(a.modes)).toEqual(new Set([...base.modes, ...all.flatMap((s) => s.modes)]));
        expect(a.signature).toBe(base.signature);
      }),
    );
  });

  it('only raises a verdict: runtime-bug stays, unknown says nothing', () => {
    expect(mergeSightings({ ...base, verdict: 'runtime-bug' }, [{ hits: 1, lastSeen: base.lastSeen, modes: [], verdict: 'program-race' }]).verdict).toBe('runtime-bug');
    expect(mergeSightings({ ...base, verdict: 'program-race' }, [{ hits: 1, lastSeen: base.lastSeen, modes: [], verdict: 'unknown' }]).verdict).toBe('program-race');
    expect(mergeSightings({ ...base, verdict: 'unknown' }, [{ hits: 1, lastSeen: base.lastSeen, modes: [], verdict: 'runtime-bug' }]).verdict).toBe('runtime-bug');
    fc.assert(
      fc.property(fc.array(sighting, { maxLength: 6 }), (all) => {
        const merged = mergeSightings(base, all).verdict;
        if (all.some((s) => s.verdict === 'runtime-bug')) expect(merged).toBe('runtime-bug');
        if (all.every((s) => s.verdict === 'unknown')) expect(merged).toBe(base.verdict);
      }),
    );
  });
});
