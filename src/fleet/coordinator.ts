// The coordinator (`ftfuzz fuzz --redis URL`): put a campaign on the queue as deterministic slices, and
// follow it to the end.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { type RedisStore } from './store.js';
import type { FleetTrust } from './trust.js';
import { QUEUE, SLICE_ATTEMPTS, SLICE_FORMAT, SlicePayload, SignedJob, SliceResult, signJob, jobId, bullPrefix, onceEach, verifyJob } from './jobs.js';
import { UsageError } from '../errors.js';
import type { CampaignSettings } from '../campaign/settings.js';

export interface CoordinatorOptions {
  store: RedisStore;
  connection: Redis;
  /** The fleet's trust; this machine's key must be the coordinator's (it signs the jobs). */
  trust: FleetTrust;
  /** The campaign's settings (campaign/settings.ts): its seed names the campaign, its budget is cut into slices. */
  settings: CampaignSettings;
  /** Programs per slice (--runs campaigns). */
  sliceRuns: number;
  /** Time budget per slice (--duration campaigns). */
  sliceMs: number;
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
  if (!o.trust.isCoordinator) throw new UsageError(`a fleet campaign's jobs are signed with the coordinator's key, and this machine's key ${o.trust.me.id} (${o.trust.me.source}) is not it (the fleet trusts ${o.trust.coordinator.id}); run the campaign where that key is`);
  const started = Date.now();
  const queue = new Queue(QUEUE, { connection: o.connection, prefix: bullPrefix(o.store) });
  queue.on('error', onceEach((m) => o.log(`queue error: ${m}`)));
  const campaign = o.settings.seed;
  // One budget: program-range slices (--runs) or time slices (--duration).
  const runs = o.settings.durationMs === undefined ? o.settings.maxPrograms : undefined;
  const deadline = o.settings.durationMs !== undefined ? new Date(started + o.settings.durationMs).toISOString() : undefined;
  await o.store.client.hset(o.store.campaignKey(campaign), 'plan', JSON.stringify({ ...o.settings, sliceRuns: o.sliceRuns, sliceMs: o.sliceMs }), 'started', new Date(started).toISOString());
  const enqueued: number[] = [];
  const add = async (slice: number, budget: Pick<CampaignSettings, 'firstProgram' | 'maxPrograms' | 'durationMs'>, sliceDeadline?: string) => {
    const payload: SlicePayload = { format: SLICE_FORMAT, campaign, slice, settings: { ...o.settings, ...budget }, corpusUpTo: await o.store.corpusLength(), ...(sliceDeadline ? { deadline: sliceDeadline } : {}) };
    const id = jobId(campaign, slice);
    // A job of an earlier run of this campaign that failed (or completed without committing) keeps its
    // id: BullMQ would ignore the new one, and the slice would never run again.
    const stale = await queue.getJob(id);
    if (stale && ((await stale.isFailed()) || (await stale.isCompleted()))) await stale.remove();
    // A refusal (a worker on an older format) or a transient failure goes back to the queue, with backoff.
    await queue.add('slice', signJob(o.trust.me, payload), { jobId: id, attempts: SLICE_ATTEMPTS, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: 1000, removeOnFail: 1000 });
    enqueued.push(slice);
  };
  const refused = new Set<string>();
  const failed = new Map<number, string>();
  const watchFailures = async () => {
    for (const job of await queue.getFailed(0, 200)) {
      const reason = job.failedReason ?? '';
      // Only a job this coordinator's key signed names a slice of it: a forged failed job (any payload
      // can be written to the queue) is listed as refused, never taken for a lost slice.
      const { payload } = verifyJob(o.trust, job.data);
      const claimed = (job.data as Partial<SignedJob> | null)?.payload?.campaign;
      if (reason.startsWith('refused') && (claimed === campaign || (job.finishedOn ?? 0) >= started)) refused.add(`job ${job.id ?? '?'}: ${reason}`);
      if (payload?.campaign === campaign && job.attemptsMade >= (job.opts.attempts ?? 1) && !(await o.store.sliceDone(campaign, String(payload.slice)))) failed.set(payload.slice, `${reason} (after ${job.attemptsMade} attempt(s))`);
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
    const total = runs !== undefined ? String(Math.ceil(runs / o.sliceRuns)) : '?';
    o.log(`fleet ${campaign}: ${Math.round((Date.now() - started) / 1000)} s, slices ${t.slices}/${total} done (${counts.active ?? 0} running, ${counts.waiting ?? 0} waiting), workers ${workers < 0 ? '?' : workers}, programs ${t.programs + live} (${t.programs} committed), executions ${t.executions}, findings ${t.findings}`);
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    if (runs !== undefined) {
      const n = Math.ceil(runs / o.sliceRuns);
      for (let i = 0; i < n; i++) {
        if (await o.store.sliceDone(campaign, String(i))) continue;
        await add(i, { firstProgram: i * o.sliceRuns, maxPrograms: Math.min(o.sliceRuns, runs - i * o.sliceRuns), durationMs: undefined });
      }
      o.log(`fleet ${campaign}: ${n} slice(s) of ${o.sliceRuns} program(s) on the queue (${n - enqueued.length} committed already)`);
      for (;;) {
        if (aborted()) break;
        await watchFailures();
        // The counters are a cheap trigger; the end is decided by the signed slice results (a counter
        // bumped by something without a key must not end the campaign early).
        if ((await o.store.totals(campaign)).slices + failed.size >= n && (await o.store.sliceResults(campaign)).size + failed.size >= n) break;
        await progress();
        await sleep(500);
      }
    } else {
      const end = started + (o.settings.durationMs ?? 0);
      let slice = 0;
      const prior = await o.store.sliceResults(campaign);
      while (prior.has(String(slice))) slice += 1;
      while (!aborted() && Date.now() < end - 1000) {
        const counts = await queue.getJobCounts('waiting');
        const workers = Math.max(1, await queue.getWorkersCount().catch(() => 1));
        if ((counts.waiting ?? 0) < workers) {
          await add(slice, { firstProgram: 0, maxPrograms: undefined, durationMs: Math.min(o.sliceMs, end - Date.now()) }, deadline);
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
  // The summary counts signed slice results only.
  const results = [...(await o.store.sliceResults(campaign)).values()] as Partial<SliceResult>[];
  const sum = (f: (r: Partial<SliceResult>) => unknown) => results.reduce((a, r) => a + (Number.isFinite(f(r)) ? (f(r) as number) : 0), 0);
  const totals = { slices: results.length, programs: sum((r) => r.programs), executions: sum((r) => r.executions), findings: sum((r) => r.findings) };
  const buckets = await bucketsOf(o.store, campaign);
  return {
    campaign, slices: runs !== undefined ? Math.ceil(runs / o.sliceRuns) : totals.slices, slicesDone: totals.slices, programs: totals.programs, executions: totals.executions, findings: totals.findings,
    buckets, refused: [...refused], failed: [...failed].map(([s, r]) => `slice ${s}: ${r}`), elapsedMs: Date.now() - started, stoppedBy: aborted() ? 'signal' : 'done',
  };
}

/** The buckets a campaign hit (its slices' contributions), with its hits on each, and those it created. */
async function bucketsOf(store: CoordinatorOptions['store'], campaign: string): Promise<FleetSummary['buckets']> {
  const mine = `${campaign}#`;
  const buckets: FleetSummary['buckets'] = [];
  for (const name of await store.bucketNames()) {
    const { bucket } = await store.readBucket(name);
    if (!bucket) continue;
    const hits = Object.entries(bucket.contributions).filter(([s]) => s.startsWith(mine)).reduce((a, [, c]) => a + c.hits, 0);
    const created = bucket.createdBy.startsWith(mine);
    if (hits > 0 || created) buckets.push({ bucket: name, hits, created, title: bucket.meta.title, kind: bucket.meta.kind });
  }
  return buckets;
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
