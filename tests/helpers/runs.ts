// Builders of synthetic RunResults for oracle unit tests (integration tests use real interpreters).
import { emptyRunFields } from '../../src/runtime/protocol.js';
import type { GilMode, RunResult, Target } from '../../src/types.js';

export function fakeTarget(version = '3.13.15', overrides: Partial<Target> = {}): Target {
  const [a = 3, b = 13, c = 0] = version.split('.').map(Number);
  return {
    path: `/opt/python${version}t`,
    executable: `/opt/python${version}t`,
    origin: 'flag',
    implementation: 'cpython',
    version,
    versionInfo: [a, b, c],
    freeThreaded: true,
    debug: false,
    sanitizers: [],
    abiflags: 't',
    configArgs: '',
    label: `CPython ${version}t`,
    ...overrides,
  };
}

export function fakeRun(mode: GilMode, overrides: Partial<RunResult> = {}): RunResult {
  return {
    program: { path: '/work/prog.py', name: 'prog.py' },
    target: fakeTarget(),
    ...emptyRunFields(),
    modeRequested: mode,
    modeObservedAtStart: mode,
    modeObservedAtEnd: mode,
    runIndex: 0,
    termination: { kind: 'exit', code: 0 },
    durationMs: 10,
    stdoutTail: '',
    stderrTail: '',
    reproduceCommand: `PYTHON_GIL=${mode === 'gil-off' ? 0 : 1} python3.13t /work/prog.py`,
    ...overrides,
  };
}
