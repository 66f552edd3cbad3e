// Where ftfuzz keeps its own files: the interpreter cache (XDG), and the bundled Python harness.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** `$FTFUZZ_CACHE_DIR`, else `$XDG_CACHE_HOME/ftfuzz`, else `~/.cache/ftfuzz`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FTFUZZ_CACHE_DIR) return path.resolve(env.FTFUZZ_CACHE_DIR);
  const xdg = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : null;
  return path.join(xdg ?? path.join(os.homedir(), '.cache'), 'ftfuzz');
}

/** The package root (works from `src/` under vitest and from `dist/` when built). */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const harnessPath = path.join(packageRoot, 'python', 'ftfuzz_harness.py');
export const forkServerPath = path.join(packageRoot, 'python', 'ftfuzz_forkserver.py');

/** Where provisioning keeps a copy of the source tree's Misc/NEWS, under an install's prefix (triage/news.ts). */
export const NEWS_COPY = path.join('share', 'ftfuzz', 'NEWS');
