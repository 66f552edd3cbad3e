// The guarantee that matters most: a reproducer ftfuzz saved reproduces with plain `python repro.py`.
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { checkProgram } from '../../src/check.js';
import { probeTarget } from '../../src/runtime/targets.js';
import { CrashStore } from '../../src/store/crashStore.js';

describe('crash store reproducers', () => {
  it('a saved crash reproduces with plain python, outside ftfuzz, on the interpreter it names', async () => {
    const target = await probeTarget(inject('ftPython'), 'flag');
    const file = path.join(import.meta.dirname, '..', 'fixtures', 'programs', 'segfault_thread.py');
    const report = await checkProgram({ file, targets: [target], modes: ['gil-off'], runs: 1, timeoutMs: 60_000 });
    const crash = report.findings.find((f) => f.kind === 'crash');
    expect(crash).toBeDefined();
    const store = new CrashStore(await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-crashes-')));
    const { bucket, meta } = await store.record({
      finding: crash!,
      source: await fs.readFile(file, 'utf8'),
      target,
      stderrTail: report.runs[0]?.stderrTail ?? '',
    });
    expect(meta.reproduce).toBe(`PYTHON_GIL=0 ${target.path} repro.py`);
    const cwd = path.join(store.root, bucket);
    const env = { ...process.env, PYTHON_GIL: '0' };
    const plain = spawnSync(meta.interpreter.path, ['repro.py'], { cwd, env, encoding: 'utf8' });
    expect(plain.signal).toBe('SIGSEGV');
    const withStacks = spawnSync(meta.interpreter.path, ['-X', 'faulthandler', 'repro.py'], { cwd, env, encoding: 'utf8' });
    expect(withStacks.signal).toBe('SIGSEGV');
    expect(withStacks.stderr).toContain('Fatal Python error: Segmentation fault');
    expect(withStacks.stderr).toMatch(/line \d+ in crash_in_worker/);
  });

  it('three processes recording the same signature at once lose no hit and leave a valid store', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-crashes-'));
    const dist = path.join(import.meta.dirname, '..', '..', 'dist', 'store', 'crashStore.js');
    const script = `
      const { CrashStore } = await import(${JSON.stringify(dist)});
      const store = new CrashStore(${JSON.stringify(root)});
      const target = { label: 'CPython 3.13.15t', path: '/x/python3.13t', version: '3.13.15', freeThreaded: true, debug: false, sanitizers: [], configArgs: '' };
      const finding = { kind: 'crash', oracle: 'crash', signature: 'crash|SIGSEGV|x', title: 't', details: '', program: { path: 'p', name: 'p' },
        targets: [], modes: ['gil-off'], hits: 1, runs: 1, reproduceCommand: '', verdict: 'runtime-bug' };
      for (let i = 0; i < 10; i++) await store.record({ finding, source: 'x\\n', target, stderrTail: '' });
    `;
    const codes = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<number | null>((resolve) => {
            const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
            child.on('close', resolve);
          }),
      ),
    );
    expect(codes).toEqual([0, 0, 0]);
    const { buckets, errors } = await new CrashStore(root).list();
    expect(errors).toEqual([]);
    expect(buckets.map((b) => b.meta.hits)).toEqual([30]);
  });
});
