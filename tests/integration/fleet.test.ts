// The fleet fault test (issues 14 and 24): a real redis-server on a loopback port, a coordinator and
// three worker processes, each with its own registered key. One worker is SIGKILLed in the middle of a
// slice, Redis is restarted once, and forged jobs are put on the queue (one altered after signing, one
// signed by a registered worker's key). Every slice must run (the killed one again, elsewhere), every
// bucket be there once with the hits its slices committed, nothing counted twice, the forged jobs
// refused, and no secret printed.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { resolveSettings } from '../../src/campaign/settings.js';
import { bullPrefix, QUEUE, signJob, SLICE_FORMAT, type SliceResult, type SlicePayload } from '../../src/fleet/fleet.js';
import { connectRedis, ensureConnected, RedisStore } from '../../src/fleet/store.js';
import { makeFleetKeys, registerWorkers, type LocalFleetKeys } from '../../src/fleet/keyring.js';
import { CrashStore } from '../../src/store/crashStore.js';
import { startRedis, type TestRedis } from '../../src/fleet/localRedis.js';

const root = path.join(import.meta.dirname, '..', '..');
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
let keys: LocalFleetKeys;
/** The coordinator's environment, and worker i's (its own key, and the coordinator's public key). */
let coordinatorEnv: NodeJS.ProcessEnv;
const workerEnv = (i: number): NodeJS.ProcessEnv => ({ ...process.env, ...(keys.workers[i] as LocalFleetKeys['workers'][number]).env });
/** The private keys' PEM text: never printed. */
let secrets: string[];

beforeAll(async () => {
  redis = await startRedis({ password: PASSWORD });
  keys = await makeFleetKeys(await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-fleet-keys-')), ['w0', 'w1', 'w2', 'w3', 'unregistered']);
  coordinatorEnv = { ...process.env, FTFUZZ_FLEET_KEY_FILE: keys.coordinator.file };
  secrets = await Promise.all([keys.coordinator, ...keys.workers].map(async (k) => (await fs.readFile(k.file, 'utf8')).split('\n')[1] as string));
  // The operator registers the workers (the last one excepted) with the coordinator's key.
  const client = connectRedis(redis.url);
  await ensureConnected(client, redis.url);
  await registerWorkers(new RedisStore(client, keys.coordinator.trust), { ...keys, workers: keys.workers.slice(0, 4) });
  await client.quit();
});

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await redis?.stop();
});

describe('fleet campaign on Redis and BullMQ', () => {
  it('survives a SIGKILLed worker and a Redis restart: every slice once, every bucket once with its hits, a forged job refused', async () => {
    const old = inject('ftPythonOld');
    const env = coordinatorEnv;
    const workerArgs = ['worker', '--redis', redis.url, '--python', old, '--jobs', '1', '--lock', '4s'];
    // Three workers; the first one to take a slice is killed one second into it.
    for (let i = 0; i < 3; i++) procs.push(cli(workerArgs, workerEnv(i)));
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
    const store = new RedisStore(client, keys.coordinator.trust);
    const queue = new Queue(QUEUE, { connection: connectRedis(redis.url, { bullmq: true }), prefix: bullPrefix(store) });
    const payload: SlicePayload = {
      format: SLICE_FORMAT, campaign: SEED, slice: 99, corpusUpTo: 0,
      settings: resolveSettings({ seed: SEED, maxPrograms: 1, modes: ['gil-off'], reproTrials: 0, leakShare: 0, spawnShare: 0, focusedShare: 0 }),
    };
    const signed = signJob(store.trust.me, payload);
    // lifo: taken next, while the real slices still run. One altered after signing; one signed with a
    // registered worker's own key (a compromised worker trying to make the others run its code).
    await queue.add('slice', { ...signed, payload: { ...payload, settings: { ...payload.settings, seed: 'attacker-chosen' } } }, { jobId: 'forged-1', lifo: true, attempts: 1 });
    await queue.add('slice', signJob((keys.workers[3] as LocalFleetKeys['workers'][number]).trust.me, { ...payload, slice: 98 }), { jobId: 'forged-2', lifo: true, attempts: 1 });
    for (const id of ['forged-1', 'forged-2']) await until(`${id} to be refused`, async () => (await (await queue.getJob(id))?.getState()) === 'failed', 120_000);

    const code = await Promise.race([coordinator.exited, new Promise((r) => setTimeout(() => r('timeout'), 170_000))]);
    expect(code, coordinator.out).not.toBe('timeout');

    // The forged job: refused by a worker, failed on the queue, never run, and reported.
    const forged = await queue.getJob('forged-1');
    expect(await forged?.getState()).toBe('failed');
    expect(forged?.failedReason).toMatch(/^refused by .*signature does not match/);
    expect(procs.some((p) => /refused job forged-1: signature does not match/.test(p.out))).toBe(true);
    expect(procs.some((p) => /refused job forged-2: signature does not match the fleet coordinator's key/.test(p.out))).toBe(true);
    expect(await store.sliceDone(SEED, '99')).toBe(false);
    expect(await store.sliceDone(SEED, '98')).toBe(false);
    expect(coordinator.out).toMatch(/refused by a worker: job forged-1/);
    expect(coordinator.out).toMatch(/refused by a worker: job forged-2/);
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
      expect(b.signer).toMatch(/^worker w[012] \([0-9a-f]{16}\)$/);
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
      for (const secret of secrets) expect(p.out).not.toContain(secret);
    }
    for (const b of local.buckets) expect(JSON.stringify(b.meta)).not.toContain(PASSWORD);

    // The directory tools read the fleet store as well: triage lists every bucket from Redis.
    const triage = cli(['triage', '--redis', redis.url], env);
    expect(await triage.exited, triage.out).toBe(1);
    for (const b of buckets) expect(triage.out).toContain(b.bucket);
    expect(triage.out).toMatch(/^ +written by: worker w[012] \([0-9a-f]{16}\) \(fleet\)$/m);

    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    await queue.close();
    await client.quit();
  }, 300_000);

  it('fleet keygen, register, workers and revoke: the operator\'s commands, and what each refuses', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-fleet-cli-'));
    const file = path.join(dir, 'w9.key');
    const run = async (args: string[], env: NodeJS.ProcessEnv) => {
      const p = cli(args, env);
      return { code: await p.exited, out: p.out };
    };
    const expectRun = async (args: string[], env: NodeJS.ProcessEnv, code: number, says?: RegExp) => {
      const r = await run(args, env);
      expect(r.code, r.out).toBe(code);
      if (says) expect(r.out).toMatch(says);
    };
    const kg = await run(['fleet', 'keygen', file], process.env);
    expect(kg.code, kg.out).toBe(0);
    const id = /fleet key ([0-9a-f]{16}): private key in/.exec(kg.out)?.[1];
    expect(id).toBeDefined();
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    await expectRun(['fleet', 'keygen', file], process.env, 2, /w9\.key: exists already/);
    const w9env = { ...process.env, FTFUZZ_FLEET_KEY_FILE: file, FTFUZZ_COORDINATOR_KEY_FILE: keys.coordinator.pub };
    const out = ['sync', 'out', '--redis', redis.url, '--crashes', path.join(dir, 'c'), '--corpus', path.join(dir, 'k')];
    await expectRun(out, w9env, 2, new RegExp(`fleet key ${id} .* is not registered with this fleet`));
    // Only the coordinator's key registers; a name is one short token.
    await expectRun(['fleet', 'register', `${file}.pub`, '--name', 'w9', '--redis', redis.url], workerEnv(0), 2, /registering a worker needs the coordinator's key/);
    await expectRun(['fleet', 'register', `${file}.pub`, '--name', 'w 9;rm', '--redis', redis.url], coordinatorEnv, 2, /--name "w 9;rm": use 1-64 letters/);
    await expectRun(['fleet', 'register', file.replace('w9', 'none'), '--name', 'w9', '--redis', redis.url], coordinatorEnv, 2, /none\.key: ENOENT/);
    const reg = await run(['fleet', 'register', `${file}.pub`, '--name', 'w9', '--redis', redis.url], coordinatorEnv);
    expect(reg.code, reg.out).toBe(0);
    expect(reg.out).toContain(`registered worker w9 (key ${id})`);
    const listed = await run(['fleet', 'workers', '--redis', redis.url], coordinatorEnv);
    expect(listed.code, listed.out).toBe(0);
    expect(listed.out).toMatch(new RegExp(`^${id} {2}w9 {2}registered `, 'm'));
    expect(listed.out).toMatch(/^[0-9a-f]{16} {2}w0 {2}registered /m);
    await expectRun(out, w9env, 0);
    await expectRun(['fleet', 'revoke', 'w9', '--redis', redis.url], coordinatorEnv, 0, new RegExp(`revoked w9 \\(${id}\\)`));
    await expectRun(out, w9env, 2, /is not registered with this fleet \(or was revoked\)/);
    await expectRun(['fleet', 'revoke', 'w9', '--redis', redis.url], coordinatorEnv, 2, /no registered worker is named "w9"/);
    // A fleet key of the HMAC days: one line saying what to do.
    await expectRun(out, { ...process.env, FTFUZZ_FLEET_KEY_FILE: '', FTFUZZ_FLEET_KEY: 'x'.repeat(40) }, 2, /^ftfuzz: error: fleet key from \$FTFUZZ_FLEET_KEY is not a private key .*ftfuzz fleet keygen FILE/m);
  }, 60_000);

  it('rediss:// works over TLS (the CA trusted with NODE_EXTRA_CA_CERTS) and fails in one line without it', async () => {
    const tls = await startRedis({ password: PASSWORD, tls: true });
    try {
      const env = coordinatorEnv;
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
    const env = coordinatorEnv;
    const worker = cli(['worker', '--redis', redis.url, '--python', inject('ftPython'), '--jobs', '1', '--lock', '4s'], workerEnv(3));
    procs.push(worker);
    // A worker whose key nobody registered, among the good one: it stops before taking any slice.
    const wrongKey = cli(['worker', '--redis', redis.url, '--python', inject('ftPython'), '--jobs', '1'], workerEnv(4));
    procs.push(wrongKey);
    const started = Date.now();
    const coordinator = cli(['fuzz', '--redis', redis.url, '--duration', '24s', '--slice', '8s', '--seed', 'fleet:time', '--repro-trials', '0', '--progress-every', '5s'], env);
    procs.push(coordinator);
    const code = await Promise.race([coordinator.exited, new Promise((r) => setTimeout(() => r('timeout'), 120_000))]);
    expect(code, coordinator.out).not.toBe('timeout');
    expect(Date.now() - started).toBeGreaterThan(20_000);
    const client = connectRedis(redis.url);
    await ensureConnected(client, redis.url);
    const store = new RedisStore(client, keys.coordinator.trust);
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
    expect(wrongKey.out).toMatch(/ftfuzz: error: this machine's fleet key [0-9a-f]{16} \(file .*unregistered\.key\) is not registered with this fleet \(or was revoked\): on the coordinator's machine run ftfuzz fleet register/);
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
