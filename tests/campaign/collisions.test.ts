// Collision coverage: a campaign's C edges and witnesses from its programs' runs (campaign/collisions.ts).
import { describe, expect, it } from 'vitest';
import { CollisionCoverage } from '../../src/campaign/collisions.js';
import { CoverageMap, parseEdgeDump } from '../../src/runtime/nativeCoverage.js';
import type { GilMode, RunResult } from '../../src/types.js';
import { dumpOf, EXE, mapFile } from '../helpers/coverage.js';

const ARRAY = '/opt/py/lib/python3.13t/lib-dynload/array.so';

function run(mode: GilMode, hit: number[], arrayHit: number[] = []): RunResult {
  return { modeRequested: mode, edges: parseEdgeDump(dumpOf([{ object: EXE, edges: 20, hit }, { object: ARRAY, edges: 6, hit: arrayHit }])) } as unknown as RunResult;
}

describe('collision coverage', () => {
  it('counts each edge once per campaign, by the area of its function', () => {
    const c = new CollisionCoverage(new CoverageMap(mapFile()));
    expect(c.record([run('gil-off', [0, 1, 14]), run('gil-on', [0, 2])], ['list']).newEdges).toBe(4);
    expect(c.record([run('gil-off', [0, 1, 15], [0])], ['array']).newEdges).toBe(2);
    const s = c.stats();
    expect(s).toMatchObject({ edgesTotal: 26, edgesSeen: 6, programs: 2 });
    expect(s.byArea).toMatchObject({ Objects: { seen: 2, total: 12 }, other: { seen: 3, total: 4 }, Modules: { seen: 1, total: 6 }, Python: { seen: 0, total: 4 } });
  });

  it('takes a witness from the GIL-off runs only where the GIL-on runs of the same program did not reach it', () => {
    const c = new CollisionCoverage(new CoverageMap(mapFile()));
    // A thread re-entering its own object's critical section: the same slow path with the GIL on.
    expect(c.record([run('gil-off', [10, 11]), run('gil-on', [10, 11])], ['BufferedWriter'])).toMatchObject({ newWitnesses: 0, witnesses: [] });
    // Two threads met: the GIL-off run went further into the slow path, and a dict lookup restarted.
    expect(c.record([run('gil-off', [10, 12, 8]), run('gil-on', [10])], ['dict', 'list'])).toEqual({ newEdges: 2, newWitnesses: 4, witnesses: ['critical-section-slow', 'dict-read-failed'] });
    // The same witnesses on the same kinds are not new; on a new kind they are.
    expect(c.record([run('gil-off', [12, 8])], ['dict'])).toMatchObject({ newWitnesses: 0 });
    expect(c.record([run('gil-off', [12])], ['deque'])).toMatchObject({ newWitnesses: 1 });
    const s = c.stats();
    expect(s.programsWithWitness).toBe(3);
    expect(s.witnessPairs).toBe(5);
    expect(s.witnesses.find((w) => w.id === 'critical-section-slow')).toMatchObject({ programs: 3, kinds: ['deque', 'dict', 'list'] });
  });

  it('never counts a witness edge a single thread reaches on the build', () => {
    const c = new CollisionCoverage(new CoverageMap(mapFile([{ object: EXE, edges: [10, 11, 12, 13] }])));
    expect(c.record([run('gil-off', [10, 12])], ['list']).witnesses).toEqual([]);
    expect(c.stats().reachedAlone).toEqual({ 'critical-section-slow': 4 });
  });

  it('counts a run without a dump (a crash) as nothing', () => {
    const c = new CollisionCoverage(new CoverageMap(mapFile()));
    expect(c.record([{ modeRequested: 'gil-off' } as RunResult], ['list'])).toEqual({ newEdges: 0, newWitnesses: 0, witnesses: [] });
    expect(c.stats().programs).toBe(0);
  });
});
