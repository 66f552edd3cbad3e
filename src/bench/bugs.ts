// `npm run bench -- bugs`: the known-bug benchmark. A campaign of a given budget runs on an old release
// (default 3.13.5t); every bucket it stores is replayed on a newer release (default 3.13.15t) with as
// many trials as the bucket's rate needs for an absence to mean something (triage/claims.ts), and graded:
//   fixed-between   reproduces on the old release, absent on the new one: a real bug upstream fixed;
//   still present   shows on the new release too: a real crash or hang it still has, or a candidate
//                   unfixed bug;
//   not reproduced  its reproducer did not show it again on the old release (nothing to grade);
//   inconclusive    too few trials for the rate to call it absent, or the control failed: a bucket absent
//                   on the new release is run again on the old one, as many trials in the same session,
//                   and must show there (rates drift with load, so the recorded rate alone is not proof).
// Each bucket is matched against the NEWS entries of knownBugs.ts and timed from the campaign's start.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { runCampaign, type CampaignStats } from '../campaign/fuzz.js';
import { installPython } from '../runtime/provision.js';
import { writeFileAtomic } from '../store/atomicWrite.js';
import { CrashStore, type BucketMeta } from '../store/crashStore.js';
import { recordedRate } from '../triage/claims.js';
import { knownBugsOf, measureVersions, reproducerOf, shortLabel } from '../triage/triage.js';
import { bucketTrialLimit, runTrials, trialModes } from '../triage/trials.js';
import type { Executor } from '../runtime/executor.js';
import type { GenOptions } from '../generators/scenario.js';
import { fixedLabel, inNews, type KnownBug } from '../triage/knownBugs.js';

export type Grade = 'fixed-between' | 'still-present' | 'not-reproduced' | 'inconclusive';

export interface GradedBucket {
  bucket: string;
  kind: string;
  signature: string;
  verdict: string;
  /** Time from the campaign's start to the bucket's first sighting, ms. */
  firstFoundMs: number;
  oldRate: number;
  newTrials: number;
  newHits: number;
  /** The control: the same trials on the old release, run right after the new release showed nothing. */
  controlTrials?: number;
  controlHits?: number;
  grade: Grade;
  known: KnownBug[];
  frames: string[];
}

export interface BugsOptions {
  budgetMs: number;
  oldVersion: string;
  newVersion: string;
  seed: string;
  jobs: number;
  dir: string;
  genOptions?: Partial<GenOptions>;
  executor?: Executor;
  /** Share of fork-server programs run in fresh processes (the campaign's default when unset). */
  spawnShare?: number;
  /** Most trials per bucket on the new release. */
  maxTrials?: number;
  log?: (line: string) => void;
}

export interface BugsReport {
  stats: CampaignStats;
  graded: GradedBucket[];
  old: string;
  new: string;
}

export function gradeOf(meta: BucketMeta, status: string | undefined, controlHits?: number): Grade {
  if (!meta.reproduction || meta.reproduction.hits === 0) return 'not-reproduced';
  if (status === 'not-affected') return controlHits === 0 ? 'inconclusive' : 'fixed-between';
  if (status === 'affected') return 'still-present';
  return 'inconclusive';
}

export async function bugsBenchmark(o: BugsOptions): Promise<BugsReport> {
  const log = o.log ?? (() => undefined);
  const old = (await installPython({ version: o.oldVersion, log })).target;
  const neu = (await installPython({ version: o.newVersion, log })).target;
  const crashDir = path.join(o.dir, 'crashes');
  const corpusDir = path.join(o.dir, 'corpus');
  await fs.mkdir(o.dir, { recursive: true });
  const started = Date.now();
  log(`campaign: ${Math.round(o.budgetMs / 60_000)} min on ${old.label}, seed ${o.seed}, ${o.jobs} jobs; crashes -> ${crashDir}`);
  const stats = await runCampaign({
    targets: [old], modes: ['gil-off', 'gil-on'], seed: o.seed, durationMs: o.budgetMs, jobs: o.jobs, timeoutMs: 30_000,
    crashDir, corpusDir, genOptions: o.genOptions, executor: o.executor, spawnShare: o.spawnShare,
    timelineFile: path.join(crashDir, '.timeline', `${o.seed.replace(/[^A-Za-z0-9._-]/g, '_')}.jsonl`),
    onBucket: (b) =>
      log(b.reproduction
        ? `    ${b.bucket}: rate ${b.reproduction.hits}/${b.reproduction.trials} on ${b.reproduction.interpreter}`
        : `  new bucket ${b.bucket} (${b.verdict}) at ${((Date.now() - started) / 60_000).toFixed(1)} min: ${b.title.slice(0, 120)}`),
  });
  const store = new CrashStore(crashDir);
  const graded: GradedBucket[] = [];
  for (const bucket of stats.buckets) {
    const meta = await store.read(bucket);
    if (!meta) continue;
    const rate = recordedRate(meta);
    let status: string | undefined;
    let newTrials = 0;
    let newHits = 0;
    let control: { trials: number; hits: number } | undefined;
    if (meta.reproduction && meta.reproduction.hits > 0) {
      const after = await measureVersions(store, bucket, meta, [neu], { trials: 3, timeoutMs: 30_000, maxTrials: o.maxTrials ?? 30 });
      const v = after.versions?.[shortLabel(neu)];
      status = v?.status;
      newTrials = v?.trials ?? 0;
      newHits = v?.hits ?? 0;
      if (status === 'not-affected') {
        const r = await runTrials({
          file: await reproducerOf(store, bucket), target: old, modes: trialModes(old, meta.modes, meta.signature), signature: meta.signature,
          trials: Math.max(3, newTrials), timeoutMs: bucketTrialLimit(meta, 30_000),
        });
        control = { trials: r.trials, hits: r.hits };
      }
    }
    const g: GradedBucket = {
      bucket, kind: meta.kind, signature: meta.signature, verdict: meta.verdict ?? 'unknown',
      firstFoundMs: Math.max(0, Date.parse(meta.firstSeen) - started), oldRate: rate, newTrials, newHits,
      ...(control ? { controlTrials: control.trials, controlHits: control.hits } : {}),
      grade: gradeOf(meta, status, control?.hits), known: await knownBugsOf(store, bucket, meta), frames: meta.native?.frames ?? [],
    };
    graded.push(g);
    // Written after every graded bucket (atomically): grading can take minutes per bucket, and a run
    // stopped part-way keeps what it graded.
    await writeFileAtomic(path.join(o.dir, 'bugs.json'), `${JSON.stringify({ old: old.label, new: neu.label, stats, graded: graded.map((x) => ({ ...x, known: x.known.map((k) => k.gh) })) }, null, 2)}\n`);
    log(`  ${bucket}: ${g.grade} (old rate ${rate.toFixed(2)}, new ${newHits}/${newTrials}${control ? `, control on old ${control.hits}/${control.trials}` : ''})${g.known.length ? `; NEWS gh-${g.known.map((k) => k.gh).join(', gh-')}` : ''}`);
  }
  return { stats, graded, old: old.label, new: neu.label };
}

/** The report's rows: one per bucket, then the counts the issue asks for. */
export function formatBugsReport(r: BugsReport): string[] {
  const lines: string[] = [];
  lines.push(`${r.stats.programs} programs, ${r.stats.executions} executions in ${(r.stats.elapsedMs / 60_000).toFixed(1)} min on ${r.old}; graded on ${r.new}`);
  const order: Grade[] = ['fixed-between', 'still-present', 'inconclusive', 'not-reproduced'];
  for (const g of [...r.graded].sort((a, b) => order.indexOf(a.grade) - order.indexOf(b.grade) || a.firstFoundMs - b.firstFoundMs)) {
    const known = g.known.length ? g.known.map((k) => `gh-${k.gh} (${k.area}, ${fixedLabel(k)})`).join('; ') : 'no upstream match';
    lines.push(`  ${g.grade.padEnd(14)} ${g.kind.padEnd(12)} first at ${(g.firstFoundMs / 60_000).toFixed(1).padStart(5)} min  ${g.bucket}  [${g.verdict}]  new ${g.newHits}/${g.newTrials}${g.controlTrials !== undefined ? `, old again ${g.controlHits}/${g.controlTrials}` : ''}`);
    lines.push(`      ${g.signature.slice(0, 150)}`);
    lines.push(`      ${known}`);
  }
  const count = (grade: Grade) => r.graded.filter((g) => g.grade === grade).length;
  const stacks = (grade: Grade) => new Set(r.graded.filter((g) => g.grade === grade).map((g) => (g.frames.length ? g.frames.join(' < ') : g.signature))).size;
  lines.push(`fixed-between: ${count('fixed-between')} bucket(s), ${stacks('fixed-between')} distinct stack(s); matched to NEWS: ${r.graded.filter((g) => g.grade === 'fixed-between' && g.known.some(inNews)).length} (${new Set(r.graded.filter((g) => g.grade === 'fixed-between').flatMap((g) => g.known.filter(inNews).map((k) => k.gh))).size} distinct NEWS entries)`);
  lines.push(`still present: ${count('still-present')}; inconclusive: ${count('inconclusive')}; not reproduced: ${count('not-reproduced')}`);
  const perRunHour = (y: { newBuckets: number; runMs: number }) => (y.runMs > 0 ? y.newBuckets / (y.runMs / 3_600_000) : 0).toFixed(1);
  for (const [name, y] of Object.entries(r.stats.byExecutor ?? {})) {
    lines.push(`executor ${name}: ${y.programs} programs, ${y.newBuckets} new buckets, ${(y.programs ? (y.newBuckets / y.programs) * 100 : 0).toFixed(1)}% of programs, ${perRunHour(y)} new buckets per run-hour`);
  }
  for (const [name, y] of Object.entries(r.stats.yield?.byShape ?? {})) {
    lines.push(`shape ${name}: ${y.programs} programs, ${y.newBuckets} new buckets, ${perRunHour(y)} new buckets per run-hour`);
  }
  return lines;
}
