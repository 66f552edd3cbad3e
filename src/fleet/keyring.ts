// A fleet's keys made on one machine, as files: the coordinator's pair and one pair per named worker, and
// their registration. What `ftfuzz fleet keygen` and `fleet register` do across machines, done at once for
// a fleet on one host (the tests, the fleet benchmarks, a script that starts local workers).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RedisStore } from './store.js';
import { FleetTrust, publicKeyFrom, signerFrom, writeKeyPair } from './trust.js';

export interface LocalKey {
  name: string;
  /** The private key file (--fleet-key-file) and its public key (FILE.pub). */
  file: string;
  pub: string;
  /** This key's trust: it signs, and trusts the coordinator's public key. */
  trust: FleetTrust;
  /** The environment a `ftfuzz` process with this key runs in. */
  env: { FTFUZZ_FLEET_KEY_FILE: string; FTFUZZ_COORDINATOR_KEY_FILE: string };
}

export interface LocalFleetKeys {
  coordinator: LocalKey;
  workers: LocalKey[];
}

/** A trust from key files: this machine's private key, and the coordinator's public key. */
export function trustFromFiles(keyFile: string, coordinatorPub: string): FleetTrust {
  return new FleetTrust(signerFrom(readFileSync(keyFile, 'utf8'), `file ${keyFile}`), publicKeyFrom(readFileSync(coordinatorPub, 'utf8'), coordinatorPub));
}

/** Key pairs in `dir` (created fresh: never over existing files): `coordinator.key` and `<name>.key` per worker. */
export async function makeFleetKeys(dir: string, workerNames: readonly string[]): Promise<LocalFleetKeys> {
  const make = async (name: string, coordinatorPub?: string): Promise<LocalKey> => {
    const { privateFile, publicFile } = await writeKeyPair(path.join(dir, `${name}.key`));
    const coord = coordinatorPub ?? publicFile;
    return { name, file: privateFile, pub: publicFile, trust: trustFromFiles(privateFile, coord), env: { FTFUZZ_FLEET_KEY_FILE: privateFile, FTFUZZ_COORDINATOR_KEY_FILE: coord } };
  };
  const coordinator = await make('coordinator');
  const workers: LocalKey[] = [];
  for (const n of workerNames) workers.push(await make(n, coordinator.pub));
  return { coordinator, workers };
}

/** Register every worker key with the fleet (`store` must hold the coordinator's key). */
export async function registerWorkers(store: RedisStore, keys: LocalFleetKeys): Promise<void> {
  await store.checkFleet();
  for (const w of keys.workers) await store.registry.register(w.name, w.trust.me.publicKey);
}
