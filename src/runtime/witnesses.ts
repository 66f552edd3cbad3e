// Collision witnesses: C code of the interpreter that runs only when another thread got in the way. A
// program that reaches one made two threads really meet, in C, and not only call the same methods.
// Function rules name functions entered only on a contended or cross-thread path; label rules name a block
// (the code after a label) inside a function that also runs alone. Which rules a build reaches in a
// single-threaded program is measured when its coverage map is made, and those are not witnesses there
// (runtime/nativeCoverage.ts `reachedAlone`).

export interface WitnessRule {
  id: string;
  /** What reaching it means, for the summary and the report. */
  what: string;
  /** Functions whose every edge witnesses it (names of several releases: a build has some of them). */
  functions?: readonly string[];
}

export const WITNESS_FUNCTIONS: readonly WitnessRule[] = [
  { id: 'mutex-slow', what: 'a PyMutex was held by another thread (the fast path failed: spin and park)', functions: ['PyMutex_Lock', '_PyMutex_LockSlow'] },
  { id: 'critical-section-slow', what: "an object's critical section was held by another thread", functions: ['_PyCriticalSection_BeginSlow'] },
  { id: 'critical-section2-slow', what: 'a two-object critical section was contended', functions: ['_PyCriticalSection2_BeginSlow'] },
  { id: 'parked', what: 'a thread parked to wait for another (any lock: C or Python)', functions: ['_PyParkingLot_Park'] },
  { id: 'brc-queue', what: "a thread dropped the last reference it had to another thread's object (biased refcount handed over)", functions: ['_Py_brc_queue_object', '_Py_brc_merge_refcounts'] },
  { id: 'refcount-merge', what: "an object's local and shared refcounts were merged (other threads held it)", functions: ['_Py_MergeZeroLocalRefcount', '_Py_ExplicitMergeRefcount'] },
  { id: 'qsbr-delayed-free', what: "memory of a shared object was freed through QSBR (other threads may still read it)", functions: ['_PyMem_FreeDelayed', '_Py_qsbr_poll', '_PyMem_ProcessDelayed'] },
  { id: 'tryincref-slow', what: "a lock-free read found the object's refcount not shared yet and fell back", functions: ['_PyObject_TryIncRefSlow', '_Py_TryIncRefShared'] },
];

export interface WitnessLabel {
  id: string;
  what: string;
  file: string;
  label: string;
}

/** Block rules: the edges on the few lines after the label, in the function that holds them. */
export const WITNESS_LABELS: readonly WitnessLabel[] = [
  { id: 'dict-read-failed', what: "a dict's lock-free lookup lost a race with a writer (or a non-shared refcount) and restarted under the lock", file: 'Objects/dictobject.c', label: 'read_failed' },
];

/** Per label rule of one release: its source file and the lines its labels are on. */
export type WitnessLabelLines = Record<string, { file: string; lines: number[] }>;

/** Lines after a label that belong to its block (the read_failed block is 13 lines in 3.13). */
export const LABEL_SPAN = 14;

export function witnessWhat(id: string): string {
  return WITNESS_FUNCTIONS.find((w) => w.id === id)?.what ?? WITNESS_LABELS.find((w) => w.id === id)?.what ?? id;
}
