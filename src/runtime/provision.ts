// Provisioning free-threaded CPython from source into the user cache: which source to try (sources.ts),
// the build (build.ts), the cache and its markers (cache.ts).
//
// Sources, in order: a tarball or URL the user names; Debian/Ubuntu source packages through
// `apt-get source` (the upstream `.orig.tar.xz` inside is the pristine python.org tarball, so no Debian
// patch is applied); the python.org tarball. A version series ("3.13") resolves to the newest patch
// release that can actually be downloaded: mirrors list versions they no longer serve (404), so each
// candidate is tried newest first.
import { createHash } from 'node:crypto';
import { createWriteStream, promises as fs, rmSync } from 'node:fs';
import path from 'node:path';
import { EnvironmentError, UsageError } from '../errors.js';
import type { Target } from '../types.js';
import { cacheDir, NEWS_COPY } from './paths.js';
import { buildLocked, copyNews, extract, readPatchlevel, type Built } from './provision/build.js';
import { DEFAULT_SERIES, findInstalled, isCoverageVariant, isTsanVariant, newestFirst, parseVersionSpec, seriesOf, type Variant } from './provision/cache.js';
import { runLogged, type Logged } from './provision/commands.js';
import { ensureTools, missingTools } from './provision/tools.js';
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
  /** Stops the build: its processes are killed and its work directory removed. */
  signal?: AbortSignal;
}

// Work directories of builds in flight in this process: removed on exit even when the process ends
// without unwinding (vitest ending its global setup, process.exit on a second SIGINT). A build killed
// outright leaves its directory, named with its pid; the next install removes those whose process is gone.
const activeWorkDirs = new Set<string>();
let exitHookInstalled = false;

function removeOnExit(dir: string): void {
  activeWorkDirs.add(dir);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const d of activeWorkDirs) rmSync(d, { recursive: true, force: true });
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove `work-<pid>-*` directories of builds whose process no longer exists. Returns what was removed. */
export async function sweepAbandonedWorkDirs(buildRoot: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await fs.readdir(buildRoot).catch(() => [] as string[])) {
    const m = /^work-(\d+)-/.exec(name);
    // Directories from before work dirs carried a pid (`work-XXXXXX`) are abandoned by definition.
    if (!name.startsWith('work-') || (m && processAlive(Number(m[1])))) continue;
    await fs.rm(path.join(buildRoot, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
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
      await ensureNewsCopy(root, existing.version, path.dirname(path.dirname(existing.executable)), say);
      return {
        target: await probeTarget(existing.executable, 'cache'),
        built: false,
        installDir: path.dirname(path.dirname(existing.executable)),
        logPath: existing.log,
      };
    }
  }

  // A --source that is not there is the user's to fix before anything is installed or fetched.
  const userSource = options.source ? await userSourceCandidate(options.source) : undefined;
  await fs.mkdir(path.join(root, 'logs'), { recursive: true });
  await fs.mkdir(path.join(root, 'build'), { recursive: true });
  await fs.mkdir(path.join(root, 'pythons'), { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const logPath = path.join(root, 'logs', `install-${stamp}-${process.pid}.log`);
  const log: Logged = { stream: createWriteStream(logPath), path: logPath };
  const abandoned = await sweepAbandonedWorkDirs(path.join(root, 'build'));
  if (abandoned.length > 0) say(`removed ${abandoned.length} work director${abandoned.length === 1 ? 'y' : 'ies'} of interrupted builds (${abandoned.join(', ')})`);
  const workDir = await fs.mkdtemp(path.join(root, 'build', `work-${process.pid}-`));
  removeOnExit(workDir);
  const tried: string[] = [];
  try {
    let candidates: SourceCandidate[];
    if (options.source) {
      candidates = [userSource as SourceCandidate];
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
      // What was built from, by digest: in the install marker and on the screen (a python.org download is not
      // checked against a published checksum; compare it with the release page).
      const sha256 = createHash('sha256').update(await fs.readFile(tarball)).digest('hex');
      say(`${candidate.description}: sha256 ${sha256}`);
      const srcDir = await extract(tarball, path.join(workDir, 'src'), log);
      const version = srcDir ? await readPatchlevel(srcDir) : null;
      if (!srcDir || !version) {
        tried.push(`${candidate.description}: not a CPython source tree`);
        continue;
      }
      if (spec.kind === 'exact' && version !== spec.version) {
        throw new UsageError(`--source is CPython ${version}, but --version ${spec.version} was asked for`);
      }
      // The toolchain before the build (as root, from Debian's packages), once the source is known to be
      // CPython: a build that fails after minutes for want of clang, or silently leaves out _ctypes for want
      // of libffi-dev, is worse than a clear line now.
      await ensureBuildTools(variant, say);
      const result = await buildLocked(root, version, variant, `${candidate.description} (sha256 ${sha256})`, srcDir, log, say, options);
      return result;
    }
    throw new EnvironmentError(
      `could not obtain CPython ${options.version ?? DEFAULT_SERIES.join(' or ')} source (tried: ${tried.join('; ') || 'nothing'}); ` +
        `pass --source TARBALL, or point ftfuzz at an interpreter with --python PATH or FTFUZZ_PYTHON (log: ${logPath})`,
    );
  } finally {
    log.stream.end();
    await fs.rm(workDir, { recursive: true, force: true });
    activeWorkDirs.delete(workDir);
  }
}

/**
 * Installs made before ftfuzz kept the release's Misc/NEWS beside them get it now: the source is fetched
 * again (the tarball the build came from) and only Misc/NEWS is unpacked. Triage reads it for which release
 * fixed which gh issue; without it triage still works, from its own table. Never fails the caller.
 */
async function ensureNewsCopy(root: string, version: string, prefix: string, say: (line: string) => void): Promise<void> {
  if (await fs.access(path.join(prefix, NEWS_COPY)).then(() => true, () => false)) return;
  await fs.mkdir(path.join(root, 'build'), { recursive: true });
  const workDir = await fs.mkdtemp(path.join(root, 'build', `work-${process.pid}-`));
  removeOnExit(workDir);
  const log: Logged = { stream: createWriteStream(path.join(workDir, 'news.log')), path: path.join(workDir, 'news.log') };
  try {
    const candidates = [...(await debianCandidates([seriesOf(version)], root, () => undefined)), ...(await pythonOrgCandidates({ kind: 'exact', version }))].filter((c) => c.version === version);
    for (const candidate of candidates) {
      const tarball = await candidate.fetch(workDir, log);
      if (!tarball) continue;
      const into = path.join(workDir, 'src');
      await fs.mkdir(into, { recursive: true });
      if ((await runLogged('tar', ['xf', tarball, '-C', into, '--wildcards', '*/Misc/NEWS'], { log })) !== 0) continue;
      const top = (await fs.readdir(into))[0];
      if (top && (await copyNews(path.join(into, top), prefix))) {
        say(`kept CPython ${version}'s Misc/NEWS beside the install (from ${candidate.description}): triage reads which release fixed what`);
        return;
      }
    }
    say(`note: could not fetch CPython ${version}'s Misc/NEWS; triage names upstream fixes from its own table only`);
  } finally {
    log.stream.end();
    await fs.rm(workDir, { recursive: true, force: true });
    activeWorkDirs.delete(workDir);
  }
}

/**
 * The tools a build needs: installed when we are root with apt-get; otherwise a missing compiler (or clang for
 * TSan) stops the install with the command that installs it, while missing -dev libraries only cost modules
 * and are named in a warning.
 */
async function ensureBuildTools(variant: Variant, say: (line: string) => void): Promise<void> {
  // clang and llvm: TSan builds, and SanitizerCoverage builds (the same `tsan` tools).
  for (const purpose of isTsanVariant(variant) || isCoverageVariant(variant) ? (['build', 'tsan'] as const) : (['build'] as const)) {
    try {
      await ensureTools({ purpose, log: say });
    } catch (error) {
      if (!(error instanceof EnvironmentError)) throw error;
      const missing = await missingTools(purpose);
      if (missing.some((t) => !t.dpkg)) {
        throw new EnvironmentError(`${error.message}; or point ftfuzz at an existing interpreter with --python PATH`);
      }
      say(`warning: ${error.message} (the build goes on without the C modules they provide)`);
    }
  }
}

/**
 * The embedded default: the newest free-threaded release interpreter ftfuzz can see (PATH, FTFUZZ_PYTHON,
 * cache; not a debug, sanitizer or coverage build: those are chosen by name), and if there is none, build the newest 3.14 or 3.13 release after saying so.
 */
export async function ensureDefaultTarget(options: { cacheRoot?: string; log?: (line: string) => void } = {}): Promise<Target> {
  const say = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const found = (await discoverTargets({ cacheRoot: options.cacheRoot }))
    .map((d) => d.target)
    .filter((t): t is Target => t !== null && t.freeThreaded && !t.debug && !t.coverage && t.sanitizers.length === 0)
    .sort(compareTargets);
  if (found[0]) return found[0];
  say('no free-threaded interpreter found (python3.14t, python3.13t, FTFUZZ_PYTHON, ftfuzz cache): building the default one now');
  return (await installPython({ cacheRoot: options.cacheRoot, log: say })).target;
}
