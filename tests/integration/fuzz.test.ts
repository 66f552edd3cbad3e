// Campaigns on the real interpreter: budgets, corpus growth and mutation, a clean stop on abort.
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { aloneHangs, resolveSettings, runCampaign, type ProgramContext } from '../../src/campaign/fuzz.js';
import { ExclusiveGate } from '../../src/campaign/gate.js';
import { SlotClock } from '../../src/campaign/slots.js';
import { selectOracles } from '../../src/oracles/index.js';
import { createExecutor } from '../../src/runtime/forkServerExecutor.js';
import type { Finding, RunResult } from '../../src/types.js';
import { probeTarget } from '../../src/runtime/targets.js';
import { ExitCode } from '../../src/types.js';

const exact = { kinds: ['list', 'dict', 'set', 'Queue'], effects: ['exact' as const], iterations: [20, 60] as [number, number] };

describe('ftfuzz fuzz', () => {
  it('runs its program budget in both modes, keeps new behaviour in the corpus, then mutates it', async () => {
    const target = await probeTarget(inject('ftPython'), 'flag');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-fuzz-'));
    const common = { targets: [target], jobs: 2, crashDir: path.join(dir, 'crashes'), corpusDir: path.join(dir, 'corpus') };
    const first = await runCampaign({ ...common, settings: resolveSettings({ seed: 'test-a', maxPrograms: 30, genOptions: exact }) });
    expect(first).toMatchObject({ programs: 30, executions: 60, stoppedBy: 'budget', buckets: [] });
    const corpus = await fs.readdir(path.join(dir, 'corpus'));
    expect(corpus.length).toBe(first.corpusAdded);
    expect(corpus.length).toBeGreaterThan(0);
    // Novelty is a new op: once the ops of these kinds are seen, programs stop being kept.
    expect(corpus.length).toBeLessThan(30);
    const second = await runCampaign({ ...common, settings: resolveSettings({ seed: 'test-b', maxPrograms: 6, mutateShare: 1, genOptions: exact }) });
    expect(second).toMatchObject({ programs: 6, mutated: 6 });
  });

  it('stops cleanly when aborted, keeping what it found', async () => {
    const target = await probeTarget(inject('ftPython'), 'flag');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-fuzz-'));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 1500);
    const stats = await runCampaign({
      settings: resolveSettings({ modes: ['gil-off'], seed: 'abort', maxPrograms: 10_000, genOptions: exact }), targets: [target], jobs: 1,
      crashDir: path.join(dir, 'crashes'), corpusDir: path.join(dir, 'corpus'), signal: controller.signal,
    });
    expect(stats.stoppedBy).toBe('signal');
    expect(stats.programs).toBeGreaterThan(0);
    expect(stats.programs).toBeLessThan(10_000);
  });

  it('ends at its deadline by killing the runs in flight, and drops their programs', async () => {
    const target = await probeTarget(inject('ftPython'), 'flag');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-fuzz-'));
    // Programs far longer than the budget: without cancellation the campaign would overrun by minutes.
    const slow = { kinds: ['list'], effects: ['exact' as const], iterations: [100_000, 100_000] as [number, number], threads: [8, 8] as [number, number] };
    const stats = await runCampaign({
      settings: resolveSettings({ modes: ['gil-off'], timeoutMs: 300_000, seed: 'deadline', durationMs: 2000, genOptions: slow }), targets: [target], jobs: 2,
      crashDir: path.join(dir, 'crashes'), corpusDir: path.join(dir, 'corpus'),
    });
    expect(stats.stoppedBy).toBe('budget');
    expect(stats.cancelledPrograms).toBe(2);
    expect(stats.programs).toBe(0);
    expect(stats.buckets).toEqual([]);
    // Generous bound for a loaded machine; the point is "not the 300 s timeout".
    expect(stats.elapsedMs).toBeLessThan(60_000);
  });

  it('keeps programs stopped by the memory cap out of the crash buckets, as resource findings', async () => {
    const target = await probeTarget(inject('ftPython'), 'flag');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-fuzz-'));
    // 128 MiB of address space: the interpreter starts, its threads cannot.
    const stats = await runCampaign({
      settings: resolveSettings({ modes: ['gil-off'], seed: 'cap', maxPrograms: 3, genOptions: { ...exact, threads: [8, 8] } }), targets: [target], jobs: 1,
      crashDir: path.join(dir, 'crashes'), corpusDir: path.join(dir, 'corpus'), limits: { memoryBytes: 128 * 1024 ** 2 },
    });
    expect(stats.findingsByKind).toEqual({ resource: 3 });
    expect(stats.buckets).toEqual([]);
    expect(stats.resources).toEqual([{ signature: 'resource|oom', hits: 3, example: expect.stringContaining(path.join('crashes', '.resource', 'resource-')) as string }]);
    expect((await fs.readdir(path.join(dir, 'crashes'))).filter((n) => !n.startsWith('.'))).toEqual([]);
  });

  it('refuses to start without a budget (usage error)', () => {
    const r = spawnSync(process.execPath, [path.join(import.meta.dirname, '..', '..', 'bin', 'ftfuzz.js'), 'fuzz'], { encoding: 'utf8' });
    expect(r.status).toBe(ExitCode.Usage);
    expect(r.stderr).toMatch(/a campaign needs a budget: --duration D and\/or --runs N/);
  });

  it('runs a window-proved hang once more alone: one that finishes is a crawl, both times in its title; an allocator spin is left a hang', async () => {
    const target = await probeTarget(inject('ftPython'), 'flag');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-alone-'));
    const file = path.join(dir, 'slow.py');
    // Slow beside the other jobs, not stuck: alone it ends in about 2 s.
    await fs.writeFile(file, 'import time\ntime.sleep(2)\n');
    const spawn = createExecutor('spawn');
    try {
      const hang: Finding = {
        kind: 'hang', oracle: 'hang', signature: 'hang|c:deque_copy < x', title: 'hang (spin): no exit after 60000 ms (limit 700 ms, then waited); 1 thread(s) in deque_copy', details: '',
        program: { path: file, name: 'slow.py' }, targets: [target], modes: ['gil-off'], hits: 1, runs: 1, reproduceCommand: '', verdict: 'runtime-bug', proved: true,
      };
      const run = { modeRequested: 'gil-off', target, termination: { kind: 'timeout', afterMs: 700, waitedMs: 60_000 }, timeoutMs: 700, durationMs: 60_700 } as unknown as RunResult;
      const c = {
        o: { settings: resolveSettings({ maxPrograms: 1 }) }, recorder: { knownHang: () => false }, signal: new AbortController().signal, gate: new ExclusiveGate(),
        oracles: selectOracles('all'), limits: { memoryBytes: 4 * 1024 ** 3, cpuSeconds: 70 }, spawnExecutor: spawn, account: () => undefined, clock: new SlotClock(),
      } as unknown as ProgramContext;
      const heap = { ...hang, signature: 'hang|c:_mi_page_free_collect < mi_heap_page_collect|heap:array' };
      const [crawl, spin] = await aloneHangs(c, file, { findings: [hang, heap], runs: [run], unconfirmed: [], promoted: 0 });
      expect(crawl).toMatchObject({ kind: 'slow', verdict: 'slow', signature: 'slow|finished-alone|c:deque_copy < x' });
      expect(crawl?.title).toMatch(/^slow: no exit after 60000 ms beside the other jobs \(limit 700 ms\), but alone it finished after \d+ ms; 1 thread\(s\) in deque_copy$/);
      expect(spin).toBe(heap);
    } finally {
      await spawn.close();
    }
  });
});
