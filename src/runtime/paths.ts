// Where ftfuzz keeps its own files: the interpreter cache (XDG), and the bundled Python harness.
import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `$FTFUZZ_CACHE_DIR`, else `$XDG_CACHE_HOME/ftfuzz`, else `~/.cache/ftfuzz`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FTFUZZ_CACHE_DIR) return path.resolve(env.FTFUZZ_CACHE_DIR);
  const xdg = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : null;
  return path.join(xdg ?? path.join(os.homedir(), '.cache'), 'ftfuzz');
}

/**
 * The package root: the nearest directory above this module that holds the Python harness. That is two levels
 * up from `src/runtime` (vitest) and from `dist/runtime` (the library build), three from `build/src/runtime`
 * (the benchmarks' build, which compiles `bench/` and the sources it imports into `build/`).
 */
export const packageRoot = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'python', 'ftfuzz_harness.py')) && existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`ftfuzz: no python/ftfuzz_harness.py above ${from}; reinstall the package`);
  }
}

export const harnessPath = path.join(packageRoot, 'python', 'ftfuzz_harness.py');
export const forkServerPath = path.join(packageRoot, 'python', 'ftfuzz_forkserver.py');
/** The SanitizerCoverage runtime of coverage builds, and where an install keeps it compiled. */
export const coverageRuntimeSource = path.join(packageRoot, 'native', 'ftfuzz_cov.c');
export const COVERAGE_RUNTIME_OBJECT = path.join('lib', 'ftfuzz', 'ftfuzz_cov.o');
/** A coverage install's witness label lines (provision/build.ts writeWitnessLabels). */
export const WITNESS_LABEL_FILE = path.join('share', 'ftfuzz', 'witness-labels.json');
/** The schedule perturbation shim (LD_PRELOAD), built on first use into the cache. */
export const schedShimSource = path.join(packageRoot, 'native', 'ftfuzz_sched.c');

/** Where provisioning keeps a copy of the source tree's Misc/NEWS, under an install's prefix (triage/news.ts). */
export const NEWS_COPY = path.join('share', 'ftfuzz', 'NEWS');
