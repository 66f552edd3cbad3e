// Where a readiness family lies: the extension's frames, CPython's, or both.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { frameScope, passesThroughExtension } from '../../src/triage/readiness.js';

describe('frameScope', () => {
  it('tells the extension\'s frames from CPython\'s, for race labels and crash frames alike', () => {
    expect(frameScope(['counter_increment [ftfuzz_racy]', 'counter_increment [ftfuzz_racy]'], ['ftfuzz_racy'])).toBe('extension');
    expect(frameScope(['PyList_New', 'list_item_impl'], ['pvectorc'])).toBe('cpython');
    expect(frameScope(['clear_slots', 'releaseNode [pvectorc]'], ['pvectorc'])).toBe('both');
    expect(frameScope(['ZstdCompressionWriter_flush (c-ext/compressionwriter.c:171)', 'callmethod (Objects/call.c:626)'], ['backend_c'])).toBe('both');
    expect(frameScope(['maybe_freelist_pop (Objects/tupleobject.c:1150)', 'tuple_alloc (Objects/tupleobject.c:45)'], ['pvectorc'])).toBe('cpython');
    expect(frameScope(['mi_block_nextx (Include/internal/mimalloc/mimalloc/internal.h:640)'], ['pvectorc'])).toBe('cpython');
    expect(frameScope([], ['x'])).toBe('python');
  });
});

describe('via the extension: from the frames of the stacks, never the text', () => {
  const dir = () => mkdtempSync(path.join(os.tmpdir(), 'ftfuzz-readiness-'));
  const so = 'pvectorc.cpython-313t-x86_64-linux-gnu.so';

  it('a race whose access stacks pass through a frame of the extension\'s shared object', async () => {
    const d = dir();
    writeFileSync(path.join(d, 'stack.txt'), [
      'WARNING: ThreadSanitizer: data race (pid=1)',
      '  Write of size 8 at 0x1 by thread T1:',
      `    #0 list_resize Objects/listobject.c:1 (python3.13t+0x1)`,
      `    #1 PVector_append ${'pvectorc.c'}:2 (${so}+0x2)`,
      '  Previous read of size 8 at 0x1 by thread T2:',
      '    #0 list_item Objects/listobject.c:3 (python3.13t+0x3)',
      '',
    ].join('\n'));
    expect(await passesThroughExtension(d, 'race', [so])).toBe(true);
    // The module's name in a path or a Python frame of stack.txt is not a frame of it.
    writeFileSync(path.join(d, 'stack.txt'), `WARNING: ThreadSanitizer: data race (pid=1)\n  Write of size 8 at 0x1 by thread T1:\n    #0 list_resize Objects/listobject.c:1 (python3.13t+0x1)\n\n# Python: File "/venv/lib/pvectorc.py", line 3\n`);
    expect(await passesThroughExtension(d, 'race', [so])).toBe(false);
  });

  it('a crash whose faulting thread\'s C stack has a frame in the extension (another thread\'s does not count)', async () => {
    const d = dir();
    const thread = (lwp: number, lib: string | null) => ({ lwp, name: null, frames: [{ func: 'list_resize', file: 'Objects/listobject.c', line: 1, lib: null }, { func: 'f', file: null, line: 0, lib }] });
    const evidence = (faulting: number) => JSON.stringify({ native: { source: 'core', faultingLwp: faulting, signal: 11, clkTck: 100, raw: '', samples: [{ threads: [thread(1, `/venv/${so}`), thread(2, null)], ticks: {}, python: {}, at: null }] } });
    writeFileSync(path.join(d, 'evidence.json'), evidence(1));
    expect(await passesThroughExtension(d, 'crash', [so])).toBe(true);
    writeFileSync(path.join(d, 'evidence.json'), evidence(2));
    expect(await passesThroughExtension(d, 'crash', [so])).toBe(false);
  });
});
