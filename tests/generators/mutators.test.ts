import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { MUTATORS, mutateProgram, mutateScenario, readScenario } from '../../src/generators/mutators.js';
import { generateProgram, renderProgram, SCENARIO_TAG } from '../../src/generators/program.js';
import { resolveGenOptions } from '../../src/generators/scenario.js';
import { Rng } from '../../src/generators/rng.js';

describe('scenario headers', () => {
  it('round-trip: the scenario read back from a program renders the same program', () => {
    for (let seed = 0; seed < 100; seed++) {
      const g = generateProgram(seed);
      const read = readScenario(g.source, `prog-${seed}.py`);
      expect(read?.scenario).toEqual(g.meta.scenario);
      expect(renderProgram(read!.scenario, { seed: read!.seed, options: read!.options }).source).toBe(g.source);
    }
  });

  it('returns null for programs without a scenario (hand-written corpus files)', () => {
    expect(readScenario('import threading\nprint(1)\n', 'hand.py')).toBeNull();
  });

  it('rejects any malformed scenario with an InputError naming the file (fuzzed)', () => {
    const valid = generateProgram(1).meta.scenario;
    const line = fc.oneof(
      fc.string(),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      // Near-valid scenarios: one field replaced by an arbitrary JSON value.
      fc.tuple(fc.constantFrom(...Object.keys(valid)), fc.jsonValue()).map(([k, v]) => JSON.stringify({ ...valid, [k]: v })),
    );
    fc.assert(
      fc.property(line, (text) => {
        const source = `# seed: 1\n# ${SCENARIO_TAG} ${text}\nprint(1)\n`;
        try {
          const read = readScenario(source, 'corpus/x.py');
          // Whatever passes validation must render.
          if (read) expect(() => renderProgram(read.scenario, { seed: '1', options: read.options })).not.toThrow();
        } catch (error) {
          expect(error).toBeInstanceOf(InputError);
          expect((error as Error).message).toMatch(/^corpus\/x\.py: has a malformed scenario header/);
        }
      }),
      { numRuns: 500, seed: 7 },
    );
  });
});

describe('mutators', () => {
  const options = resolveGenOptions();

  it('each mutator yields a scenario that renders and reads back', () => {
    const rng = new Rng('mutators-test');
    for (let seed = 0; seed < 60; seed++) {
      const a = generateProgram(seed).meta.scenario;
      const b = generateProgram(seed + 1000).meta.scenario;
      for (const name of MUTATORS) {
        const next = mutateScenario(rng, a, options, name, b);
        if (!next) continue;
        const g = renderProgram(next, { seed: String(seed), options, mutations: [name] });
        expect(readScenario(g.source, 'm.py')?.scenario).toEqual(next);
        expect(next.threads).toBe(next.threadOps.length);
        expect(next.threads).toBeGreaterThanOrEqual(2);
        expect(next.threads).toBeLessThanOrEqual(16);
      }
    }
  });

  it('recomputes predictions: doubling iterations doubles a locked counter', () => {
    const base = generateProgram('count', { kinds: ['Lock'], effects: ['exact'], objects: [1, 1] });
    const sc = { ...base.meta.scenario, iterations: base.meta.scenario.iterations * 2 };
    const doubled = renderProgram(sc, { seed: 'count', options: base.meta.options });
    const key = Object.keys(base.meta.expected).find((k) => k.endsWith('.count'));
    expect(key).toBeDefined();
    expect(doubled.meta.expected[key!]).toBe((base.meta.expected[key!] as number) * 2);
  });

  it('keeps the parent options (effect classes) and records the history', () => {
    const parent = generateProgram(3, { effects: ['exact'] });
    const child = mutateProgram(new Rng('x'), { scenario: parent.meta.scenario, options: parent.meta.options, seed: '3' }, 3);
    expect(child.meta.mutations.length).toBeGreaterThan(0);
    expect(child.meta.objects.every((o) => o.level === 'exact')).toBe(true);
    expect(child.source).toContain(`# mutations: ${child.meta.mutations.join(' ')}`);
  });
});
