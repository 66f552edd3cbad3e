// `npm run bench -- bugs`: the known-bug benchmark, counted in bugs (families), not buckets. A campaign of a
// given budget runs on an old release (default 3.13.5t); each family it stores is graded on a newer release
// (default 3.13.15t) from its most reproducible bucket, with old and new trials interleaved in one session:
//   fixed-between   absent on the new release against the bucket's recorded rate (the trials rule out its
//                   95% lower bound, and no crash or hang of the family showed there), and shown on the old
//                   release significantly more often (Fisher's exact, one-sided, p < 0.05);
//   still present   shows on the new release too (any signature of the family);
//   inconclusive    neither: too few trials for the recorded rate, or no significant control;
//   not reproduced  its reproducer did not show it again when the campaign measured its rate.
// A family whose verdict is `unknown` (a lost write seen too few times, a hand-written program's hang) is
// graded but never counted as a real bug. Families are split into those the hand-written table of 3.13
// fixes (knownBugs.ts) recognises and those outside it: the table is also what the op families were
// designed from, so only the second group measures reach beyond it.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { resolveSettings, runCampaign, type CampaignStats } from '../src/campaign/fuzz.js';
import { introspectSurface } from '../src/runtime/surface.js';
import { UsageError } from '../src/errors.js';
import { installPython } from '../src/runtime/provision.js';
import { writeFileAtomic } from '../src/atomicWrite.js';
import { CrashStore, type BucketMeta } from '../src/store/crashStore.js';
import { fixedBetween, rateLowerBound, recordedCount, type BetweenClaim, type Count } from '../src/trials/claims.js';
import { groupFamilies, regroupStore, type FamilyRow } from '../src/triage/families.js';
import { KNOWN_BUGS, STILL_OPEN_UPSTREAM, formatLink, inNews, type UpstreamLink } from '../src/triage/knownBugs.js';
import { familyLinks, upstreamLinksOf } from '../src/triage/triage.js';
import { measureRate, reproducerOf } from '../src/trials/rate.js';
import { DEFAULT_MAX_ROUNDS, interleavedTrials, type InterleavedCounts } from '../src/trials/between.js';
import type { Executor } from '../src/runtime/executor.js';
import type { GenOptions } from '../src/generators/scenario.js';
import type { Target } from '../src/types.js';

export type Grade = BetweenClaim | 'not-reproduced';

export interface GradedFamily {
  id: string;
  key: string;
  label: string;
  kind: string;
  verdict: string;
  buckets: string[];
  /** The bucket graded: the family's most reproducible one. */
  graded: string | null;
  /** Time from the campaign's start to the family's first sighting, ms. */
  firstFoundMs: number;
  /** The graded bucket's rate recorded by the campaign (on the old release). */
  recorded: Count | null;
  old: Count;
  new: Count;
  /** Fisher's one-sided p-value (old above new), when there was something to compare. */
  p: number | null;
  grade: Grade;
  why: string;
  upstream: UpstreamLink[];
  /** Recognised by the hand-written table of 3.13 fixes and open issues (a `match` or `candidate` link to it). */
  inTable: boolean;
  /** Some bucket of the family came from a surface program (a generic shape, not the op table). */
  fromSurface: boolean;
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
  /** Share of surface programs, on the old release's own C surface (the campaign's default when unset; 0: none). */
  surfaceShare?: number;
  /** Most trials per release and family. */
  maxTrials?: number;
  log?: (line: string) => void;
}

export interface BugsReport {
  stats: CampaignStats;
  families: GradedFamily[];
  old: string;
  new: string;
  /** Programs in parallel: the CPU-hours are the budget times this. */
  jobs: number;
}

/** An --out directory must be new or empty: old finds would otherwise show up at "0.0 min". */
export async function freshOutDir(dir: string): Promise<void> {
  const entries = await fs.readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw new UsageError(`--out ${dir}: cannot be read (${error.code ?? error.message}); pass a new directory`);
  });
  if (entries.length > 0) throw new UsageError(`--out ${dir} is not empty (${entries.length} entries): the benchmark would count an earlier run's finds; pass a new or empty directory`);
  await fs.mkdir(dir, { recursive: true });
}

const TABLE = new Set([...KNOWN_BUGS, ...STILL_OPEN_UPSTREAM].map((b) => b.gh));

/** The bucket a family is graded by: the highest lower bound of its recorded rate. */
function bestBucket(row: FamilyRow): { bucket: string; meta: BucketMeta; recorded: Count } | null {
  let best: { bucket: string; meta: BucketMeta; recorded: Count } | null = null;
  for (const b of row.buckets) {
    const recorded = recordedCount(b.meta, 'repro.py');
    if (!recorded || recorded.hits === 0) continue;
    if (!best || rateLowerBound(recorded) > rateLowerBound(best.recorded)) best = { ...b, recorded };
  }
  return best;
}

export async function bugsBenchmark(o: BugsOptions): Promise<BugsReport> {
  const log = o.log ?? (() => undefined);
  await freshOutDir(o.dir);
  const old = (await installPython({ version: o.oldVersion, log })).target;
  const neu = (await installPython({ version: o.newVersion, log })).target;
  const crashDir = path.join(o.dir, 'crashes');
  const corpusDir = path.join(o.dir, 'corpus');
  const started = Date.now();
  const settings = resolveSettings({ seed: o.seed, durationMs: o.budgetMs, timeoutMs: 30_000, genOptions: o.genOptions ?? {}, spawnShare: o.spawnShare, surfaceShare: o.surfaceShare });
  const { surfaceShare } = settings;
  const surface = surfaceShare > 0 ? await introspectSurface(old, { log }) : undefined;
  log(`campaign: ${Math.round(o.budgetMs / 60_000)} min on ${old.label}, seed ${o.seed}, ${o.jobs} jobs, surface share ${surfaceShare}; crashes -> ${crashDir}`);
  const stats = await runCampaign({
    settings, targets: [old], jobs: o.jobs, crashDir, corpusDir, executor: o.executor, surface,
    timelineFile: path.join(crashDir, '.timeline', `${o.seed.replace(/[^A-Za-z0-9._-]/g, '_')}.jsonl`),
    onBucket: (b) =>
      log(b.reproduction
        ? `    ${b.bucket}: rate ${b.reproduction.hits}/${b.reproduction.trials} on ${b.reproduction.interpreter}`
        : `  new bucket ${b.bucket} (${b.verdict}) at ${((Date.now() - started) / 60_000).toFixed(1)} min: ${b.title.slice(0, 120)}`),
  });
  const families = await gradeFamilies({ crashDir, dir: o.dir, stats, old, neu, started, jobs: o.jobs, maxTrials: o.maxTrials, log });
  return { stats, families, old: old.label, new: neu.label, jobs: o.jobs };
}

/** Grade an earlier run's store again (`--regrade DIR`): its campaign's figures are kept from its bugs.json. */
export async function regradeBenchmark(o: { dir: string; oldVersion: string; newVersion: string; maxTrials?: number; log?: (line: string) => void }): Promise<BugsReport> {
  const log = o.log ?? (() => undefined);
  let earlier: { stats: CampaignStats; started?: number; jobs?: number };
  try {
    earlier = JSON.parse(await fs.readFile(path.join(o.dir, 'bugs.json'), 'utf8')) as typeof earlier;
  } catch (error) {
    throw new UsageError(`--regrade ${o.dir}: no readable bugs.json (${(error as Error).message}); pass the --out directory of an earlier run`);
  }
  const old = (await installPython({ version: o.oldVersion, log })).target;
  const neu = (await installPython({ version: o.newVersion, log })).target;
  // Runs from before bugs.json kept the start: the campaign timeline's first line has it.
  let started = earlier.started;
  if (started === undefined) {
    const timeline = await fs.readFile(path.join(o.dir, 'crashes', '.timeline', `${earlier.stats.seed.replace(/[^A-Za-z0-9._-]/g, '_')}.jsonl`), 'utf8').catch(() => '');
    const first = JSON.parse(timeline.split('\n')[0] || '{}') as { time?: number; elapsedMs?: number };
    started = first.time !== undefined && first.elapsedMs !== undefined ? first.time - first.elapsedMs : Date.now();
  }
  const jobs = earlier.jobs ?? 2;
  const families = await gradeFamilies({ crashDir: path.join(o.dir, 'crashes'), dir: o.dir, stats: earlier.stats, old, neu, started, jobs, maxTrials: o.maxTrials, log });
  return { stats: earlier.stats, families, old: old.label, new: neu.label, jobs };
}

/**
 * Grade the families of a benchmark's store (a campaign's, or an earlier run's again with --regrade): old
 * and new trials interleaved, bugs.json rewritten after each family.
 */
export async function gradeFamilies(g: { crashDir: string; dir: string; stats: CampaignStats; old: Target; neu: Target; started: number; jobs: number; maxTrials?: number; log: (line: string) => void }): Promise<GradedFamily[]> {
  const { crashDir, stats, old, neu, started, log } = g;
  const o = { dir: g.dir, maxTrials: g.maxTrials };
  const store = new CrashStore(crashDir);
  await regroupStore(store);
  const { buckets } = await store.list();
  const unconfirmed = (await new CrashStore(path.join(crashDir, '.unconfirmed')).list()).buckets;
  const rows = groupFamilies(buckets.filter((b) => stats.buckets.includes(b.bucket)), unconfirmed);
  log(`grading ${rows.length} famil${rows.length === 1 ? 'y' : 'ies'} (${stats.buckets.length} buckets) on ${neu.label}, old and new trials interleaved`);
  const families: GradedFamily[] = [];
  for (const row of rows) {
    // The campaign measures rates within a share of its time: a family none of whose buckets it measured
    // gets its first bucket measured now, alone and sequentially, as `ftfuzz triage --measure` would.
    if (!row.buckets.some((b) => recordedCount(b.meta, 'repro.py') !== null)) {
      const first = row.buckets[0];
      if (first) {
        first.meta = await measureRate(store, first.bucket, first.meta, old, { trials: 10, timeoutMs: 30_000, flakyBelow: 0.5, sequential: true });
        log(`  ${row.id}: measured ${first.bucket} after the campaign: ${first.meta.reproduction ? `${first.meta.reproduction.hits}/${first.meta.reproduction.trials}` : 'cancelled'}`);
      }
    }
    const best = bestBucket(row);
    const links = familyLinks(await Promise.all(row.buckets.map((b) => upstreamLinksOf(store, b.bucket, b.meta))));
    let grade: Grade = 'not-reproduced';
    let why = 'no bucket of the family reproduced when the campaign measured its rate';
    let counts: InterleavedCounts = { old: { hits: 0, trials: 0 }, new: { hits: 0, trials: 0 }, newOthers: { trials: 0, titles: [] } };
    let p: number | null = null;
    if (best) {
      counts = await interleavedTrials(await reproducerOf(store, best.bucket), best.meta, best.recorded, old, neu, o.maxTrials ?? DEFAULT_MAX_ROUNDS);
      const claim = fixedBetween(counts.old, { ...counts.new, otherFailures: counts.newOthers }, best.recorded);
      grade = claim.claim;
      why = claim.why;
      p = claim.p;
    }
    const graded: GradedFamily = {
      id: row.id, key: row.key, label: row.label, kind: row.kind, verdict: row.verdict, buckets: row.buckets.map((b) => b.bucket), graded: best?.bucket ?? null,
      firstFoundMs: Math.max(0, Date.parse(row.firstSeen) - started), recorded: best?.recorded ?? null, old: counts.old, new: counts.new, p, grade, why,
      upstream: links, inTable: links.some((l) => TABLE.has(l.bug.gh)), fromSurface: row.buckets.some((b) => b.meta.origin.surfaceType !== undefined || b.meta.origin.shape === 'registry-write'),
    };
    families.push(graded);
    // Written after every graded family (atomically): grading takes minutes, a run stopped part-way keeps what it graded.
    await writeFileAtomic(path.join(o.dir, 'bugs.json'), `${JSON.stringify({ old: old.label, new: neu.label, started, jobs: g.jobs, stats, families: families.map(jsonFamily) }, null, 2)}\n`);
    log(`  ${graded.id} ${graded.label}: ${graded.grade} (${graded.why})`);
  }
  return families;
}

function jsonFamily(g: GradedFamily): Record<string, unknown> {
  return { ...g, upstream: g.upstream.map((l) => ({ gh: l.bug.gh, area: l.bug.area, strength: l.strength, matched: l.matched, status: l.status })) };
}

/** A real bug: a runtime-bug verdict graded on both releases (never `unknown`, never inconclusive). */
export function isRealBug(g: Pick<GradedFamily, 'verdict' | 'grade'>): boolean {
  return g.verdict === 'runtime-bug' && (g.grade === 'fixed-between' || g.grade === 'still-present');
}

/** The report: one row per family, then the counts. */
export function formatBugsReport(r: BugsReport): string[] {
  const lines: string[] = [];
  const buckets = r.families.reduce((n, f) => n + f.buckets.length, 0);
  lines.push(`${r.stats.programs} programs, ${r.stats.executions} executions in ${(r.stats.elapsedMs / 60_000).toFixed(1)} min on ${r.old}; ${r.families.length} families in ${buckets} buckets; graded on ${r.new}`);
  const order: Grade[] = ['fixed-between', 'still-present', 'inconclusive', 'not-reproduced'];
  const sorted = [...r.families].sort((a, b) => order.indexOf(a.grade) - order.indexOf(b.grade) || a.firstFoundMs - b.firstFoundMs);
  for (const g of sorted) {
    const trials = `old ${g.old.hits}/${g.old.trials}, new ${g.new.hits}/${g.new.trials}${g.p !== null ? `, p = ${g.p.toFixed(4)}` : ''}`;
    lines.push(`  ${g.grade.padEnd(14)} ${g.kind.padEnd(12)} first at ${(g.firstFoundMs / 60_000).toFixed(1).padStart(5)} min  ${g.id}  [${g.verdict}${isRealBug(g) ? '' : ', not counted'}]  ${trials}`);
    lines.push(`      ${g.label.slice(0, 150)} (${g.buckets.length} bucket(s)${g.inTable ? '' : ', outside the table'}${g.fromSurface ? ', from surface programs' : ''})`);
    lines.push(`      ${g.upstream.length ? g.upstream.slice(0, 3).map(formatLink).join('; ') : 'no upstream candidate'}`);
  }
  const real = r.families.filter(isRealBug);
  const count = (grade: Grade, inTable?: boolean) => real.filter((g) => g.grade === grade && (inTable === undefined || g.inTable === inTable)).length;
  lines.push(`real bugs (runtime-bug families graded on both releases): ${real.length}`);
  lines.push(`  fixed-between: ${count('fixed-between')} (in the table ${count('fixed-between', true)}, outside it ${count('fixed-between', false)}); linked to a 3.13 NEWS fix: ${real.filter((g) => g.grade === 'fixed-between' && g.upstream.some((l) => inNews(l.bug) && TABLE.has(l.bug.gh))).length} (a frame and an op both agree: ${real.filter((g) => g.grade === 'fixed-between' && g.upstream.some((l) => l.strength === 'match' && inNews(l.bug))).length})`);
  lines.push(`  still present: ${count('still-present')} (in the table ${count('still-present', true)}, outside it ${count('still-present', false)})`);
  lines.push(`  found by surface programs: ${real.filter((g) => g.fromSurface).length} (outside the table ${real.filter((g) => g.fromSurface && !g.inTable).length})`);
  lines.push(`not counted: ${r.families.filter((g) => !isRealBug(g)).length} (inconclusive ${r.families.filter((g) => g.grade === 'inconclusive').length}, not reproduced ${r.families.filter((g) => g.grade === 'not-reproduced').length}, unknown verdict ${r.families.filter((g) => g.verdict !== 'runtime-bug' && (g.grade === 'fixed-between' || g.grade === 'still-present')).length})`);
  const cpuHours = (r.stats.elapsedMs / 3_600_000) * r.jobs;
  lines.push(`real bugs per CPU-hour of the campaign (${r.jobs} jobs): ${(real.length / Math.max(cpuHours, 1e-9)).toFixed(1)}`);
  const perRunHour = (y: { newBuckets: number; runMs: number }) => (y.runMs > 0 ? y.newBuckets / (y.runMs / 3_600_000) : 0).toFixed(1);
  for (const [name, y] of Object.entries(r.stats.byExecutor ?? {})) {
    lines.push(`executor ${name}: ${y.programs} programs, ${y.newBuckets} new buckets, ${(y.programs ? (y.newBuckets / y.programs) * 100 : 0).toFixed(1)}% of programs, ${perRunHour(y)} new buckets per run-hour`);
  }
  for (const [name, y] of Object.entries(r.stats.yield?.byShape ?? {})) {
    lines.push(`shape ${name}: ${y.programs} programs, ${y.newBuckets} new buckets, ${perRunHour(y)} new buckets per run-hour`);
  }
  return lines;
}
