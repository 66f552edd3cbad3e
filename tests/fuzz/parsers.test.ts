// The parsers of what a dying process printed (faulthandler and gdb output, protocol lines, tracebacks)
// and of files a campaign left (meta.json, scenario headers), fuzzed with jsfuzz for a bounded time inside
// `npm test`; every seed (and every input jsfuzz once found) replayed in-process first. jsfuzz instruments
// CommonJS only, so it fuzzes the CommonJS build of these modules (tests/fuzz/buildCjs.ts).
import { spawn } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildFuzzCjs } from './buildCjs.js';

const here = import.meta.dirname;
const root = path.join(here, '..', '..');
const seeds = path.join(here, 'seeds');
const FUZZ_SECONDS = Number(process.env.FTFUZZ_FUZZ_SECONDS ?? 20);

beforeAll(async () => {
  await buildFuzzCjs();
}, 120_000);

describe('parsers under jsfuzz', () => {
  it('take every seed and past finding without an unnamed error', async () => {
    const target = createRequire(import.meta.url)(path.join(here, 'parsers.cjs')) as { fuzz: (b: Buffer) => void };
    const names = await fs.readdir(seeds);
    expect(names.length).toBeGreaterThan(5);
    for (const name of names) expect(() => target.fuzz(readFileSync(path.join(seeds, name))), name).not.toThrow();
  });

  it(`find nothing in a bounded ${FUZZ_SECONDS} s coverage-guided run`, async () => {
    const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-jsfuzz-'));
    const corpus = path.join(work, 'corpus');
    await fs.cp(seeds, corpus, { recursive: true });
    // jsfuzz resolves the target relative to its working directory.
    const targetRel = path.relative(work, path.join(here, 'parsers.cjs'));
    const child = spawn(process.execPath, [path.join(root, 'node_modules', 'jsfuzz', 'build', 'src', 'index.js'), targetRel, corpus, '--rss-limit-mb', '1024'], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const ended = new Promise<void>((resolve) => child.on('close', () => resolve()));
    await Promise.race([ended, new Promise((r) => setTimeout(r, FUZZ_SECONDS * 1000))]);
    child.kill('SIGINT');
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    await ended;
    clearTimeout(force);
    const crashes = (await fs.readdir(work)).filter((n) => n.startsWith('crash-'));
    const inputs = await Promise.all(crashes.map((n) => fs.readFile(path.join(work, n), 'utf8')));
    expect(crashes, `jsfuzz found inputs that crash a parser (add them to tests/fuzz/seeds once fixed):\n${inputs.join('\n---\n')}\n${out.slice(-3000)}`).toEqual([]);
    const execs = Math.max(0, ...[...out.matchAll(/^#(\d+) /gm)].map((m) => Number(m[1])));
    expect(execs, out.slice(-2000)).toBeGreaterThan(100);
    // Coverage feedback works (it would stay flat if the instrumentation failed, as it does on the ESM build).
    expect(out).not.toMatch(/Transformation error/);
    await fs.rm(work, { recursive: true, force: true });
  }, (FUZZ_SECONDS + 60) * 1000);
});
