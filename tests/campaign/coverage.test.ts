// Surface coverage: pairs exercised from the `surface` records of a program's runs (GIL-off first, as they
// ran concurrently), unknown pairs ignored, and the weight that steers toward the unexercised.
import { describe, expect, it } from 'vitest';
import { SurfaceCoverage } from '../../src/campaign/coverage.js';
import type { SurfaceType } from '../../src/generators/surface/types.js';
import { fakeRun } from '../helpers/runs.js';

const deque: SurfaceType = {
  module: '_collections', name: 'deque', ctor: 'M.deque()', methods: [{ name: 'append', arity: [1, 1] }, { name: 'pop', arity: [0, 0] }], properties: [], protocols: ['iteration'],
};
const record = (exercised: string[], shape = 'method-pair') => ({ type: 'surface', ftfuzz: 1, type_key: '_collections.deque', shape, exercised });

describe('SurfaceCoverage', () => {
  it('counts the pairs and triples the GIL-off run reports', () => {
    const c = new SurfaceCoverage({ types: [deque] });
    expect(c.stats()).toMatchObject({ pairs: 4, pairsExercised: 0, types: 1 });
    expect(c.weight('_collections.deque.append')).toBeGreaterThan(1);
    c.record([fakeRun('gil-on', { records: [record(['pop'])] }), fakeRun('gil-off', { records: [record(['append', 'nonsense'])] })]);
    expect(c.stats()).toMatchObject({ pairsExercised: 1, triples: 1, typesExercised: 1, programs: 1 });
    expect(c.weight('_collections.deque.append')).toBe(1);
    c.record([fakeRun('gil-off', { records: [record(['append'], 'snapshot')] })]);
    expect(c.stats()).toMatchObject({ pairsExercised: 1, triples: 2, programs: 2 });
  });

  it('counts nothing from a GIL-on run: no two threads ran at once there', () => {
    const c = new SurfaceCoverage({ types: [deque] });
    c.record([fakeRun('gil-on', { records: [record(['pop'])] })]);
    expect(c.stats()).toMatchObject({ programs: 1, pairsExercised: 0 });
  });

  it('counts a program without a surface record, and nothing else', () => {
    const c = new SurfaceCoverage({ types: [deque] });
    c.record([fakeRun('gil-off')]);
    expect(c.stats()).toMatchObject({ programs: 1, pairsExercised: 0, triples: 0 });
  });
});
