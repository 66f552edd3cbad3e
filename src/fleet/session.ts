// What the commands share when they work on a fleet's Redis store instead of directories: connect (a
// one-line error when the server is not there), and run a directory-based command (triage, minimize,
// replay, report) on a copy of the store written out to a scratch directory, reading its changes back.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { connectRedis, ensureConnected, RedisStore } from './store.js';
import { FleetTrust, loadCoordinatorKey, loadSigner } from './trust.js';

export interface Fleet {
  url: string;
  store: RedisStore;
  /** A second connection for BullMQ (its blocking commands must not share the store's). */
  bull: () => Promise<Redis>;
  close(): Promise<void>;
}

/** Where this machine's keys come from (flags; else the environment, trust.ts). */
export interface FleetKeys {
  /** This machine's private key (--fleet-key-file). */
  keyFile?: string;
  /** The coordinator's public key (--coordinator-key); absent: this machine is the coordinator. */
  coordinatorKeyFile?: string;
}

/** Connect, and check this machine's keys against the fleet (a one-line error, before anything is taken or written). */
export async function openFleet(url: string, keys: FleetKeys = {}): Promise<Fleet> {
  const me = loadSigner(keys.keyFile);
  const trust = new FleetTrust(me, loadCoordinatorKey(me, keys.coordinatorKeyFile));
  const client = connectRedis(url);
  await ensureConnected(client, url);
  const store = new RedisStore(client, trust);
  await store.checkFleet().catch(async (error: unknown) => {
    await client.quit().catch(() => client.disconnect());
    throw error;
  });
  const extra: Redis[] = [];
  return {
    url,
    store,
    bull: async () => {
      const c = connectRedis(url, { bullmq: true });
      await ensureConnected(c, url);
      extra.push(c);
      return c;
    },
    async close() {
      for (const c of [client, ...extra]) await c.quit().catch(() => c.disconnect());
    },
  };
}

/**
 * Run `fn` on the store written out as `crashes/` and `corpus/` in a scratch directory; with
 * `writeBack`, read the buckets back (their meta and files replace the store's: triage results,
 * repro.min.py). Refused entries are returned, not written.
 */
export async function withExported<T>(fleet: Fleet, opts: { writeBack: boolean; corpus?: boolean }, fn: (dirs: { crashes: string; corpus: string }) => Promise<T>): Promise<{ value: T; refused: string[] }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-fleet-'));
  const crashes = path.join(dir, 'crashes');
  const corpus = path.join(dir, 'corpus');
  try {
    await fs.mkdir(crashes, { recursive: true });
    await fs.mkdir(corpus, { recursive: true });
    const out = await fleet.store.exportTo(crashes, opts.corpus ? corpus : undefined);
    const value = await fn({ crashes, corpus });
    if (opts.writeBack) await fleet.store.importFrom(crashes, undefined, { replace: true });
    return { value, refused: out.errors };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
