// Reading what a dying CPython prints: the fatal line, C assertion failures of debug builds, and the
// faulthandler stacks of every thread. Formats handled:
//   3.12/3.13: `Current thread 0x00007f... (most recent call first):`  /  `Thread 0x... (most recent call first):`
//   3.14:      the same, optionally with ` [thread-name]` before the parenthesis
//   no thread info: `Stack (most recent call first):`
//   frames:    `  File "path", line N in func` (3.14 may add ` at ...` details; ignored)

export interface Frame {
  file: string;
  line: number;
  func: string;
}

export interface ThreadStack {
  id: string;
  current: boolean;
  frames: Frame[];
}

export interface FatalReport {
  /** `Fatal Python error: ...` text (first one), if any. */
  fatalError: string | null;
  /** A C-level assertion failure or refcount complaint, if any (debug builds). */
  assertion: string | null;
  threads: ThreadStack[];
}

// Whatever stands between the id and the parenthesis (a 3.14 thread name may itself hold parentheses).
const THREAD_HEADER = /^(Current thread|Thread) (0x[0-9a-fA-F]+)\b.*\(most recent call first\):\s*$/;
const STACK_HEADER = /^Stack \(most recent call first\):\s*$/;
const FRAME = /^\s+File "(.*)", line (\d+) in (\S+)/;
const ASSERTION = [
  /^.*Assertion `.*' failed\.?$/,
  /^.*object has negative ref count.*$/,
  /^.*_Py_NegativeRefcount.*$/,
  /^.*Critical section .* (?:not held|held).*$/i,
];

export function parseFatalReport(stderr: string): FatalReport {
  const lines = stderr.split(/\r?\n/);
  let fatalError: string | null = null;
  let assertion: string | null = null;
  const threads: ThreadStack[] = [];
  let current: ThreadStack | null = null;
  for (const line of lines) {
    const fatal = /^Fatal Python error: (.*)$/.exec(line);
    if (fatal) {
      fatalError ??= fatal[1]?.trim() ?? '';
      current = null;
      continue;
    }
    if (assertion === null && ASSERTION.some((re) => re.test(line))) assertion = line.trim();
    const header = THREAD_HEADER.exec(line);
    if (header) {
      current = { id: header[2] ?? '', current: header[1] === 'Current thread', frames: [] };
      threads.push(current);
      continue;
    }
    if (STACK_HEADER.test(line)) {
      current = { id: '', current: true, frames: [] };
      threads.push(current);
      continue;
    }
    const frame = FRAME.exec(line);
    if (frame && current) {
      current.frames.push({ file: frame[1] ?? '', line: Number(frame[2]), func: frame[3] ?? '' });
      continue;
    }
    if (line.trim() === '') current = null;
  }
  return { fatalError, assertion, threads };
}

/** Frames that belong to ftfuzz or to the machinery that starts programs, never to the bug. */
function isHarnessFrame(f: Frame): boolean {
  return /ftfuzz_harness\.py$|ftfuzz_forkserver\.py$/.test(f.file) || f.file === '<frozen runpy>';
}

/**
 * A frame as it enters a signature: file base name (the program itself as `<program>`, so the same bug in
 * two generated programs matches), and the function with digit runs folded (`worker_3` == `worker_0`).
 */
export function normalizeFrame(f: Frame, programPath: string | null): string {
  const base = programPath !== null && f.file === programPath ? '<program>' : (f.file.split('/').pop() ?? f.file);
  return `${base}:${f.func.replace(/\d+/g, 'N')}`;
}

/** Innermost `depth` frames of a thread, harness frames dropped. */
export function innermostFrames(thread: ThreadStack, programPath: string | null, depth = 3): string[] {
  return thread.frames
    .filter((f) => !isHarnessFrame(f))
    .slice(0, depth)
    .map((f) => normalizeFrame(f, programPath));
}

/** Fold addresses, numbers and paths so that the same failure reads the same on every run. */
export function normalizeMessage(text: string): string {
  return text
    .replace(/0x[0-9a-fA-F]+/g, '0xADDR')
    .replace(/(?:[\w.+-]*\/)+([\w.+-]+)/g, '$1')
    .replace(/\b\d+\b/g, 'N')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 200);
}
