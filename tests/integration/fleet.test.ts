// The fleet fault test (issue 14): a real redis-server on a loopback port, a coordinator and three
// worker processes. One worker is SIGKILLed in the middle of a slice, Redis is restarted once, and a
// forged job is put on the queue. Every slice must run (the killed one again, elsewhere), every bucket
// be there once with the hits its slices committed, nothing counted twice, the forged job refused, and
// no secret printed.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bullPrefix, QUEUE, signJob, SLICE_FORMAT, type SliceResult, type SlicePayload } from '../../src/fleet/fleet.js';
import { connectRedis, ensureConnected, RedisStore } from '../../src/fleet/store.js';
import { fleetKeyFrom } from '../../src/fleet/trust.js';
import { CrashStore } from '../../src/store/crashStore.js';
import { startRedis, type TestRedis } from '../../src/fleet/localRedis.js';

const root = path.join(import.meta.dirname, '..', '..');
const SECRET_KEY = `fleet-test-key-${'9'.repeat(24)}`;
const PASSWORD = 'redis-pw-not-to-print';
const SEED = 'fleet-fault';
const RUNS = 10;
const SLICE = 2;

interface Proc {
  child: ChildProcess;
  out: string;
  exited: Promise<number | null>;
}

function cli(args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, [path.join(root, 'bin', 'ftfuzz.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const p: Proc = { child, out: '', exited: new Promise((r) => child.once('exit', (code) => r(code))) };
  child.stdout?.on('data', (d: Buffer) => (p.out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (p.out += d.toString()));
  return p;
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let redis: TestRedis;
const procs: Proc[] = [];

beforeAll(async () => {
  redis = await startRedis({ password: PASSWORD });
});

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await redis?.stop();
});

describe('fleet campaign on Redis and BullMQ', () => {
  it('survives a SIGKILLed worker and a Redis restart: every slice once, every bucket once with its hits, a forged job refused', async () => {
    const old = inject('ftPythonOld');
    const env = { ...process.env, FTFUZZ_FLEET_KEY: SECRET_KEY };
    const workerArgs = ['worker', '--redis', redis.url, '--python', old, '--jobs', '1', '--lock', '4s'];
    // Three workers; the first one to take a slice is killed one second into it.
    for (let i = 0; i < 3; i++) procs.push(cli(workerArgs, env));
    // Tracing and profiling hooks switched while threads run crash 3.13.5t often (gh-137400): findings.
    const coordinator = cli(['fuzz', '--redis', redis.url, '--runs', String(RUNS), '--slice-runs', String(SLICE), '--seed', SEED, '--kinds', 'hooks', '--modes', 'gil-off', '--repro-trials', '1', '--progress-every', '5s'], env);
    procs.push(coordinator);

    const taken = /slice fleet-fault#(\d+): programs/;
    await until('a worker to take a slice', () => procs.slice(0, 3).some((p) => taken.test(p.out)), 120_000);
    const victim = procs.slice(0, 3).find((p) => taken.test(p.out)) as Proc;
    const killedSlice = Number(taken.exec(victim.out)?.[1]);
    await new Promise((r) => setTimeout(r, 1000));
    victim.child.kill('SIGKILL');
    await victim.exited;

    // Redis goes away and comes back (append-only file: nothing lost); workers and coordinator reconnect.
    await redis.restart();

    // A forged job: a real slice's payload, signed, then altered (another seed) before it is queued.
    const client = connectRedis(redis.url);
    await ensureConnected(client, redis.url);
    const store = new RedisStore(client, fleetKeyFrom(SECRET_KEY, 'test'));
    const queue = new Queue(QUEUE, { connection: connectRedis(redis.url, { bullmq: true }), prefix: bullPrefix(store) });
    const payload: SlicePayload = {
      format: SLICE_FORMAT, campaign: SEED, slice: 99, seed: SEED, firstProgram: 0, programs: 1, corpusUpTo: 0, modes: ['gil-off'], timeoutMs: 30_000,
      genOptions: {}, oracles: 'all', reproTrials: 0, flakyBelow: 0.5, leakShare: 0, spawnShare: 0, focusedShare: 0, calibrate: true,
    };
    const signed = signJob(store.key, payload);
    // lifo: taken next, while the real slices still run.
    await queue.add('slice', { ...signed, payload: { ...payload, seed: 'attacker-chosen' } }, { jobId: 'forged-1', lifo: true });
    await until('the forged job to be refused', async () => (await (await queue.getJob('forged-1'))?.getState()) === 'failed', 120_000);

    const code = await Promise.race([coordinator.exited, new Promise((r) => setTimeout(() => r('timeout'), 170_000))]);
    expect(code, coordinator.out).not.toBe('timeout');

    // The forged job: refused by a worker, failed on the queue, never run, and reported.
    const forged = await queue.getJob('forged-1');
    expect(await forged?.getState()).toBe('failed');
    expect(forged?.failedReason).toMatch(/^refused by .*signature does not match/);
    expect(procs.some((p) => /refused job forged-1: signature does not match/.test(p.out))).toBe(true);
    expect(await store.sliceDone(SEED, '99')).toBe(false);
    expect(coordinator.out).toMatch(/refused by a worker: job forged-1/);
    expect(code).toBe(5);

    // Every slice ran and committed once; the killed worker's slice was run again by another worker.
    const n = Math.ceil(RUNS / SLICE);
    const results = await store.sliceResults(SEED);
    expect([...results.keys()].sort()).toEqual(Array.from({ length: n }, (_, i) => String(i)).sort());
    const totals = await store.totals(SEED);
    expect(totals.slices).toBe(n);
    expect(totals.programs).toBe(RUNS);
    const killed = results.get(String(killedSlice)) as SliceResult;
    expect(killed.worker.endsWith(`:${victim.child.pid}`)).toBe(false);
    expect(killed.programs).toBe(SLICE);

    // Every bucket once, with exactly the hits the committed slices recorded for it.
    const expected = new Map<string, number>();
    for (const r of results.values() as Iterable<SliceResult>) for (const [b, h] of Object.entries(r.hits)) expected.set(b, (expected.get(b) ?? 0) + h);
    const { buckets, errors } = await store.listBuckets();
    expect(errors).toEqual([]);
    expect(buckets.length).toBeGreaterThan(0);
    expect(new Set(buckets.map((b) => b.bucket)).size).toBe(buckets.length);
    expect(new Map(buckets.map((b) => [b.bucket, b.meta.hits]))).toEqual(expected);
    for (const b of buckets) {
      expect(Object.keys(b.contributions).every((s) => s.startsWith(`${SEED}#`))).toBe(true);
      expect(b.files['repro.py']).toMatch(/^# ftfuzz reproducer/);
    }
    expect(coordinator.out).toMatch(new RegExp(`${n}/${n} slice\\(s\\), ${RUNS} programs`));

    // `ftfuzz sync out` writes it as an ordinary crash store, which the directory tools read.
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-fleet-out-'));
    const sync = cli(['sync', 'out', '--redis', redis.url, '--crashes', path.join(dir, 'crashes'), '--corpus', path.join(dir, 'corpus')], env);
    expect(await sync.exited, sync.out).toBe(0);
    const local = await new CrashStore(path.join(dir, 'crashes')).list();
    expect(new Map(local.buckets.map((b) => [b.bucket, b.meta.hits]))).toEqual(expected);

    // No secret in anything printed or stored.
    for (const p of [...procs, sync]) {
      expect(p.out).not.toContain(PASSWORD);
      expect(p.out).not.toContain(SECRET_KEY);
    }
    for (const b of local.buckets) expect(JSON.stringify(b.meta)).not.toContain(PASSWORD);

    // The directory tools read the fleet store as well: triage lists every bucket from Redis.
    const triage = cli(['triage', '--redis', redis.url], env);
    expect(await triage.exited, triage.out).toBe(1);
    for (const b of buckets) expect(triage.out).toContain(b.bucket);

    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    await queue.close();
    await client.quit();
  }, 300_000);

  it('rediss:// works over TLS (the CA trusted with NODE_EXTRA_CA_CERTS) and fails in one line without it', async () => {
    const tls = await startRedis({ password: PASSWORD, tls: true });
    try {
      const env = { ...process.env, FTFUZZ_FLEET_KEY: SECRET_KEY };
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-tls-'));
      const args = ['sync', 'out', '--redis', tls.url, '--crashes', path.join(dir, 'c'), '--corpus', path.join(dir, 'k')];
      const trusted = cli(args, { ...env, NODE_EXTRA_CA_CERTS: tls.caFile });
      expect(await trusted.exited, trusted.out).toBe(0);
      const untrusted = cli(args, env);
      expect(await untrusted.exited).toBe(3);
      expect(untrusted.out).toMatch(/cannot connect \(self-signed certificate\); trust the server's CA with NODE_EXTRA_CA_CERTS/);
      expect(trusted.out + untrusted.out).not.toContain(PASSWORD);
    } finally {
      await tls.stop();
    }
  });

  it('a --duration campaign (its seed holding a colon, which BullMQ refuses in job ids) runs time slices until its end, then leaves nothing on the queue', async () => {
    const env = { ...process.env, FTFUZZ_FLEET_KEY: SECRET_KEY };
    const worker = cli(['worker', '--redis', redis.url, '--python', inject('ftPython'), '--jobs', '1', '--lock', '4s'], env);
    procs.push(worker);
    // A worker with another key, among the good one: it stops before taking any slice.
    const wrongKey = cli(['worker', '--redis', redis.url, '--python', inject('ftPython'), '--jobs', '1'], { ...env, FTFUZZ_FLEET_KEY: `another-key-${'7'.repeat(24)}` });
    procs.push(wrongKey);
    const started = Date.now();
    const coordinator = cli(['fuzz', '--redis', redis.url, '--duration', '24s', '--slice', '8s', '--seed', 'fleet:time', '--repro-trials', '0', '--progress-every', '5s'], env);
    procs.push(coordinator);
    const code = await Promise.race([coordinator.exited, new Promise((r) => setTimeout(() => r('timeout'), 120_000))]);
    expect(code, coordinator.out).not.toBe('timeout');
    expect(Date.now() - started).toBeGreaterThan(20_000);
    const client = connectRedis(redis.url);
    await ensureConnected(client, redis.url);
    const store = new RedisStore(client, fleetKeyFrom(SECRET_KEY, 'test'));
    const results = [...(await store.sliceResults('fleet:time')).values()] as SliceResult[];
    expect(results.length).toBeGreaterThanOrEqual(2);
    expect(results.reduce((n, r) => n + r.programs, 0)).toBeGreaterThan(0);
    // No --kinds: slices carry surface programs, on the worker's own surface.
    expect(results.reduce((n, r) => n + (r.surface?.programs ?? 0), 0), JSON.stringify(results)).toBeGreaterThan(0);
    expect((await store.totals('fleet:time')).programs).toBe(results.reduce((n, r) => n + r.programs, 0));
    const queue = new Queue(QUEUE, { connection: connectRedis(redis.url, { bullmq: true }), prefix: bullPrefix(store) });
    const left = (await queue.getJobs(['waiting', 'active', 'delayed'])).filter((j) => (j.data as { payload?: SlicePayload }).payload?.campaign === 'fleet:time');
    expect(left).toEqual([]);
    expect(await wrongKey.exited, wrongKey.out).toBe(2);
    expect(wrongKey.out).toMatch(/ftfuzz: error: fleet key \(\$FTFUZZ_FLEET_KEY\) is not the key this Redis fleet was first used with/);
    expect(wrongKey.out).not.toMatch(/slice fleet:time#/);
    // A replayed job: a completed slice's signed data copied from the queue and added again. It verifies
    // (it was signed), and the worker skips it: the slice committed once already.
    const totals = await store.totals('fleet:time');
    const [done] = (await queue.getJobs(['completed'])).filter((j) => (j.data as { payload?: SlicePayload }).payload?.campaign === 'fleet:time');
    expect(done).toBeDefined();
    await queue.add('slice', done?.data, { jobId: 'replayed-1' });
    await until('the replayed job to complete', async () => (await (await queue.getJob('replayed-1'))?.getState()) === 'completed', 60_000);
    expect(worker.out).toMatch(/slice fleet:time#\d+: committed already by another run; skipped/);
    expect(await store.totals('fleet:time')).toEqual(totals);
    worker.child.kill('SIGTERM');
    await worker.exited;
    await queue.close();
    await client.quit();
  }, 200_000);
});
