// The programmatic API (src/index.ts) drives a campaign, triage and replay without the binary: what a
// nightly job written in TypeScript, or a C-extension author's own harness, would call.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import * as ftfuzz from '../../src/index.js';

const fixture = path.join(import.meta.dirname, '..', 'fixtures', 'programs', 'segfault_thread.py');

describe('library API', () => {
  it('runs a campaign, records a crash, triages it into a family and replays it as still failing', async () => {
    const target = await ftfuzz.probeTarget(inject('ftPython'), 'flag');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-api-'));
    const crashDir = path.join(dir, 'crashes');

    const stats = await ftfuzz.runCampaign({
      settings: ftfuzz.resolveSettings({ modes: ['gil-off'], seed: 'api', maxPrograms: 3, genOptions: { kinds: ['list', 'dict'], effects: ['exact'], iterations: [20, 40] } }),
      targets: [target], jobs: 1, crashDir, corpusDir: path.join(dir, 'corpus'),
    });
    expect(stats).toMatchObject({ programs: 3, stoppedBy: 'budget' });

    const report = await ftfuzz.checkProgram({ file: fixture, targets: [target], modes: ['gil-off'], timeoutMs: 30_000, oracles: ftfuzz.selectOracles('all') });
    const crash = report.findings.find((f) => f.kind === 'crash');
    expect(crash, JSON.stringify(report.findings.map((f) => f.signature))).toBeDefined();
    if (!crash) return;
    expect(ftfuzz.FINDING_KINDS[crash.kind]).toMatchObject({ store: 'bucket', symptomOnly: true });
    const store = new ftfuzz.CrashStore(crashDir);
    const run = report.runs.find((r) => r.termination.kind === 'signal');
    const { bucket, isNew } = await store.record({ finding: crash, source: await fs.readFile(fixture, 'utf8'), target, stderrTail: run?.stderrTail ?? '' });
    expect(isNew).toBe(true);

    const triaged = await ftfuzz.triageStore(store, { trials: 2, maxTrials: 2 });
    const row = triaged.families.find((f) => f.buckets.some((b) => b.bucket === bucket));
    expect(row?.kind).toBe('crash');
    expect(triaged.errors).toEqual([]);

    const items = await ftfuzz.collectReplayItems([store.dir(bucket)]);
    const entries = await ftfuzz.replay({ items, targets: [target], modes: ['gil-off'], trials: 2, timeoutMs: 30_000, jobs: 1 });
    expect(entries.map((e) => e.status)).toEqual(['still-failing']);
    expect(ftfuzz.isFailing(entries[0]?.status ?? 'fixed')).toBe(true);
    await fs.rm(dir, { recursive: true, force: true });
  }, 180_000);
});
