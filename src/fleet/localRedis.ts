// A real redis-server for tests and the fleet benchmark: on a free loopback port, in a temporary directory, with the
// append-only file fsynced on every write (so a restart keeps everything), stopped at the end.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { whichOnPathSync } from '../runtime/targets.js';

export interface TestRedis {
  url: string;
  port: number;
  dir: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export function redisServerPath(): string {
  const found = whichOnPathSync('redis-server');
  if (!found) throw new Error('redis-server not found: install it: ftfuzz setup --for fleet (Debian package redis-server)');
  return found;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function startRedis(opts: { password?: string; tls?: boolean } = {}): Promise<TestRedis & { caFile?: string }> {
  const bin = redisServerPath();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  // TLS: a self-signed certificate for 127.0.0.1 (clients trust it with NODE_EXTRA_CA_CERTS).
  const caFile = path.join(dir, 'cert.pem');
  if (opts.tls) {
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', caFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl could not make a test certificate: ${r.stderr.trim()}`);
  }
  const launch = async () => {
    const listen = opts.tls ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', caFile, '--tls-key-file', path.join(dir, 'key.pem'), '--tls-ca-cert-file', caFile, '--tls-auth-clients', 'no'] : ['--port', String(port)];
    const args = [...listen, '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--maxmemory-policy', 'noeviction'];
    if (opts.password) args.push('--requirepass', opts.password);
    child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    const probe = new Redis({ port, host: '127.0.0.1', password: opts.password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, ...(opts.tls ? { tls: { ca: readFileSync(caFile) } } : {}) });
    probe.on('error', () => undefined);
    for (let i = 0; i < 100; i++) {
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`redis-server on port ${port} did not start`);
  };
  const stopChild = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child?.once('exit', r));
    child.kill('SIGTERM'); // redis-server flushes the append-only file and exits
    await exited;
  };
  await launch();
  const auth = opts.password ? `:${encodeURIComponent(opts.password)}@` : '';
  return {
    url: `${opts.tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}`,
    ...(opts.tls ? { caFile } : {}),
    port,
    dir,
    async restart() {
      await stopChild();
      await launch();
    },
    async stop() {
      await stopChild();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
