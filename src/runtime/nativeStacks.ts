// C stacks of target processes, read by a real debugger (gdb, batch mode, python/ftfuzz_gdb.py inside it):
// - a hung process is sampled before it is killed (twice, about a second apart: hangOracle classifies);
// - a crashed process left a core file (RLIMIT_CORE raised in the child; the kernel's core_pattern is read,
//   never changed), which gdb reads next to the executable, and which is then deleted.
// Without gdb, or where cores go to a helper (`|...` patterns: systemd-coredump, apport), runs carry no
// native evidence and signatures fall back to Python frames; `nativeSupport()` says which and why.
import { execFile } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import type { NativeEvidence, NativeSample, NativeThread, NativeFrame } from '../types.js';
import { cacheDir, packageRoot } from './paths.js';
import { whichOnPathSync } from './targets.js';

export const gdbScriptPath = path.join(packageRoot, 'python', 'ftfuzz_gdb.py');

/** How long gdb may take (symbol loading of a -g CPython is most of it). */
const GDB_TIMEOUT_MS = 30_000;
/**
 * RLIMIT_CORE of targets: unlimited (up to the hard limit). The limit counts a core's apparent size, and
 * mimalloc reserves large zero-filled arenas that the kernel writes as holes (no disk): any finite cap
 * truncates a free-threaded core before its thread stacks, which come last. What the cores really hold is
 * bounded by the memory cap of the run.
 */
export const CORE_LIMIT_BYTES = Infinity;

export interface NativeSupport {
  gdb: string | null;
  /** Cores land in files ftfuzz can find: the pattern, or null with the reason in `note`. */
  corePattern: string | null;
  coreUsesPid: boolean;
  /** Why some native evidence is missing, for a one-time notice; null when all is available. */
  note: string | null;
}

let support: NativeSupport | null = null;


/** What this machine offers, probed once. `FTFUZZ_NO_GDB=1` turns native stacks off. */
export function nativeSupport(): NativeSupport {
  if (support) return support;
  const gdb = process.env.FTFUZZ_NO_GDB === '1' ? null : whichOnPathSync('gdb');
  let pattern: string | null = null;
  let usesPid = false;
  let note: string | null = null;
  try {
    pattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8').trim();
    usesPid = readFileSync('/proc/sys/kernel/core_uses_pid', 'utf8').trim() === '1';
  } catch {
    pattern = null;
  }
  if (!gdb) {
    note = 'gdb not found: crash and hang signatures use Python frames only; install it (Debian: apt-get install gdb) for C stacks';
  } else if (pattern === null) {
    note = 'cannot read /proc/sys/kernel/core_pattern: crash stacks come from re-running the reproducer under gdb';
  } else if (pattern.startsWith('|')) {
    note = `core files go to a helper (kernel.core_pattern=${pattern}); ftfuzz does not change that: crash stacks come from re-running the reproducer under gdb`;
    pattern = null;
  }
  support = { gdb, corePattern: pattern, coreUsesPid: usesPid, note };
  return support;
}

/** The hard RLIMIT_CORE of this process (inherited by targets), bytes; Infinity when unlimited. */
export function coreHardLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max core file size'));
    const hard = line?.trim().split(/\s+/)[5];
    if (hard === undefined) return 0;
    return hard === 'unlimited' ? Infinity : Number(hard);
  } catch {
    return 0;
  }
}

/** RLIMIT_CORE a target should run with (0: no cores wanted or possible). */
export function wantedCoreLimit(): number {
  const s = nativeSupport();
  if (!s.gdb || !s.corePattern) return 0;
  return Math.min(CORE_LIMIT_BYTES, coreHardLimit());
}

/**
 * Where the kernel wrote the core of `pid` (see core(5)): the pattern's specifiers expanded for what
 * ftfuzz knows, a directory listing matched for the rest (%t time, %h host, ...). Relative patterns are
 * relative to the crashed process's working directory.
 */
export async function findCore(pid: number, cwd: string, comm: string, pattern = nativeSupport().corePattern, usesPid = nativeSupport().coreUsesPid): Promise<string | null> {
  if (!pattern) return null;
  // The directory part of core patterns is, in practice, literal; the file name is matched.
  const slash = pattern.lastIndexOf('/');
  const dir = slash < 0 ? cwd : path.resolve(cwd, pattern.slice(0, slash) || '/');
  const base = pattern.slice(slash + 1);
  let expanded = '';
  let hasPid = false;
  for (let i = 0; i < base.length; i++) {
    const c = base[i] as string;
    if (c !== '%') {
      expanded += escapeRe(c);
      continue;
    }
    const spec = base[++i];
    if (spec === '%') expanded += '%';
    else if (spec === 'p' || spec === 'P' || spec === 'i' || spec === 'I') {
      expanded += String(pid);
      hasPid = true;
    } else if (spec === 'e') expanded += escapeRe(comm.slice(0, 15));
    else expanded += '[^/]*';
  }
  if (!hasPid && usesPid) expanded += `\\.${pid}`;
  const baseRe = new RegExp(`^${expanded}$`);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return null;
  }
  const hit = names.find((n) => baseRe.test(n));
  return hit ? path.join(dir, hit) : null;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** What gdb printed, read: the JSON line and the raw backtrace. Throws nothing: bad input is an `error`. */
const SHIM_LIB = /libftfuzz_sched/;
const SIGTRAMP = /signal handler called|__restore_rt/;

/**
 * A stack without the schedule shim's own frames (native/ftfuzz_sched.c, preloaded in perturbed runs): its
 * helper thread is not the program's (null: drop the thread), and a thread it stalled or delayed shows the
 * shim's handler or wrapper innermost (and libc's sleep or clock above it): what it was doing starts below
 * them. Without this a hang of a perturbed run was signed "hang in helper_main (libftfuzz_sched...)".
 */
export function withoutShim(frames: NativeFrame[]): NativeFrame[] | null {
  const last = frames.reduce((at, f, i) => (f.lib !== null && SHIM_LIB.test(f.lib) ? i : at), -1);
  if (last < 0) return frames;
  if (frames.some((f) => f.func === 'helper_main' && f.lib !== null && SHIM_LIB.test(f.lib))) return null;
  const next = frames[last + 1];
  return frames.slice(next && next.func !== null && SIGTRAMP.test(next.func) ? last + 2 : last + 1);
}

export function parseGdbOutput(stdout: string, source: NativeEvidence['source']): NativeEvidence {
  const evidence: NativeEvidence = { source, samples: [], faultingLwp: null, signal: null, clkTck: 100, raw: '' };
  const lines = stdout.split('\n');
  const jsonLine = lines.find((l) => l.startsWith('FTFUZZ-GDB {'));
  const begin = lines.indexOf('FTFUZZ-GDB-RAW-BEGIN');
  const end = lines.indexOf('FTFUZZ-GDB-RAW-END', begin + 1);
  if (begin >= 0) evidence.raw = lines.slice(begin + 1, end >= 0 ? end : undefined).join('\n');
  if (!jsonLine) {
    evidence.error = 'gdb printed no result (see stack.txt)';
    if (!evidence.raw) evidence.raw = stdout.slice(-20_000);
    return evidence;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(jsonLine.slice('FTFUZZ-GDB '.length));
  } catch {
    evidence.error = 'gdb result is not JSON';
    return evidence;
  }
  if (!isObject(parsed)) {
    evidence.error = 'gdb result is not an object';
    return evidence;
  }
  if (typeof parsed.error === 'string') evidence.error = parsed.error;
  if (typeof parsed.signal === 'number') evidence.signal = parsed.signal;
  if (typeof parsed.clk_tck === 'number' && parsed.clk_tck > 0) evidence.clkTck = parsed.clk_tck;
  for (const s of Array.isArray(parsed.samples) ? parsed.samples : []) {
    if (!isObject(s)) continue;
    const threads: NativeThread[] = [];
    for (const t of Array.isArray(s.threads) ? s.threads : []) {
      if (!isObject(t) || typeof t.lwp !== 'number') continue;
      const frames = (Array.isArray(t.frames) ? t.frames : []).filter(isObject).map((f) => ({
        func: typeof f.func === 'string' ? f.func : null,
        file: typeof f.file === 'string' ? f.file : null,
        line: typeof f.line === 'number' ? f.line : 0,
        lib: typeof f.lib === 'string' ? f.lib : null,
        inline: f.inline === true,
      }));
      const kept = withoutShim(frames);
      if (kept) threads.push({ lwp: t.lwp, name: typeof t.name === 'string' ? t.name : null, frames: kept });
    }
    const sample: NativeSample = { threads, ticks: numberRecord(s.ticks), python: {}, at: typeof s.at === 'number' ? s.at : null };
    if (isObject(s.python)) {
      for (const [k, v] of Object.entries(s.python)) if (Array.isArray(v)) sample.python[k] = v.filter((x): x is number => typeof x === 'number');
    }
    if (evidence.samples.length === 0 && typeof s.selected === 'number') evidence.faultingLwp = s.selected;
    evidence.samples.push(sample);
  }
  return evidence;
}

function numberRecord(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (isObject(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'number') out[k] = x;
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * gdb's index cache: the symbol index of the interpreter, libc and the extension modules is built once and
 * kept (in ftfuzz's cache), so each later gdb skips reading their DWARF. Measured on a 3.13.5t core: 0.76 s
 * per core without it, 0.44 s with it. Never a network lookup of debug info (debuginfod).
 */
const GDB_SETTINGS = (): string[] => ['-iex', 'set index-cache enabled on', '-iex', `set index-cache directory ${path.join(cacheDir(), 'gdb-index')}`, '-iex', 'set debuginfod enabled off'];

function runGdb(args: string[], env: Record<string, string>, signal?: AbortSignal): Promise<string> {
  const gdb = nativeSupport().gdb;
  if (!gdb) return Promise.resolve('');
  return new Promise((resolve) => {
    execFile(
      gdb,
      ['-batch', '-nx', '-q', ...GDB_SETTINGS(), ...args],
      { env: { ...process.env, ...env }, timeout: GDB_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL', signal },
      (_error, stdout) => resolve(typeof stdout === 'string' ? stdout : ''),
    );
  });
}

/**
 * Sample a live (hung) process: `samples` times, `intervalMs` apart; the process runs on between samples
 * and after. Null without gdb.
 */
export async function sampleProcess(executable: string, pid: number, options: { samples?: number; intervalMs?: number; signal?: AbortSignal } = {}): Promise<NativeEvidence | null> {
  if (!nativeSupport().gdb) return null;
  const out = await runGdb(
    ['-x', gdbScriptPath, executable],
    { FTFUZZ_GDB_MODE: 'attach', FTFUZZ_PID: String(pid), FTFUZZ_SAMPLES: String(options.samples ?? 2), FTFUZZ_INTERVAL: String((options.intervalMs ?? 1000) / 1000) },
    options.signal,
  );
  return parseGdbOutput(out, 'attach');
}

/**
 * Half a second between a hung run's two samples: a Python loop moves its position many times in that, and a
 * spinning thread burns a measurable 0.1 CPU-s; a second cost every run past its limit 0.5 s more of gdb.
 */
export const HANG_SAMPLE_INTERVAL_MS = 500;

/** A run past its time limit, sampled before the executor stops it; undefined without gdb. */
export async function sampleHungRun(executable: string, pid: number, signal?: AbortSignal): Promise<NativeEvidence | undefined> {
  if (!nativeSupport().gdb) return undefined;
  return (await sampleProcess(await realExecutable(executable), pid, { signal, intervalMs: HANG_SAMPLE_INTERVAL_MS })) ?? undefined;
}

/** Stacks from a core file; the core is deleted afterwards (it can be large). Null without gdb. */
export async function coreStacks(executable: string, core: string): Promise<NativeEvidence | null> {
  if (!nativeSupport().gdb) return null;
  try {
    const out = await runGdb(['-x', gdbScriptPath, executable, core], { FTFUZZ_GDB_MODE: 'core', FTFUZZ_CORE: core });
    return parseGdbOutput(out, 'core');
  } finally {
    if (process.env.FTFUZZ_KEEP_CORES) await fs.copyFile(core, path.join(process.env.FTFUZZ_KEEP_CORES, path.basename(path.dirname(core)) + '.core')).catch(() => undefined);
    await fs.rm(core, { force: true });
  }
}

/** The executable gdb must load for a target: the real binary behind wrapper scripts and symlinks. */
export async function realExecutable(executable: string): Promise<string> {
  return fs.realpath(executable).catch(() => executable);
}

/** Human-readable stacks for a bucket's stack.txt: gdb's own text, and how it was taken. */
export function formatStackFile(evidence: NativeEvidence | undefined, pythonStacks: string): string {
  const out: string[] = [];
  if (evidence) {
    const how = evidence.source === 'core' ? 'from the core file of the crashed process' : `attached to the hung process (${evidence.samples.length} samples)`;
    out.push(`# C stacks (gdb, ${how})${evidence.faultingLwp !== null ? `; faulting thread: LWP ${evidence.faultingLwp}` : ''}`);
    if (evidence.error) out.push(`# note: ${evidence.error}`);
    out.push(evidence.raw.trim(), '');
  } else {
    out.push('# no C stacks (gdb or core files not available on this machine: see `ftfuzz python list`)', '');
  }
  if (pythonStacks.trim()) out.push('# Python stacks (faulthandler)', pythonStacks.trim(), '');
  return out.join('\n');
}

let launcherPrefix: string[] | null = null;

/**
 * What every target process is started through: `setpriv --pdeathsig KILL` (util-linux), so that it dies
 * with the runner that started it, even when that runner is SIGKILLed; and `prlimit --core=N` so that a
 * crash leaves a core for gdb (plain `python repro.py` runs have no harness to raise RLIMIT_CORE). Both
 * exec the next program in place: the pid the runner sees is the interpreter's.
 */
export function launcher(): string[] {
  if (launcherPrefix) return launcherPrefix;
  const prefix: string[] = [];
  const setpriv = whichOnPathSync('setpriv');
  if (setpriv) prefix.push(setpriv, '--pdeathsig', 'KILL');
  const core = wantedCoreLimit();
  const prlimit = core > 0 ? whichOnPathSync('prlimit') : null;
  if (prlimit) prefix.push(prlimit, `--core=${core === Infinity ? 'unlimited' : core}`);
  launcherPrefix = prefix;
  return prefix;
}

/** The short command name the kernel records for a process (and puts in `%e` of core patterns). */
function commOf(executable: string): string {
  return path.basename(executable).slice(0, 15);
}

/** After a run died of a fatal signal: its core's stacks (the core is then deleted). */
export async function crashEvidence(executable: string, pid: number, cwd: string): Promise<NativeEvidence | undefined> {
  if (!nativeSupport().gdb) return undefined;
  const real = await realExecutable(executable);
  const core = await findCore(pid, cwd, commOf(real));
  if (!core) return undefined;
  return (await coreStacks(real, core)) ?? undefined;
}

/** A core left by a run that is not a crash (our own SIGABRT on a plain run's timeout): removed unread. */
export async function discardCore(executable: string, pid: number, cwd: string): Promise<void> {
  if (!nativeSupport().corePattern) return;
  const core = await findCore(pid, cwd, commOf(await realExecutable(executable)));
  if (core) await fs.rm(core, { force: true });
}

/** The environment through which the harness raises RLIMIT_CORE (fork-server workers, harness runs). */
export function coreLimitEnv(): Record<string, string> {
  const core = wantedCoreLimit();
  return core > 0 ? { FTFUZZ_LIMIT_CORE: core === Infinity ? 'unlimited' : String(core) } : {};
}
