import { describe, expect, it } from 'vitest';
import { generateProgram } from '../../src/generators/program.js';
import { GENERATOR_VERSION, resolveGenOptions, scanWork } from '../../src/generators/scenario.js';
import { boundedIterations, SCANS, WORK_BOUND } from '../../src/generators/ops/cost.js';
import { KINDS, OPS } from '../../src/generators/ops.js';
import { CITATIONS } from '../../src/generators/citations.js';

describe('generateProgram', () => {
  it('gives byte-identical programs for the same seed and options, and different ones for other seeds', () => {
    const a = generateProgram(42);
    const b = generateProgram(42);
    expect(a.source).toBe(b.source);
    expect(generateProgram(43).source).not.toBe(a.source);
    expect(generateProgram(42, { threads: [3, 3] }).source).not.toBe(a.source);
  });

  it('records generator version, seed and options in the header', () => {
    const { source, meta } = generateProgram('nightly-7', { iterations: [10, 10] });
    const header = source.split('\n').filter((l) => l.startsWith('#'));
    expect(header).toContain(`# generator: ${GENERATOR_VERSION}`);
    expect(header).toContain('# seed: nightly-7');
    expect(header.some((l) => l.startsWith('# options: {') && l.includes('"iterations":[10,10]'))).toBe(true);
    expect(meta.iterations).toBe(10);
  });

  it('respects the knobs: thread count, effect classes and kinds', () => {
    for (let seed = 0; seed < 50; seed++) {
      const { meta } = generateProgram(seed, { threads: [16, 16], effects: ['exact'], kinds: ['list', 'dict', 'Queue'] });
      expect(meta.threads).toBe(16);
      expect(meta.objects.every((o) => o.level === 'exact' && ['list', 'dict', 'Queue'].includes(o.kind))).toBe(true);
    }
  });

  it('predicts exact token accounting for exact objects and only phantoms for tainted ones', () => {
    for (let seed = 0; seed < 200; seed++) {
      const { meta } = generateProgram(seed);
      for (const o of meta.objects) {
        const keys = Object.keys(meta.expected).filter((k) => k.startsWith(`${o.name}.`));
        if (keys.includes(`${o.name}.missing`)) expect(o.level).toBe('exact');
        if (o.level === 'crash-only') expect(keys.some((k) => /\.(missing|dup|phantom|count|attrs|keys)$/.test(k))).toBe(false);
      }
      expect(meta.expected.unexpected).toEqual([]);
    }
  });

  it('wraps the scenario in leak rounds only when asked, keeping definitions at module level', () => {
    // Kinds whose memory is neutral (Mock keeps every call: never under the leak harness).
    const flat = generateProgram(5, { kinds: ['list', 'dict'] }).source;
    expect(flat).not.toContain('def _scenario');
    const rounds = generateProgram(5, { kinds: ['list', 'dict'], rounds: 6, warmupRounds: 2 }).source;
    expect(rounds).toMatch(/^def _scenario\(\):\n {4}global /m);
    expect(rounds).toContain("'type': 'leak-rounds', 'warmup': 2");
    // Thread functions and classes stay module-level: 3.13t immortalizes them, so per-round copies would leak.
    expect(rounds).toMatch(/^def thread_0\(\):/m);
    expect(() => resolveGenOptions({ rounds: 3, warmupRounds: 3 })).toThrow(/warm-up rounds/);
  });

  it('rejects knobs outside their ranges', () => {
    expect(() => resolveGenOptions({ threads: [1, 4] })).toThrow(/threads must be within 2..16/);
    expect(() => resolveGenOptions({ kinds: ['nope'] })).toThrow(/unknown kind nope/);
  });
});

describe('the operation library', () => {
  it('covers at least 25 types and 150 operations, each with an effect class and a known citation', () => {
    const kinds = new Set(OPS.map((o) => o.kind));
    expect(kinds.size).toBeGreaterThanOrEqual(25);
    expect(OPS.length).toBeGreaterThanOrEqual(150);
    for (const op of OPS) {
      expect(['exact', 'invariant-only', 'crash-only']).toContain(op.effect);
      expect(CITATIONS[op.cite]).toBeDefined();
      expect(KINDS.some((k) => k.id === op.kind)).toBe(true);
      expect(Boolean(op.body) !== Boolean(op.pure)).toBe(true);
    }
    expect(new Set(OPS.map((o) => o.id)).size).toBe(OPS.length);
  });

  it('never calls an op exact when it overwrites or races by design', () => {
    for (const op of OPS) {
      if (op.tokens === 'overwrite' || op.tokens === 'racy-count') expect(op.effect).not.toBe('exact');
    }
  });
});

describe('module mode with the leak harness', () => {
  it('runs the threads phase in rounds on the same instances and reports leak-rounds; deterministic', async () => {
    const { generateModuleProgram } = await import('../../src/generators/moduleMode.js');
    const surface = { module: 'heapq', classes: [], functions: [{ name: 'heappush', params: [{ name: 'heap', required: true }, { name: 'item', required: true }] }] };
    const plain = generateModuleProgram(surface, 's1');
    const leak = generateModuleProgram(surface, 's1', { rounds: 6, warmupRounds: 2 });
    expect(plain.source).not.toContain('leak-rounds');
    expect(leak.source).toContain("'type': 'leak-rounds', 'warmup': 2");
    expect(leak.source).toMatch(/^import .*\bgc\b.*\btracemalloc\b/m);
    expect(leak.source).toContain('for _round in range(6):');
    expect(generateModuleProgram(surface, 's1', { rounds: 6, warmupRounds: 2 }).source).toBe(leak.source);
  });
});

describe('ops that grow memory by design', () => {
  it('never run under the leak harness: atexit keeps a slot per registration until exit', () => {
    const g = generateProgram('atexit-leak', { kinds: ['atexit'], rounds: 6, warmupRounds: 2 });
    expect(g.source).not.toContain('leak-rounds');
    // Every Mock() makes a class, and 3.13t immortalizes classes: a Mock per round grows by design.
    expect(generateProgram('mock-leak', { kinds: ['Mock'], rounds: 6, warmupRounds: 2 }).source).not.toContain('leak-rounds');
    const list = generateProgram('list-leak', { kinds: ['list'], rounds: 6, warmupRounds: 2 });
    expect(list.source).toContain('leak-rounds');
  });
});

describe('the work bound: growth under scans', () => {
  it('names only real ops, and bounds a program whose threads grow an object while others scan it', () => {
    const ids = new Set(OPS.map((op) => op.id));
    expect([...SCANS].filter((id) => !ids.has(id))).toEqual([]);
    // Three threads appending while three copy: the copies would visit ~9 x 1000^2 / 2 items; bounded.
    const growing = { v: 'o0', kind: 'deque', viaContainer: false };
    const threadOps = [0, 1, 2, 3, 4, 5].map((t) => ({ ops: [{ op: t % 2 ? 'deque.copy' : 'deque.append', obj: 'o0', sleepAfter: false }], gcEvery: null }));
    const work = scanWork([growing], threadOps);
    expect(work).toEqual([{ growers: 3, scanners: 3 }]);
    const bounded = boundedIterations(1000, work, 200);
    expect(bounded).toBe(471);
    expect((3 * bounded) * (3 * bounded) / 2).toBeLessThanOrEqual(WORK_BOUND);
    // Nothing to bound without both, and never below the options' own minimum.
    expect(boundedIterations(1000, [{ growers: 3, scanners: 0 }], 200)).toBe(1000);
    expect(boundedIterations(1000, [{ growers: 16, scanners: 16 }], 200)).toBe(200);
  });
});
