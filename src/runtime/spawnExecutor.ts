// The reference executor: one fresh interpreter process per run. Slow (interpreter start-up every time)
// but maximally isolated; faster executors must give the same results on the same programs.
import { spawn } from 'node:child_process';
import type { GilMode, ProgramRef, ProtocolRecord, RunResult, Target, Termination } from '../types.js';
import { harnessPath } from './paths.js';
import { applyRecord, emptyRunFields } from './protocol.js';

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
const STACK_DUMP_GRACE_MS = 500;

export class SpawnExecutor implements Executor {
  readonly name = 'spawn';

  execute(request: ExecRequest): Promise<RunResult> {
    const { target, mode, program } = request;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...modeEnv(mode),
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

    return new Promise((resolve) => {
      let termination: Termination | null = null;
      let child;
      try {
        // detached: the child leads its own process group, so a timeout kills its children too.
        child = spawn(target.path, [harnessPath, program.path], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
      } catch (error) {
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

      let killTimer: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        termination = { kind: 'timeout', afterMs: request.timeoutMs };
        // Ask faulthandler (registered on SIGUSR1 by the harness) for every thread's stack, then kill.
        if (pid !== undefined) {
          try {
            process.kill(pid, 'SIGUSR1');
          } catch {
            // exited meanwhile
          }
        }
        killTimer = setTimeout(() => killGroup('SIGKILL'), STACK_DUMP_GRACE_MS);
      }, request.timeoutMs);

      child.on('error', (error) => {
        termination ??= { kind: 'spawn-error', message: error.message };
      });
      child.on('close', (code, signal) => {
        const durationMs = performance.now() - started;
        clearTimeout(timer);
        clearTimeout(killTimer);
        // Leftover processes of the group (a program's own subprocesses) must not outlive the run.
        killGroup('SIGKILL');
        termination ??= signal ? { kind: 'signal', signal } : { kind: 'exit', code: code ?? -1 };
        const ended = termination;
        void channelDone.then(() => {
          if (pendingLine.trim()) applyLine(fields, pendingLine);
          resolve(this.result(request, ended, durationMs, stdout, stderr, fields));
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
    return {
      program: request.program,
      target: request.target,
      modeRequested: request.mode,
      runIndex: request.runIndex,
      termination,
      durationMs,
      stdoutTail: stdout.toString(),
      stderrTail: stderr.toString(),
      ...fields,
      reproduceCommand: reproduceCommand(request.target, request.mode, request.program.path),
    };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function applyLine(fields: ReturnType<typeof emptyRunFields>, line: string): void {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    fields.protocolErrors.push(`not JSON: ${line.slice(0, 200)}`);
    return;
  }
  applyRecord(fields, record as ProtocolRecord);
}
