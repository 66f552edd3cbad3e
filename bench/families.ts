// `npm run bench -- families`: the family rules measured against bugs (issue "every word true": a family
// rule is a classifier; measure it against labels before trusting it). The labelled set is buckets from
// real 3.13.5t campaigns, each with the bug it is: by release bisection where the bug was fixed by 3.13.15
// (`ftfuzz triage --bisect`, its first fixing release and the NEWS entry its crash site names), by hand where
// it is still present. The scorer recomputes every bucket's family from what the bucket keeps (its meta,
// evidence and stacks, and its program's header), with the same code `ftfuzz triage` runs, then reports:
//
//   purity             share of families whose buckets are all one bug (a merge makes a family impure)
//   families per bug   how many families one bug is spread over, on average (a split raises it)
//
// and lists every impure family and every split bug. `--add STORE --labels FILE` adds a store's buckets to the
// set (their evidence trimmed to what families read); the set lives in the repository.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../src/atomicWrite.js';
import { UsageError } from '../src/errors.js';
import type { BucketEvidence, BucketMeta } from '../src/store/crashStore.js';
import { CrashStore } from '../src/store/crashStore.js';
import { groupFamilies } from '../src/triage/families.js';
import { factsOf, familyOf } from '../src/trials/family.js';

export const DEFAULT_SET = 'bench/families/set.json';

/** One labelled bucket: what family rules read of it, and the bug it is. */
export interface LabelledBucket {
  bucket: string;
  /** The campaign (seed) it came from. */
  campaign: string;
  /** The bug: `gh-N` (an upstream issue), or a name for one still present (`still: array resize`). */
  bug: string;
  /** How the label was decided: `bisected: first fixed in 3.13.12, NEWS gh-142560`, `by hand: ...`. */
  how: string;
  meta: Pick<BucketMeta, 'kind' | 'signature' | 'native' | 'origin' | 'modes' | 'title'> & Partial<Pick<BucketMeta, 'bisection'>>;
  evidence: BucketEvidence | null;
  /** stack.txt of a race (TSan's report: both access stacks). */
  stack: string | null;
  /** The program's header lines (its scenario or surface line): what heap families read. */
  header: string;
}

export interface LabelledSet {
  format: 1;
  /** Where the buckets came from, for people. */
  source: string;
  buckets: LabelledBucket[];
}

export interface FamilyScore {
  buckets: number;
  bugs: number;
  families: number;
  /** Families whose buckets are one bug, over all families. */
  purity: number;
  /** Families a bug's buckets are spread over, averaged over the bugs. */
  familiesPerBug: number;
  impure: { family: string; rule: string; bugs: string[] }[];
  split: { bug: string; families: string[] }[];
}

/** The header lines families read (scenario, surface program line, members): the rest of a program is not kept. */
function headerOf(source: string): string {
  return source.split('\n', 40).filter((l) => /^# (scenario|ftfuzz surface program|members|generator): /.test(l)).join('\n');
}

/** What families read of the evidence: the faulting thread of a crash, every thread of a hang's last sample. */
function trimEvidence(e: BucketEvidence | null, kind: string): BucketEvidence | null {
  if (!e?.native) return e ? { ...e, stderrTail: '' } : null;
  const n = e.native;
  const last = n.samples.at(-1);
  const threads = (kind === 'crash' ? last?.threads.filter((t) => t.lwp === n.faultingLwp) : last?.threads) ?? [];
  const sample = { threads: threads.map((t) => ({ ...t, frames: t.frames.slice(0, 60) })), ticks: last?.ticks ?? {}, python: last?.python ?? {}, at: last?.at ?? null };
  // A hang's class needs two samples: the first is kept too, for its ticks and positions.
  const first = kind === 'hang' && n.samples.length > 1 ? [{ ...(n.samples[0] as NonNullable<typeof last>), threads: [] }] : [];
  return { ...e, stderrTail: '', native: { ...n, raw: '', samples: [...first, sample] } };
}

/** Score the family rules on a labelled set. */
export function scoreFamilies(set: LabelledSet): FamilyScore {
  const rows = groupFamilies(
    set.buckets.map((b) => {
      const family = familyOf(factsOf(b.meta, { evidence: b.evidence, stackText: b.stack, source: b.header }));
      return { bucket: b.bucket, meta: { ...(b.meta as BucketMeta), family, hits: 1, firstSeen: '', lastSeen: '' } };
    }),
  );
  const bugOf = new Map(set.buckets.map((b) => [b.bucket, b.bug]));
  const impure: FamilyScore['impure'] = [];
  // By key: two families may share a label (a crash site with and without the GIL).
  const familiesOfBug = new Map<string, Map<string, string>>();
  for (const row of rows) {
    const bugs = [...new Set(row.buckets.map((b) => bugOf.get(b.bucket) ?? '?'))].sort();
    if (bugs.length > 1) impure.push({ family: row.label, rule: row.rule, bugs });
    for (const bug of bugs) {
      const families = familiesOfBug.get(bug) ?? new Map<string, string>();
      families.set(row.key, `${row.label}${row.alsoWithGil ? ' (also with the GIL)' : ''}`);
      familiesOfBug.set(bug, families);
    }
  }
  const split = [...familiesOfBug].filter(([, f]) => f.size > 1).map(([bug, f]) => ({ bug, families: [...f.values()].sort() }));
  const perBug = [...familiesOfBug.values()].map((f) => f.size);
  return {
    buckets: set.buckets.length, bugs: familiesOfBug.size, families: rows.length,
    purity: rows.length ? (rows.length - impure.length) / rows.length : 1,
    familiesPerBug: perBug.length ? perBug.reduce((a, b) => a + b, 0) / perBug.length : 0,
    impure, split,
  };
}

export async function readSet(file: string): Promise<LabelledSet> {
  const text = await fs.readFile(file, 'utf8').catch(() => null);
  if (text === null) return { format: 1, source: '', buckets: [] };
  const set = JSON.parse(text) as LabelledSet;
  if (set.format !== 1 || !Array.isArray(set.buckets)) throw new UsageError(`${file}: not a labelled set of ftfuzz buckets (format 1)`);
  return set;
}

/**
 * Add a store's buckets to the set: `labels` maps a bucket name to its bug and how that was decided. A bucket
 * without a label is refused (an unlabelled bucket measures nothing).
 */
export async function addToSet(file: string, storeDir: string, campaign: string, labels: Record<string, { bug: string; how: string }>, source?: string): Promise<LabelledSet> {
  const set = await readSet(file);
  const store = new CrashStore(storeDir);
  for (const { bucket, meta } of (await store.list()).buckets) {
    const label = labels[bucket];
    if (!label) throw new UsageError(`${bucket} of ${storeDir} has no label in the labels file: give it one (its bug, and how that was decided)`);
    const read = (name: string) => fs.readFile(path.join(store.dir(bucket), name), 'utf8').catch(() => null);
    const evidenceText = await read('evidence.json');
    const evidence = evidenceText ? trimEvidence(JSON.parse(evidenceText) as BucketEvidence, meta.kind) : null;
    const entry: LabelledBucket = {
      bucket, campaign, bug: label.bug, how: label.how,
      meta: { kind: meta.kind, signature: meta.signature, native: meta.native, origin: meta.origin, modes: meta.modes, title: meta.title, ...(meta.bisection ? { bisection: meta.bisection } : {}) },
      evidence, stack: meta.kind === 'race' ? await read('stack.txt') : null, header: headerOf((await read('repro.py')) ?? ''),
    };
    set.buckets = [...set.buckets.filter((b) => !(b.bucket === bucket && b.campaign === campaign)), entry];
  }
  if (source) set.source = source;
  await writeFileAtomic(file, `${JSON.stringify(set, null, 1)}\n`);
  return set;
}

/** The report: the two figures, then every impure family and split bug. */
export function formatScore(s: FamilyScore): string[] {
  return [
    `${s.buckets} labelled buckets, ${s.bugs} bugs, ${s.families} families: purity ${s.purity.toFixed(3)} (${s.families - s.impure.length}/${s.families} families hold one bug), ${s.familiesPerBug.toFixed(2)} families per bug`,
    ...s.impure.map((i) => `  impure (${i.rule}): ${i.family} holds ${i.bugs.join(', ')}`),
    ...s.split.map((x) => `  split: ${x.bug} over ${x.families.length} families: ${x.families.join(' | ')}`),
  ];
}

/**
 * `npm run bench -- families [--set FILE] [--add STORE --campaign SEED --labels FILE [--source TEXT]]`: score the
 * family rules on the labelled set (default bench/families/set.json), after adding a store's buckets when asked.
 */
export async function familiesSection(argv: string[]): Promise<{ name: string; value: string; note?: string }[]> {
  const { default: yargs } = await import('yargs');
  const args = await yargs(argv)
    .option('set', { type: 'string', default: DEFAULT_SET })
    .option('add', { type: 'string', describe: 'a crash store whose buckets to add to the set' })
    .option('campaign', { type: 'string', describe: 'with --add: the campaign (seed) the store came from' })
    .option('labels', { type: 'string', describe: 'with --add: JSON {bucket: {bug, how}} for every bucket of the store' })
    .option('source', { type: 'string', describe: 'with --add: where the set\'s buckets came from, for people' })
    .strict()
    .parse();
  if (args.add) {
    if (!args.campaign || !args.labels) throw new UsageError('--add needs --campaign SEED and --labels FILE');
    const labels = JSON.parse(await fs.readFile(args.labels, 'utf8')) as Record<string, { bug: string; how: string }>;
    await addToSet(args.set, args.add, args.campaign, labels, args.source);
  }
  const set = await readSet(args.set);
  if (set.buckets.length === 0) throw new UsageError(`${args.set}: no labelled buckets; add some with --add STORE --campaign SEED --labels FILE`);
  const score = scoreFamilies(set);
  for (const line of formatScore(score)) console.log(line);
  return [
    { name: 'purity (families holding one bug)', value: score.purity.toFixed(3), note: `${score.families - score.impure.length}/${score.families}; ${set.source}` },
    { name: 'families per bug', value: score.familiesPerBug.toFixed(2), note: `${score.families} families for ${score.bugs} bugs in ${score.buckets} buckets` },
  ];
}
