import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromStackDump, parseTsanReports, raceOracle, raceSignature } from '../../src/oracles/raceOracle.js';
import { fakeRun } from '../helpers/runs.js';

const fixture = (name: string) => readFileSync(path.join(__dirname, '..', 'fixtures', 'tsan', name), 'utf8');

describe('ThreadSanitizer reports', () => {
  it('parses every report of a log with both access stacks, source paths normalized to the CPython tree', () => {
    const reports = parseTsanReports(fixture('dict_race.txt'));
    expect(reports.map((r) => r.kind)).toEqual(['data race', 'data race']);
    const [first] = reports;
    expect(first?.stacks.map((s) => s.title)).toEqual([
      'Write of size 8 at 0x7b4400012340 by thread T2',
      'Previous read of size 8 at 0x7b4400012340 by thread T1',
      'Location is heap block of size 160 at 0x7b44000122a0 allocated by thread T2',
      "Thread T2 'Thread-2' (tid=4250, running) created by main thread at",
    ]);
    expect(first?.stacks[0]?.frames[1]).toMatchObject({ func: 'insertdict', file: 'Objects/dictobject.c', line: 1712, module: 'python3.13t' });
    expect(first?.summary).toContain('data race');
  });

  it('signs a data race by the unordered pair of innermost CPython frames, past atomics, refcount helpers and libtsan', () => {
    const [a, b] = parseTsanReports(fixture('dict_race.txt'));
    // The first report reads the write in _Py_atomic_store_ptr_release (inline) and the read under memcpy and
    // Py_INCREF; the second has the accesses the other way round. One pair, one bucket.
    expect(raceSignature(a!)?.signature).toBe('race|data race|dict_repr_lock_held ~ insertdict');
    expect(raceSignature(b!)?.signature).toBe(raceSignature(a!)?.signature);
  });

  it('signs races in a C extension by the extension frames, other reports by kind, and marks reports after a crash', () => {
    const reports = parseTsanReports(fixture('planted_race.txt'));
    expect(reports.map((r) => r.kind)).toEqual(['data race', 'heap-use-after-free', 'segv', 'data race']);
    expect(raceSignature(reports[0]!)?.signature).toBe('race|data race|counter_increment [ftfuzz_planted] ~ counter_increment [ftfuzz_planted]');
    expect(raceSignature(reports[1]!)?.signature).toBe('race|heap-use-after-free|list_item ~ list_resize');
    expect(raceSignature(reports[2]!)?.signature).toBe('race|segv|list_item');
    expect(reports.map((r) => r.afterCrash)).toEqual([false, false, false, true]);
  });

  it('turns a run\'s log into one finding per signature, with both stacks, merged across runs', () => {
    const run = (i: number) => fakeRun('gil-off', { runIndex: i, sanitizerLog: fixture('dict_race.txt') });
    const plainRun = fakeRun('gil-off', {});
    const findings = raceOracle.check([run(0), run(1), plainRun]);
    expect(findings).toHaveLength(1);
    const [f] = findings;
    expect(f).toMatchObject({ kind: 'race', hits: 2, verdict: 'runtime-bug', native: { frames: ['dict_repr_lock_held', 'insertdict'], op: null } });
    expect(f?.details).toContain('Write of size 8');
    expect(f?.details).toContain('Previous read of size 8');
  });

  it('signs stdlib modules built as shared objects as CPython, mimalloc metadata races as mimalloc, copies by the caller', () => {
    const [array, page, copy] = parseTsanReports(fixture('stdlib_races.txt'));
    // array.cpython-313t-*.so is CPython's Modules/arraymodule.c, not a third-party extension; the atomic
    // store and Py_SET_SIZE are inline helpers, the write is array_resize's.
    expect(raceSignature(array!)?.signature).toBe('race|data race|array_resize ~ ins1');
    expect(raceSignature(page!)?.signature).toBe('race|data race|mi_page_has_aligned ~ mi_page_set_has_aligned');
    expect(raceSignature(copy!)?.signature).toBe('race|data race|resize_compact ~ unicode_fromformat_write_str');
  });

  it('signs a race against mimalloc\'s free-list write by the user of the freed block; drops races of ftfuzz\'s own stack dump', () => {
    const reports = parseTsanReports(fixture('stdlib_races.txt'));
    expect(raceSignature(reports[3]!)?.signature).toBe('race|freed-block|odictiter_new');
    expect(fromStackDump(reports[4]!)).toBe(true);
    expect(reports.slice(0, 4).some(fromStackDump)).toBe(false);
    const findings = raceOracle.check([fakeRun('gil-off', { sanitizerLog: fixture('stdlib_races.txt') })]);
    expect(findings.map((f) => f.signature)).not.toContain('race|signal handler spoils errno|faulthandler_user');
    expect(findings.find((f) => f.signature === 'race|freed-block|odictiter_new')?.title).toMatch(/^data race on a freed block/);
  });

  it('finds nothing in a clean log or in text that is not a TSan report', () => {
    expect(parseTsanReports('')).toEqual([]);
    expect(parseTsanReports('Traceback (most recent call last):\n  File "x.py", line 1\nWARNING: something else\n')).toEqual([]);
  });
});
