// The generator against the real interpreter: what it prints parses back to the same tree, and what
// it predicts holds when the GIL serializes everything.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, inject, it } from 'vitest';
import { checkProgram } from '../../src/check.js';
import { py, type Expr } from '../../src/generators/ast.js';
import { firstDifference, parseWithInterpreter, readProgramAst } from '../../src/runtime/astBridge.js';
import { readScenario } from '../../src/generators/mutators.js';
import { renderBare } from '../../src/generators/bare.js';
import { generateProgram } from '../../src/generators/program.js';
import { printModule } from '../../src/generators/printer.js';
import { mapConcurrent } from '../../src/runtime/matrix.js';
import { probeTarget } from '../../src/runtime/targets.js';

const target = () => ({ path: inject('ftPython') });

describe('print -> ast.parse -> ast.dump round trip', () => {
  it('1,000 generated programs all parse on the target and give back our exact tree', async () => {
    const programs = Array.from({ length: 1000 }, (_, seed) => generateProgram(seed));
    const outcomes = await parseWithInterpreter(target(), programs.map((p) => p.source));
    const failures: string[] = [];
    outcomes.forEach((o, seed) => {
      if ('error' in o) failures.push(`seed ${seed}: ${o.error}`);
      else {
        const diff = firstDifference(programs[seed]?.module, o.tree);
        if (diff) failures.push(`seed ${seed}: ${diff}`);
      }
    });
    expect(failures).toEqual([]);
  });

  it('prints random expression trees that parse back identically (property)', async () => {
    const leaf: fc.Arbitrary<Expr> = fc.oneof(
      fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((n) => py.int(n)),
      fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e30, max: 1e30 }).map((x) => py.float(x)),
      fc.string({ maxLength: 6, unit: 'binary' }).map((x) => py.str(x)),
      fc.uint8Array({ maxLength: 4 }).map((b) => py.bytes(b)),
      fc.constantFrom('a', 'b', 'c').map((n) => py.name(n)),
      fc.constant(py.none()),
      fc.boolean().map((b) => py.bool(b)),
    );
    const binops = ['Add', 'Sub', 'Mult', 'Div', 'Mod', 'Pow', 'LShift', 'BitOr', 'BitXor', 'BitAnd', 'FloorDiv'] as const;
    const { expr } = fc.letrec<{ expr: Expr }>((tie) => ({
      expr: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.tuple(tie('expr'), fc.constantFrom(...binops), tie('expr')).map(([l, op, r]) => py.bin(l, op, r)),
        fc.tuple(fc.constantFrom('USub', 'Not', 'Invert') , tie('expr')).map(([op, e]) => py.unary(op, e)),
        fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => py.and(a, b)),
        fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => py.or(a, b)),
        fc.tuple(tie('expr'), fc.constantFrom('Lt', 'Eq', 'In', 'IsNot') , tie('expr')).map(([a, op, b]) => py.cmp(a, op, b)),
        fc.tuple(tie('expr'), tie('expr'), tie('expr')).map(([t, b, o]) => py.ifExp(t, b, o)),
        fc.tuple(tie('expr'), tie('expr')).map(([f, a]) => py.call(f, [a])),
        fc.tuple(tie('expr'), tie('expr')).map(([v, s]) => py.sub(v, s)),
        tie('expr').map((v) => py.attr(v, 'x')),
        fc.array(tie('expr'), { maxLength: 3 }).map((e) => py.tuple(e)),
        fc.array(tie('expr'), { maxLength: 3 }).map((e) => py.list(e)),
        tie('expr').map((b) => py.lambda(['a'], b)),
        tie('expr').map((e) => py.listComp(e, [py.comp(py.store('a'), py.name('b'))])),
      ),
    }));
    const samples = fc.sample(expr, { numRuns: 400, seed: 20261123 });
    const modules = samples.map((e) => py.module([py.expr(e)]));
    const outcomes = await parseWithInterpreter(target(), modules.map((m) => printModule(m)));
    const failures = outcomes.flatMap((o, i) => {
      if ('error' in o) return [`${printModule(modules[i] as never).trim()}: ${o.error}`];
      const diff = firstDifference(modules[i], o.tree);
      return diff ? [`${printModule(modules[i] as never).trim()}: ${diff}`] : [];
    });
    expect(failures.slice(0, 5)).toEqual([]);
  });

  it('reads a hand-written corpus file back into the subset, and names what it cannot model', async () => {
    const tree = await readProgramAst(target(), 'hand.py', 'import threading\nx = [1, 2]\nfor i in range(3):\n    x.append(-i)\n');
    expect(tree.body.map((s) => s._type)).toEqual(['Import', 'Assign', 'For']);
    await expect(readProgramAst(target(), 'fstring.py', 'x = f"{1}"\n')).rejects.toThrow(/fstring\.py: uses JoinedStr/);
    await expect(readProgramAst(target(), 'broken.py', 'def (:\n')).rejects.toThrow(/broken\.py: is not valid Python: SyntaxError/);
  });
});

describe('no false positives with the GIL on', () => {
  it('30 programs with leak rounds and refcount probes give no leak or refcount finding', async () => {
    const ft = await probeTarget(inject('ftPython'), 'flag');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-rounds-'));
    const reports = await mapConcurrent(Array.from({ length: 30 }, (_, i) => 5000 + i), 2, async (seed) => {
      const file = path.join(dir, `prog-${seed}.py`);
      const program = generateProgram(seed, { rounds: 6, warmupRounds: 2 });
      await fs.writeFile(file, program.source);
      // Objects and ops that grow memory by design (Mock, ThreadingMock, atexit) run without the harness.
      const harnessed = !program.meta.ops.some((o) => /:(Mock|ThreadingMock|atexit)\./.test(o));
      return { seed, harnessed, report: await checkProgram({ file, targets: [ft], modes: ['gil-on'], runs: 1, timeoutMs: 60_000, jobs: 1 }) };
    });
    expect(reports.filter((r) => r.harnessed).length).toBeGreaterThan(20);
    for (const { report, harnessed } of reports) {
      for (const run of report.runs) expect(run.records.some((r) => r.type === 'leak-rounds'), run.stderrTail).toBe(harnessed);
    }
    const bad = reports.flatMap(({ seed, report }) => report.findings.filter((f) => f.kind !== 'crash').map((f) => `seed ${seed}: ${f.title}`));
    expect(bad).toEqual([]);
  });

  it('300 generated programs give no lost-write, phantom or differential finding under gil-on', async () => {
    const ft = await probeTarget(inject('ftPython'), 'flag');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-gen-'));
    const results = await mapConcurrent(Array.from({ length: 300 }, (_, i) => i), 2, async (seed) => {
      const file = path.join(dir, `prog-${seed}.py`);
      await fs.writeFile(file, generateProgram(seed).source);
      const report = await checkProgram({ file, targets: [ft], modes: ['gil-on'], runs: 1, timeoutMs: 60_000, jobs: 1 });
      return { seed, report };
    });
    const bad = results.flatMap(({ seed, report }) =>
      report.findings
        .filter((f) => f.kind !== 'crash') // crashes under gil-on would be real bugs: reported, not suppressed
        .map((f) => `seed ${seed}: ${f.title} ${f.details}`),
    );
    expect(bad).toEqual([]);
    for (const { report } of results) {
      for (const run of report.runs) expect(run.observables, run.stderrTail).not.toBeNull();
    }
    const crashes = results.filter(({ report }) => report.findings.some((f) => f.kind === 'crash'));
    if (crashes.length) console.warn(`gil-on crashes (real bugs): seeds ${crashes.map((c) => c.seed).join(', ')}`);
  });
});

describe('bare renders (the minimizer\'s shape for crash and hang reproducers)', () => {
  it('120 scenarios over every kind, leak rounds included, run clean with the GIL on: nothing they need was left out', async () => {
    const ft = await probeTarget(inject('ftPython'), 'flag');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-bare-'));
    const seeds = Array.from({ length: 120 }, (_, seed) => seed);
    const failures = (
      await mapConcurrent(seeds, 2, async (seed) => {
        const g = generateProgram(`bare-${seed}`, { iterations: [2, 6], rounds: seed % 4 === 0 ? 3 : 1, warmupRounds: seed % 4 === 0 ? 1 : 2 });
        const bare = renderBare(g.meta.scenario, { seed: g.meta.seed, options: g.meta.options });
        const file = path.join(dir, `bare-${seed}.py`);
        await fs.writeFile(file, bare.source);
        // The scenario reads back from the header, and every op keeps its token marker and slot.
        expect(readScenario(bare.source, file)?.scenario).toEqual(g.meta.scenario);
        expect(bare.source).toContain('_SLOTS = {');
        expect(bare.source).not.toMatch(/_report|_account|_EXPECTED/);
        const report = await checkProgram({ file, targets: [ft], modes: ['gil-on'], runs: 1, timeoutMs: 60_000, jobs: 1 });
        const run = report.runs[0];
        return run?.termination.kind === 'exit' && run.termination.code === 0 && run.stderrTail === '' ? [] : [`seed ${seed}: ${run?.termination.kind} ${run?.stderrTail.slice(-300)}`];
      })
    ).flat();
    expect(failures).toEqual([]);
    // A bare render is a fraction of the checked one.
    const g = generateProgram('bare-size');
    expect(renderBare(g.meta.scenario, { seed: 'bare-size', options: g.meta.options }).source.length).toBeLessThan(g.source.length / 2);
  });
});
