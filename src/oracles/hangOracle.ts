// Hangs: the run outlived its (calibrated) time limit. Before killing it, the executor sampled the C
// stacks and per-thread CPU time twice (gdb, src/runtime/nativeStacks.ts) and then asked faulthandler
// for every thread's Python stack. The samples classify it (nativeSignature.ts):
//   deadlock / spin -> a hang finding, signed by the blocked or spinning C frames;
//   slow            -> a `slow` finding, kept apart: the program was still making progress.
// A program that finishes, however slowly, is never a hang: a run whose samples saw no progress is given a
// finish window (executor.ts, at least 60 s) and one that ends within it is a `slow` finding too, with its
// limit and the time it took (a GIL-on convoy samples exactly like a deadlock).
// Without samples (no gdb), the signature is the sorted set of each thread's innermost Python frames.
import type { NativeEvidence, NativeThread, ProgramRef, RunResult } from '../types.js';
import { innermostFrames, parseFatalReport } from './faulthandler.js';
import { blockedFrames, classifyHang, describeFrame, frameNames, hangCulprits, hangFrames, heapFrame, onlyPythonWaits, SYNC_WAIT, type HangVerdict } from './nativeSignature.js';
import { heapCulprits } from './crashOracle.js';
import { mergeBySignature, type Oracle } from './oracle.js';

/**
 * What the samples of a run at its limit say: `progress` (a thread moved: a crawl), or `stuck` with the
 * signature a hang of theirs would have (null when only Python frames could sign it), or `unknown`.
 */
export function samplesVerdict(native: NativeEvidence | undefined, program?: ProgramRef): { state: 'progress' } | { state: 'stuck'; signature: string | null; proved: boolean } | { state: 'unknown' } {
  const verdict = native ? classifyHang(native) : null;
  if (!verdict) return { state: 'unknown' };
  if (verdict.hangClass === 'slow') return { state: 'progress' };
  const proved = verdict.hangClass === 'spin' && allocatorSpin(verdict, native);
  const frames = hangFrames(verdict);
  if (onlyPythonWaits(verdict) || frames.length === 0) return { state: 'stuck', signature: null, proved: false };
  const heap = program ? heapOf(verdict, program) : null;
  return { state: 'stuck', signature: `hang|c:${frames.join(' | ')}${heap ? `|heap:${heap}` : ''}`, proved };
}

/**
 * mimalloc's walks over a free list or a heap's pages (thread-exit collection, delayed frees): each visits a
 * page's blocks or a heap's pages, microseconds to milliseconds, never a second. A plain `mi_free` or a
 * page lookup is not a walk: a program freeing a big structure is in them at any moment.
 */
const FREE_LIST_WALK = /^(_?mi_page_free_collect|_?mi_page_thread_free_collect|_?mi_free_delayed_block|_?mi_heap_delayed_free_(all|partial)|_?mi_heap_page_collect|mi_heap_page_collect|_?mi_heap_visit_pages|_?mi_heap_collect_ex|_?mi_heap_collect_retired|_?mi_page_free_list_extend\w*|_?mi_abandoned_collect|_?mi_segment_try_reclaim\w*)$/;

/** A thread whose innermost allocator frames include a free-list or page walk. */
function inWalk(t: NativeThread | undefined): boolean {
  return t !== undefined && frameNames(t.frames.slice(0, 8)).some((name) => FREE_LIST_WALK.test(name));
}

/**
 * Every spinning culprit is inside one of the allocator's walks (FREE_LIST_WALK), in the first sample and
 * in the last: such a walk never takes a second, so seen in it through two samples it is walking a cycle
 * (a corrupted free list): the program cannot finish, and no finish window is needed to prove it. A thread
 * merely freeing (`_mi_segment_page_of < mi_free` while json.dumps drops a big dict) proves nothing.
 */
export function allocatorSpin(verdict: HangVerdict, native?: NativeEvidence): boolean {
  const spinning = verdict.threads.filter((t) => (verdict.cpu[String(t.lwp)] ?? 0) > 0);
  const first = native?.samples[0];
  return spinning.length > 0 && spinning.every((t) => {
    const innermost = blockedFrames(t, 1)[0];
    if (innermost === undefined || !heapFrame(innermost) || !inWalk(t)) return false;
    return first === undefined || inWalk(first.threads.find((x) => x.lwp === t.lwp));
  });
}

/** A culprit spinning or stuck in the allocator (a corrupted free list walked at thread exit): the shared objects behind it. */
function heapOf(verdict: HangVerdict, program: ProgramRef): string | null {
  const culprits = verdict.threads.filter((t) => blockedFrames(t, 1).length > 0 && !SYNC_WAIT.test(frameNames(blockedFrames(t, 1))[0] ?? ''));
  const spinning = culprits.find((t) => heapCulprits(t.frames, program) !== null);
  return spinning ? heapCulprits(spinning.frames, program) : null;
}

/** A run that looked stuck at its limit and then finished within its finish window: a crawl. */
function lateFinding(run: RunResult, late: NonNullable<RunResult['late']>) {
  const v = late.native ? classifyHang(late.native) : null;
  const frames = v ? hangFrames(v) : [];
  const where = frames.length ? `c:${frames.join(' | ')}` : 'no C stacks';
  return {
    kind: 'slow' as const,
    oracle: 'hang',
    signature: `slow|finished-late|${where}`,
    title: `slow: no progress seen at its ${late.limitMs} ms limit, but it finished after ${late.finishedMs} ms (${where.slice(0, 120)})`,
    details: `limit ${late.limitMs} ms; finished after ${late.finishedMs} ms (exit: ${JSON.stringify(run.termination)})`,
    program: run.program,
    reproduceCommand: run.reproduceCommand,
    verdict: 'slow' as const,
    native: { frames: [], op: null, hangClass: 'slow' as const },
  };
}

export const hangOracle: Oracle = {
  name: 'hang',
  description: 'run exceeded its time limit: deadlock or spin (C stacks) that did not finish in its finish window, or a crawl reported apart as slow',
  check(runs) {
    return mergeBySignature(runs, (run) => {
      if (run.late) return lateFinding(run, run.late);
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
        proved: run.termination.waitedMs !== undefined,
      };
      const { afterMs, waitedMs } = run.termination;
      // Waited on through its finish window: it did not end, so it does not finish.
      const after = waitedMs !== undefined ? `after ${waitedMs} ms (limit ${afterMs} ms, then waited: no progress in its samples)` : `after ${afterMs} ms`;
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
        // A heap corruption, the shared objects' doing, signed by them as a crash there is.
        const heap = heapOf(verdict, run.program);
        // An allocator free-list walk never takes a second: spinning in it through both samples is a cycle.
        const proved = base.proved || (cls === 'spin' && allocatorSpin(verdict, run.native));
        // The innermost meaningful frame of each culprit thread, with file and line: triage's "top C frames".
        const shown = hangCulprits(verdict).map((frames) => describeFrame(frames[0] as (typeof frames)[number]));
        const cpu = cls === 'spin' ? ` burning ${Math.max(...Object.values(verdict.cpu)).toFixed(2)} CPU-s per sample interval` : '';
        return {
          ...base,
          proved,
          kind: 'hang' as const,
          // The class (deadlock or spin) is what the samples saw, not the bug: it is in the title and
          // meta.json, not in the signature.
          signature: `hang|c:${frames.join(' | ')}${heap ? `|heap:${heap}` : ''}`,
          title: `hang (${cls}): no exit ${after}${proved && !base.proved ? ' (spinning in the allocator\'s free-list walk through both samples: a cycle)' : ''}; ${verdict.threads.length} thread(s) in ${frames.join(' | ').slice(0, 140)}${cpu}${heap ? `: heap corruption, the program shares ${heap.replace(/\+/g, ', ')}` : ''}`,
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
