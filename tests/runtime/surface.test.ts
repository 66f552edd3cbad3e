// The probe the interpreter died under is the last one it announced; one it never comes back from is
// skipped like one it died under.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { introspectSurface, lastProbe } from '../../src/runtime/surface.js';

describe('lastProbe', () => {
  it('reads the last probe line, ignoring other stderr', () => {
    expect(lastProbe('probe: a.B:new\nprobe: a.B.c:del\nFatal Python error: Segmentation fault\n')).toBe('a.B.c:del');
    expect(lastProbe('Traceback ...\n')).toBeNull();
  });
});

describe('introspectSurface', () => {
  it('kills an interpreter stuck in one probe (a loop in C the alarm cannot interrupt), skips that probe and goes on', async () => {
    // A stand-in interpreter: stuck in its first probe unless told to skip it, then it prints a surface.
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-stall-'));
    const fake = path.join(dir, 'python');
    await fs.writeFile(fake, `#!/bin/sh
case "$*" in
  *"--skip m.T.read:call"*) echo '{"modules":["m"],"types":[]}'; exit 0 ;;
esac
echo "probe: m.T:new" >&2
echo "probe: m.T.read:call" >&2
exec sleep 60
`, { mode: 0o755 });
    const log: string[] = [];
    const surface = await introspectSurface({ path: fake, executable: fake }, { modules: ['m'], stallMs: 300, log: (l) => log.push(l) });
    expect(surface.crashes).toEqual([{ probe: 'm.T.read:call', how: 'stuck for 0.3 s' }]);
    expect(log).toEqual([expect.stringMatching(/was \(stuck for 0\.3 s\) under m\.T\.read:call, single-threaded; skipping it/)]);
  });
});
