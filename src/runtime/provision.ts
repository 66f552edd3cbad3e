// Provisioning free-threaded CPython from source into the user cache: which source to try (sources.ts),
// the build (build.ts), the cache and its markers (cache.ts).
//
// Sources, in order: a tarball or URL the user names; Debian/Ubuntu source packages through
// `apt-get source` (the upstream `.orig.tar.xz` inside is the pristine python.org tarball, so no Debian
// patch is applied); the python.org tarball. A version series ("3.13") resolves to the newest patch
// release that can actually be downloaded: mirrors list versions they no longer serve (404), so each
// candidate is tried newest first.
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { EnvironmentError, UsageError } from '../errors.js';
import type { Target } from '../types.js';
import { cacheDir } from './paths.js';
import { buildLocked, extract, readPatchlevel, type Built } from './provision/build.js';
import { DEFAULT_SERIES, findInstalled, newestFirst, parseVersionSpec, seriesOf, type Variant } from './provision/cache.js';
import { capture, type Logged } from './provision/commands.js';
import { debianCandidates, pythonOrgCandidates, userSourceCandidate, type SourceCandidate } from './provision/sources.js';
import { compareTargets, discoverTargets, probeTarget } from './targets.js';

export { DEFAULT_SERIES, installId, parseVersionSpec, VARIANTS, type Variant } from './provision/cache.js';
export { debSrcStanzas } from './provision/sources.js';

export interface InstallOptions {
  /** "3.13" (newest obtainable patch release), "3.13.5" (exact), or undefined (newest 3.14, else 3.13). */
  version?: string;
  variant?: Variant;
  /** A local tarball path or an http(s) URL. */
  source?: string;
  /** Parallel make jobs (default: all cores). */
  jobs?: number;
  cacheRoot?: string;
  /** Progress lines for humans. */
  log?: (line: string) => void;
  /** Heartbeat period while a build step runs. */
  heartbeatMs?: number;
}

/** The install, and whether this call built it (false: a matching install already existed). */
export type InstallResult = Built;

/**
 * Install a free-threaded CPython into the cache, or return the matching existing install.
 * Two concurrent installs of the same version and variant serialize on a lock; the second one finds
 * the first one's marker and does nothing.
 */
export async function installPython(options: InstallOptions = {}): Promise<InstallResult> {
  const root = options.cacheRoot ?? cacheDir();
  const variant = options.variant ?? 'release';
  const say = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const spec = parseVersionSpec(options.version);

  if (!options.source) {
    const existing = (await findInstalled(root, spec, variant))[0];
    if (existing) {
      say(`already installed: ${existing.executable} (CPython ${existing.version}t ${variant}); nothing to do`);
      return {
        target: await probeTarget(existing.executable, 'cache'),
        built: false,
        installDir: path.dirname(path.dirname(existing.executable)),
        logPath: existing.log,
      };
    }
  }

  if (variant === 'tsan' && (await capture('sh', ['-c', 'command -v clang && command -v clang++'])).code !== 0) {
    throw new EnvironmentError(
      'a ThreadSanitizer build needs clang, which is not on PATH; install it (Debian: apt-get install clang; ' +
        "ftfuzz's .ci/run does) or pass a TSan interpreter with --python PATH",
    );
  }
  for (const tool of ['make', 'cc', 'tar']) {
    if ((await capture('sh', ['-c', `command -v ${tool}`])).code !== 0) {
      throw new EnvironmentError(
        `building CPython needs ${tool}, which is not on PATH; install a C toolchain (Debian: apt-get install build-essential) ` +
          'or point ftfuzz at an existing interpreter with --python PATH',
      );
    }
  }
  await fs.mkdir(path.join(root, 'logs'), { recursive: true });
  await fs.mkdir(path.join(root, 'build'), { recursive: true });
  await fs.mkdir(path.join(root, 'pythons'), { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const logPath = path.join(root, 'logs', `install-${stamp}-${process.pid}.log`);
  const log: Logged = { stream: createWriteStream(logPath), path: logPath };
  const workDir = await fs.mkdtemp(path.join(root, 'build', 'work-'));
  const tried: string[] = [];
  try {
    let candidates: SourceCandidate[];
    if (options.source) {
      candidates = [await userSourceCandidate(options.source)];
    } else {
      const series = spec.kind === 'series' ? spec.series : [seriesOf(spec.version)];
      const fromDebian = await debianCandidates(series, root, say);
      const fromPythonOrg = await pythonOrgCandidates(spec);
      const wanted = (c: SourceCandidate) => (spec.kind === 'exact' ? c.version === spec.version : true);
      // Newest version first; for one version, Debian before python.org (the documented order).
      candidates = [...fromDebian.filter(wanted), ...fromPythonOrg.filter(wanted)].sort(
        (a, b) => newestFirst(a.version, b.version),
      );
      if (candidates.length === 0) tried.push('Debian source packages: none listed', 'python.org: unreachable or no matching release');
    }

    for (const candidate of candidates) {
      say(`fetching ${candidate.description}`);
      const tarball = await candidate.fetch(workDir, log);
      if (!tarball) {
        tried.push(`${candidate.description}: download failed`);
        continue;
      }
      const srcDir = await extract(tarball, path.join(workDir, 'src'), log);
      const version = srcDir ? await readPatchlevel(srcDir) : null;
      if (!srcDir || !version) {
        tried.push(`${candidate.description}: not a CPython source tree`);
        continue;
      }
      if (spec.kind === 'exact' && version !== spec.version) {
        throw new UsageError(`--source is CPython ${version}, but --version ${spec.version} was asked for`);
      }
      const result = await buildLocked(root, version, variant, candidate.description, srcDir, log, say, options);
      return result;
    }
    throw new EnvironmentError(
      `could not obtain CPython ${options.version ?? DEFAULT_SERIES.join(' or ')} source (tried: ${tried.join('; ') || 'nothing'}); ` +
        `pass --source TARBALL, or point ftfuzz at an interpreter with --python PATH or FTFUZZ_PYTHON (log: ${logPath})`,
    );
  } finally {
    log.stream.end();
    await fs.rm(workDir, { recursive: true, force: true });
  }
}

/**
 * The embedded default: the newest free-threaded interpreter ftfuzz can see (PATH, FTFUZZ_PYTHON,
 * cache), and if there is none, build the newest 3.14 or 3.13 release after saying so.
 */
export async function ensureDefaultTarget(options: { cacheRoot?: string; log?: (line: string) => void } = {}): Promise<Target> {
  const say = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const found = (await discoverTargets({ cacheRoot: options.cacheRoot }))
    .map((d) => d.target)
    .filter((t): t is Target => t !== null && t.freeThreaded && !t.debug)
    .sort(compareTargets);
  if (found[0]) return found[0];
  say('no free-threaded interpreter found (python3.14t, python3.13t, FTFUZZ_PYTHON, ftfuzz cache): building the default one now');
  return (await installPython({ cacheRoot: options.cacheRoot, log: say })).target;
}
