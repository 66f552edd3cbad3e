// Families: one suspected bug each. A bucket is one signature (the dedup key of the oracles, fine on
// purpose: it keeps the innermost function and the op as evidence); a family groups the buckets a triager
// would call one bug, and every bucket belongs to exactly one. A family is the bug a fix would close, and
// two buckets are one family only when the evidence says so; the family says which rule joined them:
//
//   entry         crash, hang: the function where the faulting (or hung) thread's C stack enters the
//                 implementation of what it operated on (the outermost frame of the innermost
//                 implementation file before the interpreter's dispatch), not the file: separate upstream
//                 fixes land in one file (gh-91153, gh-142560 and gh-143003 all in bytearrayobject.c).
//                 The interpreter's dispatch on the way in (eval loop, abstract.c, call.c, builtins, slot
//                 wrappers) and shared helpers on the way down (PyTuple_Pack, _Py_dict_lookup) are skipped:
//                 groupby_next, _grouper_create and PyTuple_Pack < groupby_next all enter at groupby_next.
//   heap          a heap corruption (a fault or a spin in the allocator, a thread's teardown, the
//                 collector's walk): the kinds of the objects the program shared and mutated, never
//                 Objects/mimalloc and never the op a victim thread was running.
//   tracing       crash: a fault in the tracing and profiling machinery (legacy_tracing.c, instrumentation.c)
//                 of a program whose threads set or clear tracing for all threads: the interpreter's
//                 tracing state is the object shared and mutated, whichever hook or op the thread was in.
//   race-files    race: the source files of the two accesses (and the global they touch, when it is one).
//   op-exception  differential: object kind, op and exception type (what the README promises).
//   writers       lost-write: object kind and the ops that wrote the lost tokens (lost or duplicated).
//   leak-writers  leak: object kinds and the ops that write to them (a read does not leak).
//   no-stack      crash without C frames: how it died and the object the thread operated on.
//                 (entry and no-stack: a crash that also shows with the GIL on is a family of its own.)
//   signature     internal-error, refcount, and anything without more to go by: one family per signature.
// Families measured against bugs: `npm run bench -- families` scores these rules on a labelled set.
import type { BucketEvidence, BucketMeta } from '../store/crashStore.js';
import type { Finding, FindingKind, NativeFrame, NativeThread, RunResult } from '../types.js';
import { KINDS, OPS } from '../generators/ops.js';
import { sharedObjects } from '../programHeader.js';
import { signatureId } from '../signature.js';
import { describeSite, entrySite, EVAL_LOOP, frameSite, moduleOfFile, treePath, type Site } from './entrySite.js';
export { entrySite, implementationSite, moduleOfFile, treePath, type Site } from './entrySite.js';
import { gilFamily, WITH_GIL } from '../familyGil.js';
export { familyBase, WITH_GIL } from '../familyGil.js';
import { FINDING_KINDS, findingKind, type FamilyRule } from '../findingKinds.js';
import { foldFunction, heapCorruption, SYNC_WAIT, blockedFrames } from '../oracles/nativeSignature.js';
import { isExtensionFrame, parseTsanStacks, signingFrame, signingStacks, type TsanFrame, type TsanStack } from '../oracles/raceOracle.js';

/** Bumped when family keys change shape: `triage` re-groups buckets whose family is older. */
export const FAMILY_FORMAT = 12;

/** Which evidence put a bucket in its family (the rules above). */
export type FamilyJoin = 'entry' | 'heap' | 'tracing' | 'race-files' | 'op-exception' | 'writers' | 'leak-writers' | 'no-stack' | 'signature';

export interface Family {
  /** The identity: buckets with the same key are one family. */
  key: string;
  /** One line for people. */
  label: string;
  format: number;
  /** The rule that joins buckets into it (absent in stores written before rules were named). */
  rule?: FamilyJoin;
}

/** A short stable name for a family: `fam-` and 8 hex digits of its key. */
export function familyId(key: string): string {
  return `fam-${signatureId(key).slice(0, 8)}`;
}

export interface FamilyFacts {
  kind: FindingKind;
  signature: string;
  /** The op the faulting thread was executing (`groupby.next on groupby`). */
  op?: string | null;
  /** Crash: every frame of the faulting thread, innermost first. */
  faultingFrames?: NativeFrame[];
  /** Crash: the other threads of the core (where they were when it faulted). */
  otherThreads?: NativeThread[];
  /** Hang: every thread of the last sample. */
  hangThreads?: NativeThread[];
  /** Race: the report's stacks (both accesses, the location, thread creation). */
  tsanStacks?: TsanStack[];
  /** Crash: it also showed with the GIL on (a bug the GIL does not hide: re-entrancy, a use after free). */
  withGil?: boolean;
  /** The program's shared objects: variable -> kind and the ops applied to it (programHeader.ts). */
  objects?: Record<string, { kind: string; ops: string[] }>;
}

/** The object kind of an op label (`groupby.next on groupby` -> `groupby`). */
function opKind(op: string | null | undefined): string | null {
  if (!op) return null;
  const on = / on (\S+)$/.exec(op);
  return on ? (on[1] as string) : null;
}

// ---- per kind ---------------------------------------------------------------------------------------

const OP_TOKEN_OF = new Map(OPS.map((op) => [op.id, op.tokens]));

/** Kinds whose every op is a read still change state: a shared iterator advances under `next()`. */
const KIND_MUTATES_ON_READ = new Set(KINDS.filter((k) => k.sharedIterator).map((k) => k.id));

/** An op that changes its object (an unknown op counts: a hand-written or older program's). */
function writes(op: string): boolean {
  const t = OP_TOKEN_OF.get(op);
  return t === undefined || (t !== 'read' && t !== 'pure');
}

/**
 * The kinds of the program's shared objects that something changed (an op that writes, or a shared
 * iterator advanced), sorted: a heap corruption is theirs. All of them when none was.
 */
function mutatedKinds(objects: FamilyFacts['objects']): string[] {
  const all = Object.values(objects ?? {});
  const mutated = all.filter((o) => KIND_MUTATES_ON_READ.has(o.kind) || o.ops.some(writes));
  return [...new Set((mutated.length ? mutated : all).map((o) => o.kind))].sort();
}

const KIND_IMPL = new Map(KINDS.flatMap((k) => (k.impl ? [[k.id, k.impl] as const] : [])));

/**
 * The C file of a kind: the op table's, or for a surface program's `module.Type` the file of that module
 * among the op table's (`array.ArrayType`: Modules/arraymodule.c; `_collections.deque`: _collectionsmodule.c).
 */
function implOf(kind: string): string | undefined {
  const own = KIND_IMPL.get(kind);
  if (own || !kind.includes('.')) return own;
  const module = kind.slice(0, kind.lastIndexOf('.'));
  return [...new Set(KIND_IMPL.values())].find((file) => file.startsWith('Modules/') && moduleOfFile(file) === module);
}

/** Whether a thread's stack is inside a kind's implementation (`array`: Modules/arraymodule.c; `_io.BytesIO`: a file of `_io`). */
function inKindCode(thread: NativeThread, kind: string): boolean {
  const impl = KIND_IMPL.get(kind);
  const module = kind.includes('.') ? (kind.split('.')[0] as string).replace(/^_/, '') : null;
  return thread.frames.slice(0, 40).some((fr) => {
    const site = frameSite(fr);
    if (!site) return false;
    return impl ? site.file === impl : module !== null && (moduleOfFile(site.file).replace(/^_/, '') === module || site.file.includes(`/_${module}/`) || site.file.includes(`/${module}/`));
  });
}

/**
 * The kinds implemented in C, when there are any: a class written in Python (queue.Queue, Counter, a
 * Semaphore) writes to the C heap only through the builtins it holds, so beside a C-implemented kind the
 * program also mutated, it is not the one that damaged the heap. A surface program's types (`module.Type`)
 * are C types.
 */
function inC(kinds: string[]): string[] {
  const native = kinds.filter((k) => KIND_IMPL.has(k) || k.includes('.'));
  return native.length ? native : kinds;
}

/**
 * One name per type, whichever generator shared it: a surface program's `_io.BytesIO` or `array.array` is
 * the op table's `BytesIO` or `array`.
 */
function typeName(kind: string): string {
  return kind.includes('.') ? (kind.split('.').pop() as string) : kind;
}

/**
 * A heap corruption's family: the mutated shared objects' kinds, whatever faulted or spun on the damage.
 * When other threads were caught inside some of those objects' code at that moment, those kinds only: the
 * evidence the core (or the hang's samples) gives of who was writing to the heap, never the victim's op.
 */
function heapFamily(f: FamilyFacts, bystanders: readonly NativeThread[] = [], found = 'a fault or spin in the allocator found the heap damaged'): Family | null {
  const mutated = inC(mutatedKinds(f.objects));
  const caught = mutated.filter((k) => bystanders.some((t) => inKindCode(t, k)));
  const kinds = caught.length ? caught : mutated;
  if (kinds.length === 0) return null;
  const ops = [...new Set(Object.values(f.objects ?? {}).filter((o) => kinds.includes(o.kind)).flatMap((o) => o.ops.filter(writes)))].sort();
  const names = [...new Set(kinds.map(typeName))].sort();
  return {
    key: `heap|${names.join('+')}`,
    label: `heap corruption (${found}) by a shared ${names.join(', ')}${ops.length ? ` via ${ops.slice(0, 6).join(', ')}${ops.length > 6 ? ', …' : ''}` : ''}`,
    format: FAMILY_FORMAT,
    rule: 'heap',
  };
}

/**
 * The runtime's services every generated program runs outside its shared objects: tracemalloc's hooks (the
 * leak rounds), locks and their waits (barriers, joins), sleeps, writes of its report, thread states.
 */
const RUNTIME_SERVICE_SITE = /^(Python\/(tracemalloc|parking_lot|lock|thread|fileutils|pystate|brc|ceval_gil|critical_section)\.c|Python\/thread_pthread\.h|Modules\/(timemodule|_threadmodule|faulthandler)\.c)$/;

/** The C files of the program's shared kinds (a surface type's module is not known as a file: none). */
function sharedImplFiles(objects: FamilyFacts['objects']): Set<string> {
  return new Set(Object.values(objects ?? {}).flatMap((o) => {
    const impl = KIND_IMPL.get(o.kind);
    return impl ? [impl] : [];
  }));
}

/**
 * Where the faulting thread entered the code of the kind its op ran on, when that code is on the stack
 * further out than the innermost site (`list_repr_impl < ... < array_repr`: array.repr entered at array_repr,
 * which gdb may name with the line of a header inlined into it). Null when the kind's code is not there.
 */
/** The module an extension library holds: `…/lib-dynload/array.cpython-313t-x86_64-linux-gnu.so` -> `array`. */
function libModule(lib: string): string {
  return (lib.split('/').pop() as string).split('.')[0] as string;
}

function kindEntry(frames: readonly NativeFrame[], kind: string | null): Site | null {
  const impl = kind ? implOf(kind) : undefined;
  if (!impl) return null;
  const stem = (impl.split('/').pop() as string).replace(/\.c$/, '').replace(/(module|object)$/, '').replace(/^_/, '');
  const handler = frames.slice(0, 40).map((fr) => fr.func).lastIndexOf('<signal handler called>');
  let entry: Site | null = null;
  for (const fr of frames.slice(handler + 1)) {
    const site = frameSite(fr);
    if (!site) continue;
    if (EVAL_LOOP.test(site.func)) break;
    // The kind's own file; or, named with a header's line, a function of its extension module's library
    // (array.cpython-313t-….so), or of its file's prefix when the module is built in.
    const header = site.file.startsWith('Include/');
    const own = site.file === impl || (header && (fr.lib !== null ? libModule(fr.lib) === moduleOfFile(impl) : site.func.startsWith(`${stem}_`)));
    if (own) entry = { file: impl, func: site.func };
    else if (entry) break;
  }
  return entry;
}

/** The interpreter's tracing and profiling machinery: the hooks it calls, the instrumentation it installs. */
const TRACING_SITE = /^Python\/(legacy_tracing|instrumentation)\.c$/;

/** Ops that set or clear tracing or profiling for every thread while the others run (threading.settrace_all_threads). */
const SETS_TRACING = /(^|\.)(settrace|setprofile)(_all)?$/;

/**
 * A fault in the tracing machinery of a program whose threads switch tracing or profiling on and off for
 * all threads: the interpreter's tracing state is the shared object being changed under the others, so
 * the family is that, whichever trampoline faulted (call_trace_func, sys_profile_start, setup_tracing,
 * a line event) and whichever op the thread was in (a list.clear, a b85decode: the hook fires anywhere).
 */
function tracingFamily(f: FamilyFacts): Family | null {
  const setters = [...new Set(Object.values(f.objects ?? {}).flatMap((o) => o.ops.filter((op) => SETS_TRACING.test(op))))].sort();
  if (setters.length === 0) return null;
  const frames = f.faultingFrames ?? [];
  const handler = frames.slice(0, 40).map((fr) => fr.func).lastIndexOf('<signal handler called>');
  const site = frames.slice(handler + 1, handler + 13).map(frameSite).find((s): s is Site => s !== null && TRACING_SITE.test(s.file));
  if (!site) return null;
  return {
    key: 'crash|tracing|set for all threads',
    label: `crash in the tracing machinery (${site.func}, ${site.file}) while threads set or clear tracing for all threads (${setters.join(', ')})`,
    format: FAMILY_FORMAT,
    rule: 'tracing',
  };
}

function crashFamily(f: FamilyFacts): Family {
  // A fault inside the allocator (or a thread's teardown, or the collector's walk) says only that the heap
  // was already corrupt: the objects the program shared and mutated did it.
  if (f.faultingFrames && heapCorruption(f.faultingFrames)) {
    const heap = heapFamily(f, f.otherThreads);
    if (heap) return heap;
  }
  const tracing = f.faultingFrames ? tracingFamily(f) : null;
  if (tracing) return tracing;
  const kind = opKind(f.op);
  const inner = f.faultingFrames ? entrySite(f.faultingFrames) : null;
  // A surface program's op names no kind (`thread_N: obj.__repr__()`): its one shared type is the kind.
  const shared = Object.values(f.objects ?? {});
  // Only where the fault is in a core object's code the type's code called (list_repr under array_repr), not
  // in a library of its own module (expat's xmlparse.c under XMLParser.feed and .flush is one site).
  const surfaceType = shared.length === 1 && f.op && !f.op.includes(' on ') && shared[0]?.kind.includes('.') && inner?.file.startsWith('Objects/') ? (shared[0]?.kind ?? null) : null;
  const entryKind = kind ?? surfaceType;
  const site = f.faultingFrames && inner && inner.file !== (entryKind ? implOf(entryKind) : undefined) ? (kindEntry(f.faultingFrames, entryKind) ?? inner) : inner;
  // A fault in a runtime service no shared object's code runs (tracemalloc's hooks, a lock wait, a sleep, a
  // write to a file) while the program shared C objects it mutated: the heap under the service was damaged.
  if (site && RUNTIME_SERVICE_SITE.test(site.file) && !sharedImplFiles(f.objects).has(site.file)) {
    const native = mutatedKinds(f.objects).filter((k) => KIND_IMPL.has(k) || k.includes('.'));
    const heap = native.length ? heapFamily(f, f.otherThreads, `a fault in ${site.func} (${site.file}), runtime code no shared object runs`) : null;
    if (heap) return heap;
  }
  // A crash that also shows with the GIL on is not the free-threading race at the same site: the GIL does
  // not hide it (a re-entrant change under a hostile argument, a use after free), and its fix is another.
  const gil = f.withGil ? WITH_GIL : '';
  if (site) return { key: `crash|${site.file}|${site.func}${gil}`, label: `crash in ${site.func} (${site.file})${kind ? ` on ${kind}` : ''}`, format: FAMILY_FORMAT, rule: 'entry' };
  // No C stack: the object the faulting thread was operating on, and how it died.
  const parts = f.signature.split('|');
  const how = parts[1] ?? '?';
  const what = kind ?? (/\|py:([^|]*)/.exec(f.signature)?.[1] ?? '?');
  return { key: `crash|py|${how}|${what}${gil}`, label: `crash (${how}, no C stack) during ${what}`, format: FAMILY_FORMAT, rule: 'no-stack' };
}

function hangFamily(f: FamilyFacts): Family {
  const threads = f.hangThreads ?? [];
  const culprits = threads.filter((t) => {
    const first = blockedFrames(t, 1)[0];
    return first !== undefined && !SYNC_WAIT.test(foldFunction(first.func ?? ''));
  });
  // A culprit spinning in the allocator (mimalloc's free list walked at thread exit): a heap corruption; the
  // other culprits wait on it (a stop-the-world it never joins: _Py_HandlePending).
  const spinning = culprits.filter((t) => heapCorruption(t.frames));
  if (spinning.length > 0) {
    const heap = heapFamily(f, threads.filter((t) => !spinning.includes(t)));
    if (heap) return heap;
  }
  const sites = (culprits.length > 0 ? culprits : threads).map((t) => entrySite(t.frames, true)).filter((s): s is Site => s !== null);
  const named = [...new Set(sites.map((s) => `${s.func} (${s.file})`))].sort();
  if (named.length > 0) return { key: `hang|${named.join(' + ')}`, label: `hang in ${named.join(' + ')}`, format: FAMILY_FORMAT, rule: 'entry' };
  // No C stacks (no gdb), or only the program's own locks: the signature is all there is.
  return { key: f.signature, label: `hang: ${f.signature.replace(/^hang\|/, '').slice(0, 100)}`, format: FAMILY_FORMAT, rule: 'signature' };
}

function tsanSiteFile(frame: TsanFrame): string {
  if (isExtensionFrame(frame)) return frame.file ? treePath(frame.file) : (frame.module ?? frame.func);
  return frame.file ? treePath(frame.file) : frame.func;
}

/**
 * Runtime services every object's code reaches: the allocator, biased reference counting, tracemalloc's
 * hooks, thread states, the GIL switch, string search helpers, generic object code. A race between one and
 * an object's own code is the object's (a 30-minute TSan campaign filed the bytearray resize race under
 * five families: alone, against mimalloc, memoryobject, fastsearch, and as a use after free).
 */
const RACE_SERVICE = /^(Include\/internal\/mimalloc\/|Objects\/mimalloc\/|Python\/(brc|tracemalloc|pystate|ceval_gil|lock|parking_lot)\.c$|Objects\/stringlib\/|Objects\/object\.c$|Include\/)/;

/**
 * Functions that initialise a block just allocated or resized (a constructor, a resize in place): the other
 * access read that memory's previous occupant, so the reader is the suspect (`func_get_qualname ~
 * resize_compact` is the function's qualname read while the string is rebuilt).
 */
const FRESH_BLOCK = /^(_?Py[A-Z]\w*_New\w*|_?Py[A-Z]\w*_From\w+|new_keys_object|\w*_allocate\w*|resize_compact|_PyBytes_Resize|set_ob_shash)$/;

/**
 * The object files of a race: services and fresh-block initialisers drop out when an object's own code is
 * on the other side; between an extension module's C code and a core object's file, the module's (core
 * objects guard their own methods with per-object critical sections; a module reaching into their
 * internals, PyList_GET_ITEM and the like, is what skips them: json's encoder, pickle's batcher, heapq).
 */
function raceSites(frames: readonly TsanFrame[]): string[] {
  const sites = (fs: readonly TsanFrame[]) => [...new Set(fs.map(tsanSiteFile))].sort();
  const own = frames.filter((fr) => !RACE_SERVICE.test(tsanSiteFile(fr)));
  const readers = own.filter((fr) => !FRESH_BLOCK.test(fr.func));
  const chosen = sites(readers.length ? readers : own.length ? own : frames);
  const modules = chosen.filter((file) => /^Modules\//.test(file));
  return modules.length && modules.length < chosen.length && chosen.every((file) => /^(Modules|Objects)\//.test(file)) ? modules : chosen;
}

function raceFamily(f: FamilyFacts): Family {
  const kind = f.signature.split('|')[1] ?? 'race';
  const stacks = f.tsanStacks ?? [];
  // A use after free (an access racing with the free of its block) and a plain data race on the same
  // object are one bug seen at two moments: the family is the object's code either way; the bucket's
  // title keeps which it was.
  if (kind === 'freed-block') {
    const users = stacks.length ? signingStacks({ kind: 'data race', stacks }).map(signingFrame).filter((s): s is TsanFrame => s !== null && !/^(mi_block_set_next\w*|_?mi_free_block\w*)$/.test(s.func)) : [];
    const sites = users.length ? raceSites(users).slice(0, 1) : [f.signature.split('|')[2] ?? '?'];
    return { key: `race|race|${sites.join(' ~ ')}`, label: `race in ${users.length ? sites.map(describeSite).join(' and ') : sites.join(' and ')}`, format: FAMILY_FORMAT, rule: 'race-files' };
  }
  const signed = signingStacks({ kind, stacks }).map(signingFrame).filter((s): s is TsanFrame => s !== null);
  if (signed.length === 0) return { key: f.signature, label: f.signature, format: FAMILY_FORMAT, rule: 'signature' };
  // A global variable is its own object; a heap block is whatever the files' code allocates.
  const global = stacks.map((s) => /^Location is global '([^']+)'/.exec(s.title)?.[1]).find((g) => g !== undefined);
  const pair = kind.startsWith('data race') || kind === 'heap-use-after-free' ? raceSites(signed) : [tsanSiteFile(signed[0] as TsanFrame)];
  const what = kind.startsWith('data race') ? 'race' : kind;
  return {
    key: `race|${what}|${pair.join(' ~ ')}${global ? `|global ${global}` : ''}`,
    label: `${what} ${pair.length > 1 ? 'between' : 'in'} ${pair.map(describeSite).join(' and ')}${global ? ` on ${global}` : ''}`,
    format: FAMILY_FORMAT,
    rule: 'race-files',
  };
}

function differentialFamily(f: FamilyFacts): Family {
  const parts = f.signature.split('|');
  if (parts[1] === 'outcome') {
    return { key: parts.slice(0, 4).join('|'), label: `script ended with ${parts[2] ?? '?'} instead of ${(parts[3] ?? '').replace(/^vs /, '')}`, format: FAMILY_FORMAT, rule: 'op-exception' };
  }
  // Today's shape: differential|<observable>|<subject>|<detail>|<basis>. The family is the object kind, the
  // op and the exception type (the README's promise): a TypeError and a ValueError from one op may be one
  // bug, but only a fix, bisected, says so (triage --bisect), not their resemblance.
  if (parts.length === 5) {
    const [, observable = '?', subject = '?', detail = '?'] = parts;
    if (observable === 'unexpected') return { key: `differential|unexpected|${subject}|${detail}`, label: `unexpected ${detail} from ${subject}`, format: FAMILY_FORMAT, rule: 'op-exception' };
    if (observable === 'pure_mismatch') return { key: `differential|pure_mismatch|${subject}`, label: `wrong results read from ${subject}`, format: FAMILY_FORMAT, rule: 'op-exception' };
    return { key: `differential|${observable}`, label: `${observable} wrong (via ${detail})`, format: FAMILY_FORMAT, rule: 'op-exception' };
  }
  // Before gen/2 (differential|<observable>|<basis>|<sides>): the observable, with its object's kind.
  const key = parts[1] ?? '?';
  const m = /^(o\d+)\.(.+)$/.exec(key);
  const objects = f.objects ?? {};
  const kinds = [...new Set(Object.values(objects).map((o) => o.kind))].sort().join(',') || '?';
  const named = m ? `${objects[m[1] as string]?.kind ?? '?'}.${m[2] as string}` : `${key} in ${kinds}`;
  return { key: `differential|legacy|${named}`, label: `${named} (an older bucket: one per observable)`, format: FAMILY_FORMAT, rule: 'signature' };
}

function lostWriteFamily(f: FamilyFacts): Family {
  const [, subtype = '?', kind = '?', ops = '?'] = f.signature.split('|');
  // Lost and duplicated tokens of the same writers are one race; a phantom (a value nobody wrote) is another symptom.
  // A phantom is the object's storage read after it moved (its writers are whichever ops the program
  // happened to use): the kind's, whatever wrote.
  if (subtype === 'phantom') return { key: `lost-write|phantom|${kind}`, label: `phantom values (read from storage nobody wrote) in ${kind}, seen via ${ops}`, format: FAMILY_FORMAT, rule: 'writers' };
  return { key: `lost-write|lost|${kind}|${ops}`, label: `lost or duplicated writes in ${kind} via ${ops}`, format: FAMILY_FORMAT, rule: 'writers' };
}

function leakFamily(f: FamilyFacts): Family {
  const label = f.signature.replace(/^leak\|/, '');
  const ops = label.split(',').filter((id) => OP_TOKEN_OF.has(id));
  if (ops.length === 0) return { key: f.signature, label: `leak in ${label.slice(0, 100)}`, format: FAMILY_FORMAT, rule: 'signature' };
  const writers = ops.filter((id) => OP_TOKEN_OF.get(id) !== 'read' && OP_TOKEN_OF.get(id) !== 'pure');
  const kinds = [...new Set(ops.map((id) => id.split('.')[0] as string))].sort();
  const chosen = (writers.length ? writers : ops).sort();
  return { key: `leak|${kinds.join(',')}|${chosen.join(',')}`, label: `leak in ${kinds.join(', ')} via ${chosen.join(', ')}`, format: FAMILY_FORMAT, rule: 'leak-writers' };
}

/** By signature: internal errors (message and C function), refcount probes, and kinds never stored. */
function signatureFamily(f: FamilyFacts): Family {
  return { key: f.signature, label: f.signature.slice(0, 120), format: FAMILY_FORMAT, rule: 'signature' };
}

/** Each family rule a finding kind can name (findingKinds.ts `family`). */
const FAMILY_RULES: { readonly [R in FamilyRule]: (f: FamilyFacts) => Family } = {
  crash: crashFamily,
  hang: hangFamily,
  race: raceFamily,
  differential: differentialFamily,
  'lost-write': lostWriteFamily,
  leak: leakFamily,
  signature: signatureFamily,
};

/** The family of a bucket or finding. */
export function familyOf(f: FamilyFacts): Family {
  return FAMILY_RULES[findingKind(f.kind)?.family ?? 'signature'](f);
}

// ---- facts from what a bucket keeps ------------------------------------------------------------------

/** What a bucket directory holds that a family is computed from (each file optional). */
export interface BucketFiles {
  evidence?: BucketEvidence | null;
  stackText?: string | null;
  source?: string | null;
}

function objectsOf(source: string | null | undefined): FamilyFacts['objects'] {
  const shared = source ? sharedObjects(source) : null;
  if (!shared) return undefined;
  return Object.fromEntries(shared.map((o, i) => [`o${i}`, o]));
}

/** The facts of a bucket (or of a finding about to become one: the same files, before they are written). */
export function factsOf(meta: Pick<BucketMeta, 'kind' | 'signature' | 'native'> & { modes?: readonly string[] }, files: BucketFiles): FamilyFacts {
  // What the kind's family rule reads (its row in findingKinds.ts): a new kind that picks the crash rule gets a crash's facts.
  const spec = findingKind(meta.kind);
  const rule = spec?.family ?? 'signature';
  const facts: FamilyFacts = { kind: meta.kind, signature: meta.signature, op: meta.native?.op ?? null, objects: objectsOf(files.source), withGil: spec?.gilSplit === true && (meta.modes ?? []).includes('gil-on') };
  const native = files.evidence?.native;
  if (rule === 'crash') {
    const sample = native?.source === 'core' ? native.samples[0] : undefined;
    const thread = sample?.threads.find((t) => t.lwp === native?.faultingLwp) ?? sample?.threads[0];
    // The evidence must be the run that signed the bucket: its faulting thread holds the signature's
    // innermost function. Otherwise (a store written before that was guaranteed) the signature's own frames.
    const innermost = meta.native?.frames[0]?.split(' ')[0];
    if (thread && (!innermost || thread.frames.some((f) => f.func !== null && foldFunction(f.func) === innermost))) {
      facts.faultingFrames = thread.frames;
      facts.otherThreads = sample?.threads.filter((t) => t !== thread);
    } else if (meta.native?.frames.length) facts.faultingFrames = meta.native.frames.map(parseShownFrame);
  }
  if (rule === 'hang' && native && native.samples.length > 0) facts.hangThreads = native.samples[native.samples.length - 1]?.threads;
  if (rule === 'race' && files.stackText) facts.tsanStacks = parseTsanStacks(files.stackText);
  return facts;
}

/** `groupby_next (Modules/itertoolsmodule.c:546)` or `counter_increment [ftfuzz_planted.so]` back into a frame. */
function parseShownFrame(shown: string): NativeFrame {
  const m = /^(\S+)(?: \(([^():]+):(\d+)\)| \[([^\]]+)\])?$/.exec(shown);
  return { func: m?.[1] ?? shown, file: m?.[2] ?? null, line: Number(m?.[3] ?? 0), lib: m?.[4] ?? null };
}

/** Whether a bucket's recorded family is current (else `triage` computes it again). */
export function familyCurrent(meta: Pick<BucketMeta, 'family' | 'kind' | 'modes'>): boolean {
  // A crash seen with the GIL on since its family was written (by a store that did not move it) is stale too.
  return meta.family !== undefined && meta.family.format === FAMILY_FORMAT && gilFamily(meta.family, meta.kind, meta.modes).key === meta.family.key;
}

/**
 * The family of a finding from the runs it came from (a trial's, a campaign's): the run that shows it is
 * the one a bucket's evidence would be, and a race's stacks are in the finding's details (as stack.txt).
 */
export function familyOfFinding(finding: Pick<Finding, 'kind' | 'signature' | 'native' | 'modes' | 'details'>, runs: readonly RunResult[], source?: string): Family {
  const inModes = runs.filter((r) => finding.modes.includes(r.modeRequested));
  const spec = FINDING_KINDS[finding.kind];
  const run =
    spec.family === 'crash' ? inModes.find((r) => r.native?.source === 'core') :
    spec.outlivesLimit ? inModes.find((r) => r.termination.kind === 'timeout' && r.native !== undefined) :
    inModes[0];
  const evidence = run ? { termination: run.termination, modeRequested: run.modeRequested, programPath: run.program.path, stderrTail: run.stderrTail, native: run.native } : null;
  return familyOf(factsOf(finding, { evidence, stackText: spec.stacks === 'tsan' ? finding.details : null, source: source ?? run?.program.source ?? null }));
}
