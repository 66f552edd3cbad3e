// The campaign's feedback: focused programs on the kinds that yield, exploration kept.
import { describe, expect, it } from 'vitest';
import { reward, Scheduler } from '../../src/campaign/schedule.js';
import { Rng } from '../../src/generators/rng.js';
import { resolveGenOptions } from '../../src/generators/scenario.js';

describe('the kind scheduler', () => {
  const kinds = ['list', 'dict', 'set', 'deque', 'BytesIO'];

  it('tries every kind before any twice, then favours the kind that yields, and keeps exploring', () => {
    const s = new Scheduler(kinds, { focusedShare: 1, explore: 0.2, cores: 2 });
    const rng = new Rng('schedule-test');
    const first = new Set<string>();
    for (let i = 0; i < kinds.length; i++) {
      const plan = s.plan(rng, {});
      if (!plan.kind) throw new Error('focused programs have a kind');
      first.add(plan.kind);
      s.update('focused', [plan.kind], [], { runMs: 100, findings: 0, newBuckets: 0, contended: false });
    }
    // Untried kinds come first (exploration picks may repeat one, so most, not all, are distinct).
    expect(first.size).toBeGreaterThanOrEqual(3);
    const picks: Record<string, number> = {};
    for (let i = 0; i < 400; i++) {
      const plan = s.plan(rng, {});
      const kind = plan.kind as string;
      picks[kind] = (picks[kind] ?? 0) + 1;
      // BytesIO finds something in a third of its programs; the others never do.
      const found = kind === 'BytesIO' && i % 3 === 0;
      s.update('focused', [kind], [`${kind}.op`], { runMs: 100, findings: found ? 1 : 0, newBuckets: found && i < 30 ? 1 : 0, contended: false });
    }
    expect(picks.BytesIO).toBeGreaterThan(400 / kinds.length);
    for (const k of kinds) expect(picks[k] ?? 0, k).toBeGreaterThan(0);
    const y = s.yields();
    expect(y.byKind.BytesIO?.findings).toBeGreaterThan(0);
    expect(y.byShape.focused.programs).toBe(405);
    expect(y.byOp['BytesIO.op']?.programs).toBe(picks.BytesIO);
  });

  it('makes focused programs valid generator options, and broad ones the defaults', () => {
    const s = new Scheduler(kinds, { focusedShare: 0.5, cores: 2 });
    const rng = new Rng('shapes');
    const shapes = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const plan = s.plan(rng, { effects: ['exact'] });
      shapes.add(plan.shape);
      const o = resolveGenOptions(plan.options);
      expect(o.effects).toEqual(['exact']);
      if (plan.shape === 'focused') {
        expect(o.objects).toEqual([1, 1]);
        expect(o.kinds).toEqual([plan.kind]);
        expect(o.iterations[0]).toBeGreaterThanOrEqual(200);
      } else expect(plan.options).toEqual({ effects: ['exact'] });
    }
    expect([...shapes].sort()).toEqual(['broad', 'focused']);
    // What the user set stands: focused programs keep explicit iterations and fill only the rest.
    const always = new Scheduler(kinds, { focusedShare: 1, cores: 2 }).plan(rng, { iterations: [20, 60] });
    expect(always.options).toMatchObject({ iterations: [20, 60], objects: [1, 1], kinds: [always.kind] });
    expect(new Scheduler([], { focusedShare: 0.5, cores: 2 }).plan(rng, {}).shape).toBe('broad');
  });

  it('rewards a new bucket most, a finding some, contention a little', () => {
    const base = { runMs: 1, findings: 0, newBuckets: 0, contended: false };
    expect(reward({ ...base, newBuckets: 1, findings: 1 })).toBe(1);
    expect(reward({ ...base, findings: 2 })).toBeCloseTo(0.2);
    expect(reward({ ...base, contended: true })).toBeCloseTo(0.05);
    expect(reward(base)).toBe(0);
  });

  it('rewards a new family, not a new bucket of a known one; new witnesses and C edges as near misses', () => {
    const base = { runMs: 1, findings: 1, novelFindings: 1, newBuckets: 1, contended: false };
    expect(reward({ ...base, newFamilies: 1 })).toBe(1);
    // BytesIO's 34th bucket of one family: as much as any finding of a bug not stored yet, no more.
    expect(reward({ ...base, newFamilies: 0 })).toBeCloseTo(0.4);
    expect(reward({ ...base, novelFindings: 0, newFamilies: 0 })).toBeCloseTo(0.2);
    const quiet = { runMs: 1, findings: 0, newBuckets: 0, contended: false };
    expect(reward({ ...quiet, newWitnesses: 1 })).toBeCloseTo(0.25);
    expect(reward({ ...quiet, newWitnesses: 5 })).toBeCloseTo(0.5);
    expect(reward({ ...quiet, newEdges: 100 })).toBeCloseTo(0.1);
    expect(reward({ ...quiet, newEdges: 5000 })).toBeCloseTo(0.2);
    expect(reward({ ...quiet, newEdges: 5000, newWitnesses: 5, contended: true })).toBeCloseTo(0.75);
    // Past its limit with nothing new stored: nothing, whatever it reached.
    expect(reward({ ...quiet, newEdges: 5000, newWitnesses: 5, pastLimitMs: 30_000 })).toBe(0);
  });

  it('steers the bandit to the kind whose programs begin families, not the one that repeats a family', () => {
    const s = new Scheduler(['BytesIO', 'array'], { cores: 2, focusedShare: 1, explore: 0 });
    for (let i = 0; i < 10; i++) {
      s.update('focused', ['BytesIO'], ['BytesIO.write'], { runMs: 1, findings: 1, novelFindings: 1, newBuckets: 1, newFamilies: i === 0 ? 1 : 0, contended: false });
      s.update('focused', ['array'], ['array.append'], { runMs: 1, findings: 1, novelFindings: 1, newBuckets: i % 3 === 0 ? 1 : 0, newFamilies: i % 3 === 0 ? 1 : 0, contended: false });
    }
    const picks = Array.from({ length: 20 }, (_, i) => s.plan(new Rng(`pick${i}`), {}).kind);
    expect(picks.filter((k) => k === 'array').length).toBeGreaterThan(picks.filter((k) => k === 'BytesIO').length);
    expect(s.yields().byKind.BytesIO).toMatchObject({ newBuckets: 10, newFamilies: 1 });
  });
});

describe('steering away from crawls', () => {
  it('leaves out ops whose programs crawl, never all of a focused kind\'s, and penalises the kind', () => {
    const s = new Scheduler(['deque', 'list'], { cores: 2, focusedShare: 1, explore: 0 });
    const crawl = { runMs: 20_000, findings: 0, newBuckets: 0, contended: false, crawlMs: 15_000 };
    const fine = { runMs: 200, findings: 0, newBuckets: 0, contended: false };
    s.update('focused', ['deque'], ['deque.copy', 'deque.append'], crawl);
    expect(s.crawlingOps()).toEqual([]);
    s.update('focused', ['deque'], ['deque.copy', 'deque.append'], crawl);
    s.update('focused', ['deque'], ['deque.append', 'deque.pop'], fine);
    // deque.copy crawled in both its programs; deque.append in 2 of 3 (a third or more): both left out.
    expect(s.crawlingOps()).toEqual(['deque.append', 'deque.copy']);
    expect(reward(crawl)).toBe(0);
    const plan = s.plan(new Rng('crawl'), {});
    expect(plan.options.excludeOps).toEqual(expect.arrayContaining(['deque.copy']));
    // A new bucket for every two crawls keeps an op in.
    s.update('focused', ['deque'], ['deque.copy'], { ...fine, newBuckets: 1 });
    expect(s.crawlingOps()).not.toContain('deque.copy');
  });

  it('leaves out an op that crawls rarely when its crawls take most of its run time, not a common op they barely touch', () => {
    const s = new Scheduler(['defaultdict_list'], { cores: 2, focusedShare: 1, explore: 0 });
    const crawl = { runMs: 5000, findings: 0, newBuckets: 0, contended: false, crawlMs: 5000 };
    const fine = { runMs: 300, findings: 0, newBuckets: 0, contended: false };
    // json_dumps: 2 crawls in 8 programs (a quarter) took 10 s of its 11.8 s.
    for (let i = 0; i < 2; i++) s.update('focused', ['defaultdict_list'], ['defaultdict_list.json_dumps', 'defaultdict_list.len'], crawl);
    for (let i = 0; i < 6; i++) s.update('focused', ['defaultdict_list'], ['defaultdict_list.json_dumps', 'defaultdict_list.len'], fine);
    // len: the same 2 crawls, in 60 programs that ran 45 s more without crawling.
    for (let i = 0; i < 52; i++) s.update('focused', ['defaultdict_list'], ['defaultdict_list.len', 'defaultdict_list.append_missing'], { ...fine, runMs: 870 });
    expect(s.crawlingOps()).toEqual(['defaultdict_list.json_dumps']);
  });
});
