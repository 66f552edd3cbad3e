// The fork server's line protocol (python/ftfuzz_forkserver.py speaks the same shapes; its docstring lists
// them). Requests go to the server's stdin, one JSON object per line; replies come back on its stdout.

/** Run a program in a worker: files for its output and protocol records, its environment and directory. */
export interface RunRequest {
  id: number;
  program: string;
  stdout: string;
  stderr: string;
  report: string;
  env: Record<string, string>;
  cwd: string;
  /** Run it in a worker no other program ran in. */
  fresh: boolean;
}

/** Signal the worker running request `kill` (only the server knows whether that worker still runs it). */
export interface KillRequest {
  kill: number;
  signal: 'SIGUSR1' | 'SIGKILL';
  /** The worker's whole process group (the program's own subprocesses too). */
  group: boolean;
}

export type ServerMessage =
  /** The server has imported what it pre-imports and takes requests. */
  | { type: 'ready' }
  /** Request `id` runs in worker `pid`; `reused`: that worker ran an earlier program. */
  | { type: 'started'; id: number; pid: number; reused: boolean }
  /**
   * Request `id` ended with `status` (exit code, or minus the signal number). `alive`: the worker ended the
   * program quiet and lives on, and sent its output tail and records inline.
   */
  | { type: 'ended'; id: number; status: number; alive: boolean; stdout?: string; report?: string };

/** One reply line; null when it is not one the protocol allows (a damaged server). */
export function parseServerMessage(line: string): ServerMessage | null {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const m = raw as Record<string, unknown>;
  if (m.ready === true) return { type: 'ready' };
  if (typeof m.id !== 'number') return null;
  if (typeof m.status === 'number') {
    const optional = (v: unknown) => (typeof v === 'string' ? v : undefined);
    return { type: 'ended', id: m.id, status: m.status, alive: m.alive === true, stdout: optional(m.stdout), report: optional(m.report) };
  }
  if (typeof m.pid === 'number') return { type: 'started', id: m.id, pid: m.pid, reused: m.reused === true };
  return null;
}
