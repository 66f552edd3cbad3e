// Crashes: death by a fatal signal, or CPython's own `Fatal Python error` / C assertion text.
// Signature (issue "triage fidelity"): kind + signal + the normalized fatal or assertion line + the
// innermost meaningful C frames of the faulting thread (from the core file, via gdb) + the op that
// thread was executing (the faulting Python line of the program, mapped to its op). Without C stacks
// (no gdb, cores go elsewhere), the innermost Python frames stand in for the C frames.
import { FATAL_SIGNALS, type NativeThread, type RunResult } from '../types.js';
import { innermostFrames, normalizeMessage, parseFatalReport } from './faulthandler.js';
import { crashFrames, describeFrame, frameNames, heapCorruption, opAt, programText } from './nativeSignature.js';
import { heapKinds, sharedObjects } from '../programHeader.js';
import { mergeBySignature, type Oracle } from './oracle.js';

export { FATAL_SIGNALS };

/** The fatal lines faulthandler prints for the fatal signals themselves. */
const SIGNAL_NAMES = new Set(['Segmentation fault', 'Aborted', 'Bus error', 'Floating-point exception', 'Floating point exception', 'Illegal instruction', 'Trace/breakpoint trap', 'Bad system call']);

/**
 * A fatal line that is only signal names, also when two threads faulted at once and faulthandler's output
 * interleaved ("Fatal Python error: Fatal Python error: Segmentation faultSegmentation fault").
 */
export function onlySignalNames(line: string): boolean {
  let rest = line.replace(/(Fatal Python error: )+/g, '').trim();
  if (rest === '') return false;
  for (let changed = true; changed && rest !== ''; ) {
    changed = false;
    for (const name of SIGNAL_NAMES) {
      if (rest.startsWith(name)) {
        rest = rest.slice(name.length).trim();
        changed = true;
      }
    }
  }
  return rest === '';
}

/** Bumped when crash and hang signatures change shape: `triage` re-signs buckets of older formats. */
export const SIGNATURE_FORMAT = 9;

/**
 * The shared objects behind a heap corruption (a fault in the allocator, a thread's teardown or the
 * collector's walk), from the program's header: `bytearray+list`; null when the stack is not one, or the
 * program does not say what it shares (a hand-written one: its op line is all there is).
 */
export function heapCulprits(frames: readonly import('../types.js').NativeFrame[] | undefined, program: RunResult['program']): string | null {
  if (!frames || !heapCorruption(frames)) return null;
  const text = programText(program);
  const objects = text ? sharedObjects(text) : null;
  return objects ? heapKinds(objects) : null;
}

export function isCrash(run: RunResult): boolean {
  const t = run.termination;
  if (t.kind === 'timeout' || t.kind === 'spawn-error' || t.kind === 'resource' || t.kind === 'cancelled') return false;
  if (t.kind === 'signal') return FATAL_SIGNALS.has(t.signal);
  // Py_FatalError normally aborts, but a fatal error during finalization can also end in exit(1).
  return /^Fatal Python error: /m.test(run.stderrTail);
}

/** The thread that received the fatal signal, in the core's stacks. */
export function faultingThread(run: RunResult): NativeThread | null {
  const sample = run.native?.source === 'core' ? run.native.samples[0] : undefined;
  if (!sample) return null;
  return sample.threads.find((t) => t.lwp === run.native?.faultingLwp) ?? sample.threads[0] ?? null;
}

export const crashOracle: Oracle = {
  name: 'crash',
  description: 'interpreter died of a fatal signal, a Fatal Python error or a C assertion',
  check(runs) {
    return mergeBySignature(runs, (run) => {
      if (!isCrash(run)) return null;
      const report = parseFatalReport(run.stderrTail);
      const how = run.termination.kind === 'signal' ? run.termination.signal : 'fatal-error';
      // faulthandler's own name for the signal ("Segmentation fault") says no more than the signal, and is
      // missing when a second fault cut its output short: both sign as the signal.
      // An empty fatal line (cut after its prefix) says nothing either.
      const fatal = report.fatalError && !onlySignalNames(report.fatalError) ? report.fatalError : null;
      const first = report.assertion ?? fatal ?? how;
      const faulting = report.threads.find((t) => t.current) ?? report.threads[0];
      const op = faulting ? opAt(run.program, faulting.frames) : null;
      const cThread = faultingThread(run);
      const cFrames = cThread ? crashFrames(cThread) : [];
      let where: string;
      if (cFrames.length > 0) {
        where = `c:${frameNames(cFrames).join(' < ')}`;
      } else {
        const frames = faulting ? innermostFrames(faulting, run.program.path) : [];
        where = `py:${frames.length ? frames.join(' < ') : 'no Python frames'}`;
      }
      // A heap corruption is the shared objects' doing: the victim's op would split one bug by whichever
      // thread tripped over the damage first (a bytearray bug faulting under deque.copy).
      const heap = heapCulprits(cThread?.frames, run.program);
      const opPart = heap ? `|heap:${heap}` : op ? `|op:${normalizeMessage(op)}` : '';
      const shown = cFrames.length > 0 ? describeFrame(cFrames[0] as (typeof cFrames)[number]) : where.slice(3);
      return {
        kind: 'crash',
        oracle: 'crash',
        signature: `crash|${how}|${normalizeMessage(first)}|${where}${opPart}`,
        title: `crash: ${how} (${first.slice(0, 100)}) in ${shown}${heap ? `: heap corruption, the program shares ${heap.replace(/\+/g, ', ')}${op ? ` (the faulting thread ran ${op})` : ''}` : op ? ` during ${op}` : ''}`,
        details: run.stderrTail.split('\n').slice(-60).join('\n'),
        program: run.program,
        reproduceCommand: run.reproduceCommand,
        verdict: 'runtime-bug',
        native: cFrames.length > 0 ? { frames: cFrames.map(describeFrame), op } : { frames: [], op },
      };
    });
  },
};
