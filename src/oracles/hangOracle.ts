// Hangs: the run outlived its (calibrated) time limit. Before killing it, the executor sampled the C
// stacks and per-thread CPU time twice (gdb, src/runtime/nativeStacks.ts) and then asked faulthandler
// for every thread's Python stack. The samples classify it (nativeSignature.ts):
//   deadlock / spin -> a hang finding, signed by the blocked or spinning C frames;
//   slow            -> a `slow` finding, kept apart: the program was still making progress.
// Without samples (no gdb), the signature is the sorted set of each thread's innermost Python frames.
import { innermostFrames, parseFatalReport } from './faulthandler.js';
import { classifyHang, describeFrame, hangCulprits, hangFrames, onlyPythonWaits } from './nativeSignature.js';
import { mergeBySignature, type Oracle } from './oracle.js';

export const hangOracle: Oracle = {
  name: 'hang',
  description: 'run exceeded its time limit: deadlock or spin (C stacks), or a crawl reported apart as slow',
  check(runs) {
    return mergeBySignature(runs, (run) => {
      if (run.termination.kind !== 'timeout') return null;
      const report = parseFatalReport(run.stderrTail);
      const perThread = report.threads.map((t) => innermostFrames(t, run.program.path, 2).join(' < ')).filter(Boolean);
      const pyWhere = [...new Set(perThread)].sort().join(' | ') || 'no Python stacks';
      const verdict = run.native ? classifyHang(run.native) : null;
      const base = {
        oracle: 'hang',
        details: run.stderrTail.split('\n').slice(-80).join('\n'),
        program: run.program,
        reproduceCommand: run.reproduceCommand,
      };
      const after = `after ${run.termination.afterMs} ms`;
      if (verdict?.hangClass === 'slow') {
        return {
          ...base,
          kind: 'slow' as const,
          signature: `slow|${pyWhere}`,
          title: `slow: no exit ${after}, but ${verdict.moved.length} thread(s) still making progress (${pyWhere.slice(0, 120)})`,
          verdict: 'slow' as const,
          native: { frames: [], op: null, hangClass: 'slow' as const },
        };
      }
      if (verdict && onlyPythonWaits(verdict)) {
        return {
          ...base,
          kind: 'hang' as const,
          signature: `hang|deadlock|py:${pyWhere}`,
          title: `hang (deadlock on Python-level locks, joins or sleeps): no exit ${after}; ${report.threads.length} thread(s) in ${pyWhere}`,
          // Every thread waits on the program's own synchronization: a lock-order inversion is the program's.
          verdict: 'unknown' as const,
          native: { frames: [], op: null, hangClass: 'deadlock' as const },
        };
      }
      const frames = verdict ? hangFrames(verdict) : [];
      if (verdict && frames.length > 0) {
        const cls = verdict.hangClass;
        // The innermost meaningful frame of each culprit thread, with file and line: triage's "top C frames".
        const shown = hangCulprits(verdict).map((frames) => describeFrame(frames[0] as (typeof frames)[number]));
        const cpu = cls === 'spin' ? ` burning ${Math.max(...Object.values(verdict.cpu)).toFixed(2)} CPU-s per sample interval` : '';
        return {
          ...base,
          kind: 'hang' as const,
          // The class (deadlock or spin) is what the samples saw, not the bug: it is in the title and
          // meta.json, not in the signature.
          signature: `hang|c:${frames.join(' | ')}`,
          title: `hang (${cls}): no exit ${after}; ${verdict.threads.length} thread(s) in ${frames.join(' | ').slice(0, 140)}${cpu}`,
          // Generated programs cannot deadlock or spin by construction; the campaign upgrades the verdict
          // for them. A hand-written program can (lock-order inversion): unknown until looked at.
          verdict: 'unknown' as const,
          native: { frames: [...new Set(shown)].slice(0, 6), op: null, hangClass: cls },
        };
      }
      return {
        ...base,
        kind: 'hang' as const,
        signature: `hang|${pyWhere === 'no Python stacks' ? 'no stacks (the interpreter did not answer SIGUSR1)' : pyWhere}`,
        title: `hang: no exit ${after}; ${report.threads.length ? `${report.threads.length} thread(s) in ${pyWhere}` : 'no stacks'}${run.native?.error ? ` (gdb: ${run.native.error})` : ''}`,
        verdict: 'unknown' as const,
      };
    });
  },
};
