// `npm run bench -- fleet`: what coordinating a campaign through Redis and BullMQ costs. One local
// campaign (--jobs 1) and fleet campaigns of the same programs (same seed, program-range slices) with 1,
// 2 and 4 worker processes (--jobs 1 each) against a real redis-server on a loopback port. Per slice:
// the worker's time outside the campaign (reading the store's buckets and corpus, committing) and the
// queue's hand-off between one slice and the next on a worker, as ms and as a share of slice time.
// New buckets are not re-run to measure their rate here (--repro-trials 0 on both sides): a finding's
// trials would swamp the figure with how many bugs a run happened to find. Nor are programs focused by
// feedback or mutated from the corpus (each slice has its own feedback and corpus snapshot): with those
// off, program i is the same program in every configuration, so the runs compare like with like.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { resolveSettings, runCampaign } from '../src/campaign/fuzz.js';
import { bullPrefix, QUEUE, runCoordinator, type SliceResult } from '../src/fleet/fleet.js';
import { startRedis } from '../src/fleet/localRedis.js';
import { connectRedis, ensureConnected, RedisStore } from '../src/fleet/store.js';
import { makeFleetKeys, registerWorkers } from '../src/fleet/keyring.js';
import { packageRoot } from '../src/runtime/paths.js';
import type { Target } from '../src/types.js';

export interface FleetBenchRow {
  name: string;
  value: string;
  note?: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor(s.length / 2)] as number) : 0;
};

export async function fleetSection(target: Target, o: { programs?: number; sliceRuns?: number; log?: (line: string) => void } = {}): Promise<FleetBenchRow[]> {
  // Slices of the CLI's default size (--slice-runs 25): the overhead share is per slice.
  const programs = o.programs ?? 200;
  const sliceRuns = o.sliceRuns ?? 25;
  const log = o.log ?? (() => undefined);
  const seed = `fleet-bench-${Date.now().toString(36)}`;
  const redis = await startRedis();
  const rows: FleetBenchRow[] = [];
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-bench-fleet-'));
  // Feedback-focused and mutated programs off, so program i is the same everywhere; no rate trials.
  const settings = resolveSettings({ seed, maxPrograms: programs, reproTrials: 0, focusedShare: 0, mutateShare: 0 });
  try {
    // The local reference: the same programs, one at a time, in one process.
    const t0 = performance.now();
    const local = await runCampaign({
      settings, targets: [target], jobs: 1, crashDir: path.join(scratch, 'local', 'crashes'), corpusDir: path.join(scratch, 'local', 'corpus'),
    });
    const localMs = performance.now() - t0;
    const localRate = (local.programs / localMs) * 60_000;
    log(`local campaign: ${local.programs} programs in ${(localMs / 1000).toFixed(1)} s`);
    rows.push({ name: 'local campaign (--jobs 1): programs per minute', value: localRate.toFixed(1), note: `${local.programs} programs, ${(localMs / 1000).toFixed(1)} s` });

    const overheads: number[] = [];
    const handoffs: number[] = [];
    const sliceTimes: number[] = [];
    const commits: number[] = [];
    const prepares: number[] = [];
    for (const [i, workers] of [1, 2, 4].entries()) {
      // Each fleet in its own database: every one starts from an empty store, as the local campaign did.
      const url = `${redis.url}/${i + 1}`;
      const client = connectRedis(url);
      await ensureConnected(client, url);
      const keys = await makeFleetKeys(await fs.mkdtemp(path.join(scratch, 'keys-')), Array.from({ length: workers }, (_, w) => `w${w}`));
      const store = new RedisStore(client, keys.coordinator.trust);
      await registerWorkers(store, keys);
      const bull = connectRedis(url, { bullmq: true });
      const procs = keys.workers.map((k) => {
        const child = spawn(process.execPath, [path.join(packageRoot, 'bin', 'ftfuzz.js'), 'worker', '--redis', url, '--python', target.path, '--jobs', '1', '--idle-exit', '4s'], {
          env: { ...process.env, ...k.env }, stdio: ['ignore', 'ignore', 'pipe'],
        });
        let err = '';
        child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
        const ready = new Promise<void>((resolve) => {
          const check = () => (err.includes(' job(s) per slice') ? resolve() : setTimeout(check, 100));
          check();
        });
        return { child, ready, exited: new Promise((r) => child.once('exit', r)) };
      });
      await Promise.all(procs.map((p) => p.ready));
      const t1 = performance.now();
      const summary = await runCoordinator({
        store, connection: bull, trust: store.trust, settings, sliceRuns, sliceMs: 0, log: () => undefined, progressEveryMs: 60_000,
      });
      const wallMs = performance.now() - t1;
      await Promise.all(procs.map((p) => p.exited));
      const queueConnection = connectRedis(url, { bullmq: true });
      const queue = new Queue(QUEUE, { connection: queueConnection, prefix: bullPrefix(store) });
      const jobs = (await queue.getCompleted(0, 1000)).filter((j) => (j.returnvalue as SliceResult | undefined)?.campaignMs !== undefined);
      for (const j of jobs) {
        const r = j.returnvalue as SliceResult;
        const span = (j.finishedOn ?? 0) - (j.processedOn ?? 0);
        sliceTimes.push(span);
        overheads.push(Math.max(0, span - r.campaignMs));
        commits.push(r.overhead.commitMs);
        prepares.push(r.overhead.prepareMs);
      }
      // The queue's hand-off: from a slice's end to the next slice's start on the same worker.
      const byWorker = new Map<string, typeof jobs>();
      for (const j of jobs) byWorker.set(j.processedBy ?? '?', [...(byWorker.get(j.processedBy ?? '?') ?? []), j]);
      for (const list of byWorker.values()) {
        const sorted = [...list].sort((a, b) => (a.processedOn ?? 0) - (b.processedOn ?? 0));
        for (let k = 1; k < sorted.length; k++) handoffs.push(Math.max(0, (sorted[k]?.processedOn ?? 0) - (sorted[k - 1]?.finishedOn ?? 0)));
      }
      await queue.close();
      await queueConnection.quit();
      const rate = (summary.programs / wallMs) * 60_000;
      log(`${workers} worker(s): ${summary.programs} programs in ${(wallMs / 1000).toFixed(1)} s, ${summary.buckets.length} bucket(s)`);
      rows.push({ name: `fleet, ${workers} worker(s) x --jobs 1: programs per minute`, value: rate.toFixed(1), note: `${(rate / localRate).toFixed(2)}x the local campaign; ${summary.slicesDone} slices of ${sliceRuns}, ${(wallMs / 1000).toFixed(1)} s, ${os.availableParallelism()} cores` });
      await client.quit();
      await bull.quit();
    }
    const perSlice = median(overheads) + median(handoffs);
    rows.push({ name: 'coordination per slice: worker time outside the campaign (median ms)', value: median(overheads).toFixed(1), note: `reading the store ${median(prepares).toFixed(1)} ms, committing ${median(commits).toFixed(1)} ms; ${overheads.length} slices` });
    rows.push({ name: 'coordination per slice: queue hand-off to the next slice (median ms)', value: median(handoffs).toFixed(1), note: `${handoffs.length} hand-offs` });
    rows.push({ name: 'coordination share of slice time (goal <= 1%)', value: `${((100 * perSlice) / Math.max(1, median(sliceTimes))).toFixed(2)}%`, note: `median slice ${(median(sliceTimes) / 1000).toFixed(1)} s of ${sliceRuns} programs` });
  } finally {
    await redis.stop();
    await fs.rm(scratch, { recursive: true, force: true });
  }
  return rows;
}
