// Module mode on real interpreters: introspection, and a planted lost-update race in a module's class.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { checkProgram } from '../../src/check.js';
import { generateModuleProgram } from '../../src/generators/moduleMode.js';
import { introspectModule } from '../../src/runtime/introspect.js';
import { probeTarget } from '../../src/runtime/targets.js';

const fixtures = path.join(import.meta.dirname, '..', 'fixtures', 'modules');

describe('module mode', () => {
  it('introspects a stdlib module: classes and the constructor call that builds them, and no blocking or destructive calls', async () => {
    const surface = await introspectModule({ path: inject('ftPython') }, 'collections');
    const deque = surface.classes.find((c) => c.name === 'deque');
    expect(deque?.methods.map((m) => m.name)).toEqual(expect.arrayContaining(['append', 'appendleft', 'pop', 'rotate']));
    expect(deque?.ctor).toEqual({ args: [], kwargs: { maxlen: 16 } });
    // array.array needs a type code: the constructor table gives it one, and the program builds it so.
    const array = await introspectModule({ path: inject('ftPython') }, 'array');
    const arr = array.classes.find((c) => c.name === 'array');
    expect(arr?.ctor).toEqual({ args: ['i'], kwargs: {} });
    expect(generateModuleProgram(array, 'ctor', { threads: 2, iterations: 2 }).source).toMatch(/= array\.(array|ArrayType)\('i'\)/);
    const io = await introspectModule({ path: inject('ftPython') }, 'io');
    expect(io.functions.map((f) => f.name)).not.toContain('open');
    await expect(introspectModule({ path: inject('ftPython') }, 'no_such_module_xyz')).rejects.toThrow(/cannot be imported/);
  });

  it('reports the planted lost-update counter under gil-off only, with a stable gil-on reference', async () => {
    const env = { ...process.env, PYTHONPATH: fixtures };
    const surface = await introspectModule({ path: inject('ftPython') }, 'planted_counter', env);
    expect(surface.classes).toEqual([{ name: 'Counter', ctor: { args: [], kwargs: {} }, methods: [{ name: 'increment', params: [] }] }]);
    const program = generateModuleProgram(surface, 'planted', { threads: 4, iterations: 50_000 });
    expect(program.calls).toEqual(['Counter.increment']);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-module-'));
    const file = path.join(dir, 'module_prog.py');
    await fs.writeFile(file, program.source);
    const report = await checkProgram({
      file,
      targets: [await probeTarget(inject('ftPython'), 'flag')],
      runs: 4,
      jobs: 1,
      timeoutMs: 120_000,
      env: { PYTHONPATH: fixtures },
    });
    const gilOn = report.runs.filter((r) => r.modeRequested === 'gil-on').map((r) => JSON.stringify(r.observables?.['i0.state']));
    expect(new Set(gilOn)).toEqual(new Set([JSON.stringify({ value: 200_000 })]));
    const diff = report.findings.filter((f) => f.kind === 'differential');
    expect(diff.map((f) => f.signature)).toEqual([`differential|i0.state|-|-|cross-run`]);
    expect(diff[0]?.title).toContain(`under ${report.targets[0]?.version}t/gil-off`);
  });
});
