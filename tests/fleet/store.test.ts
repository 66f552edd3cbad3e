// The fleet store on a real redis-server: one writer wins a new bucket, hits are summed once per
// contribution, a slice commits once, altered entries are refused, and directories round-trip.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { chunksOf, connectRedis, ensureConnected, EVAL_BYTES, RedisStore } from '../../src/fleet/store.js';
import { fleetKeyFrom, loadFleetKey, redactUrl } from '../../src/fleet/trust.js';
import { signJob, verifyJob, SLICE_FORMAT, type SlicePayload } from '../../src/fleet/fleet.js';
import { CrashStore, type BucketMeta } from '../../src/store/crashStore.js';
import { startRedis, type TestRedis } from '../../src/fleet/localRedis.js';

const KEY = fleetKeyFrom('k'.repeat(32), 'test');
let redis: TestRedis;
let client: Redis;
let store: RedisStore;

function meta(name: string, hits: number, over: Partial<BucketMeta> = {}): BucketMeta {
  return {
    version: 1, id: name, signature: `crash|${name}`, kind: 'crash', oracle: 'crash', title: `crash ${name}`, verdict: 'runtime-bug', origin: {},
    interpreter: { label: 'CPython 3.13.5t', path: '/x/python3.13t', version: '3.13.5', freeThreaded: true, debug: false, sanitizers: [], configArgs: '' },
    modes: ['gil-off'], reproduce: 'python3.13t -X gil=0 repro.py', firstSeen: '2026-12-02T00:00:00.000Z', lastSeen: '2026-12-02T00:00:00.000Z', hits, ...over,
  };
}

beforeAll(async () => {
  redis = await startRedis({ password: 'p@ss word' });
  client = connectRedis(redis.url);
  await ensureConnected(client, redis.url);
  store = new RedisStore(client, KEY, `t${Date.now()}`);
});

afterAll(async () => {
  await client?.quit();
  await redis?.stop();
});

describe('fleet trust', () => {
  it('signs jobs; an altered, unsigned or foreign-key job is refused by name', () => {
    const payload: SlicePayload = {
      format: SLICE_FORMAT, campaign: 'c', slice: 0, seed: 's', firstProgram: 0, programs: 2, corpusUpTo: 0, modes: ['gil-off'], timeoutMs: 30_000,
      genOptions: {}, oracles: 'all', reproTrials: 1, flakyBelow: 0.5, leakShare: 0.1, spawnShare: 0.1, focusedShare: 0.5, calibrate: true,
    };
    const job = signJob(KEY, payload);
    expect(verifyJob(KEY, job).payload).toEqual(payload);
    expect(verifyJob(KEY, { ...job, payload: { ...payload, seed: 'evil' } }).refused).toMatch(/signature does not match/);
    expect(verifyJob(KEY, { payload }).refused).toBe('unsigned');
    expect(verifyJob(fleetKeyFrom('x'.repeat(32), 'other'), job).refused).toMatch(/signature does not match/);
    expect(verifyJob(KEY, 'junk').refused).toMatch(/not an ftfuzz slice/);
  });

  it('reads the key from the environment or a file, never accepts a short one, and never prints a password', async () => {
    expect(() => loadFleetKey(undefined, {})).toThrow(/FTFUZZ_FLEET_KEY/);
    expect(() => loadFleetKey(undefined, { FTFUZZ_FLEET_KEY: 'short' })).toThrow(/at least 16/);
    const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-key-')), 'key');
    await fs.writeFile(file, `${'z'.repeat(40)}\n`);
    expect(loadFleetKey(file, {}).source).toBe(`file ${file}`);
    expect(() => loadFleetKey(`${file}.missing`, {})).toThrow(/ENOENT/);
    expect(redactUrl('rediss://user:secret@host:6380/1')).toBe('rediss://user:***@host:6380/1');
    expect(redactUrl(redis.url)).not.toContain('ss word');
  });

  it('a server that is not there is a one-line environment error naming it, without the password', async () => {
    const url = 'redis://:hunter2hunter2@127.0.0.1:1';
    const c = connectRedis(url);
    const err = await ensureConnected(c, url, 3000).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/redis redis:\/\/:\*\*\*@127\.0\.0\.1:1\/?: cannot connect/);
    expect((err as Error).message).not.toContain('hunter2');
  });
});

describe('commit chunks', () => {
  it('carry at most 256 KiB and 100 entries each, a larger entry alone, in order', () => {
    const sizes = [100_000, 100_000, 100_000, 300_000, 10, ...Array.from({ length: 150 }, () => 1)];
    const chunks = chunksOf(sizes, (n) => n);
    expect(chunks.flat()).toEqual(sizes);
    expect(chunks.slice(0, 3)).toEqual([[100_000, 100_000], [100_000], [300_000]]);
    for (const c of chunks) expect(c.length === 1 || (c.reduce((a, b) => a + b, 0) <= EVAL_BYTES && c.length <= 100)).toBe(true);
  });
});

describe('fleet store on a real redis-server', () => {
  it('a machine whose key is not the fleet\'s stops at once, in one line, without taking anything', async () => {
    await store.checkKey();
    await store.checkKey();
    const other = new RedisStore(client, fleetKeyFrom('o'.repeat(32), 'file /etc/other-key'), store.prefix);
    await expect(other.checkKey()).rejects.toThrow(/^fleet key \(file \/etc\/other-key\) is not the key this Redis fleet was first used with .*redis-cli DEL \{t\d+\}:keycheck\)$/);
  });

  it('first writer wins a new bucket, every contribution adds its hits once, a slice commits once', async () => {
    const a = store.bucketUpload('crash-aaaaaaaaaaaa', meta('aaaaaaaaaaaa', 2), { 'repro.py': 'print("a")\n' });
    const b = store.bucketUpload('crash-aaaaaaaaaaaa', meta('aaaaaaaaaaaa', 3, { title: 'second writer' }), { 'repro.py': 'print("b")\n' });
    expect(await store.commit({ campaign: 'c1', slice: '0', source: 'c1#0', buckets: [a], corpus: [], result: { n: 0 }, programs: 5 })).toBe(true);
    expect(await store.commit({ campaign: 'c1', slice: '1', source: 'c1#1', buckets: [b], corpus: [], result: { n: 1 }, programs: 5 })).toBe(true);
    // Slice 1 again (a worker that lost its lock and finished anyway): refused, nothing counted twice.
    expect(await store.commit({ campaign: 'c1', slice: '1', source: 'c1#1', buckets: [b], corpus: [], result: { n: 1 }, programs: 5 })).toBe(false);
    const { bucket } = await store.readBucket('crash-aaaaaaaaaaaa');
    expect(bucket?.meta.hits).toBe(5);
    expect(bucket?.meta.title).toBe('crash aaaaaaaaaaaa');
    expect(bucket?.files['repro.py']).toBe('print("a")\n');
    expect(bucket?.createdBy).toBe('c1#0');
    expect(await store.totals('c1')).toEqual({ slices: 2, programs: 10, executions: 0, findings: 0 });
    expect([...(await store.sliceResults('c1')).keys()].sort()).toEqual(['0', '1']);
  });

  it('refuses a bucket or corpus entry altered in redis, and says which', async () => {
    await store.commit({ source: 'x', buckets: [store.bucketUpload('crash-bbbbbbbbbbbb', meta('bbbbbbbbbbbb', 1), { 'repro.py': 'print(1)\n' })], corpus: [store.corpusUpload('print("corpus")\n')] });
    await client.hset(`{${store.prefix}}:bucket:crash-bbbbbbbbbbbb`, 'files', JSON.stringify({ 'repro.py': 'import os; os.system("evil")\n' }));
    expect((await store.readBucket('crash-bbbbbbbbbbbb')).error).toMatch(/crash-bbbbbbbbbbbb: signature does not match the fleet key/);
    const [digest] = await client.lrange(`{${store.prefix}}:corpus:order`, 0, 0);
    await client.hset(`{${store.prefix}}:corpus`, digest as string, JSON.stringify({ source: 'import os\n', sig: 'f'.repeat(64) }));
    const corpus = await store.corpusEntries();
    expect(corpus.entries).toEqual([]);
    expect(corpus.errors[0]).toMatch(/signature does not match/);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-sync-'));
    const out = await store.exportTo(path.join(dir, 'crashes'), path.join(dir, 'corpus'));
    expect(out.errors.some((e) => e.includes('crash-bbbbbbbbbbbb'))).toBe(true);
    await expect(fs.access(path.join(dir, 'crashes', 'crash-bbbbbbbbbbbb'))).rejects.toThrow();
    await client.srem(`{${store.prefix}}:buckets`, 'crash-bbbbbbbbbbbb');
  });

  it('counts only signed contributions, each for the bucket and writer it was signed for', async () => {
    const name = 'crash-dddddddddddd';
    await store.commit({ source: 'w1', buckets: [store.bucketUpload(name, meta('dddddddddddd', 2), { 'repro.py': 'print(1)\n' })], corpus: [] });
    expect((await store.readBucket(name)).bucket?.meta.hits).toBe(2);
    const key = `{${store.prefix}}:hits:${name}`;
    // Written without the key: a huge hit count and another verdict.
    await client.hset(key, 'forger', JSON.stringify({ hits: 1000, lastSeen: '2030-01-01T00:00:00.000Z', modes: ['gil-on'], verdict: 'generator-bug' }));
    // A real contribution copied under another writer's name, and one altered after signing.
    const signed = JSON.parse((await client.hget(key, 'w1')) as string) as Record<string, unknown>;
    await client.hset(key, 'w2', JSON.stringify(signed));
    await client.hset(key, 'w3', JSON.stringify({ ...signed, hits: 500 }));
    const b = (await store.readBucket(name)).bucket;
    expect(Object.keys(b?.contributions ?? {})).toEqual(['w1']);
    expect(b?.meta.hits).toBe(2);
    expect(b?.meta.verdict).toBe('runtime-bug');
    await client.srem(`{${store.prefix}}:buckets`, name);
  });

  it('a forged first write under a bucket name or a corpus digest does not keep the real one out', async () => {
    const name = 'crash-eeeeeeeeeeee';
    await client.hset(`{${store.prefix}}:bucket:${name}`, 'meta', JSON.stringify(meta('eeeeeeeeeeee', 999)), 'files', '{}', 'sig', 'f'.repeat(64));
    const source = 'print("real corpus")\n';
    const real = store.corpusUpload(source);
    await client.hset(`{${store.prefix}}:corpus`, real.digest, JSON.stringify({ source: 'import os\n', sig: 'f'.repeat(64) }));
    await store.commit({ source: 'w1', buckets: [store.bucketUpload(name, meta('eeeeeeeeeeee', 3), { 'repro.py': 'print(3)\n' })], corpus: [real] });
    const b = await store.readBucket(name);
    expect(b.error).toBeUndefined();
    expect(b.bucket?.meta.hits).toBe(3);
    expect(b.bucket?.files['repro.py']).toBe('print(3)\n');
    expect(b.bucket?.createdBy).toBe('w1');
    expect(await store.bucketNames()).toContain(name);
    const corpus = await store.corpusEntries();
    expect(corpus.entries.filter((e) => e.digest === real.digest).map((e) => e.source)).toEqual([source]);
    await client.srem(`{${store.prefix}}:buckets`, name);
  });

  it('never uses a bucket name from redis that ftfuzz would not make (a path, another store\'s bucket)', async () => {
    const evil = '../../outside';
    const upload = store.bucketUpload(evil, meta('x', 1), { 'repro.py': 'print("evil")\n' });
    await store.commit({ source: 'forger', buckets: [upload], corpus: [] });
    expect(await store.bucketNames()).not.toContain(evil);
    const listed = await store.listBuckets();
    expect(listed.errors.some((e) => e.includes('"../../outside"') && /not a bucket name/.test(e))).toBe(true);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-sync-'));
    await store.exportTo(path.join(dir, 'a', 'b', 'crashes'), undefined);
    await expect(fs.access(path.join(dir, 'a', 'outside'))).rejects.toThrow();
    expect((await store.bucketMetas()).has(evil)).toBe(false);
    await client.srem(`{${store.prefix}}:buckets`, evil);
  });

  it('sync out then in (twice) counts every hit once, and a directory\'s own new hits are added', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-sync-'));
    const crashes = path.join(dir, 'crashes');
    const out = await store.exportTo(crashes, path.join(dir, 'corpus'));
    expect(out.buckets).toBe(1);
    const local = new CrashStore(crashes);
    expect((await local.read('crash-aaaaaaaaaaaa'))?.hits).toBe(5);
    await store.importFrom(crashes, undefined);
    await store.importFrom(crashes, undefined);
    expect((await store.readBucket('crash-aaaaaaaaaaaa')).bucket?.meta.hits).toBe(5);
    // A local campaign hits it twice more, and finds a new bug.
    await local.update('crash-aaaaaaaaaaaa', (m) => ({ ...m, hits: m.hits + 2 }));
    await store.importFrom(crashes, undefined);
    await store.importFrom(crashes, undefined);
    expect((await store.readBucket('crash-aaaaaaaaaaaa')).bucket?.meta.hits).toBe(7);
    await fs.mkdir(path.join(crashes, 'crash-cccccccccccc'));
    await fs.writeFile(path.join(crashes, 'crash-cccccccccccc', 'repro.py'), 'print("c")\n');
    await fs.writeFile(path.join(crashes, 'crash-cccccccccccc', 'meta.json'), JSON.stringify(meta('cccccccccccc', 4)));
    await store.importFrom(crashes, undefined);
    const c = (await store.readBucket('crash-cccccccccccc')).bucket;
    expect(c?.meta.hits).toBe(4);
    expect(c?.files['repro.py']).toBe('print("c")\n');
  });
});
