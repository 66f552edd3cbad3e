// A virtual environment of a free-threaded interpreter, for building a C extension the way its author
// would (`pip install .`) and fuzzing it with module mode. Offline: pip comes from the interpreter's own
// ensurepip; setuptools (and wheel, when there is one) from local wheels: $FTFUZZ_WHEELS, else a wheel
// built once from Debian's newest downloadable `setuptools` source package (its pristine upstream tarball,
// built by its own in-tree backend) into <cache>/wheels, else Debian's /usr/share/python-wheels
// (python3-setuptools-whl: on bookworm setuptools 66, too old for a pyproject.toml with a PEP 639 license
// string, as markupsafe 3 has). On a
// ThreadSanitizer interpreter the extension is compiled with the interpreter's own sysconfig flags
// (`clang -fsanitize=thread`), so its code is instrumented and TSan sees races inside it; pip itself runs
// under TSan with CPython's suppressions and TSan's keep-going options (its default exit code 66 on a report
// would fail the install).
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { EnvironmentError, UsageError } from '../errors.js';
import type { Target } from '../types.js';
import { ensureTools } from './provision/tools.js';
import { debianUpstreamTarball } from './provision/sources.js';
import { cacheDir } from './paths.js';
import { invocation, isTsan } from './tsan.js';

const execFileAsync = promisify(execFile);

/** Where wheels built from Debian's setuptools source package are kept. */
export const wheelCache = (env: NodeJS.ProcessEnv = process.env) => path.join(cacheDir(env), 'wheels');

/** Where local wheels are looked for, in order (the first with a setuptools wheel is used). */
export function wheelDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  return [...(env.FTFUZZ_WHEELS ? env.FTFUZZ_WHEELS.split(':').filter(Boolean) : []), wheelCache(env), '/usr/share/python-wheels'];
}

/** Build a setuptools wheel from Debian's newest downloadable setuptools source into the cache (null: none downloads). */
async function buildSetuptoolsWheel(base: Target, python: string, env: NodeJS.ProcessEnv | undefined, say: (line: string) => void): Promise<string | null> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-setuptools-'));
  try {
    const src = await debianUpstreamTarball('setuptools', work, cacheDir(env), say);
    if (!src) return null;
    say(`building a setuptools ${src.upstream} wheel from Debian's source package setuptools=${src.debVersion} into ${wheelCache(env)}`);
    await execFileAsync('tar', ['xf', src.file, '-C', work]);
    const dir = (await fs.readdir(work, { withFileTypes: true })).find((e) => e.isDirectory() && e.name.startsWith('setuptools-'));
    if (!dir) return null;
    await fs.mkdir(wheelCache(env), { recursive: true });
    await runPython(base, python, ['-m', 'pip', 'wheel', '--no-index', '--no-build-isolation', '--no-deps', '-w', wheelCache(env), path.join(work, dir.name)], 'building the setuptools wheel', env);
    return wheelCache(env);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

async function findWheels(dirs: string[]): Promise<{ dir: string; setuptools: string; wheel: string | null } | null> {
  for (const dir of dirs) {
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    const setuptools = names.filter((n) => /^setuptools-.*\.whl$/.test(n)).sort().pop();
    if (setuptools) return { dir, setuptools: path.join(dir, setuptools), wheel: names.filter((n) => /^wheel-.*\.whl$/.test(n)).sort().map((n) => path.join(dir, n)).pop() ?? null };
  }
  return null;
}

export interface VenvInfo {
  format: 1;
  /** The interpreter the environment was made from, and what it is. */
  base: string;
  label: string;
  sanitizers: string[];
  created: string;
  setuptools: string;
}

export interface Venv {
  dir: string;
  /** The environment's interpreter: what `--python` takes. */
  python: string;
  info: VenvInfo;
}

const INFO = 'ftfuzz-venv.json';

/** The environment's interpreter path. */
export const venvPython = (dir: string) => path.join(dir, 'bin', 'python');

/** Run the environment's python (under setarch -R when its TSan needs it), one line of its stderr on failure. */
async function runPython(base: Target, python: string, args: string[], what: string, baseEnv: NodeJS.ProcessEnv = process.env): Promise<string> {
  const { command, prefix, env: tsan } = await invocation(base, python);
  const env = { ...baseEnv, ...tsan, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1', PIP_NO_INDEX: '1' };
  try {
    const { stdout } = await execFileAsync(command, [...prefix, ...args], { env, timeout: 30 * 60_000, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; code?: number | string };
    const lines = `${e.stderr ?? ''}\n${e.stdout ?? ''}`.split('\n').map((l) => l.trim()).filter((l) => l && !/^(WARNING: ThreadSanitizer|SUMMARY: ThreadSanitizer|={10,})/.test(l));
    const error_ = lines.filter((l) => /error|Error|ERROR/.test(l)).pop() ?? lines.pop() ?? String(e.code);
    throw new EnvironmentError(`${what} failed (${e.code ?? 'killed'}): ${error_.slice(0, 300)}`, { cause: error });
  }
}

/**
 * Make (or reuse) a virtual environment of `base` in `dir`, with pip and setuptools, and install each of
 * `install` into it (a project directory, an sdist or a wheel: what `pip install` takes), without an index
 * and without build isolation (the environment's setuptools builds it).
 */
/**
 * `env`: the environment pip and the build run in, and where FTFUZZ_WHEELS and the cache are read (default
 * process.env): a project's build switches go there (XXHASH_LINK_SO=1).
 */
export async function makeVenv(o: { base: Target; dir: string; install?: string[]; log?: (line: string) => void; env?: NodeJS.ProcessEnv }): Promise<Venv> {
  const say = o.log ?? (() => undefined);
  const dir = path.resolve(o.dir);
  const python = venvPython(dir);
  if (!o.base.freeThreaded) throw new UsageError(`${o.base.path} is not a free-threaded build; a readiness venv needs one (ftfuzz python install --variant release|tsan)`);
  const existing = await readVenvInfo(dir);
  if (existing && existing.base !== o.base.path) throw new UsageError(`${dir} is a venv of ${existing.base}, not of ${o.base.path}; choose another directory`);
  if (!existing) {
    const entries = await fs.readdir(dir).catch(() => [] as string[]);
    if (entries.length) throw new UsageError(`${dir} exists and is not an ftfuzz venv; choose a new directory`);
    say(`making a venv of ${o.base.label} in ${dir}`);
    await runPython(o.base, o.base.path, ['-m', 'venv', dir], `python -m venv ${dir}`, o.env);
  }
  let wheels = await findWheels(wheelDirs(o.env).filter((d) => d !== '/usr/share/python-wheels'));
  if (!wheels && (await buildSetuptoolsWheel(o.base, python, o.env, say))) wheels = await findWheels([wheelCache(o.env)]);
  if (!wheels) {
    await ensureTools({ purpose: 'venv', log: say });
    wheels = await findWheels(wheelDirs(o.env));
    if (wheels) say(`no newer setuptools could be built here: using ${path.basename(wheels.setuptools)} from ${wheels.dir} (projects whose pyproject.toml needs a newer one will not build)`);
  }
  if (!wheels) throw new EnvironmentError(`no setuptools wheel in ${wheelDirs(o.env).join(', ')}; install Debian's python3-setuptools-whl, or put a setuptools wheel in a directory named by FTFUZZ_WHEELS`);
  if (!existing) {
    say(`installing ${path.basename(wheels.setuptools)}${wheels.wheel ? ` and ${path.basename(wheels.wheel)}` : ''} from ${wheels.dir}`);
    await runPython(o.base, python, ['-m', 'pip', 'install', '--no-index', '--find-links', wheels.dir, wheels.setuptools, ...(wheels.wheel ? [wheels.wheel] : [])], 'installing setuptools into the venv', o.env);
  }
  const info: VenvInfo = existing ?? { format: 1, base: o.base.path, label: o.base.label, sanitizers: o.base.sanitizers, created: new Date().toISOString(), setuptools: path.basename(wheels.setuptools) };
  await fs.writeFile(path.join(dir, INFO), `${JSON.stringify(info, null, 2)}\n`);
  for (const spec of o.install ?? []) {
    say(`pip install ${spec} into ${dir}${isTsan(o.base) ? ' (compiled with -fsanitize=thread, from the interpreter\'s sysconfig)' : ''}`);
    // A project directory is built from a fresh copy: pip builds in the tree, and a build/ left by the release
    // interpreter's install (same platform tag) would be taken as up to date by the TSan one, uninstrumented.
    const fresh = (await fs.stat(spec).catch(() => null))?.isDirectory() ? await freshCopy(spec) : null;
    try {
      await runPython(o.base, python, ['-m', 'pip', 'install', '--no-index', '--no-build-isolation', '--force-reinstall', '--no-deps', '--find-links', wheels.dir, fresh ?? spec], `pip install ${spec}`, o.env);
    } finally {
      if (fresh) await fs.rm(path.dirname(fresh), { recursive: true, force: true });
    }
  }
  return { dir, python, info };
}

/** A copy of a project directory without its build products and VCS data, in a scratch directory. */
async function freshCopy(project: string): Promise<string> {
  const to = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-build-')), path.basename(path.resolve(project)));
  const root = path.resolve(project);
  await fs.cp(root, to, { recursive: true, filter: (src) => !/^(build|dist|\.git|\.tox|\.nox|\.venv|__pycache__)$|\.egg-info$/.test(path.relative(root, src).split(path.sep)[0] ?? '') });
  return to;
}

export async function readVenvInfo(dir: string): Promise<VenvInfo | null> {
  try {
    const info = JSON.parse(await fs.readFile(path.join(dir, INFO), 'utf8')) as VenvInfo;
    return info.format === 1 && typeof info.base === 'string' ? info : null;
  } catch {
    return null;
  }
}

/** The shared objects an importable module or package is made of (and those its import loads from outside the stdlib), found by the target itself. */
export async function extensionFiles(target: Pick<Target, 'path' | 'sanitizers' | 'tsanSuppressions'>, module: string): Promise<string[]> {
  // Its own shared objects, and every other one its import loaded from outside the interpreter's own tree
  // (pyrsistent's C code is a top-level module, pvectorc, that the package imports).
  const script = `
import importlib, importlib.machinery, json, os, sys
sufs = tuple(importlib.machinery.EXTENSION_SUFFIXES)
base = os.path.realpath(sys.base_prefix) + os.sep
before = set(sys.modules)
m = importlib.import_module(sys.argv[1])
files = []
for d in getattr(m, "__path__", []) or []:
    for root, _, names in os.walk(d):
        files += [os.path.join(root, n) for n in names if n.endswith(sufs)]
for name, mod in list(sys.modules.items()):
    f = getattr(mod, "__file__", None) or ""
    if (name not in before or name == sys.argv[1]) and f.endswith(sufs) and not os.path.realpath(f).startswith(base):
        files.append(f)
print(json.dumps(sorted(set(files))))
`;
  const { command, prefix, env: tsan } = await invocation(target);
  const env = { ...process.env, ...tsan, PYTHON_GIL: '0' };
  const { stdout } = await execFileAsync(command, [...prefix, '-c', script, module], { env, timeout: 120_000 });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '[]') as string[];
}

/** Whether a shared object was compiled with ThreadSanitizer (it calls TSan's function-entry hook). */
export async function isTsanInstrumented(file: string): Promise<boolean> {
  const bytes = await fs.readFile(file);
  return bytes.includes('__tsan_func_entry');
}
