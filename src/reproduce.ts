// The paste-able commands that reproduce a run outside ftfuzz, and the environment that selects a GIL mode.
// Shared by the runtime (every run's command) and the crash store (a bucket's command), so it depends on
// nothing but the shared types; quoting is shell-quote's.
import { quote } from 'shell-quote';
import type { GilMode, Target } from './types.js';

/** Environment that selects a GIL mode. PYTHON_GIL is ignored by GIL-only builds. */
export function modeEnv(mode: GilMode): Record<string, string> {
  return { PYTHON_GIL: mode === 'gil-off' ? '0' : '1' };
}

/** The paste-able command that runs a program outside ftfuzz, in the given mode. */
export function reproduceCommand(target: Pick<Target, 'freeThreaded' | 'path'>, mode: GilMode, programPath: string): string {
  const gil = target.freeThreaded ? `PYTHON_GIL=${mode === 'gil-off' ? 0 : 1} ` : '';
  return `${gil}${quote([target.path, programPath])}`;
}
