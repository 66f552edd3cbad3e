// Trust in a fleet, with roles. Workers run what they take from the queue, so the queue is a
// code-execution channel: only the coordinator's private key signs jobs, and every worker verifies them
// with the coordinator's public key (the fleet's trust anchor, given to each worker out of band). Each
// worker has a key pair of its own, registered by the operator (`ftfuzz fleet register`: an entry in
// Redis signed by the coordinator key); everything a worker writes to the shared store (buckets, hit
// contributions, corpus programs, slice results) is signed with its key and names it, so a worker cannot
// sign jobs, cannot write in another's name, and stops counting the moment its registration is revoked.
// Keys are Ed25519 (node:crypto). A private key comes from a file (--fleet-key-file,
// FTFUZZ_FLEET_KEY_FILE) or the environment (FTFUZZ_FLEET_KEY, the PEM text), never from the command
// line, and is never printed.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { canonical } from '../canonical.js';
import { UsageError } from '../errors.js';

/** A public key of the fleet: its id (16 hex digits of the SHA-256 of its DER), the key, its PEM. */
export interface PublicKeyRef {
  id: string;
  key: KeyObject;
  pem: string;
  /** Where it came from (messages only). */
  source: string;
}

/** This machine's private key: signs, and is never printed. */
export interface Signer {
  id: string;
  /** Where the key came from (for messages; never the key). */
  source: string;
  publicKey: PublicKeyRef;
  sign(value: unknown): string;
}

const SIG = /^[A-Za-z0-9+/]{86}==$/;

/** The id of a public key: what entries name as their signer, and what `ftfuzz fleet workers` lists. */
export function keyId(key: KeyObject): string {
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** Whether `signature` is the Ed25519 signature of `value` (canonical JSON) by `key`. */
export function verifyWith(key: KeyObject, value: unknown, signature: unknown): boolean {
  if (typeof signature !== 'string' || !SIG.test(signature)) return false;
  try {
    return edVerify(null, Buffer.from(canonical(value)), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** A fresh key pair, as PEM text (PKCS#8 private, SPKI public). */
export function generateFleetKeys(): { privatePem: string; publicPem: string; id: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    id: keyId(publicKey),
  };
}

/**
 * Write a fresh key pair: FILE (the private key, mode 0600) and FILE.pub. Never over an existing file (a
 * lost private key cannot be recovered, only replaced and registered again).
 */
export async function writeKeyPair(file: string): Promise<{ id: string; privateFile: string; publicFile: string }> {
  const keys = generateFleetKeys();
  await fs.mkdir(dirname(file), { recursive: true, mode: 0o700 });
  for (const [f, text, mode] of [[file, keys.privatePem, 0o600], [`${file}.pub`, keys.publicPem, 0o644]] as const) {
    await fs.writeFile(f, text, { mode, flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`${f}: ${error.code === 'EEXIST' ? 'exists already; choose another name, or remove it if that key is no longer used' : (error.code ?? error.message)}`);
    });
  }
  return { id: keys.id, privateFile: file, publicFile: `${file}.pub` };
}

const GENERATE = 'ftfuzz fleet keygen FILE (FILE: the private key, FILE.pub: its public key)';

/** A signer from PEM text; a one-line UsageError naming `source` when it is not an Ed25519 private key. */
export function signerFrom(pem: string, source: string): Signer {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new UsageError(`fleet key from ${source} is not a private key (fleets use Ed25519 key pairs since format 2: make one with ${GENERATE})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new UsageError(`fleet key from ${source} is a ${key.asymmetricKeyType ?? 'symmetric'} key; fleets use Ed25519: make one with ${GENERATE}`);
  const pub = createPublicKey(key);
  const id = keyId(pub);
  return {
    id,
    source,
    publicKey: { id, key: pub, pem: pub.export({ type: 'spki', format: 'pem' }).toString(), source },
    sign: (value) => edSign(null, Buffer.from(canonical(value)), key).toString('base64'),
  };
}

/** A public key from PEM text (a private key's PEM gives its public key too); UsageError naming `source` otherwise. */
export function publicKeyFrom(pem: string, source: string): PublicKeyRef {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new UsageError(`${source} holds no public key (expected the .pub file ${GENERATE.split(' (')[0]} wrote)`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new UsageError(`${source} holds a ${key.asymmetricKeyType ?? 'non-Ed25519'} key; fleets use Ed25519 (${GENERATE})`);
  return { id: keyId(key), key, pem: key.export({ type: 'spki', format: 'pem' }).toString(), source };
}

function readKeyFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; make a key pair with ${GENERATE}`);
  }
}

/** This machine's fleet key: --fleet-key-file, else $FTFUZZ_FLEET_KEY_FILE, else $FTFUZZ_FLEET_KEY (PEM text). */
export function loadSigner(file?: string, env: NodeJS.ProcessEnv = process.env): Signer {
  const path = file ?? env.FTFUZZ_FLEET_KEY_FILE;
  if (path) return signerFrom(readKeyFile(path, 'fleet key file'), `file ${path}`);
  if (env.FTFUZZ_FLEET_KEY) return signerFrom(env.FTFUZZ_FLEET_KEY, '$FTFUZZ_FLEET_KEY');
  throw new UsageError(`a fleet needs this machine's key: make one with ${GENERATE}, then pass --fleet-key-file FILE (or set FTFUZZ_FLEET_KEY_FILE)`);
}

/**
 * The coordinator's public key, the fleet's trust anchor: --coordinator-key, else
 * $FTFUZZ_COORDINATOR_KEY_FILE, else this machine's own key (the machine is the coordinator).
 */
export function loadCoordinatorKey(me: Signer, file?: string, env: NodeJS.ProcessEnv = process.env): PublicKeyRef {
  const path = file ?? env.FTFUZZ_COORDINATOR_KEY_FILE;
  if (!path) return { ...me.publicKey, source: `${me.source} (this machine's own key)` };
  return publicKeyFrom(readKeyFile(path, 'coordinator key file'), `coordinator key file ${path}`);
}

/** A registered worker key (an entry of `{P}:workers` whose coordinator signature holds). */
export interface WorkerKey {
  id: string;
  name: string;
  key: KeyObject;
  registered: string;
}

/**
 * What a machine trusts: the coordinator's public key, and the worker keys registered under it (read from
 * the store, refreshed by it). `verify` accepts a signature by either.
 */
export class FleetTrust {
  readonly workers = new Map<string, WorkerKey>();

  constructor(
    readonly me: Signer,
    readonly coordinator: PublicKeyRef,
  ) {}

  /** Whether this machine holds the coordinator key (may sign jobs and register workers). */
  get isCoordinator(): boolean {
    return this.me.id === this.coordinator.id;
  }

  /** The public key of a signer id this machine trusts, or undefined. */
  keyOf(signer: unknown): KeyObject | undefined {
    if (typeof signer !== 'string') return undefined;
    if (signer === this.coordinator.id) return this.coordinator.key;
    return this.workers.get(signer)?.key;
  }

  /** Whether `signature` over `value` is by `signer`, and `signer` is the coordinator or a registered worker. */
  verify(signer: unknown, value: unknown, signature: unknown): boolean {
    const key = this.keyOf(signer);
    return key !== undefined && verifyWith(key, value, signature);
  }

  /** A name for a signer id in messages and reports. */
  nameOf(signer: string): string {
    if (signer === this.coordinator.id) return `coordinator ${signer}`;
    const w = this.workers.get(signer);
    return w ? `worker ${w.name} (${signer})` : `unregistered key ${signer}`;
  }
}

/** What a worker registration's coordinator signature covers. */
export function signedRegistration(prefix: string, id: string, name: string, publicPem: string, registered: string) {
  return { kind: 'ftfuzz-worker-key', prefix, id, name, publicPem, registered };
}

/** A worker name: what the operator calls the machine (one short token). */
export function workerNameProblem(name: string): string | undefined {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name) ? undefined : 'use 1-64 letters, digits, "_", "." or "-", starting with a letter or digit';
}

/** A Redis URL fit to print: the password (and user) replaced. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}
