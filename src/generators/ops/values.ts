// Ops on immutable values (pure reads against a single-threaded reference), caches, random generators,
// lock-like primitives and I/O objects.
import { py } from '../ast.js';
import { call, inc, int, keep, N, ops, pureOps, str, withLock, type OpSpec } from './spec.js';

export const VALUE_OPS: OpSpec[] = [
  ...pureOps('str', 'immutable', [
    ['upper', (o) => py.method(o, 'upper')],
    ['split', (o) => py.method(o, 'split', [str('-')])],
    ['replace', (o) => py.method(o, 'replace', [str('ft'), str('FT')])],
    ['find', (o) => py.method(o, 'find', [str('fuzz-')])],
    ['join', (o) => py.method(str('|'), 'join', [py.sub(o, py.slice(null, int(20)))])],
    ['encode', (o) => py.method(o, 'encode', [str('utf-8')])],
    ['hash', (o) => py.call(N('hash'), [o])],
    ['format', (o) => py.bin(str('%s:%d'), 'Mod', py.tuple([py.sub(o, py.slice(null, int(5))), py.call(N('len'), [o])]))],
  ]),
  ...pureOps('bytes', 'immutable', [
    ['hex', (o) => py.method(o, 'hex')],
    ['decode', (o) => py.method(o, 'decode', [str('ascii')])],
    ['find', (o) => py.method(o, 'find', [py.bytes(Buffer.from('fuzz'))])],
    ['split', (o) => py.method(o, 'split', [py.bytes(Buffer.from('-'))])],
    ['upper', (o) => py.method(o, 'upper')],
  ]),
  ...pureOps('tuple', 'immutable', [
    ['len', (o) => py.call(N('len'), [o])],
    ['index', (o) => py.method(o, 'index', [py.sub(o, int(7))])],
    ['count', (o) => py.method(o, 'count', [py.sub(o, int(3))])],
    ['slice', (o) => py.sub(o, py.slice(int(2), int(40), int(3)))],
    ['hash', (o) => py.call(N('hash'), [o])],
    ['sum', (o) => py.call(N('sum'), [o])],
  ]),
  ...pureOps('frozenset', 'immutable', [
    ['len', (o) => py.call(N('len'), [o])],
    ['contains', (o) => py.cmp(int(77), 'In', o)],
    ['union', (o) => py.bin(o, 'BitOr', py.call(N('frozenset'), [py.tuple([int(1), int(2)])]))],
    ['hash', (o) => py.call(N('hash'), [o])],
    ['sorted', (o) => py.call(N('sorted'), [o])],
    ['intersection', (o) => py.method(o, 'intersection', [py.call(N('range'), [int(0), int(100)])])],
  ]),
  ...pureOps('int', 'immutable', [
    ['arith', (o) => py.bin(py.bin(o, 'Mult', int(3)), 'Add', int(1))],
    ['bit_length', (o) => py.method(o, 'bit_length')],
    ['pow_mod', (o) => py.call(N('pow'), [o, int(3), int(1_000_003)])],
    ['str', (o) => py.call(N('str'), [o])],
    ['to_bytes', (o) => py.method(o, 'to_bytes', [int(128), str('little')])],
  ]),
  ...pureOps('float', 'immutable', [
    ['mul', (o) => py.bin(o, 'Mult', py.float(2.5))],
    ['hex', (o) => py.method(o, 'hex')],
    ['round', (o) => py.call(N('round'), [o, int(3)])],
  ]),
  ...pureOps('range', 'immutable', [
    ['len', (o) => py.call(N('len'), [o])],
    ['contains', (o) => py.cmp(int(301), 'In', o)],
    ['slice_sum', (o) => py.call(N('sum'), [py.sub(o, py.slice(int(10), int(60)))])],
  ]),
  ...pureOps('memoryview', 'immutable', [
    ['tobytes', (o) => py.method(py.sub(o, py.slice(int(4), int(40))), 'tobytes')],
    ['len', (o) => py.call(N('len'), [o])],
  ]),
  ...pureOps('pattern', 'immutable', [
    ['findall', (o) => py.method(o, 'findall', [str('a-1 bb-22 ccc-333')])],
    ['sub', (o) => py.method(o, 'sub', [str('\\2'), str('x-9 y-8')])],
  ]),
  ...pureOps('Struct', 'immutable', [
    ['pack', (o) => py.method(o, 'pack', [int(12345), py.float(2.5), py.bytes(Buffer.from('abcdefgh'))])],
    ['size', (o) => py.attr(o, 'size')],
  ]),
  ...pureOps('partial', 'immutable', [
    ['call', (o) => py.call(o, [int(5)])],
    ['args', (o) => py.attr(o, 'args')],
  ]),
  ...ops('lru_cache', [
    // The wrapped function is pure: whatever the cache state, f(x) == x*x + 1.
    { id: 'call', effect: 'exact', cite: 'lru-cache', tokens: 'none', body: (c) => [py.if(py.cmp(py.call(c.o, [int(c.small % 24)]), 'NotEq', int((c.small % 24) ** 2 + 1)), [call(N('_MISMATCH'), 'append', str('lru_cache.call'))])] },
    { id: 'cache_info', effect: 'invariant-only', cite: 'lru-cache', tokens: 'read', body: (c) => [keep(py.method(c.o, 'cache_info'))] },
    { id: 'cache_clear', effect: 'invariant-only', cite: 'lru-cache', tokens: 'none', body: (c) => [call(c.o, 'cache_clear')] },
  ]),
  ...ops('Random', [
    { id: 'random', effect: 'invariant-only', cite: 'random-doc', tokens: 'read', body: (c) => [py.if(py.unary('Not', py.cmp(int(0), 'LtE', py.method(c.o, 'random'))), [call(N('_MISMATCH'), 'append', str('Random.random'))])] },
    { id: 'randrange', effect: 'invariant-only', cite: 'random-doc', tokens: 'read', body: (c) => [keep(py.method(c.o, 'randrange', [int(10)]))] },
    { id: 'getrandbits', effect: 'invariant-only', cite: 'random-doc', tokens: 'read', body: (c) => [keep(py.method(c.o, 'getrandbits', [int(64)]))] },
  ]),
  ...(['Lock', 'RLock', 'Semaphore', 'Condition'] as const).flatMap((k) =>
    ops(k, [{ id: 'with_inc', effect: 'exact', cite: 'threading-doc', tokens: 'count', body: (c) => [withLock(c.o, [inc(c.holder, 'n')])] }]),
  ),
  ...ops('Lock', [
    {
      id: 'try_acquire_inc',
      effect: 'exact',
      cite: 'threading-doc',
      tokens: 'none',
      body: (c) => [py.if(py.method(c.o, 'acquire', [py.bool(false)]), [py.try([inc(c.holder, 'm')], [], [], [call(c.o, 'release')])])],
    },
    { id: 'locked', effect: 'exact', cite: 'threading-doc', tokens: 'read', body: (c) => [keep(py.method(c.o, 'locked'))] },
  ]),
  ...ops('RLock', [{ id: 'nested_inc', effect: 'exact', cite: 'threading-doc', tokens: 'count', body: (c) => [withLock(c.o, [withLock(c.o, [inc(c.holder, 'n')])])] }]),
  ...ops('Condition', [{ id: 'notify_all', effect: 'exact', cite: 'threading-doc', tokens: 'none', body: (c) => [withLock(c.o, [call(c.o, 'notify_all')])] }]),
  ...ops('Event', [
    { id: 'set', effect: 'invariant-only', cite: 'threading-doc', tokens: 'none', body: (c) => [call(c.o, 'set')] },
    { id: 'clear', effect: 'invariant-only', cite: 'threading-doc', tokens: 'none', body: (c) => [call(c.o, 'clear')] },
    { id: 'is_set', effect: 'invariant-only', cite: 'threading-doc', tokens: 'read', body: (c) => [keep(py.method(c.o, 'is_set'))] },
  ]),
  ...ops('BufferedWriter', [
    { id: 'write', effect: 'invariant-only', cite: 'io-buffered', tokens: 'none', body: (c) => [call(c.o, 'write', py.bytes(Buffer.from('0123456789abcdef')))] },
    { id: 'flush', effect: 'invariant-only', cite: 'io-buffered', tokens: 'none', body: (c) => [call(c.o, 'flush')] },
    { id: 'tell', effect: 'invariant-only', cite: 'io-buffered', tokens: 'read', body: (c) => [keep(py.method(c.o, 'tell'))] },
  ]),
  ...ops('BytesIO', [
    { id: 'write', effect: 'crash-only', cite: 'io-text', tokens: 'none', body: (c) => [call(c.o, 'write', py.bytes(Buffer.from('record--')))] },
    { id: 'getvalue', effect: 'crash-only', cite: 'io-text', tokens: 'read', body: (c) => [keep(py.method(c.o, 'getvalue'))] },
    { id: 'seek_read', effect: 'crash-only', cite: 'io-text', tokens: 'read', body: (c) => [call(c.o, 'seek', int(0)), keep(py.method(c.o, 'read', [int(8)]))] },
    { id: 'tell', effect: 'crash-only', cite: 'io-text', tokens: 'read', body: (c) => [keep(py.method(c.o, 'tell'))] },
    { id: 'truncate', effect: 'crash-only', cite: 'io-text', tokens: 'none', allowed: ['ValueError'], body: (c) => [call(c.o, 'truncate', int(64))] },
  ]),
  ...ops('StringIO', [
    { id: 'write', effect: 'crash-only', cite: 'io-text', tokens: 'none', body: (c) => [call(c.o, 'write', str('line\n'))] },
    { id: 'getvalue', effect: 'crash-only', cite: 'io-text', tokens: 'read', body: (c) => [keep(py.method(c.o, 'getvalue'))] },
    { id: 'seek_readline', effect: 'crash-only', cite: 'io-text', tokens: 'read', body: (c) => [call(c.o, 'seek', int(0)), keep(py.method(c.o, 'readline'))] },
    { id: 'tell', effect: 'crash-only', cite: 'io-text', tokens: 'read', allowed: ['OSError'], body: (c) => [keep(py.method(c.o, 'tell'))] },
  ]),
];
