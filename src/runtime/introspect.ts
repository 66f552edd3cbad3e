// Module mode's introspection: the target interpreter imports the module and lists what ftfuzz can call
// (python/ftfuzz_introspect.py); generators/moduleMode.ts turns that surface into programs.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { EnvironmentError, UsageError } from '../errors.js';
import type { ModuleSurface } from '../generators/moduleMode.js';
import type { Target } from '../types.js';
import { packageRoot } from './paths.js';

const INTROSPECT = path.join(packageRoot, 'python', 'ftfuzz_introspect.py');

export function introspectModule(target: Pick<Target, 'path'>, module: string, env: NodeJS.ProcessEnv = process.env): Promise<ModuleSurface> {
  if (!/^[A-Za-z_][\w.]*$/.test(module)) return Promise.reject(new UsageError(`--module ${module}: not a module name`));
  return new Promise((resolve, reject) => {
    // Not -I: a user's extension module may live on PYTHONPATH or in the current directory.
    const child = spawn(target.path, [INTROSPECT, module], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      let surface: ModuleSurface;
      try {
        surface = JSON.parse(out.trim().split('\n').pop() ?? '') as ModuleSurface;
      } catch {
        reject(new EnvironmentError(`introspecting ${module} on ${target.path} failed (exit ${code}): ${err.trim().split('\n').pop() ?? ''}`));
        return;
      }
      if (surface.error) reject(new UsageError(`--module ${module}: cannot be imported on ${target.path} (${surface.error})`));
      else if (surface.classes.length === 0 && surface.functions.length === 0) {
        reject(new UsageError(`--module ${module}: no public class ftfuzz can construct and no public function to call`));
      } else resolve(surface);
    });
  });
}
