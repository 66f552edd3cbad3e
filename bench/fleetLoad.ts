// `npm run bench -- fleet-load [--workers 200] [--slices 2000] [--slice-ms 1000]`: what one coordinator and
// one real redis-server do with hundreds of workers. The coordinator is the real one (runCoordinator, a
// --runs campaign of one-program slices); the workers are BullMQ workers in this process, each with its own
// two connections, doing what a worker does around a slice: claim it, verify it, check it was not
// committed, hold and renew its lock while the "campaign" (a sleep of --slice-ms) runs, and commit a small
// synthetic result (a hit on one of a few shared buckets, a corpus program) in the real commit script. So
// the figures are the queue's and the store's, not the programs': coordination per slice (a worker's time
// on a slice outside its sleep, plus the hand-off to its next slice), Redis CPU, lock renewals missed
// (stalled jobs), slices run twice and slices lost.
import { randomBytes } from 'node:crypto';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { bullPrefix, QUEUE, runCoordinator, verifyJob, type SlicePayload } from '../src/fleet/fleet.js';
import { startRedis } from '../src/fleet/localRedis.js';
import { connectRedis, ensureConnected, RedisStore } from '../src/fleet/store.js';
import type { BucketMeta } from '../src/store/crashStore.js';
import { fleetKeyFrom } from '../src/fleet/trust.js';

export interface FleetLoadOptions {
  workers: number;
  slices: number;
  sliceMs: number;
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
}

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
  const key = fleetKeyFrom(randomBytes(32).toString('hex'), 'bench');
  const store = new RedisStore(await connect(), key, `load${Date.now().toString(36)}`);
  await store.checkKey();
  const campaign = `load-${Date.now().toString(36)}`;
  const buckets = Array.from({ length: 8 }, (_, i) => `crash-${i.toString(16).repeat(12)}`);
  const runs = new Map<number, number>();
  const overhead: number[] = [];
  const handoff: number[] = [];
  const workers: Worker[] = [];
  let stalled = 0;
  const events = new QueueEvents(QUEUE, { connection: await connect(true), prefix: bullPrefix(store) });
  events.on('stalled', () => (stalled += 1));
  const cpu0 = await redisCpu(store.client);
  log(`redis ${redis.url}: ${o.workers} workers, ${o.slices} slices of ${o.sliceMs} ms`);
  for (let w = 0; w < o.workers; w++) {
    let lastEnd = 0;
    const worker = new Worker(
      QUEUE,
      async (job: Job) => {
        const t0 = performance.now();
        if (lastEnd) handoff.push(t0 - lastEnd);
        const { payload } = verifyJob(key, job.data) as { payload?: SlicePayload };
        if (!payload) throw new Error('refused: not verified');
        runs.set(payload.slice, (runs.get(payload.slice) ?? 0) + 1);
        if (await store.sliceDone(campaign, String(payload.slice))) return { duplicate: true };
        const t1 = performance.now();
        await new Promise((r) => setTimeout(r, o.sliceMs));
        const t2 = performance.now();
        const bucket = buckets[payload.slice % buckets.length] as string;
        const result = { campaign, slice: payload.slice, worker: `w${w}`, targets: [], programs: 1, executions: 2, findings: 1, hits: { [bucket]: 1 }, newBuckets: [], corpusAdded: 1, campaignMs: o.sliceMs, overhead: { prepareMs: 0, commitMs: 0 }, committed: false };
        await store.commit({
          campaign, slice: String(payload.slice), source: `${campaign}#${payload.slice}`, result, programs: 1, executions: 2, findings: 1,
          buckets: [store.bucketUpload(bucket, meta(bucket), { 'repro.py': `print(${payload.slice % buckets.length})\n` })],
          corpus: [store.corpusUpload(`# synthetic slice ${payload.slice}\nprint(${payload.slice})\n`)],
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
    store, connection: await connect(true), key, seed: campaign, runs: o.slices, sliceRuns: 1, sliceMs: o.sliceMs,
    plan: { modes: ['gil-off'], timeoutMs: 30_000, genOptions: {}, oracles: 'all', reproTrials: 0, flakyBelow: 0.5, leakShare: 0, spawnShare: 0, focusedShare: 0, calibrate: false },
    log: (line) => log(line), progressEveryMs: 10_000,
  });
  const wallMs = performance.now() - started;
  const redisCpuSeconds = (await redisCpu(store.client)) - cpu0;
  await Promise.all(workers.map((w) => w.close()));
  await events.close();
  await new Queue(QUEUE, { connection: await connect(true), prefix: bullPrefix(store) }).close();
  const committed = (await store.totals(campaign)).slices;
  for (const c of connections) await c.quit().catch(() => c.disconnect());
  await redis.stop();
  const o1 = stats(overhead);
  const o2 = stats(handoff);
  return {
    workers: o.workers, slices: o.slices, sliceMs: o.sliceMs, wallMs, committed,
    runTwice: [...runs.values()].filter((n) => n > 1).length, lost: o.slices - committed, stalled, failed: summary.failed,
    overheadMs: o1, handoffMs: o2, share: (o1.mean + o2.mean) / o.sliceMs, redisCpuSeconds,
  };
}
