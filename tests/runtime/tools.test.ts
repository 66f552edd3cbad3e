import { mkdtempSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../src/errors.js';
import { sweepAbandonedWorkDirs } from '../../src/runtime/provision.js';
import { ensureTools, missingTools, type ToolProbe } from '../../src/runtime/provision/tools.js';

/** A machine with exactly these commands and Debian packages. */
function machine(commands: string[], pkgs: string[] | null = []): ToolProbe & { add: (c: string[], p: string[]) => void } {
  const have = new Set(commands);
  const installed = pkgs === null ? null : new Set(pkgs);
  return {
    which: (c) => (have.has(c) ? `/usr/bin/${c}` : null),
    dpkgInstalled: (p) => Promise.resolve(installed === null ? null : installed.has(p)),
    add: (c, p) => {
      for (const x of c) have.add(x);
      for (const x of p) installed?.add(x);
    },
  };
}

const BUILD_LIBS = ['libffi-dev', 'zlib1g-dev', 'libssl-dev', 'libbz2-dev', 'liblzma-dev', 'libsqlite3-dev', 'libreadline-dev', 'uuid-dev'];
/** Debian packages without commands that are installed on the machines below (setuptools' wheel: readiness venvs). */
const LIBS = [...BUILD_LIBS, 'python3-setuptools-whl'];
const BASE = ['cc', 'make', 'pkg-config', 'gdb', 'setpriv', 'prlimit', 'setarch', 'llvm-symbolizer'];

describe('tools a purpose needs', () => {
  it('names exactly the missing packages of the purpose, alternatives counted', async () => {
    const m = machine([...BASE, 'chromium-browser'], LIBS);
    expect((await missingTools('tests', m)).map((t) => t.pkg)).toEqual(['clang', 'redis-server']);
    expect((await missingTools('campaign', m)).map((t) => t.pkg)).toEqual([]);
    expect((await missingTools('tsan', m)).map((t) => t.pkg)).toEqual(['clang']);
    // Readiness venvs need setuptools' wheel when no newer one can be built (ftfuzz python venv).
    expect((await missingTools('venv', machine(BASE, BUILD_LIBS))).map((t) => t.pkg)).toEqual(['python3-setuptools-whl']);
    expect((await missingTools('venv', m)).map((t) => t.pkg)).toEqual([]);
    // Not a Debian machine: library packages cannot be checked and are not demanded.
    expect((await missingTools('build', machine(BASE, null))).map((t) => t.pkg)).toEqual([]);
    expect((await missingTools('build', machine(BASE, ['zlib1g-dev']))).map((t) => t.pkg)).toContain('libffi-dev');
  });

  it('without root stops before any work with one line naming the command that installs them', async () => {
    const m = machine(BASE, LIBS);
    let installs = 0;
    const error = await ensureTools({
      purpose: 'tests', probe: m, isRoot: false, aptGet: true, log: () => undefined,
      runInstall: () => { installs++; return Promise.resolve({ code: 0, output: '' }); },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toContain('sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y clang redis-server chromium');
    expect(installs).toBe(0);
  });

  it('as root installs the missing packages with apt-get, and checks they took', async () => {
    const m = machine(BASE, LIBS);
    const asked: string[][] = [];
    const installed = await ensureTools({
      purpose: 'tests', probe: m, isRoot: true, aptGet: true, log: () => undefined,
      runInstall: (pkgs) => { asked.push(pkgs); m.add(['clang', 'clang++', 'redis-server', 'chromium'], []); return Promise.resolve({ code: 0, output: '' }); },
    });
    expect(asked).toEqual([['clang', 'redis-server', 'chromium']]);
    expect(installed).toEqual(['clang', 'redis-server', 'chromium']);
    // A second call finds everything and does nothing.
    expect(await ensureTools({ purpose: 'tests', probe: m, isRoot: true, aptGet: true, runInstall: () => Promise.reject(new Error('not called')) })).toEqual([]);
  });

  it('reports an apt-get failure and a package that installed but is still not usable', async () => {
    const m = machine(BASE, LIBS);
    await expect(ensureTools({ purpose: 'fleet', probe: m, isRoot: true, aptGet: true, log: () => undefined, runInstall: () => Promise.resolve({ code: 100, output: 'E: Unable to locate package redis-server' }) }))
      .rejects.toThrow(/apt-get could not install redis-server \(exit 100: E: Unable to locate package redis-server\)/);
    await expect(ensureTools({ purpose: 'fleet', probe: m, isRoot: true, aptGet: true, log: () => undefined, runInstall: () => Promise.resolve({ code: 0, output: '' }) }))
      .rejects.toThrow(/redis-server still is not usable/);
  });
});

describe('interrupted builds', () => {
  it('removes the work directories of builds whose process is gone, and only those', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'ftfuzz-sweep-'));
    mkdirSync(path.join(root, `work-${process.pid}-abc`));
    mkdirSync(path.join(root, 'work-999999999-def'));
    mkdirSync(path.join(root, 'work-Xy12Qz'));
    mkdirSync(path.join(root, 'unrelated'));
    expect((await sweepAbandonedWorkDirs(root)).sort()).toEqual(['work-999999999-def', 'work-Xy12Qz']);
    expect(readdirSync(root).sort()).toEqual(['unrelated', `work-${process.pid}-abc`]);
  });
});

describe('dependencies', () => {
  it("every locked package's engines admit the oldest Node.js ftfuzz supports", () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { version?: string; engines?: { node?: string } | string[] }> };
    const oldest = semver.minVersion(pkg.engines.node)?.version ?? '';
    expect(oldest).not.toBe('');
    const refused = Object.entries(lock.packages)
      .filter(([, p]) => p.engines && !Array.isArray(p.engines) && p.engines.node && !semver.satisfies(oldest, p.engines.node))
      .map(([name, p]) => `${name}@${p.version ?? ''} needs node ${(p.engines as { node: string }).node}`);
    expect(refused).toEqual([]);
  });
});
