import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { innermostFrames, normalizeMessage, parseFatalReport } from '../../src/oracles/faulthandler.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/stderr/${name}`, import.meta.url), 'utf8');

describe('parseFatalReport', () => {
  it('reads the fatal line and every thread of a 3.13 segfault', () => {
    const report = parseFatalReport(fixture('segv-3.13.txt'));
    expect(report.fatalError).toBe('Segmentation fault');
    expect(report.assertion).toBeNull();
    expect(report.threads).toHaveLength(2);
    const current = report.threads.find((t) => t.current);
    expect(current?.frames[0]).toEqual({ file: '/work/prog-17.py', line: 8, func: 'worker_3' });
    // The harness and runpy frames never enter a signature; digits in names are folded.
    const main = report.threads.find((t) => !t.current);
    expect(main && innermostFrames(main, '/work/prog-17.py', 5)).toEqual(['threading.py:join', '<program>:<module>']);
    expect(current && innermostFrames(current, '/work/prog-17.py')).toEqual([
      '<program>:worker_N',
      'threading.py:run',
      'threading.py:_bootstrap_inner',
    ]);
  });

  it('reads 3.14 thread names, debug assertions, and ignores the C stack trace', () => {
    const report = parseFatalReport(fixture('abort-3.14.txt'));
    expect(report.fatalError).toBe('Aborted');
    expect(report.assertion).toContain("Assertion `ix != DKIX_ERROR' failed");
    expect(report.threads.map((t) => t.current)).toEqual([false, true]);
    expect(report.threads[1]?.frames.map((f) => f.func)).toEqual(['mutate', 'w', 'run']);
  });

  it('finds nothing in ordinary output', () => {
    expect(parseFatalReport('hello\nTraceback (most recent call last):\n  File "x.py", line 1, in <module>\n')).toEqual({
      fatalError: null,
      assertion: null,
      threads: [],
    });
  });
});

describe('normalizeMessage', () => {
  it('folds addresses, numbers and directories', () => {
    expect(normalizeMessage('python3.13td: Objects/dictobject.c:1234: f: object at 0x7f00aa has refcnt 3')).toBe(
      'python3.13td: dictobject.c:N: f: object at 0xADDR has refcnt N',
    );
  });

  it('is idempotent and never longer than 200 characters (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (s) => {
        const once = normalizeMessage(s);
        expect(once.length).toBeLessThanOrEqual(200);
        expect(normalizeMessage(once)).toBe(once);
      }),
    );
  });
});
