// Building an install from an unpacked source tree: configure, make, make install into the cache,
// under a lock so that two installs of the same build serialize, and a marker written last.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { EnvironmentError } from '../../errors.js';
import { writeFileAtomic } from '../../atomicWrite.js';
import type { Target } from '../../types.js';
import { probeTarget, TSAN_SUPPRESSIONS } from '../targets.js';
import { findInstalled, installId, isCoverageVariant, isTsanVariant, seriesOf, type InstallMarker, type Variant } from './cache.js';
import { formatElapsed, runLogged, type Logged } from './commands.js';
import { COVERAGE_RUNTIME_OBJECT, NEWS_COPY, WITNESS_LABEL_FILE, coverageRuntimeSource } from '../paths.js';
import { WITNESS_LABELS, type WitnessLabelLines } from '../witnesses.js';

export interface BuildOptions {
  jobs?: number;
  heartbeatMs?: number;
  /** Aborting kills the running step's whole process group; the install then fails and cleans up. */
  signal?: AbortSignal;
}

export interface Built {
  /** False when a matching install already existed (a second install is a no-op). */
  target: Target;
  built: boolean;
  installDir: string;
  logPath: string | null;
}

/**
 * The environment of a ThreadSanitizer build: clang (gcc's TSan is not what CPython's Tools/tsan is tuned
 * for), and TSAN_OPTIONS for the built interpreter that the build itself runs (sysconfig, compileall): its
 * races are reported to the log, against CPython's suppressions, and must not turn the step's status into 66.
 */
export function tsanBuildEnv(srcDir: string): NodeJS.ProcessEnv {
  return { ...process.env, CC: 'clang', CXX: 'clang++', TSAN_OPTIONS: `suppressions=${sourceSuppressions(srcDir)}:exitcode=0:halt_on_error=0`, DEBUGINFOD_URLS: '' };
}

/** CPython's TSan suppressions for the free-threaded build, in its source tree. */
export function sourceSuppressions(srcDir: string): string {
  return path.join(srcDir, 'Tools', 'tsan', 'suppressions_free_threading.txt');
}

/**
 * CPython's changelog of the release, kept beside the install (triage/news.ts reads it: which release fixed
 * which gh issue). A tree without one (a git checkout) just has none.
 */
export async function copyNews(srcDir: string, prefix: string): Promise<boolean> {
  const text = await fs.readFile(path.join(srcDir, 'Misc', 'NEWS'), 'utf8').catch(() => null);
  if (text === null) return false;
  const to = path.join(prefix, NEWS_COPY);
  await fs.mkdir(path.dirname(to), { recursive: true });
  await writeFileAtomic(to, text);
  return true;
}

export async function readPatchlevel(srcDir: string): Promise<string | null> {
  const text = await fs.readFile(path.join(srcDir, 'Include', 'patchlevel.h'), 'utf8').catch(() => '');
  return /#define\s+PY_VERSION\s+"(\d+\.\d+\.\d+)[^"]*"/.exec(text)?.[1] ?? null;
}

export async function extract(tarball: string, into: string, log: Logged): Promise<string | null> {
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

export async function buildLocked(
  root: string,
  version: string,
  variant: Variant,
  sourceDescription: string,
  srcDir: string,
  log: Logged,
  say: (line: string) => void,
  options: BuildOptions,
): Promise<Built> {
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
    const configureArgs = [
      '--disable-gil',
      `--prefix=${prefix}`,
      '--with-ensurepip=no',
      '--disable-test-modules',
      ...(variant === 'debug' ? ['--with-pydebug'] : []),
      ...(isTsanVariant(variant) ? ['--with-thread-sanitizer'] : []),
    ];
    let env = isTsanVariant(variant) ? tsanBuildEnv(srcDir) : process.env;
    if (isCoverageVariant(variant)) env = await coverageBuildEnv(env, prefix, log);
    const started = Date.now();
    const steps: { name: string; cmd: string; args: string[] }[] = [
      { name: 'configure', cmd: './configure', args: configureArgs },
      { name: 'make', cmd: 'make', args: [`-j${jobs}`] },
      { name: 'make install', cmd: 'make', args: ['install'] },
    ];
    say(`building CPython ${version}t (${variant}) from ${sourceDescription} with ${jobs} jobs; this takes a few minutes; log: ${log.path}`);
    await runSteps(steps, { version, variant, srcDir, prefix, env, log, say, options, started });
    if (isTsanVariant(variant)) await installSuppressions(srcDir, prefix, version);
    if (isCoverageVariant(variant)) await writeWitnessLabels(srcDir, prefix);
    await copyNews(srcDir, prefix);
    const executable = await findExecutable(prefix, seriesOf(version), variant);
    if (!executable) throw new EnvironmentError(`built CPython ${version}t, but found no interpreter under ${prefix}/bin (log: ${log.path})`);
    const target = await probeTarget(executable, 'cache');
    if (isTsanVariant(variant) && !target.sanitizers.includes('thread')) {
      throw new EnvironmentError(`${executable} was configured --with-thread-sanitizer but does not report ThreadSanitizer (log: ${log.path})`);
    }
    if (isCoverageVariant(variant) && !target.coverage) {
      throw new EnvironmentError(`${executable} was configured with SanitizerCoverage but its sysconfig CFLAGS do not say so (log: ${log.path})`);
    }
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

/** What a coverage build compiles with: SanitizerCoverage's edge flags and pc tables (see native/ftfuzz_cov.c). */
export const COVERAGE_CFLAGS = '-fsanitize-coverage=edge,inline-bool-flag,pc-table';

/**
 * The environment of a coverage build: clang, CFLAGS with SanitizerCoverage (kept in sysconfig, so a C
 * extension built against the install is instrumented too), and ftfuzz's coverage runtime compiled
 * into the prefix and linked into the interpreter (LIBS), whose exported symbols extension modules bind to.
 */
async function coverageBuildEnv(base: NodeJS.ProcessEnv, prefix: string, log: Logged): Promise<NodeJS.ProcessEnv> {
  const object = path.join(prefix, COVERAGE_RUNTIME_OBJECT);
  await fs.mkdir(path.dirname(object), { recursive: true });
  const code = await runLogged('clang', ['-O2', '-fPIC', '-Wall', '-c', coverageRuntimeSource, '-o', object], { log });
  if (code !== 0) throw new EnvironmentError(`compiling ftfuzz's coverage runtime ${coverageRuntimeSource} with clang failed (exit ${code}); see the log ${log.path}`);
  const cflags = [base.CFLAGS, COVERAGE_CFLAGS].filter(Boolean).join(' ');
  const libs = [base.LIBS, object].filter(Boolean).join(' ');
  return { ...base, CC: 'clang', CXX: 'clang++', CFLAGS: cflags, LIBS: libs };
}

/**
 * Where the labels of the witness rules that are a block of code, not a function, sit in this release's
 * source (campaign/collisions.ts WITNESS_LABELS: the dict lookup's `read_failed:`), kept beside the install:
 * the coverage map marks the edges just after each label (runtime/nativeCoverage.ts).
 */
export async function writeWitnessLabels(srcDir: string, prefix: string): Promise<void> {
  const out: WitnessLabelLines = {};
  for (const rule of WITNESS_LABELS) {
    const text = await fs.readFile(path.join(srcDir, rule.file), 'utf8').catch(() => '');
    const lines = text.split('\n').flatMap((l, i) => (new RegExp(`^${rule.label}:`).test(l) ? [i + 1] : []));
    if (lines.length) out[rule.id] = { file: rule.file, lines };
  }
  const to = path.join(prefix, WITNESS_LABEL_FILE);
  await fs.mkdir(path.dirname(to), { recursive: true });
  await writeFileAtomic(to, `${JSON.stringify(out, null, 2)}\n`);
}

interface StepContext {
  version: string;
  variant: Variant;
  srcDir: string;
  prefix: string;
  env: NodeJS.ProcessEnv;
  log: Logged;
  say: (line: string) => void;
  options: BuildOptions;
  started: number;
}

/** configure, make, make install: each with a heartbeat line; a stopped or failed step removes the half install. */
async function runSteps(steps: { name: string; cmd: string; args: string[] }[], c: StepContext): Promise<void> {
  const { version, variant, srcDir, prefix, env, log, say, options, started } = c;
  for (const step of steps) {
    const stepStart = Date.now();
    say(`  ${step.name} ... (elapsed ${formatElapsed(Date.now() - started)})`);
    const heartbeat = setInterval(
      () => say(`  ${step.name} still running (elapsed ${formatElapsed(Date.now() - started)}, log: ${log.path})`),
      options.heartbeatMs ?? 30_000,
    );
    const code = await runLogged(step.cmd, step.args, { cwd: srcDir, log, env, signal: options.signal }).finally(() => clearInterval(heartbeat));
    if (options.signal?.aborted) {
      // The prefix may hold half an install: it has no marker, so it is never used, and it goes now.
      await fs.rm(prefix, { recursive: true, force: true });
      throw new EnvironmentError(`building CPython ${version}t (${variant}) was stopped at ${step.name}; its work directory is removed (log: ${log.path})`);
    }
    if (code !== 0) {
      await fs.rm(prefix, { recursive: true, force: true });
      throw new EnvironmentError(
        `building CPython ${version}t failed at ${step.name} (exit ${code}); see the log ${log.path}, ` +
          `or point ftfuzz at an existing interpreter with --python PATH`,
      );
    }
    say(`  ${step.name} done in ${formatElapsed(Date.now() - stepStart)}`);
  }
}

/**
 * CPython's own suppressions for the free-threaded build, from the same source tree, installed beside the
 * interpreter (targets.ts finds it there and runs get it by absolute path).
 */
async function installSuppressions(srcDir: string, prefix: string, version: string): Promise<void> {
  const from = sourceSuppressions(srcDir);
  const to = path.join(prefix, TSAN_SUPPRESSIONS);
  await fs.mkdir(path.dirname(to), { recursive: true });
  const text = await fs.readFile(from, 'utf8').catch(() => null);
  if (text === null) throw new EnvironmentError(`the CPython ${version} source has no ${path.relative(srcDir, from)}; a TSan build without CPython's suppressions would report known, accepted races`);
  await writeFileAtomic(to, text);
}
