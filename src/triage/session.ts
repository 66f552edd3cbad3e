// `ftfuzz triage` as a library call: re-sign what an older format signed, group every bucket into its
// family, optionally measure rates, replay on other versions and promote races, then return the families
// with their upstream links. The CLI only resolves options and formats what this returns.
import { findingKind } from '../findingKinds.js';
import path from 'node:path';
import { probeTarget } from '../runtime/targets.js';
import { defaultLimits } from '../runtime/limits.js';
import { CrashStore, type BucketMeta } from '../store/crashStore.js';
import type { Target } from '../types.js';
import { groupFamilies, regroupStore, type FamilyRow } from './families.js';
import type { UpstreamLink } from './knownBugs.js';
import { resignStore } from './resign.js';
import { measureRate } from '../trials/rate.js';
import { familyLinks, measureVersions, plainTwin, promoteRace, shortLabel, upstreamLinksOf } from './triage.js';
import { bisectFamilies, type BisectStoreOptions } from './bisect.js';
import { bucketFacts } from './knownBugs.js';
import { loadNews } from './news.js';
import { cacheDir } from '../runtime/paths.js';
import { promises as fs } from 'node:fs';

/** Triage's defaults, defined once: the library applies them, and the CLI shows them (`ftfuzz triage --help`). */
export const TRIAGE_DEFAULTS = { trials: 10, maxTrials: 30, timeoutMs: 30_000, flakyBelow: 0.5 } as const;

export interface TriageOptions {
  /** Runs per bucket and interpreter. Default 10. */
  trials?: number;
  /** While a bucket shows nothing, go on up to the trials its recorded rate needs for "not affected". Default 30. */
  maxTrials?: number;
  /** Per-run cap (a hang bucket uses its calibrated limit). Default 30 s. */
  timeoutMs?: number;
  /** Rate under which a bucket is marked flaky. Default 0.5. */
  flakyBelow?: number;
  /** Only these buckets (names). */
  only?: readonly string[];
  /** Measure (again) each bucket's rate on its own interpreter. */
  measure?: boolean;
  /** Replay every bucket on these interpreters and record affected / not. */
  versions?: readonly Target[];
  /** Replay race buckets on the plain build of their version among these interpreters. */
  promoteOn?: readonly Target[];
  /** Re-sign every crash and hang bucket, not only those of an older signature format. */
  resignAll?: boolean;
  /** The interpreter buckets are re-signed on (default: each bucket's own, when it still exists). */
  python?: Target;
  /**
   * Bisect each family between the release it was found on and the newest of its series (bisect.ts):
   * how to have the interpreter of a release (built and cached on first use) and the newest of a series.
   */
  bisect?: Pick<BisectStoreOptions, 'targetFor' | 'newestOf' | 'maxTrials'>;
  log?: (line: string) => void;
}

export interface TriageResult {
  families: FamilyRow[];
  /** The chosen buckets, with their metas as they are after this triage. */
  buckets: { bucket: string; meta: BucketMeta }[];
  /** Upstream candidates per bucket name, and per family (folded over its buckets). */
  links: Map<string, UpstreamLink[]>;
  familyLinks: (row: FamilyRow) => UpstreamLink[];
  /** Bucket directories that could not be read, and why. */
  errors: { bucket: string; error: string }[];
  /** Names asked for with `only` that the store does not hold. */
  missing: string[];
  /** Sightings seen only in a reused worker (kept in `.unconfirmed`), and crawls (`.slow`). */
  unconfirmed: { bucket: string; meta: BucketMeta }[];
  slow: { bucket: string; meta: BucketMeta }[];
  /** Surface programs' failures that also showed with the GIL on (`.gil-on`): read by hand. */
  gilOn: { bucket: string; meta: BucketMeta }[];
}

export async function triageStore(store: CrashStore, o: TriageOptions = {}): Promise<TriageResult> {
  const log = o.log ?? (() => undefined);
  const trials = o.trials ?? TRIAGE_DEFAULTS.trials;
  const timeoutMs = o.timeoutMs ?? TRIAGE_DEFAULTS.timeoutMs;
  const limits = defaultLimits(1, timeoutMs);
  const ownTarget = (m: BucketMeta) => probeTarget(m.interpreter.path, 'flag').catch(() => null);
  // Older signature formats (or resignAll): signed again from evidence.json, or by re-running repro.py.
  await resignStore(store, { all: o.resignAll ?? false, only: o.only, targetFor: async (m) => o.python ?? (await ownTarget(m)), trials: Math.min(trials, 5), timeoutMs, limits, log });
  // Every bucket belongs to a family (one suspected bug): computed for buckets of older stores.
  const unconfirmedStore = new CrashStore(path.join(store.root, '.unconfirmed'));
  await regroupStore(store, log);
  await regroupStore(unconfirmedStore);
  const { buckets, errors } = await store.list();
  const chosen = o.only ? buckets.filter((b) => o.only?.includes(b.bucket)) : buckets;
  const missing = (o.only ?? []).filter((n) => !buckets.some((b) => b.bucket === n));
  const settings = { trials, timeoutMs, limits, maxTrials: o.maxTrials ?? TRIAGE_DEFAULTS.maxTrials };
  if (o.measure) {
    for (const b of chosen) {
      const target = await ownTarget(b.meta);
      if (!target) {
        log(`${b.bucket}: its interpreter ${b.meta.interpreter.path} is gone; pass --python to triage --versions instead`);
        continue;
      }
      b.meta = await measureRate(store, b.bucket, b.meta, target, { ...settings, flakyBelow: o.flakyBelow ?? TRIAGE_DEFAULTS.flakyBelow });
    }
  }
  if (o.versions) {
    log(`replaying ${chosen.length} bucket(s) on ${o.versions.map(shortLabel).join(', ')}, ${trials} trial(s) each`);
    for (const b of chosen) b.meta = await measureVersions(store, b.bucket, b.meta, o.versions, settings, log);
  }
  if (o.promoteOn) {
    const races = chosen.filter((b) => findingKind(b.meta.kind)?.needsTsan === true);
    if (races.length === 0) log('--promote: no race buckets (they come from campaigns on ThreadSanitizer builds)');
    for (const b of races) {
      const plain = plainTwin(b.meta.interpreter.version, o.promoteOn);
      if (!plain) {
        log(`${b.bucket}: no plain free-threaded CPython ${b.meta.interpreter.version}t to promote it on; build one with \`ftfuzz python install --version ${b.meta.interpreter.version}\` or pass it with --python`);
        continue;
      }
      b.meta = await promoteRace(store, b.bucket, b.meta, plain, settings, log);
    }
  }
  // One whose family is stored counts for that family.
  const unconfirmed = (await unconfirmedStore.list()).buckets;
  if (o.bisect) {
    await bisectFamilies(groupFamilies(chosen, unconfirmed), (b) => fs.access(path.join(store.dir(b), 'repro.py')).then(() => path.join(store.dir(b), 'repro.py')), (b, bisection) => store.update(b, (m) => ({ ...m, bisection })), {
      ...o.bisect, ownTarget, news: await loadNews(cacheDir()), log,
      measure: (bucket, meta, found) => measureRate(store, bucket, meta, found, { ...settings, flakyBelow: o.flakyBelow ?? TRIAGE_DEFAULTS.flakyBelow, sequential: true }),
      siteOf: (meta) => {
        const facts = bucketFacts(meta);
        return { functions: facts.frames, names: facts.objects ?? [] };
      },
    });
    // The metas as the bisection left them (its result is in them).
    for (const b of chosen) b.meta = (await store.read(b.bucket)) ?? b.meta;
  }
  const slow = (await new CrashStore(path.join(store.root, '.slow')).list()).buckets;
  const gilOn = (await new CrashStore(path.join(store.root, '.gil-on')).list()).buckets;
  const links = new Map<string, UpstreamLink[]>();
  for (const b of chosen) links.set(b.bucket, await upstreamLinksOf(store, b.bucket, b.meta));
  return {
    families: groupFamilies(chosen, unconfirmed),
    buckets: chosen,
    links,
    familyLinks: (row) => familyLinks(row.buckets.map((b) => links.get(b.bucket) ?? [])),
    errors,
    missing,
    unconfirmed,
    slow,
    gilOn,
  };
}
