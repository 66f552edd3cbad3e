// The fork-server executor: one warmed interpreter per (interpreter, GIL mode, environment, caps) forks
// the workers programs run in (python/ftfuzz_forkserver.py), so start-up is paid once. A worker leads its
// own process group and writes each program's output and protocol records to files; a crashing, hanging
// or leaking worker never takes the server down. A worker whose program ended quiet runs the next one
// (persistent mode); such runs are marked `reusedProcess`, and checkProgram confirms any finding from
// them on fresh workers. A server is recycled after `recycleAfter` programs and replaced when it dies; a
// run lost with a dying server is retried once on a fresh one, then on the spawn executor (fallback.ts), so nothing is
// lost. Plain runs (reproducers) always go to the spawn executor: they must not depend on the server.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { FATAL_SIGNALS, type RunResult, type Termination } from '../types.js';
import { coreLimitEnv, crashEvidence, launcher } from './nativeStacks.js';
import { forkServerPath } from './paths.js';
import { KINDS, KNOB_OPS, OPS } from '../generators/ops.js';
import { PRELUDE_IMPORTS } from '../generators/program.js';
import { emptyRunFields } from './protocol.js';
import { modeEnv } from '../reproduce.js';
import { attachEdges, OUTPUT_CAP_BYTES, nativeRunEnv, preloadEnv, runResult, type ExecRequest, type Executor } from './executor.js';
import { RetryThenFallback, type LossyExecutor } from './fallback.js';
import { capped, limitEnv, wallEnv, windowLimits } from './limits.js';
import { applyReport } from './protocol.js';
import { isTsan } from './tsan.js';
import { parseServerMessage, type KillRequest, type RunRequest } from './forkProtocol.js';
import { SpawnExecutor } from './spawnExecutor.js';
import { RunWatchdog } from './watchdog.js';

/** A quiet run's output tail and protocol records, sent back with its status. */
interface Inline {
  stdout: string;
  report?: string;
}

interface Waiter {
  onPid: (pid: number, reused: boolean) => void;
  /** `inline`: the worker ended the program quiet and lives on for the next one. */
  onStatus: (status: number, inline: Inline | null) => void;
  onServerDeath: () => void;
}


/**
 * Every module a generated program can import: its kinds' and ops' own, and the prelude's. The fork server
 * imports them once (`--warm`), so each forked program starts with them loaded, and a new kind's module is
 * pre-imported without touching the server.
 */
const PROGRAM_IMPORTS = [...new Set([...PRELUDE_IMPORTS, ...KINDS.flatMap((k) => k.imports), ...[...OPS, ...KNOB_OPS].flatMap((o) => o.imports ?? [])])].sort();

/** One server process and its requests in flight. */
class ForkServer {
  readonly proc: ChildProcess;
  readonly ready: Promise<void>;
  private readonly waiters = new Map<number, Waiter>();
  private nextId = 0;
  programs = 0;
  dead = false;

  constructor(pythonPath: string, env: NodeJS.ProcessEnv) {
    // Through the launcher (nativeStacks.ts): the server dies with this process; its workers die with it.
    const [command, ...prefix] = [...launcher(), pythonPath];
    this.proc = spawn(command, [...prefix, forkServerPath, '--warm', PROGRAM_IMPORTS.join(',')], { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.proc.stderr?.resume(); // the server itself writes nothing; never let a full pipe block it
    let resolveReady!: () => void;
    let rejectReady!: (error: Error) => void;
    this.ready = new Promise((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    const lines = createInterface({ input: this.proc.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      const msg = parseServerMessage(line);
      if (msg === null) {
        this.die(); // a server that says something else is damaged
        return;
      }
      if (msg.type === 'ready') resolveReady();
      else if (msg.type === 'ended') {
        const w = this.waiters.get(msg.id);
        this.waiters.delete(msg.id);
        w?.onStatus(msg.status, msg.alive ? { stdout: msg.stdout ?? '', report: msg.report } : null);
      } else this.waiters.get(msg.id)?.onPid(msg.pid, msg.reused);
    });
    const onGone = () => {
      rejectReady(new Error('fork server exited before it was ready'));
      this.die();
    };
    this.proc.on('exit', onGone);
    this.proc.on('error', onGone);
    this.proc.stdin?.on('error', () => this.die());
  }

  /** Queue a program; returns the request id (for kill). */
  submit(request: Omit<RunRequest, 'id'>, waiter: Waiter): number {
    const id = this.nextId++;
    this.programs += 1;
    // The server can die between the caller's last look and now (the caller awaits file-system work
    // after picking it): such a request would wait forever for a status nobody sends.
    if (this.dead) {
      queueMicrotask(() => waiter.onServerDeath());
      return id;
    }
    this.waiters.set(id, waiter);
    this.send({ ...request, id } satisfies RunRequest);
    return id;
  }

  /**
   * Signal the worker running request `id`, through the server: only the server knows whether that
   * worker still runs it, or has finished it and started someone else's program.
   */
  kill(id: number, signal: 'SIGUSR1' | 'SIGKILL', group: boolean): void {
    this.send({ kill: id, signal, group } satisfies KillRequest);
  }

  private send(message: RunRequest | KillRequest): void {
    if (!this.dead) this.proc.stdin?.write(`${JSON.stringify(message)}\n`);
  }

  /** Stop taking programs; the server exits once its workers are done. */
  retire(): void {
    this.proc.stdin?.end();
  }

  die(): void {
    if (this.dead) return;
    this.dead = true;
    try {
      if (this.proc.pid !== undefined) process.kill(this.proc.pid, 'SIGKILL');
    } catch {
      // gone
    }
    for (const w of this.waiters.values()) w.onServerDeath();
    this.waiters.clear();
  }
}

export interface ForkServerOptions {
  /** Programs per server before it is replaced by a fresh one (bounds any state a server accumulates). */
  recycleAfter?: number;
}

/** The servers, one per (interpreter, environment, caps); a run is lost (null) when its server dies under it. */
class ForkServerPool implements LossyExecutor {
  private readonly servers = new Map<string, ForkServer>();
  private readonly retired = new Set<ForkServer>();
  private readonly recycleAfter: number;
  private workDir: Promise<string> | null = null;
  private seq = 0;
  private closed = false;
  /** Servers started, for tests and the benchmark. */
  serversStarted = 0;

  constructor(options: ForkServerOptions = {}) {
    this.recycleAfter = options.recycleAfter ?? 500;
  }

  private dir(): Promise<string> {
    this.workDir ??= fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-fork-'));
    return this.workDir;
  }

  private async server(request: ExecRequest): Promise<ForkServer> {
    // The environment a server starts with is part of its identity (PYTHON_GIL, PYTHONPATH, ...), and so
    // are the caps: a worker can lower its hard rlimits for a program but never raise them again.
    const env = { ...modeEnv(request.mode), PYTHONFAULTHANDLER: '1', PYTHONUNBUFFERED: '1', ...request.env, ...preloadEnv(request) };
    const key = `${request.target.path}\0${JSON.stringify(Object.entries(env).sort())}\0${JSON.stringify(request.limits ?? {})}`;
    let server = this.servers.get(key);
    if (server && (server.dead || server.programs >= this.recycleAfter)) {
      this.servers.delete(key);
      if (!server.dead) {
        server.retire();
        this.retired.add(server);
        const old = server;
        old.proc.on('exit', () => this.retired.delete(old));
      }
      server = undefined;
    }
    if (!server) {
      server = new ForkServer(request.target.path, { ...process.env, ...env });
      this.serversStarted += 1;
      this.servers.set(key, server);
    }
    await server.ready;
    return server;
  }

  /**
   * Reproducers (`plain`) must not depend on the server. TSan targets run fresh processes: a forked worker
   * would inherit the TSan shadow state of a parent that imported and froze things, and a reused worker's
   * reports would mix programs; start-up is only 18% of a TSan run, the most a fork server could save
   * (README "Executors").
   */
  accepts(request: ExecRequest): boolean {
    return !request.plain && !isTsan(request.target);
  }

  async tryExecute(request: ExecRequest): Promise<RunResult | null> {
    if (this.closed) return null;
    let server: ForkServer;
    try {
      server = await this.server(request);
    } catch {
      return null;
    }
    return this.runOn(server, request);
  }

  /** One program on one server; null when the server died under it (the caller retries). */
  private async runOn(server: ForkServer, request: ExecRequest): Promise<RunResult | null> {
    const base = path.join(await this.dir(), `run-${this.seq++}`);
    // A quiet run's worker sends its output and records back and removes these files itself.
    const files = { stdout: `${base}.out`, stderr: `${base}.err`, report: `${base}.rep` };
    // The worker runs the program in a directory of its own, where the kernel writes its core on a crash.
    const cwd = `${base}.d`;
    await fs.mkdir(cwd);
    let native: RunResult['native'];
    let late: RunResult['late'];
    let gdbMs = 0;
    const started = performance.now();
    let reused = false;
    let workerPid: number | undefined;
    const outcome = await new Promise<{ status: number; termination: Termination | null; inline: Inline | null } | null>((resolve) => {
      let id = -1;
      let pid: number | undefined;
      const watchdog = new RunWatchdog(request, {
        kill: () => server.kill(id, 'SIGKILL', true),
        dumpStacks: () => server.kill(id, 'SIGUSR1', false), // faulthandler: every thread's stack
      });
      // A worker that has exited leaves its process group behind only if the program started processes.
      const killGroup = () => {
        if (pid === undefined) return;
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // gone
        }
      };
      const finish = (value: { status: number; inline: Inline | null } | null, workerGone: boolean) => {
        watchdog.settle();
        native = watchdog.native;
        late = watchdog.late;
        gdbMs = watchdog.gdbMs;
        // The program's own subprocesses must not outlive the run (a quiet worker has none).
        if (workerGone) killGroup();
        resolve(value ? { ...value, termination: watchdog.termination } : null);
      };
      id = server.submit(
        {
          program: request.program.path,
          ...files,
          env: { ...limitEnv(windowLimits(request.limits, request.finishWindow?.maxMs, request.timeoutMs), request.target), ...coreLimitEnv(), ...wallEnv(request.finishWindow?.maxMs ?? request.timeoutMs), ...request.env, ...nativeRunEnv(request) },
          cwd,
          fresh: request.fresh === true,
        },
        {
          onPid: (p, wasReused) => {
            pid = p;
            workerPid = p;
            reused = wasReused;
            // The output cap is watched from here, not with RLIMIT_FSIZE in the worker: the kernel applies
            // RLIMIT_FSIZE to core files too, and a free-threaded core's apparent size (mimalloc's reserved
            // arenas, written as holes) is over a GiB, so any such cap truncates it before the stacks.
            watchdog.arm(p, () => [files.stdout, files.stderr].reduce((n, f) => n + fileSize(f), 0), wasReused);
          },
          onStatus: (status, inline) => finish({ status, inline }, inline === null),
          onServerDeath: () => finish(null, true),
        },
      );
    });
    const durationMs = performance.now() - started;
    if (!outcome) {
      await Promise.all([...Object.values(files), cwd].map((f) => fs.rm(f, { recursive: true, force: true })));
      return null;
    }
    if (outcome.status < 0 && FATAL_SIGNALS.has(signalName(-outcome.status)) && workerPid !== undefined && outcome.termination === null) {
      const t0 = performance.now();
      native = await crashEvidence(request.target.executable, workerPid, cwd);
      gdbMs += performance.now() - t0;
    }
    await fs.rm(cwd, { recursive: true, force: true });
    // A quiet run came back inline (its stderr is empty by definition); a report too large to send, and
    // everything of a worker that exited, is read from the files, which are then removed.
    const { inline } = outcome;
    const stdoutTail = inline ? inline.stdout : await tail(files.stdout);
    const stderrTail = inline ? '' : await tail(files.stderr);
    const report = inline?.report ?? (await fs.readFile(files.report, 'utf8').catch(() => ''));
    const left = !inline ? Object.values(files) : inline.report === undefined ? [files.report] : [];
    await Promise.all(left.map((f) => fs.rm(f, { force: true })));
    const fields = emptyRunFields();
    applyReport(fields, report);
    let termination: Termination =
      outcome.termination ?? (outcome.status < 0 ? { kind: 'signal', signal: signalName(-outcome.status) } : { kind: 'exit', code: outcome.status });
    if (termination.kind === 'signal' && termination.signal === 'SIGXFSZ') termination = { kind: 'resource', resource: 'output', detail: `more than ${OUTPUT_CAP_BYTES} bytes of output` };
    const result = runResult(request, capped(termination, fields, request.limits), durationMs, stdoutTail, stderrTail, fields);
    await attachEdges(request, result);
    if (reused) result.reusedProcess = true;
    if (native) result.native = native;
    if (late) result.late = late;
    if (gdbMs > 0) result.gdbMs = Math.round(gdbMs);
    return result;
  }

  /** Pids of the live servers (memory accounting in the benchmark). */
  serverPids(): number[] {
    return [...this.servers.values(), ...this.retired].flatMap((s) => (s.proc.pid !== undefined && !s.dead ? [s.proc.pid] : []));
  }

  /**
   * Shut the pool down: SIGTERM to each server, which SIGKILLs its workers' process groups (a busy one
   * runs a program) and exits; SIGKILL after a 2 s grace. Runs in flight end as `cancelled`.
   */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.servers.values(), ...this.retired];
    this.servers.clear();
    await Promise.all(
      all.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.dead || s.proc.exitCode !== null) return resolve();
            const force = setTimeout(() => s.die(), 2000);
            s.proc.once('exit', () => {
              clearTimeout(force);
              resolve();
            });
            try {
              if (s.proc.pid !== undefined) process.kill(s.proc.pid, 'SIGTERM');
            } catch {
              resolve();
            }
          }),
      ),
    );
    if (this.workDir) await fs.rm(await this.workDir, { recursive: true, force: true });
  }
}

/**
 * The fork-server executor: the pool, wrapped so that a run lost with a dying server is retried once on a
 * fresh one and then run by the spawn executor, which also takes what the pool declines.
 */
export class ForkServerExecutor extends RetryThenFallback {
  private readonly pool: ForkServerPool;

  constructor(options: ForkServerOptions = {}) {
    const pool = new ForkServerPool(options);
    super('forkserver', pool, new SpawnExecutor());
    this.pool = pool;
  }

  /** Servers started, for tests and the benchmark. */
  get serversStarted(): number {
    return this.pool.serversStarted;
  }

  /** Pids of the live servers (memory accounting in the benchmark). */
  serverPids(): number[] {
    return this.pool.serverPids();
  }
}

const TAIL = 64 * 1024;

async function tail(file: string): Promise<string> {
  let handle;
  try {
    handle = await fs.open(file, 'r');
  } catch {
    return '';
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, TAIL);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function signalName(n: number): string {
  const entry = Object.entries(os.constants.signals).find(([, v]) => v === n);
  return entry ? entry[0] : `signal ${n}`;
}

export type ExecutorName = 'forkserver' | 'spawn';
export const EXECUTORS: readonly ExecutorName[] = ['forkserver', 'spawn'];

/**
 * `--executor`: the fork server (the default: persistent workers forked from a warmed interpreter; see
 * README "Executors" and `npm run bench -- executors`), or one fresh process per run (the reference).
 */
export function createExecutor(name: ExecutorName = 'forkserver'): Executor {
  return name === 'spawn' ? new SpawnExecutor() : new ForkServerExecutor();
}
