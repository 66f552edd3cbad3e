// Shared types of the ftfuzz pipeline: generators -> runtime -> oracles -> stores -> cli.
// Everything imports this module; it imports nothing (STYLE.md practice 1).

/** The two runtime modes of a free-threaded build. `PYTHON_GIL=0` / `PYTHON_GIL=1` select them. */
export type GilMode = 'gil-off' | 'gil-on';
export const GIL_MODES: readonly GilMode[] = ['gil-off', 'gil-on'];

/** A Python interpreter ftfuzz can run programs on, as probed once. */
export interface Target {
  /** The command as given or found (may be a symlink or wrapper script). */
  path: string;
  /** `sys.executable` as the interpreter itself reports it. */
  executable: string;
  /** Where it was found: `--python`, `FTFUZZ_PYTHON`, on PATH, or built by ftfuzz into its cache. */
  origin: 'flag' | 'env' | 'path' | 'cache';
  implementation: string;
  /** e.g. "3.13.15" */
  version: string;
  versionInfo: [number, number, number];
  /** `sysconfig.get_config_var("Py_GIL_DISABLED") == 1`: the build can run without the GIL. */
  freeThreaded: boolean;
  /** A `--with-pydebug` build (`sys.gettotalrefcount` exists). */
  debug: boolean;
  /** Sanitizers compiled in: "address", "thread", "undefined", "memory". */
  sanitizers: string[];
  /** A ThreadSanitizer build's suppressions file (CPython's Tools/tsan/suppressions_free_threading.txt), by absolute path. */
  tsanSuppressions?: string;
  /** Built with SanitizerCoverage and ftfuzz's coverage runtime (variant coverage / tsan-coverage). */
  coverage?: boolean;
  abiflags: string;
  /** The configure arguments of the build, as sysconfig recorded them. */
  configArgs: string;
  /** A short human label: "CPython 3.13.15t (debug)". */
  label: string;
}

/** A program to run: a file on disk (the harness runs it with runpy, like `python FILE`). */
export interface ProgramRef {
  /** Absolute path of the program file. */
  path: string;
  /** Short display name. */
  name: string;
  /** The program's text, where the file at `path` is gone (re-signing a bucket from its evidence). */
  source?: string;
}

/** How a child process ended. A dying interpreter is data, never an exception. */
export type Termination =
  | { kind: 'exit'; code: number }
  | { kind: 'signal'; signal: string }
  /**
   * Past its time limit and killed. `waitedMs`: the samples at the limit saw no progress, so the run was
   * given a finish window (README "Hangs are programs that do not finish") and killed only at its end.
   */
  | { kind: 'timeout'; afterMs: number; waitedMs?: number }
  | { kind: 'resource'; resource: 'memory' | 'cpu' | 'output'; detail: string }
  | { kind: 'spawn-error'; message: string }
  /** Killed by ftfuzz itself: the campaign's budget ran out or it was interrupted. Never a finding. */
  | { kind: 'cancelled' };

/** One record of the program protocol (see README "Program protocol"). */
export interface ProtocolRecord {
  ftfuzz: number;
  type: string;
  [key: string]: unknown;
}

export interface ThreadExceptionRecord {
  thread: string;
  excType: string;
  message: string;
}

/** Everything recorded about one execution of one program on one interpreter in one mode. */
export interface RunResult {
  program: ProgramRef;
  target: Target;
  modeRequested: GilMode;
  /** `sys._is_gil_enabled()` at start and at exit, as the harness reported it; null when not reported. */
  modeObservedAtStart: GilMode | null;
  modeObservedAtEnd: GilMode | null;
  /** Index of this run among the repeats of the same (program, target, mode). */
  runIndex: number;
  termination: Termination;
  durationMs: number;
  stdoutTail: string;
  stderrTail: string;
  /** Observables the program reported (merged over its `observables` records), or null for plain scripts. */
  observables: Record<string, unknown> | null;
  /** Values the program predicts for its observables (generator-computed), when it declared them. */
  expected: Record<string, unknown> | null;
  /** Observables declared racy: reported, never compared. */
  racy: string[];
  threadExceptions: ThreadExceptionRecord[];
  uncaughtException: { excType: string; message: string } | null;
  /** Malformed protocol lines and other harness-level anomalies, kept for diagnosis. */
  protocolErrors: string[];
  /** Extra records (for oracles added later: refcount probes, leak rounds, token accounting). */
  records: ProtocolRecord[];
  /** The command that reproduces this run outside ftfuzz. */
  reproduceCommand: string;
  /**
   * The run's process had run other programs before (a fork server's reused worker). Findings from such
   * runs are confirmed on fresh processes before they are reported (src/check.ts).
   */
  reusedProcess?: boolean;
  /**
   * C stacks of every thread, read by gdb: from the core file of a crash, or sampled (twice, about a
   * second apart) from a hung process before it was killed. Absent where gdb or core files are not available.
   */
  native?: NativeEvidence;
  /** What a sanitizer build reported during the run (ThreadSanitizer's reports, from its log files). */
  sanitizerLog?: string;
  /** The time limit this run had (calibrated per program: README "Calibrated timeouts"). */
  timeoutMs?: number;
  /**
   * The run passed its time limit with no progress in its samples, was given a finish window, and ended on
   * its own within it: a crawl, not a hang. Its limit and when it finished.
   */
  late?: { limitMs: number; finishedMs: number; native?: NativeEvidence };
  /** Wall time ftfuzz spent in gdb for this run (sampling a hung process, reading a core), ms. */
  gdbMs?: number;
  /** On a coverage build, the C edges the program reached (runtime/nativeCoverage.ts); absent when it wrote none (a crash). */
  edges?: { object: string; edges: number; bits: Uint8Array }[];
  /** The perturbation seed the run had (native/ftfuzz_sched.c), when it had one. */
  schedSeed?: string;
}

/** One C frame as gdb saw it. Inlined functions are frames of their own, as in gdb's `bt`. */
export interface NativeFrame {
  func: string | null;
  file: string | null;
  line: number;
  /** The shared object the frame's code is in; null for the executable itself. */
  lib: string | null;
  inline?: boolean;
}

export interface NativeThread {
  /** Kernel thread id. */
  lwp: number;
  name: string | null;
  /** Innermost first. */
  frames: NativeFrame[];
}

export interface NativeSample {
  threads: NativeThread[];
  /** utime + stime per thread (by lwp), in clock ticks, read just before the sample (hangs only). */
  ticks: Record<string, number>;
  /** Instruction pointers of each thread's innermost interpreter frames, by native thread id (hangs only). */
  python: Record<string, number[]>;
  /** Monotonic seconds when the sample was taken. */
  at: number | null;
}

export interface NativeEvidence {
  source: 'core' | 'attach';
  samples: NativeSample[];
  /** The thread that received the fatal signal (cores only). */
  faultingLwp: number | null;
  signal: number | null;
  clkTck: number;
  /** gdb's own `thread apply all bt` of the last sample: what a bucket's stack.txt keeps. */
  raw: string;
  /** Why the evidence is partial or missing, when it is. */
  error?: string;
}

export type { FindingKind } from './findingKinds.js';
import type { FindingKind } from './findingKinds.js';

/** A finding: typed, with a stable signature (the dedup key) and a one-line explanation. */
export interface Finding {
  kind: FindingKind;
  /** Name of the oracle that produced it. */
  oracle: string;
  /** Stable across reruns of the same bug: no addresses, pids, timings or values that vary. */
  signature: string;
  /** One line for humans. */
  title: string;
  /** Longer evidence: fatal line, stacks, value histograms. */
  details: string;
  program: ProgramRef;
  /** The interpreter(s) and mode(s) where it showed. */
  targets: { label: string; path: string; version: string }[];
  modes: GilMode[];
  /** How many of the runs it was derived from showed it, out of how many. */
  hits: number;
  runs: number;
  /** Paste-able command that shows it again. */
  reproduceCommand: string;
  /** Whether ftfuzz considers it a runtime bug (vs a race in the program, or an environment problem). */
  verdict: Verdict;
  /** The C frames that sign it and the op it was executing (crashes and hangs with native stacks). */
  native?: { frames: string[]; op: string | null; hangClass?: HangClass };
  /**
   * Hangs: whether not finishing is proved: the run was waited on through its finish window and did not end,
   * or it spun in the allocator's free-list walk through both samples (which never takes a second: a cycle in
   * a corrupted list). False when it was killed at its limit unproved (a reused worker's run, a proved hang's
   * new sighting, a plain trial).
   */
  proved?: boolean;
}

export type HangClass = 'deadlock' | 'spin' | 'slow';

/**
 * - `runtime-bug`: the interpreter (or a C module) is at fault: a crash, or a prediction met in some runs and
 *   missed in others often enough to be evidence;
 * - `program-race`: the program's own unsynchronized code explains it (its effect class says so);
 * - `slow`: a crawl, not a hang; `environment`: the machine or a cap; `unknown`: not enough evidence yet.
 */
export type Verdict = 'runtime-bug' | 'program-race' | 'environment' | 'slow' | 'unknown';
export const VERDICTS: readonly Verdict[] = ['runtime-bug', 'program-race', 'slow', 'environment', 'unknown'];

/** Signals that mean the process died of a fault, not of an orderly exit or of our own kill. */
export const FATAL_SIGNALS: ReadonlySet<string> = new Set(['SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGABRT', 'SIGTRAP', 'SIGSYS']);

/** Process exit codes, libFuzzer-style: fixed and documented. */
export const ExitCode = {
  /** Nothing found. */
  Clean: 0,
  /** At least one finding. */
  Findings: 1,
  /** Bad options or arguments. */
  Usage: 2,
  /** Could not run: no interpreter, a build failed, a target cannot start. */
  Environment: 3,
  /** Bad input file: unreadable or malformed program, corpus or crash file. */
  Input: 4,
  /** A fleet job, corpus entry, bucket or registration whose signature the fleet does not trust was refused. */
  Refused: 5,
  /** Module mode: no call of the module returned, so nothing was tested (a readiness check that proves nothing). */
  NothingExercised: 6,
  /** Internal error of ftfuzz itself. */
  Internal: 70,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
