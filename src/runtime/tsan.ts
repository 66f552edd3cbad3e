// Running a ThreadSanitizer build: the environment TSan needs, set per run, and the reports it writes.
//
//   suppressions   CPython's own Tools/tsan/suppressions_free_threading.txt, by absolute path (races
//                  upstream knows and accepts are not findings);
//   halt_on_error=0, exitcode=0
//                  keep going after the first report, and keep the program's own exit status (TSan's
//                  default replaces a clean exit by 66, which every other oracle would read as a failure);
//   log_path       reports go to <dir>/tsan.<pid>, read after the run (stderr stays the program's);
//   handle_segv=0  a fault stays a fault: the kernel's signal, the core file and gdb's stacks, as on
//                  plain builds (TSan's own SEGV report would end the process with an exit code);
//   disable_coredump=0
//                  TSan turns core files off by default (its shadow reserves terabytes): without one a
//                  crash on a TSan build had no C stack. Its shadow is marked don't-dump, so a core is
//                  ~55 MB on disk (sparse, 3.9 GB apparent) and gdb reads it in ~2 s;
//   symbolize=1 with the local llvm-symbolizer and DEBUGINFOD_URLS empty: symbols come from the binary,
//                  never from the network.
// Where the kernel's address-space randomisation breaks TSan ("unexpected memory mapping", with
// vm.mmap_rnd_bits above 28 and an older TSan runtime), the target is run under `setarch -R`.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { tsanBaseOptions } from '../reproduce.js';
import type { Target } from '../types.js';
import { whichOnPath } from './targets.js';

const execFileAsync = promisify(execFile);

export function isTsan(target: Pick<Target, 'sanitizers'>): boolean {
  return target.sanitizers.includes('thread');
}

/** Most report text kept per run (a run on an unsuppressed build can print megabytes). */
export const TSAN_LOG_CAP = 2 * 1024 * 1024;

const LOG_BASENAME = 'tsan';

/** The TSAN_OPTIONS of a run whose reports go to `logDir`. */
export function tsanOptions(target: Pick<Target, 'tsanSuppressions'>, logDir: string | null, symbolizer: string | null): string {
  return [
    ...tsanBaseOptions(target),
    'disable_coredump=0',
    'second_deadlock_stack=1',
    'report_signal_unsafe=0',
    'symbolize=1',
    ...(symbolizer ? [`external_symbolizer_path=${symbolizer}`] : []),
    ...(logDir ? [`log_path=${path.join(logDir, LOG_BASENAME)}`] : []),
  ].join(':');
}

let symbolizerPath: Promise<string | null> | undefined;

/** The local llvm-symbolizer, if any (TSan falls back to its own, cruder symbolization without it). */
export function findSymbolizer(): Promise<string | null> {
  symbolizerPath ??= (async () => {
    for (const name of ['llvm-symbolizer', 'llvm-symbolizer-19', 'llvm-symbolizer-16', 'llvm-symbolizer-14']) {
      const found = await whichOnPath(name);
      if (found) return found;
    }
    return null;
  })();
  return symbolizerPath;
}

/** The environment of one run on a TSan target (empty for other targets). */
export async function tsanEnv(target: Pick<Target, 'sanitizers' | 'tsanSuppressions'>, logDir: string | null): Promise<Record<string, string>> {
  if (!isTsan(target)) return {};
  return { TSAN_OPTIONS: tsanOptions(target, logDir, await findSymbolizer()), DEBUGINFOD_URLS: '' };
}

const MAPPING_FAILURE = /ThreadSanitizer: unexpected memory mapping|FATAL: ThreadSanitizer/i;
const launchers = new Map<string, Promise<string[]>>();

/**
 * The command prefix a TSan target needs on this machine: [] when it starts as it is, ['setarch',
 * <arch>, '-R'] when address-space randomisation makes it fail (decided once per interpreter, by running
 * it). The reason is said once on stderr.
 */
export function tsanLauncher(target: Pick<Target, 'path' | 'sanitizers' | 'tsanSuppressions'>): Promise<string[]> {
  if (!isTsan(target)) return Promise.resolve([]);
  let pending = launchers.get(target.path);
  if (!pending) {
    pending = (async () => {
      const env = { ...process.env, ...(await tsanEnv(target, null)) };
      const plain = await execFileAsync(target.path, ['-I', '-c', 'pass'], { env, timeout: 60_000 }).then(
        () => null,
        (e: { stderr?: string }) => e.stderr ?? 'failed',
      );
      if (plain === null || !MAPPING_FAILURE.test(plain)) return [];
      const arch = (await execFileAsync('uname', ['-m'])).stdout.trim();
      const prefix = ['setarch', arch, '-R'];
      const ok = await execFileAsync(prefix[0] ?? 'setarch', [...prefix.slice(1), target.path, '-I', '-c', 'pass'], { env, timeout: 60_000 }).then(() => true, () => false);
      process.stderr.write(
        ok
          ? `ftfuzz: ${target.path} (ThreadSanitizer) fails with address-space randomisation on this kernel; running it under setarch -R\n`
          : `ftfuzz: ${target.path} (ThreadSanitizer) fails to start, with and without setarch -R: ${plain.split('\n').find((l) => MAPPING_FAILURE.test(l)) ?? plain.slice(0, 200)}\n`,
      );
      return ok ? prefix : [];
    })();
    launchers.set(target.path, pending);
  }
  return pending;
}

/**
 * How to start an interpreter outside a run (introspection, pip): its command and leading arguments (under
 * setarch -R where its TSan needs it) and the environment TSan needs (none for other builds). `python`
 * defaults to the target's own path (a venv's interpreter runs with its base's TSan settings).
 */
export async function invocation(target: Pick<Target, 'path'> & Partial<Pick<Target, 'sanitizers' | 'tsanSuppressions'>>, python = target.path): Promise<{ command: string; prefix: string[]; env: Record<string, string> }> {
  const full = { path: target.path, sanitizers: target.sanitizers ?? [], tsanSuppressions: target.tsanSuppressions };
  const launcher = await tsanLauncher(full);
  const [command = python, ...prefix] = launcher;
  return { command, prefix: launcher.length ? [...prefix, python] : [], env: await tsanEnv(full, null) };
}

/** Every report TSan wrote into `logDir` (one file per process: the target and its subprocesses). */
export async function readTsanLogs(logDir: string): Promise<string> {
  const names = (await fs.readdir(logDir).catch(() => [] as string[])).filter((n) => n.startsWith(`${LOG_BASENAME}.`)).sort();
  let out = '';
  for (const name of names) {
    const text = await fs.readFile(path.join(logDir, name), 'utf8').catch(() => '');
    out += text;
    if (out.length >= TSAN_LOG_CAP) return `${out.slice(0, TSAN_LOG_CAP)}\n[ftfuzz: TSan log truncated at ${TSAN_LOG_CAP} bytes]\n`;
  }
  return out;
}
