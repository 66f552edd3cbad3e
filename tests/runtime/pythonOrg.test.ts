// The path a user's machine takes to an interpreter (3.14 from python.org), against a loopback HTTP server
// with python.org's layout: the release directory's listing, `3.X.Y/Python-3.X.Y.tar.xz` beneath it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extract, readPatchlevel } from '../../src/runtime/provision/build.js';
import { pythonOrgCandidates } from '../../src/runtime/provision/sources.js';

let server: http.Server;
let tarball: Buffer;
const requests: string[] = [];
const saved = process.env.FTFUZZ_PYTHON_ORG;

beforeAll(async () => {
  // A CPython source tarball's layout: Python-3.14.9/ with Include/patchlevel.h declaring its version.
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-pyorg-'));
  await fs.mkdir(path.join(dir, 'Python-3.14.9', 'Include'), { recursive: true });
  await fs.writeFile(path.join(dir, 'Python-3.14.9', 'Include', 'patchlevel.h'), '#define PY_MAJOR_VERSION 3\n#define PY_VERSION      "3.14.9"\n');
  await fs.writeFile(path.join(dir, 'Python-3.14.9', 'configure'), '#!/bin/sh\n');
  execFileSync('tar', ['cJf', path.join(dir, 'Python-3.14.9.tar.xz'), '-C', dir, 'Python-3.14.9']);
  tarball = await fs.readFile(path.join(dir, 'Python-3.14.9.tar.xz'));
  const listing = ['2.7.18', '3.12.11', '3.13.15', '3.14.0', '3.14.9', '3.15.0'].map((v) => `<a href="${v}/">${v}/</a>`).join('\n');
  server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/ftp/python/') res.end(`<html><body><pre>\n<a href="../">../</a>\n${listing}\n</pre></body></html>`);
    else if (req.url === '/ftp/python/3.14.9/Python-3.14.9.tar.xz') res.end(tarball);
    else res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.env.FTFUZZ_PYTHON_ORG = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ftp/python/`;
});

afterAll(async () => {
  if (saved === undefined) delete process.env.FTFUZZ_PYTHON_ORG;
  else process.env.FTFUZZ_PYTHON_ORG = saved;
  await new Promise((resolve) => server.close(resolve));
});

const log = () => {
  const file = path.join(os.tmpdir(), `ftfuzz-pyorg-${process.pid}.log`);
  return { stream: createWriteStream(file), path: file };
};

describe('python.org sources', () => {
  it('lists the releases of the series asked for from the directory listing', async () => {
    const found = await pythonOrgCandidates({ kind: 'series', series: ['3.14', '3.13'] });
    expect(found.map((c) => c.version).sort()).toEqual(['3.13.15', '3.14.0', '3.14.9']);
    expect(found.every((c) => c.description.startsWith('python.org tarball Python-'))).toBe(true);
    // An exact version asks no listing.
    expect((await pythonOrgCandidates({ kind: 'exact', version: '3.14.9' })).map((c) => c.version)).toEqual(['3.14.9']);
  });

  it('downloads a release\'s tarball byte for byte, and its tree declares the version', async () => {
    const [candidate] = await pythonOrgCandidates({ kind: 'exact', version: '3.14.9' });
    const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-pyorg-work-'));
    const file = await candidate?.fetch(work, log());
    expect(file).toBe(path.join(work, 'Python-3.14.9.tar.xz'));
    const got = await fs.readFile(file as string);
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(tarball).digest('hex'));
    expect(requests).toContain('/ftp/python/3.14.9/Python-3.14.9.tar.xz');
    const tree = await extract(file as string, path.join(work, 'src'), log());
    expect(await readPatchlevel(tree as string)).toBe('3.14.9');
  });

  it('a release the server does not have is no candidate tarball; an unreachable server is no candidates', async () => {
    const [missing] = await pythonOrgCandidates({ kind: 'exact', version: '3.13.15' });
    expect(await missing?.fetch(await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-pyorg-work-')), log())).toBeNull();
    const here = process.env.FTFUZZ_PYTHON_ORG;
    process.env.FTFUZZ_PYTHON_ORG = 'http://127.0.0.1:1/ftp/python';
    try {
      expect(await pythonOrgCandidates({ kind: 'series', series: ['3.14'] })).toEqual([]);
    } finally {
      process.env.FTFUZZ_PYTHON_ORG = here;
    }
  });
});
