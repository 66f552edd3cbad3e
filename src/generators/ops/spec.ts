// The operation library's vocabulary: op and kind specs, and the small builders op bodies share.
//
// Every op names its documented thread-safety (a citation key, src/generators/citations.ts) and one of
// three effect classes:
//   exact          - atomic or commutative; the final state is predicted exactly (unique tokens, per-thread
//                    keys and attributes, lock-protected read-modify-write, pure reads of immutables);
//   invariant-only - racy but memory-safe by contract; the object is tainted and only invariants are
//                    checked (no value nobody wrote, len consistent with iteration, counters in bounds);
//   crash-only     - anything else (hostile __eq__/__hash__/__del__, shared iterators, text I/O): only the
//                    crash, hang and refcount oracles apply.
// Token effects drive the accounting: every produced token must end up either in the object or in the
// `taken` list of exactly one thread (conservation), which proves lost, duplicated and phantom writes.
import { py, type Expr, type Stmt } from '../ast.js';
import type { CitationKey } from '../citations.js';

export type EffectClass = 'exact' | 'invariant-only' | 'crash-only';
export type TokenEffect =
  | 'produce' // adds this iteration's token
  | 'consume' // removes some token and records it in `taken`
  | 'produce-consume' // adds its own token, then removes that same token (recording it)
  | 'overwrite' // writes a token over another one (taints: the overwritten token is lost by design)
  | 'read' // observes without writing
  | 'count' // lock-protected increment of the object's counter: exact total
  | 'racy-count' // unlocked increment: bounded, never exact
  | 'attr' // writes this slot's own attribute: exact last value
  | 'pure' // reads an immutable: result equals the single-threaded reference
  | 'none';

export interface OpCtx {
  /** The shared object (directly, or fetched through a shared container). */
  o: Expr;
  /** This iteration's unique token. */
  tok: Expr;
  /** This thread's list of tokens it consumed from this object. */
  taken: Expr;
  /** The lock guarding the object's counter. */
  lock: Expr;
  /** A namespace holding the object's counters: `.n` (locked), `.r` (racy). */
  holder: Expr;
  /** This op instance's attribute name (per thread and slot, so writes never conflict). */
  attr: string;
  /** A small int derived from the slot, for ops that need one (indices, byte values). */
  small: number;
  /** The name of the class (or function) the object's kind defined for it, if any. */
  cls: string;
  /** This thread's refcount probe: ops may pass it as an argument, never store it. */
  probe: Expr;
}

export interface OpSpec {
  id: string;
  kind: string;
  effect: EffectClass;
  cite: CitationKey;
  tokens: TokenEffect;
  /** Exception names the op may raise by contract (caught and counted as racy). */
  allowed: string[];
  /** Statements of one execution, for everything but pure ops. */
  body?: (c: OpCtx) => Stmt[];
  /** For pure ops: the expression whose value must equal its single-threaded reference. */
  pure?: (o: Expr) => Expr;
  /** Passes the thread's refcount probe through the operation (the refcount oracle checks it). */
  usesProbe?: boolean;
  /** Modules the op needs beyond its kind's (a serializer, the hook's module). */
  imports?: string[];
  /** Memory grows with every call by design: programs with it never run the leak harness. */
  notMemoryNeutral?: boolean;
}

export interface KindSpec {
  id: string;
  /** Modules the kind and its ops need. */
  imports: string[];
  /** The expression that creates the object (`cls` names the class or function `defs` defined). */
  create: (k: number, cls: string) => Expr;
  /** Class or function definitions the kind needs, under the name `cls`. */
  defs?: (cls: string) => Stmt[];
  /** How the final contents are read for token accounting, when the kind holds tokens. */
  contents?: (o: Expr) => Expr;
  /** Dict-like token containers map each token to its writer's thread id. */
  valuesAreOwners?: boolean;
  /** `len(o) == len(list(o))` is checked after join. */
  sized?: boolean;
  /**
   * The object is a lock-like primitive itself (ops use it as the lock): what `count` ops increment is its
   * holder's `.n`, not an attribute of the lock.
   */
  isLock?: boolean;
  /**
   * Where `count` totals live when not on the object's `.n`: `attributes` (the object takes `n` and `r`
   * attributes at creation), `class` (on the class, reset every round), `per-key` (a mapping counted per key).
   */
  counts?: 'attributes' | 'class' | 'per-key';
  /**
   * One iterator every thread advances: free-threading's documented unsafe shape (the howto's "Iterators"),
   * so its crash-only findings say so, and the scenario weights it by `sharedIteratorWeight`.
   */
  sharedIterator?: boolean;
  /** Prefix of the name its `defs` define (default `T`): `C_o0`, `cached_o1`, … */
  classPrefix?: string;
  /** Where a `count` op's total is read (default: the object's, or its holder's, `.n`). */
  counter?: (o: Expr) => Expr;
  /** Creating one leaves memory behind by design: programs with it never run the leak harness. */
  notMemoryNeutral?: boolean;
  /**
   * The C source of its implementation in CPython's tree, for kinds implemented in C: a crash that faults
   * inside the allocator while a thread operates on the kind is filed under it (triage/family.ts).
   */
  impl?: string;
  cite: CitationKey;
}

// ---------------------------------------------------------------------------------------------------
// Small builders for op bodies

/** Attribute names per object are a0..a{MAX_ATTRS-1} (a __slots__ class must list them up front). */

export const MAX_ATTRS = 64;

export const N = py.name;
export const keep = (e: Expr): Stmt => py.assign(py.store('_r'), e);
export const call = (o: Expr, method: string, ...args: Expr[]): Stmt => py.expr(py.method(o, method, args));
export const take = (c: OpCtx, e: Expr): Stmt => call(c.taken, 'append', e);
export const withLock = (lock: Expr, body: Stmt[]): Stmt => py.with([[lock, null]], body);
export const inc = (target: Expr, attr: string): Stmt => py.augAssign(py.attrStore(target, attr), 'Add', py.int(1));
export const str = py.str;
export const int = py.int;

export type OpDef = Omit<OpSpec, 'kind' | 'allowed'> & { allowed?: string[] };
export function ops(kind: string, defs: OpDef[]): OpSpec[] {
  return defs.map((d) => ({ allowed: [], ...d, kind, id: `${kind}.${d.id}` }));
}

/** Ops every token container shares: conservation through its own add/remove methods. */
export function pureOps(kind: string, cite: CitationKey, exprs: [string, (o: Expr) => Expr][]): OpSpec[] {
  return exprs.map(([id, pure]) => ({ id: `${kind}.${id}`, kind, effect: 'exact', cite, tokens: 'pure', allowed: [], pure }));
}

// Shared by several families' ops.
export const IDX = ['IndexError'];
// Resizing a bytearray while another thread's bytes(o) holds a buffer export raises BufferError
// ("Existing exports of data: object cannot be re-sized"): safe, and only possible without the GIL.
export const RESIZE = ['BufferError'];
export const HOSTILE_CAP = 64;
export const token = (c: OpCtx) => c.tok;
