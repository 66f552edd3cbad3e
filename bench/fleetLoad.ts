// `npm run bench -- fleet-load [--workers 200] [--slices 2000] [--slice-ms 1000]`: what one coordinator and
// one real redis-server do with hundreds of workers. The coordinator is the real one (runCoordinator, a
// --runs campaign of one-program slices); the workers are BullMQ workers in this process, each with its own
// two connections, doing what a worker does around a slice: claim it, verify it, check it was not
// committed, hold and renew its lock while the "campaign" (a sleep of --slice-ms) runs, and commit a small
// synthetic result (a hit on one of a few shared buckets, a corpus program) in the real commit script,
// each worker with its own registered key (it verifies jobs with the coordinator's public key and signs
// what it commits with its own). So
// the figures are the queue's and the store's, not the programs': coordination per slice (a worker's time
// on a slice outside its sleep, plus the hand-off to its next slice), Redis CPU, lock renewals missed
// (stalled jobs), slices run twice and slices lost.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { resolveSettings } from '../src/campaign/settings.js';
import { bullPrefix, QUEUE, runCoordinator, verifyJob, type SlicePayload } from '../src/fleet/fleet.js';
import { startRedis } from '../src/fleet/localRedis.js';
import { connectRedis, contributionOf, ensureConnected, RedisStore } from '../src/fleet/store.js';
import type { BucketMeta } from '../src/store/crashStore.js';
import { makeFleetKeys, registerWorkers } from '../src/fleet/keyring.js';

export interface FleetLoadOptions {
  workers: number;
  slices: number;
  sliceMs: number;
  /**
   * Spread of slice times: each slice sleeps sliceMs x (1 ± jitter), uniform and fixed per slice (mean
   * sliceMs). 0: every slice the same length, so all workers finish in lockstep and commit in one burst.
   */
  jitter?: number;
  log?: (line: string) => void;
}

export interface FleetLoadReport {
  workers: number;
  slices: number;
  sliceMs: number;
  wallMs: number;
  committed: number;
  runTwice: number;
  lost: number;
  stalled: number;
  /** Slices the coordinator reported lost, with why. */
  failed: string[];
  /** Per slice, ms: the worker's time outside its sleep (verify, checks, commit, lock handling), and the hand-off to its next slice. */
  overheadMs: { median: number; p99: number; mean: number };
  handoffMs: { median: number; p99: number; mean: number };
  /** Coordination as a share of slice time: (mean overhead + mean hand-off) / slice time. */
  share: number;
  redisCpuSeconds: number;
  jitter: number;
  /**
   * A worker's own signing and verifying per slice (ms, mean): what each machine of a real fleet spends on
   * its own CPU. Here every simulated worker shares one process, so in a burst each one also waits for the
   * others' (part of overheadMs).
   */
  cryptoMs: number;
}

/** A fixed number in [0, 1) per slice (Knuth's multiplicative hash): the same slice times on every run. */
const spread = (slice: number) => ((slice * 2654435761) % 4294967296) / 4294967296;

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? (s[Math.min(s.length - 1, Math.floor(q * s.length))] as number) : 0);
  return { median: at(0.5), p99: at(0.99), mean: s.length ? s.reduce((a, b) => a + b, 0) / s.length : 0 };
};

function meta(name: string): BucketMeta {
  return {
    version: 1, id: name, signature: `crash|load|${name}`, kind: 'crash', oracle: 'crash', title: `synthetic ${name}`, verdict: 'runtime-bug', origin: {},
    interpreter: { label: 'CPython 3.13.15t', path: '/x/python3.13t', version: '3.13.15', freeThreaded: true, debug: false, sanitizers: [], configArgs: '' },
    modes: ['gil-off'], reproduce: 'python3.13t repro.py', firstSeen: new Date().toISOString(), lastSeen: new Date().toISOString(), hits: 1,
  };
}

async function redisCpu(client: Redis): Promise<number> {
  const info = await client.info('cpu');
  const get = (k: string) => Number(new RegExp(`${k}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return get('used_cpu_sys') + get('used_cpu_user');
}

export async function fleetLoadBenchmark(o: FleetLoadOptions): Promise<FleetLoadReport> {
  const log = o.log ?? (() => undefined);
  const redis = await startRedis();
  const connections: Redis[] = [];
  const connect = async (bullmq = false) => {
    const c = connectRedis(redis.url, bullmq ? { bullmq: true } : {});
    await ensureConnected(c, redis.url);
    connections.push(c);
    return c;
  };
  // Keys with roles, as a real fleet has them: the coordinator's pair, and one registered pair per worker
  // (each worker verifies jobs with the coordinator's public key and signs its commits with its own).
  const keyDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-load-keys-'));
  const keys = await makeFleetKeys(keyDir, Array.from({ length: o.workers }, (_, w) => `w${w}`));
  const prefix = `load${Date.now().toString(36)}`;
  const store = new RedisStore(await connect(), keys.coordinator.trust, prefix);
  await registerWorkers(store, keys);
  const campaign = `load-${Date.now().toString(36)}`;
  const buckets = Array.from({ length: 8 }, (_, i) => `crash-${i.toString(16).repeat(12)}`);
  const runs = new Map<number, number>();
  const overhead: number[] = [];
  const handoff: number[] = [];
  const workers: Worker[] = [];
  let stalled = 0;
  const events = new QueueEvents(QUEUE, { connection: await connect(true), prefix: bullPrefix(store) });
  events.on('stalled', () => (stalled += 1));
  const jitter = o.jitter ?? 0;
  let cryptoMs = 0;
  const timed = <T>(f: () => T): T => {
    const t = performance.now();
    try {
      return f();
    } finally {
      cryptoMs += performance.now() - t;
    }
  };
  const cpu0 = await redisCpu(store.client);
  log(`redis ${redis.url}: ${o.workers} workers, ${o.slices} slices of ${o.sliceMs} ms`);
  for (let w = 0; w < o.workers; w++) {
    let lastEnd = 0;
    const trust = (keys.workers[w] as (typeof keys.workers)[number]).trust;
    const mine = new RedisStore(store.client, trust, prefix);
    const metas = new Map<string, BucketMeta>();
    await mine.checkFleet();
    // Time this worker's signatures and verifications.
    const sign = trust.me.sign.bind(trust.me);
    trust.me.sign = (value) => timed(() => sign(value));
    const verify = trust.verify.bind(trust);
    trust.verify = (signer, value, sig) => timed(() => verify(signer, value, sig));
    const worker = new Worker(
      QUEUE,
      async (job: Job) => {
        const t0 = performance.now();
        if (lastEnd) handoff.push(t0 - lastEnd);
        const { payload } = timed(() => verifyJob(mine.trust, job.data) as { payload?: SlicePayload });
        if (!payload) throw new Error('refused: not verified');
        runs.set(payload.slice, (runs.get(payload.slice) ?? 0) + 1);
        if (await mine.sliceDone(campaign, String(payload.slice))) return { duplicate: true };
        const t1 = performance.now();
        await new Promise((r) => setTimeout(r, o.sliceMs * (1 + jitter * (2 * spread(payload.slice) - 1))));
        const t2 = performance.now();
        const bucket = buckets[payload.slice % buckets.length] as string;
        // As a worker does (worker.ts): the store's buckets are read (new ones only), and a bucket the store
        // has gets this slice's hits alone, its files only when new.
        const known = await mine.bucketMetas(metas);
        const result = { campaign, slice: payload.slice, worker: `w${w}`, targets: [], programs: 1, executions: 2, findings: 1, hits: { [bucket]: 1 }, newBuckets: [], corpusAdded: 1, campaignMs: o.sliceMs, overhead: { prepareMs: 0, commitMs: 0 }, committed: false };
        await mine.commit({
          campaign, slice: String(payload.slice), source: `${campaign}#${payload.slice}`, result, programs: 1, executions: 2, findings: 1,
          buckets: [known.has(bucket) ? { name: bucket, contribution: JSON.stringify(contributionOf(meta(bucket))) } : mine.bucketUpload(bucket, meta(bucket), { 'repro.py': `print(${payload.slice % buckets.length})\n` })],
          corpus: [mine.corpusUpload(`# synthetic slice ${payload.slice}\nprint(${payload.slice})\n`)],
        });
        const t3 = performance.now();
        overhead.push(t1 - t0 + (t3 - t2));
        lastEnd = t3;
        return result;
      },
      { connection: await connect(true), prefix: bullPrefix(store), concurrency: 1, lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 5 },
    );
    worker.on('error', () => undefined);
    workers.push(worker);
  }
  const started = performance.now();
  const summary = await runCoordinator({
    store, connection: await connect(true), trust: store.trust, sliceRuns: 1, sliceMs: o.sliceMs,
    settings: resolveSettings({ seed: campaign, maxPrograms: o.slices, modes: ['gil-off'], reproTrials: 0, leakShare: 0, spawnShare: 0, focusedShare: 0, calibrate: false }),
    log: (line) => log(line), progressEveryMs: 10_000,
  });
  const wallMs = performance.now() - started;
  const redisCpuSeconds = (await redisCpu(store.client)) - cpu0;
  await Promise.all(workers.map((w) => w.close()));
  await events.close();
  await new Queue(QUEUE, { connection: await connect(true), prefix: bullPrefix(store) }).close();
  const committed = (await store.sliceResults(campaign)).size;
  for (const c of connections) await c.quit().catch(() => c.disconnect());
  await redis.stop();
  await fs.rm(keyDir, { recursive: true, force: true });
  const o1 = stats(overhead);
  const o2 = stats(handoff);
  return {
    workers: o.workers, slices: o.slices, sliceMs: o.sliceMs, wallMs, committed,
    runTwice: [...runs.values()].filter((n) => n > 1).length, lost: o.slices - committed, stalled, failed: summary.failed,
    overheadMs: o1, handoffMs: o2, share: (o1.mean + o2.mean) / o.sliceMs, redisCpuSeconds, jitter, cryptoMs: cryptoMs / Math.max(1, overhead.length),
  };
}
