import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crashOracle, SIGNATURE_FORMAT } from '../../src/oracles/crashOracle.js';
import { CrashStore, type BucketEvidence } from '../../src/store/crashStore.js';
import { needsResign, resignBucket } from '../../src/triage/resign.js';
import type { NativeEvidence } from '../../src/types.js';
import { fakeRun, fakeTarget } from '../helpers/runs.js';

const stderr = 'Fatal Python error: Segmentation fault\n\nCurrent thread 0x1 (most recent call first):\n  File "/tmp/gone/prog-7.py", line 2 in worker\n';
const core = (fn: string): NativeEvidence => ({
  source: 'core',
  samples: [{ threads: [{ lwp: 5, name: null, frames: [{ func: '<signal handler called>', file: null, line: 0, lib: null }, { func: fn, file: 'Modules/x.c', line: 9, lib: null }] }], ticks: {}, python: {}, at: null }],
  faultingLwp: 5,
  signal: 11,
  clkTck: 100,
  raw: `#0 ${fn} () at Modules/x.c:9`,
});

describe('re-signing buckets of an older signature format', () => {
  it('renames a bucket from its evidence, and merges one whose new signature another bucket has', async () => {
    const store = new CrashStore(await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-resign-')));
    const target = fakeTarget();
    const source = 'def worker():\n    planted()\n';
    const evidence = (fn: string): BucketEvidence => ({ termination: { kind: 'signal', signal: 'SIGSEGV' }, modeRequested: 'gil-off', programPath: '/tmp/gone/prog-7.py', stderrTail: stderr, native: core(fn) });
    // The current format's bucket for crash_a, and two old-format buckets (Python-frame signatures).
    const current = crashOracle.check([fakeRun('gil-off', { program: { path: '/tmp/gone/prog-7.py', name: 'p', source }, termination: { kind: 'signal', signal: 'SIGSEGV' }, stderrTail: stderr, native: core('crash_a') })])[0];
    expect(current?.signature).toBe('crash|SIGSEGV|SIGSEGV|c:crash_a|op:worker: planted()');
    const kept = await store.record({ finding: current!, source, target, stderrTail: stderr, signatureFormat: SIGNATURE_FORMAT, evidence: evidence('crash_a') });
    const old = (sig: string, fn: string) => store.record({ finding: { ...current!, signature: sig, hits: 3 }, source, target, stderrTail: stderr, evidence: evidence(fn) });
    const a = await old('crash|SIGSEGV|SIGSEGV|<program>:worker', 'crash_a');
    const b = await old('crash|SIGSEGV|SIGSEGV|<program>:worker < x', 'crash_b');
    expect(needsResign(a.meta)).toBe(true);
    expect(needsResign(kept.meta)).toBe(false);

    const ra = await resignBucket(store, a.bucket, a.meta, { target, trials: 1, timeoutMs: 1000 });
    expect(ra.signature).toBe(current?.signature);
    expect(ra).toMatchObject({ outcome: 'merged', to: kept.bucket, how: 'evidence' });
    expect((await store.read(kept.bucket))?.hits).toBe(4);
    await expect(fs.access(store.dir(a.bucket))).rejects.toThrow();

    const rb = await resignBucket(store, b.bucket, b.meta, { target, trials: 1, timeoutMs: 1000 });
    expect(rb.outcome).toBe('renamed');
    const renamed = await store.read(rb.to as string);
    expect(renamed?.signature).toBe('crash|SIGSEGV|SIGSEGV|c:crash_b|op:worker: planted()');
    expect(renamed?.signatureFormat).toBe(SIGNATURE_FORMAT);
    expect(renamed?.hits).toBe(3);
  });
});
