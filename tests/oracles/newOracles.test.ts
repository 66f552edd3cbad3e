import { describe, expect, it } from 'vitest';
import { leakOracle, leakingMetrics } from '../../src/oracles/leakOracle.js';
import { lostWriteOracle } from '../../src/oracles/lostWriteOracle.js';
import { refcountOracle } from '../../src/oracles/refcountOracle.js';
import { differentialOracle } from '../../src/oracles/differentialOracle.js';
import { fakeRun, fakeTarget } from '../helpers/runs.js';

const accounting = { ftfuzz: 1, type: 'accounting', objects: { o0: { kind: 'list', ops: ['list.append', 'list.pop'], threads: [0, 1] } } };

describe('lostWriteOracle', () => {
  it('names the object kind and ops, and trusts the prediction only when enough runs met and missed it', () => {
    const ok = fakeRun('gil-on', { observables: { 'o0.missing': 0 }, expected: { 'o0.missing': 0 }, records: [accounting] });
    const bad = fakeRun('gil-off', {
      observables: { 'o0.missing': 3 },
      expected: { 'o0.missing': 0 },
      records: [accounting, { ftfuzz: 1, type: 'tokens', object: 'o0', missing: [[2, 't1 list.append', 17]] }],
    });
    // One run per mode is no evidence either way (EVIDENCE_RUNS = 2 met and 2 missed).
    const [f, ...rest] = lostWriteOracle.check([ok, bad]);
    expect(rest).toEqual([]);
    expect(f?.signature).toBe('lost-write|lost|list|list.append,list.pop');
    expect(f?.verdict).toBe('unknown');
    expect(f?.details).toContain('t1 list.append');
    expect(lostWriteOracle.check([bad])[0]?.verdict).toBe('unknown');
    const [g] = lostWriteOracle.check([ok, bad, { ...ok, runIndex: 1 }, { ...bad, runIndex: 1 }]);
    expect(g?.verdict).toBe('runtime-bug');
    expect(g?.hits).toBe(2);
  });

  it('signs a lost write by the ops that wrote the lost tokens, so a reader beside the writer is the same bug', () => {
    const withReader = (ops: string[]) => ({ ftfuzz: 1, type: 'accounting', objects: { o0: { kind: 'defaultdict_list', ops, threads: [0, 1] } } });
    const lost = (ops: string[]) =>
      fakeRun('gil-off', {
        observables: { 'o0.missing': 2 },
        expected: { 'o0.missing': 0 },
        records: [withReader(ops), { ftfuzz: 1, type: 'tokens', object: 'o0', missing: [[2, 't1 defaultdict_list.append_missing', 17]], writers: ['defaultdict_list.append_missing'] }],
      });
    const a = lostWriteOracle.check([lost(['defaultdict_list.append_missing', 'defaultdict_list.len'])])[0];
    const b = lostWriteOracle.check([lost(['defaultdict_list.append_missing'])])[0];
    expect(a?.signature).toBe('lost-write|lost|defaultdict_list|defaultdict_list.append_missing');
    expect(b?.signature).toBe(a?.signature);
  });

  it('classifies counts above the prediction as duplicated and phantoms as phantom; ignores racy keys', () => {
    const dup = fakeRun('gil-off', { observables: { 'c.count': 11 }, expected: { 'c.count': 10 } });
    const ph = fakeRun('gil-off', { observables: { 't.phantom': 2 }, expected: { 't.phantom': 0 } });
    const racy = fakeRun('gil-off', { observables: { 'o0.dup': 2 }, expected: { 'o0.dup': 0 }, racy: ['o0.dup'] });
    expect(lostWriteOracle.check([dup, ph, racy]).map((f) => f.signature.split('|')[1])).toEqual(['duplicated', 'phantom']);
  });

  it('leaves accounting keys out of the differential oracle (no double report)', () => {
    const runs = [fakeRun('gil-on', { observables: { 'o0.count': 10 }, expected: { 'o0.count': 10 } }), fakeRun('gil-off', { observables: { 'o0.count': 9 }, expected: { 'o0.count': 10 } })];
    expect(differentialOracle.check(runs)).toEqual([]);
    expect(lostWriteOracle.check(runs)).toHaveLength(1);
  });
});

describe('refcountOracle', () => {
  const probes = (baseline: number, after: number, alive = true) => ({
    ftfuzz: 1,
    type: 'refcounts',
    probes: [{ name: 'p0', baseline, after, alive, expected_alive: true, via: 'mod.fn' }],
  });
  it('tells leaked references, over-releases and early frees apart; exact counts are quiet', () => {
    expect(refcountOracle.check([fakeRun('gil-off', { records: [probes(3, 5)] })])[0]?.signature).toBe('refcount|leaked-reference|mod.fn');
    expect(refcountOracle.check([fakeRun('gil-off', { records: [probes(9, 4)] })])[0]?.signature).toBe('refcount|over-release|mod.fn');
    expect(refcountOracle.check([fakeRun('gil-off', { records: [probes(3, 3, false)] })])[0]?.signature).toBe('refcount|freed-early|mod.fn');
    expect(refcountOracle.check([fakeRun('gil-off', { records: [probes(3, 3)] })])).toEqual([]);
  });
  it('recognises a debug build\'s negative refcount report', () => {
    const run = fakeRun('gil-off', { termination: { kind: 'signal', signal: 'SIGABRT' }, stderrTail: 'x.c:12: _Py_NegativeRefcount: Assertion failed: object has negative ref count\n' });
    expect(refcountOracle.check([run])[0]?.signature).toMatch(/^refcount\|negative\|/);
    const ft = fakeRun('gil-off', {
      termination: { kind: 'signal', signal: 'SIGABRT' },
      stderrTail: 'Python/gc_free_threading.c:407: update_refs: Assertion "refcount >= 0" failed\nobject refcount : -99\nobject type name: Probe\n',
    });
    expect(refcountOracle.check([ft])[0]?.signature).toBe('refcount|negative|Probe');
  });
});

describe('leakOracle noise rule (regrtest -R)', () => {
  it('flags growth in every measured round, not one-off growth', () => {
    expect(leakingMetrics({ gc_objects: [100, 150, 155, 160, 166] }, 1).map((l) => l.metric)).toEqual(['gc_objects']);
    expect(leakingMetrics({ gc_objects: [100, 150, 153, 153, 153] }, 1)).toEqual([]); // [3, 0, 0]
    expect(leakingMetrics({ gc_objects: [100, 150, 158, 150, 151] }, 1)).toEqual([]); // [8, -8, 1]
    expect(leakingMetrics({ tracemalloc: [0, 1000, 1300, 1600, 1900] }, 1)).toEqual([]); // thread bookkeeping noise, < 4 KiB a round
    expect(leakingMetrics({ tracemalloc: [0, 1000, 60000, 120000, 180000] }, 1).map((l) => l.metric)).toEqual(['tracemalloc']);
    expect(leakingMetrics({ rss: [0, 4096, 8192, 12288, 16384] }, 1)).toEqual([]); // under 4 MiB in total
    // Thread heaps' pages with nothing leaking (gc objects and tracemalloc flat), measured on 3.13.15t: not a leak.
    expect(leakingMetrics({ rss: [0, 0, 479232, 479232 + 303104, 479232 + 303104 + 438272] }, 1)).toEqual([]);
    expect(leakingMetrics({ rss: [0, 0, 942080, 942080 + 425984, 942080 + 425984 + 258048] }, 1)).toEqual([]);
    expect(leakingMetrics({ rss: [0, 0, 2 << 20, 4 << 20, 6 << 20] }, 1).map((l) => l.metric)).toEqual(['rss']);
    expect(leakingMetrics({ gc_objects: [1, 2, 3] }, 0)).toEqual([]); // too few rounds to tell
  });
  it('reports a finding naming the scenario and the metrics', () => {
    const rec = { ftfuzz: 1, type: 'leak-rounds', warmup: 1, scenario: 'mod.fn', metrics: { gc_objects: [1, 10, 20, 30, 40], tracemalloc: [0, 0, 0, 0, 0] } };
    expect(leakOracle.check([fakeRun('gil-off', { records: [rec] })])[0]?.signature).toBe('leak|mod.fn');
  });
  it('does not read RSS on a sanitizer build (its own bookkeeping grows it), and still reads the other metrics there', () => {
    const rss = { ftfuzz: 1, type: 'leak-rounds', warmup: 1, scenario: 'module markupsafe', metrics: { rss: [0, 2 << 20, 4 << 20, 6 << 20, 8 << 20], gc_objects: [5, 5, 5, 5, 5] } };
    expect(leakOracle.check([fakeRun('gil-off', { records: [rss] })])[0]?.signature).toBe('leak|module markupsafe');
    const tsan = fakeTarget('3.13.15', { sanitizers: ['thread'] });
    expect(leakOracle.check([fakeRun('gil-off', { records: [rss], target: tsan })])).toEqual([]);
    const objects = { ...rss, metrics: { ...rss.metrics, gc_objects: [5, 9, 13, 17, 21] } };
    expect(leakOracle.check([fakeRun('gil-off', { records: [objects], target: tsan })])[0]?.title).toMatch(/^leak: gc_objects \+4\/\+4\/\+4 per round/);
  });
});
