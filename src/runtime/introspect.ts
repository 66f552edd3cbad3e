// Module mode's introspection: the target interpreter imports the module and lists what ftfuzz can call
// (python/ftfuzz_introspect.py); generators/moduleMode.ts turns that surface into programs.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { EnvironmentError, UsageError } from '../errors.js';
import type { ModuleSurface } from '../generators/moduleMode.js';
import type { Target } from '../types.js';
import { packageRoot } from './paths.js';
import { invocation } from './tsan.js';

const INTROSPECT = path.join(packageRoot, 'python', 'ftfuzz_introspect.py');

export async function introspectModule(target: Pick<Target, 'path'> & Partial<Pick<Target, 'sanitizers' | 'tsanSuppressions'>>, module: string, env: NodeJS.ProcessEnv = process.env): Promise<ModuleSurface> {
  if (!/^[A-Za-z_][\w.]*$/.test(module)) throw new UsageError(`--module ${module}: not a module name`);
  // PYTHON_GIL left unset: whether the import turns the GIL on is what is measured. A TSan target runs with
  // its suppressions and keep-going options (and setarch -R where its TSan needs it).
  const { PYTHON_GIL: _gil, ...rest } = env;
  const { command, prefix, env: tsan } = await invocation(target);
  const childEnv = { ...rest, ...tsan };
  return new Promise((resolve, reject) => {
    // Not -I: a user's extension module may live on PYTHONPATH or in the current directory.
    const child = spawn(command, [...prefix, INTROSPECT, module], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
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
