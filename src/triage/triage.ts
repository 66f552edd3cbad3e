// Crash triage: the buckets of a store with their rates and sizes, which interpreters each affects, and
// reproduction rates measured after the fact.
import { terminalSafe } from '../text.js';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { crashOracle } from '../oracles/crashOracle.js';
import { hangOracle } from '../oracles/hangOracle.js';
import { type BucketMeta, type CrashStore, type Promotion, type Reproduction, type VersionTrial } from '../store/crashStore.js';
import { familyRate, type FamilyRow } from './families.js';
import type { Target } from '../types.js';
import { absenceImpossible, formatRate, inconclusiveWhy, recordedCount, ruledOut, trialsNeeded, versionStatus } from '../trials/claims.js';
import { bucketFacts, byStrength, formatLink, upstreamLinks, withBisection, type UpstreamLink } from './knownBugs.js';
import { formatBisection } from './bisect.js';
import { loadNews } from './news.js';
import { cacheDir } from '../runtime/paths.js';
import { bucketTrialLimit, runTrials, trialModes } from '../trials/trials.js';
import { FINDING_KINDS, findingKind } from '../findingKinds.js';
import { familyKey, reproducerKind, reproducerOf, type TrialSettings } from '../trials/rate.js';

/** "3.13.5t", "3.13.15td", "3.11.2": the short name of an interpreter in triage tables. */
export function shortLabel(t: Pick<Target, 'version' | 'freeThreaded' | 'debug'>): string {
  return `${t.version}${t.freeThreaded ? 't' : ''}${t.debug ? 'd' : ''}`;
}


/** Replay a bucket on each interpreter and record affected / not affected in its meta.json. */
export async function measureVersions(store: CrashStore, bucket: string, meta: BucketMeta, targets: readonly Target[], s: TrialSettings, log?: (line: string) => void): Promise<BucketMeta> {
  const versions: Record<string, VersionTrial> = { ...(meta.versions ?? {}) };
  const file = await reproducerOf(store, bucket);
  const recorded = recordedCount(meta, reproducerKind(file));
  for (const target of targets) {
    const label = shortLabel(target);
    // A bug that needs the GIL off cannot show on a GIL-only build, nor a race without TSan: nothing to claim.
    const impossible = absenceImpossible(target, meta);
    if (impossible) {
      versions[label] = { path: target.path, version: target.version, modes: [], trials: 0, hits: 0, affected: false, status: 'not-applicable', why: impossible, measuredAt: new Date().toISOString() };
      log?.(`${bucket}: ${label} not applicable (${impossible})`);
      continue;
    }
    const modes = trialModes(target, meta.modes, meta.signature);
    const extendTo = Math.min(s.maxTrials ?? 30, trialsNeeded(recorded));
    const r = await runTrials({ file, target, modes, signature: meta.signature, family: familyKey(meta), trials: s.trials, timeoutMs: bucketTrialLimit(meta, s.timeoutMs), limits: s.limits, oracles: s.oracles, signal: s.signal, extendTo, hangHits: findingKind(meta.kind)?.outlivesLimit === true });
    if (r.cancelled) break;
    const status = versionStatus(target, meta, r.hits, r.trials, recorded);
    const why = status === 'inconclusive' ? inconclusiveWhy(r.trials, recorded) : status === 'not-affected' ? ruledOut(r.trials, recorded) : status === 'affected' ? formatRate(r) + (r.familyHits ? ` (${r.familyHits} by another signature of the family)` : '') : undefined;
    versions[label] = { path: target.path, version: target.version, modes, trials: r.trials, hits: r.hits, affected: r.hits > 0, status, ...(why ? { why } : {}), measuredAt: new Date().toISOString() };
    log?.(`${bucket}: ${label} ${r.hits}/${r.trials} ${status}${why && status !== 'affected' ? ` (${why})` : ''}`);
  }
  return store.update(bucket, (m) => ({ ...m, versions }));
}

/**
 * From race to crash: replay a race bucket (a TSan build's report) on the plain free-threaded build of the
 * same version, and record whether the same program crashes or hangs there (the strongest bug report).
 */
export async function promoteRace(store: CrashStore, bucket: string, meta: BucketMeta, plain: Target, s: TrialSettings, log?: (line: string) => void): Promise<BucketMeta> {
  const modes = trialModes(plain, meta.modes, meta.signature);
  const r = await runTrials({
    file: await reproducerOf(store, bucket), target: plain, modes, trials: s.trials, timeoutMs: s.timeoutMs, limits: s.limits,
    oracles: [crashOracle, hangOracle], signal: s.signal,
  });
  if (r.cancelled) return meta;
  const promotion: Promotion = {
    interpreter: plain.label, path: plain.path, modes, trials: r.trials, hits: r.hits,
    findings: r.others.filter((f) => FINDING_KINDS[f.kind].blocksAbsence).map((f) => ({ kind: f.kind, signature: f.signature, title: f.title })),
    measuredAt: new Date().toISOString(),
  };
  log?.(`${bucket}: on ${shortLabel(plain)} ${r.hits}/${r.trials} trial(s) crashed or hung${promotion.findings.length ? `: ${promotion.findings.map((f) => f.title.slice(0, 100)).join('; ')}` : ''}`);
  return store.update(bucket, (m) => ({ ...m, promotion }));
}

/** The plain free-threaded build (no sanitizer) of a version among `targets`: release first, then debug. */
export function plainTwin(version: string, targets: readonly Target[]): Target | null {
  const same = targets.filter((t) => t.version === version && t.freeThreaded && t.sanitizers.length === 0);
  return same.find((t) => !t.debug) ?? same[0] ?? null;
}

/**
 * The upstream issues a bucket may be (knownBugs.ts), read from its stacks and signature, against the
 * changelogs of the interpreters in the cache: never a fix the bucket's own interpreter already has.
 */
export async function upstreamLinksOf(store: CrashStore, bucket: string, meta: BucketMeta, cacheRoot = cacheDir()): Promise<UpstreamLink[]> {
  const dir = store.dir(bucket);
  const stacks = await fs.readFile(path.join(dir, 'stack.txt'), 'utf8').catch(() => '');
  return withBisection(upstreamLinks(bucketFacts(meta, '', stacks), await loadNews(cacheRoot)), meta.bisection, meta.interpreter?.version);
}

function describeHow(r: Reproduction): string {
  const how = r.how;
  if (!how) return '';
  return ` [plain runs, ${(how.timeoutMs / 1000).toFixed(0)} s limit, ${how.besideJobs === 0 ? 'alone' : `beside ${how.besideJobs} job(s)`}, load ${how.loadAverage} on ${how.cores} cores${how.hitWhen === 'family' ? ', a hit: any signature of its family' : ''}]`;
}

/** A bucket's rate with its interval and how it was measured (and the minimized reproducer's own). */
export function formatBucketRate(m: BucketMeta): string {
  const r = m.reproduction;
  const main = r ? `${formatRate(r)}${r.flaky ? ' flaky' : ''}${describeHow(r)}` : 'unmeasured';
  const min = m.minimized?.reproduction;
  return min ? `${main}; repro.min.py ${formatRate(min)}` : main;
}

/** One table row per bucket: kind, hits, rate, minimized, versions, and the upstream issues it may be. */
export function formatTriageRow(bucket: string, m: BucketMeta, known: readonly UpstreamLink[] = [], indent = ''): string {
  const min = m.minimized ? `min ${m.minimized.linesBefore}->${m.minimized.linesAfter} lines` : 'not minimized';
  const versions = m.versions
    ? Object.entries(m.versions)
        .sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }))
        .map(([label, v]) => `${label}: ${(v.status ?? (v.affected ? 'affected' : 'not-affected')).replace('-', ' ')} ${v.hits}/${v.trials}`)
        .join(', ')
    : '';
  const frames = m.native?.frames.length ? m.native.frames.slice(0, 3).join(' < ') : null;
  // A bucket from a fleet store: the key that wrote its files (fleet/store.ts exportTo).
  const signer = (m as { fleetSigner?: unknown }).fleetSigner;
  return [
    `${m.kind.padEnd(14)} ${bucket}  ${m.verdict ?? 'unknown'}  hits ${m.hits}  ${min}  ${m.modes.join(',')} on ${m.interpreter?.label ?? '?'}`,
    `    ${terminalSafe(m.title.slice(0, 160))}`,
    `    rate: ${formatBucketRate(m)}`,
    ...(frames ? [`    C: ${frames}${m.native?.hangClass ? ` [${m.native.hangClass}]` : ''}`] : []),
    ...(m.native?.op ? [`    op: ${m.native.op}`] : []),
    ...(versions ? [`    versions: ${versions}`] : []),
    ...(m.bisection ? [`    ${formatBisection(m.bisection)}`] : []),
    ...(m.promotion ? [`    promoted: on ${m.promotion.interpreter} ${m.promotion.hits}/${m.promotion.trials} crashed or hung${m.promotion.findings.length ? ` (${m.promotion.findings.map((f) => terminalSafe(f.title.slice(0, 80))).join('; ')})` : ''}`] : []),
    ...known.map((k) => `    upstream: ${formatLink(k)} — ${k.bug.news.slice(0, 90)}`),
    ...(typeof signer === 'string' ? [`    written by: ${terminalSafe(signer.slice(0, 80))} (fleet)`] : []),
  ].map((line) => indent + line).join('\n');
}

/** The upstream links of a family: every bucket's, each issue once, strongest first. */
export function familyLinks(perBucket: readonly (readonly UpstreamLink[])[]): UpstreamLink[] {
  const byGh = new Map<number, UpstreamLink>();
  for (const links of perBucket) {
    for (const l of links) {
      const known = byGh.get(l.bug.gh);
      if (!known) byGh.set(l.bug.gh, { ...l, matched: [...l.matched] });
      else {
        if (byStrength(l, known) < 0) {
          known.strength = l.strength;
          known.status = l.status;
        }
        for (const m of l.matched) if (!known.matched.includes(m)) known.matched.push(m);
      }
    }
  }
  return [...byGh.values()].sort(byStrength);
}

/** A family's heading line and its summary lines (its buckets follow, indented, with formatTriageRow). */
export function formatFamilyRow(row: FamilyRow, links: readonly UpstreamLink[] = []): string {
  const versions = Object.entries(row.versions)
    .sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }))
    .map(([label, v]) => `${label}: ${v.status.replace('-', ' ')} ${v.hits}/${v.trials}`)
    .join(', ');
  return [
    `${row.id}  ${row.label}${row.alsoWithGil ? ' (also with the GIL: a bug of the build, not a free-threading race)' : ''}`,
    `  ${row.kind}, ${row.verdict}; joined by ${row.rule}${row.joined.length ? ` (with ${row.joined.length} more famil${row.joined.length === 1 ? 'y' : 'ies'})` : ''}; ${row.buckets.length} bucket(s), hits ${row.hits}${row.unconfirmed ? ` (+${row.unconfirmed} unconfirmed sighting(s))` : ''}; rate ${familyRate(row)}; first seen ${row.firstSeen}`,
    ...(versions ? [`  versions: ${versions}`] : []),
    ...links.map((k) => `  upstream: ${formatLink(k)} — ${k.bug.news.slice(0, 90)}`),
  ].join('\n');
}
