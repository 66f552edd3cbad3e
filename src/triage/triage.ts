// Crash triage: the buckets of a store with their rates and sizes, which interpreters each affects, and
// reproduction rates measured after the fact.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Oracle } from '../oracles/index.js';
import type { ResourceLimits } from '../runtime/limits.js';
import { crashOracle } from '../oracles/crashOracle.js';
import { hangOracle } from '../oracles/hangOracle.js';
import { reproducerIn, type BucketMeta, type CrashStore, type Promotion, type Reproduction, type VersionTrial } from '../store/crashStore.js';
import type { Target } from '../types.js';
import { recordedRate, trialsNeeded, versionStatus } from './claims.js';
import { bucketFacts, fixedLabel, matchKnownBugs, type KnownBug } from './knownBugs.js';
import { bucketTrialLimit, runTrials, trialModes } from './trials.js';

/** "3.13.5t", "3.13.15td", "3.11.2": the short name of an interpreter in triage tables. */
export function shortLabel(t: Pick<Target, 'version' | 'freeThreaded' | 'debug'>): string {
  return `${t.version}${t.freeThreaded ? 't' : ''}${t.debug ? 'd' : ''}`;
}

export interface TrialSettings {
  trials: number;
  timeoutMs: number;
  limits?: ResourceLimits;
  oracles?: Oracle[];
  signal?: AbortSignal;
  /** While nothing showed, go on up to what the recorded rate needs for `not affected`, at most this. */
  maxTrials?: number;
}


/** The reproducer a bucket is replayed from: the minimized one when present. */
export function reproducerOf(store: CrashStore, bucket: string): Promise<string> {
  return reproducerIn(store.dir(bucket));
}

/** Replay a bucket on each interpreter and record affected / not affected in its meta.json. */
export async function measureVersions(store: CrashStore, bucket: string, meta: BucketMeta, targets: readonly Target[], s: TrialSettings, log?: (line: string) => void): Promise<BucketMeta> {
  const versions: Record<string, VersionTrial> = { ...(meta.versions ?? {}) };
  const file = await reproducerOf(store, bucket);
  for (const target of targets) {
    const label = shortLabel(target);
    const rate = recordedRate(meta);
    // A bug that needs the GIL off cannot show on a GIL-only build: nothing to run, nothing to claim.
    if (versionStatus(target, meta.modes, 0, 0, rate) === 'not-applicable') {
      versions[label] = { path: target.path, version: target.version, modes: [], trials: 0, hits: 0, affected: false, status: 'not-applicable', measuredAt: new Date().toISOString() };
      log?.(`${bucket}: ${label} not applicable (GIL-only build; the bug needs the GIL off)`);
      continue;
    }
    const modes = trialModes(target, meta.modes, meta.signature);
    const extendTo = Math.min(s.maxTrials ?? 30, trialsNeeded(rate));
    const r = await runTrials({ file, target, modes, signature: meta.signature, trials: s.trials, timeoutMs: bucketTrialLimit(meta, s.timeoutMs), limits: s.limits, oracles: s.oracles, signal: s.signal, extendTo });
    if (r.cancelled) break;
    const status = versionStatus(target, meta.modes, r.hits, r.trials, rate);
    versions[label] = { path: target.path, version: target.version, modes, trials: r.trials, hits: r.hits, affected: r.hits > 0, status, measuredAt: new Date().toISOString() };
    log?.(`${bucket}: ${label} ${r.hits}/${r.trials} ${status}`);
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
    findings: r.others.filter((f) => f.kind === 'crash' || f.kind === 'hang').map((f) => ({ kind: f.kind, signature: f.signature, title: f.title })),
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

/** Measure (or re-measure) a bucket's reproduction rate on its own interpreter. */
export async function measureRate(store: CrashStore, bucket: string, meta: BucketMeta, target: Target, s: TrialSettings & { flakyBelow: number }): Promise<BucketMeta> {
  const modes = trialModes(target, meta.modes, meta.signature);
  const r = await runTrials({ file: await reproducerOf(store, bucket), target, modes, signature: meta.signature, trials: s.trials, timeoutMs: bucketTrialLimit(meta, s.timeoutMs), limits: s.limits, oracles: s.oracles, signal: s.signal });
  if (r.cancelled) return meta;
  const reproduction: Reproduction = { interpreter: target.label, modes, trials: r.trials, hits: r.hits, rate: r.rate, flaky: r.rate < s.flakyBelow, measuredAt: new Date().toISOString() };
  return store.update(bucket, (m) => ({ ...m, reproduction }));
}

/** The Misc/NEWS entries a bucket may be (knownBugs.ts), read from its reproducer and stacks. */
export async function knownBugsOf(store: CrashStore, bucket: string, meta: BucketMeta): Promise<KnownBug[]> {
  const dir = store.dir(bucket);
  const source = await fs.readFile(await reproducerIn(dir), 'utf8').catch(() => '');
  const stacks = await fs.readFile(path.join(dir, 'stack.txt'), 'utf8').catch(() => '');
  return matchKnownBugs(bucketFacts(meta, source, stacks));
}

/** One table row per bucket: kind, hits, rate, minimized, versions, and the NEWS entries it may be. */
export function formatTriageRow(bucket: string, m: BucketMeta, known: readonly KnownBug[] = []): string {
  const rate = m.reproduction ? `${m.reproduction.hits}/${m.reproduction.trials}${m.reproduction.flaky ? ' flaky' : ''}` : 'unmeasured';
  const min = m.minimized ? `min ${m.minimized.linesBefore}->${m.minimized.linesAfter} lines` : 'not minimized';
  const versions = m.versions
    ? Object.entries(m.versions)
        .sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }))
        .map(([label, v]) => `${label}: ${(v.status ?? (v.affected ? 'affected' : 'not-affected')).replace('-', ' ')} ${v.hits}/${v.trials}`)
        .join(', ')
    : '';
  const frames = m.native?.frames.length ? m.native.frames.slice(0, 3).join(' < ') : null;
  return [
    `${m.kind.padEnd(14)} ${bucket}  ${m.verdict ?? 'unknown'}  hits ${m.hits}  rate ${rate}  ${min}  ${m.modes.join(',')} on ${m.interpreter?.label ?? '?'}`,
    `    ${m.title.slice(0, 160)}`,
    ...(frames ? [`    C: ${frames}${m.native?.hangClass ? ` [${m.native.hangClass}]` : ''}`] : []),
    ...(m.native?.op ? [`    op: ${m.native.op}`] : []),
    ...(versions ? [`    versions: ${versions}`] : []),
    ...(m.promotion ? [`    promoted: on ${m.promotion.interpreter} ${m.promotion.hits}/${m.promotion.trials} crashed or hung${m.promotion.findings.length ? ` (${m.promotion.findings.map((f) => f.title.slice(0, 80)).join('; ')})` : ''}`] : []),
    ...(known.length ? [`    upstream: ${known.map((k) => `gh-${k.gh} (${k.area}, ${fixedLabel(k)}: ${k.news.slice(0, 90)})`).join('; ')}`] : []),
  ].join('\n');
}
