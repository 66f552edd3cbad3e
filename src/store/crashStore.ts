// The crash store: `crashes/<kind>-<signature id>/`, one bucket per distinct signature, each holding a
// standalone `repro.py`, `meta.json` and `stderr.txt`.
//
// Every file is written atomically (temp file + rename) and `meta.json` last, so a bucket is complete
// exactly when its meta.json exists: a campaign killed with SIGKILL at any moment leaves a valid store
// (a bucket without meta.json is ignored, and finished on the next hit). Updates to an existing bucket
// take a lock on it, so concurrent campaigns on one store do not lose each other's hits.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { signatureId } from '../signature.js';
import { reproduceCommand } from '../reproduce.js';
import type { Finding, GilMode, NativeEvidence, RunResult, Target, Termination, Verdict } from '../types.js';
import { writeFileAtomic } from '../atomicWrite.js';
import { FINDING_KINDS } from '../findingKinds.js';
import { InputError } from '../errors.js';

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
}

/** A family as a bucket records it: its key (the identity), a line for people, and the shape of the key. */
export interface BucketFamily {
  key: string;
  label: string;
  format: number;
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

export function bucketName(finding: Pick<Finding, 'kind' | 'signature'>): string {
  return `${finding.kind}-${signatureId(finding.signature)}`;
}

/**
 * Run from inside the bucket: gil-off when the finding showed there, else gil-on. Refcount and leak
 * verdicts are computed from the numbers the program reports, so their command runs it through ftfuzz.
 */
function reproduceIn(target: Target, modes: GilMode[], kind: Finding['kind'] = 'crash'): string {
  const mode = modes.includes('gil-off') ? 'gil-off' : 'gil-on';
  if (FINDING_KINDS[kind].reproduce === 'ftfuzz-run') return `npx ftfuzz run --python ${target.path} --modes ${mode} repro.py`;
  return reproduceCommand(target, mode, 'repro.py');
}

/** The header of a minimized reproducer: the same, with the command pointing at the new file. */
export function reproHeaderFor(meta: BucketMeta, file: string, target: Target): string {
  return reproHeader(meta, reproduceIn(target, meta.modes, meta.kind).replace(/repro\.py$/, file));
}

function reproHeader(f: Pick<Finding, 'title' | 'signature'>, reproduce: string): string {
  return [
    `# ftfuzz reproducer: ${f.title.replace(/\n/g, ' ')}`,
    `# signature: ${f.signature}`,
    `# reproduce: ${reproduce}`,
    '# stacks of every thread on a crash: add -X faulthandler after the interpreter',
    '',
  ].join('\n');
}

export class CrashStore {
  /** In-process writers of one bucket queue here; the lock file then serializes other processes. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(readonly root: string) {}

  private serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, settled);
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
    return next;
  }

  /** Save a finding: a new bucket, or one more hit on the bucket of its signature. */
  record(input: RecordInput): Promise<{ bucket: string; isNew: boolean; meta: BucketMeta }> {
    return this.serialized(bucketName(input.finding), () => this.recordLocked(input));
  }

  private async recordLocked(input: RecordInput): Promise<{ bucket: string; isNew: boolean; meta: BucketMeta }> {
    const { finding, target } = input;
    const name = bucketName(finding);
    const dir = path.join(this.root, name);
    await fs.mkdir(dir, { recursive: true });
    // Another campaign on the same store holds it only for a few file writes.
    const release = await lockfile.lock(dir, { realpath: false, stale: 30_000, retries: { retries: 200, minTimeout: 10, maxTimeout: 100 } });
    try {
      const now = (input.now ?? new Date()).toISOString();
      const existing = await this.readMeta(dir);
      if (existing) {
        const meta: BucketMeta = {
          ...mergeSightings(existing, [{ hits: finding.hits, lastSeen: now, modes: finding.modes, verdict: finding.verdict }]),
          ...(existing.family === undefined && input.family ? { family: input.family } : {}),
        };
        if (input.stacks && !(await exists(path.join(dir, 'stack.txt')))) await writeFileAtomic(path.join(dir, 'stack.txt'), input.stacks);
        await writeFileAtomic(path.join(dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
        return { bucket: name, isNew: false, meta };
      }
      const reproduce = reproduceIn(target, finding.modes, finding.kind);
      const meta: BucketMeta = {
        version: META_VERSION,
        id: signatureId(finding.signature),
        signature: finding.signature,
        kind: finding.kind,
        oracle: finding.oracle,
        title: finding.title,
        verdict: finding.verdict,
        origin: input.origin ?? {},
        interpreter: {
          label: target.label,
          path: target.path,
          version: target.version,
          freeThreaded: target.freeThreaded,
          debug: target.debug,
          sanitizers: target.sanitizers,
          configArgs: target.configArgs,
        },
        modes: finding.modes,
        reproduce,
        firstSeen: now,
        lastSeen: now,
        hits: finding.hits,
        signatureFormat: input.signatureFormat,
        ...(input.family ? { family: input.family } : {}),
        ...(finding.native ? { native: finding.native } : {}),
        ...(input.timeoutMs !== undefined ? { timeoutMs: input.timeoutMs } : {}),
      };
      // The reproducer keeps the program's own header (seed, options, scenario) after ours.
      await writeFileAtomic(path.join(dir, 'repro.py'), reproHeader(finding, reproduce) + input.source);
      await writeFileAtomic(path.join(dir, 'stderr.txt'), input.stderrTail);
      if (input.stacks) await writeFileAtomic(path.join(dir, 'stack.txt'), input.stacks);
      if (input.evidence) await writeFileAtomic(path.join(dir, 'evidence.json'), `${JSON.stringify(input.evidence)}\n`);
      await writeFileAtomic(path.join(dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
      return { bucket: name, isNew: true, meta };
    } finally {
      await release();
    }
  }

  dir(bucket: string): string {
    return path.join(this.root, bucket);
  }

  /** Change a complete bucket's meta.json under its lock (e.g. to add a reproduction rate). */
  update(bucket: string, change: (meta: BucketMeta) => BucketMeta): Promise<BucketMeta> {
    return this.serialized(bucket, async () => {
      const dir = this.dir(bucket);
      const release = await lockfile.lock(dir, { realpath: false, stale: 30_000, retries: { retries: 200, minTimeout: 10, maxTimeout: 100 } });
      try {
        const existing = await this.readMeta(dir);
        if (!existing) throw new Error(`${path.join(dir, 'meta.json')}: no such bucket`);
        const meta = change(existing);
        await writeFileAtomic(path.join(dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
        return meta;
      } finally {
        await release();
      }
    });
  }

  /** One bucket's meta, or null when the bucket is incomplete or absent; throws on a malformed one. */
  read(bucket: string): Promise<BucketMeta | null> {
    return this.readMeta(this.dir(bucket));
  }

  /** Write a file into a bucket atomically (repro.min.py). */
  async writeFile(bucket: string, name: string, text: string): Promise<string> {
    const file = path.join(this.dir(bucket), name);
    await writeFileAtomic(file, text);
    return file;
  }

  private async readMeta(dir: string): Promise<BucketMeta | null> {
    let text: string;
    try {
      text = await fs.readFile(path.join(dir, 'meta.json'), 'utf8');
    } catch {
      return null;
    }
    return parseMeta(text, path.join(dir, 'meta.json'));
  }

  /** Every complete bucket, and every bucket whose meta.json cannot be read (named, with why). */
  async list(): Promise<{ buckets: { bucket: string; meta: BucketMeta }[]; errors: { bucket: string; error: string }[] }> {
    const buckets: { bucket: string; meta: BucketMeta }[] = [];
    const errors: { bucket: string; error: string }[] = [];
    let entries: string[] = [];
    try {
      entries = (await fs.readdir(this.root, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
    } catch {
      return { buckets, errors };
    }
    for (const bucket of entries.sort()) {
      const file = path.join(this.root, bucket, 'meta.json');
      let text: string;
      try {
        text = await fs.readFile(file, 'utf8');
      } catch {
        continue; // incomplete (killed before meta.json): not a bucket yet
      }
      try {
        buckets.push({ bucket, meta: parseMeta(text, file) });
      } catch (error) {
        errors.push({ bucket, error: (error as Error).message });
      }
    }
    return { buckets, errors };
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

/** The reproducer a bucket directory is replayed from: repro.min.py when minimized, else repro.py. */
export async function reproducerIn(dir: string): Promise<string> {
  const min = path.join(dir, 'repro.min.py');
  try {
    await fs.access(min);
    return min;
  } catch {
    return path.join(dir, 'repro.py');
  }
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
  return m as BucketMeta;
}
