// What the campaign keeps of a finding: a bucket (with its stacks, evidence and family), a crawl, a
// resource finding, an environment warning, or an unconfirmed sighting; the families this campaign hit;
// and, for a new bucket, a place in the queue of rates to measure (rates.ts).
import path from 'node:path';
import { FINDING_KINDS } from '../findingKinds.js';
import { SIGNATURE_FORMAT } from '../oracles/crashOracle.js';
import { applyOracles, type Oracle } from '../oracles/index.js';
import { formatStackFile } from '../runtime/nativeStacks.js';
import { bucketName, evidenceOf, type BucketFamily, type CrashStore, type RecordInput, type Reproduction } from '../store/crashStore.js';
import { factsOf, familyId, familyOf } from '../trials/family.js';
import type { Finding, FindingKind, RunResult, Target } from '../types.js';
import type { Candidate } from './plan.js';
import type { BucketSummary, CampaignFamily, CampaignStats } from './stats.js';

/** What recording a finding made: a new bucket, its family's key, and whether that family is new. */
export interface Recorded {
  bucket: boolean;
  family: string | null;
  newFamily: boolean;
}

/** faulthandler's thread stacks in a run's stderr (what stack.txt keeps beside the C stacks). */
function pythonStacksOf(stderr: string): string {
  const lines = stderr.split('\n');
  const start = lines.findIndex((l) => /^(Fatal Python error|Current thread|Thread 0x|Stack \(most recent)/.test(l));
  return start >= 0 ? lines.slice(start).join('\n') : '';
}

/**
 * The run that best shows a finding: for a crash or hang, a run that alone yields the same signature (so
 * the bucket's stack.txt is the stack that signed it); else one of its target and mode, preferring the one
 * that ended oddest.
 */
export function evidenceRun(f: Finding, runs: readonly RunResult[], oracles?: readonly Oracle[]): RunResult | undefined {
  if (oracles && FINDING_KINDS[f.kind].stacks === 'gdb') {
    const own = oracles.filter((o) => o.name === f.oracle);
    const signed = runs.find((r) => r.termination.kind !== 'exit' && applyOracles(own, [r]).some((g) => g.signature === f.signature));
    if (signed) return signed;
  }
  return runs.find((r) => f.modes.includes(r.modeRequested) && f.targets.some((t) => t.path === r.target.path) && r.termination.kind !== 'exit') ??
    runs.find((r) => f.modes.includes(r.modeRequested) && f.targets.some((t) => t.path === r.target.path)) ??
    runs[0];
}

/** A hang signature without the shared objects of a heap corruption: the C stacks it was signed by. */
function hangStacks(signature: string): string {
  return signature.replace(/\|heap:[^|]*$/, '');
}

export interface RecorderStores {
  store: CrashStore;
  resourceStore: CrashStore;
  slowStore: CrashStore;
  unconfirmedStore: CrashStore;
  /** Surface programs' failures that also show with the GIL on (`.gil-on`): a generator mistake or a GIL-independent bug. */
  gilOnStore: CrashStore;
}

export class Recorder {
  /** Distinct buckets this campaign hit. */
  readonly buckets = new Set<string>();
  private readonly families = new Map<string, CampaignFamily>();
  constructor(
    private readonly stores: RecorderStores,
    private readonly stats: CampaignStats,
    /** Families the store held before this campaign (a bucket of an older store without one: its own signature). */
    private readonly familiesBefore: ReadonlySet<string>,
    /** Queues a new bucket's rate measurement (rates.ts); `done` receives the rate once measured. */
    private readonly queueRate: (job: { bucket: string; target: Target; family: string; trialMs: number; done: (r: Reproduction) => void }) => void,
    private readonly onBucket?: (bucket: BucketSummary) => void,
    /** Hang signatures the store held before this campaign: their sightings are not waited for again. */
    hangsBefore: Iterable<string> = [],
    /** Every signature the store held before this campaign. */
    storedBefore: Iterable<string> = [],
    /** The schedule shim of a campaign that perturbs (its buckets' repro.py say how to run with their seed). */
    private readonly shim?: string,
  ) {
    this.hangs = new Set(hangsBefore);
    this.stored = new Set(storedBefore);
  }

  /** Signatures with a bucket in the store. */
  private readonly stored: Set<string>;

  /** Hangs proved (a run waited on through its finish window never ended), by signature. */
  private readonly hangs: Set<string>;

  /** Whether a signature's bucket is in the store (confirmed in fresh processes, before or during this campaign). */
  knownBucket(signature: string): boolean {
    return this.stored.has(signature);
  }

  /**
   * Whether a hang signature is proved already (a new sighting of it is not waited on), or its C stacks are
   * (another program's objects in the same allocator spin: a shorter window), check.ts finishWindow.
   */
  knownHang(signature: string): 'signature' | 'stacks' | false {
    if (this.hangs.has(signature)) return 'signature';
    const stacks = hangStacks(signature);
    return [...this.hangs].some((h) => hangStacks(h) === stacks) ? 'stacks' : false;
  }

  /** The families hit, most hits first. */
  familyRows(): CampaignFamily[] {
    return [...this.families.values()].filter((f) => f.buckets.length > 0).sort((a, b) => b.hits - a.hits || a.id.localeCompare(b.id));
  }

  private countFamily(family: BucketFamily | undefined, kind: FindingKind, bucket: string | null, isNewBucket: boolean): void {
    if (!family) return;
    let row = this.families.get(family.key);
    if (!row) {
      row = { id: familyId(family.key), key: family.key, label: family.label, kind, buckets: [], newBuckets: 0, isNew: !this.familiesBefore.has(family.key), hits: 0, unconfirmed: 0 };
      this.families.set(family.key, row);
    }
    if (bucket === null) {
      row.unconfirmed += 1;
      return;
    }
    row.hits += 1;
    if (!row.buckets.includes(bucket)) row.buckets.push(bucket);
    // A bucket whose family moved (a crash now seen with the GIL on: familyGil.ts) leaves its old row, and a
    // bucket this campaign made is counted, and listed, under the row it is in now.
    for (const other of this.families.values()) {
      if (other === row || !other.buckets.includes(bucket)) continue;
      other.buckets = other.buckets.filter((b) => b !== bucket);
      const made = this.stats.newBuckets.find((b) => b.bucket === bucket);
      if (!made) continue;
      other.newBuckets -= 1;
      row.newBuckets += 1;
      made.family = { id: row.id, key: row.key, label: row.label };
    }
    if (isNewBucket) row.newBuckets += 1;
  }

  private input(finding: Finding, program: Candidate, run: RunResult | undefined, target: Target): RecordInput & { family: BucketFamily } {
    const stacks =
      FINDING_KINDS[finding.kind].stacks === 'tsan'
        ? `# ThreadSanitizer report (both access stacks), ${target.label}\n${finding.details}\n`
        : run && (run.native || FINDING_KINDS[finding.kind].stacks === 'gdb')
          ? formatStackFile(run.native, pythonStacksOf(run.stderrTail))
          : undefined;
    const evidence = run ? evidenceOf(run) : undefined;
    return {
      finding,
      source: program.source,
      target,
      stderrTail: run?.stderrTail ?? '',
      stacks,
      timeoutMs: run?.timeoutMs,
      signatureFormat: SIGNATURE_FORMAT,
      evidence,
      // Computed from exactly what the bucket keeps, so that `triage` re-grouping a store agrees with it.
      family: familyOf(factsOf(finding, { evidence, stackText: stacks, source: program.source })),
      origin: program.origin,
      ...(run?.schedSeed && this.shim ? { sched: { shim: this.shim, seed: run.schedSeed } } : {}),
    };
  }

  /**
   * Keep a confirmed finding where its kind goes: whether it made a new bucket, and whether that bucket's
   * family is new to the store (the scheduler rewards a new family; a new bucket of a known one, much less).
   */
  async record(finding: Finding, program: Candidate, run: RunResult | undefined, target: Target): Promise<Recorded> {
    const none: Recorded = { bucket: false, family: null, newFamily: false };
    const { stats } = this;
    stats.findingsByKind[finding.kind] = (stats.findingsByKind[finding.kind] ?? 0) + 1;
    // A run past its limit that was not waited on (a proved hang's new sighting) proves nothing new: it
    // counts for its family as a sighting, never as a hit of a hang bucket (it might have finished).
    const spec = FINDING_KINDS[finding.kind];
    if (spec.outlivesLimit && finding.proved === false) {
      await this.unconfirmed(finding, program, run, target, false);
      return none;
    }
    // Generated programs cannot deadlock or spin by construction: a hang of theirs that did not finish in
    // its finish window is the runtime's. (Not a deadlock on the program's own Python-level waits: that one
    // has no C culprit frames.)
    if (spec.outlivesLimit && finding.native?.hangClass && finding.native.hangClass !== 'slow' && finding.native.frames.length > 0 && typeof program.origin.generator === 'string') finding.verdict = 'runtime-bug';
    if (spec.outlivesLimit && finding.proved) this.hangs.add(finding.signature);
    const input = this.input(finding, program, run, target);
    const where = FINDING_KINDS[finding.kind].store;
    if (where === 'slow') {
      stats.slow += 1;
      await this.stores.slowStore.record(input);
      return none;
    }
    if (where === 'resource') {
      const { bucket } = await this.stores.resourceStore.record(input);
      const known = stats.resources.find((r) => r.signature === finding.signature);
      if (known) known.hits += 1;
      else stats.resources.push({ signature: finding.signature, hits: 1, example: path.join(this.stores.resourceStore.root, bucket) });
      return none;
    }
    if (where === 'warning') {
      if (!stats.environmentWarnings.includes(finding.title)) stats.environmentWarnings.push(finding.title);
      return none;
    }
    const { bucket, isNew, meta } = await this.stores.store.record(input);
    const familyKey = meta.family?.key ?? null;
    const newFamily = isNew && familyKey !== null && !this.familiesBefore.has(familyKey) && !this.families.has(familyKey);
    this.buckets.add(bucket);
    this.stored.add(finding.signature);
    this.countFamily(meta.family, finding.kind, bucket, isNew);
    const row = meta.family ? this.families.get(meta.family.key) : undefined;
    if (row && spec.withGil === 'family' && finding.modes.includes('gil-on')) row.alsoWithGil = true;
    if (!isNew) return { bucket: false, family: familyKey, newFamily: false };
    const family = meta.family ? { id: familyId(meta.family.key), key: meta.family.key, label: meta.family.label } : undefined;
    const summary: BucketSummary = { bucket, kind: finding.kind, title: finding.title, ...(family ? { family } : {}), interpreter: target.label, modes: finding.modes, verdict: finding.verdict };
    stats.verdicts[finding.verdict] = (stats.verdicts[finding.verdict] ?? 0) + 1;
    stats.newBuckets.push(summary);
    this.onBucket?.({ ...summary });
    this.queueRate({
      // A trial of a hang runs to its limit when it shows; anything else about as long as the program ran.
      bucket, target, family: meta.family?.key ?? finding.signature, trialMs: (spec.outlivesLimit ? (run?.timeoutMs ?? 30_000) : (run?.durationMs ?? 1000)) + 1000,
      done: (r) => {
        summary.reproduction = r;
        this.onBucket?.({ ...summary });
      },
    });
    return { bucket: true, family: familyKey, newFamily };
  }

  /**
   * A sighting seen only in a reused worker that fresh retries did not show: kept in `.unconfirmed` (never
   * silently dropped), and counted for its family when that family is stored.
   */
  async unconfirmed(f: Finding, program: Candidate, firstRun: RunResult | undefined, target: Target | undefined, count = true): Promise<void> {
    if (count) this.stats.unconfirmedByKind[f.kind] = (this.stats.unconfirmedByKind[f.kind] ?? 0) + 1;
    // A bug that already has its bucket is known: an unconfirmed sighting of it is no news.
    const known = (await this.stores.store.read(bucketName(f)).catch(() => null)) !== null;
    if (!target || FINDING_KINDS[f.kind].store === 'resource' || FINDING_KINDS[f.kind].store === 'warning') return;
    const input = this.input(f, program, firstRun, target);
    // A sighting of a family already stored (before or during this campaign) counts for that family.
    if (this.familiesBefore.has(input.family.key) || this.families.has(input.family.key)) this.countFamily(input.family, f.kind, null, false);
    if (!known) await this.stores.unconfirmedStore.record(input);
  }

  /**
   * A surface program's failure that also shows with the GIL on, other than a crash or a race: such a
   * program promises nothing but "no crash, no hang, no SystemError", and such a failure under the GIL may be
   * our mistake (a blocking or process-wide call). Kept in `.gil-on` for a triager to read. (A crash or a
   * TSan race is never a generator mistake, whatever the GIL does: those are buckets, fuzz.ts.)
   */
  async gilOn(f: Finding, program: Candidate, run: RunResult | undefined, target: Target): Promise<void> {
    await this.stores.gilOnStore.record(this.input(f, program, run, target));
  }
}
