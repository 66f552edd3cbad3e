// Connecting to a fleet's Redis: reconnects forever, TLS for rediss://, and a one-line error naming the
// server (never its password) and what to do.
import { Redis } from 'ioredis';
import { EnvironmentError, UsageError } from '../errors.js';
import { redactUrl } from './trust.js';

const lastErrors = new WeakMap<Redis, string>();

/** A Redis connection for ftfuzz: reconnects forever (a restarted server is waited for), TLS for rediss://. */
export function connectRedis(url: string, opts: { bullmq?: boolean } = {}): Redis {
  if (!/^rediss?:\/\//.test(url)) throw new UsageError(`--redis ${redactUrl(url)}: expected a redis:// or rediss:// URL (e.g. redis://127.0.0.1:6379, rediss://:PASSWORD@host:6380/0)`);
  const client = new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(200 * times, 2000),
    lazyConnect: true,
    ...(opts.bullmq ? {} : { connectionName: 'ftfuzz' }),
  });
  // ioredis reports every failed reconnect as an 'error' event; the commands wait, so say nothing here
  // (the last one names the cause when the first connection fails).
  client.on('error', (error: Error) => lastErrors.set(client, error.message));
  return client;
}

/** Connect, or a one-line error naming the server (never its password) and what to do. */
export async function ensureConnected(client: Redis, url: string, timeoutMs = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        if (client.status === 'wait') await client.connect();
        await client.ping();
      })(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    client.disconnect();
    const message = (lastErrors.get(client) ?? (error as Error).message).replace(/\/\/[^@\s]*@/g, '//***@');
    const hint = /certificate|SSL|TLS/i.test(message)
      ? 'trust the server\'s CA with NODE_EXTRA_CA_CERTS=ca.pem (or check that the port speaks TLS)'
      : /WRONGPASS|NOAUTH|invalid password/i.test(message)
        ? 'give the password in the URL: redis://:PASSWORD@host:port'
        : 'start redis-server there or fix --redis';
    throw new EnvironmentError(`redis ${redactUrl(url)}: cannot connect (${message}); ${hint}`);
  } finally {
    clearTimeout(timer);
  }
}
