// Crash triage: the buckets of a store with their rates and sizes, which interpreters each affects, and
// reproduction rates measured after the fact.
import type { Oracle } from '../oracles/index.js';
import type { ResourceLimits } from '../runtime/spawnExecutor.js';
import { reproducerIn, type BucketMeta, type CrashStore, type Reproduction, type VersionTrial } from '../store/crashStore.js';
import type { Target } from '../types.js';
import { runTrials, trialModes } from './trials.js';

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
    const modes = trialModes(target, meta.modes, meta.signature);
    const r = await runTrials({ file, target, modes, signature: meta.signature, trials: s.trials, timeoutMs: s.timeoutMs, limits: s.limits, oracles: s.oracles, signal: s.signal });
    if (r.cancelled) break;
    const label = shortLabel(target);
    versions[label] = { path: target.path, version: target.version, modes, trials: r.trials, hits: r.hits, affected: r.hits > 0, measuredAt: new Date().toISOString() };
    log?.(`${bucket}: ${label} ${r.hits}/${r.trials}`);
  }
  return store.update(bucket, (m) => ({ ...m, versions }));
}

/** Measure (or re-measure) a bucket's reproduction rate on its own interpreter. */
export async function measureRate(store: CrashStore, bucket: string, meta: BucketMeta, target: Target, s: TrialSettings & { flakyBelow: number }): Promise<BucketMeta> {
  const modes = trialModes(target, meta.modes, meta.signature);
  const r = await runTrials({ file: await reproducerOf(store, bucket), target, modes, signature: meta.signature, trials: s.trials, timeoutMs: s.timeoutMs, limits: s.limits, oracles: s.oracles, signal: s.signal });
  if (r.cancelled) return meta;
  const reproduction: Reproduction = { interpreter: target.label, modes, trials: r.trials, hits: r.hits, rate: r.rate, flaky: r.rate < s.flakyBelow, measuredAt: new Date().toISOString() };
  return store.update(bucket, (m) => ({ ...m, reproduction }));
}

/** One table row per bucket: kind, hits, rate, minimized, versions. */
export function formatTriageRow(bucket: string, m: BucketMeta): string {
  const rate = m.reproduction ? `${m.reproduction.hits}/${m.reproduction.trials}${m.reproduction.flaky ? ' flaky' : ''}` : 'unmeasured';
  const min = m.minimized ? `min ${m.minimized.linesBefore}->${m.minimized.linesAfter} lines` : 'not minimized';
  const versions = m.versions
    ? Object.entries(m.versions)
        .sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }))
        .map(([label, v]) => `${label}: ${v.affected ? 'affected' : 'not affected'} ${v.hits}/${v.trials}`)
        .join(', ')
    : '';
  return [
    `${m.kind.padEnd(14)} ${bucket}  hits ${m.hits}  rate ${rate}  ${min}  ${m.modes.join(',')} on ${m.interpreter?.label ?? '?'}`,
    `    ${m.title.slice(0, 160)}`,
    ...(versions ? [`    versions: ${versions}`] : []),
  ].join('\n');
}
