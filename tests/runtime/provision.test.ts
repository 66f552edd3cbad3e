import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { DEFAULT_SERIES, debSrcStanzas, installPython, parseVersionSpec } from '../../src/runtime/provision.js';
import { cachedInterpreterPaths } from '../../src/runtime/targets.js';

describe('parseVersionSpec', () => {
  it('reads series, exact releases and the default', () => {
    expect(parseVersionSpec('3.13')).toEqual({ kind: 'series', series: ['3.13'] });
    expect(parseVersionSpec('3.13.5')).toEqual({ kind: 'exact', version: '3.13.5' });
    expect(parseVersionSpec(undefined)).toEqual({ kind: 'series', series: DEFAULT_SERIES });
  });
  it('rejects anything else with a usage error naming the option', () => {
    expect(() => parseVersionSpec('latest')).toThrow(/--version latest/);
    expect(() => parseVersionSpec('3.13.5rc1')).toThrow(UsageError);
  });
});

describe('debSrcStanzas', () => {
  const uris = [
    { uri: 'http://deb.debian.org/debian', suites: ['bookworm', 'bookworm-updates'], signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg' },
    { uri: 'http://deb.debian.org/debian-security', suites: ['bookworm-security'], signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg' },
  ];
  it('adds newer Debian suites from the machine\'s own URIs, deb-src only', () => {
    const [main, security] = debSrcStanzas(uris, 'bookworm');
    expect(main).toContain('Types: deb-src');
    expect(main).toContain('URIs: http://deb.debian.org/debian\n');
    expect(main).toContain('Suites: bookworm bookworm-updates trixie trixie-updates forky sid');
    expect(main).toContain('Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg');
    expect(security).toContain('Suites: bookworm-security trixie-security');
  });
  it('keeps the machine\'s suites where it does not know the codename order (Ubuntu)', () => {
    const [only] = debSrcStanzas([{ uri: 'http://archive.ubuntu.com/ubuntu', suites: ['plucky', 'plucky-updates'], signedBy: null }], 'plucky');
    expect(only).toContain('Suites: plucky plucky-updates');
    expect(only).not.toContain('Signed-By');
  });
});

describe('installPython input errors', () => {
  it('names a missing --source tarball and what to pass instead', async () => {
    const cacheRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-cache-'));
    await expect(installPython({ source: '/nonexistent/Python-3.13.5.tar.xz', cacheRoot, log: () => undefined })).rejects.toThrow(
      /--source \/nonexistent\/Python-3\.13\.5\.tar\.xz: no such file/,
    );
  });
  it('rejects a tarball that is not CPython, saying what was tried', async () => {
    const cacheRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-cache-'));
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-src-'));
    await fs.mkdir(path.join(dir, 'Python-0.0.0'));
    await fs.writeFile(path.join(dir, 'Python-0.0.0', 'README'), 'not python');
    const { execFileSync } = await import('node:child_process');
    const tarball = path.join(dir, 'fake.tar.gz');
    execFileSync('tar', ['czf', tarball, '-C', dir, 'Python-0.0.0']);
    await expect(installPython({ source: tarball, cacheRoot, log: () => undefined })).rejects.toThrow(/not a CPython source tree/);
    // Nothing half-built is left for discovery to pick up.
    expect(await cachedInterpreterPaths(cacheRoot)).toEqual([]);
  });
});
