// Provisioning free-threaded CPython from source into the user cache.
//
// Sources, in order: a tarball or URL the user names; Debian/Ubuntu source packages through
// `apt-get source` (the upstream `.orig.tar.xz` inside is the pristine python.org tarball, so no Debian
// patch is applied); the python.org tarball. A version series ("3.13") resolves to the newest patch
// release that can actually be downloaded: mirrors list versions they no longer serve (404), so each
// candidate is tried newest first.
import { spawn } from 'node:child_process';
import { createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { EnvironmentError, UsageError } from '../errors.js';
import type { Target } from '../types.js';
import { writeFileAtomic } from '../store/atomicWrite.js';
import { cacheDir } from './paths.js';
import { compareTargets, discoverTargets, probeTarget } from './targets.js';

export type Variant = 'release' | 'debug';

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

export interface InstallResult {
  target: Target;
  /** False when a matching install already existed (a second install is a no-op). */
  built: boolean;
  installDir: string;
  logPath: string | null;
}

interface InstallMarker {
  version: string;
  variant: Variant;
  executable: string;
  source: string;
  configureArgs: string[];
  builtAt: string;
  buildSeconds: number;
  log: string;
}

/** The series tried, newest first, when no version is given: the embedded default. */
export const DEFAULT_SERIES = ['3.14', '3.13'];

type VersionSpec = { kind: 'series'; series: string[] } | { kind: 'exact'; version: string };

export function parseVersionSpec(spec: string | undefined): VersionSpec {
  if (spec === undefined) return { kind: 'series', series: DEFAULT_SERIES };
  if (/^3\.\d+$/.test(spec)) return { kind: 'series', series: [spec] };
  if (/^3\.\d+\.\d+$/.test(spec)) return { kind: 'exact', version: spec };
  throw new UsageError(`--version ${spec}: expected a series like 3.13 or an exact release like 3.13.5`);
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function seriesOf(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}

export function installId(version: string, variant: Variant): string {
  return `cpython-${version}t-${variant}`;
}

/** Complete installs in the cache (marker present), matching a spec and variant. */
async function findInstalled(root: string, spec: VersionSpec, variant: Variant): Promise<InstallMarker[]> {
  const dir = path.join(root, 'pythons');
  let entries: string[] = [];
  try {
    entries = await fs.readdir(dir);
  } catch {
    return [];
  }
  const out: InstallMarker[] = [];
  for (const entry of entries) {
    try {
      const marker = JSON.parse(await fs.readFile(path.join(dir, entry, 'ftfuzz-install.json'), 'utf8')) as InstallMarker;
      if (marker.variant !== variant) continue;
      const matches =
        spec.kind === 'exact' ? marker.version === spec.version : spec.series.includes(seriesOf(marker.version));
      if (matches) out.push(marker);
    } catch {
      // no marker: not a complete install
    }
  }
  return out.sort((a, b) => compareVersions(b.version, a.version));
}

// ---------------------------------------------------------------------------------------------------
// Running commands with their output in the build log

interface Logged {
  stream: WriteStream;
  path: string;
}

function runLogged(
  command: string,
  args: string[],
  options: { cwd?: string; log: Logged; env?: NodeJS.ProcessEnv },
): Promise<number> {
  return new Promise((resolve) => {
    options.log.stream.write(`\n$ ${command} ${args.join(' ')}${options.cwd ? `   (in ${options.cwd})` : ''}\n`);
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => options.log.stream.write(chunk));
    child.stderr.on('data', (chunk: Buffer) => options.log.stream.write(chunk));
    child.on('error', (error) => {
      options.log.stream.write(`\n[ftfuzz] could not start ${command}: ${error.message}\n`);
      resolve(127);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

function capture(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (e) => resolve({ code: 127, stdout, stderr: e.message }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

function formatElapsed(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------------------------------
// Sources

interface SourceCandidate {
  version: string;
  /** Human description, recorded in the install marker. */
  description: string;
  /** Downloads (or locates) the tarball into `workDir`; returns its path, or null when unavailable. */
  fetch: (workDir: string, log: Logged) => Promise<string | null>;
}

/** Debian and Ubuntu: the machine's own apt URIs, with deb-src entries for newer suites. */
const DEBIAN_CODENAMES = ['buster', 'bullseye', 'bookworm', 'trixie', 'forky'];
const DEB_SRC_FILE = '/etc/apt/sources.list.d/ftfuzz-deb-src.sources';

interface AptUri {
  uri: string;
  suites: string[];
  signedBy: string | null;
}

async function readAptUris(): Promise<AptUri[]> {
  const out: AptUri[] = [];
  const dir = '/etc/apt/sources.list.d';
  let files: string[] = [];
  try {
    files = (await fs.readdir(dir)).filter((f) => f.endsWith('.sources') && path.join(dir, f) !== DEB_SRC_FILE).map((f) => path.join(dir, f));
  } catch {
    // no sources.list.d
  }
  for (const file of files) {
    const text = await fs.readFile(file, 'utf8').catch(() => '');
    for (const stanza of text.split(/\n\s*\n/)) {
      const field = (name: string): string | null => {
        const m = new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza);
        return m?.[1]?.trim() ?? null;
      };
      if (!(field('Types') ?? '').split(/\s+/).includes('deb')) continue;
      if ((field('Enabled') ?? 'yes').toLowerCase() === 'no') continue;
      for (const uri of (field('URIs') ?? '').split(/\s+/).filter(Boolean)) {
        out.push({ uri, suites: (field('Suites') ?? '').split(/\s+/).filter(Boolean), signedBy: field('Signed-By') });
      }
    }
  }
  const list = await fs.readFile('/etc/apt/sources.list', 'utf8').catch(() => '');
  for (const line of list.split('\n')) {
    const m = /^deb\s+(?:\[(?<opts>[^\]]*)\]\s+)?(?<uri>\S+)\s+(?<suite>\S+)/.exec(line.trim());
    if (m?.groups?.uri && m.groups.suite) {
      const signed = /signed-by=(\S+)/.exec(m.groups.opts ?? '');
      out.push({ uri: m.groups.uri, suites: [m.groups.suite], signedBy: signed?.[1] ?? null });
    }
  }
  return out;
}

/** The deb-src stanzas ftfuzz adds: the machine's suites and, on Debian, the newer ones that carry 3.13+. */
export function debSrcStanzas(uris: AptUri[], codename: string | null): string[] {
  const stanzas: string[] = [];
  const seen = new Set<string>();
  const current = codename ? DEBIAN_CODENAMES.indexOf(codename) : -1;
  for (const { uri, suites, signedBy } of uris) {
    if (seen.has(uri)) continue;
    seen.add(uri);
    const isSecurity = suites.some((s) => s.endsWith('-security'));
    const isDebian = /debian/.test(uri);
    let wanted: string[];
    if (isDebian && current >= 0) {
      const newer = DEBIAN_CODENAMES.slice(current);
      // Stable suites get -updates/-security; the last two codenames are testing and unstable-ish.
      wanted = isSecurity
        ? newer.slice(0, 2).map((c) => `${c}-security`)
        : [...newer.flatMap((c, i) => (i < 2 ? [c, `${c}-updates`] : [c])), 'sid'];
    } else {
      wanted = suites;
    }
    stanzas.push(
      ['Types: deb-src', `URIs: ${uri}`, `Suites: ${wanted.join(' ')}`, 'Components: main', signedBy ? `Signed-By: ${signedBy}` : '']
        .filter(Boolean)
        .join('\n'),
    );
  }
  return stanzas;
}

let aptPrepared: Promise<boolean> | null = null;

/** Enable deb-src entries (root only) and refresh their lists once a day. Returns false if apt is unusable. */
function prepareApt(root: string, say: (line: string) => void): Promise<boolean> {
  aptPrepared ??= (async () => {
    if (process.platform !== 'linux' || !(await capture('apt-get', ['--version'])).stdout) return false;
    const osRelease = await fs.readFile('/etc/os-release', 'utf8').catch(() => '');
    const codename = /^VERSION_CODENAME=(.*)$/m.exec(osRelease)?.[1]?.replace(/"/g, '') ?? null;
    const wanted = `# Written by ftfuzz (python install): source packages for building free-threaded CPython.\n${debSrcStanzas(await readAptUris(), codename).join('\n\n')}\n`;
    const existing = await fs.readFile(DEB_SRC_FILE, 'utf8').catch(() => null);
    if (existing !== wanted) {
      if (process.getuid?.() !== 0) {
        say(`Debian sources skipped: enabling deb-src entries needs root (would write ${DEB_SRC_FILE})`);
        return (await capture('apt-cache', ['showsrc', 'python3.13'])).code === 0;
      }
      await fs.writeFile(DEB_SRC_FILE, wanted);
      say(`enabled Debian source packages: wrote ${DEB_SRC_FILE} (deb-src only, from this machine's apt URIs)`);
    }
    const stamp = path.join(root, 'apt-update.stamp');
    const fresh = await fs.stat(stamp).then((s) => Date.now() - s.mtimeMs < 24 * 3600_000, () => false);
    if (!fresh && process.getuid?.() === 0) {
      say('refreshing source package lists (apt-get update on the deb-src entries only)');
      // Only our file is refreshed; a suite that does not exist on the mirror fails alone, the rest load.
      // Another install (another ftfuzz process) may be refreshing at the same moment, and apt-get update
      // does not wait for the lists lock (DPkg::Lock::Timeout covers dpkg's only): retry while it is held.
      // The stamp is written only after a refresh that worked (a failed one, stamped, left "no Debian
      // source packages" for a day: seen with two installs started together on a fresh machine).
      const update = () =>
        capture('apt-get', ['update', '-o', `Dir::Etc::sourcelist=${DEB_SRC_FILE}`, '-o', 'Dir::Etc::sourceparts=-', '-o', 'APT::Get::List-Cleanup=0']);
      let result = await update();
      for (let attempt = 0; attempt < 150 && result.code !== 0 && /Could not get lock|Unable to lock/.test(result.stderr); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 2000));
        result = await update();
      }
      if (result.code === 0) {
        await fs.mkdir(root, { recursive: true });
        await fs.writeFile(stamp, new Date().toISOString());
      }
    }
    return true;
  })();
  return aptPrepared;
}

interface DebianSource {
  pkg: string;
  debVersion: string;
  upstream: string;
}

async function debianCandidates(series: string[], root: string, say: (l: string) => void): Promise<SourceCandidate[]> {
  if (!(await prepareApt(root, say))) return [];
  const found: DebianSource[] = [];
  for (const s of series) {
    const pkg = `python${s}`;
    const { stdout } = await capture('apt-cache', ['showsrc', pkg]);
    for (const stanza of stdout.split(/\n\s*\n/)) {
      const name = /^Package:\s*(\S+)/m.exec(stanza)?.[1];
      const debVersion = /^Version:\s*(\S+)/m.exec(stanza)?.[1];
      const upstream = /\s(\S+)_(\d+\.\d+\.\d+)\.orig\.tar\.\w+$/m.exec(stanza)?.[2];
      if (name === pkg && debVersion && upstream) found.push({ pkg, debVersion, upstream });
    }
  }
  return found.map((d) => ({
    version: d.upstream,
    description: `Debian source package ${d.pkg}=${d.debVersion} (upstream tarball)`,
    fetch: async (workDir, log) => {
      const code = await runLogged('apt-get', ['source', '--download-only', `${d.pkg}=${d.debVersion}`], { cwd: workDir, log });
      if (code !== 0) return null;
      const orig = (await fs.readdir(workDir)).find((f) => f.includes(`_${d.upstream}.orig.tar.`) && !f.endsWith('.asc'));
      return orig ? path.join(workDir, orig) : null;
    },
  }));
}

async function download(url: string, dest: string, log: Logged): Promise<boolean> {
  log.stream.write(`\n$ GET ${url}\n`);
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(120_000) });
    if (!response.ok || !response.body) {
      log.stream.write(`HTTP ${response.status}\n`);
      return false;
    }
    await fs.writeFile(dest, Buffer.from(await response.arrayBuffer()));
    return true;
  } catch (error) {
    log.stream.write(`failed: ${(error as Error).message}\n`);
    return false;
  }
}

const PYTHON_ORG = 'https://www.python.org/ftp/python';

async function pythonOrgCandidates(spec: VersionSpec): Promise<SourceCandidate[]> {
  const make = (version: string): SourceCandidate => ({
    version,
    description: `python.org tarball Python-${version}.tar.xz`,
    fetch: async (workDir, log) => {
      const dest = path.join(workDir, `Python-${version}.tar.xz`);
      return (await download(`${PYTHON_ORG}/${version}/Python-${version}.tar.xz`, dest, log)) ? dest : null;
    },
  });
  if (spec.kind === 'exact') return [make(spec.version)];
  try {
    // Machines without access to python.org fail fast here (closed network) and simply get no candidates.
    const response = await fetch(`${PYTHON_ORG}/`, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) return [];
    const listing = await response.text();
    const versions = new Set<string>();
    for (const m of listing.matchAll(/href="(3\.\d+\.\d+)\/"/g)) {
      if (m[1] && spec.series.includes(seriesOf(m[1]))) versions.add(m[1]);
    }
    return [...versions].map(make);
  } catch {
    return [];
  }
}

async function userSourceCandidate(source: string): Promise<SourceCandidate> {
  const isUrl = /^https?:\/\//.test(source);
  if (!isUrl) {
    try {
      await fs.access(source);
    } catch {
      throw new UsageError(`--source ${source}: no such file; pass a CPython source tarball (.tar.xz/.tgz) or an http(s) URL`);
    }
  }
  return {
    version: '',
    description: isUrl ? `user URL ${source}` : `user tarball ${path.resolve(source)}`,
    fetch: async (workDir, log) => {
      if (!isUrl) return path.resolve(source);
      const dest = path.join(workDir, path.basename(new URL(source).pathname) || 'source.tar.xz');
      return (await download(source, dest, log)) ? dest : null;
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Building

async function readPatchlevel(srcDir: string): Promise<string | null> {
  const text = await fs.readFile(path.join(srcDir, 'Include', 'patchlevel.h'), 'utf8').catch(() => '');
  return /#define\s+PY_VERSION\s+"(\d+\.\d+\.\d+)[^"]*"/.exec(text)?.[1] ?? null;
}

async function extract(tarball: string, into: string, log: Logged): Promise<string | null> {
  await fs.mkdir(into, { recursive: true });
  if ((await runLogged('tar', ['xf', tarball, '-C', into], { log })) !== 0) return null;
  const dirs = (await fs.readdir(into, { withFileTypes: true })).filter((d) => d.isDirectory());
  const top = dirs.find((d) => d.name.startsWith('Python-')) ?? dirs[0];
  return top ? path.join(into, top.name) : null;
}

async function findExecutable(prefix: string, series: string, variant: Variant): Promise<string | null> {
  const bin = path.join(prefix, 'bin');
  const names = variant === 'debug' ? [`python${series}td`, `python${series}t`, `python${series}d`] : [`python${series}t`];
  for (const name of [...names, 'python3']) {
    const candidate = path.join(bin, name);
    if (await fs.access(candidate).then(() => true, () => false)) return candidate;
  }
  return null;
}

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
        (a, b) => compareVersions(b.version, a.version),
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

async function buildLocked(
  root: string,
  version: string,
  variant: Variant,
  sourceDescription: string,
  srcDir: string,
  log: Logged,
  say: (line: string) => void,
  options: InstallOptions,
): Promise<InstallResult> {
  const id = installId(version, variant);
  const prefix = path.join(root, 'pythons', id);
  const lockTarget = path.join(root, 'pythons', `${id}.install`);
  say(`taking the install lock ${lockTarget}.lock (another install of the same build is waited for)`);
  // proper-lockfile refreshes the lock's mtime while we hold it; a holder that died leaves a stale lock
  // that is taken over after `stale` ms. Builds take minutes, so waiters retry for up to an hour.
  const release = await lockfile.lock(lockTarget, {
    realpath: false,
    stale: 60_000,
    update: 10_000,
    retries: { retries: 720, minTimeout: 5_000, maxTimeout: 5_000 },
  });
  try {
    const already = (await findInstalled(root, { kind: 'exact', version }, variant))[0];
    if (already) {
      say(`already installed by another process: ${already.executable}`);
      return { target: await probeTarget(already.executable, 'cache'), built: false, installDir: prefix, logPath: already.log };
    }
    // An install without a marker is incomplete (killed mid-build): start over.
    await fs.rm(prefix, { recursive: true, force: true });
    const jobs = options.jobs ?? os.availableParallelism();
    // --disable-test-modules skips the _test* C modules and the installed test suite (Lib/test, byte-compiled
    // three times by make install): about a third of the build, and nothing ftfuzz runs.
    const configureArgs = ['--disable-gil', `--prefix=${prefix}`, '--with-ensurepip=no', '--disable-test-modules', ...(variant === 'debug' ? ['--with-pydebug'] : [])];
    const started = Date.now();
    const steps: { name: string; cmd: string; args: string[] }[] = [
      { name: 'configure', cmd: './configure', args: configureArgs },
      { name: 'make', cmd: 'make', args: [`-j${jobs}`] },
      { name: 'make install', cmd: 'make', args: ['install'] },
    ];
    say(`building CPython ${version}t (${variant}) from ${sourceDescription} with ${jobs} jobs; this takes a few minutes; log: ${log.path}`);
    for (const step of steps) {
      const stepStart = Date.now();
      say(`  ${step.name} ... (elapsed ${formatElapsed(Date.now() - started)})`);
      const heartbeat = setInterval(
        () => say(`  ${step.name} still running (elapsed ${formatElapsed(Date.now() - started)}, log: ${log.path})`),
        options.heartbeatMs ?? 30_000,
      );
      const code = await runLogged(step.cmd, step.args, { cwd: srcDir, log }).finally(() => clearInterval(heartbeat));
      if (code !== 0) {
        throw new EnvironmentError(
          `building CPython ${version}t failed at ${step.name} (exit ${code}); see the log ${log.path}, ` +
            `or point ftfuzz at an existing interpreter with --python PATH`,
        );
      }
      say(`  ${step.name} done in ${formatElapsed(Date.now() - stepStart)}`);
    }
    const executable = await findExecutable(prefix, seriesOf(version), variant);
    if (!executable) throw new EnvironmentError(`built CPython ${version}t, but found no interpreter under ${prefix}/bin (log: ${log.path})`);
    const target = await probeTarget(executable, 'cache');
    if (!target.freeThreaded) {
      throw new EnvironmentError(`${executable} was built with --disable-gil but reports a GIL build (log: ${log.path})`);
    }
    const buildSeconds = Math.round((Date.now() - started) / 1000);
    const marker: InstallMarker = {
      version,
      variant,
      executable,
      source: sourceDescription,
      configureArgs,
      builtAt: new Date().toISOString(),
      buildSeconds,
      log: log.path,
    };
    await writeFileAtomic(path.join(prefix, 'ftfuzz-install.json'), `${JSON.stringify(marker, null, 2)}\n`);
    say(`installed ${target.label} at ${executable} in ${formatElapsed(buildSeconds * 1000)}`);
    return { target, built: true, installDir: prefix, logPath: log.path };
  } finally {
    await release();
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
