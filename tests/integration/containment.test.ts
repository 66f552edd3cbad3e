// Containment: caps on memory, CPU time and output turn a runaway program into a resource finding,
// never a crash bucket, and never endanger the machine.
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { checkProgram } from '../../src/check.js';
import { probeTarget } from '../../src/runtime/targets.js';

const program = (name: string) => path.join(import.meta.dirname, '..', 'fixtures', 'programs', name);
const GiB = 1024 ** 3;

describe('containment of target processes', () => {
  it('stops unbounded allocation at the address-space cap and reports oom, not a crash', async () => {
    const target = await probeTarget(inject('ftPython'), 'flag');
    const report = await checkProgram({ file: program('unbounded_alloc.py'), targets: [target], runs: 1, timeoutMs: 60_000, limits: { memoryBytes: 2 * GiB } });
    expect(report.runs).toHaveLength(2);
    for (const run of report.runs) expect(run.termination).toMatchObject({ kind: 'resource', resource: 'memory' });
    expect(report.findings.map((f) => f.kind)).toEqual(['resource']);
    expect(report.findings[0]?.signature).toBe('resource|oom');
    expect(report.findings[0]?.hits).toBe(2);
  });

  it('stops it by the resident-set poll where no address-space cap can be set (sanitizer builds)', async () => {
    const real = await probeTarget(inject('ftPython'), 'flag');
    // Claimed as an ASan build: the harness gets no RLIMIT_AS, so only the runner's RSS poll can stop it.
    const target = { ...real, sanitizers: ['address'] };
    const report = await checkProgram({ file: program('unbounded_alloc.py'), targets: [target], modes: ['gil-off'], runs: 1, timeoutMs: 60_000, limits: { memoryBytes: GiB } });
    expect(report.runs[0]?.termination).toMatchObject({ kind: 'resource', resource: 'memory' });
    expect(report.runs[0]?.termination.kind === 'resource' && report.runs[0].termination.detail).toMatch(/resident set \d+ bytes above/);
    expect(report.findings.map((f) => f.signature)).toEqual(['resource|oom']);
  });

  it('stops a CPU burner at the CPU-time cap before the wall-clock timeout', async () => {
    const target = await probeTarget(inject('ftPython'), 'flag');
    const report = await checkProgram({ file: program('spin_cpu.py'), targets: [target], modes: ['gil-off'], runs: 1, timeoutMs: 60_000, limits: { cpuSeconds: 2 } });
    expect(report.runs[0]?.termination).toEqual({ kind: 'resource', resource: 'cpu', detail: 'more than 2 s of CPU time' });
    expect(report.runs[0]?.durationMs).toBeLessThan(30_000);
    expect(report.findings.map((f) => f.signature)).toEqual(['resource|cpu']);
  });

  it('leaves a clean program alone under the default caps', async () => {
    const target = await probeTarget(inject('ftPython'), 'flag');
    const report = await checkProgram({ file: program('clean.py'), targets: [target], runs: 1, timeoutMs: 60_000, limits: { memoryBytes: 2 * GiB, cpuSeconds: 120 } });
    expect(report.findings).toEqual([]);
    for (const run of report.runs) expect(run.records.length + (run.observables ? 1 : 0)).toBeGreaterThan(0);
  });
});
