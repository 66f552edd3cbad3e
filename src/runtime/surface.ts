// The target's C surface (python/ftfuzz_surface.py), cached per interpreter. Introspection makes calls a
// program never would alone (deleting every attribute of a throw-away instance, ...), and an interpreter
// can die under one single-threaded: that probe is skipped on the next attempt and kept as a crash of the
// surface, so one crashing member never hides the rest.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../atomicWrite.js';
import { EnvironmentError, UsageError } from '../errors.js';
import type { Surface, SurfaceCrash } from '../generators/surface/types.js';
import type { Target } from '../types.js';
import { cacheDir, packageRoot } from './paths.js';
import { invocation } from './tsan.js';

const SCRIPT = path.join(packageRoot, 'python', 'ftfuzz_surface.py');

/** Attempts after crashes before introspection gives up (each crash skips one more probe). */
const MAX_CRASHES = 40;

export interface SurfaceOptions {
  /** Only these modules (module mode), with their functions; default: builtins and every C module. */
  modules?: readonly string[];
  /** A probe that runs longer than this is skipped (default STALL_MS). */
  stallMs?: number;
  /**
   * Where the whole interpreter's surface is cached; default `<cache>/surface`. Null: no cache. A surface
   * of named modules is never cached: a user's extension changes with every build, under the same name.
   */
  cache?: string | null;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

/** The cache key: the interpreter file (path, size, mtime) and the script. */
function cacheKey(target: Pick<Target, 'path' | 'executable'>): string {
  const exe = statSync(target.executable);
  const script = statSync(SCRIPT);
  return createHash('sha256')
    .update(JSON.stringify([target.path, target.executable, exe.size, exe.mtimeMs, script.size, script.mtimeMs]))
    .digest('hex')
    .slice(0, 20);
}

interface Attempt {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Killed after STALL_MS without announcing a probe: stuck in C code the per-call alarm cannot interrupt. */
  stalled: boolean;
}

/**
 * How long one probe may run before the interpreter is taken for stuck in it. The script interrupts a
 * learning call after 1 s with an alarm, but a loop in C never returns to the eval loop to take it (seen:
 * zstandard 0.25's read_compressor_input spinning on a learned argument).
 */
export const STALL_MS = 30_000;

async function runOnce(target: Pick<Target, 'path'> & Partial<Pick<Target, 'sanitizers' | 'tsanSuppressions'>>, args: string[], env: NodeJS.ProcessEnv, stallMs: number): Promise<Attempt> {
  const { command, prefix, env: tsan } = await invocation(target);
  return new Promise((resolve, reject) => {
    // Not -I: a user's extension module may live on PYTHONPATH or in the current directory.
    const child = spawn(command, [...prefix, SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, ...tsan, PYTHONFAULTHANDLER: '' } });
    let stdout = '';
    let stderr = '';
    let stalled = false;
    let watchdog: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        stalled = true;
        child.kill('SIGKILL');
      }, stallMs);
    };
    arm();
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 16));
      arm();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(watchdog);
      resolve({ code, signal, stdout, stderr, stalled });
    });
  });
}

/** The probe announced last before the interpreter died (`probe: KEY` lines on stderr). */
export function lastProbe(stderr: string): string | null {
  const lines = stderr.split('\n').filter((l) => l.startsWith('probe: '));
  return lines.length ? (lines[lines.length - 1] as string).slice('probe: '.length).trim() : null;
}

export async function introspectSurface(target: Pick<Target, 'path' | 'executable'> & Partial<Pick<Target, 'sanitizers' | 'tsanSuppressions'>>, o: SurfaceOptions = {}): Promise<Surface> {
  const modules = [...(o.modules ?? [])];
  for (const m of modules) if (!/^[A-Za-z_][\w.]*$/.test(m)) throw new UsageError(`--module ${m}: not a module name`);
  const dir = modules.length ? null : o.cache === undefined ? path.join(cacheDir(), 'surface') : o.cache;
  const file = dir ? path.join(dir, `${cacheKey(target)}.json`) : null;
  if (file) {
    const cached = await fs.readFile(file, 'utf8').then((t) => JSON.parse(t) as Surface, () => null);
    if (cached && Array.isArray(cached.types)) return cached;
  }
  const crashes: SurfaceCrash[] = [];
  for (;;) {
    const attempt = await runOnce(target, [...crashes.flatMap((c) => ['--skip', c.probe]), ...modules], o.env ?? process.env, o.stallMs ?? STALL_MS);
    if (attempt.code === 0) {
      let surface: Surface;
      try {
        surface = { ...(JSON.parse(attempt.stdout.trim().split('\n').pop() ?? '') as Omit<Surface, 'crashes'>), crashes };
      } catch {
        throw new EnvironmentError(`introspecting the surface of ${target.path} printed unreadable JSON; run python/ftfuzz_surface.py with it to see why`);
      }
      if (file) await writeFileAtomic(file, JSON.stringify(surface));
      return surface;
    }
    const probe = lastProbe(attempt.stderr);
    const stall = o.stallMs ?? STALL_MS;
    const how = attempt.stalled ? `stuck for ${(stall / 1000).toFixed(stall < 10_000 ? 1 : 0)} s` : (attempt.signal ?? `exit ${attempt.code}`);
    if (!probe || crashes.some((c) => c.probe === probe) || crashes.length >= MAX_CRASHES) {
      throw new EnvironmentError(`introspecting the surface of ${target.path} failed (${how}): ${attempt.stderr.trim().split('\n').filter((l) => !l.startsWith('probe: ')).pop() ?? ''}`);
    }
    o.log?.(`surface: ${target.path} ${attempt.stalled ? 'was' : 'died'} (${how}) under ${probe}, single-threaded; skipping it and going on`);
    crashes.push({ probe, how });
  }
}
