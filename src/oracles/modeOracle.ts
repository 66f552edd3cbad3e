// The GIL mode a run asked for is not always the mode it got: `-X gil=1` in a wrapper beats PYTHON_GIL,
// and importing a C extension without `Py_mod_gil` re-enables the GIL at run time (with a warning) unless
// PYTHON_GIL=0 is set. Comparing modes that did not take effect would hide bugs, so a mismatch is reported.
import type { GilMode, RunResult } from '../types.js';
import { mergeBySignature, type Oracle } from './oracle.js';

function observed(run: RunResult): GilMode[] {
  return [run.modeObservedAtStart, run.modeObservedAtEnd].filter((m): m is GilMode => m !== null);
}

export const modeOracle: Oracle = {
  name: 'mode',
  description: 'the GIL mode observed in the run (sys._is_gil_enabled) differs from the one requested',
  check(runs) {
    return mergeBySignature(runs, (run) => {
      const seen = observed(run);
      if (!seen.some((m) => m !== run.modeRequested)) return null;
      const start = run.modeObservedAtStart ?? '?';
      const end = run.modeObservedAtEnd ?? '?';
      return {
        kind: 'mode-mismatch',
        oracle: 'mode',
        signature: `mode-mismatch|${run.target.label}|${run.modeRequested}->${start}/${end}`,
        title: `mode mismatch on ${run.target.label}: requested ${run.modeRequested}, observed ${start} at start and ${end} at exit`,
        details:
          `${run.target.path} ran with PYTHON_GIL=${run.modeRequested === 'gil-off' ? 0 : 1}, but sys._is_gil_enabled() said otherwise. ` +
          'Look for -X gil=… in a wrapper, or a C extension without Py_mod_gil (its import warns on stderr).',
        program: run.program,
        reproduceCommand: run.reproduceCommand,
        verdict: 'environment',
      };
    });
  },
};
