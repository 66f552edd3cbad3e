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

    for (const key of keys) {
      const perGroup = [...groups.values()].map((runs) => ({ runs, values: runs.map((r) => valueOf(r, key)) }));
      const describe = perGroup.map((g) => `${shortGroup(g.runs[0] as RunResult)}: ${histogram(g.values)}`).join('; ');
      let wrong: typeof perGroup;
      let reason: string;
      let verdict: Finding['verdict'] = 'unknown';
      if (expected && key in expected) {
        const want = canonical(expected[key]);
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
        const reference =
          perGroup.find((g) => g.runs[0]?.modeRequested === 'gil-on' && new Set(g.values).size === 1) ??
          perGroup.find((g) => new Set(g.values).size === 1);
        // Without a group whose runs all agree there is no reference to differ from: the observable is
        // simply nondeterministic (module-mode state, a program's own race), which is no evidence.
        if (reference === undefined) continue;
        const refValue = reference.values[0];
        wrong = perGroup.filter((g) => g !== reference && g.values.some((v) => v !== refValue));
        reason = `differs from ${shortGroup(reference.runs[0] as RunResult)}`;
      }
      if (wrong.length === 0) continue;
      const wrongLabels = wrong.map((g) => shortGroup(g.runs[0] as RunResult)).sort();
      const hits = wrong.reduce((n, g) => n + g.values.length, 0);
      const sample = wrong[0]?.runs[0] as RunResult;
      findings.push({
        kind: 'differential',
        oracle: 'differential',
        signature: `differential|${key}|${expected && key in expected ? 'prediction' : 'cross-run'}|${wrongLabels.join(',')}`,
        title: `observable ${key} ${reason} under ${wrongLabels.join(', ')}`,
        details: describe,
        program: first.program,
        targets: [...new Map(wrong.flatMap((g) => g.runs).map((r) => [r.target.path, { label: r.target.label, path: r.target.path, version: r.target.version }])).values()],
        modes: [...new Set(wrong.map((g) => (g.runs[0] as RunResult).modeRequested))],
        hits,
        runs: finished.length,
        reproduceCommand: sample.reproduceCommand,
        verdict,
      });
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
      signature: `differential|outcome|${got.join(',')}|vs ${refValue}|${wrongLabels.join(',')}`,
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
