// Lost writes, duplicated writes and phantoms, from the unique-token accounting of generated programs
// (and any program that reports the same observables): `<obj>.missing`, `.dup`, `.phantom`,
// `.wrong_owner`, `.count`, `.keys`, `.attrs` against the prediction the program embeds.
//
// An `accounting` record names each object's kind, the ops applied to it and the threads applying them,
// so the finding says which object, which op kinds and which threads are involved; `tokens` records give
// the first lost / duplicated / phantom tokens. The prediction is trusted as a runtime-bug verdict only
// when some run met it (the same rule as the differential oracle).
import type { RunResult } from '../types.js';
import { canonical } from '../canonical.js';
import { ACCOUNTING_KEY, EVIDENCE_RUNS, mergeBySignature, type Oracle } from './oracle.js';

type Subtype = 'lost' | 'duplicated' | 'phantom' | 'stale';

interface AccountingInfo {
  kind?: string;
  ops?: string[];
  threads?: number[];
}

function subtypeOf(field: string, observed: unknown, expected: unknown): Subtype {
  switch (field) {
    case 'missing':
      return 'lost';
    case 'dup':
      return 'duplicated';
    case 'phantom':
    case 'wrong_owner':
      return 'phantom';
    case 'count':
      return typeof observed === 'number' && typeof expected === 'number' && observed > expected ? 'duplicated' : 'lost';
    case 'keys': {
      const o = (observed ?? {}) as Record<string, number>;
      const e = (expected ?? {}) as Record<string, number>;
      return Object.keys(e).some((k) => (o[k] ?? 0) > (e[k] ?? 0)) ? 'duplicated' : 'lost';
    }
    default:
      return 'stale';
  }
}

function accountingOf(run: RunResult): Record<string, AccountingInfo> {
  const rec = run.records.find((r) => r.type === 'accounting');
  return (rec?.objects as Record<string, AccountingInfo> | undefined) ?? {};
}

function tokenSamples(run: RunResult, object: string): string {
  const rec = run.records.find((r) => r.type === 'tokens' && r.object === object);
  if (!rec) return '';
  const parts = (['missing', 'dup', 'phantom'] as const)
    .map((k) => (Array.isArray(rec[k]) && (rec[k] as unknown[]).length ? `${k}: ${JSON.stringify(rec[k]).slice(0, 300)}` : ''))
    .filter(Boolean);
  return parts.length ? ` first tokens [slot, "thread op", iteration]: ${parts.join('; ')}` : '';
}

function writersOf(run: RunResult, object: string): string[] {
  const rec = run.records.find((r) => r.type === 'tokens' && r.object === object);
  const w = rec?.writers;
  return Array.isArray(w) ? [...new Set(w.filter((x): x is string => typeof x === 'string' && x !== '?'))].sort() : [];
}

export const lostWriteOracle: Oracle = {
  name: 'lost-write',
  description: 'token and counter accounting: writes lost, duplicated, or values nobody wrote (phantoms)',
  check(runs) {
    const finished = runs.filter((r) => r.termination.kind === 'exit' && r.observables !== null && r.expected !== null);
    // Keys whose prediction some run met: a deviation elsewhere is then the runtime's, not the prediction's.
    const met = new Map<string, number>();
    const missed = new Map<string, number>();
    for (const run of finished) {
      for (const [key, want] of Object.entries(run.expected ?? {})) {
        if (!ACCOUNTING_KEY.test(key) || run.racy.includes(key)) continue;
        const counts = canonical(run.observables?.[key]) === canonical(want) ? met : missed;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    // Met in enough runs and missed in enough: the runtime's fault, not the prediction's (EVIDENCE_RUNS).
    const evidenced = (key: string) => (met.get(key) ?? 0) >= EVIDENCE_RUNS && (missed.get(key) ?? 0) >= EVIDENCE_RUNS;
    const counted = new Set(finished);
    return mergeBySignature(runs, (run) => {
      if (!counted.has(run)) return null;
      const racy = new Set(run.racy);
      const info = accountingOf(run);
      return Object.entries(run.expected ?? {}).flatMap(([key, want]) => {
        const m = ACCOUNTING_KEY.exec(key);
        if (!m || racy.has(key)) return [];
        const got = run.observables?.[key];
        if (canonical(got) === canonical(want)) return [];
        const [, object = '?', field = '?'] = m;
        const subtype = subtypeOf(field, got, want);
        const acc = info[object] ?? {};
        // Signed by the ops that wrote the lost or duplicated tokens where the program names them (a reader
        // next to the writer does not make another bug), else by every op on the object.
        const writers = writersOf(run, object);
        const ops = writers.length && subtype !== 'phantom' ? writers : [...new Set(acc.ops ?? [])].sort();
        return [
          {
            kind: 'lost-write' as const,
            oracle: 'lost-write',
            signature: `lost-write|${subtype}|${acc.kind ?? object}|${ops.join(',') || field}`,
            title: `${subtype} write${subtype === 'phantom' ? ' (a value nobody wrote)' : ''} on ${object} (${acc.kind ?? 'object'}) via ${ops.join(', ') || field}: ${field} = ${JSON.stringify(got)?.slice(0, 80)}, predicted ${JSON.stringify(want)?.slice(0, 80)}`,
            details: `threads ${JSON.stringify(acc.threads ?? [])}.${tokenSamples(run, object)}`,
            program: run.program,
            reproduceCommand: run.reproduceCommand,
            verdict: evidenced(key) ? ('runtime-bug' as const) : ('unknown' as const),
          },
        ];
      });
    });
  },
};
