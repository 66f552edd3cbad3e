// Triage building blocks that need no interpreter: signature matching across versions, trial modes,
// traceback reading for plain runs, JUnit output and the scenario reducer.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readScenario } from '../../src/generators/mutators.js';
import { generateProgram, renderProgram } from '../../src/generators/program.js';
import { exceptionsFromStderr } from '../../src/runtime/tracebacks.js';
import { py, type Module } from '../../src/generators/ast.js';
import { printModule } from '../../src/generators/printer.js';
import { astPasses, reduce, scenarioPasses, type ScenarioState } from '../../src/triage/minimize.js';
import { isFailing, toJUnit, type ReplayEntry } from '../../src/triage/replay.js';
import { sameBug, trialModes, versionless } from '../../src/trials/trials.js';

describe('matching a bug across interpreters', () => {
  it('ignores the interpreter versions inside a signature, and nothing else', () => {
    expect(sameBug('differential|o1.len|prediction|3.13.15t/gil-off', 'differential|o1.len|prediction|3.13.5t/gil-off')).toBe(true);
    expect(sameBug('differential|o1.len|prediction|3.13.15t/gil-off', 'differential|o2.len|prediction|3.13.5t/gil-off')).toBe(false);
    // Across patch releases a crash keeps its innermost C frame and op; the outer frames move with inlining.
    const a = 'crash|SIGABRT|Aborted|c:os_abort_impl < os_abort < pyrun_file|op:f: os.abort()';
    expect(sameBug(a, 'crash|SIGABRT|Aborted|c:os_abort_impl < os_abort|op:f: os.abort()')).toBe(true);
    expect(sameBug(a, 'crash|SIGABRT|Aborted|c:os_abort_impl|op:g: os.abort()')).toBe(false);
    expect(sameBug(a, 'crash|SIGABRT|Aborted|c:list_resize < os_abort|op:f: os.abort()')).toBe(false);
    expect(sameBug('crash|SIGSEGV|x|<program>:12 worker', 'crash|SIGSEGV|x|<program>:13 worker')).toBe(false);
    expect(versionless('differential|k|cross-run|3.13.15td/gil-off,3.14.0t/gil-off')).toBe('differential|k|cross-run|<v>/gil-off,<v>/gil-off');
  });

  it('runs the finding\'s modes, adds the GIL-on reference for cross-run differentials, and gil-on only on GIL builds', () => {
    expect(trialModes({ freeThreaded: true }, ['gil-off'], 'crash|SIGSEGV|x|y')).toEqual(['gil-off']);
    expect(trialModes({ freeThreaded: true }, ['gil-off'], 'differential|k|cross-run|3.13.15t/gil-off')).toEqual(['gil-off', 'gil-on']);
    expect(trialModes({ freeThreaded: true }, ['gil-off'], 'differential|k|prediction|3.13.15t/gil-off')).toEqual(['gil-off']);
    expect(trialModes({ freeThreaded: false }, ['gil-off'], 'crash|SIGSEGV|x|y')).toEqual(['gil-on']);
  });
});

describe('exceptions from tracebacks (plain runs without the harness)', () => {
  it('reads thread exceptions and the uncaught one, with chained tracebacks ending in the last exception', () => {
    const stderr = [
      'Exception in thread t1:',
      'Traceback (most recent call last):',
      '  File "/x/repro.py", line 9, in worker',
      '    o.pop()',
      'SystemError: error return without exception set',
      'Exception in thread Thread-2 (worker):',
      'Traceback (most recent call last):',
      '  File "/x/repro.py", line 3, in worker',
      'MemoryError',
      'Traceback (most recent call last):',
      '  File "/x/repro.py", line 20, in <module>',
      'KeyError: 3',
      '',
      'During handling of the above exception, another exception occurred:',
      '',
      'Traceback (most recent call last):',
      '  File "/x/repro.py", line 22, in <module>',
      'RuntimeError: can\'t start new thread',
      '',
    ].join('\n');
    expect(exceptionsFromStderr(stderr)).toEqual({
      threadExceptions: [
        { thread: 't1', excType: 'SystemError', message: 'error return without exception set' },
        { thread: 'Thread-2', excType: 'MemoryError', message: '' },
      ],
      uncaughtException: { excType: 'RuntimeError', message: "can't start new thread" },
    });
    expect(exceptionsFromStderr('ok 3 observables\n')).toEqual({ threadExceptions: [], uncaughtException: null });
  });
});

describe('JUnit XML', () => {
  const entry = (status: ReplayEntry['status'], file: string, detail: string): ReplayEntry => ({
    file, role: 'reproducer', interpreter: 'CPython 3.13.5t', interpreterPath: '/p', status, trials: 3, hits: 3, findings: [], detail, durationMs: 1500,
  });
  it('counts failures and errors per interpreter and escapes what it quotes', () => {
    const xml = toJUnit([entry('still-failing', '/s/a/repro.py', 'crash <SIGSEGV> & "more"'), entry('fixed', '/s/b/repro.py', '0/3'), entry('error', '/s/c/meta.json', 'not valid JSON')], '/s');
    expect(xml).toContain('<testsuite name="ftfuzz replay on CPython 3.13.5t" time="4.5" tests="3" failures="1" errors="1" skipped="0">');
    expect(xml).toContain('name="a/repro.py"');
    expect(xml).toContain('message="still-failing: crash &lt;SIGSEGV> &amp; &quot;more&quot;"');
    expect(xml).toContain('<error message="not valid JSON" type="error"/>');
    // The bucket's verdict travels with a failing reproducer.
    expect(toJUnit([{ ...entry('still-failing', '/s/a/repro.py', 'crash 3/3'), verdict: 'runtime-bug' }], '/s')).toContain('message="still-failing [runtime-bug]: crash 3/3"');
    expect(xml).not.toMatch(/<[^>]*<(?!\/)/);
    expect(['still-failing', 'new-failure', 'flaky'].every((s) => isFailing(s as ReplayEntry['status']))).toBe(true);
    expect(['fixed', 'inconclusive', 'pass', 'error'].some((s) => isFailing(s as ReplayEntry['status']))).toBe(false);
  });
});

describe('scenario reduction', () => {
  const render = (s: ScenarioState, seed: string) => renderProgram(s.scenario, { seed, options: s.options }).source;

  it('reduces to the smallest scenario that keeps a property, and every candidate is a valid program', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 10_000 }), async (seed) => {
        const g = generateProgram(seed);
        const read = readScenario(g.source, 'p.py');
        if (!read) throw new Error('generated program without a scenario');
        const wanted = g.meta.scenario.threadOps[0]?.ops[0]?.op as string;
        let candidates = 0;
        const { best } = await reduce<ScenarioState>({ scenario: read.scenario, options: read.options }, scenarioPasses(), (s) => {
          candidates += 1;
          // Every candidate re-renders to a program whose header reads back to the same scenario.
          const source = render(s, read.seed);
          expect(readScenario(source, 'candidate.py')?.scenario).toEqual(s.scenario);
          return Promise.resolve(s.scenario.threadOps.some((t) => t.ops.some((i) => i.op === wanted)));
        });
        expect(candidates).toBeGreaterThan(0);
        expect(best.scenario.threads).toBe(2);
        expect(best.scenario.threadOps.map((t) => t.ops.length)).toEqual([1, 1]);
        expect(best.scenario.iterations).toBe(1);
        expect(best.scenario.threadOps.some((t) => t.ops.some((i) => i.op === wanted))).toBe(true);
        expect(best.scenario.threadOps.flatMap((t) => t.ops).some((i) => i.sleepAfter)).toBe(false);
        expect(render(best, read.seed).length).toBeLessThanOrEqual(g.source.length);
      }),
      { numRuns: 15 },
    );
  });
});

describe('AST reduction of crash and hang reproducers', () => {
  it('first tries cutting everything after the threads are joined', () => {
    const module: Module = py.module([
      py.assign(py.store('ts'), py.list([])),
      py.for(py.store('t'), py.name('ts'), [py.expr(py.method(py.name('t'), 'start'))]),
      py.for(py.store('t'), py.name('ts'), [py.expr(py.method(py.name('t'), 'join'))]),
      py.expr(py.call(py.name('check'))),
      py.expr(py.call(py.name('report'))),
    ]);
    const [first] = [...(astPasses()[0] as (m: Module) => Iterable<Module>)(module)];
    const text = printModule(first as Module, []);
    expect(text).toContain('t.join()');
    expect(text).not.toContain('check()');
    expect(text).not.toContain('report()');
  });

  it('drops a thread from the list that starts them, then its def, and unwraps a guarded step', async () => {
    // The "bug" shows when crash() runs: a candidate that names a function it no longer defines fails.
    const module: Module = py.module([
      py.def('worker_a', [], [py.try([py.expr(py.call(py.name('crash')))], [py.except(py.name('Exception'), null, [py.pass()])])]),
      py.def('worker_b', [], [py.expr(py.call(py.name('other')))]),
      py.assign(py.store('workers'), py.list([py.name('worker_a'), py.name('worker_b')])),
      py.for(py.store('f'), py.name('workers'), [py.expr(py.call(py.name('f')))]),
    ]);
    const shows = (m: Module) => {
      const text = printModule(m, []);
      const listed = /workers = \[(.*)\]/.exec(text)?.[1]?.split(', ') ?? [];
      return Promise.resolve(text.includes('crash()') && listed.includes('worker_a') && listed.every((f) => text.includes(`def ${f}(`)));
    };
    const { best } = await reduce(module, astPasses(), shows);
    const text = printModule(best, []);
    expect(text).toContain('workers = [worker_a]');
    expect(text).not.toContain('worker_b');
    expect(text).not.toContain('try:');
    expect(text).toContain('crash()');
  });
});
