// Campaign-local TSan suppressions (campaign/suppressions.ts).
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CampaignSuppressions } from '../../src/campaign/suppressions.js';
import type { Finding, Target } from '../../src/types.js';

const race = (frames: string[]): Finding => ({ kind: 'race', native: { frames, op: null } }) as unknown as Finding;

describe('campaign-local suppressions', () => {
  it("add a recorded race family's signing functions to CPython's suppressions, for later programs on TSan targets only", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-supp-'));
    const base = path.join(dir, 'cpython.txt');
    await fs.writeFile(base, 'race:^_PyObject_GC_TRACK$\n');
    const tsan = { path: '/py/tsan/bin/python3.13t', sanitizers: ['thread'], tsanSuppressions: base } as unknown as Target;
    const plain = { path: '/py/rel/bin/python3.13t', sanitizers: [] } as unknown as Target;
    const s = new CampaignSuppressions(dir);
    expect(s.targets([tsan, plain])).toEqual([tsan, plain]);
    expect(await s.add('race|race|Modules/_io/bytesio.c', race(['write_bytes', 'resize_buffer']), [tsan, plain])).toBe(true);
    const [t, p] = s.targets([tsan, plain]);
    expect(p).toBe(plain);
    expect(t?.tsanSuppressions).not.toBe(base);
    const text = await fs.readFile(t?.tsanSuppressions as string, 'utf8');
    expect(text).toContain('race:^_PyObject_GC_TRACK$');
    expect(text).toContain('race:^write_bytes$\nrace:^resize_buffer$');
    // The same family again, a crash, or a frame that is no function name: nothing new.
    expect(await s.add('race|race|Modules/_io/bytesio.c', race(['bytesio_getvalue']), [tsan])).toBe(false);
    expect(await s.add('crash|x', { kind: 'crash', native: { frames: ['f'], op: null } } as unknown as Finding, [tsan])).toBe(false);
    expect(await s.add('race|race|ext', race(['<unknown> [mod]']), [tsan])).toBe(false);
    // The runtime's and the allocator's functions are on every object's stacks: never suppressed.
    expect(await s.add('race|race|Python/parking_lot.c', race(['_PyParkingLot_Park', 'PyLong_AsLongLong', 'mi_heap_queue_first_update']), [tsan])).toBe(false);
    // Two writers in one function: one line.
    expect(await s.add('race|race|Objects/funcobject.c', race(['func_set_qualname', 'func_set_qualname']), [tsan])).toBe(true);
    // An extension's frame is suppressed by its function.
    expect(await s.add('race|race|Objects/listobject.c', race(['list_ass_slice', 'my_fn [ext.cpython-313t]']), [tsan])).toBe(true);
    const next = await fs.readFile(s.targets([tsan])[0]?.tsanSuppressions as string, 'utf8');
    expect(next).toContain('race:^my_fn$');
    // Each version is a new file: runs in flight keep the one they started with.
    expect(s.targets([tsan])[0]?.tsanSuppressions).not.toBe(t?.tsanSuppressions);
    expect(s.list().map((f) => f.functions)).toEqual([['write_bytes', 'resize_buffer'], ['func_set_qualname'], ['list_ass_slice', 'my_fn']]);
  });
});
