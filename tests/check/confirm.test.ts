// Findings from reused fork-server workers are confirmed in fresh processes, in the modes they showed in;
// a bug already stored is not re-run at all (its sighting is no news worth a slot's time).
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkProgram } from '../../src/check.js';
import type { ExecRequest, Executor } from '../../src/runtime/executor.js';
import { fakeRun, fakeTarget } from '../helpers/runs.js';

/** An executor whose gil-off runs crash (in a reused worker unless fresh) and gil-on runs pass. */
function crashingExecutor() {
  const requests: ExecRequest[] = [];
  const executor: Executor = {
    name: 'fake',
    execute: (r) => {
      requests.push(r);
      const crashed = r.mode === 'gil-off';
      return Promise.resolve(fakeRun(r.mode, {
        program: r.program, target: r.target, termination: crashed ? { kind: 'signal', signal: 'SIGSEGV' } : { kind: 'exit', code: 0 },
        stderrTail: crashed ? 'Fatal Python error: Segmentation fault\n' : '', reusedProcess: r.fresh !== true,
      }));
    },
    close: () => Promise.resolve(),
  };
  return { executor, requests };
}

describe('confirming a reused worker\'s finding', () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'ftfuzz-confirm-')), 'p.py');
  writeFileSync(file, 'print(1)\n');

  it('re-runs fresh only the mode the crash showed in', async () => {
    const { executor, requests } = crashingExecutor();
    const report = await checkProgram({ file, targets: [fakeTarget()], modes: ['gil-off', 'gil-on'], runs: 1, jobs: 1, executor });
    expect(requests.map((r) => `${r.mode}${r.fresh ? ' fresh' : ''}`)).toEqual(['gil-off', 'gil-on', 'gil-off fresh']);
    expect(report.findings.map((f) => f.kind)).toEqual(['crash']);
  });

  it('does not re-run a known bug: it comes back as a sighting', async () => {
    const { executor, requests } = crashingExecutor();
    const report = await checkProgram({ file, targets: [fakeTarget()], modes: ['gil-off', 'gil-on'], runs: 1, jobs: 1, executor, knownFinding: () => true });
    expect(requests.filter((r) => r.fresh)).toEqual([]);
    expect(report.findings).toEqual([]);
    expect(report.unconfirmed?.notAgain.map((f) => f.kind)).toEqual(['crash']);
  });
});
