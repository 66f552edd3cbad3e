// The C surface on a real interpreter: introspection that survives the interpreter dying under a probe,
// surface programs that pass with the GIL on (a failure there would be the generator's mistake), and a
// campaign whose summary counts the surface it exercised.
import { FINDING_KINDS } from '../../src/findingKinds.js';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { resolveSettings, runCampaign } from '../../src/campaign/fuzz.js';
import { checkProgram } from '../../src/check.js';
import { generateSurfaceProgram, SURFACE_SHAPES } from '../../src/generators/surface/program.js';
import type { Surface } from '../../src/generators/surface/types.js';
import { generateRegistryProgram, REGISTRIES } from '../../src/generators/surface/registries.js';
import { introspectSurface } from '../../src/runtime/surface.js';
import { probeTarget } from '../../src/runtime/targets.js';

describe('the C surface', () => {
  let surface: Surface;

  it('is introspected on the target: builtins and the C modules, each crash under a probe skipped and kept', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-surface-'));
    const target = await probeTarget(inject('ftPython'), 'flag');
    surface = await introspectSurface(target, { cache: dir });
    expect(surface.modules).toEqual(expect.arrayContaining(['builtins', '_collections', '_io', 'itertools']));
    expect(surface.types.length).toBeGreaterThan(200);
    expect(surface.types.filter((t) => t.ctor !== null).length).toBeGreaterThan(180);
    const deque = surface.types.find((t) => t.module === '_collections' && t.name === 'deque');
    expect(deque?.methods.map((m) => m.name)).toEqual(expect.arrayContaining(['append', 'popleft', 'rotate']));
    expect(deque?.protocols).toEqual(expect.arrayContaining(['iteration', 'pickling', 'copying']));
    // Nothing that acts on the process or its descriptors is listed: no posix, no FileIO, no socket; close
    // and fileno only on objects in memory (a BufferedReader over a BytesIO, a generator, an sqlite3 :memory:).
    expect(surface.modules).not.toContain('posix');
    for (const t of surface.types.filter((x) => x.name === 'FileIO' || x.name === 'socket')) expect([t.ctor, t.methods.length], t.name).toEqual([null, 0]);
    const closers = surface.types.filter((t) => t.methods.some((m) => m.name === 'close' || m.name === 'fileno'));
    expect(closers.map((t) => t.name)).toEqual(expect.arrayContaining(['BytesIO', 'BufferedReader']));
    for (const t of closers) expect(t.ctor ?? '', `${t.module}.${t.name}`).not.toMatch(/open\(|FileIO|socket|fdopen|\bfd\b/);
    for (const c of surface.crashes) expect(c.probe).toMatch(/^[\w.]+:(new|set|del|protocols)$/);
    // Cached: the second call reads the file.
    const cached = await introspectSurface(target, { cache: dir });
    expect(cached.types.length).toBe(surface.types.length);
    expect((await fs.readdir(dir)).length).toBe(1);
  });

  it('gives programs that pass with the GIL on, in every shape', async () => {
    const target = await probeTarget(inject('ftPython'), 'flag');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-surface-gil-'));
    const failures: string[] = [];
    let ran = 0;
    for (const shape of SURFACE_SHAPES) {
      for (let i = 0; i < 6; i++) {
        const p = generateSurfaceProgram(surface, `gil-on-${shape}-${i}`, { shape });
        const file = path.join(dir, `p-${shape}-${i}.py`);
        await fs.writeFile(file, p.source);
        const report = await checkProgram({ file, targets: [target], modes: ['gil-on'], runs: 1, timeoutMs: 30_000 });
        ran += 1;
        // A crash with the GIL on is the interpreter's bug, never the program's (TextIOWrapper.close after a
        // concurrent detach segfaults on 3.13.15t with the GIL too): only what could be a generator mistake fails.
        const mistakes = report.findings.filter((f) => FINDING_KINDS[f.kind].withGil === 'set-aside');
        if (mistakes.length) failures.push(`${p.type} ${p.shape}: ${mistakes.map((f) => f.signature).join(', ')}`);
      }
    }
    // And every interpreter-wide registry, written from threads.
    for (const r of REGISTRIES) {
      const p = generateRegistryProgram(`gil-on-${r.id}`, (pair) => (pair.endsWith(`.${r.id}`) ? 1e6 : 1));
      expect(p.members).toContain(r.id);
      const file = path.join(dir, `r-${r.id}.py`);
      await fs.writeFile(file, p.source);
      const report = await checkProgram({ file, targets: [target], modes: ['gil-on'], runs: 1, timeoutMs: 30_000 });
      ran += 1;
      const mistakes = report.findings.filter((f) => FINDING_KINDS[f.kind].withGil === 'set-aside');
      if (mistakes.length) failures.push(`registries ${p.members.join(',')}: ${mistakes.map((f) => f.signature).join(', ')}`);
    }
    expect(ran).toBe(SURFACE_SHAPES.length * 6 + REGISTRIES.length);
    expect(failures).toEqual([]);
  });

  it('is covered by a campaign of surface programs, and the summary counts it', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-surface-camp-'));
    const target = await probeTarget(inject('ftPython'), 'flag');
    const stats = await runCampaign({
      settings: resolveSettings({ seed: 'surface-it', maxPrograms: 24, surfaceShare: 1, reproTrials: 0 }), targets: [target], jobs: 1,
      crashDir: path.join(dir, 'crashes'), corpusDir: path.join(dir, 'corpus'), surface,
    });
    expect(stats.yield.byShape.surface.programs).toBe(24);
    expect(stats.surface).toMatchObject({ programs: 24, gilOnFailures: 0 });
    expect(stats.surface?.pairsExercised).toBeGreaterThan(20);
    expect(stats.surface?.pairs).toBeGreaterThan(1000);
  });
});
