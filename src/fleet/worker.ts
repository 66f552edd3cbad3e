// `ftfuzz worker`: take slices from the queue, run each through the ordinary campaign into a scratch
// directory, and commit it once.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { runCampaign, type CampaignStats } from '../campaign/fuzz.js';
import type { Surface } from '../generators/surface/types.js';
import { createExecutor } from '../runtime/forkServerExecutor.js';
import { CrashStore, type BucketMeta } from '../store/crashStore.js';
import { writeFileAtomic } from '../atomicWrite.js';
import type { Target } from '../types.js';
import type { Executor } from '../runtime/executor.js';
import { contributionOf, readBucketFiles, type BucketUpload, type CorpusUpload, type RedisStore } from './store.js';
import type { FleetTrust } from './trust.js';
import { QUEUE, SlicePayload, SliceResult, verifyJob, bullPrefix, onceEach } from './jobs.js';

/** Marks a bucket the slice knew from the store at its start: its hits are uploaded, its files not. */
const STUB = '.fleet-known';

export interface WorkerOptions {
  store: RedisStore;
  /** A connection for BullMQ's blocking commands (not shared with the store). */
  connection: Redis;
  /** Verifies jobs (the coordinator's key); the worker's own key signs what it commits. */
  trust: FleetTrust;
  targets: Target[];
  jobs: number;
  /** A slice's lock: a worker silent this long is dead and its slice goes back to the queue. */
  lockMs?: number;
  log: (line: string) => void;
  /** Stop after this many slices (tests and `--slices`); default: run until closed. */
  maxSlices?: number;
  /** Exit when no slice came for this long (default: wait forever). */
  idleMs?: number;
  signal?: AbortSignal;
  /** Runs the programs of every slice (one fork server for the worker's life, as a local campaign has). */
  executor?: Executor;
  /**
   * Verified corpus sources by digest, and bucket metas by name, kept across the slices one worker runs
   * (runWorker makes one per worker: never shared between workers or Redis prefixes in one process).
   */
  caches?: WorkerCaches;
  /** The C surface of the worker's first interpreter, for slices with surface programs (introspected once, cached). */
  surface?: () => Promise<Surface>;
}

export interface WorkerCaches {
  corpus: Map<string, string>;
  metas: Map<string, BucketMeta>;
}

/** Run one slice into a scratch directory and commit it. */
export async function runSlice(o: WorkerOptions, payload: SlicePayload, onProgress?: (s: CampaignStats) => void): Promise<SliceResult> {
  const worker = `${os.hostname()}:${process.pid}`;
  const base: Omit<SliceResult, 'programs' | 'executions' | 'findings' | 'hits' | 'newBuckets' | 'corpusAdded' | 'campaignMs' | 'overhead' | 'committed'> = {
    campaign: payload.campaign, slice: payload.slice, worker, targets: o.targets.map((t) => t.label),
  };
  const source = `${payload.campaign}#${payload.slice}`;
  const t0 = performance.now();
  const { settings } = payload;
  const budget = payload.deadline ? Math.min(settings.durationMs ?? Infinity, Date.parse(payload.deadline) - Date.now()) : settings.durationMs;
  if (budget !== undefined && budget <= 0) {
    const result: SliceResult = { ...base, programs: 0, executions: 0, findings: 0, hits: {}, newBuckets: [], corpusAdded: 0, expired: true, campaignMs: 0, overhead: { prepareMs: 0, commitMs: 0 }, committed: false };
    result.committed = await o.store.commit({ campaign: payload.campaign, slice: String(payload.slice), source, buckets: [], corpus: [], result });
    return result;
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-slice-'));
  try {
    const crashDir = path.join(dir, 'crashes');
    const corpusDir = path.join(dir, 'corpus');
    await fs.mkdir(corpusDir, { recursive: true });
    // The store's buckets as stubs (meta only, no hits): hits on them count for the slice, and the
    // campaign does not re-measure a bug the fleet already has.
    const caches: WorkerCaches = o.caches ?? { corpus: new Map<string, string>(), metas: new Map<string, BucketMeta>() };
    const known = await o.store.bucketMetas(caches.metas);
    for (const [name, meta] of known) {
      await writeFileAtomic(path.join(crashDir, name, 'meta.json'), `${JSON.stringify({ ...meta, hits: 0 }, null, 2)}\n`);
      await writeFileAtomic(path.join(crashDir, name, STUB), '');
    }
    const { entries, errors } = await o.store.corpusEntries(payload.corpusUpTo, caches.corpus);
    for (const e of errors) o.log(`slice ${source}: ${e}`);
    const snapshot = new Set<string>();
    for (const e of entries) {
      const name = `${e.digest.slice(0, 16)}.py`;
      snapshot.add(name);
      await fs.writeFile(path.join(corpusDir, name), e.source);
    }
    const prepareMs = performance.now() - t0;
    const t1 = performance.now();
    // A surface that cannot be read costs the slice its surface programs, not the slice.
    const surface = settings.surfaceShare && o.surface ? await o.surface().catch((error: unknown) => void o.log(`slice ${source}: ${(error as Error).message}; no surface programs`)) : undefined;
    const executor = o.executor ?? createExecutor();
    let stats: CampaignStats;
    try {
      // The payload's settings as the coordinator resolved them (verifyJob resolved them again), the time
      // budget cut to the campaign's deadline.
      stats = await runCampaign({
        settings: { ...settings, ...(settings.maxPrograms === undefined ? { durationMs: budget } : {}) },
        targets: o.targets, jobs: o.jobs, crashDir, corpusDir, surface, executor, signal: o.signal, onProgress, progressEveryMs: 2000,
      });
    } finally {
      if (!o.executor) await executor.close();
    }
    // A worker told to stop mid-slice commits nothing: the slice goes back to the queue whole.
    if (stats.stoppedBy === 'signal') throw new Error(`slice ${source} interrupted; it goes back to the queue`);
    const campaignMs = performance.now() - t1;
    const t2 = performance.now();
    const local = new CrashStore(crashDir);
    const uploads: BucketUpload[] = [];
    const hits: Record<string, number> = {};
    const newBuckets: string[] = [];
    for (const { bucket, meta } of (await local.list()).buckets) {
      if (meta.hits <= 0) continue;
      hits[bucket] = meta.hits;
      const bdir = path.join(crashDir, bucket);
      const stub = await fs.access(path.join(bdir, STUB)).then(() => true, () => false);
      if (stub) {
        uploads.push({ name: bucket, contribution: JSON.stringify(contributionOf(meta)) });
      } else {
        newBuckets.push(bucket);
        uploads.push(o.store.bucketUpload(bucket, meta, await readBucketFiles(bdir)));
      }
    }
    const corpus: CorpusUpload[] = [];
    for (const n of (await fs.readdir(corpusDir)).filter((n) => n.endsWith('.py') && !snapshot.has(n))) corpus.push(o.store.corpusUpload(await fs.readFile(path.join(corpusDir, n), 'utf8')));
    const result: SliceResult = {
      ...base, programs: stats.programs, executions: stats.executions, findings: Object.values(stats.findingsByKind).reduce((a, b) => a + (b ?? 0), 0),
      hits, newBuckets, corpusAdded: corpus.length, campaignMs,
      ...(stats.surface ? { surface: { programs: stats.surface.programs, pairs: stats.surface.pairs, pairsExercised: stats.surface.pairsExercised } } : {}), overhead: { prepareMs, commitMs: 0 }, committed: false,
    };
    result.committed = await o.store.commit({ campaign: payload.campaign, slice: String(payload.slice), source, buckets: uploads, corpus, result, programs: result.programs, executions: result.executions, findings: result.findings });
    result.overhead.commitMs = performance.now() - t2;
    return result;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}


/** `ftfuzz worker`: take slices from the queue until closed (or maxSlices, or idle). */
export async function runWorker(o: WorkerOptions): Promise<{ slices: number; refused: number }> {
  let slices = 0;
  let refused = 0;
  let lastWork = Date.now();
  let busy = false;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));
  const lockDuration = o.lockMs ?? 30_000;
  const executor = o.executor ?? createExecutor();
  const slice = { ...o, executor, caches: o.caches ?? { corpus: new Map<string, string>(), metas: new Map<string, BucketMeta>() } };
  const take = async (job: Job, payload: SlicePayload, source: string) => {
    if (await o.store.sliceDone(payload.campaign, String(payload.slice))) {
      o.log(`slice ${source}: committed already by another run; skipped`);
      return { campaign: payload.campaign, slice: payload.slice, duplicate: true };
    }
    const s = payload.settings;
    o.log(`slice ${source}: ${s.maxPrograms !== undefined ? `programs ${s.firstProgram}..${s.firstProgram + s.maxPrograms - 1}` : `${Math.round((s.durationMs ?? 0) / 1000)} s`} of seed ${s.seed}`);
    const result = await runSlice(slice, payload, (s) => void job.updateProgress({ programs: s.programs, executions: s.executions, buckets: s.buckets.length }).catch(() => undefined));
    slices += 1;
    o.log(`slice ${source}: ${result.programs} programs, ${result.executions} executions, ${Object.keys(result.hits).length} bucket(s) hit, ${result.newBuckets.length} new${result.committed ? '' : ' (another run committed first: counted once)'}`);
    if (o.maxSlices !== undefined && slices >= o.maxSlices) {
      // Take no further slice: closing waits for this one to be acknowledged.
      void worker.close();
      resolveDone();
    }
    return result;
  };
  const worker = new Worker(
    QUEUE,
    async (job: Job) => {
      const { payload, refused: why } = verifyJob(o.trust, job.data);
      if (!payload) {
        refused += 1;
        o.log(`refused job ${job.id ?? '?'}: ${why}; not run`);
        // Not unrecoverable: the job goes back to the queue (with backoff) for a worker that can run it;
        // one that none can is failed after its attempts, and its coordinator reports it.
        throw new Error(`refused by ${os.hostname()}: ${why}`);
      }
      busy = true;
      try {
        return await take(job, payload, `${payload.campaign}#${payload.slice}`);
      } finally {
        busy = false;
        lastWork = Date.now();
      }
    },
    {
      connection: o.connection, prefix: bullPrefix(o.store), concurrency: 1, lockDuration, stalledInterval: Math.max(1000, Math.floor(lockDuration / 2)), maxStalledCount: 5,
      autorun: true,
    },
  );
  // Reconnects are retried and a lost server is waited for, but the user sees why the worker is idle.
  worker.on('error', onceEach((m) => o.log(`queue error: ${m}`)));
  const idle = o.idleMs !== undefined ? setInterval(() => (!busy && Date.now() - lastWork > (o.idleMs as number) ? resolveDone() : undefined), 500) : undefined;
  const onAbort = () => resolveDone();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await done;
  } finally {
    if (idle) clearInterval(idle);
    o.signal?.removeEventListener('abort', onAbort);
    await worker.close();
    if (!o.executor) await executor.close();
  }
  return { slices, refused };
}
