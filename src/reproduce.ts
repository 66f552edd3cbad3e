// The paste-able commands that reproduce a run outside ftfuzz, and the environment that selects a GIL mode.
// Shared by the runtime (every run's command) and the crash store (a bucket's command), so it depends on
// nothing but the shared types; quoting is shell-quote's.
import { quote } from 'shell-quote';
import type { GilMode, Target } from './types.js';

/** Environment that selects a GIL mode. PYTHON_GIL is ignored by GIL-only builds. */
export function modeEnv(mode: GilMode): Record<string, string> {
  return { PYTHON_GIL: mode === 'gil-off' ? '0' : '1' };
}

/**
 * The TSAN_OPTIONS every run on a ThreadSanitizer build needs (src/runtime/tsan.ts adds its log path and
 * symbolizer): CPython's suppressions, keep going after a report, keep the program's exit status, let a
 * fault stay a signal, and the longest per-thread access history. TSan drops a race report whose earlier
 * access it can no longer restore a stack for, and the eval loop fills the default history fast: the planted
 * unlocked counter was reported in 58 of 70 runs with the default, 80 of 80 with history_size=7 (30 of each
 * beside a busy loop), for 7% more resident memory (92 -> 99 MB).
 */
export function tsanBaseOptions(target: Partial<Pick<Target, 'tsanSuppressions'>>): string[] {
  return [...(target.tsanSuppressions ? [`suppressions=${target.tsanSuppressions}`] : []), 'halt_on_error=0', 'exitcode=0', 'handle_segv=0', 'history_size=7'];
}

/** The paste-able command that runs a program outside ftfuzz, in the given mode. */
export function reproduceCommand(target: Pick<Target, 'freeThreaded' | 'path'> & Partial<Pick<Target, 'sanitizers' | 'tsanSuppressions'>>, mode: GilMode, programPath: string): string {
  const gil = target.freeThreaded ? `PYTHON_GIL=${mode === 'gil-off' ? 0 : 1} ` : '';
  // A TSan build: CPython's suppressions and TSan's keep-going settings, reports on stderr.
  const options = tsanBaseOptions(target).join(':');
  // Plain when the value is shell-safe (shell-quote would backslash every '=' and ':'), quoted otherwise.
  const tsan = target.sanitizers?.includes('thread') ? `TSAN_OPTIONS=${/^[\w./:=+-]+$/.test(options) ? options : `'${options.replace(/'/g, "'\\''")}'`} ` : '';
  return `${tsan}${gil}${quote([target.path, programPath])}`;
}
