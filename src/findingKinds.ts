// What each finding kind means to the rest of ftfuzz, in one record per kind.
//
// Every place that decides something per kind reads it from here, and the table is typed over the whole
// `FindingKind` union: a new kind that lacks a row is a compile error here, not a finding silently demoted
// to a warning in the campaign, refused by the minimizer, or trialled with the wrong time limit.
// `FindingKind` is this table's keys: a new kind is a new row here, and nothing else to declare.

export interface FindingKindSpec {
  /**
   * Where a campaign keeps it: a crash-store bucket; the crawl store (`.slow`); the resource store
   * (`.resources`); or only a line among the environment warnings of the summary.
   */
  store: 'bucket' | 'slow' | 'resource' | 'warning';
  /**
   * What its bucket's stack.txt keeps and what signs it: gdb's C stacks of the run (the evidence run must
   * itself yield the signature, and the signature is re-signed when its format improves); ThreadSanitizer's
   * report (both accesses' stacks, in the finding itself); or nothing beyond the program's own output.
   */
  stacks: 'gdb' | 'tsan' | 'none';
  /**
   * A check judged on several runs together: a verdict other than runtime-bug from one run per mode is no
   * evidence either way, so the campaign re-runs the program and judges all runs at once.
   */
  judgedOnReruns: boolean;
  /**
   * The time limit of a reproduction trial: the calibrated limit the finding had (a hang is "did not exit in
   * time", so a longer limit would change what is measured); that limit on the bucket's own interpreter
   * (its rate trials: a reproducer that runs ten times longer than its program did is not about to crash,
   * and one that hangs on a corrupted heap must not hold the campaign for the whole cap) and the whole
   * per-run cap on any other (a debug build runs slower); or the cap everywhere (TSan runs vary too much).
   */
  trialLimit: 'calibrated' | 'calibrated-own' | 'cap';
  /**
   * The signature is a symptom (the interpreter died, hung or raised SystemError), not a prediction checked
   * against a computed value: the minimizer may cut anything and still judge it, with no GIL-on guard.
   */
  symptomOnly: boolean;
  /** A sighting of this kind in a family on a release rules out any absence claim for that family there. */
  blocksAbsence: boolean;
  /**
   * How `repro.py` shows it: plain `python repro.py`, or through `ftfuzz run` when the verdict is computed
   * from numbers the program reports (refcounts, memory growth per round).
   */
  reproduce: 'python' | 'ftfuzz-run';
  /**
   * How its family (one suspected bug) is computed from a bucket (trials/family.ts): the rule of an existing
   * kind, or `signature` (one family per signature).
   */
  family: FamilyRule;
}

export type FamilyRule = 'crash' | 'hang' | 'race' | 'differential' | 'lost-write' | 'leak' | 'signature';

export const FINDING_KINDS = {
  crash: { store: 'bucket', stacks: 'gdb', judgedOnReruns: false, trialLimit: 'calibrated-own', symptomOnly: true, blocksAbsence: true, reproduce: 'python', family: 'crash' },
  hang: { store: 'bucket', stacks: 'gdb', judgedOnReruns: false, trialLimit: 'calibrated', symptomOnly: true, blocksAbsence: true, reproduce: 'python', family: 'hang' },
  'internal-error': { store: 'bucket', stacks: 'none', judgedOnReruns: false, trialLimit: 'calibrated-own', symptomOnly: true, blocksAbsence: false, reproduce: 'python', family: 'signature' },
  differential: { store: 'bucket', stacks: 'none', judgedOnReruns: true, trialLimit: 'calibrated-own', symptomOnly: false, blocksAbsence: false, reproduce: 'python', family: 'differential' },
  'lost-write': { store: 'bucket', stacks: 'none', judgedOnReruns: true, trialLimit: 'calibrated-own', symptomOnly: false, blocksAbsence: false, reproduce: 'python', family: 'lost-write' },
  refcount: { store: 'bucket', stacks: 'none', judgedOnReruns: false, trialLimit: 'calibrated-own', symptomOnly: false, blocksAbsence: false, reproduce: 'ftfuzz-run', family: 'signature' },
  leak: { store: 'bucket', stacks: 'none', judgedOnReruns: false, trialLimit: 'calibrated-own', symptomOnly: false, blocksAbsence: false, reproduce: 'ftfuzz-run', family: 'leak' },
  race: { store: 'bucket', stacks: 'tsan', judgedOnReruns: false, trialLimit: 'cap', symptomOnly: false, blocksAbsence: false, reproduce: 'python', family: 'race' },
  // A run on the target whose GIL mode differs from the one requested: the machine's problem, not a bug.
  'mode-mismatch': { store: 'warning', stacks: 'none', judgedOnReruns: false, trialLimit: 'cap', symptomOnly: false, blocksAbsence: false, reproduce: 'python', family: 'signature' },
  resource: { store: 'resource', stacks: 'none', judgedOnReruns: false, trialLimit: 'cap', symptomOnly: false, blocksAbsence: false, reproduce: 'python', family: 'signature' },
  // A run that outlived its limit while its threads kept making progress: a crawl, reported apart.
  slow: { store: 'slow', stacks: 'gdb', judgedOnReruns: false, trialLimit: 'cap', symptomOnly: false, blocksAbsence: false, reproduce: 'python', family: 'signature' },
} as const satisfies Record<string, Readonly<FindingKindSpec>>;

/** Every kind of finding an oracle can report: the rows of FINDING_KINDS. */
export type FindingKind = keyof typeof FINDING_KINDS;

/** The spec of a kind read from a file (a bucket's meta.json): undefined for a kind this version does not know. */
export function findingKind(kind: string): Readonly<FindingKindSpec> | undefined {
  return Object.hasOwn(FINDING_KINDS, kind) ? (FINDING_KINDS[kind as FindingKind]) : undefined;
}
