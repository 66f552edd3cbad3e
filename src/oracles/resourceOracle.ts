// Resources: a run stopped by a containment cap (memory, CPU time, output). Usually the program's
// appetite rather than a runtime bug, so campaigns keep these out of the crash buckets; a run that also
// crashed is a crash (its termination is the fatal signal, not the cap).
import type { RunResult } from '../types.js';
import { mergeBySignature, type Oracle } from './oracle.js';

/** `oom` for the memory cap, as fuzzers usually name it; `cpu` and `output` for the others. */
export function resourceLabel(resource: 'memory' | 'cpu' | 'output'): string {
  return resource === 'memory' ? 'oom' : resource;
}

export const resourceOracle: Oracle = {
  name: 'resource',
  description: 'a run exceeded its memory (oom), CPU-time or output cap and was stopped',
  check(runs) {
    return mergeBySignature(runs, (run: RunResult) => {
      const t = run.termination;
      if (t.kind !== 'resource') return null;
      const label = resourceLabel(t.resource);
      return {
        kind: 'resource',
        oracle: 'resource',
        signature: `resource|${label}`,
        title: `${label}: ${t.detail}`,
        details: run.stderrTail.split('\n').slice(-20).join('\n'),
        program: run.program,
        reproduceCommand: run.reproduceCommand,
        verdict: 'environment',
      };
    });
  },
};
