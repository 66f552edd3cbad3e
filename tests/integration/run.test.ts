// Real interpreters on fixture programs: the verdicts of the first oracles.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { checkProgram, resolveTargets } from '../../src/check.js';
import { EnvironmentError, InputError } from '../../src/errors.js';
import { probeTarget } from '../../src/runtime/targets.js';
import type { Target } from '../../src/types.js';

const program = (name: string) => path.join(import.meta.dirname, '..', 'fixtures', 'programs', name);

async function ft(): Promise<Target> {
  return probeTarget(inject('ftPython'), 'flag');
}

describe('ftfuzz run on a free-threaded interpreter', () => {
  it('gives no finding for a clean structured program in either mode, and observes each mode', async () => {
    const report = await checkProgram({ file: program('clean.py'), targets: [await ft()], runs: 2, timeoutMs: 60_000 });
    expect(report.findings).toEqual([]);
    expect(report.runs).toHaveLength(4);
    for (const run of report.runs) {
      expect(run.termination).toEqual({ kind: 'exit', code: 0 });
      expect(run.modeObservedAtStart).toBe(run.modeRequested);
      expect(run.modeObservedAtEnd).toBe(run.modeRequested);
      expect(run.observables).toEqual({ counter: 8000, tokens: 8000, per_thread: [2000, 2000, 2000, 2000] });
    }
  });

  it('sees the pure-Python `counter += 1` race differ under gil-off, not under gil-on', async () => {
    const target = await ft();
    const both = await checkProgram({ file: program('race_counter.py'), targets: [target], runs: 3, timeoutMs: 60_000 });
    const diff = both.findings.filter((f) => f.kind === 'differential');
    expect(diff).toHaveLength(1);
    expect(diff[0]?.modes).toEqual(['gil-off']);
    expect(diff[0]?.signature).toBe(`differential|counter|-|-|cross-run`);
    expect(diff[0]?.title).toContain(`under ${target.version}t/gil-off`);
    // No prediction was declared: ftfuzz cannot call a program's own race a runtime bug.
    expect(diff[0]?.verdict).not.toBe('runtime-bug');
    const gilOn = await checkProgram({ file: program('race_counter.py'), targets: [target], modes: ['gil-on'], runs: 3, timeoutMs: 60_000 });
    expect(gilOn.findings).toEqual([]);
    expect(new Set(gilOn.runs.map((r) => r.observables?.counter))).toEqual(new Set([800_000]));
  });

  it('reports a fatal signal in a thread as a crash with the same signature on reruns', async () => {
    const target = await ft();
    const signatures: string[] = [];
    for (let i = 0; i < 2; i++) {
      const report = await checkProgram({ file: program('segfault_thread.py'), targets: [target], runs: 2, timeoutMs: 60_000 });
      const crashes = report.findings.filter((f) => f.kind === 'crash');
      expect(crashes).toHaveLength(1);
      expect(crashes[0]?.hits).toBe(4);
      signatures.push(crashes[0]?.signature ?? '');
    }
    // faulthandler._sigsegv() sets RLIMIT_CORE to 0 before it raises (CPython's own tests want no core
    // files), so this crash has no C stacks: its Python frames and its op sign it.
    expect(signatures[0]).toBe('crash|SIGSEGV|SIGSEGV|py:<program>:crash_in_worker < threading.py:run < threading.py:_bootstrap_inner|op:crash_in_worker: faulthandler._sigsegv()');
    expect(signatures[1]).toBe(signatures[0]);
  });

  it('reports a deadlock as a hang with the stacks of the blocked threads', async () => {
    const report = await checkProgram({ file: program('deadlock.py'), targets: [await ft()], modes: ['gil-off'], runs: 1, timeoutMs: 2_000, finishWindow: { minMs: 4000 } });
    const [hang, ...rest] = report.findings;
    expect(rest).toEqual([]);
    expect(hang?.kind).toBe('hang');
    // Every thread waits in Lock.acquire or join (gdb shows the same lock wait in each): the program's own
    // lock-order inversion, signed by its Python frames.
    expect(hang?.signature).toBe('hang|deadlock|py:<program>:left < threading.py:run | <program>:right < threading.py:run | threading.py:join < <program>:<module>');
    expect(hang?.details).toMatch(/File ".*deadlock\.py", line \d+ in left/);
    expect(hang?.details).toMatch(/File ".*deadlock\.py", line \d+ in right/);
    // It did not finish in its finish window: a hang, proved.
    expect(hang?.proved).toBe(true);
  });

  it('never calls a program that finishes, however slowly, a hang: a GIL-on convoy, a copy under growth, snapshots of a growing dict', async () => {
    for (const name of ['deque_copy_convoy.py', 'sort_convoy.py', 'repr_growth.py']) {
      // A one-second limit: every run goes past it; the samples see progress, or the finish window sees it end.
      const report = await checkProgram({ file: program(`slow/${name}`), targets: [await ft()], modes: ['gil-off', 'gil-on'], runs: 1, timeoutMs: 1000 });
      expect(report.findings.filter((f) => f.kind === 'hang'), name).toEqual([]);
      for (const f of report.findings) expect(f.kind, `${name}: ${f.title}`).toBe('slow');
      expect(report.runs.every((r) => r.termination.kind === 'exit' || (r.termination.kind === 'timeout' && r.termination.waitedMs === undefined)), name).toBe(true);
    }
  });

  it('judges plain `python FILE` runs (reproducers) by the same signatures as harness runs', async () => {
    const target = await ft();
    for (const name of ['deadlock.py', 'segfault_thread.py']) {
      const harness = await checkProgram({ file: program(name), targets: [target], modes: ['gil-off'], runs: 1, timeoutMs: 2_000, finishWindow: { minMs: 4000 } });
      const plain = await checkProgram({ file: program(name), targets: [target], modes: ['gil-off'], runs: 1, timeoutMs: 2_000, plain: true });
      expect(plain.findings.map((f) => f.signature), name).toEqual(harness.findings.map((f) => f.signature));
      expect(plain.findings.length, name).toBe(1);
    }
  });

  it('reports a run whose observed GIL mode differs from the requested one', async () => {
    // A wrapper that forces the GIL on: -X gil=1 wins over PYTHON_GIL=0, as in a misconfigured CI image.
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-wrap-'));
    const wrapper = path.join(dir, 'python-forced-gil');
    await fs.writeFile(wrapper, `#!/bin/sh\nexec ${inject('ftPython')} -X gil=1 "$@"\n`, { mode: 0o755 });
    const target = await probeTarget(wrapper, 'flag');
    expect(target.freeThreaded).toBe(true);
    const report = await checkProgram({ file: program('clean.py'), targets: [target], runs: 1, timeoutMs: 60_000 });
    const mismatch = report.findings.filter((f) => f.kind === 'mode-mismatch');
    expect(mismatch).toHaveLength(1);
    expect(mismatch[0]?.modes).toEqual(['gil-off']);
    expect(mismatch[0]?.signature).toContain('gil-off->gil-on/gil-on');
  });

  it('skips gil-off on a GIL-only interpreter with a notice, and still runs gil-on', async () => {
    const gil = inject('gilPython');
    if (!gil) return expect(gil).toBe(''); // no GIL-only python3 on this machine: nothing to compare
    const target = await probeTarget(gil, 'flag');
    expect(target.freeThreaded).toBe(false);
    const report = await checkProgram({ file: program('clean.py'), targets: [target, await ft()], runs: 1, timeoutMs: 60_000 });
    expect(report.notices.join('\n')).toMatch(/GIL-only build: its gil-off runs are skipped/);
    expect(report.runs.filter((r) => r.target.path === target.path).map((r) => r.modeRequested)).toEqual(['gil-on']);
    expect(report.findings).toEqual([]);
  });

  it('turns bad input into typed errors naming the thing', async () => {
    await expect(checkProgram({ file: '/nonexistent/prog.py', targets: [await ft()] })).rejects.toThrow(InputError);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-bad-'));
    const bad = path.join(dir, 'bad.py');
    await fs.writeFile(bad, 'def broken(:\n');
    await expect(checkProgram({ file: bad, targets: [await ft()], runs: 1 })).rejects.toThrow(/bad\.py: is not valid Python/);
    await expect(resolveTargets({ python: ['/nonexistent/python3.13t'] })).rejects.toThrow(EnvironmentError);
  });
});
