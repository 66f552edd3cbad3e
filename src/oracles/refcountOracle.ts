// Refcount corruption. Programs pass probe objects through the operations under test and report, in a
// `refcounts` record, each probe's `sys.getrefcount` baseline (before the threads) and value after join,
// clearing and collecting; with a weak reference, whether it is still alive. The primer notes that
// getrefcount of plain probes is exact after join on 3.13t with the GIL on and off, so any difference
// is a reference leaked (too high) or released once too often (too low, or freed early: corruption).
// Debug builds add `sys.gettotalrefcount()` deltas (`totalrefcount` record) and their own assertions,
// recognised on stderr.
import type { RunResult } from '../types.js';
import { mergeBySignature, type Oracle } from './oracle.js';

interface ProbeRecord {
  name: string;
  baseline: number;
  after: number;
  alive: boolean;
  expected_alive: boolean;
  /** The operation (or function) the probe went through: names the bug in the signature. */
  via: string;
}

// Debug builds say it in several ways: _Py_NegativeRefcount ("object has negative ref count"), and the
// free-threaded GC's `update_refs: Assertion "refcount >= 0" failed` followed by `object refcount : -N`
// and `object type name: T` (seen on 3.13.15td).
const NEGATIVE = /object has negative ref count|_Py_NegativeRefcount|Assertion "refcount >= 0" failed|object refcount\s*:\s*-\d+/i;
const TYPE_NAME = /object type name:\s*(\S+)/;

function probesOf(run: RunResult): ProbeRecord[] {
  return run.records.filter((r) => r.type === 'refcounts').flatMap((r) => (Array.isArray(r.probes) ? (r.probes as ProbeRecord[]) : []));
}

export const refcountOracle: Oracle = {
  name: 'refcount',
  description: 'probe refcounts off their baseline after join (leaked or over-released references), early frees, negative refcounts',
  check(runs) {
    return mergeBySignature(runs, (run) => {
      const negative = NEGATIVE.exec(run.stderrTail);
      if (negative) {
        const type = TYPE_NAME.exec(run.stderrTail)?.[1] ?? 'unknown type';
        return {
          kind: 'refcount',
          oracle: 'refcount',
          signature: `refcount|negative|${type}`,
          title: `refcount: negative reference count on a ${type} object (${negative[0]})`,
          details: run.stderrTail.split('\n').slice(-30).join('\n'),
          program: run.program,
          reproduceCommand: run.reproduceCommand,
          verdict: 'runtime-bug',
        };
      }
      const bad = probesOf(run).filter((p) => p.after !== p.baseline || p.alive !== p.expected_alive);
      if (bad.length === 0) {
        const total = run.records.find((r) => r.type === 'totalrefcount');
        const delta = typeof total?.delta === 'number' ? total.delta : 0;
        const allowed = typeof total?.tolerance === 'number' ? total.tolerance : 0;
        if (!total || Math.abs(delta) <= allowed) return null;
        const via = typeof total.via === 'string' ? total.via : 'the measured section';
        return {
          kind: 'refcount',
          oracle: 'refcount',
          signature: `refcount|total-${delta > 0 ? 'leak' : 'over-release'}|${via}`,
          title: `refcount: sys.gettotalrefcount() moved by ${delta} across ${via}`,
          details: JSON.stringify(total),
          program: run.program,
          reproduceCommand: run.reproduceCommand,
          verdict: 'runtime-bug',
        };
      }
      const p = bad[0] as ProbeRecord;
      const early = p.expected_alive && !p.alive;
      const subtype = early ? 'freed-early' : p.after > p.baseline ? 'leaked-reference' : 'over-release';
      const vias = [...new Set(bad.map((b) => b.via))].sort().join(',');
      return {
        kind: 'refcount',
        oracle: 'refcount',
        signature: `refcount|${subtype}|${vias}`,
        title: `refcount: ${subtype} through ${vias}: probe ${p.name} refcount ${p.baseline} -> ${p.after}${early ? ', freed while still referenced' : ''}`,
        details: JSON.stringify(bad.slice(0, 8)),
        program: run.program,
        reproduceCommand: run.reproduceCommand,
        verdict: 'runtime-bug',
      };
    });
  },
};
