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
import type { Finding, GilMode, Target } from '../types.js';
import { writeFileAtomic } from '../atomicWrite.js';
import { FINDING_KINDS } from '../findingKinds.js';
import { gilFamily } from '../familyGil.js';
import { mergeSightings, META_VERSION, parseMeta, type BucketMeta, type RecordInput } from './bucket.js';

export * from './bucket.js';

export function bucketName(finding: Pick<Finding, 'kind' | 'signature'>): string {
  return `${finding.kind}-${signatureId(finding.signature)}`;
}

const BUCKET_NAME = new RegExp(`^(${Object.keys(FINDING_KINDS).map((k) => k.replace(/[^a-z0-9-]/g, '')).join('|')})-[0-9a-f]{12}$`);

/**
 * Whether a name read from elsewhere (a fleet's Redis, a synced directory) is one `bucketName` makes: a
 * finding kind and 12 hex digits, so it can never climb out of a store's directory or name another file.
 */
export function isBucketName(name: string): boolean {
  return BUCKET_NAME.test(name);
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
  const reproduce = reproduceIn(target, meta.modes, meta.kind).replace(/repro\.py$/, file);
  return reproHeader(meta, reproduce, meta.perturbation ? perturbationOf(meta.perturbation, reproduce) : undefined);
}

function reproHeader(f: Pick<Finding, 'title' | 'signature'>, reproduce: string, perturbation?: BucketMeta['perturbation']): string {
  return [
    `# ftfuzz reproducer: ${f.title.replace(/\n/g, ' ')}`,
    `# signature: ${f.signature}`,
    `# reproduce: ${reproduce}`,
    ...(perturbation
      ? [
          `# found with schedule perturbation seed ${perturbation.seed}; the same perturbation (the seed fixes the`,
          `# shim's choices, not the kernel's scheduling): ${perturbation.command}`,
        ]
      : []),
    '# stacks of every thread on a crash: add -X faulthandler after the interpreter',
    '',
  ].join('\n');
}

/** A bucket's perturbation record: how to run its repro.py with the seed its run had. */
function perturbationOf(sched: RecordInput['sched'], reproduce: string): BucketMeta['perturbation'] {
  if (!sched) return undefined;
  return { seed: sched.seed, shim: sched.shim, command: `LD_PRELOAD=${sched.shim} FTFUZZ_SCHED_SEED=${sched.seed} ${reproduce}` };
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
        const merged: BucketMeta = {
          ...mergeSightings(existing, [{ hits: finding.hits, lastSeen: now, modes: finding.modes, verdict: finding.verdict }]),
          ...(existing.family === undefined && input.family ? { family: input.family } : {}),
        };
        // A crash seen with the GIL on now: its family is the GIL one (familyGil.ts).
        const meta: BucketMeta = merged.family ? { ...merged, family: gilFamily(merged.family, merged.kind, merged.modes) } : merged;
        if (input.stacks && !(await exists(path.join(dir, 'stack.txt')))) await writeFileAtomic(path.join(dir, 'stack.txt'), input.stacks);
        await writeFileAtomic(path.join(dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
        return { bucket: name, isNew: false, meta };
      }
      const reproduce = reproduceIn(target, finding.modes, finding.kind);
      const perturbation = perturbationOf(input.sched, reproduce);
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
        ...(perturbation ? { perturbation } : {}),
      };
      // The reproducer keeps the program's own header (seed, options, scenario) after ours.
      await writeFileAtomic(path.join(dir, 'repro.py'), reproHeader(finding, reproduce, perturbation) + input.source);
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
