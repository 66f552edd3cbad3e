// Differential: a structured program's observables compared across runs, GIL modes and interpreters,
// and against the program's own prediction when it declares one.
//
// With a prediction, the side that disagrees with it is the wrong one. Without one, the reference is
// GIL-on on the first interpreter (the behaviour the GIL used to guarantee), when its runs agree; with no
// group whose runs agree, nothing is reported.
// Observables the program declares racy are never compared. Crashed and hung runs are left to their own
// oracles; a structured run that ended without reporting counts as `<missing: ...>`.
import type { Finding, RunResult } from '../types.js';
import { canonical } from '../canonical.js';
import { ACCOUNTING_KEY, EVIDENCE_RUNS, groupKey, type Oracle } from './oracle.js';

function valueOf(run: RunResult, key: string): string {
  if (run.observables === null) {
    const why = run.uncaughtException?.excType ?? (run.termination.kind === 'exit' ? `exit ${run.termination.code}` : run.termination.kind);
    return `<missing: ${why}>`;
  }
  return key in run.observables ? canonical(run.observables[key]) : '<missing: not reported>';
}

/** The objects of a generated program: variable -> kind and the ops applied to it (its `accounting` record). */
type Objects = Record<string, { kind?: string; ops?: string[] }>;

function accountingObjects(runs: readonly RunResult[]): Objects {
  for (const run of runs) {
    const rec = run.records.find((r) => r.type === 'accounting');
    if (rec && typeof rec.objects === 'object' && rec.objects !== null) return rec.objects as Objects;
  }
  return {};
}

/** `o1.len_consistent` -> `deque.len_consistent`: the object's kind, never its variable index. */
function observableName(key: string, objects: Objects): string {
  const m = /^(o\d+)\.(.+)$/.exec(key);
  if (m) return `${objects[m[1] as string]?.kind ?? 'object'}.${m[2] as string}`;
  return key;
}

/** An `unexpected` entry: `TypeError in thread 3 during deque.pop: message` (before gen/2: no `during`). */
const UNEXPECTED_ENTRY = /^(\w+) in thread \d+(?: during (\S+))?:/;

/**
 * The bugs one deviating value names: for `unexpected`, each (op, exception type) it lists; for
 * `pure_mismatch`, each op whose read differed; for an object's observable, that object (its kind and ops).
 */
export function subjectsOf(key: string, run: RunResult, objects: Objects): { subject: string; detail: string; title: string }[] {
  const raw = run.observables?.[key];
  if (key === 'unexpected' && Array.isArray(raw)) {
    const out = new Map<string, { subject: string; detail: string; title: string }>();
    for (const entry of raw) {
      const m = UNEXPECTED_ENTRY.exec(String(entry));
      const exc = m?.[1] ?? 'exception';
      const op = m?.[2] && m[2] !== '?' ? m[2] : '?';
      out.set(`${op}|${exc}`, { subject: op, detail: exc, title: `unexpected ${exc} from ${op === '?' ? 'a thread' : op}` });
    }
    if (out.size > 0) return [...out.values()];
  }
  if (key === 'pure_mismatch' && Array.isArray(raw)) {
    const ops = [...new Set(raw.map((e) => String(e).replace(/^o\d+\./, '')))].sort();
    if (ops.length > 0) return ops.map((op) => ({ subject: op, detail: 'result', title: `a read by ${op} differs from the single-threaded reference;` }));
  }
  const m = /^(o\d+)\.(.+)$/.exec(key);
  if (m) {
    const obj = objects[m[1] as string];
    const ops = [...new Set(obj?.ops ?? [])].sort().join(',') || '?';
    return [{ subject: obj?.kind ?? 'object', detail: ops, title: `${m[2] as string} of ${obj?.kind ?? 'an object'} (via ${ops})` }];
  }
  return [{ subject: '-', detail: '-', title: `observable ${key}` }];
}

function shortGroup(run: RunResult): string {
  return `${run.target.version}${run.target.freeThreaded ? 't' : ''}${run.target.debug ? 'd' : ''}/${run.modeRequested}`;
}

function histogram(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].map(([v, n]) => `${v.length > 60 ? `${v.slice(0, 57)}...` : v} ×${n}`).join(', ');
}

export const differentialOracle: Oracle = {
  name: 'differential',
  description: 'observables differ between GIL modes, runs or interpreters, or from the prediction',
  check(allRuns) {
    const finished = allRuns.filter((r) => r.termination.kind === 'exit');
    // Plain scripts report no observables: how they ended is what is compared.
    if (!finished.some((r) => r.observables !== null)) return outcomeDifferential(finished);
    const racy = new Set(finished.flatMap((r) => r.racy));
    const expected = finished.find((r) => r.expected !== null)?.expected ?? null;
    const keys = [...new Set(finished.flatMap((r) => Object.keys(r.observables ?? {})))].filter((k) => !racy.has(k) && !ACCOUNTING_KEY.test(k)).sort();
    const groups = new Map<string, RunResult[]>();
    for (const run of finished) groups.set(groupKey(run), [...(groups.get(groupKey(run)) ?? []), run]);
    const findings: Finding[] = [];
    const first = finished[0];
    if (!first) return [];

    const objects = accountingObjects(finished);
    for (const key of keys) {
      const perGroup = [...groups.values()].map((runs) => ({ runs, values: runs.map((r) => valueOf(r, key)) }));
      const describe = perGroup.map((g) => `${shortGroup(g.runs[0] as RunResult)}: ${histogram(g.values)}`).join('; ');
      let wrong: typeof perGroup;
      let reason: string;
      let verdict: Finding['verdict'] = 'unknown';
      let reference: string | null = null;
      const predicted = expected !== null && key in expected;
      if (predicted) {
        const want = canonical(expected[key]);
        reference = want;
        wrong = perGroup.filter((g) => g.values.some((v) => v !== want));
        reason = `deviates from the prediction ${want.slice(0, 60)}`;
        // The prediction is trusted only when enough runs met it and enough missed it (EVIDENCE_RUNS): if
        // every side misses it, the prediction itself is the likelier mistake.
        const all = perGroup.flatMap((g) => g.values);
        const metRuns = all.filter((v) => v === want).length;
        if (metRuns >= EVIDENCE_RUNS && all.length - metRuns >= EVIDENCE_RUNS) verdict = 'runtime-bug';
      } else {
        const distinct = new Set(perGroup.flatMap((g) => g.values));
        if (distinct.size <= 1) continue;
        const ref =
          perGroup.find((g) => g.runs[0]?.modeRequested === 'gil-on' && new Set(g.values).size === 1) ??
          perGroup.find((g) => new Set(g.values).size === 1);
        // Without a group whose runs all agree there is no reference to differ from: the observable is
        // simply nondeterministic (module-mode state, a program's own race), which is no evidence.
        if (ref === undefined) continue;
        const refValue = ref.values[0] as string;
        reference = refValue;
        wrong = perGroup.filter((g) => g !== ref && g.values.some((v) => v !== refValue));
        reason = `differs from ${shortGroup(ref.runs[0] as RunResult)}`;
      }
      if (wrong.length === 0) continue;
      const basis = predicted ? 'prediction' : 'cross-run';
      // One finding per distinct bug the observable shows: an unexpected exception per (op, exception type),
      // a pure read per op, an object's invariant per object kind and the ops applied to it. Which side
      // deviated (mode and interpreter labels) is evidence in the title, never part of the signature.
      const subjects = new Map<string, { subject: string; detail: string; title: string; runs: RunResult[] }>();
      for (const g of wrong) {
        for (const run of g.runs) {
          const value = valueOf(run, key);
          if (value === reference) continue;
          for (const sub of subjectsOf(key, run, objects)) {
            const id = `${sub.subject}|${sub.detail}`;
            const entry = subjects.get(id) ?? { ...sub, runs: [] };
            entry.runs.push(run);
            subjects.set(id, entry);
          }
        }
      }
      for (const sub of subjects.values()) {
        const runsHit = sub.runs;
        const labels = [...new Set(runsHit.map(shortGroup))].sort();
        const sample = runsHit[0] as RunResult;
        findings.push({
          kind: 'differential',
          oracle: 'differential',
          signature: `differential|${observableName(key, objects)}|${sub.subject}|${sub.detail}|${basis}`,
          title: `${sub.title} ${reason} under ${labels.join(', ')}`,
          details: describe,
          program: first.program,
          targets: [...new Map(runsHit.map((r) => [r.target.path, { label: r.target.label, path: r.target.path, version: r.target.version }])).values()],
          modes: [...new Set(runsHit.map((r) => r.modeRequested))],
          hits: runsHit.length,
          runs: finished.length,
          reproduceCommand: sample.reproduceCommand,
          verdict,
        });
      }
    }
    return findings;
  },
};

/** How a plain script ended: its exit status and the type of its uncaught exception, if any. */
function outcomeOf(run: RunResult): string {
  const code = run.termination.kind === 'exit' ? run.termination.code : -1;
  return `exit ${code}${run.uncaughtException ? ` (${run.uncaughtException.excType})` : ''}`;
}

/**
 * A plain script whose exit status or uncaught exception type differs between GIL modes or interpreters.
 * The reference is a group whose runs agree (GIL-on on the first interpreter preferred); without one,
 * the script is nondeterministic, which is no evidence. Verdict unknown: the script's own race can do it.
 */
function outcomeDifferential(finished: RunResult[]): Finding[] {
  const first = finished[0];
  if (!first) return [];
  const groups = new Map<string, RunResult[]>();
  for (const run of finished) groups.set(groupKey(run), [...(groups.get(groupKey(run)) ?? []), run]);
  if (groups.size < 2) return [];
  const perGroup = [...groups.values()].map((runs) => ({ runs, values: runs.map(outcomeOf) }));
  if (new Set(perGroup.flatMap((g) => g.values)).size <= 1) return [];
  const agree = (g: (typeof perGroup)[number]) => new Set(g.values).size === 1;
  const reference = perGroup.find((g) => g.runs[0]?.modeRequested === 'gil-on' && agree(g)) ?? perGroup.find(agree);
  if (!reference) return [];
  const refValue = reference.values[0] as string;
  const wrong = perGroup.filter((g) => g !== reference && g.values.some((v) => v !== refValue));
  if (wrong.length === 0) return [];
  const wrongLabels = wrong.map((g) => shortGroup(g.runs[0] as RunResult)).sort();
  const got = [...new Set(wrong.flatMap((g) => g.values.filter((v) => v !== refValue)))].sort();
  const sample = wrong[0]?.runs[0] as RunResult;
  return [
    {
      kind: 'differential',
      oracle: 'differential',
      signature: `differential|outcome|${got.join(',')}|vs ${refValue}|cross-run`,
      title: `script ended with ${got.join(', ')} under ${wrongLabels.join(', ')}, but ${refValue} under ${shortGroup(reference.runs[0] as RunResult)}`,
      details: perGroup.map((g) => `${shortGroup(g.runs[0] as RunResult)}: ${histogram(g.values)}`).join('; '),
      program: first.program,
      targets: [...new Map(wrong.flatMap((g) => g.runs).map((r) => [r.target.path, { label: r.target.label, path: r.target.path, version: r.target.version }])).values()],
      modes: [...new Set(wrong.map((g) => (g.runs[0] as RunResult).modeRequested))],
      hits: wrong.reduce((n, g) => n + g.values.filter((v) => v !== refValue).length, 0),
      runs: finished.length,
      reproduceCommand: sample.reproduceCommand,
      verdict: 'unknown',
    },
  ];
}
