import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crashOracle, onlySignalNames } from '../../src/oracles/crashOracle.js';
import { canonical } from '../../src/canonical.js';
import { differentialOracle } from '../../src/oracles/differentialOracle.js';
import { hangOracle } from '../../src/oracles/hangOracle.js';
import { selectOracles } from '../../src/oracles/index.js';
import { internalErrorOracle } from '../../src/oracles/internalErrorOracle.js';
import { modeOracle } from '../../src/oracles/modeOracle.js';
import { UsageError } from '../../src/errors.js';
import { fakeRun, fakeTarget } from '../helpers/runs.js';

const obs = (data: Record<string, unknown>, expected: Record<string, unknown> | null = null) => ({ observables: data, expected });

describe('differentialOracle', () => {
  it('is silent when every run agrees', () => {
    const runs = [fakeRun('gil-off', obs({ n: 4 })), fakeRun('gil-on', obs({ n: 4 }))];
    expect(differentialOracle.check(runs)).toEqual([]);
  });

  it('names gil-off when it varies and gil-on is stable', () => {
    const runs = [
      fakeRun('gil-on', obs({ n: 800 })),
      fakeRun('gil-on', obs({ n: 800 })),
      fakeRun('gil-off', obs({ n: 612 })),
      fakeRun('gil-off', obs({ n: 800 })),
    ];
    const [finding, ...rest] = differentialOracle.check(runs);
    expect(rest).toEqual([]);
    expect(finding?.signature).toBe('differential|n|-|-|cross-run');
    expect(finding?.title).toMatch(/under 3\.13\.15t\/gil-off$/);
    expect(finding?.modes).toEqual(['gil-off']);
    // Only the run that deviated counts as a hit (the other gil-off run met the reference).
    expect(finding?.hits).toBe(1);
    expect(finding?.verdict).toBe('unknown');
  });

  it('blames the side that misses the prediction, as a runtime bug once enough runs met and missed it', () => {
    const runs = [fakeRun('gil-on', obs({ n: 8 }, { n: 8 })), fakeRun('gil-off', obs({ n: 7 }, { n: 8 }))];
    const [finding] = differentialOracle.check(runs);
    expect(finding?.signature).toBe('differential|n|-|-|prediction');
    expect(finding?.verdict).toBe('unknown');
    const [again] = differentialOracle.check([...runs, ...runs.map((r) => ({ ...r, runIndex: 1 }))]);
    expect(again?.signature).toBe(finding?.signature);
    expect(again?.verdict).toBe('runtime-bug');
  });

  it('does not trust a prediction that every side misses', () => {
    const runs = [fakeRun('gil-on', obs({ n: 7 }, { n: 8 })), fakeRun('gil-off', obs({ n: 7 }, { n: 8 }))];
    expect(differentialOracle.check(runs)[0]?.verdict).toBe('unknown');
  });

  it('never compares observables declared racy', () => {
    const runs = [fakeRun('gil-on', { ...obs({ n: 8 }), racy: ['n'] }), fakeRun('gil-off', { ...obs({ n: 5 }), racy: ['n'] })];
    expect(differentialOracle.check(runs)).toEqual([]);
  });

  it('reports nothing when no group is stable (no reference to differ from)', () => {
    const runs = [fakeRun('gil-on', obs({ n: 1 })), fakeRun('gil-on', obs({ n: 2 })), fakeRun('gil-off', obs({ n: 3 })), fakeRun('gil-off', obs({ n: 4 }))];
    expect(differentialOracle.check(runs)).toEqual([]);
  });

  it('compares interpreters too, and plain scripts by how they ended', () => {
    const old = fakeTarget('3.13.5');
    const runs = [fakeRun('gil-on', obs({ n: 1 })), fakeRun('gil-on', { ...obs({ n: 2 }), target: old })];
    expect(differentialOracle.check(runs)[0]?.signature).toBe('differential|n|-|-|cross-run');
    expect(differentialOracle.check(runs)[0]?.title).toMatch(/under 3\.13\.5t\/gil-on$/);
    // A plain script: exit status and uncaught exception type, between modes and between interpreters.
    const [mode] = differentialOracle.check([fakeRun('gil-on'), fakeRun('gil-off', { termination: { kind: 'exit', code: 1 }, uncaughtException: { excType: 'KeyError', message: 'k' } })]);
    expect(mode?.signature).toBe('differential|outcome|exit 1 (KeyError)|vs exit 0|cross-run');
    expect(mode?.verdict).toBe('unknown');
    const [version] = differentialOracle.check([fakeRun('gil-on'), fakeRun('gil-on', { target: old, termination: { kind: 'exit', code: 2 } })]);
    expect(version?.signature).toBe('differential|outcome|exit 2|vs exit 0|cross-run');
    expect(version?.title).toMatch(/under 3\.13\.5t\/gil-on/);
    expect(differentialOracle.check([fakeRun('gil-on'), fakeRun('gil-off')])).toEqual([]);
  });

  it('splits unexpected exceptions by op and exception type, and names objects by kind, never by variable', () => {
    const unexpected = (entries: string[]) => obs({ unexpected: entries, 'o0.len_consistent': true }, { unexpected: [], 'o0.len_consistent': true });
    const accounting = { records: [{ ftfuzz: 1, type: 'accounting', objects: { o0: { kind: 'deque', ops: ['deque.append', 'deque.pop'] } } }] };
    const runs = [
      fakeRun('gil-on', { ...unexpected([]), ...accounting }),
      fakeRun('gil-off', { ...unexpected(['TypeError in thread 1 during deque.pop: x', 'TypeError in thread 3 during deque.pop: y', 'KeyError in thread 2 during dict.pop: z']), ...accounting }),
      fakeRun('gil-off', { ...obs({ unexpected: [], 'o0.len_consistent': false }, { unexpected: [], 'o0.len_consistent': true }), ...accounting }),
    ];
    const signatures = differentialOracle.check(runs).map((f) => f.signature).sort();
    expect(signatures).toEqual([
      'differential|deque.len_consistent|deque|deque.append,deque.pop|prediction',
      'differential|unexpected|deque.pop|TypeError|prediction',
      'differential|unexpected|dict.pop|KeyError|prediction',
    ]);
  });

  it('counts a structured run that ended without reporting as a missing value', () => {
    const runs = [
      fakeRun('gil-on', obs({ n: 1 })),
      fakeRun('gil-off', { termination: { kind: 'exit', code: 1 }, uncaughtException: { excType: 'KeyError', message: 'x' } }),
    ];
    expect(differentialOracle.check(runs)[0]?.details).toContain('<missing: KeyError>');
  });

  it('gives the same signatures whatever the order of the runs (property)', () => {
    const arbRun = fc.record({
      mode: fc.constantFrom('gil-off' as const, 'gil-on' as const),
      n: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(
      fc.property(fc.array(arbRun, { minLength: 1, maxLength: 8 }), fc.func(fc.integer()), (specs, key) => {
        const runs = specs.map((s) => fakeRun(s.mode, obs({ n: s.n })));
        const shuffled = [...runs].sort((a, b) => key(runs.indexOf(a)) - key(runs.indexOf(b)));
        const sigs = (rs: typeof runs) => differentialOracle.check(rs).map((f) => f.signature).sort();
        // Reordering runs may change which group serves as reference only if no gil-on group is stable;
        // with a stable gil-on group the verdict must not depend on order.
        const gilOnValues = new Set(runs.filter((r) => r.modeRequested === 'gil-on').map((r) => canonical(r.observables)));
        if (gilOnValues.size === 1) expect(sigs(shuffled)).toEqual(sigs(runs));
      }),
    );
  });
});

describe('crashOracle', () => {
  const segv = 'Fatal Python error: Segmentation fault\n\nCurrent thread 0x00007f01 (most recent call first):\n  File "/work/prog.py", line 3 in worker_2\n';
  it('merges runs with the same signature and ignores timeouts and clean exits', () => {
    const runs = [
      fakeRun('gil-off', { termination: { kind: 'signal', signal: 'SIGSEGV' }, stderrTail: segv }),
      fakeRun('gil-off', { termination: { kind: 'signal', signal: 'SIGSEGV' }, stderrTail: segv.replace('0x00007f01', '0x00007f99').replace('line 3', 'line 3') }),
      fakeRun('gil-on'),
      fakeRun('gil-on', { termination: { kind: 'timeout', afterMs: 10 } }),
    ];
    const findings = crashOracle.check(runs);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.signature).toBe('crash|SIGSEGV|SIGSEGV|py:<program>:worker_N');
    expect(findings[0]?.hits).toBe(2);
  });

  it('signs two threads faulting at once (faulthandler output interleaved) like one fault', () => {
    const interleaved = segv.replace('Fatal Python error: Segmentation fault', 'Fatal Python error: Fatal Python error: Segmentation faultSegmentation fault');
    const [one] = crashOracle.check([fakeRun('gil-off', { termination: { kind: 'signal', signal: 'SIGSEGV' }, stderrTail: segv })]);
    const [two] = crashOracle.check([fakeRun('gil-off', { termination: { kind: 'signal', signal: 'SIGSEGV' }, stderrTail: interleaved })]);
    expect(two?.signature).toBe(one?.signature);
    expect(onlySignalNames('Fatal Python error: Segmentation faultSegmentation fault')).toBe(true);
    expect(onlySignalNames('_PyObject_AssertFailed: Segmentation fault in x')).toBe(false);
  });

  it('treats SIGKILL (our own kill, or the OOM killer) as no crash', () => {
    expect(crashOracle.check([fakeRun('gil-off', { termination: { kind: 'signal', signal: 'SIGKILL' } })])).toEqual([]);
  });
});

describe('hangOracle, modeOracle, internalErrorOracle', () => {
  it('reports a timeout as a hang even without stacks', () => {
    const [f] = hangOracle.check([fakeRun('gil-off', { termination: { kind: 'timeout', afterMs: 5 } })]);
    expect(f?.kind).toBe('hang');
    expect(f?.title).toContain('no stacks');
  });

  it('reports requested gil-off that ran with the GIL', () => {
    const [f] = modeOracle.check([fakeRun('gil-off', { modeObservedAtStart: 'gil-on', modeObservedAtEnd: 'gil-on' })]);
    expect(f?.signature).toBe('mode-mismatch|CPython 3.13.15t|gil-off->gil-on/gil-on');
    expect(modeOracle.check([fakeRun('gil-off', { modeObservedAtStart: null, modeObservedAtEnd: null })])).toEqual([]);
  });

  it('reports SystemError from a thread, but not ordinary exceptions', () => {
    const sys = fakeRun('gil-off', { threadExceptions: [{ thread: 'T-1', excType: 'SystemError', message: 'error return without exception set' }] });
    const other = fakeRun('gil-off', { threadExceptions: [{ thread: 'T-1', excType: 'KeyError', message: '3' }] });
    expect(internalErrorOracle.check([sys, other]).map((f) => f.signature)).toEqual(['internal-error|SystemError|error return without exception set']);
  });
});

describe('selectOracles', () => {
  it('selects by name, removes with a minus, and rejects unknown names', () => {
    expect(selectOracles('crash,hang').map((o) => o.name)).toEqual(['crash', 'hang']);
    expect(selectOracles('all,-differential').map((o) => o.name)).not.toContain('differential');
    expect(() => selectOracles('crash,nope')).toThrow(UsageError);
  });
});
