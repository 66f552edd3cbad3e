// Judging one program: evidence re-runs for a lost write or differential, fresh retries for a sighting seen
// only in a reused worker, and neither for a bug already stored (its sightings are not worth the slot time).
import { describe, expect, it } from 'vitest';
import type { CheckReport } from '../../src/check.js';
import { judgeProgram } from '../../src/campaign/judge.js';
import type { Finding } from '../../src/types.js';
import { fakeRun } from '../helpers/runs.js';

const finding = (signature: string, kind: Finding['kind'] = 'crash', verdict: Finding['verdict'] = 'runtime-bug'): Finding => ({
  kind, oracle: kind, signature, title: signature, details: '', program: { path: '/p.py', name: 'p.py' }, targets: [{ label: 'x', path: '/opt/python3.13.15t', version: '3.13.15' }], modes: ['gil-off'],
  hits: 1, runs: 1, reproduceCommand: '', verdict,
});

/** A check that answers from a script: the first call's report, then `again` for every later call. */
function scripted(first: Partial<CheckReport>, again: Partial<CheckReport> = {}) {
  const calls: { runs?: number; fresh?: boolean }[] = [];
  const report = (r: Partial<CheckReport>): CheckReport => ({ program: { path: '/p.py', name: 'p.py' }, targets: [], modes: ['gil-off'], runs: [fakeRun('gil-off')], findings: [], notices: [], ...r });
  return {
    calls,
    check: (extra: { runs?: number; fresh?: boolean } = {}) => {
      calls.push(extra);
      return Promise.resolve(report(calls.length === 1 ? first : again));
    },
  };
}

const base = { account: () => undefined, oracles: [], signal: new AbortController().signal, unconfirmedRetries: 3 };

describe('judging a program', () => {
  it('retries a sighting seen only in a reused worker on fresh processes, and promotes it when it shows', async () => {
    const crash = finding('crash|SIGSEGV|x');
    const s = scripted({ unconfirmed: { runs: [], findings: [crash], notAgain: [crash] } }, { findings: [crash] });
    const judged = await judgeProgram({ ...base, check: s.check });
    expect(s.calls).toEqual([{}, { fresh: true, modes: ['gil-off'] }]);
    expect(judged?.promoted).toBe(1);
    expect(judged?.findings.map((f) => f.signature)).toEqual(['crash|SIGSEGV|x']);
  });

  it('does not retry a stored bug\'s sighting: it counts as a sighting of its family', async () => {
    const crash = finding('crash|SIGSEGV|known');
    const s = scripted({ unconfirmed: { runs: [], findings: [crash], notAgain: [crash] } }, { findings: [crash] });
    const judged = await judgeProgram({ ...base, check: s.check, known: (sig) => sig === 'crash|SIGSEGV|known' });
    expect(s.calls).toEqual([{}]);
    expect(judged?.promoted).toBe(0);
    expect(judged?.unconfirmed.map((u) => u.finding.signature)).toEqual(['crash|SIGSEGV|known']);
  });

  it('re-runs a lost write for evidence, unless its bucket is stored', async () => {
    const lost = finding('lost-write|lost|Mock|Mock.call', 'lost-write', 'unknown');
    const fresh = scripted({ findings: [lost] });
    await judgeProgram({ ...base, check: fresh.check });
    expect(fresh.calls).toEqual([{}, { runs: 3 }]);
    const stored = scripted({ findings: [lost] });
    const judged = await judgeProgram({ ...base, check: stored.check, known: () => true });
    expect(stored.calls).toEqual([{}]);
    expect(judged?.findings.map((f) => f.signature)).toEqual(['lost-write|lost|Mock|Mock.call']);
  });
});
