// Trust in a fleet: workers run what they take from the queue, so every job, corpus entry and bucket in
// the shared store carries an HMAC-SHA256 made with the fleet key. The key comes from the environment
// (FTFUZZ_FLEET_KEY) or a file (--fleet-key-file, FTFUZZ_FLEET_KEY_FILE), never from the command line,
// and is never printed. Anything unsigned or altered is refused by name.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { canonical } from '../canonical.js';
import { UsageError } from '../errors.js';

export interface FleetKey {
  /** Where the key came from (for messages; never the key). */
  source: string;
  sign(value: unknown): string;
  verify(value: unknown, signature: unknown): boolean;
}

/** Shortest key accepted: 16 bytes of text (a `openssl rand -hex 32` key is 64). */
export const MIN_KEY_LENGTH = 16;

export function fleetKeyFrom(secret: string, source: string): FleetKey {
  const key = secret.trim();
  if (key.length < MIN_KEY_LENGTH) throw new UsageError(`fleet key from ${source} is ${key.length} characters; use at least ${MIN_KEY_LENGTH} (e.g. openssl rand -hex 32)`);
  const mac = (value: unknown) => createHmac('sha256', key).update(canonical(value)).digest('hex');
  return {
    source,
    sign: mac,
    verify(value, signature) {
      if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/.test(signature)) return false;
      return timingSafeEqual(Buffer.from(mac(value), 'hex'), Buffer.from(signature, 'hex'));
    },
  };
}

/** The fleet key: --fleet-key-file, else $FTFUZZ_FLEET_KEY_FILE, else $FTFUZZ_FLEET_KEY. */
export function loadFleetKey(file?: string, env: NodeJS.ProcessEnv = process.env): FleetKey {
  const path = file ?? env.FTFUZZ_FLEET_KEY_FILE;
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new UsageError(`fleet key file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; create it (e.g. openssl rand -hex 32 > ${path}) and share it with every machine of the fleet`);
    }
    return fleetKeyFrom(text, `file ${path}`);
  }
  if (env.FTFUZZ_FLEET_KEY) return fleetKeyFrom(env.FTFUZZ_FLEET_KEY, '$FTFUZZ_FLEET_KEY');
  throw new UsageError('a fleet needs a shared key: set FTFUZZ_FLEET_KEY (e.g. export FTFUZZ_FLEET_KEY=$(openssl rand -hex 32)) or pass --fleet-key-file FILE, the same on every machine');
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
