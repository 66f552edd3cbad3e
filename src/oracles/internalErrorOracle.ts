// SystemError means CPython caught itself in an inconsistent state ("error return without exception
// set", "bad argument to internal function"): the primer lists it with crashes as a runtime bug, in any
// thread, uncaught or reported as unraisable.
import { normalizeMessage } from './faulthandler.js';
import { mergeBySignature, type Oracle } from './oracle.js';

const INTERNAL_TYPES = new Set(['SystemError']);

export const internalErrorOracle: Oracle = {
  name: 'internal-error',
  description: 'SystemError raised in any thread (CPython detected its own inconsistent state)',
  check(runs) {
    return mergeBySignature(runs, (run) => {
      const raised = [
        ...run.threadExceptions.map((e) => ({ ...e, where: `thread ${e.thread}` })),
        ...(run.uncaughtException ? [{ ...run.uncaughtException, where: 'main thread' }] : []),
      ].find((e) => INTERNAL_TYPES.has(e.excType));
      // Unraisable exceptions (in __del__, callbacks) only reach stderr.
      const unraisable = /^(SystemError): (.*)$/m.exec(run.stderrTail);
      const hit = raised ?? (unraisable ? { excType: unraisable[1] ?? 'SystemError', message: unraisable[2] ?? '', where: 'stderr' } : null);
      if (!hit) return null;
      return {
        kind: 'internal-error',
        oracle: 'internal-error',
        signature: `internal-error|${hit.excType}|${normalizeMessage(hit.message)}`,
        title: `${hit.excType} in ${hit.where}: ${hit.message.slice(0, 120)}`,
        details: run.stderrTail.split('\n').slice(-40).join('\n'),
        program: run.program,
        reproduceCommand: run.reproduceCommand,
        verdict: 'runtime-bug',
      };
    });
  },
};
