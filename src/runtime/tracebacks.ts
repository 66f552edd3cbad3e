// Reading CPython's default tracebacks from stderr: the uncaught exception and the exceptions of threads,
// for runs without the harness (plain `python repro.py`), which report nothing on the protocol channel.
import type { RunResult } from '../types.js';

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

