// Which keys a fleet trusts (trust.ts): the coordinator's, whose public key every machine is given, and
// the worker keys registered under it, in Redis (`{P}:workers`: key id -> JSON {name, publicPem,
// registered, sig}, each signed by the coordinator key), read by every machine that verifies entries and
// read again when an entry names a key it does not know or what it read has aged.
import type { Redis } from 'ioredis';
import { UsageError } from '../errors.js';
import { type FleetTrust, type PublicKeyRef, type WorkerKey, publicKeyFrom, signedRegistration, verifyWith } from './trust.js';

/** How long a machine trusts the worker registrations it read before reading them again (a revocation takes this long). */
export const REGISTRY_TTL_MS = 30_000;

/** A stored entry's signer field: a key id, or undefined. */
export const signerOf = (v: unknown): string | undefined => (typeof v === 'string' && /^[0-9a-f]{16}$/.test(v) ? v : undefined);

/** The signer an entry stored as JSON text names (its `signer` field), or undefined. */
export const signerIn = (text: string | null | undefined): string | undefined => signerOf(safeParse(text)?.signer);

/** JSON text as an object, or null (anything read from redis may be anything). */
export function safeParse(text: string | null | undefined): Record<string, unknown> | null {
  if (typeof text !== 'string') return null;
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function signedFleet(prefix: string, coordinator: PublicKeyRef) {
  return { kind: 'ftfuzz-fleet', prefix, coordinator: coordinator.id, publicPem: coordinator.pem };
}

export class Registry {
  /** When the registrations were last read (ms since the epoch; 0: never). */
  private readAt = 0;

  constructor(
    private readonly client: Redis,
    readonly trust: FleetTrust,
    private readonly prefix: string,
    /** The store's key maker (`{prefix}:...`). */
    private readonly k: (...parts: string[]) => string,
  ) {}

  /**
   * Check this machine against the fleet before it takes or writes anything, so a machine with a wrong or
   * rotated key stops at once with one line. The coordinator (the machine holding the key the others
   * trust) leaves the fleet's check entry the first time, signed; every machine then checks that entry
   * against the coordinator key it was given, and a worker that its own key is registered.
   */
  async check(): Promise<void> {
    const key = this.k('fleet');
    const coordinator = this.trust.coordinator;
    const signed = signedFleet(this.prefix, coordinator);
    if (this.trust.isCoordinator) await this.client.set(key, JSON.stringify({ coordinator: coordinator.id, sig: this.trust.me.sign(signed) }), 'NX');
    const text = await this.client.get(key);
    if (text === null) {
      throw new UsageError(`this Redis has no fleet yet (no ${key}): start it from the coordinator's machine first (ftfuzz fuzz --redis URL, or ftfuzz fleet register, with the coordinator's key)`);
    }
    const entry = safeParse(text);
    if (!entry || !verifyWith(coordinator.key, signed, entry.sig)) {
      const theirs = signerOf(entry?.coordinator);
      throw new UsageError(
        `the coordinator key this machine trusts (${coordinator.id}, ${coordinator.source}) is not this Redis fleet's (its entry ${key} ${theirs ? `names ${theirs}` : 'does not verify'}): ${this.trust.isCoordinator ? 'a worker\'s key cannot coordinate; use the coordinator\'s key, or give this machine --coordinator-key FILE.pub' : 'pass the fleet coordinator\'s public key with --coordinator-key FILE.pub'}; if that entry was not written by ftfuzz, delete it (redis-cli DEL ${key})`,
      );
    }
    if (this.trust.isCoordinator) return;
    await this.refresh();
    if (!this.trust.workers.has(this.trust.me.id)) {
      throw new UsageError(`this machine's fleet key ${this.trust.me.id} (${this.trust.me.source}) is not registered with this fleet (or was revoked): on the coordinator's machine run ftfuzz fleet register --redis URL --name NAME FILE.pub, with this key's .pub file`);
    }
  }

  /** Register a worker's public key (coordinator only): its entries count from now on. */
  async register(name: string, pub: PublicKeyRef): Promise<WorkerKey> {
    if (!this.trust.isCoordinator) throw new UsageError(`registering a worker needs the coordinator's key (this machine's key ${this.trust.me.id} is not the fleet coordinator's ${this.trust.coordinator.id})`);
    if (pub.id === this.trust.coordinator.id) throw new UsageError('that is the coordinator\'s own key; a worker needs a key pair of its own (ftfuzz fleet keygen FILE on the worker)');
    await this.refresh();
    const clash = [...this.trust.workers.values()].find((w) => w.name === name && w.id !== pub.id);
    if (clash) throw new UsageError(`a worker named ${name} is registered already with key ${clash.id}; revoke it first (ftfuzz fleet revoke ${name} --redis URL) or choose another name`);
    const registered = new Date().toISOString();
    const sig = this.trust.me.sign(signedRegistration(this.prefix, pub.id, name, pub.pem, registered));
    await this.client.hset(this.k('workers'), pub.id, JSON.stringify({ name, publicPem: pub.pem, registered, sig }));
    await this.refresh();
    return this.trust.workers.get(pub.id) as WorkerKey;
  }

  /** Revoke a worker (by name or key id; coordinator only): what it signed counts nothing from now on. */
  async revoke(nameOrId: string): Promise<WorkerKey[]> {
    if (!this.trust.isCoordinator) throw new UsageError(`revoking a worker needs the coordinator's key (this machine's key ${this.trust.me.id} is not the fleet coordinator's ${this.trust.coordinator.id})`);
    await this.refresh();
    const gone = [...this.trust.workers.values()].filter((w) => w.name === nameOrId || w.id === nameOrId);
    const raw = await this.client.hkeys(this.k('workers'));
    const ids = new Set([...gone.map((w) => w.id), ...raw.filter((id) => id === nameOrId)]);
    if (ids.size) await this.client.hdel(this.k('workers'), ...ids);
    await this.refresh();
    return gone;
  }

  /** The registered workers, and the entries of the registry that do not verify (named, not used). */
  async list(): Promise<{ workers: WorkerKey[]; errors: string[] }> {
    const errors = await this.refresh();
    return { workers: [...this.trust.workers.values()].sort((a, b) => a.name.localeCompare(b.name)), errors };
  }

  /** Read the worker registrations again; those whose coordinator signature holds are trusted. */
  async refresh(): Promise<string[]> {
    const all = await this.client.hgetall(this.k('workers'));
    const errors: string[] = [];
    this.trust.workers.clear();
    for (const [id, text] of Object.entries(all)) {
      const e = safeParse(text);
      const fail = (why: string) => void errors.push(`worker key ${JSON.stringify(id.slice(0, 20))}: ${why}; not trusted`);
      if (!e || typeof e.name !== 'string' || typeof e.publicPem !== 'string' || typeof e.registered !== 'string') {
        fail('unreadable registration');
        continue;
      }
      let pub: PublicKeyRef;
      try {
        pub = publicKeyFrom(e.publicPem, `registration of ${id}`);
      } catch {
        fail('its public key is not an Ed25519 key');
        continue;
      }
      if (pub.id !== id || !verifyWith(this.trust.coordinator.key, signedRegistration(this.prefix, id, e.name, e.publicPem, e.registered), e.sig)) {
        fail('not registered by this fleet\'s coordinator key (written into redis by something else)');
        continue;
      }
      this.trust.workers.set(id, { id, name: e.name, key: pub.key, registered: e.registered });
    }
    this.readAt = Date.now();
    return errors;
  }

  /**
   * Before verifying entries: read the registrations again when one of these signers is not known (a worker
   * registered since; at most once a second, so entries naming made-up keys cost nothing), or when what was
   * read is older than REGISTRY_TTL_MS (a revocation reaches every reader within that time).
   */
  async ensure(signers: Iterable<string | undefined>): Promise<void> {
    const age = Date.now() - this.readAt;
    const unknown = [...signers].some((s) => s !== undefined && this.trust.keyOf(s) === undefined);
    if (age > REGISTRY_TTL_MS || (unknown && age > 1000)) await this.refresh();
  }
}
