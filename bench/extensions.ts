// `npm run bench -- extensions [--duration 2m] [--packages a,b]`: the free-threading readiness of real C
// extensions, as their authors would check it. Each package's pristine upstream tarball comes from Debian's
// source packages (the newest version the mirror carries); it is built into two venvs, one of the release
// 3.13.15t and one of the ThreadSanitizer 3.13.15t (`ftfuzz python venv --install`, so the TSan one is
// instrumented), and a bounded module-mode campaign runs on both (`ftfuzz fuzz --module`, the readiness
// report). The venvs and campaigns are kept under <cache>/readiness/ to be read and reproduced.
import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ReadinessReport } from '../src/triage/readiness.js';
import { installPython } from '../src/runtime/provision.js';
import { debianUpstreamTarball } from '../src/runtime/provision/sources.js';
import { cacheDir, packageRoot } from '../src/runtime/paths.js';
import { makeVenv } from '../src/runtime/venv.js';

const execFileAsync = promisify(execFile);

export interface ExtensionPackage {
  /** Debian source package. */
  pkg: string;
  /** The module a user imports. */
  module: string;
  /** Debian packages the build needs (a library the tarball does not carry), and the build's environment. */
  needs?: string[];
  env?: Record<string, string>;
  /** Files its build would generate with a tool we do not have (setuptools_scm): written into the tree first. */
  generated?: (version: string) => Record<string, string>;
}

export const PACKAGES: ExtensionPackage[] = [
  { pkg: 'markupsafe', module: 'markupsafe' },
  { pkg: 'pyrsistent', module: 'pyrsistent' },
  { pkg: 'python-regex', module: 'regex' },
  // The tarball's deps/xxhash is an empty git submodule: the build links Debian's libxxhash.
  // setuptools_scm writes xxhash/version.py (pyproject.toml's template); it is not in the tarball.
  {
    pkg: 'python-xxhash', module: 'xxhash', needs: ['libxxhash-dev'], env: { XXHASH_LINK_SO: '1' },
    generated: (v) => ({ 'xxhash/version.py': `VERSION = "${v}"\nVERSION_TUPLE = (${v.split('.').map(Number).join(', ')})\n` }),
  },
  { pkg: 'python-zstandard', module: 'zstandard' },
  { pkg: 'python-frozendict', module: 'frozendict' },
];

export interface ExtensionRow {
  pkg: string;
  version: string;
  module: string;
  /** What the source says of free-threading: Py_MOD_GIL_NOT_USED in its C code, the trove classifier. */
  declares: { modGilNotUsed: boolean; classifier: boolean };
  buildSeconds: number;
  readiness?: ReadinessReport;
  fuzzSeconds: number;
  exit: number | null;
  error?: string;
  dir: string;
}

async function grepTree(dir: string, re: RegExp, exts: RegExp): Promise<boolean> {
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && !/^(\.git|build|tests?|docs?)$/.test(e.name)) {
      if (await grepTree(p, re, exts)) return true;
    } else if (e.isFile() && exts.test(e.name) && re.test(await fs.readFile(p, 'utf8').catch(() => ''))) return true;
  }
  return false;
}

async function aptInstall(pkgs: string[], log: (l: string) => void): Promise<void> {
  const missing: string[] = [];
  for (const p of pkgs) if (!(await execFileAsync('dpkg-query', ['-W', '-f=${db:Status-Status}', p]).then((r) => r.stdout === 'installed', () => false))) missing.push(p);
  if (!missing.length) return;
  log(`apt-get install ${missing.join(' ')}`);
  await execFileAsync('apt-get', ['install', '-y', '-qq', ...missing], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

function runCli(args: string[], cwd: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(packageRoot, 'bin', 'ftfuzz.js'), ...args], { cwd, stdio: ['ignore', 'ignore', 'ignore'] });
    child.once('exit', (code) => resolve(code));
  });
}

/** Build and check one package; failures are rows with their reason, not exceptions. */
export async function checkExtension(p: ExtensionPackage, o: { durationS: number; log: (l: string) => void }): Promise<ExtensionRow> {
  const root = path.join(cacheDir(), 'readiness');
  const work = path.join(root, 'src');
  await fs.mkdir(work, { recursive: true });
  const row: ExtensionRow = { pkg: p.pkg, version: '?', module: p.module, declares: { modGilNotUsed: false, classifier: false }, buildSeconds: 0, fuzzSeconds: 0, exit: null, dir: '' };
  try {
    const src = await debianUpstreamTarball(p.pkg, work, cacheDir(), o.log);
    if (!src) throw new Error(`no version of Debian's ${p.pkg} source package downloads here`);
    row.version = src.upstream;
    const dir = path.join(root, `${p.pkg}-${src.upstream}`);
    row.dir = dir;
    const tree = path.join(dir, 'src');
    if (!(await fs.stat(tree).catch(() => null))) {
      await fs.mkdir(tree, { recursive: true });
      await execFileAsync('tar', ['xf', src.file, '-C', tree, '--strip-components=1']);
    }
    for (const [file, text] of Object.entries(p.generated?.(src.upstream) ?? {})) await fs.writeFile(path.join(tree, file), text);
    row.declares = {
      modGilNotUsed: await grepTree(tree, /Py_MOD_GIL_NOT_USED|Py_mod_gil/, /\.(c|h|pyx)$/),
      classifier: await grepTree(tree, /Free Threading/, /^(setup\.py|setup\.cfg|pyproject\.toml)$/),
    };
    await aptInstall(p.needs ?? [], o.log);
    const t0 = performance.now();
    const venvs: string[] = [];
    for (const variant of ['release', 'tsan'] as const) {
      const base = (await installPython({ version: '3.13', variant, log: () => undefined })).target;
      const venvDir = path.join(dir, variant);
      const built = await fs.stat(path.join(venvDir, '.ftfuzz-installed')).catch(() => null);
      const v = await makeVenv({ base, dir: venvDir, install: built ? [] : [tree], log: o.log, env: { ...process.env, ...p.env } });
      venvs.push(v.python);
      await fs.writeFile(path.join(venvDir, '.ftfuzz-installed'), new Date().toISOString());
    }
    row.buildSeconds = (performance.now() - t0) / 1000;
    const run = path.join(dir, `run-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    await fs.mkdir(run, { recursive: true });
    const t1 = performance.now();
    row.exit = await runCli(['fuzz', '--module', p.module, ...venvs.flatMap((v) => ['--python', v]), '--duration', `${o.durationS}s`, '--seed', `readiness-${p.pkg}`, '--json', 'stats.json', '--crashes', 'crashes', '--corpus', 'corpus'], run);
    row.fuzzSeconds = (performance.now() - t1) / 1000;
    const stats = JSON.parse(await fs.readFile(path.join(run, 'stats.json'), 'utf8').catch(() => '{}')) as { readiness?: ReadinessReport };
    row.readiness = stats.readiness;
    row.dir = run;
    if (!stats.readiness) row.error = `no readiness report (ftfuzz fuzz exited ${row.exit})`;
  } catch (error) {
    row.error = ((error as Error).message.split('\n')[0] ?? '').slice(0, 200);
  }
  return row;
}

/** One line of the table: package, GIL, what was exercised, families and where they lie, time. */
export function formatExtensionRow(r: ExtensionRow): { name: string; value: string; note: string } {
  const rd = r.readiness;
  if (!rd) return { name: `${r.pkg} ${r.version}`, value: 'not run', note: r.error ?? '' };
  const hasC = rd.targets.some((t) => t.extensions.length > 0);
  const tsan = rd.targets.flatMap((t) => t.extensions).some((e) => e.tsanInstrumented === true);
  const gil = !hasC ? 'pure Python' : rd.gilKeptOff === null ? 'GIL on before the import' : rd.gilKeptOff ? 'GIL stays off' : 'GIL turned on';
  const families = rd.families.map((f) => `${f.kind} ${f.where}: ${f.frames.slice(0, 2).join(' ~ ') || f.title.slice(0, 60)}`).join('; ');
  return {
    name: `${r.pkg} ${r.version} (${rd.module})`,
    value: rd.verdict,
    note: `${gil}${hasC ? (tsan ? ', TSan-instrumented' : ', not instrumented') : ''}; source declares Py_mod_gil: ${r.declares.modGilNotUsed ? 'yes' : 'no'}, classifier: ${r.declares.classifier ? 'yes' : 'no'}; calls ${rd.calls.exercised}/${rd.calls.generated}${rd.surface ? `, pairs ${rd.surface.pairsExercised}/${rd.surface.pairs}` : ''}; ${rd.families.length} famil${rd.families.length === 1 ? 'y' : 'ies'}${families ? ` (${families})` : ''}; build ${r.buildSeconds.toFixed(0)} s, fuzz ${r.fuzzSeconds.toFixed(0)} s; ${r.dir}`,
  };
}
