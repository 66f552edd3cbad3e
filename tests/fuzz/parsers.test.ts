// The parsers of what a dying process printed (faulthandler and gdb output, protocol lines, tracebacks)
// and of files a campaign left (meta.json, scenario headers), fuzzed with jsfuzz for a bounded number of
// executions inside `npm test`; every seed (and every input jsfuzz once found) replayed in-process first. jsfuzz instruments
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
// The run ends after this many executions (about 15 s on one free core), not after a time: a loaded
// machine makes it slower, never failing. The cap only stops a run that stalls.
const FUZZ_EXECS = Number(process.env.FTFUZZ_FUZZ_EXECS ?? 2000);
const CAP_SECONDS = 150;

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

  it(`find nothing in ${FUZZ_EXECS} coverage-guided executions`, async () => {
    const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-jsfuzz-'));
    const corpus = path.join(work, 'corpus');
    await fs.cp(seeds, corpus, { recursive: true });
    // jsfuzz resolves the target relative to its working directory. Its versifier is off: jsfuzz 1.0.15
    // rebuilds the verse with an Array.concat per node (quadratic) and feeds its own rhymes back into it,
    // so within ~20 executions on these text seeds its main process stalls, then dies out of heap (3.5 GB).
    const targetRel = path.relative(work, path.join(here, 'parsers.cjs'));
    const args = [path.join(root, 'node_modules', 'jsfuzz', 'build', 'src', 'index.js'), targetRel, corpus, '--rss-limit-mb', '1024', '--versifier', 'false'];
    const child = spawn(process.execPath, args, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let execs = 0;
    const ended = new Promise<void>((resolve) => child.on('close', () => resolve()));
    const reached = new Promise<void>((resolve) => {
      const onData = (c: Buffer) => {
        const text = c.toString();
        out += text;
        // jsfuzz prints "#<executions> NEW|PULSE ..." lines.
        for (const m of text.matchAll(/^#(\d+) /gm)) execs = Math.max(execs, Number(m[1]));
        if (execs >= FUZZ_EXECS) resolve();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
    });
    const cap = new Promise((r) => setTimeout(r, CAP_SECONDS * 1000).unref());
    await Promise.race([ended, reached, cap]);
    child.kill('SIGINT');
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    await ended;
    clearTimeout(force);
    const crashes = (await fs.readdir(work)).filter((n) => n.startsWith('crash-'));
    const inputs = await Promise.all(crashes.map((n) => fs.readFile(path.join(work, n), 'utf8')));
    expect(crashes, `jsfuzz found inputs that crash a parser (add them to tests/fuzz/seeds once fixed):\n${inputs.join('\n---\n')}\n${out.slice(-3000)}`).toEqual([]);
    expect(execs, `jsfuzz stalled before ${FUZZ_EXECS} executions in ${CAP_SECONDS} s:\n${out.slice(-2000)}`).toBeGreaterThanOrEqual(FUZZ_EXECS);
    // Coverage feedback works: it grows past what the seeds alone reach (it would stay flat if the
    // instrumentation failed, as it does on the ESM build).
    const covs = [...out.matchAll(/ cov: (\d+) /g)].map((m) => Number(m[1])).filter((n) => n > 0);
    expect(covs.length, out.slice(-2000)).toBeGreaterThan(1);
    expect(Math.max(...covs)).toBeGreaterThan(covs[0] ?? 0);
    // Our CommonJS build must be instrumented; an ESM dependency in node_modules (p-limit, pulled in by the
    // report and triage the target renders metas through) cannot be and need not be.
    expect(out).not.toMatch(/Transformation error for \S*build\/fuzz\//);
    await fs.rm(work, { recursive: true, force: true });
  }, (CAP_SECONDS + 60) * 1000);
});
