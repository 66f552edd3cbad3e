// Native stacks on real interpreters: gdb reads the core of a crash and samples a hang before the kill.
// The planted extension's C-level bugs (tests/fixtures/planted/ftfuzz_planted.c) give each hang class and
// two crashes that only their C frames tell apart; a SIGKILLed runner leaves no target process behind.
import { spawn } from 'node:child_process';
import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { checkProgram } from '../../src/check.js';
import { buildExtension } from '../../src/runtime/extension.js';
import { formatStackFile, nativeSupport } from '../../src/runtime/nativeStacks.js';
import { SpawnExecutor } from '../../src/runtime/spawnExecutor.js';
import { probeTarget } from '../../src/runtime/targets.js';
import type { Target } from '../../src/types.js';

const dir = path.join(import.meta.dirname, '..', 'fixtures', 'native');
const fixture = (name: string) => path.join(dir, name);
const root = path.join(import.meta.dirname, '..', '..');
let target: Target;
let ext = '';

beforeAll(async () => {
  target = await probeTarget(inject('ftPython'), 'flag');
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-native-'));
  ext = await buildExtension(target, path.join(import.meta.dirname, '..', 'fixtures', 'planted', 'ftfuzz_planted.c'), tmp);
});

const check = (name: string, timeoutMs: number, spawnExecutor = false) =>
  // These programs are known to hang: a finish window of 2x the limit proves it as well as a minute would.
  checkProgram({ file: fixture(name), targets: [target], modes: ['gil-off'], runs: 1, jobs: 1, timeoutMs, env: { PYTHONPATH: ext }, executor: spawnExecutor ? new SpawnExecutor() : undefined, finishWindow: { minMs: 2 * timeoutMs } });

describe('native stacks (gdb)', () => {
  it('has gdb and readable core files here (CI installs gdb)', () => {
    expect(nativeSupport().gdb).not.toBeNull();
    expect(nativeSupport().note).toBeNull();
  });

  it('signs two crashes by their C functions, though their Python shapes are the same, on both executors', async () => {
    const sigs: string[] = [];
    for (const spawnExecutor of [false, true]) {
      for (const name of ['crash_a.py', 'crash_b.py']) {
        const report = await check(name, 20_000, spawnExecutor);
        const crash = report.findings.find((f) => f.kind === 'crash');
        expect(crash?.signature, name).toContain(`c:planted_crash_${name[6]}`);
        expect(crash?.native?.frames[0]).toMatch(/^planted_crash_[ab] \(.*ftfuzz_planted\.c:\d+\)$/);
        const run = report.runs[0];
        expect(run?.native?.source).toBe('core');
        expect(formatStackFile(run?.native, '')).toContain(`planted_crash_${name[6]}`);
        sigs.push(crash?.signature ?? '');
      }
    }
    // Same bug, same signature on both executors; different bugs, different signatures.
    expect(sigs[0]).toBe(sigs[2]);
    expect(sigs[1]).toBe(sigs[3]);
    expect(sigs[0]).not.toBe(sigs[1]);
  });

  it('tells a deadlock, a spin and a crawl apart, from two samples before the kill', async () => {
    const deadlock = (await check('deadlock_c.py', 2000)).findings;
    expect(deadlock.map((f) => f.kind)).toEqual(['hang']);
    expect(deadlock[0]?.signature).toBe('hang|c:take_in_order < planted_lock_ab | take_in_order < planted_lock_ba');
    expect(deadlock[0]?.native?.hangClass).toBe('deadlock');

    const spin = (await check('spin_c.py', 2000)).findings;
    expect(spin.map((f) => f.kind)).toEqual(['hang']);
    expect(spin[0]?.signature).toBe('hang|c:planted_spin_wait');
    expect(spin[0]?.native?.hangClass).toBe('spin');

    const slow = (await check('slow.py', 2000)).findings;
    expect(slow.map((f) => f.kind)).toEqual(['slow']);
    expect(slow[0]?.verdict).toBe('slow');
  });
});

/** Live (not zombie) processes: pid -> parent pid. */
function liveProcesses(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      if (fields[0] !== 'Z') out.set(Number(entry), Number(fields[1]));
    } catch {
      // gone
    }
  }
  return out;
}

/** Every live descendant of `root`. */
function descendants(root: number): number[] {
  const procs = liveProcesses();
  const found = new Set<number>([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of procs) {
      if (found.has(ppid) && !found.has(pid)) {
        found.add(pid);
        grew = true;
      }
    }
  }
  found.delete(root);
  return [...found];
}

function cpuTicks(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

describe('nothing left behind', () => {
  it('a SIGKILLed runner takes its target processes with it: harness runs, fork-server workers and plain runs', async () => {
    const program = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-orphan-')), 'spin_forever.py');
    await fs.writeFile(program, 'while True:\n    pass\n');
    const bucket = path.join(path.dirname(program), 'crashes', 'hang-000000000000');
    await fs.mkdir(bucket, { recursive: true });
    await fs.copyFile(program, path.join(bucket, 'repro.py'));
    const now = new Date().toISOString();
    await fs.writeFile(path.join(bucket, 'meta.json'), JSON.stringify({ version: 1, signature: 'hang|x', kind: 'hang', title: 't', verdict: 'runtime-bug', reproduce: 'python repro.py', firstSeen: now, lastSeen: now, hits: 1, modes: ['gil-off'], interpreter: { label: target.label, path: target.path } }));
    const commands = [
      ['run', '--executor', 'spawn', '--timeout', '120s', program],
      ['run', '--executor', 'forkserver', '--timeout', '120s', program],
      ['replay', '--timeout', '120s', '--trials', '1', path.join(bucket, 'repro.py')],
    ];
    for (const args of commands) {
      const runner = spawn(process.execPath, [path.join(root, 'bin', 'ftfuzz.js'), ...args, '--python', target.path], { stdio: 'ignore' });
      // The target runs once some descendant of the runner spins (CPU time in /proc/PID/stat).
      let seen: number[] = [];
      for (let i = 0; i < 150 && seen.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        seen = descendants(runner.pid as number).filter((p) => cpuTicks(p) > 20);
      }
      expect(seen.length, `${args.join(' ')}: the target started`).toBeGreaterThan(0);
      const tree = descendants(runner.pid as number);
      runner.kill('SIGKILL');
      let left = tree;
      for (let i = 0; i < 50 && left.length > 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const live = liveProcesses();
        left = tree.filter((p) => live.has(p));
      }
      expect(left, `${args.join(' ')}: processes left`).toEqual([]);
    }
  });
});
