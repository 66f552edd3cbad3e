// Where a C stack enters an implementation: the site a crash or hang family is keyed by (family.ts).
// From the innermost implementation frame outward, the last frame of that file before the interpreter's
// dispatch; services (the allocator, locks, a core type's API called by another implementation) passed over.
import type { NativeFrame } from '../types.js';
import { CALL_PLUMBING, CRASH_PLUMBING, foldFunction, REFCOUNT_INLINE, SANITIZER_RUNTIME, SYNC_WAIT, SYSTEM_LIB, WAIT_PLUMBING } from '../oracles/nativeSignature.js';
import { ALLOC_PLUMBING } from '../oracles/raceOracle.js';

/** `./Objects/listobject.c`, `/build/Python-3.13.5/Modules/_elementtree.c` -> the path in CPython's tree. */
export function treePath(file: string): string {
  const m = /(?:^|\/)((?:Objects|Python|Modules|Include|Parser|Programs)\/.*)$/.exec(file);
  const tree = m ? (m[1] as string) : (file.split('/').pop() ?? file);
  // Argument Clinic's generated wrappers belong to the file they are included in.
  return tree.replace(/^(Objects|Modules|Python)\/(.*\/)?clinic\/([\w.-]+)\.c\.h$/, '$1/$2$3.c');
}

/** The interpreter's own dispatch between Python code and an implementation: passed through, never the site. */
export const GENERIC_FILE = /^(Python\/(ceval\.c|ceval_macros\.h|generated_cases\.c\.h|bytecodes\.c|bltinmodule\.c|instrumentation\.c|context\.c|pythonrun\.c|specialize\.c)|Objects\/(abstract|call|object|methodobject|descrobject|classobject|funcobject)\.c|Modules\/main\.c|Programs\/)/;
/** typeobject.c is both the type's implementation (type_setattro, type_set_qualname) and the slot dispatch. */
const GENERIC_TYPE_FUNC = /^(slot_\w+|wrap_\w+|vectorcall_\w+|call_method\w*|call_unbound\w*|lookup_maybe_method|lookup_method|vectorcall_method|maybe_call_special\w*|type_call|tp_new_wrapper|_PyType_Lookup\w*|find_name_in_mro\w*|_PyObject_LookupSpecial\w*)$/;
/** The eval loop: where Python code called the C stack above it. The site is never past it. */
export const EVAL_LOOP = /^(_PyEval_EvalFrameDefault|_PyEval_EvalFrame|_PyEval_Vector|PyEval_EvalCode\w*)$/;
/** Shared services an implementation calls: a fault in them is the caller's (a freed item passed to PyTuple_Pack). */
export const SERVICE_FILE = /^(Objects\/|Python\/(pystate\.c|gc_free_threading\.c|gc\.c)|Include\/)/;
/** Whole files of services (locks, time, errors, argument parsing): any function of theirs, static or not. */
const SERVICE_ONLY_FILE = /^Python\/(thread\w*\.[ch]|lock\.c|parking_lot\.c|critical_section\.c|pytime\.c|pyhash\.c|pymath\.c|errors\.c|getargs\.c|modsupport\.c|ceval_gil\.c|mystrtoul\.c|pystrtod\.c)$/;
/** A thread's teardown: a heap walk that spins or faults there found the heap already corrupted. */
const THREAD_TEARDOWN = /^(PyThreadState_Clear|_PyThreadState_ClearMimallocHeaps|tstate_delete_common|_PyThreadState_DeleteCurrent|PyThreadState_Delete|_PyThreadState_Delete\w*|thread_run|_PyThreadState_DeleteCurrent)$/;
const API_NAME = /^_?Py[A-Z_]/;
const ALLOCATOR_FILE = /^(Objects\/mimalloc\/|Include\/internal\/mimalloc\/|Objects\/obmalloc\.c)/;

export interface Site {
  file: string;
  func: string;
}

export function frameSite(f: NativeFrame): Site | null {
  if (!f.func || f.func === '??') return null;
  const func = foldFunction(f.func);
  if (f.file) return { file: treePath(f.file), func };
  // No debug line info: an extension's frames still name their shared object.
  return f.lib ? { file: f.lib.split('/').pop() ?? f.lib, func } : null;
}

/**
 * Where a stack enters an implementation, innermost first: the innermost frame that is neither plumbing,
 * the interpreter's dispatch, an allocator, nor a shared service called from an implementation further
 * out (before the eval loop). `waiting`: also skip the lock and futex machinery a blocked thread sits in.
 */
export function implementationSite(frames: readonly NativeFrame[], waiting = false): Site | null {
  return siteAt(frames, waiting)?.site ?? null;
}

/**
 * Where a stack enters the implementation its innermost site is in: from that site outward, the last frame
 * of the same file before the interpreter's dispatch or another file (headers inlined on the way are passed
 * over). `bytearray_find_internal < bytearray_find < method_vectorcall_FASTCALL` enters at bytearray_find.
 */
export function entrySite(frames: readonly NativeFrame[], waiting = false): Site | null {
  const at = siteAt(frames, waiting);
  if (!at) return null;
  let entry = at.site;
  for (const f of frames.slice(at.index + 1)) {
    const site = frameSite(f);
    if (!site) continue;
    if (EVAL_LOOP.test(site.func)) break;
    if (site.file === at.site.file) {
      entry = site;
      continue;
    }
    if (REFCOUNT_INLINE.test(site.func) || (site.file.startsWith('Include/') && f.lib === null)) continue;
    break;
  }
  return entry;
}

/** The innermost implementation site of a stack and its index (implementationSite). */
function siteAt(frames: readonly NativeFrame[], waiting: boolean): { site: Site; index: number } | null {
  let start = 0;
  const handler = frames.slice(0, 40).map((f) => f.func).lastIndexOf('<signal handler called>');
  if (handler >= 0) start = handler + 1;
  let service: { site: Site; index: number } | null = null;
  let anything: { site: Site; index: number } | null = null;
  let allocator: { site: Site; index: number } | null = null;
  // The Objects/ file that served an allocation which faulted (its frames are passed over, outward).
  let serviceFile: string | null = null;
  let leading = true;
  let passedPython = false;
  for (let index = start; index < frames.length; index++) {
    const f = frames[index] as NativeFrame;
    const site = frameSite(f);
    if (!site) continue;
    if ((f.lib !== null && SYSTEM_LIB.test(f.lib)) || SANITIZER_RUNTIME.test(site.func)) continue;
    if (leading && CRASH_PLUMBING.test(site.func)) continue;
    leading = false;
    if (EVAL_LOOP.test(site.func)) {
      // A free that faulted in Python code (a key function's Py_DECREF) run by an object's C code
      // (groupby_step calling the key): nothing but the allocator below, so the C code that ran it is the lead.
      if (allocator && service === null && !passedPython && anything?.index === allocator.index) {
        passedPython = true;
        continue;
      }
      break;
    }
    if (REFCOUNT_INLINE.test(site.func)) continue;
    anything ??= { site, index };
    if (ALLOCATOR_FILE.test(site.file) || ALLOC_PLUMBING.test(site.func)) {
      allocator ??= { site: ALLOCATOR_FILE.test(site.file) ? { file: 'Objects/mimalloc', func: site.func } : site, index };
      continue;
    }
    // mimalloc walking a corrupted free list when a thread ends: the allocator is all the stack can say.
    if (allocator && THREAD_TEARDOWN.test(site.func)) return allocator;
    // A fault inside the allocator found the heap already corrupted: the object that asked for memory
    // (array.tolist through PyList_New and list_allocate_array) is the lead, not the list code that served it.
    if (allocator && service === null && !serviceFile && site.file.startsWith('Objects/') && !GENERIC_FILE.test(site.file)) {
      service = { site, index };
      serviceFile = site.file;
      continue;
    }
    if (serviceFile !== null && site.file === serviceFile) continue;
    if (CALL_PLUMBING.test(site.func)) continue;
    if (waiting && (WAIT_PLUMBING.test(site.func) || SYNC_WAIT.test(site.func))) continue;
    if (GENERIC_FILE.test(site.file) || (site.file === 'Objects/typeobject.c' && GENERIC_TYPE_FUNC.test(site.func))) continue;
    // A header's code is inlined into its caller (gdb may even name the caller with the header's line:
    // `do_richcompare (Include/object.h:336)`): the site is further out, unless nothing else is.
    if (f.lib === null && ((API_NAME.test(site.func) && SERVICE_FILE.test(site.file)) || SERVICE_ONLY_FILE.test(site.file) || site.file.startsWith('Include/'))) {
      service ??= { site, index };
      continue;
    }
    // A service's static helpers under its API function (unicode_fromformat_write_cstr < PyUnicode_FromFormat,
    // called by _elementtree's expat_set_error with a stale message): the run is the service, the caller the site.
    const apiEnd = f.lib === null && SERVICE_FILE.test(site.file) ? serviceRunEnd(frames, index, site.file) : null;
    if (apiEnd !== null) {
      service ??= { site, index };
      index = apiEnd;
      continue;
    }
    return { site, index };
  }
  return service ?? anything;
}

/**
 * The index of the outermost frame of a run of one service file starting at `index` (a static helper
 * inward, the file's API function outward), when that API function was called from another file's code
 * that is not the interpreter's dispatch: the run is a service the caller used. Null otherwise.
 */
function serviceRunEnd(frames: readonly NativeFrame[], index: number, file: string): number | null {
  let end = index;
  for (let j = index + 1; j < frames.length; j++) {
    const site = frameSite(frames[j] as NativeFrame);
    if (!site) continue;
    if (site.file !== file) {
      const outer = frameSite(frames[end] as NativeFrame);
      const callerIsCode = !EVAL_LOOP.test(site.func) && !GENERIC_FILE.test(site.file) && !CALL_PLUMBING.test(site.func);
      return outer !== null && API_NAME.test(outer.func) && end > index && callerIsCode ? end : null;
    }
    end = j;
  }
  return null;
}

/** `Modules/itertoolsmodule.c` -> `itertools`, `Objects/listobject.c` -> `list`, `Python/legacy_tracing.c` -> `legacy_tracing`. */
export function moduleOfFile(file: string): string {
  const base = (file.split('/').pop() ?? file).replace(/\.(c|h|so)(\.\d+)*$/, '').replace(/\.cpython-.*$/, '');
  if (file.startsWith('Objects/mimalloc') || file.startsWith('Include/internal/mimalloc/')) return 'mimalloc';
  return base.replace(/(module|object)$/, '') || base;
}

export function describeSite(file: string): string {
  return `${moduleOfFile(file)} (${file})`;
}

