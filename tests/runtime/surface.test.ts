// The probe the interpreter died under is the last one it announced.
import { describe, expect, it } from 'vitest';
import { lastProbe } from '../../src/runtime/surface.js';

describe('lastProbe', () => {
  it('reads the last probe line, ignoring other stderr', () => {
    expect(lastProbe('probe: a.B:new\nprobe: a.B.c:del\nFatal Python error: Segmentation fault\n')).toBe('a.B.c:del');
    expect(lastProbe('Traceback ...\n')).toBeNull();
  });
});
