// Crashes: death by a fatal signal, or CPython's own `Fatal Python error` / C assertion text.
// Signature: kind + the normalized first fatal line + the innermost Python frames of the faulting thread
// (the `Current thread` block faulthandler prints for the thread that received the signal).
import type { RunResult } from '../types.js';
import { innermostFrames, normalizeMessage, parseFatalReport } from './faulthandler.js';
import { mergeBySignature, type Oracle } from './oracle.js';

/** Signals that mean the process died of a fault, not of an orderly exit or of our own kill. */
export const FATAL_SIGNALS = new Set(['SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGABRT', 'SIGTRAP', 'SIGSYS']);

export function isCrash(run: RunResult): boolean {
  const t = run.termination;
  if (t.kind === 'timeout' || t.kind === 'spawn-error' || t.kind === 'resource' || t.kind === 'cancelled') return false;
  if (t.kind === 'signal') return FATAL_SIGNALS.has(t.signal);
  // Py_FatalError normally aborts, but a fatal error during finalization can also end in exit(1).
  return /^Fatal Python error: /m.test(run.stderrTail);
}

export const crashOracle: Oracle = {
  name: 'crash',
  description: 'interpreter died of a fatal signal, a Fatal Python error or a C assertion',
  check(runs) {
    return mergeBySignature(runs, (run) => {
      if (!isCrash(run)) return null;
      const report = parseFatalReport(run.stderrTail);
      const how = run.termination.kind === 'signal' ? run.termination.signal : 'fatal-error';
      const first = report.assertion ?? report.fatalError ?? how;
      const faulting = report.threads.find((t) => t.current) ?? report.threads[0];
      const frames = faulting ? innermostFrames(faulting, run.program.path) : [];
      const where = frames.length ? frames.join(' < ') : 'no Python frames';
      return {
        kind: 'crash',
        oracle: 'crash',
        signature: `crash|${how}|${normalizeMessage(first)}|${where}`,
        title: `crash: ${how} (${first.slice(0, 120)}) in ${where}`,
        details: run.stderrTail.split('\n').slice(-60).join('\n'),
        program: run.program,
        reproduceCommand: run.reproduceCommand,
        verdict: 'runtime-bug',
      };
    });
  },
};
