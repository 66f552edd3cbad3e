// The reference executor: one fresh interpreter process per run. Slow (interpreter start-up every time)
// but maximally isolated; faster executors must give the same results on the same programs.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FATAL_SIGNALS, type GilMode, type ProgramRef, type ProtocolRecord, type RunResult, type Target, type Termination } from '../types.js';
import { crashEvidence, discardCore, launcher, nativeSupport, realExecutable, sampleProcess } from './nativeStacks.js';
import { harnessPath } from './paths.js';
import { applyRecord, emptyRunFields, type RunFields } from './protocol.js';

export interface ExecRequest {
  program: ProgramRef;
  target: Target;
  mode: GilMode;
  runIndex: number;
  timeoutMs: number;
  /** Extra environment for the child (e.g. PYTHONHASHSEED derived from the campaign seed). */
  env?: Record<string, string>;
  /** Bytes of stdout/stderr kept (the tail). */
  tailBytes?: number;
  /** Total stdout+stderr bytes after which the child is killed and a resource termination recorded. */
  outputCapBytes?: number;
  /** Memory and CPU caps of the child; exceeding one ends the run as a `resource` termination. */
  limits?: ResourceLimits;
  /** Kills the child when it fires; the run ends as `cancelled`. */
  signal?: AbortSignal;
  /**
   * Run `python PROGRAM` exactly as a user would, without the harness: how reproducers are judged. The
   * program's own protocol records still arrive; exceptions are read from the standard tracebacks on
   * stderr; only the resident-set cap applies (the harness sets the rlimits).
   */
  plain?: boolean;
  /**
   * Run in a process no other program ran in. The spawn executor always does; the fork server reuses a
   * worker after a quiet program unless this is set (how findings from reused workers are confirmed).
   */
  fresh?: boolean;
}

/** Containment of one target process (README "Containment"). */
export interface ResourceLimits {
  /** Address-space cap (RLIMIT_AS, set by the harness) and resident-set cap (polled); bytes. */
  memoryBytes?: number;
  /** CPU-time cap (RLIMIT_CPU): SIGXCPU when exceeded; seconds. */
  cpuSeconds?: number;
}

/**
 * Default caps for a campaign: half the machine's RAM shared among the jobs, and a CPU cap that a run
 * cannot reach before its wall-clock timeout (every core busy for the whole timeout, plus a margin), so
 * a spinning program is still reported as a hang with stacks; the CPU cap is the backstop.
 */
export function defaultLimits(jobs: number, timeoutMs: number, totalMem = os.totalmem(), cores = os.availableParallelism()): Required<ResourceLimits> {
  const share = Math.floor(totalMem / 2 / Math.max(1, jobs));
  return {
    memoryBytes: Math.max(share, 1024 ** 3),
    cpuSeconds: Math.ceil((cores * timeoutMs) / 1000) + 10,
  };
}

/**
 * The resident-set cap, polled every 200 ms (RLIMIT_AS covers most runaway allocations inside the child;
 * the poll covers what it cannot: sanitizer builds reserve terabytes of address space). Calls `exceeded`
 * with the resource termination once; returns the timer to clear when the run ends.
 */
export function watchResidentSet(pid: number, cap: number, exceeded: (t: Termination) => void): NodeJS.Timeout {
  let fired = false;
  return setInterval(() => {
    const rss = residentBytes(pid);
    if (!fired && rss !== null && rss > cap) {
      fired = true;
      exceeded({ kind: 'resource', resource: 'memory', detail: `resident set ${rss} bytes above the ${cap}-byte cap` });
    }
  }, 200);
}

/** Exception messages that mean the memory cap, not the program, failed the run. */
const MEMORY_EXHAUSTED = /^(MemoryError)$/;
const THREAD_START_FAILED = /can't start new thread/;

/** Resident set size of a live process, from /proc (Linux); null when unreadable. */
export function residentBytes(pid: number): number | null {
  try {
    const pages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    return Number.isFinite(pages) ? pages * 4096 : null;
  } catch {
    return null;
  }
}

export interface Executor {
  readonly name: string;
  execute(request: ExecRequest): Promise<RunResult>;
  close(): Promise<void>;
}

/** Keeps the last `limit` bytes of a stream, and counts all of them. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  total = 0;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    this.total += chunk.length;
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.limit && this.chunks.length > 1) {
      this.size -= this.chunks.shift()?.length ?? 0;
    }
  }
  toString(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}

/** Environment that selects a GIL mode. PYTHON_GIL is ignored by GIL-only builds. */
export function modeEnv(mode: GilMode): Record<string, string> {
  return { PYTHON_GIL: mode === 'gil-off' ? '0' : '1' };
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The paste-able command that runs a program outside ftfuzz, in the given mode. */
export function reproduceCommand(target: Target, mode: GilMode, programPath: string): string {
  const gil = target.freeThreaded ? `PYTHON_GIL=${mode === 'gil-off' ? 0 : 1} ` : '';
  return `${gil}${shellQuote(target.path)} ${shellQuote(programPath)}`;
}

/** Grace period between SIGUSR1 (faulthandler dumps all thread stacks) and SIGKILL on timeout. */
export const STACK_DUMP_GRACE_MS = 500;

export class SpawnExecutor implements Executor {
  readonly name = 'spawn';

  execute(request: ExecRequest): Promise<RunResult> {
    const { target, mode, program } = request;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...modeEnv(mode),
      ...(request.plain ? {} : limitEnv(request.limits, target)),
      ...(request.plain ? {} : wallEnv(request.timeoutMs)),
      FTFUZZ_REPORT_FD: '3',
      PYTHONFAULTHANDLER: '1',
      PYTHONUNBUFFERED: '1',
      ...request.env,
    };
    const stdout = new TailBuffer(request.tailBytes ?? 64 * 1024);
    const stderr = new TailBuffer(request.tailBytes ?? 64 * 1024);
    const fields = emptyRunFields();
    let pendingLine = '';
    const started = performance.now();

    // A harness run works in a directory of its own, where the kernel writes its core if it crashes; a
    // plain run works beside its program, as `python repro.py` from the bucket does.
    const cwd = request.plain ? path.dirname(program.path) : mkdtempSync(path.join(os.tmpdir(), 'ftfuzz-run-'));
    const dropCwd = () => {
      if (!request.plain) rmSync(cwd, { recursive: true, force: true });
    };
    let native: RunResult['native'];

    return new Promise((resolve) => {
      let termination: Termination | null = null;
      let child;
      try {
        // detached: the child leads its own process group, so a timeout kills its children too. The
        // launcher makes it die with this process and lets it write a core (nativeStacks.ts).
        const args = request.plain ? [program.path] : [harnessPath, program.path];
        const [command, ...prefix] = [...launcher(), target.path];
        child = spawn(command, [...prefix, ...args], { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
      } catch (error) {
        dropCwd();
        resolve(this.result(request, { kind: 'spawn-error', message: (error as Error).message }, 0, stdout, stderr, fields));
        return;
      }
      const pid = child.pid;
      const killGroup = (signal: NodeJS.Signals) => {
        if (pid === undefined) return;
        try {
          process.kill(-pid, signal);
        } catch {
          // already gone
        }
      };
      const outputCap = request.outputCapBytes ?? 64 * 1024 * 1024;
      const onOutput = (buffer: TailBuffer) => (chunk: Buffer) => {
        buffer.push(chunk);
        if (termination === null && stdout.total + stderr.total > outputCap) {
          termination = { kind: 'resource', resource: 'output', detail: `more than ${outputCap} bytes of output` };
          killGroup('SIGKILL');
        }
      };
      child.stdout?.on('data', onOutput(stdout));
      child.stderr?.on('data', onOutput(stderr));
      const channel = child.stdio[3];
      channel?.on('data', (chunk: Buffer) => {
        const lines = (pendingLine + chunk.toString('utf8')).split('\n');
        pendingLine = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) applyLine(fields, line);
      });
      channel?.on('error', () => undefined);
      // 'close' of the child can come before the extra pipe is drained: wait for both.
      const channelDone = new Promise<void>((done) => {
        if (!channel) done();
        else channel.on('close', () => done());
      });

      const memoryCap = request.limits?.memoryBytes;
      const rssPoll =
        memoryCap !== undefined && pid !== undefined
          ? watchResidentSet(pid, memoryCap, (t) => {
              if (termination !== null) return;
              termination = t;
              killGroup('SIGKILL');
            })
          : undefined;

      const onAbort = () => {
        termination ??= { kind: 'cancelled' };
        killGroup('SIGKILL');
      };
      if (request.signal?.aborted) onAbort();
      else request.signal?.addEventListener('abort', onAbort, { once: true });

      let killTimer: NodeJS.Timeout | undefined;
      let exited = false;
      // Set once ftfuzz signals a timed-out run: a run that ends on its own while it is being sampled
      // finished (late), it did not hang, and its own exit status stands.
      let stopping = false;
      const timer = setTimeout(() => {
        termination = { kind: 'timeout', afterMs: request.timeoutMs };
        void (async () => {
          // C stacks and CPU time, sampled twice while it still runs (deadlock, spin or crawl?).
          if (pid !== undefined && nativeSupport().gdb) {
            native = (await sampleProcess(await realExecutable(target.executable), pid, { signal: request.signal })) ?? undefined;
          }
          if (exited) return;
          stopping = true;
          // Ask faulthandler for every thread's stack, then kill: the harness registers it on SIGUSR1; a
          // plain run has only PYTHONFAULTHANDLER=1, which dumps the stacks on SIGABRT (SIGUSR1 would kill it).
          if (pid !== undefined) {
            try {
              process.kill(pid, request.plain ? 'SIGABRT' : 'SIGUSR1');
            } catch {
              // exited meanwhile
            }
          }
          killTimer = setTimeout(() => killGroup('SIGKILL'), STACK_DUMP_GRACE_MS);
        })();
      }, request.timeoutMs);

      child.on('error', (error) => {
        termination ??= { kind: 'spawn-error', message: error.message };
      });
      child.on('close', (code, signal) => {
        exited = true;
        if (termination?.kind === 'timeout' && !stopping) {
          termination = null;
          native = undefined;
        }
        const durationMs = performance.now() - started;
        clearTimeout(timer);
        clearTimeout(killTimer);
        clearInterval(rssPoll);
        request.signal?.removeEventListener('abort', onAbort);
        // Leftover processes of the group (a program's own subprocesses) must not outlive the run.
        killGroup('SIGKILL');
        termination ??= signal ? { kind: 'signal', signal } : { kind: 'exit', code: code ?? -1 };
        const ended = termination;
        void channelDone.then(async () => {
          if (pendingLine.trim()) applyLine(fields, pendingLine);
          if (request.plain && fields.uncaughtException === null && fields.threadExceptions.length === 0) Object.assign(fields, exceptionsFromStderr(stderr.toString()));
          if (pid !== undefined) {
            if (ended.kind === 'signal' && FATAL_SIGNALS.has(ended.signal)) native = await crashEvidence(target.executable, pid, cwd);
            else if (request.plain && ended.kind !== 'exit') await discardCore(target.executable, pid, cwd);
          }
          dropCwd();
          const result = this.result(request, capped(ended, fields, request.limits), durationMs, stdout, stderr, fields);
          if (native) result.native = native;
          resolve(result);
        });
      });
    });
  }

  private result(
    request: ExecRequest,
    termination: Termination,
    durationMs: number,
    stdout: TailBuffer,
    stderr: TailBuffer,
    fields: ReturnType<typeof emptyRunFields>,
  ): RunResult {
    return runResult(request, termination, durationMs, stdout.toString(), stderr.toString(), fields);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

const EXCEPTION_LINE = /^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Iteration)?)(?:: (.*))?$/;

/** The exception a traceback ends with: its last unindented `Type: message` line. */
function tracebackEnd(lines: string[], from: number): { excType: string; message: string; next: number } | null {
  for (let i = from + 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith(' ') || line.startsWith('Traceback') || line === '') continue;
    if (/^(During handling|The above exception)/.test(line)) continue;
    const m = EXCEPTION_LINE.exec(line);
    if (!m) return null;
    // A chained traceback follows: the last exception is the one that ended it.
    if (lines[i + 2]?.startsWith('During handling') || lines[i + 2]?.startsWith('The above exception')) continue;
    return { excType: (m[1] as string).split('.').pop() as string, message: (m[2] ?? '').slice(0, 500), next: i };
  }
  return null;
}

/** Uncaught and thread exceptions from CPython's default tracebacks, for runs without the harness. */
export function exceptionsFromStderr(stderr: string): Pick<RunResult, 'uncaughtException' | 'threadExceptions'> {
  const lines = stderr.split('\n');
  const threadExceptions: RunResult['threadExceptions'] = [];
  let uncaughtException: RunResult['uncaughtException'] = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const thread = /^Exception in thread ([^:(]+?)(?: \(.*\))?:$/.exec(line);
    if (thread) {
      const end = tracebackEnd(lines, i);
      if (end) {
        threadExceptions.push({ thread: thread[1] as string, excType: end.excType, message: end.message });
        i = end.next;
      }
      continue;
    }
    if (line === 'Traceback (most recent call last):') {
      const end = tracebackEnd(lines, i);
      if (end) {
        uncaughtException = { excType: end.excType, message: end.message };
        i = end.next;
      }
    }
  }
  return { uncaughtException, threadExceptions };
}

/** The harness's wall-clock backstop: well after the runner's own timeout, for runs whose runner died. */
export function wallEnv(timeoutMs: number): Record<string, string> {
  return { FTFUZZ_LIMIT_WALL: String(Math.ceil(timeoutMs / 1000) + 30) };
}

/** The environment through which the harness applies the caps inside the child. */
export function limitEnv(limits: ResourceLimits | undefined, target: Target): Record<string, string> {
  const env: Record<string, string> = {};
  // An address-space cap would break sanitizer builds, which reserve huge shadow mappings.
  if (limits?.memoryBytes !== undefined && target.sanitizers.length === 0) env.FTFUZZ_LIMIT_AS = String(limits.memoryBytes);
  if (limits?.cpuSeconds !== undefined) env.FTFUZZ_LIMIT_CPU = String(limits.cpuSeconds);
  return env;
}

/**
 * A run that ended because a cap was hit is a resource termination, not a crash or a program failure:
 * SIGXCPU is the CPU cap; MemoryError (or a thread that could not start) under the memory cap is the
 * memory cap. A fatal signal other than SIGXCPU stays a crash even under a cap.
 */
export function capped(termination: Termination, fields: Pick<RunResult, 'uncaughtException' | 'threadExceptions'>, limits: ResourceLimits | undefined): Termination {
  if (termination.kind === 'signal' && termination.signal === 'SIGXCPU' && limits?.cpuSeconds !== undefined) {
    return { kind: 'resource', resource: 'cpu', detail: `more than ${limits.cpuSeconds} s of CPU time` };
  }
  if (termination.kind === 'exit' && limits?.memoryBytes !== undefined) {
    const failures = [fields.uncaughtException, ...fields.threadExceptions].filter((e) => e !== null);
    const hit = failures.find((e) => MEMORY_EXHAUSTED.test(e.excType) || (e.excType === 'RuntimeError' && THREAD_START_FAILED.test(e.message)));
    if (hit) return { kind: 'resource', resource: 'memory', detail: `${hit.excType} under the ${limits.memoryBytes}-byte memory cap` };
  }
  return termination;
}

/** A finished run, as every executor reports it. */
export function runResult(request: ExecRequest, termination: Termination, durationMs: number, stdoutTail: string, stderrTail: string, fields: RunFields): RunResult {
  return {
    program: request.program,
    target: request.target,
    modeRequested: request.mode,
    runIndex: request.runIndex,
    termination,
    durationMs,
    stdoutTail,
    stderrTail,
    ...fields,
    reproduceCommand: reproduceCommand(request.target, request.mode, request.program.path),
    timeoutMs: request.timeoutMs,
  };
}

/** Protocol lines of a finished run (a report file), into the run's fields. */
export function applyReport(fields: RunFields, text: string): void {
  for (const line of text.split('\n')) if (line.trim()) applyLine(fields, line);
}

export function applyLine(fields: ReturnType<typeof emptyRunFields>, line: string): void {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    fields.protocolErrors.push(`not JSON: ${line.slice(0, 200)}`);
    return;
  }
  applyRecord(fields, record as ProtocolRecord);
}
