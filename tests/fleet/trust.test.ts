// Fleet trust without a Redis: keys with roles (only the coordinator's key makes a job; each worker signs
// what it writes with its own), how this machine's key is read, a server that is not there, commit chunks.
// The store on a real redis-server is tests/integration/fleetStore.test.ts.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { chunksOf, connectRedis, ensureConnected, EVAL_BYTES } from '../../src/fleet/store.js';
import { FleetTrust, generateFleetKeys, loadCoordinatorKey, loadSigner, publicKeyFrom, redactUrl, signerFrom } from '../../src/fleet/trust.js';
import { makeFleetKeys, type LocalFleetKeys } from '../../src/fleet/keyring.js';
import { generateKeyPairSync } from 'node:crypto';
import { resolveSettings } from '../../src/campaign/settings.js';
import { signJob, verifyJob, SLICE_FORMAT, type SlicePayload } from '../../src/fleet/fleet.js';

let keys: LocalFleetKeys;

beforeAll(async () => {
  keys = await makeFleetKeys(await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-keys-')), ['w1', 'w2', 'rogue']);
});

describe('fleet trust', () => {
  it('jobs: only the coordinator\'s key makes one; altered, unsigned, worker-signed and foreign ones are refused by name', () => {
    const payload: SlicePayload = { format: SLICE_FORMAT, campaign: 'c', slice: 0, corpusUpTo: 0, settings: resolveSettings({ seed: 's', maxPrograms: 2, modes: ['gil-off'], reproTrials: 1 }) };
    const worker = (keys.workers[0] as LocalFleetKeys['workers'][number]).trust;
    const job = signJob(keys.coordinator.trust.me, payload);
    expect(verifyJob(worker, job).payload).toEqual(payload);
    expect(verifyJob(worker, { ...job, payload: { ...payload, settings: { ...payload.settings, seed: 'evil' } } }).refused).toMatch(/signature does not match the fleet coordinator's key/);
    expect(verifyJob(worker, { payload }).refused).toBe('unsigned');
    // A registered worker's key signs what it writes, never a job: a compromised worker cannot make the others run anything.
    expect(verifyJob(worker, signJob(worker.me, payload)).refused).toMatch(/signed by a worker's key/);
    const other = signerFrom(generateFleetKeys().privatePem, 'another fleet');
    expect(verifyJob(worker, signJob(other, payload)).refused).toMatch(/signature does not match/);
    expect(verifyJob(new FleetTrust(other, other.publicKey), job).refused).toMatch(/signature does not match/);
    expect(verifyJob(worker, 'junk').refused).toMatch(/not an ftfuzz slice/);
  });

  it('reads this machine\'s key from a file or the environment, refuses what is not an Ed25519 private key, and never prints a password', () => {
    expect(() => loadSigner(undefined, {})).toThrow(/ftfuzz fleet keygen FILE/);
    // A shared secret of the HMAC fleets: a one-line error saying what to do now.
    expect(() => loadSigner(undefined, { FTFUZZ_FLEET_KEY: 'z'.repeat(40) })).toThrow(/^fleet key from \$FTFUZZ_FLEET_KEY is not a private key .*ftfuzz fleet keygen FILE/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => loadSigner(undefined, { FTFUZZ_FLEET_KEY: rsa })).toThrow(/is a rsa key; fleets use Ed25519/);
    const w = keys.workers[0] as LocalFleetKeys['workers'][number];
    expect(loadSigner(w.file, {}).id).toBe(w.trust.me.id);
    expect(loadSigner(undefined, { FTFUZZ_FLEET_KEY_FILE: w.file }).source).toBe(`file ${w.file}`);
    expect(() => loadSigner(`${w.file}.missing`, {})).toThrow(/ENOENT/);
    // The coordinator's public key: given, or this machine's own; a private key file in its place gives its public half.
    const me = loadSigner(w.file, {});
    expect(loadCoordinatorKey(me, keys.coordinator.pub, {}).id).toBe(keys.coordinator.trust.me.id);
    expect(loadCoordinatorKey(me, undefined, {}).id).toBe(me.id);
    expect(() => publicKeyFrom('junk', 'coordinator key file x.pub')).toThrow(/coordinator key file x.pub holds no public key/);
    expect(redactUrl('rediss://user:secret@host:6380/1')).toBe('rediss://user:***@host:6380/1');
    expect(redactUrl('redis://:p%40ss%20word@127.0.0.1:6379')).not.toContain('ss%20word');
  });

  it('a server that is not there is a one-line environment error naming it, without the password', async () => {
    const url = 'redis://:hunter2hunter2@127.0.0.1:1';
    const c = connectRedis(url);
    const err = await ensureConnected(c, url, 3000).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/redis redis:\/\/:\*\*\*@127\.0\.0\.1:1\/?: cannot connect/);
    expect((err as Error).message).not.toContain('hunter2');
  });
});

describe('commit chunks', () => {
  it('carry at most 256 KiB and 100 entries each, a larger entry alone, in order', () => {
    const sizes = [100_000, 100_000, 100_000, 300_000, 10, ...Array.from({ length: 150 }, () => 1)];
    const chunks = chunksOf(sizes, (n) => n);
    expect(chunks.flat()).toEqual(sizes);
    expect(chunks.slice(0, 3)).toEqual([[100_000, 100_000], [100_000], [300_000]]);
    for (const c of chunks) expect(c.length === 1 || (c.reduce((a, b) => a + b, 0) <= EVAL_BYTES && c.length <= 100)).toBe(true);
  });
});

