import { describe, expect, it } from 'vitest';
import { reproduceCommand } from '../../src/reproduce.js';
import { isTsan, tsanEnv, tsanOptions } from '../../src/runtime/tsan.js';

const tsan = { sanitizers: ['thread'], tsanSuppressions: '/c/pythons/cpython-3.13.15t-tsan/share/ftfuzz/tsan-suppressions.txt' };

describe('the environment of a TSan run', () => {
  it('sets suppressions by absolute path, keeps going, keeps the exit status, logs to a file, no network symbolizer', async () => {
    const opts = tsanOptions(tsan, '/tmp/run1', '/usr/bin/llvm-symbolizer').split(':');
    expect(opts).toEqual(expect.arrayContaining([
      `suppressions=${tsan.tsanSuppressions}`, 'halt_on_error=0', 'exitcode=0', 'handle_segv=0', 'history_size=7', 'disable_coredump=0', 'log_path=/tmp/run1/tsan', 'external_symbolizer_path=/usr/bin/llvm-symbolizer',
    ]));
    const env = await tsanEnv(tsan, '/tmp/run1');
    expect(env.DEBUGINFOD_URLS).toBe('');
    expect(env.TSAN_OPTIONS).toContain('log_path=/tmp/run1/tsan');
  });

  it('is empty for other builds, and a TSan repro command carries the options to see the report on stderr', async () => {
    expect(isTsan({ sanitizers: ['address'] })).toBe(false);
    expect(await tsanEnv({ sanitizers: [] }, '/tmp/x')).toEqual({});
    const cmd = reproduceCommand({ freeThreaded: true, path: '/p/python3.13t', ...tsan }, 'gil-off', 'repro.py');
    expect(cmd).toBe(`TSAN_OPTIONS=suppressions=${tsan.tsanSuppressions}:halt_on_error=0:exitcode=0:handle_segv=0:history_size=7 PYTHON_GIL=0 /p/python3.13t repro.py`);
    const spaced = reproduceCommand({ freeThreaded: true, path: '/p/python3.13t', sanitizers: ['thread'], tsanSuppressions: "/my dir/it's.txt" }, 'gil-off', 'repro.py');
    expect(spaced).toBe(`TSAN_OPTIONS='suppressions=/my dir/it'\\''s.txt:halt_on_error=0:exitcode=0:handle_segv=0:history_size=7' PYTHON_GIL=0 /p/python3.13t repro.py`);
    expect(reproduceCommand({ freeThreaded: true, path: '/p/python3.13t', sanitizers: [] }, 'gil-on', 'repro.py')).toBe('PYTHON_GIL=1 /p/python3.13t repro.py');
  });
});
