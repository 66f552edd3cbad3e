import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Recorder } from '../../src/campaign/recorder.js';
import type { Candidate } from '../../src/campaign/plan.js';
import type { CampaignStats } from '../../src/campaign/stats.js';
import { CrashStore } from '../../src/store/crashStore.js';
import type { Finding } from '../../src/types.js';
import { fakeTarget } from '../helpers/runs.js';

const crash = (over: Partial<Finding> = {}): Finding => ({
  kind: 'crash', oracle: 'crash', signature: 'crash|SIGSEGV|Segmentation fault|_odict_find_node_hash|OrderedDict_popitem', title: 'crash: SIGSEGV in _odict_find_node_hash',
  details: '', program: { path: '/tmp/p.py', name: 'p.py' }, targets: [], modes: ['gil-off'], hits: 1, runs: 1, reproduceCommand: '', verdict: 'runtime-bug', ...over,
});

const program: Candidate = { source: 'import collections\n', origin: { generator: 'ftfuzz-surface/6', seed: 's' }, features: [], mutated: false, shape: 'surface', credit: { kinds: [], ops: [] }, leak: false };

async function recorder(): Promise<{ recorder: Recorder; stats: CampaignStats; rates: string[] }> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-recorder-'));
  const store = (name: string) => new CrashStore(path.join(root, name));
  const stats = { findingsByKind: {}, verdicts: {}, newBuckets: [], slow: 0, resources: [], environmentWarnings: [] } as unknown as CampaignStats;
  const rates: string[] = [];
  const stores = { store: store('crashes'), resourceStore: store('.resource'), slowStore: store('.slow'), unconfirmedStore: store('.unconfirmed'), gilOnStore: store('.gil-on') };
  return { recorder: new Recorder(stores, stats, new Set(), (job) => rates.push(job.bucket)), stats, rates };
}

describe('Recorder', () => {
  it('keeps a new crash as a bucket in a family, counted once, its rate queued', async () => {
    const { recorder: r, stats, rates } = await recorder();
    const first = await r.record(crash(), program, undefined, fakeTarget());
    expect(first).toMatchObject({ bucket: true, newFamily: true });
    // The same bug again: no new bucket, its family known now (the scheduler rewards neither).
    expect(await r.record(crash({ hits: 2 }), program, undefined, fakeTarget())).toEqual({ bucket: false, family: first.family, newFamily: false });
    const [row] = r.familyRows();
    expect(r.familyRows()).toHaveLength(1);
    expect(row).toMatchObject({ newBuckets: 1, hits: 2, isNew: true });
    expect(stats.newBuckets).toHaveLength(1);
    expect(stats.newBuckets[0]?.family?.key).toBe(row?.key);
    expect(rates).toEqual([stats.newBuckets[0]?.bucket]);
  });

  it('moves a new bucket, and its count, to its family\'s GIL row when it shows with the GIL on: no bucket left without a family', async () => {
    const { recorder: r, stats } = await recorder();
    await r.record(crash(), program, undefined, fakeTarget());
    const before = r.familyRows()[0]?.key;
    await r.record(crash({ modes: ['gil-on'] }), program, undefined, fakeTarget());
    const rows = r.familyRows();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.key).not.toBe(before);
    expect(rows[0]).toMatchObject({ newBuckets: 1, alsoWithGil: true });
    expect(rows[0]?.buckets).toEqual([stats.newBuckets[0]?.bucket]);
    // The summary lists the new bucket under the row it is in now (the CLI's "without a family" list is empty).
    expect(stats.newBuckets[0]?.family?.key).toBe(rows[0]?.key);
  });
});
