// The campaign's stages alone, with no interpreter: the ledger (run time split into hangs and crawls), the
// corpus (what is kept, what becomes a parent), and the plan (program i of a seed, its shares honoured).
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CampaignCorpus } from '../../src/campaign/corpus.js';
import { crawled, emptyStats, RunLedger } from '../../src/campaign/ledger.js';
import { ProgramPlan } from '../../src/campaign/plan.js';
import { Scheduler } from '../../src/campaign/schedule.js';
import { resolveSettings } from '../../src/campaign/settings.js';
import { generateProgram } from '../../src/generators/program.js';
import { eligibleKinds, resolveGenOptions } from '../../src/generators/scenario.js';
import type { Surface } from '../../src/generators/surface/types.js';
import { fakeRun } from '../helpers/runs.js';

const tmp = () => fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-stage-'));
const timeout = { kind: 'timeout' as const, afterMs: 5000 };

describe('RunLedger', () => {
  it('adds every run\'s cost and splits the time past the limit into hangs and crawls', () => {
    const stats = emptyStats('s', true, { memoryBytes: 1 << 30, cpuSeconds: 70 }, new Scheduler([], { focusedShare: 0, cores: 2 }).yields());
    const ledger = new RunLedger(stats);
    ledger.add([
      fakeRun('gil-off', { durationMs: 100, timeoutMs: 1000 }),
      // Finished in its finish window: a crawl.
      fakeRun('gil-on', { durationMs: 3000, timeoutMs: 2000, late: { limitMs: 2000, finishedMs: 3000 } }),
      // Killed at its limit with no progress in its samples: a hang.
      fakeRun('gil-off', { durationMs: 5000, timeoutMs: 5000, termination: timeout }),
    ]);
    expect(stats).toMatchObject({ executions: 3, runWallMs: 8100, timeoutRuns: 2, timeoutWallMs: 8000, crawlWallMs: 3000, hangWallMs: 5000 });
    expect(ledger.medianLimitMs()).toBe(2000);
    expect(crawled(fakeRun('gil-off', { termination: timeout }))).toBe(false);
  });
});

describe('CampaignCorpus', () => {
  const program = (seed: string) => {
    const p = generateProgram(seed, { kinds: ['list'], effects: ['exact'] });
    return { source: p.source, features: p.meta.scenario.threadOps.flatMap((t) => t.ops.map((o) => o.op)) };
  };

  it('keeps a program with a new feature once, as a parent; not one that shows nothing new', async () => {
    const dir = await tmp();
    const corpus = await CampaignCorpus.load(dir, false);
    const a = program('a');
    expect(await corpus.consider(a, [fakeRun('gil-off')], 0)).toBe(true);
    expect(corpus.parents).toHaveLength(1);
    expect(await corpus.consider(a, [fakeRun('gil-off')], 0)).toBe(false);
    expect(await corpus.consider({ ...a, source: `${a.source}\n` }, [fakeRun('gil-off')], 0)).toBe(false);
    // A new exception kind is a feature too.
    const raised = fakeRun('gil-off', { threadExceptions: [{ excType: 'KeyError' } as never] });
    expect(await corpus.consider({ ...a, source: `${a.source}\n# 2\n` }, [raised], 0)).toBe(true);
    // Loaded again, the kept programs are parents and their ops are seen.
    const again = await CampaignCorpus.load(dir, false);
    expect(again.parents).toHaveLength(2);
    expect(again.novel(a.features)).toBe(false);
  });

  it('keeps a crawling program only with a new bucket, and never as a parent; a surface program only with a new bucket', async () => {
    const corpus = await CampaignCorpus.load(await tmp(), false);
    const slow = fakeRun('gil-off', { termination: timeout, late: { limitMs: 3000, finishedMs: 9000 } });
    expect(await corpus.consider(program('b'), [slow], 0)).toBe(false);
    expect(await corpus.consider(program('b'), [slow], 1)).toBe(true);
    expect(corpus.parents).toHaveLength(0);
    const surface = { source: '# surface\n', features: ['surface:x.T.f@method-pair'], surface: { type: 'x.T' } };
    expect(await corpus.consider(surface, [fakeRun('gil-off')], 0)).toBe(false);
    expect(await corpus.consider(surface, [fakeRun('gil-off')], 1)).toBe(true);
  });
});

describe('ProgramPlan', () => {
  const plan = async (over: Parameters<typeof resolveSettings>[0], surface?: Surface) => {
    const settings = resolveSettings({ seed: 'plan', maxPrograms: 1, ...over });
    const scheduler = new Scheduler(eligibleKinds(resolveGenOptions(settings.genOptions)).map((k) => k.id), { focusedShare: settings.focusedShare, cores: 2 });
    return new ProgramPlan({ settings, surface }, await CampaignCorpus.load(await tmp(), false), scheduler);
  };

  it('makes program i of a seed the same every time', async () => {
    const [a, b] = [await plan({}), await plan({})];
    for (let i = 0; i < 20; i++) expect(a.program(i).source).toBe(b.program(i).source);
    expect((await plan({ seed: 'other' })).program(0).source).not.toBe(a.program(0).source);
  });

  it('honours the shares it is given: leak harness, surface programs, none of either', async () => {
    const surface: Surface = { modules: ['_collections'], types: [{ module: '_collections', name: 'deque', ctor: 'M.deque()', methods: [{ name: 'append', arity: [1, 1] }], properties: [], protocols: ['iteration'] }], functions: [], errors: [], crashes: [] } as never;
    const all = await plan({ surfaceShare: 1 }, surface);
    for (let i = 0; i < 10; i++) expect(all.program(i).shape).toBe('surface');
    const none = await plan({ surfaceShare: 0, leakShare: 0 }, surface);
    for (let i = 0; i < 30; i++) expect(none.program(i)).toMatchObject({ leak: false, shape: expect.not.stringMatching(/^surface$/) as unknown });
    const leaky = await plan({ surfaceShare: 0, leakShare: 1, mutateShare: 0 });
    for (let i = 0; i < 10; i++) expect(leaky.program(i).leak).toBe(true);
  });
});
