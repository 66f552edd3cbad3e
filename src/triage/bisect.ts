// Release bisection (issue "every word true": a fix is found by bisection, not by resemblance). A bug that
// shows on the release it was found on and not on a newer one of the same series was fixed by one of the
// patch releases in between: build them (cached like every install) and find the first that fixes it, each
// step judged as `fixed-between` is (claims.ts: its trials interleaved with the found-on release as the
// control, absent against the recorded rate's lower bound, Fisher's one-sided p < 0.05). The fixing release's
// own NEWS entries are then the upstream candidates, ranked by the words of the crash site (news.ts).
import type { Bisection, BisectStep, BucketMeta } from '../store/bucket.js';
import type { Target } from '../types.js';
import { rateLowerBound, recordedCount, type Count } from '../trials/claims.js';
import { trialsBetween } from '../trials/between.js';
import { compareReleases as compareVersions, rankFixes, seriesOfRelease, type NewsIndex, type SiteWords } from './news.js';

export type { Bisection, BisectStep } from '../store/bucket.js';

/** `3.13.5` and `3.13.15` -> `3.13.6` … `3.13.15`: the patch releases after `from`, up to and with `to`. */
export function releasesBetween(from: string, to: string): string[] {
  const a = /^(\d+)\.(\d+)\.(\d+)$/.exec(from);
  const b = /^(\d+)\.(\d+)\.(\d+)$/.exec(to);
  if (!a || !b || a[1] !== b[1] || a[2] !== b[2]) return [];
  const out: string[] = [];
  for (let patch = Number(a[3]) + 1; patch <= Number(b[3]); patch++) out.push(`${a[1]}.${a[2]}.${patch}`);
  return out;
}

export interface BisectOptions {
  /** The reproducer, its bucket, and the rate claims rest on. */
  file: string;
  meta: BucketMeta;
  recorded: Count;
  /** The release the bucket was found on (it shows the bug there). */
  found: Target;
  /** The newest release to test (its series), shown fixed first unless `toStep` says so already. */
  to: string;
  toStep?: BisectStep;
  /** The interpreter of a release (built and cached on first use); null when it cannot be obtained. */
  targetFor: (release: string) => Promise<Target | null>;
  news?: NewsIndex;
  site: SiteWords;
  maxTrials?: number;
  log?: (line: string) => void;
  /** The trials of one step (default: `trialsBetween`, real runs); tests simulate releases with it. */
  compare?: typeof trialsBetween;
}

/** One step: the release's trials interleaved with the found-on release's. */
async function step(o: BisectOptions, release: string, target: Target): Promise<BisectStep> {
  const r = await (o.compare ?? trialsBetween)(o.file, o.meta, o.recorded, o.found, target, o.maxTrials);
  const s: BisectStep = { release, old: r.old, new: r.new, p: r.p, claim: r.claim, why: r.why };
  o.log?.(`  bisect ${o.meta.id}: ${release}: ${s.claim} (${o.found.version} ${r.old.hits}/${r.old.trials}, ${release} ${r.new.hits}/${r.new.trials}${r.p !== null ? `, p = ${r.p.toFixed(4)}` : ''})`);
  return s;
}

/** Bisect one bucket's bug between the release it was found on and `to`. */
export async function bisectBucket(o: BisectOptions): Promise<Bisection> {
  const from = o.found.version;
  const result = (lastAffected: string | null, firstFixed: string | null, steps: BisectStep[], why: string): Bisection => ({
    from, to: o.to, lastAffected, firstFixed, steps, why, candidates: firstFixed && o.news ? candidatesOf(o.news, firstFixed, o.site) : [], measuredAt: new Date().toISOString(),
  });
  const releases = releasesBetween(from, o.to);
  if (releases.length === 0) return result(null, null, [], `no patch release of ${seriesOfRelease(from)} after ${from} up to ${o.to}`);
  const steps: BisectStep[] = [];
  // Indices into `releases`: lo is shown affected (-1: the found-on release), hi shown fixed.
  let lo = -1;
  let hi = releases.length - 1;
  const toTarget = o.toStep ? null : await o.targetFor(o.to);
  const last = o.toStep ?? (toTarget ? await step(o, o.to, toTarget) : null);
  if (!last) return result(null, null, steps, `${o.to} could not be obtained`);
  steps.push(last);
  if (last.claim !== 'fixed-between') return result(last.claim === 'still-present' ? o.to : null, null, steps, `not fixed between ${from} and ${o.to}: ${last.why}`);
  const skipped: string[] = [];
  while (hi - lo > 1) {
    // The middle of the open range; a release that cannot be obtained is passed over (said in `why`).
    const candidates = releases.slice(lo + 1, hi).filter((r) => !skipped.includes(r));
    if (candidates.length === 0) break;
    const mid = releases.indexOf(candidates[Math.floor((candidates.length - 1) / 2)] as string);
    const release = releases[mid] as string;
    const target = await o.targetFor(release);
    if (!target) {
      skipped.push(release);
      continue;
    }
    const s = await step(o, release, target);
    steps.push(s);
    if (s.claim === 'still-present') lo = mid;
    else if (s.claim === 'fixed-between') hi = mid;
    else return result(lo >= 0 ? (releases[lo] as string) : from, null, steps, `stopped at ${release}: ${s.why}`);
  }
  const lastAffected = lo >= 0 ? (releases[lo] as string) : from;
  const firstFixed = releases[hi] as string;
  const gaps = skipped.filter((r) => compareVersions(r, lastAffected) > 0 && compareVersions(r, firstFixed) < 0).sort(compareVersions);
  const why = gaps.length
    ? `fixed between ${lastAffected} and ${firstFixed}; ${gaps.join(', ')} could not be obtained, so the first fix is one of ${[...gaps, firstFixed].join(', ')}`
    : `first fixed in ${firstFixed} (last affected ${lastAffected})`;
  return { ...result(lastAffected, gaps.length ? null : firstFixed, steps, why), candidates: o.news ? candidatesOf(o.news, firstFixed, o.site, gaps) : [] };
}

/** The NEWS entries of the fixing release (and of releases that could not be tested), ranked by the crash site's words. */
export function candidatesOf(news: NewsIndex, release: string, site: SiteWords, alsoReleases: readonly string[] = []): Bisection['candidates'] {
  const fixes = [release, ...alsoReleases].flatMap((r) => news.listedIn(r));
  return rankFixes(fixes, site).slice(0, 5).map((r) => ({ gh: r.fix.gh, score: r.score, matched: r.matched, text: r.fix.text.slice(0, 200) }));
}

/** `bisected: first fixed in 3.13.12 (last affected 3.13.11): gh-142560 (names bytearray, functions find)`. */
export function formatBisection(b: Bisection): string {
  const steps = b.steps.map((s) => `${s.release} ${s.claim} ${s.new.hits}/${s.new.trials} vs ${b.from} ${s.old.hits}/${s.old.trials}${s.p !== null ? ` p=${s.p.toFixed(4)}` : ''}`).join('; ');
  const cands = b.candidates.length ? b.candidates.map((c) => `gh-${c.gh} (${c.matched.join(', ')})`).join(', ') : 'none ranked from that release\'s NEWS';
  return `bisected: ${b.why}; steps: ${steps}${b.firstFixed ? `; candidates from ${b.firstFixed}'s NEWS: ${cands}` : ''}`;
}

export interface BisectStoreOptions {
  /** The interpreter of a release of the same variant as `found` (built and cached on first use); null when it cannot be had. */
  targetFor: (release: string, found: Target) => Promise<Target | null>;
  /** The newest release of a series to bisect up to (`3.13` -> `3.13.15`). */
  newestOf: (series: string) => Promise<string | null>;
  /** The interpreter a bucket was found on, when it still exists. */
  ownTarget: (meta: BucketMeta) => Promise<Target | null>;
  news?: NewsIndex;
  /** The site words of a bucket (knownBugs.ts bucketFacts). */
  siteOf: (meta: BucketMeta) => SiteWords;
  /** Measures a bucket's rate on its own interpreter (a family none of whose buckets has one is measured first). */
  measure?: (bucket: string, meta: BucketMeta, found: Target) => Promise<BucketMeta>;
  maxTrials?: number;
  log?: (line: string) => void;
}

/**
 * Bisect each family whose best bucket (the highest lower bound of its recorded rate) shows on the release it
 * was found on: up to the newest release of its series. The result is written into that bucket's meta.json.
 * Races need a ThreadSanitizer build of every release tested, so they are bisected on TSan builds only.
 */
export async function bisectFamilies(
  rows: readonly { id: string; buckets: { bucket: string; meta: BucketMeta }[] }[],
  fileOf: (bucket: string) => Promise<string>,
  save: (bucket: string, bisection: Bisection) => Promise<BucketMeta>,
  o: BisectStoreOptions,
): Promise<void> {
  for (const row of rows) {
    // A family never measured: its first bucket is measured now (sequential trials, on its own interpreter).
    const first = row.buckets[0];
    if (o.measure && first && !row.buckets.some((b) => (recordedCount(b.meta, 'repro.py')?.hits ?? 0) > 0)) {
      const found = await o.ownTarget(first.meta);
      if (found) first.meta = await o.measure(first.bucket, first.meta, found);
    }
    // The bucket whose recorded rate promises the most (the highest 95% lower bound): the fewest trials per step.
    const best = row.buckets
      .map((b) => ({ ...b, recorded: recordedCount(b.meta, 'repro.py') }))
      .filter((b): b is typeof b & { recorded: Count } => b.recorded !== null && b.recorded.hits > 0)
      .sort((a, b) => rateLowerBound(b.recorded) - rateLowerBound(a.recorded))[0];
    if (!best) {
      o.log?.(`${row.id}: no bucket with a measured rate above zero to bisect (ftfuzz triage --measure first)`);
      continue;
    }
    const found = await o.ownTarget(best.meta);
    if (!found) {
      o.log?.(`${row.id}: ${best.bucket}'s interpreter ${best.meta.interpreter.path} is gone`);
      continue;
    }
    const to = await o.newestOf(seriesOfRelease(found.version));
    if (!to || compareVersions(to, found.version) <= 0) {
      o.log?.(`${row.id}: ${found.version} is the newest release of its series that can be had: nothing to bisect`);
      continue;
    }
    o.log?.(`${row.id}: bisecting ${best.bucket} between ${found.version} and ${to}`);
    const bisection = await bisectBucket({
      // repro.py, whose rate `recorded` is (a minimized reproducer has a rate of its own).
      file: await fileOf(best.bucket), meta: best.meta, recorded: best.recorded, found, to, targetFor: (release) => o.targetFor(release, found), news: o.news,
      site: o.siteOf(best.meta), maxTrials: o.maxTrials, log: o.log,
    });
    best.meta = await save(best.bucket, bisection);
    o.log?.(`${row.id}: ${formatBisection(bisection)}`);
  }
}
