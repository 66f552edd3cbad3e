// The interpreter's C surface as python/ftfuzz_surface.py lists it (runtime/surface.ts runs it on the
// target and caches the result): every C-implemented type, how to make one, its members and protocols.

export interface SurfaceMethod {
  name: string;
  /** [minimum, maximum] positional arguments (from `__text_signature__`; [0, 2] when C declares none). */
  arity: [number, number];
  /**
   * Argument tuples (Python expressions over `obj`, `M` and `_other()`) the method accepted, single-threaded
   * on a throw-away instance, when the surface was introspected: a program calls it the way it runs.
   */
  args?: string[][];
  /** A call that may wait for another party gets this keyword argument (`timeout=0.001`) every time. */
  timeout?: string;
}

export interface SurfaceProperty {
  name: string;
  /** Which of get / set / delete worked on a throw-away instance. */
  get: boolean;
  set: boolean;
  del: boolean;
}

export type SurfaceProtocol = 'iteration' | 'iterator' | 'mapping' | 'sequence' | 'buffer' | 'context-manager' | 'pickling' | 'copying' | 'comparison' | 'hashing' | 'setstate';

export interface SurfaceType {
  module: string;
  name: string;
  /** A Python expression that makes one (`M` is the module), checked on the target; null: none found. */
  ctor: string | null;
  methods: SurfaceMethod[];
  properties: SurfaceProperty[];
  protocols: SurfaceProtocol[];
  /** Whether it has an `__init__` of its own (re-initialisation applies). */
  init?: boolean;
  /** A statement over `obj` that calls `__init__` again and ran single-threaded (null: none did). */
  reinit?: string | null;
  /** A statement over `obj` that calls `__setstate__` and ran single-threaded (null: none did). */
  restate?: string | null;
  /** Whether a program can subclass it (Py_TPFLAGS_BASETYPE): class-level writes apply. */
  subclassable?: boolean;
}

export interface SurfaceFunction {
  module: string;
  name: string;
  arity: [number, number];
}

/** A probe the interpreter died under, single-threaded, while it was introspected: a finding in itself. */
export interface SurfaceCrash {
  /** `MODULE.TYPE.MEMBER:OP`, e.g. `_sqlite3.Connection.autocommit:del`. */
  probe: string;
  /** How it died (`SIGSEGV`, `exit 134`, ...). */
  how: string;
}

export interface Surface {
  /** The interpreter's version, and whether it is a free-threaded build. */
  python: string;
  free_threaded: boolean;
  modules: string[];
  types: SurfaceType[];
  functions: SurfaceFunction[];
  /** Modules that did not import. */
  errors: { module: string; error: string }[];
  gil_before: boolean;
  gil_after: boolean;
  crashes: SurfaceCrash[];
}

/** `module.Type`, the key of a type in coverage and findings. */
export const typeKey = (t: Pick<SurfaceType, 'module' | 'name'>): string => `${t.module}.${t.name}`;

/** The members a shape can exercise on a type: its methods and its readable properties. */
export function membersOf(t: SurfaceType): string[] {
  return [...t.methods.map((m) => m.name), ...t.properties.filter((p) => p.get || p.set).map((p) => p.name)].sort();
}

/** The (type, member) pairs of the constructible types: the denominator of surface coverage. */
export function surfacePairs(surface: Pick<Surface, 'types'>): string[] {
  return surface.types.filter((t) => t.ctor !== null).flatMap((t) => membersOf(t).map((m) => `${typeKey(t)}.${m}`));
}

/** A surface of the whole interpreter (not of named modules): its registries belong to it too. */
export const isWholeInterpreter = (surface: { modules?: readonly string[] }): boolean => surface.modules?.includes('builtins') === true;
