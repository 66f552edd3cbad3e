// The store as a triager reads it: one row per family (one suspected bug), its buckets folded under it.
// Re-grouping a store writes each bucket's family into its meta.json, one atomic write per bucket under its
// lock, and touches nothing else: a kill at any moment leaves every bucket whole, and a second run finishes
// the rest and changes nothing already done (repro.min.py, versions, rates and hits are never rewritten).
import { findingKind } from '../findingKinds.js';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { BucketEvidence, BucketMeta, CrashStore } from '../store/crashStore.js';
import type { FindingKind, Verdict } from '../types.js';
import { type Count, formatRate, rateInterval } from '../trials/claims.js';
import { factsOf, familyCurrent, familyId, familyOf, type Family } from '../trials/family.js';

/** Compute a bucket's family from the files it keeps (evidence.json, stack.txt, repro.py). */
export async function bucketFamily(store: CrashStore, bucket: string, meta: BucketMeta): Promise<Family> {
  const dir = store.dir(bucket);
  const read = (name: string) => fs.readFile(path.join(dir, name), 'utf8').catch(() => null);
  let evidence: BucketEvidence | null = null;
  const evidenceText = await read('evidence.json');
  if (evidenceText !== null) {
    try {
      evidence = JSON.parse(evidenceText) as BucketEvidence;
    } catch {
      evidence = null;
    }
  }
  return familyOf(factsOf(meta, { evidence, stackText: await read('stack.txt'), source: await read('repro.py') }));
}

/**
 * Give every bucket of a store that has none (or an older shape of one) its family. Idempotent; each
 * bucket's meta.json is rewritten atomically, under its lock, only when its family changes.
 */
export async function regroupStore(store: CrashStore, log?: (line: string) => void): Promise<number> {
  let changed = 0;
  for (const { bucket, meta } of (await store.list()).buckets) {
    if (familyCurrent(meta)) continue;
    const family = await bucketFamily(store, bucket, meta);
    await store.update(bucket, (m) => (m.family?.key === family.key && m.family.format === family.format ? m : { ...m, family }));
    changed += 1;
  }
  if (changed > 0) log?.(`grouped ${changed} bucket(s) of ${store.root} into families`);
  return changed;
}

export interface FamilyRow {
  id: string;
  key: string;
  label: string;
  kind: FindingKind;
  buckets: { bucket: string; meta: BucketMeta }[];
  hits: number;
  firstSeen: string;
  lastSeen: string;
  /** The strongest verdict of its buckets (runtime-bug above unknown). */
  verdict: Verdict;
  /** Every rate trial of its buckets together (each bucket's replayed reproducer), or null when none was measured. */
  rate: Count | null;
  /** Sightings set aside as unconfirmed (seen in a reused worker only) whose family is this one. */
  unconfirmed: number;
  /** Per interpreter: affected when any bucket is; not affected only when every measured bucket is. */
  versions: Record<string, { status: string; hits: number; trials: number }>;
  /**
   * A crash or race of it also showed with the GIL on: a bug of the build the GIL does not hide, not a
   * free-threading race (never a generator mistake: a segfault from pure Python is a bug whatever the GIL does).
   */
  alsoWithGil: boolean;
  /** The rule that joined its buckets (trials/family.ts), or the bisected fix that joined several families. */
  rule: string;
  /** Family keys joined into it by the same bisected fix. */
  joined: string[];
}

/** A bucket of a crash or race that showed with the GIL on too. */
export function shownWithGil(meta: Pick<BucketMeta, 'kind' | 'modes'>): boolean {
  return findingKind(meta.kind)?.withGil === 'family' && meta.modes.includes('gil-on');
}

const VERDICT_ORDER: Verdict[] = ['runtime-bug', 'unknown', 'program-race', 'slow', 'environment'];

/**
 * The fix a bucket's bisection found: its first fixing release and the NEWS entries that rank highest by the
 * crash site's words (`3.13.12|gh-112127,gh-142881`: two atexit.unregister fixes of one release tie).
 * Families whose bisections end at the same fix are one bug (the evidence, not their resemblance, joins them);
 * none without a ranked entry (a release fixes many things).
 */
export function bisectedFix(meta: Pick<BucketMeta, 'bisection'>): string | null {
  const b = meta.bisection;
  const top = b?.candidates[0]?.score;
  if (!b?.firstFixed || top === undefined) return null;
  const best = b.candidates.filter((c) => c.score === top).map((c) => `gh-${c.gh}`).sort();
  return `${b.firstFixed}|${best.join(',')}`;
}

/** Family keys joined by a bisected fix: each joined key -> the key of the family it joins (the first seen). */
function joinedByFix(buckets: readonly { meta: BucketMeta }[]): Map<string, { into: string; fix: string }> {
  const firstByFix = new Map<string, string>();
  const out = new Map<string, { into: string; fix: string }>();
  for (const b of buckets) {
    const fix = bisectedFix(b.meta);
    const key = b.meta.family?.key;
    if (!fix || !key) continue;
    const into = firstByFix.get(fix) ?? key;
    firstByFix.set(fix, into);
    if (into !== key) out.set(key, { into, fix });
  }
  return out;
}

/**
 * A heap corruption of a program that shared several mutated kinds (`heap|StringIO+array`) joins the family
 * of the one kind among them that corrupted the heap alone in this store (`heap|array`): the store's own
 * evidence of which object damages the heap. Two such kinds, or none, and it stays as it is.
 */
function joinedByCorrupter(buckets: readonly { meta: BucketMeta }[]): Map<string, { into: string; why: string }> {
  const keys = new Set(buckets.map((b) => b.meta.family?.key).filter((k): k is string => k !== undefined && k.startsWith('heap|')));
  const out = new Map<string, { into: string; why: string }>();
  for (const key of keys) {
    const kinds = key.slice('heap|'.length).split('+');
    if (kinds.length < 2) continue;
    const alone = kinds.filter((k) => keys.has(`heap|${k}`));
    if (alone.length === 1) out.set(key, { into: `heap|${alone[0] as string}`, why: `heap: of the kinds shared, only ${alone[0] as string} corrupted the heap alone in this store` });
  }
  return out;
}

/** The families of a store's buckets, most hits first; unconfirmed sightings count for families already stored. */
export function groupFamilies(buckets: readonly { bucket: string; meta: BucketMeta }[], unconfirmed: readonly { bucket: string; meta: BucketMeta }[] = []): FamilyRow[] {
  const rows = new Map<string, FamilyRow>();
  const joins = new Map<string, { into: string; why: string }>();
  for (const [key, j] of joinedByCorrupter(buckets)) joins.set(key, j);
  for (const [key, j] of joinedByFix(buckets)) joins.set(key, { into: joins.get(j.into)?.into ?? j.into, why: `same bisected fix (${j.fix.replace('|', ', ')})` });
  // A bucket's own family, then any join (a corrupter's family can itself be joined by a fix).
  const target = (own: string) => {
    const first = joins.get(own);
    return first ? (joins.get(first.into)?.into ?? first.into) : own;
  };
  // Rows are made under the key they end in; a bucket of another key opening it must not name itself.
  const pending = new Map<string, string[]>();
  for (const b of buckets) {
    const own = b.meta.family?.key ?? `${b.meta.kind}|${b.meta.signature}`;
    const join = joins.get(own);
    const key = target(own);
    let row = rows.get(key);
    if (join && !(pending.get(key) ?? []).includes(own)) {
      pending.set(key, [...(pending.get(key) ?? []), own]);
    }
    if (!row) {
      row = {
        id: familyId(key), key, label: b.meta.family?.label ?? b.meta.title, kind: b.meta.kind, buckets: [], hits: 0, rule: b.meta.family?.rule ?? 'signature', joined: [],
        firstSeen: b.meta.firstSeen, lastSeen: b.meta.lastSeen, verdict: b.meta.verdict ?? 'unknown', rate: null, unconfirmed: 0, versions: {}, alsoWithGil: false,
      };
      rows.set(key, row);
    }
    const joinedHere = pending.get(key) ?? [];
    for (const k of joinedHere) {
      if (k !== row.key && !row.joined.includes(k)) {
        row.joined.push(k);
        row.rule = joins.get(k)?.why ?? row.rule;
      }
    }
    row.buckets.push(b);
    row.hits += b.meta.hits;
    if (shownWithGil(b.meta)) row.alsoWithGil = true;
    if (b.meta.firstSeen < row.firstSeen) row.firstSeen = b.meta.firstSeen;
    if (b.meta.lastSeen > row.lastSeen) row.lastSeen = b.meta.lastSeen;
    if (VERDICT_ORDER.indexOf(b.meta.verdict ?? 'unknown') < VERDICT_ORDER.indexOf(row.verdict)) row.verdict = b.meta.verdict ?? 'unknown';
    const r = b.meta.minimized?.reproduction ?? b.meta.reproduction;
    if (r && r.trials > 0) row.rate = { hits: (row.rate?.hits ?? 0) + r.hits, trials: (row.rate?.trials ?? 0) + r.trials };
    for (const [label, v] of Object.entries(b.meta.versions ?? {})) {
      const status = v.status ?? (v.affected ? 'affected' : 'not-affected');
      const known = row.versions[label];
      if (!known) row.versions[label] = { status, hits: v.hits, trials: v.trials };
      else {
        known.hits += v.hits;
        known.trials += v.trials;
        if (status === 'affected' || known.status === 'affected') known.status = 'affected';
        else if (status !== known.status) known.status = 'inconclusive';
      }
    }
  }
  // A row opened by a joined bucket takes the label of its own family's buckets.
  for (const row of rows.values()) {
    const own = row.buckets.find((b) => b.meta.family?.key === row.key);
    if (own?.meta.family) row.label = own.meta.family.label;
  }
  for (const u of unconfirmed) {
    const row = u.meta.family ? rows.get(target(u.meta.family.key)) : undefined;
    if (row) row.unconfirmed += u.meta.hits;
  }
  return [...rows.values()].sort((a, b) => b.hits - a.hits || a.firstSeen.localeCompare(b.firstSeen));
}

/** `14/30 (47%, 95% CI 28-66%)`, or `unmeasured`. */
export function familyRate(row: Pick<FamilyRow, 'rate'>): string {
  return row.rate ? formatRate(row.rate) : 'unmeasured';
}

/** The combined rate's interval, for JSON: [low, high]. */
export function familyInterval(row: Pick<FamilyRow, 'rate'>): [number, number] | null {
  return row.rate ? rateInterval(row.rate) : null;
}

/** A family for JSON output: the row without the bucket metas (they are listed beside it). */
export function familyJson(row: FamilyRow): Record<string, unknown> {
  return {
    id: row.id, key: row.key, label: row.label, kind: row.kind, verdict: row.verdict, hits: row.hits, firstSeen: row.firstSeen, lastSeen: row.lastSeen,
    buckets: row.buckets.map((b) => b.bucket), rate: row.rate, rateInterval: familyInterval(row), unconfirmed: row.unconfirmed, versions: row.versions, alsoWithGil: row.alsoWithGil,
    rule: row.rule, joined: row.joined,
  };
}
