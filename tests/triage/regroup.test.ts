// Re-grouping an older store into families: atomic per bucket, idempotent, and it loses nothing (repro.min.py,
// versions, rates, hits), whenever it is interrupted.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CrashStore, type BucketMeta } from '../../src/store/crashStore.js';
import { groupFamilies, regroupStore } from '../../src/triage/families.js';
import type { Finding } from '../../src/types.js';
import { fakeTarget } from '../helpers/runs.js';

const crash = (signature: string, frames: string[], op: string): Finding => ({
  kind: 'crash', oracle: 'crash', signature, title: signature, details: '', program: { path: '/tmp/p.py', name: 'p.py' }, targets: [], modes: ['gil-off'],
  hits: 1, runs: 1, reproduceCommand: '', verdict: 'runtime-bug', native: { frames, op },
});

/** An older store: three buckets without a family, one minimized, one replayed, all measured. */
async function olderStore(): Promise<CrashStore> {
  const store = new CrashStore(await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-regroup-')));
  const findings = [
    crash('crash|SIGSEGV|SIGSEGV|c:setup_tracing|op:x', ['setup_tracing (Python/legacy_tracing.c:528)', '_PyEval_SetTrace (Python/legacy_tracing.c:603)'], 'hooks.settrace_all on hooks'),
    crash('crash|SIGSEGV|SIGSEGV|c:call_trace_func|op:y', ['call_trace_func (Python/legacy_tracing.c:189)', 'sys_trace_start (Python/legacy_tracing.c:229)'], 'list.append on list'),
    crash('crash|SIGSEGV|SIGSEGV|c:groupby_next|op:z', ['PyTuple_Pack (Objects/tupleobject.c:175)', 'groupby_next (Modules/itertoolsmodule.c:553)'], 'groupby.next on groupby'),
  ];
  for (const [i, finding] of findings.entries()) {
    const { bucket } = await store.record({ finding, source: `print(${i})\n`, target: fakeTarget('3.13.5'), stderrTail: 'Fatal Python error: Segmentation fault\n', now: new Date(`2026-11-0${i + 1}T00:00:00Z`) });
    await store.update(bucket, (m) => ({
      ...m, hits: 5 + i,
      reproduction: { interpreter: 'CPython 3.13.5t', modes: ['gil-off'], trials: 10, hits: 3 + i, rate: (3 + i) / 10, flaky: true, measuredAt: '2026-11-10T00:00:00Z' },
      ...(i === 0 ? { versions: { '3.13.15t': { path: '/p', version: '3.13.15', modes: ['gil-off'], trials: 12, hits: 0, affected: false, status: 'not-affected', measuredAt: '2026-11-11T00:00:00Z' } } } : {}),
    }));
    if (i === 1) await store.writeFile(bucket, 'repro.min.py', 'print("min")\n');
  }
  return store;
}

/** Every file of a store, by relative path (lock directories aside). */
async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const bucket of await fs.readdir(root)) {
    for (const f of await fs.readdir(path.join(root, bucket))) {
      if (f.endsWith('.lock')) continue;
      out[`${bucket}/${f}`] = await fs.readFile(path.join(root, bucket, f), 'utf8');
    }
  }
  return out;
}

describe('re-grouping a store into families', () => {
  it('adds each bucket\'s family and changes nothing else; a second run changes nothing', async () => {
    const store = await olderStore();
    const before = await snapshot(store.root);
    expect(await regroupStore(store)).toBe(3);
    const after = await snapshot(store.root);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    for (const [file, text] of Object.entries(before)) {
      if (!file.endsWith('meta.json')) {
        expect(after[file], file).toBe(text);
        continue;
      }
      const { family, ...rest } = JSON.parse(after[file] as string) as BucketMeta;
      expect(rest).toEqual(JSON.parse(text));
      expect(family?.key).toMatch(/^crash\|/);
    }
    expect(await regroupStore(store)).toBe(0);
    expect(await snapshot(store.root)).toEqual(after);
    const rows = groupFamilies((await store.list()).buckets);
    // A family is where the stack entered the object's code: two legacy_tracing.c entries are two families
    // (until a bisection finds they share a fix: below).
    expect(rows.map((r) => [r.key, r.buckets.length, r.hits, r.rule])).toEqual([
      ['crash|Modules/itertoolsmodule.c|groupby_next', 1, 7, 'entry'],
      ['crash|Python/legacy_tracing.c|sys_trace_start', 1, 6, 'entry'],
      ['crash|Python/legacy_tracing.c|_PyEval_SetTrace', 1, 5, 'entry'],
    ]);
    expect(rows[0]?.rate).toEqual({ hits: 5, trials: 10 });
  });

  it('joins families whose bisections end at the same fix, and says so; a tie between candidates joins nothing', async () => {
    const store = await olderStore();
    await regroupStore(store);
    const { buckets } = await store.list();
    const bisected = (gh: number, runnerUp?: number) => ({
      from: '3.13.5', to: '3.13.15', lastAffected: '3.13.6', firstFixed: '3.13.7', steps: [], why: 'first fixed in 3.13.7', measuredAt: '',
      candidates: [{ gh, score: 5, matched: [], text: '' }, ...(runnerUp ? [{ gh: runnerUp, score: 5, matched: [], text: '' }] : [])],
    });
    const tracing = buckets.filter((b) => b.meta.family?.key.startsWith('crash|Python/legacy_tracing.c'));
    const joined = groupFamilies(buckets.map((b) => (tracing.includes(b) ? { ...b, meta: { ...b.meta, bisection: bisected(137400) } } : b)));
    expect(joined).toHaveLength(2);
    const row = joined.find((r) => r.buckets.length === 2);
    expect(row?.rule).toBe('same bisected fix (3.13.7, gh-137400)');
    expect(row?.joined).toHaveLength(1);
    expect(row?.hits).toBe(11);
    // Two entries of the fixing release scoring the same (two atexit.unregister fixes): families naming the
    // same pair join; a family naming another set does not.
    const pair = groupFamilies(buckets.map((b) => (tracing.includes(b) ? { ...b, meta: { ...b.meta, bisection: bisected(137400, 137401) } } : b)));
    expect(pair.find((r) => r.buckets.length === 2)?.rule).toBe('same bisected fix (3.13.7, gh-137400,gh-137401)');
    const [first, second] = tracing;
    const apart = groupFamilies(buckets.map((b) => (b === first ? { ...b, meta: { ...b.meta, bisection: bisected(137400, 137401) } } : b === second ? { ...b, meta: { ...b.meta, bisection: bisected(137400) } } : b)));
    expect(apart).toHaveLength(3);
  });

  it('moves a crash seen with the GIL on since its family was written under the GIL key', async () => {
    const store = await olderStore();
    await regroupStore(store);
    const { buckets } = await store.list();
    const groupby = buckets.find((b) => b.meta.family?.key === 'crash|Modules/itertoolsmodule.c|groupby_next') as (typeof buckets)[number];
    // A store that did not move families (an older ftfuzz) recorded a sighting with the GIL on.
    await store.update(groupby.bucket, (m) => ({ ...m, modes: ['gil-off', 'gil-on'] }));
    expect(await regroupStore(store)).toBe(1);
    const moved = (await store.list()).buckets.find((b) => b.bucket === groupby.bucket);
    expect(moved?.meta.family?.key).toBe('crash|Modules/itertoolsmodule.c|groupby_next|with the GIL');
    expect(await regroupStore(store)).toBe(0);
  });

  it('files a heap corruption of several shared kinds under the one that corrupted the heap alone in the store', () => {
    const meta = (key: string, hits: number): BucketMeta => ({
      version: 1, id: key, signature: key, kind: 'hang', oracle: 'hang', title: key, verdict: 'runtime-bug', origin: { generator: 'g', seed: 's', mutations: [] },
      interpreter: { label: 'CPython 3.13.5t', path: '/p', version: '3.13.5', freeThreaded: true, debug: false, sanitizers: [], configArgs: '' }, modes: ['gil-off'], reproduce: '',
      firstSeen: '2026-12-01T00:00:00Z', lastSeen: '2026-12-01T00:00:00Z', hits, family: { key, label: `label of ${key}`, format: 10, rule: 'heap' },
    });
    const rows = groupFamilies([
      { bucket: 'hang-a', meta: meta('heap|StringIO+array', 3) },
      { bucket: 'hang-b', meta: meta('heap|array', 2) },
      { bucket: 'hang-c', meta: meta('heap|BytesIO+array', 1) },
      { bucket: 'hang-d', meta: meta('heap|BytesIO', 1) },
    ]);
    // StringIO never corrupted the heap alone, array did: array's. BytesIO and array both did: left as it is.
    expect(rows.map((r) => [r.key, r.buckets.map((b) => b.bucket).sort()])).toEqual([
      ['heap|array', ['hang-a', 'hang-b']],
      ['heap|BytesIO+array', ['hang-c']],
      ['heap|BytesIO', ['hang-d']],
    ]);
    const array = rows[0];
    expect(array?.label).toBe('label of heap|array');
    expect(array?.rule).toBe('heap: of the kinds shared, only array corrupted the heap alone in this store');
    expect(array?.joined).toEqual(['heap|StringIO+array']);
  });

  it('interrupted after any number of buckets, a second run gives the same store as one uninterrupted run', async () => {
    const reference = await olderStore();
    await regroupStore(reference);
    const expected = await snapshot(reference.root);
    for (let stopAfter = 0; stopAfter <= 3; stopAfter++) {
      const store = await olderStore();
      // A kill between two bucket writes (each write is atomic: temp file, fsync, rename).
      let writes = 0;
      const interrupted = Object.create(store) as CrashStore;
      interrupted.update = (bucket: string, change: (m: BucketMeta) => BucketMeta) => {
        if (writes++ >= stopAfter) return Promise.reject(new Error('killed'));
        return store.update(bucket, change);
      };
      await regroupStore(interrupted).catch(() => undefined);
      await regroupStore(store);
      // Byte for byte: bucket names, clocks and paths are the same in both stores.
      expect(await snapshot(store.root), `interrupted after ${stopAfter} bucket(s)`).toEqual(expected);
    }
  });
});
