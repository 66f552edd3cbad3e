// Fleet campaigns: one campaign across many machines, on Redis (the shared store, fleet/store.ts) and
// BullMQ (the queue). The coordinator (`ftfuzz fuzz --redis URL`) puts the campaign on the queue as
// deterministic slices — the campaign seed, the slice index, a program range (--runs) or a time budget
// (--duration), the generator options and how much of the shared corpus the slice may mutate — and
// shows the fleet's progress. Workers (`ftfuzz worker --redis URL`) take slices, run them with their own
// interpreters through the ordinary campaign (campaign/fuzz.ts) into a scratch directory, and commit the
// slice's buckets, hits and corpus programs in one atomic script, once per slice. A slice whose worker
// died goes back to the queue when its lock expires (BullMQ's stalled-job check) and is run again; if
// the first run had committed, the second one's commit is refused, so a slice counts once.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { runCampaign, type CampaignStats } from '../campaign/fuzz.js';
import type { GenOptions } from '../generators/scenario.js';
import { selectOracles } from '../oracles/index.js';
import { createExecutor } from '../runtime/forkServerExecutor.js';
import { CrashStore, type BucketMeta } from '../store/crashStore.js';
import { writeFileAtomic } from '../atomicWrite.js';
import type { GilMode, Target } from '../types.js';
import type { Executor } from '../runtime/executor.js';
import { contributionOf, readBucketFiles, type BucketUpload, type CorpusUpload, type RedisStore } from './store.js';
import type { FleetKey } from './trust.js';

export const QUEUE = 'slices';
export const SLICE_FORMAT = 1;

/** What a slice is: everything a worker needs to run it, signed by the coordinator. */
export interface SlicePayload {
  format: number;
  campaign: string;
  slice: number;
  seed: string;
  /** Program range (--runs campaigns): programs firstProgram … firstProgram + programs - 1 of the seed. */
  firstProgram?: number;
  programs?: number;
  /** Time budget (--duration campaigns), and the campaign's end: a slice taken after it does nothing. */
  budgetMs?: number;
  deadline?: string;
  /** The slice mutates the first corpusUpTo programs of the shared corpus (its order list). */
  corpusUpTo: number;
  modes: GilMode[];
  timeoutMs: number;
  genOptions: Partial<GenOptions>;
  oracles: string;
  reproTrials: number;
  flakyBelow: number;
  leakShare: number;
  spawnShare: number;
  focusedShare: number;
  /** Share of programs made by mutating a corpus program (default: the campaign's). */
  mutateShare?: number;
  calibrate: boolean;
}

export interface SignedJob {
  payload: SlicePayload;
  sig: string;
}

export interface SliceResult {
  campaign: string;
  slice: number;
  worker: string;
  targets: string[];
  programs: number;
  executions: number;
  findings: number;
  /** Hits of this slice per bucket (committed once). */
  hits: Record<string, number>;
  /** Buckets new to the fleet when this slice found them. */
  newBuckets: string[];
  corpusAdded: number;
  expired?: boolean;
  /** Wall time of the slice's campaign, and what coordination cost around it (ms). */
  campaignMs: number;
  overhead: { prepareMs: number; commitMs: number };
  /** False when another run of the slice had committed first (this one counted nothing). */
  committed: boolean;
}

export function signJob(key: FleetKey, payload: SlicePayload): SignedJob {
  return { payload, sig: key.sign({ kind: 'ftfuzz-slice', payload }) };
}

/** The payload of a job whose signature matches the fleet key, or why it is refused. */
export function verifyJob(key: FleetKey, data: unknown): { payload?: SlicePayload; refused?: string } {
  const d = data as Partial<SignedJob> | null;
  if (!d || typeof d !== 'object' || typeof d.payload !== 'object' || d.payload === null) return { refused: 'not an ftfuzz slice (no payload)' };
  if (typeof d.sig !== 'string') return { refused: 'unsigned' };
  if (!key.verify({ kind: 'ftfuzz-slice', payload: d.payload }, d.sig)) return { refused: 'signature does not match the fleet key (forged or altered, or signed with another key)' };
  if (d.payload.format !== SLICE_FORMAT) return { refused: `slice format ${String(d.payload.format)}; this ftfuzz reads ${SLICE_FORMAT} (upgrade the older side)` };
  return { payload: d.payload };
}

export function jobId(campaign: string, slice: number): string {
  return `${campaign}-${slice}`;
}

export function bullPrefix(store: RedisStore): string {
  return `${store.prefix}:bull`;
}

/** Marks a bucket the slice knew from the store at its start: its hits are uploaded, its files not. */
const STUB = '.fleet-known';

export interface WorkerOptions {
  store: RedisStore;
  /** A connection for BullMQ's blocking commands (not shared with the store). */
  connection: Redis;
  key: FleetKey;
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
  const budget = payload.deadline ? Math.min(payload.budgetMs ?? Infinity, Date.parse(payload.deadline) - Date.now()) : payload.budgetMs;
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
    const executor = o.executor ?? createExecutor();
    let stats: CampaignStats;
    try {
      stats = await runCampaign({
        targets: o.targets, modes: payload.modes, seed: payload.seed, jobs: o.jobs, timeoutMs: payload.timeoutMs, crashDir, corpusDir,
        ...(payload.programs !== undefined ? { firstProgram: payload.firstProgram ?? 0, maxPrograms: payload.programs } : { durationMs: budget }),
        genOptions: payload.genOptions, oracles: selectOracles(payload.oracles), reproTrials: payload.reproTrials, flakyBelow: payload.flakyBelow,
        leakShare: payload.leakShare, spawnShare: payload.spawnShare, focusedShare: payload.focusedShare, mutateShare: payload.mutateShare, calibrate: payload.calibrate,
        executor, signal: o.signal, onProgress, progressEveryMs: 2000,
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
      hits, newBuckets, corpusAdded: corpus.length, campaignMs, overhead: { prepareMs, commitMs: 0 }, committed: false,
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
    o.log(`slice ${source}: ${payload.programs !== undefined ? `programs ${payload.firstProgram ?? 0}..${(payload.firstProgram ?? 0) + payload.programs - 1}` : `${Math.round((payload.budgetMs ?? 0) / 1000)} s`} of seed ${payload.seed}`);
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
      const { payload, refused: why } = verifyJob(o.key, job.data);
      if (!payload) {
        refused += 1;
        o.log(`refused job ${job.id ?? '?'}: ${why}; not run`);
        throw new UnrecoverableError(`refused by ${os.hostname()}: ${why}`);
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
  worker.on('error', () => undefined); // reconnects are retried; a lost server is waited for
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

export interface CoordinatorOptions {
  store: RedisStore;
  connection: Redis;
  key: FleetKey;
  seed: string;
  runs?: number;
  durationMs?: number;
  /** Programs per slice (--runs campaigns). */
  sliceRuns: number;
  /** Time budget per slice (--duration campaigns). */
  sliceMs: number;
  plan: Omit<SlicePayload, 'format' | 'campaign' | 'slice' | 'seed' | 'firstProgram' | 'programs' | 'budgetMs' | 'deadline' | 'corpusUpTo'>;
  log: (line: string) => void;
  progressEveryMs: number;
  signal?: AbortSignal;
}

export interface FleetSummary {
  campaign: string;
  slices: number;
  slicesDone: number;
  programs: number;
  executions: number;
  findings: number;
  /** Buckets this campaign hit, with its hits on each, and which it created. */
  buckets: { bucket: string; hits: number; created: boolean; title: string; kind: string }[];
  refused: string[];
  failed: string[];
  elapsedMs: number;
  stoppedBy: 'done' | 'signal';
}

/** `ftfuzz fuzz --redis`: enqueue the slices, show progress, summarize when every slice ran. */
export async function runCoordinator(o: CoordinatorOptions): Promise<FleetSummary> {
  const started = Date.now();
  const queue = new Queue(QUEUE, { connection: o.connection, prefix: bullPrefix(o.store) });
  queue.on('error', () => undefined);
  const campaign = o.seed;
  const deadline = o.durationMs !== undefined ? new Date(started + o.durationMs).toISOString() : undefined;
  await o.store.client.hset(o.store.campaignKey(campaign), 'plan', JSON.stringify({ ...o.plan, runs: o.runs, durationMs: o.durationMs, sliceRuns: o.sliceRuns, sliceMs: o.sliceMs }), 'started', new Date(started).toISOString());
  const enqueued: number[] = [];
  const add = async (slice: number, extra: Partial<SlicePayload>) => {
    const payload: SlicePayload = { format: SLICE_FORMAT, campaign, slice, seed: o.seed, corpusUpTo: await o.store.corpusLength(), ...o.plan, ...extra };
    await queue.add('slice', signJob(o.key, payload), { jobId: jobId(campaign, slice), attempts: 3, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: 1000, removeOnFail: 1000 });
    enqueued.push(slice);
  };
  const refused = new Set<string>();
  const failed = new Map<number, string>();
  const watchFailures = async () => {
    for (const job of await queue.getFailed(0, 200)) {
      const reason = job.failedReason ?? '';
      // Refused jobs that claim this campaign, or were refused while it ran (a forger picks any name).
      const claimed = (job.data as Partial<SignedJob> | null)?.payload?.campaign;
      if (reason.startsWith('refused')) {
        if (claimed === campaign || (job.finishedOn ?? 0) >= started) refused.add(`job ${job.id ?? '?'}: ${reason}`);
      }
      else {
        const slice = (job.data as Partial<SignedJob>)?.payload?.slice;
        const mine = (job.data as Partial<SignedJob>)?.payload?.campaign === campaign;
        if (mine && typeof slice === 'number' && job.attemptsMade >= (job.opts.attempts ?? 1) && !(await o.store.sliceDone(campaign, String(slice)))) failed.set(slice, reason);
      }
    }
  };
  const aborted = () => o.signal?.aborted === true;
  let lastProgress = 0;
  const progress = async (force = false) => {
    if (!force && Date.now() - lastProgress < o.progressEveryMs) return;
    lastProgress = Date.now();
    const [t, counts, workers] = await Promise.all([o.store.totals(campaign), queue.getJobCounts('active', 'waiting', 'failed'), queue.getWorkersCount().catch(() => -1)]);
    let live = 0;
    for (const job of await queue.getActive()) {
      const p = job.progress as { programs?: number } | number;
      if (typeof p === 'object' && p && typeof p.programs === 'number') live += p.programs;
    }
    const total = o.runs !== undefined ? String(Math.ceil(o.runs / o.sliceRuns)) : '?';
    o.log(`fleet ${campaign}: ${Math.round((Date.now() - started) / 1000)} s, slices ${t.slices}/${total} done (${counts.active ?? 0} running, ${counts.waiting ?? 0} waiting), workers ${workers < 0 ? '?' : workers}, programs ${t.programs + live} (${t.programs} committed), executions ${t.executions}, findings ${t.findings}`);
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    if (o.runs !== undefined) {
      const n = Math.ceil(o.runs / o.sliceRuns);
      for (let i = 0; i < n; i++) {
        if (await o.store.sliceDone(campaign, String(i))) continue;
        await add(i, { firstProgram: i * o.sliceRuns, programs: Math.min(o.sliceRuns, o.runs - i * o.sliceRuns) });
      }
      o.log(`fleet ${campaign}: ${n} slice(s) of ${o.sliceRuns} program(s) on the queue (${n - enqueued.length} committed already)`);
      for (;;) {
        if (aborted()) break;
        await watchFailures();
        const done = (await o.store.totals(campaign)).slices;
        if (done + failed.size >= n) break;
        await progress();
        await sleep(500);
      }
    } else {
      const end = started + (o.durationMs ?? 0);
      let slice = 0;
      const prior = await o.store.sliceResults(campaign);
      while (prior.has(String(slice))) slice += 1;
      while (!aborted() && Date.now() < end - 1000) {
        const counts = await queue.getJobCounts('waiting');
        const workers = Math.max(1, await queue.getWorkersCount().catch(() => 1));
        if ((counts.waiting ?? 0) < workers) {
          await add(slice, { budgetMs: Math.min(o.sliceMs, end - Date.now()), deadline });
          slice += 1;
        }
        await watchFailures();
        await progress();
        await sleep(500);
      }
      // The campaign's time is up: slices nobody took are dropped; the running ones end by the deadline.
      for (const job of await queue.getWaiting()) if ((job.data as Partial<SignedJob>)?.payload?.campaign === campaign) await job.remove().catch(() => undefined);
      for (;;) {
        if (aborted()) break;
        const active = (await queue.getActive()).filter((j) => (j.data as Partial<SignedJob>)?.payload?.campaign === campaign);
        if (!active.length) break;
        await progress();
        await sleep(500);
      }
      await watchFailures();
    }
    await progress(true);
  } finally {
    await queue.close();
  }
  const totals = await o.store.totals(campaign);
  const mine = `${campaign}#`;
  const buckets: FleetSummary['buckets'] = [];
  for (const name of await o.store.bucketNames()) {
    const { bucket } = await o.store.readBucket(name);
    if (!bucket) continue;
    const hits = Object.entries(bucket.contributions).filter(([s]) => s.startsWith(mine)).reduce((a, [, c]) => a + c.hits, 0);
    const created = bucket.createdBy.startsWith(mine);
    if (hits > 0 || created) buckets.push({ bucket: name, hits, created, title: bucket.meta.title, kind: bucket.meta.kind });
  }
  return {
    campaign, slices: o.runs !== undefined ? Math.ceil(o.runs / o.sliceRuns) : totals.slices, slicesDone: totals.slices, programs: totals.programs, executions: totals.executions, findings: totals.findings,
    buckets, refused: [...refused], failed: [...failed].map(([s, r]) => `slice ${s}: ${r}`), elapsedMs: Date.now() - started, stoppedBy: aborted() ? 'signal' : 'done',
  };
}

export function formatFleetSummary(s: FleetSummary): string {
  const lines = [
    `fleet campaign ${s.campaign}: ${s.slicesDone}/${s.slices} slice(s), ${s.programs} programs, ${s.executions} executions, ${s.findings} findings in ${(s.elapsedMs / 1000).toFixed(0)} s${s.stoppedBy === 'signal' ? ' (coordinator stopped; slices on the queue go on, rerun the same command to follow them)' : ''}`,
    `${s.buckets.length} bucket(s) hit, ${s.buckets.filter((b) => b.created).length} new:`,
    ...s.buckets.map((b) => `  ${b.created ? 'new  ' : 'known'} ${b.kind.padEnd(12)} ${b.bucket}  ${b.hits} hit(s)  ${b.title.slice(0, 120)}`),
    ...s.failed.map((f) => `failed: ${f}`),
    ...s.refused.map((r) => `refused by a worker: ${r}`),
  ];
  if (s.buckets.length) lines.push('read them with: ftfuzz triage --redis URL, or ftfuzz sync out --redis URL --crashes DIR');
  return lines.join('\n');
}
