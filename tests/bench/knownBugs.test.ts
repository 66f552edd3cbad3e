// The known-bug table and how a bucket is matched to it and graded.
import { describe, expect, it } from 'vitest';
import { gradeOf } from '../../src/bench/bugs.js';
import { bucketFacts, fixedLabel, inNews, faultingThreadFunctions, KNOWN_BUGS, matchKnownBugs } from '../../src/triage/knownBugs.js';
import type { BucketMeta } from '../../src/store/crashStore.js';

const meta = (over: Partial<BucketMeta>): BucketMeta =>
  ({ version: 1, id: 'x', signature: 'crash|SIGSEGV|SIGSEGV|c:f', kind: 'crash', oracle: 'crash', title: 't', verdict: 'runtime-bug', modes: ['gil-off'], reproduce: 'python repro.py', firstSeen: '2026-01-01T00:00:00Z', lastSeen: '2026-01-01T00:00:00Z', hits: 1, ...over }) as BucketMeta;

const STACK = `# C stacks (gdb, from the core file of the crashed process); faulting thread: LWP 12
Thread 2 (Thread 0x7f (LWP 11)):
#0  0x00007f in ThreadHandle_join (self=0x1) at ./Modules/_threadmodule.c:512
#1  0x00007f in _io_BytesIO_write (self=0x1) at ./Modules/_io/bytesio.c:1

Thread 1 (Thread 0x7e (LWP 12)):
#0  mi_slice_first (slice=0x1) at Include/internal/mimalloc/mimalloc/internal.h:423
#1  0x000055 in _mi_free_delayed_block (block=0x1) at Objects/mimalloc/alloc.c:616
#2  0x000055 in resize_buffer (self=0x1, size=8) at ./Modules/_io/bytesio.c:150
#3  0x000055 in _io_BytesIO_write (self=0x1, b=0x2) at ./Modules/_io/bytesio.c:700
`;

describe('known bugs from Misc/NEWS', () => {
  it('every entry names its issue, release and a way to be recognised', () => {
    expect(KNOWN_BUGS.length).toBeGreaterThanOrEqual(30);
    for (const b of KNOWN_BUGS) {
      expect(b.fixedIn).toMatch(/^3\.13\.(\d+)$/);
      expect(Number(b.fixedIn.split('.')[2])).toBeGreaterThanOrEqual(6);
      expect(b.frames ?? b.ops ?? b.kinds, `gh-${b.gh}`).toBeDefined();
    }
    expect(new Set(KNOWN_BUGS.map((b) => `${b.gh}@${b.fixedIn}`)).size).toBe(KNOWN_BUGS.length);
  });

  it('reads the faulting thread of a crash stack, not the others', () => {
    expect(faultingThreadFunctions(STACK)).toEqual(['mi_slice_first', '_mi_free_delayed_block', 'resize_buffer', '_io_BytesIO_write']);
    expect(faultingThreadFunctions('no header')).toEqual([]);
  });

  it('matches a crash by the C functions of its faulting thread, and not by an op alone', () => {
    const crash = meta({ native: { frames: ['mi_slice_first (internal.h:423)'], op: 'BytesIO.write on BytesIO' } });
    expect(matchKnownBugs(bucketFacts(crash, '', STACK)).map((b) => b.gh)).toEqual([143378]);
    // The same op with a crash elsewhere (frames of another bug) is not that bug.
    const other = meta({ native: { frames: ['list_resize (listobject.c:1)'], op: 'BytesIO.write on BytesIO' } });
    expect(matchKnownBugs(bucketFacts(other, '', '')).map((b) => b.gh)).not.toContain(143378);
  });

  it('matches frames by function name: an atomic load helper is not pickle\'s load_*', () => {
    const uaf = meta({ native: { frames: ['_Py_atomic_load_uint32_relaxed (pyatomic_gcc.h:367)', 'element_getitem (_elementtree.c:1)'], op: 'Element.getitem0 on Element' } });
    expect(matchKnownBugs(bucketFacts(uaf, '', '')).map((b) => b.gh)).toEqual([143200]);
    const pickle = meta({ native: { frames: ['batch_list_exact (_pickle.c:3000)'], op: 'dict_of_lists.pickle_dumps on dict_of_lists' } });
    expect(matchKnownBugs(bucketFacts(pickle, '', '')).map((b) => b.gh)).toEqual([143638]);
  });

  it('does not match a hang to an op-only entry by an op of the program its spinning thread did not run', () => {
    const hang = meta({ kind: 'hang', signature: 'hang|c:dequeiter_next < deque_extend_impl', native: { frames: ['dequeiter_next (Modules/_collectionsmodule.c:1966)'], op: null } });
    const source = "_SLOTS = {1: 't0 deque.copy', 2: 't1 base64.b85decode', 3: 't1 deque.extendleft'}";
    expect(matchKnownBugs(bucketFacts(hang, source)).map((b) => b.gh)).toEqual([]);
    const known = meta({ kind: 'crash', native: { frames: ['f (x.c:1)'], op: 'base64.b85decode on base64' } });
    expect(matchKnownBugs(bucketFacts(known, source)).map((b) => b.gh)).toEqual([141141]);
  });

  it('matches a lost write by the ops its signature names, not every op of the program', () => {
    const lost = meta({ kind: 'lost-write', signature: 'lost-write|missing|Mock|Mock.call,Mock.call_count', title: 'lost increments' });
    expect(matchKnownBugs(bucketFacts(lost, "_SLOTS = {1: 't0 partial.call'}")).map((b) => b.gh).sort()).toEqual([142651, 150175]);
    const array = meta({ kind: 'lost-write', signature: 'lost-write|phantom|array|array.append,array.pop' });
    // No 3.13 NEWS fix: the array module is not thread-safe in 3.13 at all (upstream made it so in 3.14).
    const arrayKnown = matchKnownBugs(bucketFacts(array, "_SLOTS = {1: 't0 partial.call'}"));
    expect(arrayKnown.filter(inNews)).toEqual([]);
    expect(arrayKnown.map((b) => [b.gh, fixedLabel(b)])).toEqual([[128942, 'fixed in 3.14 only']]);
  });

  it('grades by the new release\'s status, and only buckets that reproduced', () => {
    const rep = { interpreter: 'x', modes: ['gil-off'], trials: 10, hits: 4, rate: 0.4, flaky: true, measuredAt: '' } as const;
    expect(gradeOf(meta({ reproduction: { ...rep, modes: ['gil-off'] } }), 'not-affected')).toBe('fixed-between');
    expect(gradeOf(meta({ reproduction: { ...rep, modes: ['gil-off'] } }), 'not-affected', 2)).toBe('fixed-between');
    // The control: absent on the new release but also absent when the old one ran again is no proof of a fix.
    expect(gradeOf(meta({ reproduction: { ...rep, modes: ['gil-off'] } }), 'not-affected', 0)).toBe('inconclusive');
    expect(gradeOf(meta({ reproduction: { ...rep, modes: ['gil-off'] } }), 'affected')).toBe('still-present');
    expect(gradeOf(meta({ reproduction: { ...rep, modes: ['gil-off'] } }), 'inconclusive')).toBe('inconclusive');
    expect(gradeOf(meta({ reproduction: { ...rep, modes: ['gil-off'], hits: 0, rate: 0 } }), 'not-affected')).toBe('not-reproduced');
    expect(gradeOf(meta({}), undefined)).toBe('not-reproduced');
  });
});
