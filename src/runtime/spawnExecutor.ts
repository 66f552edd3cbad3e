// The reference executor: one fresh interpreter process per run. Slow (interpreter start-up every time)
// but maximally isolated; faster executors must give the same results on the same programs.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { FATAL_SIGNALS, type RunResult, type Termination } from '../types.js';
import { crashEvidence, discardCore, launcher } from './nativeStacks.js';
import { harnessPath } from './paths.js';
import { modeEnv } from '../reproduce.js';
import { attachEdges, OUTPUT_CAP_BYTES, nativeRunEnv, preloadEnv, runResult, type ExecRequest, type Executor } from './executor.js';
import { capped, limitEnv, wallEnv, windowLimits } from './limits.js';
import { RunWatchdog } from './watchdog.js';
import { applyLine, emptyRunFields, type RunFields } from './protocol.js';
import { exceptionsFromStderr } from './tracebacks.js';
import { isTsan, readTsanLogs, tsanEnv, tsanLauncher } from './tsan.js';

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


/** A harness run's environment (a plain run gets no caps: `python repro.py` as a user runs it). */
function childEnv(request: ExecRequest, tsanEnv: Record<string, string> | undefined): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...modeEnv(request.mode),
    ...(request.plain ? {} : limitEnv(windowLimits(request.limits, request.finishWindow?.maxMs, request.timeoutMs), request.target)),
    ...(request.plain ? {} : wallEnv(request.finishWindow?.maxMs ?? request.timeoutMs)),
    FTFUZZ_REPORT_FD: '3',
    PYTHONFAULTHANDLER: '1',
    PYTHONUNBUFFERED: '1',
    ...tsanEnv,
    ...request.env,
    ...preloadEnv(request),
    ...nativeRunEnv(request),
  };
}

/**
 * The protocol records of fd 3, applied to `fields` line by line; resolves once the pipe is closed and its
 * last line applied ('close' of the child can come before the extra pipe is drained: wait for both).
 */
function readRecords(channel: Readable | Writable | null | undefined, fields: RunFields): Promise<void> {
  if (!channel) return Promise.resolve();
  let pending = '';
  channel.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString('utf8')).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) applyLine(fields, line);
  });
  channel.on('error', () => undefined);
  return new Promise<void>((done) =>
    channel.on('close', () => {
      if (pending.trim()) applyLine(fields, pending);
      done();
    }),
  );
}

export class SpawnExecutor implements Executor {
  readonly name = 'spawn';

  async execute(request: ExecRequest): Promise<RunResult> {
    if (!isTsan(request.target)) return this.run(request, null);
    // A TSan run: its reports go to a directory of their own, read when it ends (tsan.ts).
    const logDir = mkdtempSync(path.join(os.tmpdir(), 'ftfuzz-tsan-'));
    try {
      const tsan = { env: await tsanEnv(request.target, logDir), prefix: await tsanLauncher(request.target), logDir };
      return await this.run(request, tsan);
    } finally {
      rmSync(logDir, { recursive: true, force: true });
    }
  }

  private run(request: ExecRequest, tsan: { env: Record<string, string>; prefix: string[]; logDir: string } | null): Promise<RunResult> {
    const { target, program } = request;
    const env = childEnv(request, tsan?.env);
    const stdout = new TailBuffer(request.tailBytes ?? 64 * 1024);
    const stderr = new TailBuffer(request.tailBytes ?? 64 * 1024);
    const fields = emptyRunFields();
    const started = performance.now();

    // A harness run works in a directory of its own, where the kernel writes its core if it crashes; a
    // plain run works beside its program, as `python repro.py` from the bucket does.
    const cwd = request.plain ? path.dirname(program.path) : mkdtempSync(path.join(os.tmpdir(), 'ftfuzz-run-'));
    const dropCwd = () => {
      if (!request.plain) rmSync(cwd, { recursive: true, force: true });
    };
    return new Promise((resolve) => {
      let child;
      try {
        // detached: the child leads its own process group, so a timeout kills its children too. The
        // launcher makes it die with this process and lets it write a core (nativeStacks.ts).
        const args = request.plain ? [program.path] : [harnessPath, program.path];
        const [command, ...prefix] = [...launcher(), ...(tsan?.prefix ?? []), target.path];
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
      const watchdog = new RunWatchdog(request, {
        kill: () => killGroup('SIGKILL'),
        // Every thread's stack: the harness registers faulthandler on SIGUSR1; a plain run has only
        // PYTHONFAULTHANDLER=1, which dumps the stacks on SIGABRT (SIGUSR1 would kill it).
        dumpStacks: () => {
          if (pid === undefined) return;
          try {
            process.kill(pid, request.plain ? 'SIGABRT' : 'SIGUSR1');
          } catch {
            // exited meanwhile
          }
        },
      });
      const onOutput = (buffer: TailBuffer) => (chunk: Buffer) => {
        buffer.push(chunk);
        if (stdout.total + stderr.total > OUTPUT_CAP_BYTES) watchdog.outputOverflow();
      };
      child.stdout?.on('data', onOutput(stdout));
      child.stderr?.on('data', onOutput(stderr));
      const channelDone = readRecords(child.stdio[3], fields);
      watchdog.arm(pid);

      child.on('error', (error) => watchdog.note({ kind: 'spawn-error', message: error.message }));
      child.on('close', (code, signal) => {
        watchdog.settle();
        let native = watchdog.native;
        const durationMs = performance.now() - started;
        // Leftover processes of the group (a program's own subprocesses) must not outlive the run.
        killGroup('SIGKILL');
        const ended: Termination = watchdog.termination ?? (signal ? { kind: 'signal', signal } : { kind: 'exit', code: code ?? -1 });
        void channelDone.then(async () => {
          if (request.plain && fields.uncaughtException === null && fields.threadExceptions.length === 0) Object.assign(fields, exceptionsFromStderr(stderr.toString()));
          let gdbMs = watchdog.gdbMs;
          if (pid !== undefined) {
            const t0 = performance.now();
            if (ended.kind === 'signal' && FATAL_SIGNALS.has(ended.signal)) native = await crashEvidence(target.executable, pid, cwd);
            else if (request.plain && ended.kind !== 'exit') await discardCore(target.executable, pid, cwd);
            gdbMs += performance.now() - t0;
          }
          dropCwd();
          const result = this.result(request, capped(ended, fields, request.limits), durationMs, stdout, stderr, fields);
          if (native) result.native = native;
          if (watchdog.late) result.late = watchdog.late;
          if (gdbMs > 0) result.gdbMs = Math.round(gdbMs);
          if (tsan) result.sanitizerLog = await readTsanLogs(tsan.logDir);
          resolve(await attachEdges(request, result));
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

