// Where a readiness family lies: the extension's frames, CPython's, or both.
import { describe, expect, it } from 'vitest';
import { frameScope } from '../../src/triage/readiness.js';

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
