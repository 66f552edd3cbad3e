import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CrashStore, bucketName, parseMeta } from '../../src/store/crashStore.js';
import type { Finding } from '../../src/types.js';
import { fakeTarget } from '../helpers/runs.js';

const finding = (over: Partial<Finding> = {}): Finding => ({
  kind: 'crash',
  oracle: 'crash',
  signature: 'crash|SIGSEGV|Segmentation fault|<program>:worker_N',
  title: 'crash: SIGSEGV in <program>:worker_N',
  details: '',
  program: { path: '/tmp/p.py', name: 'p.py' },
  targets: [],
  modes: ['gil-off'],
  hits: 1,
  runs: 1,
  reproduceCommand: '',
  verdict: 'runtime-bug',
  ...over,
});

const tmp = () => fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-store-'));

describe('CrashStore', () => {
  it('writes a complete bucket: standalone repro.py, stderr tail, meta.json with interpreter and origin', async () => {
    const store = new CrashStore(await tmp());
    const { bucket, isNew, meta } = await store.record({
      finding: finding(),
      source: 'import faulthandler\nfaulthandler._sigsegv()\n',
      target: fakeTarget('3.13.5'),
      stderrTail: 'Fatal Python error: Segmentation fault\n',
      origin: { generator: 'ftfuzz-gen/1', seed: '7' },
      now: new Date('2026-11-23T00:00:00Z'),
    });
    expect(isNew).toBe(true);
    expect(bucket).toBe(bucketName(finding()));
    const dir = path.join(store.root, bucket);
    const repro = await fs.readFile(path.join(dir, 'repro.py'), 'utf8');
    expect(repro).toMatch(/^# ftfuzz reproducer: crash: SIGSEGV/);
    expect(repro).toContain('# reproduce: PYTHON_GIL=0 /opt/python3.13.5t repro.py');
    expect(repro).toContain('faulthandler._sigsegv()');
    expect(await fs.readFile(path.join(dir, 'stderr.txt'), 'utf8')).toContain('Segmentation fault');
    expect(meta).toMatchObject({ kind: 'crash', hits: 1, origin: { seed: '7' }, interpreter: { version: '3.13.5', freeThreaded: true }, firstSeen: '2026-11-23T00:00:00.000Z' });
  });

  it("keeps a perturbed run's seed: meta.json and repro.py's header say how to run it the same way", async () => {
    const store = new CrashStore(await tmp());
    const sched = { shim: '/cache/native/libftfuzz_sched-abc.so', seed: '1234567890123' };
    const { bucket, meta } = await store.record({ finding: finding(), source: 'print(1)\n', target: fakeTarget(), stderrTail: '', sched });
    expect(meta.perturbation).toEqual({ ...sched, command: `LD_PRELOAD=${sched.shim} FTFUZZ_SCHED_SEED=${sched.seed} ${meta.reproduce}` });
    const repro = await fs.readFile(path.join(store.dir(bucket), 'repro.py'), 'utf8');
    expect(repro).toContain(`# reproduce: ${meta.reproduce}\n`);
    expect(repro).toContain(`found with schedule perturbation seed ${sched.seed}`);
    expect(repro).toContain(meta.perturbation?.command);
    const text = await fs.readFile(path.join(store.dir(bucket), 'meta.json'), 'utf8');
    expect(parseMeta(text, 'meta.json').perturbation?.seed).toBe(sched.seed);
    const forged = JSON.stringify({ ...JSON.parse(text), perturbation: { seed: '1; rm -rf /', shim: 'x', command: 'y' } });
    expect(() => parseMeta(forged, 'meta.json')).toThrow(/malformed: perturbation/);
  });

  it('deduplicates by signature: a second hit updates counts, modes and lastSeen, not the reproducer', async () => {
    const store = new CrashStore(await tmp());
    const first = await store.record({ finding: finding(), source: 'first\n', target: fakeTarget(), stderrTail: '' });
    const second = await store.record({ finding: finding({ modes: ['gil-on'], hits: 2 }), source: 'second\n', target: fakeTarget(), stderrTail: '' });
    expect(second.isNew).toBe(false);
    expect(second.bucket).toBe(first.bucket);
    expect(second.meta.hits).toBe(3);
    expect(second.meta.modes).toEqual(['gil-off', 'gil-on']);
    expect(await fs.readFile(path.join(store.root, first.bucket, 'repro.py'), 'utf8')).toContain('first');
  });

  it('moves a crash\'s family under its GIL key when a sighting with the GIL on arrives, and only a crash\'s', async () => {
    const store = new CrashStore(await tmp());
    const family = { key: 'crash|Objects/odictobject.c|OrderedDict_popitem', label: 'crash in OrderedDict_popitem', format: 11, rule: 'entry' as const };
    await store.record({ finding: finding(), source: 'x\n', target: fakeTarget(), stderrTail: '', family });
    const seen = await store.record({ finding: finding({ modes: ['gil-on'] }), source: 'x\n', target: fakeTarget(), stderrTail: '', family });
    expect(seen.meta.family?.key).toBe('crash|Objects/odictobject.c|OrderedDict_popitem|with the GIL');
    const heap = { key: 'heap|array', label: 'heap corruption by a shared array', format: 11, rule: 'heap' as const };
    await store.record({ finding: finding({ signature: 'crash|SIGSEGV|x|mi_free' }), source: 'x\n', target: fakeTarget(), stderrTail: '', family: heap });
    const again = await store.record({ finding: finding({ signature: 'crash|SIGSEGV|x|mi_free', modes: ['gil-on'] }), source: 'x\n', target: fakeTarget(), stderrTail: '', family: heap });
    expect(again.meta.family?.key).toBe('heap|array');
  });

  it('loses no hit when 20 writers record the same signature at once, and leaves no temp or lock files', async () => {
    const store = new CrashStore(await tmp());
    await Promise.all(Array.from({ length: 20 }, () => store.record({ finding: finding(), source: 'x\n', target: fakeTarget(), stderrTail: '' })));
    const { buckets, errors } = await store.list();
    expect(errors).toEqual([]);
    expect(buckets).toHaveLength(1);
    expect(buckets[0]?.meta.hits).toBe(20);
    const leftovers = (await fs.readdir(store.root, { recursive: true })).filter((f) => String(f).endsWith('.tmp') || String(f).endsWith('.lock'));
    expect(leftovers).toEqual([]);
  });

  it('lists complete buckets, skips one a kill left without meta.json, and names a malformed one', async () => {
    const store = new CrashStore(await tmp());
    await store.record({ finding: finding(), source: 'x\n', target: fakeTarget(), stderrTail: '' });
    await fs.mkdir(path.join(store.root, 'crash-incomplete'));
    await fs.writeFile(path.join(store.root, 'crash-incomplete', 'repro.py'), 'half');
    await fs.mkdir(path.join(store.root, 'hang-broken'));
    await fs.writeFile(path.join(store.root, 'hang-broken', 'meta.json'), '{"signature": 3');
    const { buckets, errors } = await store.list();
    expect(buckets.map((b) => b.bucket)).toEqual([bucketName(finding())]);
    expect(errors).toEqual([{ bucket: 'hang-broken', error: expect.stringMatching(/hang-broken\/meta\.json: not valid JSON/) as string }]);
  });

  it('refuses meta written by a newer ftfuzz, and non-bucket JSON, with the file named', () => {
    expect(() => parseMeta('{"version": 99, "signature": "s", "kind": "crash", "title": "t", "reproduce": "r", "firstSeen": "a", "lastSeen": "b", "hits": 1, "modes": []}', 'm.json')).toThrow(/m\.json: written by a newer ftfuzz/);
    expect(() => parseMeta('{"hello": 1}', 'm.json')).toThrow(/m\.json: not an ftfuzz bucket \(missing or malformed: signature/);
  });
});
