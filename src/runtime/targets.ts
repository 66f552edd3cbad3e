// Finding and probing Python interpreters. Each candidate is probed once per process: the probe asks
// the interpreter itself (sysconfig, sys) rather than trusting its file name, because a `python3` on
// PATH may be a wrapper, and a `python3.13t` may have been built with the GIL.
import { execFile } from 'node:child_process';
import { accessSync, promises as fs, constants as fsConstants, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { EnvironmentError } from '../errors.js';
import type { Target } from '../types.js';
import { cacheDir } from './paths.js';

const execFileAsync = promisify(execFile);

/** Where a TSan install keeps CPython's free-threading suppressions file, relative to its prefix. */
export const TSAN_SUPPRESSIONS = path.join('share', 'ftfuzz', 'tsan-suppressions.txt');

const PROBE_SCRIPT = `
import json, sys, sysconfig
cfg = sysconfig.get_config_var
args = cfg("CONFIG_ARGS") or ""
flags = " ".join(str(cfg(v) or "") for v in ("CONFIG_ARGS", "CFLAGS", "PY_CFLAGS", "LDFLAGS"))
san = []
for name, needles in (("address", ("--with-address-sanitizer", "-fsanitize=address")),
                      ("thread", ("--with-thread-sanitizer", "-fsanitize=thread")),
                      ("memory", ("--with-memory-sanitizer", "-fsanitize=memory")),
                      ("undefined", ("--with-undefined-behavior-sanitizer", "-fsanitize=undefined"))):
    if any(n in flags for n in needles):
        san.append(name)
print(json.dumps({
    "implementation": sys.implementation.name,
    "version": list(sys.version_info[:3]),
    "executable": sys.executable,
    "free_threaded": cfg("Py_GIL_DISABLED") == 1,
    "debug": hasattr(sys, "gettotalrefcount"),
    "abiflags": getattr(sys, "abiflags", ""),
    "sanitizers": san,
    "config_args": args,
    "prefix": sys.base_prefix,
    "coverage": "-fsanitize-coverage" in flags,
}))
`;

interface ProbeOutput {
  implementation: string;
  version: [number, number, number];
  executable: string;
  free_threaded: boolean;
  debug: boolean;
  abiflags: string;
  sanitizers: string[];
  config_args: string;
  prefix?: string;
  coverage?: boolean;
}

const probeCache = new Map<string, Promise<Target>>();

/** Probe one interpreter; throws EnvironmentError naming the path if it cannot be run. */
export function probeTarget(command: string, origin: Target['origin']): Promise<Target> {
  const key = `${origin}\0${command}`;
  let pending = probeCache.get(key);
  if (!pending) {
    pending = runProbe(command, origin);
    probeCache.set(key, pending);
    // A failed probe is not cached: the user may fix the path and call again in the same process.
    pending.catch(() => probeCache.delete(key));
  }
  return pending;
}

async function runProbe(command: string, origin: Target['origin']): Promise<Target> {
  let stdout: string;
  try {
    // PYTHON_GIL is cleared: a probe must not fail because the user's environment forces a mode.
    const env = { ...process.env };
    delete env.PYTHON_GIL;
    ({ stdout } = await execFileAsync(command, ['-I', '-c', PROBE_SCRIPT], { timeout: 30_000, env }));
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new EnvironmentError(
      `interpreter ${command} could not be probed (${reason}); pass a working one with --python PATH`,
      { cause: error },
    );
  }
  let out: ProbeOutput;
  try {
    out = JSON.parse(stdout.trim().split('\n').pop() ?? '') as ProbeOutput;
  } catch (error) {
    throw new EnvironmentError(`interpreter ${command} printed an unreadable probe answer`, { cause: error });
  }
  const version = out.version.join('.');
  const impl = out.implementation === 'cpython' ? 'CPython' : out.implementation;
  const extras = [out.debug ? 'debug' : '', ...out.sanitizers.map((s) => `${s}-sanitizer`), out.coverage ? 'coverage' : ''].filter(Boolean);
  // A TSan build ftfuzz made carries CPython's own free-threading suppressions beside it (provision/build.ts).
  const suppressions = out.sanitizers.includes('thread') && out.prefix ? path.join(out.prefix, TSAN_SUPPRESSIONS) : null;
  const hasSuppressions = suppressions !== null && (await fs.access(suppressions).then(() => true, () => false));
  return {
    path: command,
    executable: out.executable,
    origin,
    implementation: out.implementation,
    version,
    versionInfo: out.version,
    freeThreaded: out.free_threaded,
    debug: out.debug,
    sanitizers: out.sanitizers,
    abiflags: out.abiflags,
    configArgs: out.config_args,
    label: `${impl} ${version}${out.free_threaded ? 't' : ''}${extras.length ? ` (${extras.join(', ')})` : ''}`,
    ...(hasSuppressions && suppressions ? { tsanSuppressions: suppressions } : {}),
    ...(out.coverage ? { coverage: true } : {}),
  };
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await fs.access(file, fsConstants.X_OK);
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

/** Look a command up on PATH like a shell would. */
export function whichOnPath(name: string, envPath = process.env.PATH ?? ''): Promise<string | null> {
  return Promise.resolve(whichOnPathSync(name, envPath));
}

/** The same, synchronously: for the tools probed once, where no await is possible (gdb, setpriv, prlimit). */
export function whichOnPathSync(name: string, envPath = process.env.PATH ?? ''): string | null {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Interpreters ftfuzz built into its cache: `<cache>/pythons/<id>/bin/python3.Xt[d]`. */
export async function cachedInterpreterPaths(root = cacheDir()): Promise<string[]> {
  const pythons = path.join(root, 'pythons');
  let entries: string[];
  try {
    entries = (await fs.readdir(pythons)).sort();
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const entry of entries) {
    // An install is complete only once its marker exists (written last, atomically).
    const marker = path.join(pythons, entry, 'ftfuzz-install.json');
    try {
      const info = JSON.parse(await fs.readFile(marker, 'utf8')) as { executable?: string };
      if (info.executable && (await isExecutable(info.executable))) found.push(info.executable);
    } catch {
      // incomplete or foreign directory: not an interpreter of ours
    }
  }
  return found;
}

export interface DiscoverOptions {
  /** `--python` values, in order. */
  explicit?: string[];
  /** Skip PATH and cache lookups (used when the user named interpreters). */
  onlyExplicit?: boolean;
  env?: NodeJS.ProcessEnv;
  cacheRoot?: string;
}

export interface DiscoveredTarget {
  target: Target | null;
  /** Set when the candidate exists but could not be probed. */
  error: string | null;
  path: string;
  origin: Target['origin'];
}

/**
 * All interpreters ftfuzz can see, in priority order: --python, FTFUZZ_PYTHON (a PATH-style list),
 * python3.14t, python3.13t and python3 on PATH, then the ones ftfuzz built. Duplicates (same real
 * file and same origin class) are listed once.
 */
export async function discoverTargets(options: DiscoverOptions = {}): Promise<DiscoveredTarget[]> {
  const env = options.env ?? process.env;
  const candidates: { path: string; origin: Target['origin'] }[] = [];
  for (const p of options.explicit ?? []) candidates.push({ path: p, origin: 'flag' });
  if (!options.onlyExplicit) {
    for (const p of (env.FTFUZZ_PYTHON ?? '').split(path.delimiter).filter(Boolean)) {
      candidates.push({ path: p, origin: 'env' });
    }
    for (const name of ['python3.14t', 'python3.13t', 'python3']) {
      const found = await whichOnPath(name, env.PATH ?? '');
      if (found) candidates.push({ path: found, origin: 'path' });
    }
    for (const p of await cachedInterpreterPaths(options.cacheRoot)) candidates.push({ path: p, origin: 'cache' });
  }
  const seen = new Set<string>();
  const results: DiscoveredTarget[] = [];
  for (const c of candidates) {
    const resolved = await resolveCommand(c.path, env);
    // A wrapper script and the interpreter it wraps are different targets (flags may differ), but two
    // names for the same file are one: symlinks, and the hard links `make install` creates
    // (python3.13 and python3.13t are one file).
    const identity = await fs.stat(resolved).then((s) => `${s.dev}:${s.ino}`, () => resolved);
    if (seen.has(identity)) continue;
    seen.add(identity);
    try {
      results.push({ target: await probeTarget(resolved, c.origin), error: null, path: resolved, origin: c.origin });
    } catch (error) {
      results.push({ target: null, error: (error as Error).message, path: resolved, origin: c.origin });
    }
  }
  return results;
}

async function resolveCommand(command: string, env: NodeJS.ProcessEnv): Promise<string> {
  if (command.includes('/')) return path.resolve(command);
  return (await whichOnPath(command, env.PATH ?? '')) ?? command;
}

/** Newest first; a release build before a debug one of the same version (faster, the common target). */
export function compareTargets(a: Target, b: Target): number {
  for (let i = 0; i < 3; i++) {
    const d = (b.versionInfo[i] ?? 0) - (a.versionInfo[i] ?? 0);
    if (d !== 0) return d;
  }
  return Number(a.debug) - Number(b.debug);
}
