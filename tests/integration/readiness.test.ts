// A C extension checked as its author would (issue 25): built by pip from its setup.py into venvs of the
// release and the ThreadSanitizer 3.13.15t (`ftfuzz python venv --install`), then fuzzed in module mode,
// whose readiness report names the race in the extension's own function and source lines.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { ReadinessReport } from '../../src/triage/readiness.js';
import { probeTarget } from '../../src/runtime/targets.js';
import { extensionFiles, isTsanInstrumented, makeVenv, type Venv } from '../../src/runtime/venv.js';
import type { Target } from '../../src/types.js';

const root = path.join(import.meta.dirname, '..', '..');
const fixtures = path.join(import.meta.dirname, '..', 'fixtures', 'readiness');
let dir: string;
let release: Venv;
let tsan: Venv;
let tsanTarget: Target;

function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'bin', 'ftfuzz.js'), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => resolve({ code, out }));
  });
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-readiness-'));
  const project = path.join(fixtures, 'racy');
  release = await makeVenv({ base: await probeTarget(inject('ftPython'), 'flag'), dir: path.join(dir, 'release'), install: [project] });
  tsanTarget = await probeTarget(inject('ftPythonTsan'), 'flag');
  tsan = await makeVenv({ base: tsanTarget, dir: path.join(dir, 'tsan'), install: [project] });
}, 600_000);

describe('readiness of a C extension', () => {
  it('builds it with pip into a release and a TSan venv, the TSan build instrumented, and reuses a venv of the same interpreter', async () => {
    const [rel] = await extensionFiles(await probeTarget(release.python, 'flag'), 'ftfuzz_racy');
    const venvTarget = await probeTarget(tsan.python, 'flag');
    const [ts] = await extensionFiles(venvTarget, 'ftfuzz_racy');
    expect(rel).toMatch(/ftfuzz_racy\.cpython-313t-x86_64-linux-gnu\.so$/);
    expect(await isTsanInstrumented(rel as string)).toBe(false);
    expect(await isTsanInstrumented(ts as string)).toBe(true);
    // A venv of the TSan interpreter finds its base's CPython suppressions (sys.base_prefix, not the venv).
    expect(venvTarget.tsanSuppressions).toBe(tsanTarget.tsanSuppressions);
    // Again: the same venv (no error); another interpreter's: refused in one line.
    await expect(makeVenv({ base: tsanTarget, dir: tsan.dir })).resolves.toMatchObject({ python: tsan.python });
    await expect(makeVenv({ base: await probeTarget(inject('ftPython'), 'flag'), dir: tsan.dir })).rejects.toThrow(/is a venv of .*, not of /);
  });

  it('reports the race in the extension\'s own function and lines, with its GIL declaration and what was exercised (exit 1)', async () => {
    const r = await cli(['fuzz', '--module', 'ftfuzz_racy', '--python', tsan.python, '--runs', '3', '--seed', 'racy', '--repro-trials', '2', '--json', 'stats.json', '--surface-share', '0', '--readiness-minimize', '20s'], dir);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/^readiness of ftfuzz_racy: FOUND \d+ famil/m);
    expect(r.out).toMatch(/GIL: kept off on import: its C modules declare Py_mod_gil_not_used/);
    expect(r.out).toMatch(/ftfuzz_racy\.cpython-313t-x86_64-linux-gnu\.so \(TSan-instrumented\)/);
    const { readiness } = JSON.parse(await fs.readFile(path.join(dir, 'stats.json'), 'utf8')) as { readiness: ReadinessReport };
    expect(readiness.verdict).toBe('found');
    expect(readiness.gilKeptOff).toBe(true);
    expect(readiness.calls).toMatchObject({ generated: 1, exercised: 1 });
    const race = readiness.families.find((f) => f.kind === 'race');
    expect(race?.where).toBe('extension');
    expect(race?.frames).toContain('counter_increment [ftfuzz_racy]');
    // The title names the extension's source lines (the signature does not: lines move with every edit).
    expect(race?.title).toMatch(/counter_increment \[ftfuzz_racy\] \(ftfuzz_racy\.c:\d+\)/);
    // Minimized within its budget (20 s: TSan runs make few candidates, so it may not shrink): the report points at
    // repro.min.py, which still makes the counter race.
    expect(race?.reproducer).toMatch(/repro\.min\.py$/);
    const min = await fs.readFile(race?.reproducer as string, 'utf8');
    expect(min).toMatch(/ftfuzz_racy\.Counter\(\)/);
    expect(min.split('\n').length).toBeLessThanOrEqual((await fs.readFile(path.join(path.dirname(race?.reproducer as string), 'repro.py'), 'utf8')).split('\n').length);
  }, 600_000);

  it('says so when nothing was exercised: no call returned (exit 6)', async () => {
    const r = await cli(['fuzz', '--module', 'always_raises', '--runs', '2', '--seed', 'none', '--repro-trials', '0', '--surface-share', '0', '--crashes', 'c2', '--corpus', 'k2'], dir, { ...process.env, PYTHONPATH: fixtures });
    expect(r.code, r.out).toBe(6);
    expect(r.out).toMatch(/readiness of always_raises: NOTHING EXERCISED/);
    expect(r.out).toMatch(/exercised: 0\/\d+ module-mode calls returned/);
  }, 300_000);
});
