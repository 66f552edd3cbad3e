// The bucket schema: what `meta.json` holds (and `evidence.json`), its validation for files written by any
// version or by hand, and the one rule for merging sightings of a bucket (the file store, the fleet's Redis
// store and re-signing all use it).
import { InputError } from '../errors.js';
import type { Finding, GilMode, NativeEvidence, RunResult, Target, Termination, Verdict } from '../types.js';

export const META_VERSION = 1;

export interface BucketMeta {
  version: number;
  id: string;
  signature: string;
  kind: Finding['kind'];
  oracle: string;
  title: string;
  verdict: Finding['verdict'];
  /** Where the program came from: generator version, seed and options when it was generated. */
  origin: Record<string, unknown>;
  interpreter: Pick<Target, 'label' | 'path' | 'version' | 'freeThreaded' | 'debug' | 'sanitizers' | 'configArgs'>;
  modes: GilMode[];
  /** Paste-able, run from inside the bucket directory. */
  reproduce: string;
  firstSeen: string;
  lastSeen: string;
  hits: number;
  /** Re-runs of repro.py right after the bucket was made (README "Reproduction rate"). */
  reproduction?: Reproduction;
  /** `ftfuzz triage --versions`: the same reproducer on every known interpreter, by label. */
  versions?: Record<string, VersionTrial>;
  /** `ftfuzz triage --promote`: a race bucket replayed on the plain free-threaded build of the same version. */
  promotion?: Promotion;
  /** `ftfuzz minimize`: repro.min.py and how much smaller it is. */
  minimized?: Minimized;
  /** Shape of the signature (crashOracle SIGNATURE_FORMAT); absent: format 1, `triage` re-signs it. */
  signatureFormat?: number;
  /** The innermost meaningful C frames (`func (file:line)`), and the op the faulting thread was executing. */
  native?: { frames: string[]; op: string | null; hangClass?: string };
  /** The calibrated time limit the finding's run had (ms): hang trials use it (plus plain start-up). */
  timeoutMs?: number;
  /** The suspected bug this bucket is one signature of (triage/family.ts); absent: `triage` computes it. */
  family?: BucketFamily;
  /** `ftfuzz triage --bisect`: the first patch release that fixes it, found by bisection (triage/bisect.ts). */
  bisection?: Bisection;
  /**
   * The run that signed it had seeded schedule perturbation (native/ftfuzz_sched.c): its seed and shim, and
   * the command that runs repro.py the same way (repro.py's header says it too).
   */
  perturbation?: { seed: string; shim: string; command: string };
}

/** One release tested in a bisection, against the release the bug was found on (the control). */
export interface BisectStep {
  release: string;
  old: { hits: number; trials: number };
  new: { hits: number; trials: number };
  /** Fisher's one-sided p-value (control above this release), when there was something to compare. */
  p: number | null;
  claim: 'fixed-between' | 'still-present' | 'inconclusive';
  why: string;
}

export interface Bisection {
  /** The release it was found on (the control of every step) and the newest release tested. */
  from: string;
  to: string;
  /** The newest release shown to have the bug, and the first shown fixed; null when bisection stopped short. */
  lastAffected: string | null;
  firstFixed: string | null;
  steps: BisectStep[];
  /** Why it ended where it did. */
  why: string;
  /** The fixing release's NEWS entries, ranked by the crash site's words. */
  candidates: { gh: number; score: number; matched: string[]; text: string }[];
  measuredAt: string;
}

/** A family as a bucket records it: its key (the identity), a line for people, and the shape of the key. */
export interface BucketFamily {
  key: string;
  label: string;
  format: number;
  /** The rule that joined it (trials/family.ts `FamilyJoin`); absent in stores written before. */
  rule?: string;
}

export interface Promotion {
  /** The plain build it ran on. */
  interpreter: string;
  path: string;
  modes: GilMode[];
  trials: number;
  /** Trials that crashed or hung there. */
  hits: number;
  /** What they showed: one entry per crash or hang signature. */
  findings: { kind: Finding['kind']; signature: string; title: string }[];
  measuredAt: string;
}

export interface Reproduction {
  interpreter: string;
  modes: GilMode[];
  trials: number;
  hits: number;
  /** hits / trials: the point estimate, for display; claims use the interval (triage/claims.ts). */
  rate: number;
  /** Below the flaky threshold: kept, and marked. */
  flaky: boolean;
  measuredAt: string;
  /** How it was measured: what a maintainer must reproduce to see the same rate. Absent in older buckets. */
  how?: MeasuredHow;
}

/** The conditions of a rate measurement. */
export interface MeasuredHow {
  /** Plain `python FILE` (the reproducer as a user runs it), one trial at a time. */
  plain: boolean;
  /** The time limit of each trial (ms). */
  timeoutMs: number;
  /** Other target processes ftfuzz itself ran beside the trials (0: the trials had the machine to themselves). */
  besideJobs: number;
  /** The machine's 1-minute load average when the trials started, and its cores. */
  loadAverage: number;
  cores: number;
  /** What a trial counted as a hit: the same signature, or any finding of the bucket's family. */
  hitWhen: 'signature' | 'family';
}

export interface VersionTrial {
  path: string;
  version: string;
  modes: GilMode[];
  trials: number;
  hits: number;
  affected: boolean;
  /** What the trials support (triage/claims.ts); absent in buckets written before it existed. */
  status?: 'affected' | 'not-affected' | 'inconclusive' | 'not-applicable';
  /** What the status rests on: the interval, what an absence rules out, or why it is inconclusive. */
  why?: string;
  measuredAt: string;
}

export interface Minimized {
  file: string;
  bytesBefore: number;
  bytesAfter: number;
  linesBefore: number;
  linesAfter: number;
  requiredRate: number;
  trialsPerCandidate: number;
  candidatesTried: number;
  measuredAt: string;
  /** repro.min.py's own rate, measured after the reduction (claims about a minimized bucket use it). */
  reproduction?: Reproduction;
}

/** The run a bucket's signature was computed from, as far as the oracles read it. */
export interface BucketEvidence {
  termination: Termination;
  modeRequested: GilMode;
  /** The program path the run saw (its frames name it). */
  programPath: string;
  stderrTail: string;
  native?: NativeEvidence;
  timeoutMs?: number;
}

/** What a bucket keeps of the run that signed it. */
export function evidenceOf(run: RunResult): BucketEvidence {
  return { termination: run.termination, modeRequested: run.modeRequested, programPath: run.program.path, stderrTail: run.stderrTail, native: run.native, timeoutMs: run.timeoutMs };
}

export interface RecordInput {
  finding: Finding;
  /** The program's source: saved as repro.py, which must run with plain `python repro.py`. */
  source: string;
  target: Target;
  stderrTail: string;
  /** Human-readable C and Python stacks (nativeStacks.formatStackFile): the bucket's stack.txt. */
  stacks?: string;
  /** The calibrated limit of the run that showed it. */
  timeoutMs?: number;
  /** Shape of the finding's signature (crashOracle SIGNATURE_FORMAT). */
  signatureFormat?: number;
  /** What the signature was computed from (evidence.json): `triage` re-signs buckets from it. */
  evidence?: BucketEvidence;
  /** The family the finding belongs to (triage/family.ts): written with a new bucket, kept by later hits. */
  family?: BucketFamily;
  origin?: Record<string, unknown>;
  now?: Date;
  /** The evidence run's perturbation (ExecRequest.sched), if it had one. */
  sched?: { shim: string; seed: string };
}

/** One sighting (or one writer's share) of a bucket: what merging adds up. */
export interface Sighting {
  hits: number;
  /** When it was first seen, if it is older than the bucket (a bucket merged into another). */
  firstSeen?: string;
  lastSeen: string;
  modes: GilMode[];
  verdict: Verdict;
}

/**
 * The one rule for merging sightings into a bucket, used by the file store, the fleet's Redis store and
 * re-signing: hits add up, first and last seen widen, modes unite, and a verdict only rises (runtime-bug is
 * kept once reached; an `unknown` sighting says nothing; otherwise the newer evidence decides).
 */
export function mergeSightings(meta: BucketMeta, sightings: readonly Sighting[]): BucketMeta {
  let m = meta;
  for (const s of sightings) {
    m = {
      ...m,
      hits: m.hits + s.hits,
      firstSeen: s.firstSeen !== undefined && s.firstSeen < m.firstSeen ? s.firstSeen : m.firstSeen,
      lastSeen: s.lastSeen > m.lastSeen ? s.lastSeen : m.lastSeen,
      modes: [...new Set([...m.modes, ...s.modes])],
      verdict: m.verdict === 'runtime-bug' || s.verdict === 'unknown' ? m.verdict : s.verdict,
    };
  }
  return m;
}

/** Validate a meta.json written by any version of ftfuzz, or by hand. */
export function parseMeta(text: string, file: string): BucketMeta {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new InputError(file, `not valid JSON; delete the bucket or restore the file`);
  }
  // `null`, a number, a list: valid JSON, but no bucket (a null here once escaped as a TypeError).
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InputError(file, `not an ftfuzz bucket (not a JSON object); delete the bucket or restore the file`);
  const m = raw as Partial<BucketMeta>;
  const missing = (['signature', 'kind', 'title', 'reproduce', 'firstSeen', 'lastSeen'] as const).filter((k) => typeof m[k] !== 'string');
  if (!m || typeof m !== 'object' || missing.length || typeof m.hits !== 'number' || !Array.isArray(m.modes)) {
    throw new InputError(file, `not an ftfuzz bucket (missing or malformed: ${[...missing, typeof m?.hits !== 'number' ? 'hits' : '', !Array.isArray(m?.modes) ? 'modes' : ''].filter(Boolean).join(', ')}); delete the bucket or restore the file`);
  }
  if (typeof m.version === 'number' && m.version > META_VERSION) {
    throw new InputError(file, `written by a newer ftfuzz (meta version ${m.version}); upgrade ftfuzz to read it`);
  }
  const malformed = malformedNested(m);
  if (malformed.length) throw new InputError(file, `not an ftfuzz bucket (malformed: ${malformed.join(', ')}); delete the bucket or restore the file`);
  return m as BucketMeta;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isStrings = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * The nested fields every reader (triage, the report, replay) uses, checked by type: a store someone else
 * wrote (a fleet's sync, a CI artifact) gets one clear error per bad bucket, not a crash of the whole
 * report or a string where a count is printed.
 */
function malformedNested(m: Record<string, unknown>): string[] {
  const bad: string[] = [];
  const check = (ok: boolean, field: string) => void (ok || bad.push(field));
  check(isStrings(m.modes), 'modes');
  check(isCount(m.hits), 'hits');
  check(typeof m.verdict === 'string', 'verdict');
  check(typeof m.oracle === 'string' || m.oracle === undefined, 'oracle');
  check(isObject(m.origin) || m.origin === undefined, 'origin');
  check(isObject(m.interpreter) && typeof m.interpreter.label === 'string' && typeof m.interpreter.path === 'string', 'interpreter');
  if (m.perturbation !== undefined) {
    const p = m.perturbation as unknown;
    check(isObject(p) && typeof p.seed === 'string' && /^\d{1,20}$/.test(p.seed) && typeof p.shim === 'string' && typeof p.command === 'string', 'perturbation');
  }
  if (m.reproduction !== undefined) {
    const r = m.reproduction;
    check(isObject(r) && isCount(r.hits) && isCount(r.trials) && typeof r.interpreter === 'string' && (r.how === undefined || (isObject(r.how) && isCount(r.how.besideJobs) && isCount(r.how.loadAverage) && isCount(r.how.cores) && isCount(r.how.timeoutMs))), 'reproduction');
  }
  if (m.versions !== undefined) check(isObject(m.versions) && Object.values(m.versions).every((v) => isObject(v) && isCount(v.hits) && isCount(v.trials)), 'versions');
  if (m.minimized !== undefined) check(isObject(m.minimized) && ['linesAfter', 'bytesAfter', 'linesBefore'].every((k) => isCount((m.minimized as Record<string, unknown>)[k])), 'minimized');
  if (m.family !== undefined) check(isObject(m.family) && typeof m.family.key === 'string' && typeof m.family.label === 'string', 'family');
  if (m.native !== undefined) check(isObject(m.native) && isStrings(m.native.frames), 'native');
  if (m.bisection !== undefined) {
    const b = m.bisection as unknown;
    check(isObject(b) && typeof b.from === 'string' && typeof b.to === 'string' && Array.isArray(b.steps) && Array.isArray(b.candidates) && (b.firstFixed === null || typeof b.firstFixed === 'string'), 'bisection');
  }
  return bad;
}
