// Commands a build runs: their output goes to the build log, never to the user's terminal.
import { spawn } from 'node:child_process';
import type { WriteStream } from 'node:fs';

export interface Logged {
  stream: WriteStream;
  path: string;
}

/**
 * Run a build step with its output in the log. The step leads its own process group, so an abort (another
 * build of the same test setup failed, or the user stopped the install) kills `make` and every compiler it
 * started, not only `make`.
 */
export function runLogged(
  command: string,
  args: string[],
  options: { cwd?: string; log: Logged; env?: NodeJS.ProcessEnv; signal?: AbortSignal },
): Promise<number> {
  return new Promise((resolve) => {
    options.log.stream.write(`\n$ ${command} ${args.join(' ')}${options.cwd ? `   (in ${options.cwd})` : ''}\n`);
    if (options.signal?.aborted) {
      resolve(130);
      return;
    }
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    options.signal?.addEventListener('abort', kill, { once: true });
    child.stdout.on('data', (chunk: Buffer) => options.log.stream.write(chunk));
    child.stderr.on('data', (chunk: Buffer) => options.log.stream.write(chunk));
    child.on('error', (error) => {
      options.log.stream.write(`\n[ftfuzz] could not start ${command}: ${error.message}\n`);
      resolve(127);
    });
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', kill);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

export function capture(command: string, args: string[], env?: NodeJS.ProcessEnv, cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (e) => resolve({ code: 127, stdout, stderr: e.message }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

export function formatElapsed(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
