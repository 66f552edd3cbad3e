// Where CPython sources come from, in order: a tarball or URL the user names; Debian/Ubuntu source
// packages through `apt-get source` (the upstream `.orig.tar.xz` inside is the pristine python.org
// tarball, so no Debian patch is applied); the python.org tarball.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { seriesOf, type VersionSpec } from './cache.js';
import { capture, runLogged, type Logged } from './commands.js';

export interface SourceCandidate {
  version: string;
  /** Human description, recorded in the install marker. */
  description: string;
  /** Downloads (or locates) the tarball into `workDir`; returns its path, or null when unavailable. */
  fetch: (workDir: string, log: Logged) => Promise<string | null>;
}

/** Debian and Ubuntu: the machine's own apt URIs, with deb-src entries for newer suites. */
const DEBIAN_CODENAMES = ['buster', 'bullseye', 'bookworm', 'trixie', 'forky'];
const DEB_SRC_FILE = '/etc/apt/sources.list.d/ftfuzz-deb-src.sources';

export interface AptUri {
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

export async function debianCandidates(series: string[], root: string, say: (l: string) => void): Promise<SourceCandidate[]> {
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

/** Upstream versions compared as numbers, part by part (`0.1.20250918` < `0.1.20251010`, `3.10` > `3.9`). */
function compareUpstream(a: string, b: string): number {
  const pa = a.split(/[^0-9]+/).filter(Boolean).map(Number);
  const pb = b.split(/[^0-9]+/).filter(Boolean).map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d) return d;
  }
  return 0;
}

/**
 * The pristine upstream tarball of a Debian source package (`setuptools`, `python-bitarray`, ...): its
 * versions the machine's apt knows, newest first, the first whose `.orig.tar.*` downloads (a mirror may
 * carry only some; the Debian packaging around it is not used). Null when none does.
 */
export async function debianUpstreamTarball(pkg: string, workDir: string, root: string, say: (l: string) => void): Promise<{ file: string; upstream: string; debVersion: string } | null> {
  if (!(await prepareApt(root, say))) return null;
  const { stdout } = await capture('apt-cache', ['showsrc', pkg]);
  const found: { debVersion: string; upstream: string }[] = [];
  for (const stanza of stdout.split(/\n\s*\n/)) {
    const debVersion = /^Version:\s*(\S+)/m.exec(stanza)?.[1];
    if (/^Package:\s*(\S+)/m.exec(stanza)?.[1] !== pkg || !debVersion) continue;
    found.push({ debVersion, upstream: debVersion.replace(/^\d+:/, '').replace(/-[^-]*$/, '').replace(/[+~](dfsg|ds|repack)\w*$/, '') });
  }
  found.sort((a, b) => compareUpstream(b.upstream, a.upstream));
  for (const f of found) {
    const dir = path.join(workDir, `${pkg}-${f.debVersion.replace(/[^\w.+-]/g, '_')}`);
    await fs.mkdir(dir, { recursive: true });
    // The exit code is not the test: a mirror missing the .dsc or the Debian tarball still gives the upstream one.
    await capture('apt-get', ['source', '--download-only', '-qq', `${pkg}=${f.debVersion}`], undefined, dir);
    const orig = (await fs.readdir(dir)).find((n) => /\.orig\.tar\.\w+$/.test(n));
    if (orig) return { file: path.join(dir, orig), ...f };
  }
  return null;
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

/**
 * python.org's release directory (`<base>/`: a listing of `3.X.Y/` directories, each with
 * `Python-3.X.Y.tar.xz`); `FTFUZZ_PYTHON_ORG` points it at a mirror of the same layout (and the tests at a
 * loopback server).
 */
export const pythonOrgBase = (): string => (process.env.FTFUZZ_PYTHON_ORG ?? 'https://www.python.org/ftp/python').replace(/\/+$/, '');

/**
 * python.org's tarballs, newest first. A download is not verified against a published checksum (python.org
 * signs releases with Sigstore, which ftfuzz does not verify): its SHA-256 is printed and kept in the install
 * marker for comparison with the release page, and the unpacked tree must declare the version asked for.
 */
export async function pythonOrgCandidates(spec: VersionSpec): Promise<SourceCandidate[]> {
  const PYTHON_ORG = pythonOrgBase();
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

export async function userSourceCandidate(source: string): Promise<SourceCandidate> {
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
