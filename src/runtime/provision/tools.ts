// The machine tools ftfuzz and its tests use for real, and the Debian packages that carry them. A fresh
// Debian machine has none of clang, redis-server or chromium; `ftfuzz setup` (and `npm test`, through its
// pretest step) installs what a purpose needs when it runs as root with apt-get, and otherwise stops
// before any work with one line naming the single command that does.
import { EnvironmentError } from '../../errors.js';
import { whichOnPathSync } from '../targets.js';
import { capture } from './commands.js';

/** What the tools are for. `tests` is everything: the integration suite uses every one of them for real. */
export const TOOL_PURPOSES = ['build', 'campaign', 'tsan', 'fleet', 'report', 'venv', 'tests'] as const;
export type ToolPurpose = (typeof TOOL_PURPOSES)[number];

export interface ToolRequirement {
  /** The Debian package. */
  pkg: string;
  /** Commands that show it is installed (any one of each inner list: chromium is `chromium-browser` on Ubuntu). */
  commands: string[][];
  /** A library package without commands: installed when `dpkg -s` says so (Debian only; skipped elsewhere). */
  dpkg?: boolean;
  /** What ftfuzz does with it, for the message. */
  why: string;
  purposes: ToolPurpose[];
}

// Build dependencies of CPython: without the -dev packages the build still succeeds but quietly leaves out
// the modules (ctypes, ssl, sqlite3, lzma, …) that generated programs and module mode use.
const BUILD_LIBS = ['libffi-dev', 'zlib1g-dev', 'libssl-dev', 'libbz2-dev', 'liblzma-dev', 'libsqlite3-dev', 'libreadline-dev', 'uuid-dev'];

export const TOOLS: ToolRequirement[] = [
  { pkg: 'build-essential', commands: [['cc'], ['make']], why: 'building CPython', purposes: ['build', 'tests'] },
  { pkg: 'pkg-config', commands: [['pkg-config']], why: 'building CPython', purposes: ['build', 'tests'] },
  ...BUILD_LIBS.map((pkg): ToolRequirement => ({ pkg, commands: [], dpkg: true, why: 'building CPython with all its C modules', purposes: ['build', 'tests'] })),
  { pkg: 'gdb', commands: [['gdb']], why: 'C stacks of crashed and hung targets', purposes: ['campaign', 'tests'] },
  {
    pkg: 'util-linux',
    commands: [['setpriv'], ['prlimit'], ['setarch']],
    why: 'targets that die with their runner, core files, TSan without ASLR',
    purposes: ['campaign', 'tsan', 'tests'],
  },
  { pkg: 'clang', commands: [['clang'], ['clang++']], why: 'ThreadSanitizer builds', purposes: ['tsan', 'tests'] },
  { pkg: 'llvm', commands: [['llvm-symbolizer']], why: 'source lines in TSan reports', purposes: ['tsan', 'tests'] },
  { pkg: 'redis-server', commands: [['redis-server']], why: 'fleet campaigns (the tests start one on loopback)', purposes: ['fleet', 'tests'] },
  { pkg: 'python3-setuptools-whl', commands: [], dpkg: true, why: 'setuptools for readiness venvs (ftfuzz python venv) without a package index', purposes: ['venv', 'tests'] },
  { pkg: 'chromium', commands: [['chromium', 'chromium-browser']], why: 'checking the HTML report in a headless browser', purposes: ['report', 'tests'] },
];

export interface ToolProbe {
  /** Returns the path of a command, or null. */
  which: (command: string) => string | null;
  /** Whether a Debian package is installed; null where dpkg is not available (not a Debian machine). */
  dpkgInstalled: (pkg: string) => Promise<boolean | null>;
}

const systemProbe: ToolProbe = {
  which: (command) => whichOnPathSync(command),
  dpkgInstalled: async (pkg) => {
    if (!whichOnPathSync('dpkg-query')) return null;
    const r = await capture('dpkg-query', ['-W', '-f=${db:Status-Status}', pkg]);
    return r.code === 0 && r.stdout.trim() === 'installed';
  },
};

/** The packages a purpose needs that are not installed, in table order. */
export async function missingTools(purpose: ToolPurpose, probe: ToolProbe = systemProbe): Promise<ToolRequirement[]> {
  const missing: ToolRequirement[] = [];
  for (const tool of TOOLS) {
    if (!tool.purposes.includes(purpose)) continue;
    if (tool.dpkg) {
      if ((await probe.dpkgInstalled(tool.pkg)) === false) missing.push(tool);
    } else if (tool.commands.some((alternatives) => alternatives.every((c) => probe.which(c) === null))) {
      missing.push(tool);
    }
  }
  return missing;
}

/** The one command that installs the packages, as the user should paste it. */
export function installCommand(missing: ToolRequirement[], root: boolean): string {
  const pkgs = missing.map((t) => t.pkg).join(' ');
  return `${root ? '' : 'sudo '}apt-get update && ${root ? '' : 'sudo '}DEBIAN_FRONTEND=noninteractive apt-get install -y ${pkgs}`;
}

export interface EnsureToolsOptions {
  purpose: ToolPurpose;
  /** Install with apt-get when running as root (default true); false: only report. */
  install?: boolean;
  log?: (line: string) => void;
  probe?: ToolProbe;
  /** Overrides for tests: whether we are root, whether apt-get exists, and the installer itself. */
  isRoot?: boolean;
  aptGet?: boolean;
  runInstall?: (pkgs: string[], log: (line: string) => void) => Promise<{ code: number; output: string }>;
}

async function aptInstall(pkgs: string[], log: (line: string) => void): Promise<{ code: number; output: string }> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  log('apt-get update');
  const update = await capture('apt-get', ['update', '-qq'], env);
  if (update.code !== 0) return { code: update.code, output: update.stderr || update.stdout };
  log(`apt-get install -y ${pkgs.join(' ')}`);
  const install = await capture('apt-get', ['install', '-y', '-qq', ...pkgs], env);
  return { code: install.code, output: install.stderr || install.stdout };
}

/**
 * Make sure the tools of a purpose are installed: nothing to do, or install them (root with apt-get), or
 * throw an EnvironmentError whose one line names the command that installs them. Returns the packages
 * installed.
 */
export async function ensureTools(options: EnsureToolsOptions): Promise<string[]> {
  const say = options.log ?? ((line: string) => process.stderr.write(`ftfuzz: ${line}\n`));
  const probe = options.probe ?? systemProbe;
  const missing = await missingTools(options.purpose, probe);
  if (missing.length === 0) return [];
  const root = options.isRoot ?? process.getuid?.() === 0;
  const aptGet = options.aptGet ?? whichOnPathSync('apt-get') !== null;
  const what = missing.map((t) => `${t.pkg} (${t.why})`).join(', ');
  if (options.install === false || !root || !aptGet) {
    const how = aptGet
      ? `run: ${installCommand(missing, root)}`
      : `install the equivalent of the Debian packages ${missing.map((t) => t.pkg).join(' ')} with this system's package manager`;
    throw new EnvironmentError(`${options.purpose === 'tests' ? 'the tests need' : `ftfuzz (${options.purpose}) needs`} ${what}, which ${missing.length === 1 ? 'is' : 'are'} not installed; ${how}`);
  }
  say(`installing from Debian's packages what ${options.purpose === 'tests' ? 'the tests need' : `${options.purpose} needs`}: ${what}`);
  const pkgs = missing.map((t) => t.pkg);
  const result = await (options.runInstall ?? aptInstall)(pkgs, say);
  const lastLine = result.output.trim().split('\n').pop() ?? '';
  if (result.code !== 0) {
    throw new EnvironmentError(`apt-get could not install ${pkgs.join(' ')} (exit ${result.code}: ${lastLine}); run ${installCommand(missing, true)} and read its output`);
  }
  const still = await missingTools(options.purpose, probe);
  if (still.length > 0) {
    throw new EnvironmentError(`apt-get installed ${pkgs.join(' ')}, but ${still.map((t) => t.pkg).join(', ')} still ${still.length === 1 ? 'is' : 'are'} not usable (not on PATH: ${process.env.PATH ?? ''})`);
  }
  say(`installed ${pkgs.join(' ')}`);
  return pkgs;
}
