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
  /**
   * What a sighting that also shows with the GIL on means: `family`, a symptom of the interpreter whatever
   * the GIL does (a segfault from Python code, a TSan race): a family like any other, labelled "also with
   * the GIL"; `set-aside`, possibly the program's own doing (a surface program's call that blocks for good):
   * kept in `.gil-on`, never a bucket of the runtime.
   */
  withGil: 'family' | 'set-aside';
  /** Its family key gains the GIL suffix once it shows with the GIL on (familyGil.ts): one bug the GIL does not hide stays apart from a free-threading one. */
  gilSplit: boolean;
  /**
   * Its symptom is a run that outlives its limit: a first sighting is waited on through a finish window
   * (proved, or a crawl), a trial runs to the limit, and a trial counts whatever frames it samples.
   */
  outlivesLimit: boolean;
  /** It shows only on a ThreadSanitizer build: no absence claim from an interpreter without TSan; `triage --promote` replays it on a plain twin. */
  needsTsan: boolean;
}

export type FamilyRule = 'crash' | 'hang' | 'race' | 'differential' | 'lost-write' | 'leak' | 'signature';

export const FINDING_KINDS = {
  crash: { store: 'bucket', stacks: 'gdb', judgedOnReruns: false, trialLimit: 'calibrated-own', symptomOnly: true, blocksAbsence: true, reproduce: 'python', family: 'crash', withGil: 'family', gilSplit: true, outlivesLimit: false, needsTsan: false },
  hang: { store: 'bucket', stacks: 'gdb', judgedOnReruns: false, trialLimit: 'calibrated', symptomOnly: true, blocksAbsence: true, reproduce: 'python', family: 'hang', withGil: 'set-aside', gilSplit: false, outlivesLimit: true, needsTsan: false },
  'internal-error': { store: 'bucket', stacks: 'none', judgedOnReruns: false, trialLimit: 'calibrated-own', symptomOnly: true, blocksAbsence: false, reproduce: 'python', family: 'signature', withGil: 'set-aside', gilSplit: false, outlivesLimit: false, needsTsan: false },
  differential: { store: 'bucket', stacks: 'none', judgedOnReruns: true, trialLimit: 'calibrated-own', symptomOnly: false, blocksAbsence: false, reproduce: 'python', family: 'differential', withGil: 'set-aside', gilSplit: false, outlivesLimit: false, needsTsan: false },
  'lost-write': { store: 'bucket', stacks: 'none', judgedOnReruns: true, trialLimit: 'calibrated-own', symptomOnly: false, blocksAbsence: false, reproduce: 'python', family: 'lost-write', withGil: 'set-aside', gilSplit: false, outlivesLimit: false, needsTsan: false },
  refcount: { store: 'bucket', stacks: 'none', judgedOnReruns: false, trialLimit: 'calibrated-own', symptomOnly: false, blocksAbsence: false, reproduce: 'ftfuzz-run', family: 'signature', withGil: 'set-aside', gilSplit: false, outlivesLimit: false, needsTsan: false },
  leak: { store: 'bucket', stacks: 'none', judgedOnReruns: false, trialLimit: 'calibrated-own', symptomOnly: false, blocksAbsence: false, reproduce: 'ftfuzz-run', family: 'leak', withGil: 'set-aside', gilSplit: false, outlivesLimit: false, needsTsan: false },
  race: { store: 'bucket', stacks: 'tsan', judgedOnReruns: false, trialLimit: 'cap', symptomOnly: false, blocksAbsence: false, reproduce: 'python', family: 'race', withGil: 'family', gilSplit: false, outlivesLimit: false, needsTsan: true },
  // A run on the target whose GIL mode differs from the one requested: the machine's problem, not a bug.
  'mode-mismatch': { store: 'warning', stacks: 'none', judgedOnReruns: false, trialLimit: 'cap', symptomOnly: false, blocksAbsence: false, reproduce: 'python', family: 'signature', withGil: 'set-aside', gilSplit: false, outlivesLimit: false, needsTsan: false },
  resource: { store: 'resource', stacks: 'none', judgedOnReruns: false, trialLimit: 'cap', symptomOnly: false, blocksAbsence: false, reproduce: 'python', family: 'signature', withGil: 'set-aside', gilSplit: false, outlivesLimit: false, needsTsan: false },
  // A run that outlived its limit while its threads kept making progress: a crawl, reported apart.
  slow: { store: 'slow', stacks: 'gdb', judgedOnReruns: false, trialLimit: 'cap', symptomOnly: false, blocksAbsence: false, reproduce: 'python', family: 'signature', withGil: 'set-aside', gilSplit: false, outlivesLimit: false, needsTsan: false },
} as const satisfies Record<string, Readonly<FindingKindSpec>>;

/** Every kind of finding an oracle can report: the rows of FINDING_KINDS. */
export type FindingKind = keyof typeof FINDING_KINDS;

/** The spec of a kind read from a file (a bucket's meta.json): undefined for a kind this version does not know. */
export function findingKind(kind: string): Readonly<FindingKindSpec> | undefined {
  return Object.hasOwn(FINDING_KINDS, kind) ? (FINDING_KINDS[kind as FindingKind]) : undefined;
}
