// The fleet store on a real redis-server (the integration project: it needs one): one writer wins a new
// bucket, hits are summed once per contribution, a slice commits once, altered, unregistered and revoked
// entries are refused, and directories round-trip. Keys and jobs without a Redis: tests/fleet/trust.test.ts.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { connectRedis, ensureConnected, RedisStore } from '../../src/fleet/store.js';
import { FleetTrust, generateFleetKeys, signerFrom } from '../../src/fleet/trust.js';
import { makeFleetKeys, registerWorkers, type LocalFleetKeys } from '../../src/fleet/keyring.js';
import { CrashStore, type BucketMeta } from '../../src/store/crashStore.js';
import { startRedis, type TestRedis } from '../../src/fleet/localRedis.js';

let redis: TestRedis;
let client: Redis;
/** The coordinator's view of the store (it registers workers and reads everything). */
let store: RedisStore;
/** Registered workers w1 and w2; `rogue` has a key pair nobody registered. */
let w1: RedisStore;
let w2: RedisStore;
let keys: LocalFleetKeys;
const prefix = `t${Date.now()}`;

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
  keys = await makeFleetKeys(await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-keys-')), ['w1', 'w2', 'rogue']);
  store = new RedisStore(client, keys.coordinator.trust, prefix);
  await registerWorkers(store, { ...keys, workers: keys.workers.filter((w) => w.name !== 'rogue') });
  w1 = new RedisStore(client, (keys.workers[0] as LocalFleetKeys['workers'][number]).trust, prefix);
  w2 = new RedisStore(client, (keys.workers[1] as LocalFleetKeys['workers'][number]).trust, prefix);
  await w1.checkFleet();
  await w2.checkFleet();
});

afterAll(async () => {
  await client?.quit();
  await redis?.stop();
});

describe('fleet store on a real redis-server', () => {
  it('a machine whose key the fleet does not trust stops at once, in one line, without taking anything', async () => {
    await store.checkFleet();
    await w1.checkFleet();
    const rogue = keys.workers[2] as LocalFleetKeys['workers'][number];
    await expect(new RedisStore(client, rogue.trust, prefix).checkFleet()).rejects.toThrow(new RegExp(`^this machine's fleet key ${rogue.trust.me.id} \\(file .*rogue.key\\) is not registered with this fleet \\(or was revoked\\): on the coordinator's machine run ftfuzz fleet register`));
    // A worker given another fleet's coordinator key, and a worker key used without --coordinator-key (it takes itself for the coordinator).
    const stranger = signerFrom(generateFleetKeys().privatePem, 'stranger');
    await expect(new RedisStore(client, new FleetTrust(w1.trust.me, stranger.publicKey), prefix).checkFleet()).rejects.toThrow(/^the coordinator key this machine trusts \([0-9a-f]{16}, stranger\) is not this Redis fleet's .*pass the fleet coordinator's public key with --coordinator-key FILE.pub/);
    await expect(new RedisStore(client, new FleetTrust(w1.trust.me, w1.trust.me.publicKey), prefix).checkFleet()).rejects.toThrow(/a worker's key cannot coordinate/);
    // A worker on a Redis no coordinator has used.
    await expect(new RedisStore(client, w1.trust, `${prefix}-empty`).checkFleet()).rejects.toThrow(/^this Redis has no fleet yet/);
    // A registration written into redis without the coordinator's key is not one.
    await client.hset(`{${prefix}}:workers`, rogue.trust.me.id, JSON.stringify({ name: 'rogue', publicPem: rogue.trust.me.publicKey.pem, registered: '2026-01-01T00:00:00.000Z', sig: 'A'.repeat(86) + '==' }));
    await expect(new RedisStore(client, rogue.trust, prefix).checkFleet()).rejects.toThrow(/is not registered with this fleet/);
    const listed = await store.registry.list();
    expect(listed.workers.map((w) => w.name)).toEqual(['w1', 'w2']);
    expect(listed.errors).toEqual([expect.stringMatching(/not registered by this fleet's coordinator key/)]);
    await client.hdel(`{${prefix}}:workers`, rogue.trust.me.id);
    // Only the coordinator registers.
    await expect(w1.registry.register('rogue', rogue.trust.me.publicKey)).rejects.toThrow(/registering a worker needs the coordinator's key/);
  });

  it('first writer wins a new bucket, every contribution adds its hits once, a slice commits once', async () => {
    const a = w1.bucketUpload('crash-aaaaaaaaaaaa', meta('aaaaaaaaaaaa', 2), { 'repro.py': 'print("a")\n' });
    const b = w2.bucketUpload('crash-aaaaaaaaaaaa', meta('aaaaaaaaaaaa', 3, { title: 'second writer' }), { 'repro.py': 'print("b")\n' });
    expect(await w1.commit({ campaign: 'c1', slice: '0', source: 'c1#0', buckets: [a], corpus: [], result: { n: 0 }, programs: 5 })).toBe(true);
    expect(await w2.commit({ campaign: 'c1', slice: '1', source: 'c1#1', buckets: [b], corpus: [], result: { n: 1 }, programs: 5 })).toBe(true);
    // Slice 1 again (a worker that lost its lock and finished anyway): refused, nothing counted twice.
    expect(await w1.commit({ campaign: 'c1', slice: '1', source: 'c1#1', buckets: [w1.bucketUpload('crash-aaaaaaaaaaaa', meta('aaaaaaaaaaaa', 3), {})], corpus: [], result: { n: 1 }, programs: 5 })).toBe(false);
    const { bucket } = await store.readBucket('crash-aaaaaaaaaaaa');
    expect(bucket?.meta.hits).toBe(5);
    expect(bucket?.meta.title).toBe('crash aaaaaaaaaaaa');
    expect(bucket?.files['repro.py']).toBe('print("a")\n');
    expect(bucket?.createdBy).toBe('c1#0');
    expect(bucket?.signer).toBe(`worker w1 (${w1.trust.me.id})`);
    expect(await store.totals('c1')).toEqual({ slices: 2, programs: 10, executions: 0, findings: 0 });
    expect(await store.sliceResults('c1')).toEqual(new Map([['0', { n: 0 }], ['1', { n: 1 }]]));
  });

  it('a slice result written without a key neither stops the slice nor counts; a real one is never replaced', async () => {
    await client.hset(`{${prefix}}:slices:c2`, '0', JSON.stringify({ result: { programs: 1e6 }, signer: w1.trust.me.id, sig: 'A'.repeat(86) + '==' }));
    expect(await w2.sliceDone('c2', '0')).toBe(false);
    expect((await store.sliceResults('c2')).size).toBe(0);
    expect(await w2.commit({ campaign: 'c2', slice: '0', source: 'c2#0', buckets: [], corpus: [], result: { programs: 4 }, programs: 4 })).toBe(true);
    expect(await store.sliceResults('c2')).toEqual(new Map([['0', { programs: 4 }]]));
    expect(await w1.sliceDone('c2', '0')).toBe(true);
    expect(await w1.commit({ campaign: 'c2', slice: '0', source: 'c2#0', buckets: [], corpus: [], result: { programs: 9 }, programs: 9 })).toBe(false);
    expect(await store.sliceResults('c2')).toEqual(new Map([['0', { programs: 4 }]]));
  });

  it('refuses a bucket or corpus entry altered in redis, and says which', async () => {
    await w1.commit({ source: 'x', buckets: [w1.bucketUpload('crash-bbbbbbbbbbbb', meta('bbbbbbbbbbbb', 1), { 'repro.py': 'print(1)\n' })], corpus: [w1.corpusUpload('print("corpus")\n')] });
    await client.hset(`{${store.prefix}}:bucket:crash-bbbbbbbbbbbb`, 'files', JSON.stringify({ 'repro.py': 'import os; os.system("evil")\n' }));
    expect((await store.readBucket('crash-bbbbbbbbbbbb')).error).toBe(`bucket crash-bbbbbbbbbbbb: its signature does not verify with worker w1 (${w1.trust.me.id})'s key (altered in redis); not used`);
    const [digest] = await client.lrange(`{${store.prefix}}:corpus:order`, 0, 0);
    await client.hset(`{${store.prefix}}:corpus`, digest as string, JSON.stringify({ source: 'import os\n', sig: 'f'.repeat(64) }));
    const corpus = await w2.corpusEntries();
    expect(corpus.entries).toEqual([]);
    expect(corpus.errors[0]).toMatch(/names no signer key/);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-sync-'));
    const out = await store.exportTo(path.join(dir, 'crashes'), path.join(dir, 'corpus'));
    expect(out.errors.some((e) => e.includes('crash-bbbbbbbbbbbb'))).toBe(true);
    await expect(fs.access(path.join(dir, 'crashes', 'crash-bbbbbbbbbbbb'))).rejects.toThrow();
    await client.srem(`{${store.prefix}}:buckets`, 'crash-bbbbbbbbbbbb');
  });

  it('counts only signed contributions, each for the bucket and writer it was signed for', async () => {
    const name = 'crash-dddddddddddd';
    await w1.commit({ source: 'w1', buckets: [w1.bucketUpload(name, meta('dddddddddddd', 2), { 'repro.py': 'print(1)\n' })], corpus: [] });
    expect((await store.readBucket(name)).bucket?.meta.hits).toBe(2);
    const key = `{${store.prefix}}:hits:${name}`;
    // Written without the key: a huge hit count and another verdict.
    await client.hset(key, 'forger', JSON.stringify({ hits: 1000, lastSeen: '2030-01-01T00:00:00.000Z', modes: ['gil-on'], verdict: 'generator-bug' }));
    // A real contribution copied under another writer's name, and one altered after signing.
    const signed = JSON.parse((await client.hget(key, 'w1')) as string) as Record<string, unknown>;
    await client.hset(key, 'w2', JSON.stringify(signed));
    await client.hset(key, 'w3', JSON.stringify({ ...signed, hits: 500 }));
    // Signed with a key nobody registered (a machine that has Redis access and made itself a key pair).
    const rogue = new RedisStore(client, (keys.workers[2] as LocalFleetKeys['workers'][number]).trust, prefix);
    await rogue.commit({ source: 'rogue', buckets: [{ name, contribution: JSON.stringify({ hits: 700, lastSeen: '2030-01-01T00:00:00.000Z', modes: ['gil-on'], verdict: 'flaky' }) }], corpus: [] });
    expect(JSON.parse((await client.hget(key, 'rogue')) as string)).toMatchObject({ hits: 700, signer: rogue.trust.me.id });
    const b = (await store.readBucket(name)).bucket;
    expect(Object.keys(b?.contributions ?? {})).toEqual(['w1']);
    expect(b?.meta.hits).toBe(2);
    expect(b?.meta.verdict).toBe('runtime-bug');
    await client.srem(`{${store.prefix}}:buckets`, name);
  });

  it('a revoked worker\'s entries stop counting, for every reader within the registry\'s refresh', async () => {
    const name = 'crash-ffffffffffff';
    await w1.commit({ source: 'w1', buckets: [w1.bucketUpload(name, meta('ffffffffffff', 2), { 'repro.py': 'print(2)\n' })], corpus: [] });
    await w2.commit({ source: 'w2', buckets: [{ name, contribution: JSON.stringify({ hits: 3, lastSeen: '2026-12-03T00:00:00.000Z', modes: ['gil-off'], verdict: 'runtime-bug' }) }], corpus: [] });
    const reader = new RedisStore(client, w1.trust, prefix);
    expect((await reader.readBucket(name)).bucket?.meta.hits).toBe(5);
    expect((await store.registry.revoke('w2')).map((w) => w.name)).toEqual(['w2']);
    expect((await store.readBucket(name)).bucket?.meta.hits).toBe(2);
    // Another reader trusts what it read until the registry is read again (at most REGISTRY_TTL_MS later).
    await reader.registry.refresh();
    expect((await reader.readBucket(name)).bucket?.meta.hits).toBe(2);
    await expect(w2.checkFleet()).rejects.toThrow(/is not registered with this fleet \(or was revoked\)/);
    await store.registry.register('w2', w2.trust.me.publicKey);
    expect((await store.readBucket(name)).bucket?.meta.hits).toBe(5);
    await client.srem(`{${store.prefix}}:buckets`, name);
  });

  it('a forged first write under a bucket name or a corpus digest does not keep the real one out', async () => {
    const name = 'crash-eeeeeeeeeeee';
    await client.hset(`{${store.prefix}}:bucket:${name}`, 'meta', JSON.stringify(meta('eeeeeeeeeeee', 999)), 'files', '{}', 'sig', 'f'.repeat(64));
    const source = 'print("real corpus")\n';
    const real = w1.corpusUpload(source);
    await client.hset(`{${store.prefix}}:corpus`, real.digest, JSON.stringify({ source: 'import os\n', sig: 'f'.repeat(64) }));
    await w1.commit({ source: 'w1', buckets: [w1.bucketUpload(name, meta('eeeeeeeeeeee', 3), { 'repro.py': 'print(3)\n' })], corpus: [real] });
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
    const upload = w1.bucketUpload(evil, meta('x', 1), { 'repro.py': 'print("evil")\n' });
    await w1.commit({ source: 'forger', buckets: [upload], corpus: [] });
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
