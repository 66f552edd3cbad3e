// The race oracle: what a ThreadSanitizer build reported during a run (src/runtime/tsan.ts collects its
// log files). Every report of a run is parsed: data races, heap-use-after-free, SEGV, lock-order
// inversions (potential deadlocks), thread leaks and the rest, several per run, headers matched
// case-insensitively.
//
// A data race is signed by the unordered pair of the innermost CPython frames of its two accesses (files
// under Objects/, Python/, Modules/, Include/, Parser/; the eval loop, call dispatch and the inline
// refcount/atomic helpers skipped, as crash signatures skip them): one bucket per pair, however many
// programs hit it. A race inside a C extension is signed by the extension's own innermost frames. Other
// reports are signed by their kind and the innermost such frame of their first stack. A report that
// follows a crash in the same process (a SEGV report, or a run that died of a signal) is marked: the
// process was already broken when TSan saw it.
import path from 'node:path';
import type { Finding, RunResult } from '../types.js';
import { FATAL_SIGNALS } from '../types.js';
import { mergeBySignature, type Oracle } from './oracle.js';
import { CALL_PLUMBING, foldFunction, REFCOUNT_INLINE, SANITIZER_RUNTIME } from './nativeSignature.js';

export interface TsanFrame {
  index: number;
  func: string;
  /** Source position as TSan printed it, normalized to the CPython tree (`Objects/dictobject.c:1234`). */
  file: string | null;
  line: number | null;
  /** The binary or shared object (`python3.13t`, `ftfuzz_planted.cpython-313t-x86_64-linux-gnu.so`). */
  module: string | null;
}

export interface TsanStack {
  /** The block's heading: `Write of size 8 at 0x… by thread T1`, `Previous read …`, `Mutex M1 acquired here …`. */
  title: string;
  frames: TsanFrame[];
}

export interface TsanReport {
  /** Lower-case kind: `data race`, `heap-use-after-free`, `segv`, `lock-order-inversion (potential deadlock)`, … */
  kind: string;
  stacks: TsanStack[];
  summary: string | null;
  /** A crash came first in the same log (a SEGV report before it), or the run died of a fatal signal (`crashed`). */
  afterCrash: boolean;
  text: string;
}

const HEADER = /^(?:WARNING|==\d+==ERROR): ThreadSanitizer: (.+?)(?: \(pid=\d+\))?\s*$/i;
// The module's offset is optional: a bucket's stack.txt keeps frames without it.
const FRAME = /^\s*#(\d+)\s+(\S+)(?:\s+(\S+?))?(?:\s+\(([^()+\s]+)(?:\+0x[0-9a-f]+)?\))?(?:\s+\(BuildId: [0-9a-f]+\))?\s*$/i;
const BLOCK = /^ {2}(\S.*):\s*$/;
const SOURCE_DIRS = /(?:^|\/)((?:Objects|Python|Modules|Include|Parser)\/.*)$/;
/** TSan's own frames (nativeSignature's sanitizer runtime) and the pthread calls it intercepts. */
const TSAN_RUNTIME = (func: string) => SANITIZER_RUNTIME.test(func) || /^_?_?pthread_/.test(func);
const MIMALLOC_FILE = /^(Objects\/mimalloc\/|Include\/internal\/mimalloc\/)/;
const MIMALLOC_ENTRY = /(memcpy|memmove|memset|realloc|malloc|calloc|zalloc|expand)/;

/** The allocators: a use-after-free's free is in them; the code that freed is the caller. */
export const ALLOC_PLUMBING = /^(_?PyMem_\w+|_?PyObject_(Free|Malloc|Realloc|Calloc)|_PyObject_Mi\w+|_PyMem_Mi\w+|PyObject_GC_Del|_PyObject_GC_\w+|_?mi_\w+|free|malloc|realloc|calloc|memcpy|memmove|memset|__memcpy\w*|__memmove\w*)$/;
const SYSTEM_MODULE = /^(libtsan|libc|libm|ld-linux|libpthread|libgcc_s|libstdc\+\+)[.-]/;

function parseFrame(line: string): TsanFrame | null {
  const m = FRAME.exec(line);
  if (!m) return null;
  const [, index, func = '<null>', where, module] = m;
  let file: string | null = null;
  let lineNo: number | null = null;
  if (where && where !== '<null>') {
    const pos = /^(.*?):(\d+)(?::\d+)?$/.exec(where);
    const raw = pos ? (pos[1] as string) : where;
    file = SOURCE_DIRS.exec(raw)?.[1] ?? raw.replace(/^\.\//, '');
    lineNo = pos ? Number(pos[2]) : null;
  }
  return { index: Number(index), func: func === '<null>' ? '??' : foldFunction(func), file, line: lineNo, module: module ? module.split('/').pop() ?? module : null };
}

/** Every report in a TSan log, in order. */
export function parseTsanReports(log: string, crashed = false): TsanReport[] {
  const reports: TsanReport[] = [];
  let current: (TsanReport & { lines: string[] }) | null = null;
  let block: TsanStack | null = null;
  let sawCrash = false;
  const finish = () => {
    if (!current) return;
    current.text = current.lines.join('\n').trim();
    const { lines: _lines, ...report } = current;
    reports.push(report);
    if (/segv|deadlysignal|signal/.test(report.kind) && !/signal-unsafe/.test(report.kind)) sawCrash = true;
    current = null;
    block = null;
  };
  for (const line of log.split('\n')) {
    const header = HEADER.exec(line.trim());
    if (header) {
      finish();
      const kind = (header[1] as string).toLowerCase().replace(/ on unknown address.*$/, '').trim();
      current = { kind, stacks: [], summary: null, afterCrash: sawCrash || crashed, text: '', lines: [line] };
      continue;
    }
    // The line before a SEGV report: the report itself is the crash, and what follows it comes after.
    if (/^ThreadSanitizer:DEADLYSIGNAL/i.test(line.trim())) continue;
    if (!current) continue;
    const cur: TsanReport & { lines: string[] } = current;
    cur.lines.push(line);
    if (/^SUMMARY: ThreadSanitizer:/i.test(line)) {
      cur.summary = line.replace(/^SUMMARY: ThreadSanitizer:\s*/i, '').trim();
      finish();
      continue;
    }
    if (/^={10,}$/.test(line.trim())) continue;
    const b = BLOCK.exec(line);
    if (b) {
      block = { title: (b[1] as string).trim(), frames: [] };
      cur.stacks.push(block);
      continue;
    }
    const frame = parseFrame(line);
    if (frame && block) {
      block.frames.push(frame);
    } else if (frame && !block) {
      // A SEGV report's stack follows its header directly.
      block = { title: 'faulting thread', frames: [frame] };
      cur.stacks.push(block);
    }
  }
  finish();
  return reports;
}

/**
 * The stacks of a report as a bucket's stack.txt keeps them (formatStack below: `  Title:` then
 * `    #N func file:line (module)` lines), for re-reading a stored race.
 */
export function parseTsanStacks(text: string): TsanStack[] {
  const stacks: TsanStack[] = [];
  let block: TsanStack | null = null;
  for (const line of text.split('\n')) {
    const b = BLOCK.exec(line);
    if (b) {
      block = { title: (b[1] as string).trim(), frames: [] };
      stacks.push(block);
      continue;
    }
    const frame = parseFrame(line);
    if (frame && block) block.frames.push(frame);
  }
  return stacks;
}

function isCpythonFrame(f: TsanFrame): boolean {
  return f.file !== null && /^(Objects|Python|Modules|Include|Parser)\//.test(f.file);
}

/** A third-party C extension's frame: a shared object that is not CPython's (the stdlib's own Modules/*.so are CPython). */
export function isExtensionFrame(f: TsanFrame): boolean {
  return f.module !== null && /\.so(\.\d+)*$/.test(f.module) && !/^libpython/.test(f.module) && !SYSTEM_MODULE.test(f.module) && !isCpythonFrame(f);
}

/**
 * The frame a stack is signed by: the innermost C-extension frame or meaningful CPython frame. The inline
 * helpers of Include/ (atomics, refcounts, PyUnicode_DATA and the like) are where the access is, rarely where
 * the bug is: a frame of Objects/, Python/, Modules/ or Parser/ is preferred, an Include/ one is the fallback.
 */
export function signingFrame(stack: TsanStack): TsanFrame | null {
  let header: TsanFrame | null = null;
  let innermost = true;
  for (const f of stack.frames) {
    if (f.func === '??' || TSAN_RUNTIME(f.func)) continue;
    if (f.module && SYSTEM_MODULE.test(f.module)) continue;
    // A race on mimalloc's own page and heap metadata is mimalloc's: signed by its innermost function
    // there. A copy, or a realloc of a block another thread still uses, is the caller's.
    if (innermost && MIMALLOC_FILE.test(f.file ?? '') && !MIMALLOC_ENTRY.test(f.func)) return f;
    innermost = false;
    if (isExtensionFrame(f)) return f;
    if (!isCpythonFrame(f)) continue;
    if (REFCOUNT_INLINE.test(f.func) || CALL_PLUMBING.test(f.func) || ALLOC_PLUMBING.test(f.func) || f.file?.startsWith('Objects/mimalloc/')) continue;
    if (f.file?.startsWith('Include/')) {
      header ??= f;
      continue;
    }
    return f;
  }
  return header;
}

function frameLabel(f: TsanFrame): string {
  return isExtensionFrame(f) ? `${f.func} [${(f.module ?? '').split('.')[0]}]` : f.func;
}

/** A frame for a title: its label, with its source line (an extension's author wants the line of their own file). */
function framePlace(f: TsanFrame): string {
  const file = f.file ? path.basename(f.file) : null;
  return `${frameLabel(f)}${file ? ` (${file}${f.line !== null ? `:${f.line}` : ''})` : ''}`;
}

/** The stacks that make a report's signature: the two accesses of a race, else the first stack. */
export function signingStacks(r: Pick<TsanReport, 'kind' | 'stacks'>): TsanStack[] {
  if (r.kind.startsWith('data race') || r.kind === 'heap-use-after-free') return r.stacks.filter((s) => /^(previous )?(atomic )?(read|write)\b/i.test(s.title)).slice(0, 2);
  return r.stacks.slice(0, 1);
}

/**
 * Reports caused by ftfuzz itself: on a hang it asks faulthandler (SIGUSR1) for every thread's Python stack,
 * and that dump reads other threads' frames without synchronization by design (faulthandler is best-effort).
 */
export function fromStackDump(r: TsanReport): boolean {
  return r.stacks.some((s) => s.frames.some((f) => /^(faulthandler_\w+|dump_traceback|dump_frame|_Py_DumpTraceback\w*)$/.test(f.func)));
}

/** mimalloc writing its free list into a block: the other access touched memory that had been freed. */
const FREE_LIST_WRITE = /^(mi_block_set_nextx|mi_block_set_next|_mi_free_block\w*|mi_free_block\w*)$/;

export function raceSignature(r: TsanReport): { signature: string; frames: string[]; places: string[] } | null {
  const signed = signingStacks(r)
    .map(signingFrame)
    .filter((f): f is TsanFrame => f !== null);
  // A race against mimalloc's free-list write is a use of freed memory by the other side: signed by that
  // side alone, whichever object's free put the block on the list.
  if (r.kind.startsWith('data race') && signed.length === 2 && signed.some((f) => FREE_LIST_WRITE.test(f.func)) && !signed.every((f) => FREE_LIST_WRITE.test(f.func))) {
    const user = signed.find((f) => !FREE_LIST_WRITE.test(f.func)) as TsanFrame;
    return { signature: `race|freed-block|${frameLabel(user)}`, frames: [frameLabel(user)], places: [framePlace(user)] };
  }
  if (signed.length === 0) return null;
  // Unordered: which access TSan saw first is an accident of the interleaving.
  const ordered = r.kind.startsWith('data race') || r.kind === 'heap-use-after-free' ? [...signed].sort((a, b) => (frameLabel(a) < frameLabel(b) ? -1 : frameLabel(a) > frameLabel(b) ? 1 : 0)) : signed;
  const pair = ordered.map(frameLabel);
  return { signature: `race|${r.kind}|${pair.join(' ~ ')}`, frames: pair, places: ordered.map(framePlace) };
}

function formatStack(s: TsanStack, depth = 14): string {
  const lines = s.frames.slice(0, depth).map((f) => `    #${f.index} ${f.func}${f.file ? ` ${f.file}${f.line !== null ? `:${f.line}` : ''}` : ''}${f.module ? ` (${f.module})` : ''}`);
  return [`  ${s.title}:`, ...lines, ...(s.frames.length > depth ? [`    ... ${s.frames.length - depth} more`] : [])].join('\n');
}

export const raceOracle: Oracle = {
  name: 'race',
  description: 'ThreadSanitizer reports (data races, use-after-free, deadlocks) of TSan builds, signed by the pair of innermost CPython or extension frames',
  check(runs: readonly RunResult[]): Finding[] {
    return mergeBySignature(runs, (run) => {
      if (!run.sanitizerLog) return null;
      const crashed = run.termination.kind === 'signal' && FATAL_SIGNALS.has(run.termination.signal);
      const seen = new Set<string>();
      const out = [];
      for (const report of parseTsanReports(run.sanitizerLog, crashed)) {
        if (fromStackDump(report)) continue;
        const signed = raceSignature(report);
        if (!signed || seen.has(signed.signature)) continue;
        seen.add(signed.signature);
        // The title names the source lines too (the signature does not: a line moves with every edit).
        const where = signed.places.join(' ~ ');
        out.push({
          kind: 'race' as const,
          oracle: 'race',
          signature: signed.signature,
          title: `${signed.signature.startsWith('race|freed-block|') ? 'data race on a freed block (use after free)' : report.kind}: ${where}${report.afterCrash ? ' (reported in a run that crashed)' : ''}`,
          details: [
            `ThreadSanitizer: ${report.kind}${report.summary ? ` (${report.summary})` : ''}`,
            ...report.stacks.slice(0, 4).map((s) => formatStack(s)),
          ].join('\n'),
          program: run.program,
          reproduceCommand: run.reproduceCommand,
          verdict: 'runtime-bug' as const,
          native: { frames: signed.frames, op: null },
        });
      }
      return out;
    });
  },
};
