// Surface programs: generic shapes applied to any C type of the interpreter's surface (types.ts), each a
// way threads can share an object that no single-threaded test exercises. They are crash-only: every
// exception a call raises is caught and counted (the surface promises nothing about results), except
// SystemError, which escapes its thread for the internal-error oracle; crashes, hangs and (on TSan builds)
// races are the findings. A surface program must pass with the GIL on: the campaign keeps a failure that
// also shows there apart, as a generator mistake or a GIL-independent bug, never among the races.
//
// Each program reports which members two or more of its threads returned from on the shared object
// (`surface` record); the campaign counts them from GIL-off runs only: (type, member, shape) triples that
// really ran concurrently on a shared object. A step that does not call a member of the shared object's
// type (next() of an iterator built before the threads, a write to the program's own subclass) is
// labelled so that it counts for nothing (`<...>`).
import { Rng } from '../rng.js';
import { closingLines, headerLines, q as py, REPORT_DEF, threadLines } from './scaffold.js';
import { membersOf, typeKey, type Surface, type SurfaceMethod, type SurfaceType } from './types.js';

import { SURFACE_GENERATOR } from './scaffold.js';

export { SURFACE_GENERATOR };

/** The shapes on a type. */
export type TypeShape = 'method-pair' | 'shared-iterator' | 'first-access' | 'reinit' | 'snapshot' | 'property-race' | 'class-write';
/** A surface program's shape: one on a type, or `registry-write` (interpreter-wide registries, registries.ts). */
export type SurfaceShape = TypeShape | 'registry-write';
export const SURFACE_SHAPES: readonly TypeShape[] = ['method-pair', 'shared-iterator', 'first-access', 'reinit', 'snapshot', 'property-race', 'class-write'];

export interface SurfaceProgram {
  source: string;
  /** `module.Type`. */
  type: string;
  shape: SurfaceShape;
  /** The members the program calls concurrently on the shared object. */
  members: string[];
}

/**
 * Arguments, by size class and kind: ints from 0 to past 64 bits (overflow paths), str of one-byte,
 * two-byte and four-byte kinds, bytes, floats, None, containers, another instance of the type (`_other()`)
 * and hostile objects whose `__eq__`, `__hash__`, `__index__`, `__len__` and `__iter__` re-enter the shared
 * object. No size that would make one call allocate more than a few MiB.
 */
const POOL = [
  '0', '1', '-1', '7', '255', '65536', '2 ** 63', '-(2 ** 64)', '10 ** 30', "''", "'a'", "'ftfuzz' * 4", "'\\xe9t\\xe9'", "'\\U0001f600' * 3",
  "b''", "b'xy'", 'bytes(range(256))', 'obj[:3]', 'obj[0]', 'type(obj)()', '1.5', "float('nan')", 'None', 'True', '(1, 2)', '[3, 4]', "{'k': 1}", '_other()', '_Hostile(obj)', '_Hostile(obj)',
];

/** Which shapes a type admits: every shape needs a constructible type, and each its protocol or members. */
export function shapesFor(t: SurfaceType): TypeShape[] {
  if (t.ctor === null) return [];
  const shapes: TypeShape[] = [];
  const callable = t.methods.length + t.properties.filter((p) => p.get).length;
  if (callable >= 1) shapes.push('method-pair', 'first-access');
  // Every object has a repr (and most a copy and a reduction) to take while another thread changes it.
  shapes.push('snapshot');
  if (t.protocols.includes('iteration') || t.protocols.includes('iterator')) shapes.push('shared-iterator');
  if (t.init || t.protocols.includes('setstate')) shapes.push('reinit');
  if (t.properties.some((p) => p.set)) shapes.push('property-race');
  if (subclassCtor(t) !== null) shapes.push('class-write');
  return shapes;
}

/** The constructor, made to build the program's subclass `_Sub` instead: null when the expression is not `M.Name(...)`. */
export function subclassCtor(t: SurfaceType): string | null {
  const head = `M.${t.name}(`;
  return t.subclassable && t.ctor?.startsWith(head) ? `_Sub(${t.ctor.slice(head.length)}` : null;
}

/**
 * The members a shape exercises beyond the type's own methods (protocol slots), for coverage. Each is called
 * on the shared object itself: `__class__` is not (class-write writes to the program's own subclass).
 */
export function protocolMembers(t: SurfaceType): string[] {
  const out = ['__repr__'];
  if (t.protocols.includes('iteration')) out.push('__iter__');
  if (t.protocols.includes('iterator')) out.push('__next__');
  if (t.protocols.includes('pickling')) out.push('__reduce__');
  if (t.protocols.includes('copying')) out.push('__copy__');
  if (t.protocols.includes('hashing')) out.push('__hash__');
  if (t.protocols.includes('comparison')) out.push('__lt__');
  if (t.init) out.push('__init__');
  if (t.protocols.includes('setstate')) out.push('__setstate__');
  return out;
}

/** A step label coverage never counts: what it calls is not a member of the shared object's type. */
const UNCOUNTED = (what: string): string => `<${what}>`;

/** Every (type, member) pair a surface program can exercise: members and protocol slots of constructible types. */
export function coverablePairs(surface: Pick<Surface, 'types'>): string[] {
  // A dunder a type lists among its methods is one of its protocol slots too: each pair once.
  return [...new Set(surface.types.filter((t) => shapesFor(t).length > 0).flatMap((t) => [...membersOf(t), ...protocolMembers(t)].map((m) => `${typeKey(t)}.${m}`)))];
}

/** Share of calls made with an argument tuple the surface learned, when it learned one (the rest: random from the pool). */
const LEARNED_SHARE = 0.75;

/** One call of a method on the thread's `obj`: mostly with arguments it is known to accept, else from the pool. */
function callOf(rng: Rng, m: SurfaceMethod): string {
  // A call that may wait for another party is given a timeout (SimpleQueue.get: it returns or raises Empty).
  const extra = m.timeout ? [m.timeout] : [];
  if (m.args?.length && rng.bool(LEARNED_SHARE)) return `obj.${m.name}(${[...rng.pick(m.args), ...extra].join(', ')})`;
  const [low, high] = m.arity;
  const n = rng.int(low, Math.min(high, low + 1));
  return `obj.${m.name}(${[...Array.from({ length: n }, () => rng.pick(POOL)), ...extra].join(', ')})`;
}

/** A member's action on the shared object: a method call, or a property's read or write. */
function actionOf(rng: Rng, t: SurfaceType, member: string): string {
  if (member === '__repr__') return 'repr(obj)';
  const method = t.methods.find((m) => m.name === member);
  if (method) return callOf(rng, method);
  const prop = t.properties.find((p) => p.name === member);
  if (prop?.set && rng.bool(0.5)) return `setattr(obj, ${py(member)}, getattr(_other(), ${py(member)}))`;
  return `getattr(obj, ${py(member)})`;
}

interface Plan {
  /** Per thread: its list of [member, action] pairs, run in turn ITERS times. */
  threads: [string, string][][];
  /** Members for coverage. */
  members: string[];
}

function planShape(rng: Rng, t: SurfaceType, shape: TypeShape, threads: number, steer: (members: string[]) => string): Plan {
  const members = membersOf(t);
  const pickMember = () => steer(members);
  const byThread = (f: (tid: number) => [string, string][]) => Array.from({ length: threads }, (_, tid) => f(tid));
  switch (shape) {
    case 'method-pair': {
      // Two sides of one to three members each (ftcheck's method-pair stress, several pairs per program):
      // even threads run side A's calls in turn, odd threads side B's, all on the one shared object.
      const chosen: string[] = [];
      const size = Math.min(members.length, 2 * rng.int(1, 3));
      while (chosen.length < Math.max(2, size)) chosen.push(steer(members.filter((m) => !chosen.includes(m) || members.length < 2)));
      const steps = chosen.map((m): [string, string] => [m, actionOf(rng, t, m)]);
      const sides = [steps.filter((_, k) => k % 2 === 0), steps.filter((_, k) => k % 2 === 1)];
      return { threads: byThread((tid) => sides[tid % 2] as [string, string][]), members: chosen };
    }
    case 'shared-iterator': {
      const isIterator = t.protocols.includes('iterator');
      // An iterator's __next__ is the shared object's own; an iterable's shared iterator (built before the
      // threads) is another type's object, so its next() counts for nothing here.
      const iterate: [string, string] = [isIterator ? '__next__' : UNCOUNTED('next of a shared iterator'), 'next(_IT, None)'];
      // The object's own __iter__, taken by every thread while others advance the shared iterator.
      const again: [string, string][] = t.protocols.includes('iteration') ? [['__iter__', 'iter(obj)']] : [];
      const mutator = members.length && rng.bool(0.5) ? pickMember() : null;
      const act = mutator ? actionOf(rng, t, mutator) : null;
      return {
        threads: byThread((tid) => (tid === 0 && mutator && act ? [[mutator, act], ...again, iterate] : [...again, iterate])),
        members: [iterate[0], ...again.map((s) => s[0]), ...(mutator ? [mutator] : [])],
      };
    }
    case 'first-access': {
      // Every readable property and every method that takes no argument, on a fresh object each round.
      const reads = [...t.properties.filter((p) => p.get).map((p) => p.name), ...t.methods.filter((m) => m.arity[0] === 0).map((m) => m.name)];
      const chosen = reads.length ? reads : [pickMember()];
      return {
        // A call that may wait for another party gets its timeout here too (SimpleQueue.get on a fresh, empty queue).
        threads: byThread(() => rng.shuffle(chosen).map((m): [string, string] => {
          const method = t.methods.find((x) => x.name === m);
          return [m, method ? `obj.${m}(${method.timeout ?? ''})` : `getattr(obj, ${py(m)})`];
        })),
        members: chosen,
      };
    }
    case 'reinit': {
      const ways: [string, string][] = [
        ...(t.init ? [['__init__', t.reinit ?? '_reinit(obj)'] as [string, string]] : []),
        ...(t.protocols.includes('setstate') ? [['__setstate__', t.restate ?? '_restate(obj)'] as [string, string]] : []),
      ];
      const slot = steer(ways.map((w) => w[0]));
      const init = ways.find((w) => w[0] === slot) as [string, string];
      const user = pickMember();
      const act = actionOf(rng, t, user);
      return { threads: byThread((tid) => (tid === 0 ? [init] : [[user, act]])), members: [init[0], user] };
    }
    case 'snapshot': {
      // The mutator: one of the type's members, else (a type with none, an AST node) its re-initialisation.
      const mutator = members.length ? pickMember() : t.init ? '__init__' : '__repr__';
      const act = members.length ? actionOf(rng, t, mutator) : t.init ? (t.reinit ?? '_reinit(obj)') : 'repr(obj)';
      const views: [string, string][] = [['__repr__', 'repr(obj)']];
      if (t.protocols.includes('copying')) views.push(['__copy__', 'copy.copy(obj)']);
      if (t.protocols.includes('pickling')) views.push(['__reduce__', 'pickle.dumps(obj)'], ['__reduce__', 'obj.__reduce_ex__(2)']);
      if (t.protocols.includes('hashing')) views.push(['__hash__', 'hash(obj)']);
      if (t.protocols.includes('comparison')) views.push(['__lt__', 'obj < _other()']);
      return { threads: byThread((tid) => (tid === 0 ? [[mutator, act]] : rng.shuffle(views))), members: [mutator, ...new Set(views.map((v) => v[0]))] };
    }
    case 'class-write': {
      // Thread 0 writes to the class of the shared instance (a new attribute, a dunder, and their deletion)
      // while the others call the type's methods on it: type caches, slot updates, MRO walks under use.
      const user = members.length ? pickMember() : '__repr__';
      const act = actionOf(rng, t, user);
      const write = UNCOUNTED('class write');
      const writes: [string, string][] = [
        [write, `setattr(_Sub, 'ftfuzz_%d' % (i % 8), i)`],
        [write, `_Sub.__repr__ = _alt_repr`],
        [write, `delattr(_Sub, '__repr__')`],
        [write, `delattr(_Sub, 'ftfuzz_%d' % (i % 8))`],
      ];
      return { threads: byThread((tid) => (tid === 0 ? writes : [[user, act], ['__repr__', 'repr(obj)']])), members: [user, '__repr__'] };
    }
    case 'property-race': {
      const settable = t.properties.filter((p) => p.set).map((p) => p.name);
      const p = steer(settable);
      const write: [string, string] = [p, `setattr(obj, ${py(p)}, getattr(_other(), ${py(p)}))`];
      const read: [string, string] = [p, `getattr(obj, ${py(p)})`];
      const del: [string, string] | null = t.properties.find((x) => x.name === p)?.del ? [p, `delattr(obj, ${py(p)})`] : null;
      return { threads: byThread((tid) => (tid % 2 === 0 ? [write, ...(del && rng.bool(0.5) ? [del] : [])] : [read])), members: [p] };
    }
  }
}

export interface SurfaceChoice {
  /** `module.Type`: this type (default: the seed picks one, steered by `weight`). */
  type?: string;
  shape?: TypeShape;
  /** Relative weight of a (type, member) pair: the campaign favours pairs not yet exercised. Default 1. */
  weight?: (pair: string) => number;
}

/** The program's lines: ITERS fresh objects for first-access (one per round), one shared object otherwise. */
function render(t: SurfaceType, shape: TypeShape, plan: Plan, o: { seed: string; threads: number; iterations: number }): string {
  const moduleName = t.module;
  const fresh = shape === 'first-access';
  const lines = [
    ...headerLines(`${shape} on ${typeKey(t)}`, o.seed, plan.members),
    `import copy, json, os, pickle, sys, threading, ${moduleName}`,
    `M = ${moduleName}`,
    `ITERS = ${o.iterations}`,
    `_EXC = set()`,
    `_OK = set()`,
    '',
    ...(shape === 'class-write' ? [`class _Sub(M.${t.name}):`, `    pass`, '', `def _alt_repr(self):`, `    return 'ftfuzz'`, ''] : []),
    `def _new():`,
    `    return ${(shape === 'class-write' ? subclassCtor(t) : t.ctor) ?? 'None'}`,
    '',
    `def _other():`,
    `    return _new()`,
    '',
    `class _Hostile:`,
    `    """An argument whose protocol methods re-enter the shared object."""`,
    `    def __init__(self, target):`,
    `        self.target = target`,
    `    def _poke(self):`,
    `        # Its first few calls only: a container holding many would make every search quadratic (slow, not a bug).`,
    `        self.pokes = getattr(self, 'pokes', 0) + 1`,
    `        if self.pokes > 4:`,
    `            return`,
    `        try:`,
    `            repr(self.target)`,
    `        except Exception:`,
    `            pass`,
    `    def __eq__(self, other):`,
    `        self._poke()`,
    `        return False`,
    `    def __hash__(self):`,
    `        self._poke()`,
    `        return 0`,
    `    def __index__(self):`,
    `        self._poke()`,
    `        return 1`,
    `    def __len__(self):`,
    `        self._poke()`,
    `        return 1`,
    `    def __iter__(self):`,
    `        self._poke()`,
    `        return iter((1, 2))`,
    '',
    `def _reinit(obj):`,
    `    r = obj.__reduce__()`,
    `    obj.__init__(*r[1])`,
    '',
    `def _restate(obj):`,
    `    r = obj.__reduce_ex__(2)`,
    `    obj.__setstate__(r[2])`,
    '',
    ...REPORT_DEF,
    '',
    fresh ? `_OBJECTS = [_new() for _ in range(ITERS)]` : `_SHARED = _new()`,
    ...(shape === 'shared-iterator' ? [`_IT = iter(_SHARED)`] : []),
    '',
    // first-access: every thread takes round i's fresh object at the same moment.
    ...plan.threads.flatMap((steps, tid) =>
      threadLines(tid, steps, fresh ? { perIteration: [`        obj = _OBJECTS[i]`, `        try:`, `            _BARRIER.wait(10)`, `        except threading.BrokenBarrierError:`, `            pass`] } : { prologue: [`    obj = _SHARED`] }),
    ),
    ...closingLines(plan.threads.length, typeKey(t), shape, 'members'),
  ];
  return lines.join('\n');
}

/** About the most (type, member) pairs one surface program exercises (first-access and snapshot reach more). */
const PAIRS_PER_PROGRAM = 6;

const topSum = (xs: number[], n: number) => [...xs].sort((a, b) => b - a).slice(0, n).reduce((a, b) => a + b, 0);

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 1);

/** The members a shape can exercise on a type, for steering (its own protocol slots, else the type's members). */
function shapeMembers(t: SurfaceType, shape: TypeShape): string[] {
  const slots = protocolMembers(t);
  switch (shape) {
    case 'snapshot':
      return slots.filter((m) => m === '__repr__' || m === '__copy__' || m === '__reduce__' || m === '__hash__' || m === '__lt__');
    case 'shared-iterator':
      return slots.filter((m) => m === '__iter__' || m === '__next__');
    case 'reinit':
      return slots.filter((m) => m === '__init__' || m === '__setstate__');
    case 'class-write':
      return membersOf(t).length ? membersOf(t) : ['__repr__'];
    case 'property-race':
      return t.properties.filter((p) => p.set).map((p) => p.name);
    default:
      return membersOf(t);
  }
}

/** Program `seed` of the surface: a type (steered toward unexercised pairs), a shape it admits, a plan. */
export function generateSurfaceProgram(surface: Pick<Surface, 'types'>, seed: string, choice: SurfaceChoice = {}): SurfaceProgram {
  const rng = new Rng(`${SURFACE_GENERATOR}:${seed}`);
  const weight = choice.weight ?? (() => 1);
  const eligible = surface.types.filter((t) => shapesFor(t).some((s) => choice.shape === undefined || s === choice.shape) && (choice.type === undefined || typeKey(t) === choice.type));
  if (eligible.length === 0) throw new RangeError(choice.type ? `surface type ${choice.type}: not constructible, or no ${choice.shape ?? ''} shape applies` : `the surface has no constructible type${choice.shape ? ` that admits ${choice.shape}` : ''}`);
  // A type's weight is the sum of its heaviest pairs' weights, as many as one program exercises at most
  // (PAIRS_PER_PROGRAM): a type with more unexercised members comes up more, until one program could
  // not reach them all anyway.
  const typeWeights = eligible.map((t) => topSum([...membersOf(t), ...protocolMembers(t)].map((m) => weight(`${typeKey(t)}.${m}`)), PAIRS_PER_PROGRAM) + 1e-9);
  const t = rng.weighted(eligible.map((e, k) => [e, typeWeights[k] as number] as const));
  const shapes = shapesFor(t).filter((s) => choice.shape === undefined || s === choice.shape);
  if (shapes.length === 0) throw new RangeError(`surface type ${typeKey(t)} admits no ${choice.shape ?? ''} shape`);
  // Shapes are steered too: the protocol slots a shape exercises (snapshot: __copy__, __reduce__; ...)
  // weigh as their pairs do, so a slot no program has reached pulls its shape in.
  const pairWeight = (m: string) => weight(`${typeKey(t)}.${m}`);
  const shape = rng.weighted(shapes.map((s) => [s, mean(shapeMembers(t, s).map(pairWeight)) + 1e-9] as const));
  const steer = (members: string[]) => (members.length ? rng.weighted(members.map((m) => [m, pairWeight(m) + 1e-9] as const)) : '__repr__');
  const threads = rng.int(2, 6);
  const iterations = shape === 'first-access' ? rng.int(20, 60) : rng.int(50, 300);
  const plan = planShape(rng, t, shape, threads, steer);
  return { source: render(t, shape, plan, { seed, threads, iterations }), type: typeKey(t), shape, members: [...new Set(plan.members)] };
}
