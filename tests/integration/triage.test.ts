// Triage and replay on real interpreters: a fabricated store (buckets recorded from real crashing runs,
// plus a malformed one) and corpus, replayed across two CPython versions; affected versions; minimization.
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { checkProgram } from '../../src/check.js';
import { probeTarget } from '../../src/runtime/targets.js';
import { CrashStore, type BucketMeta } from '../../src/store/crashStore.js';
import type { ReplayEntry } from '../../src/triage/replay.js';
import { measureRate } from '../../src/trials/rate.js';
import { triageStore } from '../../src/triage/session.js';
import { ExitCode, type Target } from '../../src/types.js';

const fixture = (name: string) => path.join(import.meta.dirname, '..', 'fixtures', name);
const cli = path.join(import.meta.dirname, '..', '..', 'bin', 'ftfuzz.js');
const ftfuzz = (args: string[], cwd: string) => spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', timeout: 600_000 });

/** Record a bucket the way a campaign does: from a real run of the program that showed the finding. */
async function recordFrom(store: CrashStore, file: string, target: Target): Promise<string> {
  const report = await checkProgram({ file, targets: [target], modes: ['gil-off'], runs: 1, plain: true });
  const finding = report.findings.find((f) => f.kind === 'crash');
  if (!finding) throw new Error(`${file} did not crash on ${target.label}: ${JSON.stringify(report.runs[0]?.termination)}`);
  const { bucket } = await store.record({ finding, source: await fs.readFile(file, 'utf8'), target, stderrTail: report.runs[0]?.stderrTail ?? '' });
  return bucket;
}

describe('replay, triage and minimize', () => {
  let dir: string;
  let store: CrashStore;
  let oldT: Target;
  let newT: Target;
  const buckets: Record<string, string> = {};

  beforeAll(async () => {
    oldT = await probeTarget(inject('ftPythonOld'), 'flag');
    newT = await probeTarget(inject('ftPython'), 'flag');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-triage-'));
    store = new CrashStore(path.join(dir, 'crashes'));
    // The flaky program counts its runs in its own directory: record it from a scratch copy.
    const scratch = path.join(dir, 'scratch');
    await fs.mkdir(scratch);
    for (const name of ['crash_old_only.py', 'crash_flaky.py', 'crash_padded.py']) await fs.copyFile(fixture(`replay/${name}`), path.join(scratch, name));
    buckets.old = await recordFrom(store, path.join(scratch, 'crash_old_only.py'), oldT);
    // As a campaign does: its rate, measured. A deterministic crash, 10/10: its 95% lower bound (74%) is
    // ruled out by 3 clean trials, so `fixed` takes 3 (the point estimate, 100%, took 1).
    await measureRate(store, buckets.old, (await store.read(buckets.old)) as BucketMeta, oldT, { trials: 10, timeoutMs: 60_000, flakyBelow: 0.5 });
    buckets.flaky = await recordFrom(store, path.join(scratch, 'crash_flaky.py'), oldT);
    buckets.padded = await recordFrom(store, path.join(scratch, 'crash_padded.py'), newT);
    // A bucket whose meta.json was damaged, and a corpus with a clean, a failing and a malformed program.
    await fs.mkdir(path.join(dir, 'crashes', 'crash-0000deadbeef'));
    await fs.writeFile(path.join(dir, 'crashes', 'crash-0000deadbeef', 'repro.py'), 'print(1)\n');
    await fs.writeFile(path.join(dir, 'crashes', 'crash-0000deadbeef', 'meta.json'), '{"signature": "crash|x", "kind": ');
    await fs.mkdir(path.join(dir, 'corpus'));
    await fs.copyFile(fixture('programs/clean.py'), path.join(dir, 'corpus', 'clean.py'));
    await fs.copyFile(fixture('replay/system_error.py'), path.join(dir, 'corpus', 'system_error.py'));
    await fs.copyFile(fixture('replay/bad_header.py'), path.join(dir, 'corpus', 'bad_header.py'));
  });

  it('replays corpus/ and crashes/ on two versions with a status per file and interpreter, and JUnit XML', async () => {
    // The padded crash is for the minimizer; replay the others.
    await fs.rename(store.dir(buckets.padded as string), path.join(dir, 'padded-bucket'));
    const r = ftfuzz(['replay', 'corpus', 'crashes', '--python', oldT.path, '--python', newT.path, '--trials', '3', '--jobs', '1', '--json', '--junit', 'replay.xml'], dir);
    await fs.rename(path.join(dir, 'padded-bucket'), store.dir(buckets.padded as string));
    expect(r.status, r.stderr).toBe(ExitCode.Findings);
    const entries = JSON.parse(r.stdout) as ReplayEntry[];
    const status = (file: string, t: Target) => entries.find((e) => e.file.endsWith(file) && (e.status === 'error' || e.interpreterPath === t.path))?.status;
    const repro = (b: string) => path.join(b, 'repro.py');
    expect(status(repro(buckets.old as string), oldT)).toBe('still-failing');
    expect(status(repro(buckets.old as string), newT)).toBe('fixed');
    expect(status(repro(buckets.flaky as string), oldT)).toBe('flaky');
    expect(status(repro(buckets.flaky as string), newT)).toBe('flaky');
    expect(status('clean.py', oldT)).toBe('pass');
    expect(status('clean.py', newT)).toBe('pass');
    expect(status('system_error.py', oldT)).toBe('new-failure');
    expect(status('system_error.py', newT)).toBe('new-failure');
    // Malformed files are named, once, and did not stop the rest.
    const errors = entries.filter((e) => e.status === 'error');
    expect(errors.map((e) => path.basename(path.dirname(e.file)) + '/' + path.basename(e.file)).sort()).toEqual(['corpus/bad_header.py', 'crash-0000deadbeef/meta.json']);
    expect(errors.find((e) => e.file.endsWith('bad_header.py'))?.detail).toMatch(/bad_header\.py: has a malformed scenario header/);
    expect(errors.find((e) => e.file.endsWith('meta.json'))?.detail).toMatch(/not valid JSON/);
    expect(r.stderr).toMatch(/still-failing 1, new-failure 2, flaky 2, fixed 1, inconclusive 0, not-applicable 0, pass 2, error 2/);
    const xml = await fs.readFile(path.join(dir, 'replay.xml'), 'utf8');
    expect(xml).toMatch(/<testsuite name="ftfuzz replay on CPython 3\.13\.5t" time="[\d.]+" tests="6" failures="3" errors="2"/);
    expect(xml).toMatch(/<testsuite name="ftfuzz replay on CPython 3\.13\.15t" time="[\d.]+" tests="4" failures="2" errors="0"/);
  });

  it('says inconclusive, never fixed or not affected, for a bucket recorded 2/10 after 3 clean trials', async () => {
    const copy = path.join(dir, 'rare', 'crash-20pct');
    await fs.mkdir(path.dirname(copy), { recursive: true });
    await fs.cp(store.dir(buckets.old as string), copy, { recursive: true });
    const meta = JSON.parse(await fs.readFile(path.join(copy, 'meta.json'), 'utf8')) as BucketMeta;
    meta.reproduction = { interpreter: oldT.label, modes: ['gil-off'], trials: 10, hits: 2, rate: 0.2, flaky: true, measuredAt: meta.firstSeen };
    await fs.writeFile(path.join(copy, 'meta.json'), JSON.stringify(meta));
    const r = ftfuzz(['replay', copy, '--python', newT.path, '--trials', '3', '--max-trials', '3'], dir);
    // 2/10 only says the rate is at least 3.7% (95% lower bound): ruling that out takes 80 clean trials.
    expect(r.stdout).toMatch(/^inconclusive\s.*0\/3.*at least 3\.7%.*takes 80 clean trials/m);
    expect(r.status, r.stderr).toBe(ExitCode.Clean);
    const v = ftfuzz(['triage', '--crashes', path.dirname(copy), '--versions', '--trials', '3', '--max-trials', '3', '--python', newT.path, '--json'], dir);
    const versions = (JSON.parse(v.stdout) as { buckets: { meta: BucketMeta }[] }).buckets[0]?.meta.versions ?? {};
    expect(Object.values(versions).map((x) => [x.trials, x.status])).toEqual([[3, 'inconclusive']]);
    // Given the trials it needs, the same replay earns its `fixed`, and says what it ruled out.
    const enough = ftfuzz(['replay', copy, '--python', newT.path, '--trials', '3', '--max-trials', '80'], dir);
    expect(enough.stdout).toMatch(/^fixed\s.*0\/80.*a rate of 3\.7% or more .* is ruled out at 95%/m);
  });

  it('exits clean (0) when every reproducer is fixed, and names a missing path', () => {
    const fixedOnly = ftfuzz(['replay', path.join('crashes', buckets.old as string), '--python', newT.path, '--trials', '1'], dir);
    expect(fixedOnly.status, fixedOnly.stderr).toBe(ExitCode.Clean);
    // Asked for 1 trial, it ran the 3 the recorded 10/10 needs before calling it fixed.
    expect(fixedOnly.stdout).toMatch(/^fixed\s+crashes\/crash-\w+\/repro\.py.* crash 0\/3/m);
    const missing = ftfuzz(['replay', 'nowhere', '--python', newT.path], dir);
    expect(missing.status).toBe(ExitCode.Input);
    expect(missing.stdout).toMatch(/nowhere.*does not exist/);
  });

  it('triage --measure records the rate, --versions which interpreters a bucket affects', () => {
    const r = ftfuzz(['triage', '--measure', '--versions', '--bucket', buckets.old as string, '--trials', '2', '--python', oldT.path, '--python', newT.path], dir);
    expect(r.status, r.stderr).toBe(ExitCode.Input); // the malformed bucket is reported
    // --measure: the rate on the bucket's own interpreter (3.13.5t), always reproducing, with its interval and how.
    expect(r.stdout).toMatch(/rate: 2\/2 \(100%, 95% CI 16-100%\) \[plain runs, \d+ s limit, alone/);
    expect(r.stdout).toMatch(/3\.13\.5t: affected 2\/2/);
    // Absent on 3.13.15t: 2/2 says at least 22%, which 12 clean trials rule out (not the 2 asked for).
    expect(r.stdout).toMatch(/3\.13\.15t: not affected 0\/12/);
    // Led by its family.
    expect(r.stdout).toMatch(/^fam-[0-9a-f]{8} {2}crash /m);
    expect(r.stdout).toMatch(/malformed crash-0000deadbeef: .*not valid JSON/);
  });

  it('triage --bisect: fixed between the release it was found on and the newest, each step judged with trials and a p-value, the untested releases named', async () => {
    const name = buckets.old as string;
    // The found-on release shows it every time (the rate the steps' absence claims rest on).
    await measureRate(store, name, (await store.read(name)) as BucketMeta, oldT, { trials: 5, timeoutMs: 30_000, flakyBelow: 0.5 });
    const tried: string[] = [];
    const { buckets: after } = await triageStore(store, {
      only: [name],
      // Only the two releases installed here: 3.13.6 ... 3.13.14 cannot be had (building them is minutes each).
      bisect: { newestOf: () => Promise.resolve(newT.version), targetFor: (release) => { tried.push(release); return Promise.resolve(release === newT.version ? newT : null); }, maxTrials: 12 },
    });
    const b = after.find((x) => x.bucket === name)?.meta.bisection;
    expect(b).toBeDefined();
    expect(b?.from).toBe(oldT.version);
    expect(b?.to).toBe(newT.version);
    // The newest first: fixed there, significantly (10 or more rounds, each release interleaved with the control).
    expect(b?.steps[0]).toMatchObject({ release: newT.version, claim: 'fixed-between' });
    expect(b?.steps[0]?.old.hits).toBeGreaterThanOrEqual(10);
    expect(b?.steps[0]?.new.hits).toBe(0);
    expect(b?.steps[0]?.p ?? 1).toBeLessThan(0.05);
    // Every release in between was asked for, none could be had: the first fix is one of them, not claimed.
    expect(tried).toContain('3.13.6');
    expect(b?.firstFixed).toBeNull();
    expect(b?.lastAffected).toBe(oldT.version);
    expect(b?.why).toMatch(/could not be obtained, so the first fix is one of 3\.13\.6, .*3\.13\.15/);
  }, 300_000);

  it('minimize shrinks a reproducer by AST reduction; repro.min.py still crashes with plain python', async () => {
    const r = ftfuzz(['minimize', buckets.padded as string, '--trials', '1', '--budget', '5m'], dir);
    expect(r.status, r.stderr).toBe(ExitCode.Clean);
    expect(r.stdout).toMatch(/repro\.min\.py: \d+ -> \d+ lines/);
    const meta = (await store.read(buckets.padded as string)) as BucketMeta;
    expect(meta.minimized?.linesAfter).toBeLessThanOrEqual(4);
    // Its own rate, measured after the reduction: later claims rest on it, not on the acceptance test.
    expect(meta.minimized?.reproduction).toMatchObject({ trials: 10, hits: 10 });
    expect(r.stdout).toMatch(/its own rate 10\/10/);
    expect(meta.minimized?.linesBefore).toBeGreaterThan(20);
    const min = await fs.readFile(path.join(store.dir(buckets.padded as string), 'repro.min.py'), 'utf8');
    expect(min).toMatch(/os\.abort\(\)/);
    expect(min).not.toMatch(/json\.dumps/);
    const plain = spawnSync(newT.path, ['repro.min.py'], { cwd: store.dir(buckets.padded as string), env: { ...process.env, PYTHON_GIL: '0' } });
    expect(plain.signal).toBe('SIGABRT');
  });
});
