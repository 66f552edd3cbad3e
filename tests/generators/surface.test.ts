// Surface programs from a surface: which shapes a type admits, seeds that give the same program, steering
// toward unexercised pairs, and programs that are crash-only by construction.
import { describe, expect, it } from 'vitest';
import { coverablePairs, generateSurfaceProgram, SURFACE_SHAPES, shapesFor } from '../../src/generators/surface/program.js';
import { surfacePairs, type Surface, type SurfaceType } from '../../src/generators/surface/types.js';
import { generateRegistryProgram, REGISTRIES, REGISTRY_TYPE } from '../../src/generators/surface/registries.js';

const deque: SurfaceType = {
  module: '_collections', name: 'deque', ctor: 'M.deque(range(64), maxlen=128)', init: true, subclassable: true,
  methods: [{ name: 'append', arity: [1, 1] }, { name: 'pop', arity: [0, 0] }, { name: 'rotate', arity: [0, 1] }],
  properties: [{ name: 'maxlen', get: true, set: false, del: false }],
  protocols: ['copying', 'iteration', 'pickling', 'sequence'],
};
const element: SurfaceType = {
  module: '_elementtree', name: 'Element', ctor: "M.Element('root')", init: true,
  methods: [{ name: 'set', arity: [2, 2] }, { name: 'clear', arity: [0, 0] }],
  properties: [{ name: 'text', get: true, set: true, del: true }, { name: 'tag', get: true, set: true, del: false }],
  protocols: ['copying', 'pickling', 'setstate'],
};
const opaque: SurfaceType = { module: 'x', name: 'Opaque', ctor: null, methods: [{ name: 'go', arity: [0, 0] }], properties: [], protocols: [] };
const surface: Pick<Surface, 'types'> = { types: [deque, element, opaque] };

describe('surface programs', () => {
  it('apply each shape only where its protocol or members are', () => {
    expect(shapesFor(deque).sort()).toEqual(['class-write', 'first-access', 'method-pair', 'reinit', 'shared-iterator', 'snapshot']);
    // Not subclassable: no class-level writes.
    expect(shapesFor(element)).not.toContain('class-write');
    expect(shapesFor(element)).toContain('property-race');
    expect(shapesFor(element)).not.toContain('shared-iterator');
    expect(shapesFor(opaque)).toEqual([]);
  });

  it('count the coverable pairs: members and protocol slots of the types a shape applies to', () => {
    expect(surfacePairs(surface)).toHaveLength(4 + 4);
    const pairs = coverablePairs(surface);
    expect(pairs).toContain('_collections.deque.__iter__');
    expect(pairs).toContain('_elementtree.Element.__setstate__');
    // class-write writes to the program's own subclass: no member of the shared object's type.
    expect(pairs).not.toContain('_collections.deque.__class__');
    expect(generateSurfaceProgram(surface, 'cw', { shape: 'class-write' }).source).toContain('class _Sub(M.deque):');
    expect(pairs.some((p) => p.startsWith('x.Opaque'))).toBe(false);
    // A dunder the type lists among its methods is also its protocol slot: counted once (`ftfuzz surface` said 3316 for 2900).
    const listed: SurfaceType = { ...deque, methods: [...deque.methods, { name: '__copy__', arity: [0, 0] }] };
    const once = coverablePairs({ types: [listed] });
    expect(once).toContain('_collections.deque.__copy__');
    expect(new Set(once).size).toBe(once.length);
  });

  it('reach every coverable pair: a type without members (an AST node) and an iterator\'s own __iter__ too', () => {
    const node: SurfaceType = { module: '_ast', name: 'Add', ctor: 'M.Add()', init: true, reinit: 'obj.__init__()', subclassable: true, methods: [], properties: [], protocols: ['copying', 'hashing', 'pickling'] };
    const it_: SurfaceType = { module: 'builtins', name: 'enumerate', ctor: 'enumerate(list(range(64)))', methods: [], properties: [], protocols: ['copying', 'iteration', 'iterator', 'pickling'] };
    const wide: Pick<Surface, 'types'> = { types: [deque, element, node, it_] };
    const reached = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const p = generateSurfaceProgram(wide, `r${i}`);
      for (const m of p.members) reached.add(`${p.type}.${m}`);
    }
    expect(coverablePairs(wide).filter((pair) => !reached.has(pair))).toEqual([]);
    expect(coverablePairs(wide)).toEqual(expect.arrayContaining(['_ast.Add.__copy__', '_ast.Add.__hash__', 'builtins.enumerate.__iter__', 'builtins.enumerate.__next__']));
  });

  it('report a member only when two or more threads returned from it, and label steps that call no member of the type', () => {
    const p = generateSurfaceProgram(surface, 'report', { type: '_collections.deque', shape: 'shared-iterator' });
    expect(p.source).toMatch(/_OK\.add\(\(0, /);
    expect(p.source).toContain("'exercised': sorted(m for m, ts in _BY.items() if len(ts) >= 2)");
    // The iterable's shared iterator is another type's object: its next() is labelled to count for nothing.
    expect(p.source).toContain('<next of a shared iterator>');
    const cw = generateSurfaceProgram(surface, 'cw2', { type: '_collections.deque', shape: 'class-write' });
    expect(cw.members).not.toContain('__class__');
    expect(cw.source).toContain('<class write>');
  });

  it('give a call that may block its timeout', () => {
    const q: SurfaceType = { module: '_queue', name: 'SimpleQueue', ctor: 'M.SimpleQueue()', methods: [{ name: 'get', arity: [0, 2], args: [[]], timeout: 'timeout=0.001' }], properties: [], protocols: [] };
    const src = generateSurfaceProgram({ types: [q] }, 'q', { shape: 'method-pair' }).source;
    expect(src).toMatch(/obj\.get\((.*, )?timeout=0\.001\)/);
    // A zero-argument call of first-access too: a fresh queue is empty, and get() would wait for ever.
    expect(generateSurfaceProgram({ types: [q] }, 'q2', { shape: 'first-access' }).source).toContain('obj.get(timeout=0.001)');
  });

  it('call a method mostly with the arguments the surface learned it accepts', () => {
    const learned: SurfaceType = { ...deque, methods: [{ name: 'rotate', arity: [0, 1], args: [['7']] }] };
    const calls = Array.from({ length: 60 }, (_, i) => generateSurfaceProgram({ types: [learned] }, `l${i}`, { shape: 'method-pair' }).source.match(/obj\.rotate\((.*)\)/g) ?? []).flat();
    const withLearned = calls.filter((c) => c === 'obj.rotate(7)').length;
    expect(withLearned / calls.length).toBeGreaterThan(0.6);
    expect(withLearned).toBeLessThan(calls.length);
  });

  it('give the same program for the same seed, and reach every shape', () => {
    expect(generateSurfaceProgram(surface, 's1').source).toBe(generateSurfaceProgram(surface, 's1').source);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(generateSurfaceProgram(surface, `s${i}`).shape);
    expect([...seen].sort()).toEqual([...SURFACE_SHAPES].sort());
  });

  it('are crash-only: every call is guarded, SystemError escapes, and the members that ran are reported', () => {
    for (const shape of SURFACE_SHAPES) {
      const type = shape === 'property-race' ? '_elementtree.Element' : '_collections.deque';
      const p = generateSurfaceProgram(surface, `crash-only-${shape}`, { type, shape });
      const lines = p.source.split('\n');
      const marks = lines.flatMap((l, i) => (l.startsWith('            _OK.add(') ? [i] : []));
      expect(marks.length).toBeGreaterThan(0);
      for (const i of marks) {
        // try: / the call / _OK.add / except SystemError: raise / except Exception: counted
        expect(lines[i - 2]).toBe('        try:');
        expect(lines[i + 1]).toBe('        except SystemError:');
        expect(lines[i + 2]).toBe('            raise');
        expect(lines[i + 3]).toBe('        except Exception as exc:');
      }
      expect(p.source).toContain("_report({'type': 'surface'");
      expect(p.shape).toBe(shape);
      expect(p.members.length).toBeGreaterThan(0);
    }
  });

  it('steer toward pairs no program has exercised', () => {
    const exercised = new Set(coverablePairs(surface).filter((p) => p.startsWith('_collections')));
    const weight = (pair: string) => (exercised.has(pair) ? 1 : 1000);
    const types = Array.from({ length: 100 }, (_, i) => generateSurfaceProgram(surface, `w${i}`, { weight }).type);
    expect(types.filter((t) => t === '_elementtree.Element').length).toBeGreaterThan(90);
  });

  it('refuse a type that is not constructible', () => {
    expect(() => generateSurfaceProgram(surface, 's', { type: 'x.Opaque' })).toThrow(/not constructible/);
  });
});

describe('registry programs', () => {
  it('write and read each registry from threads, every action guarded, the registries that ran reported', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const p = generateRegistryProgram(`r${i}`);
      expect(p.type).toBe(REGISTRY_TYPE);
      expect(p.shape).toBe('registry-write');
      for (const m of p.members) seen.add(m);
      const lines = p.source.split('\n');
      const marks = lines.flatMap((l, k) => (l.startsWith('            _OK.add(') ? [k] : []));
      expect(marks.length).toBeGreaterThan(0);
      for (const k of marks) expect([lines[k - 2], lines[k + 1], lines[k + 2]]).toEqual(['        try:', '        except SystemError:', '            raise']);
    }
    expect([...seen].sort()).toEqual(REGISTRIES.map((r) => r.id).sort());
    expect(generateRegistryProgram('same').source).toBe(generateRegistryProgram('same').source);
  });

  it('steer toward registries no program has exercised', () => {
    const weight = (pair: string) => (pair.endsWith('.gc') ? 1000 : 1);
    const withGc = Array.from({ length: 40 }, (_, i) => generateRegistryProgram(`s${i}`, weight)).filter((p) => p.members.includes('gc')).length;
    expect(withGc).toBeGreaterThan(35);
  });
});
