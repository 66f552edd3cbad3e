// Hangs: the run outlived its timeout. The executor asked faulthandler for every thread's stack
// (SIGUSR1) before killing the group, so the finding carries where each thread was blocked.
// Signature: the sorted set of each thread's innermost two frames (thread ids and line numbers vary).
import { innermostFrames, parseFatalReport } from './faulthandler.js';
import { mergeBySignature, type Oracle } from './oracle.js';

export const hangOracle: Oracle = {
  name: 'hang',
  description: 'run exceeded its timeout; reports the stacks of all threads',
  check(runs) {
    return mergeBySignature(runs, (run) => {
      if (run.termination.kind !== 'timeout') return null;
      const report = parseFatalReport(run.stderrTail);
      const perThread = report.threads
        .map((t) => innermostFrames(t, run.program.path, 2).join(' < '))
        .filter(Boolean);
      const blocked = [...new Set(perThread)].sort();
      const where = blocked.length ? blocked.join(' | ') : 'no stacks (the interpreter did not answer SIGUSR1)';
      return {
        kind: 'hang',
        oracle: 'hang',
        signature: `hang|${where}`,
        title: `hang: no exit after ${run.termination.afterMs} ms; ${report.threads.length} thread(s) in ${where}`,
        details: run.stderrTail.split('\n').slice(-80).join('\n'),
        program: run.program,
        reproduceCommand: run.reproduceCommand,
        // A deadlock can be the program's own (lock-order inversion); generated programs cannot deadlock
        // by construction, so the campaign upgrades the verdict for them.
        verdict: 'unknown',
      };
    });
  },
};
