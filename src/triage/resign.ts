// Re-signing buckets whose signature format is older than this ftfuzz's (crashOracle SIGNATURE_FORMAT),
// or all of them on request: signatures improve (which frames are plumbing, which threads are symptoms),
// and a store must follow without losing a hit.
//
// From the bucket's evidence.json (the run its signature was computed from), the bucket's oracle signs
// again; a bucket written before evidence was kept is re-run (plain `python repro.py`) until it shows a
// finding of its kind. A new signature renames the bucket, or merges it into the bucket that already has
// that signature (hits added, the older first-seen kept). Nothing is re-signed that cannot be shown.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { SIGNATURE_FORMAT } from '../oracles/crashOracle.js';
import { ALL_ORACLES, type Oracle } from '../oracles/index.js';
import { signatureId } from '../signature.js';
import { emptyRunFields } from '../runtime/protocol.js';
import type { ResourceLimits } from '../runtime/limits.js';
import { bucketName, evidenceOf, mergeSightings, reproducerIn, type BucketEvidence, type BucketMeta, type CrashStore } from '../store/crashStore.js';
import { writeFileAtomic } from '../atomicWrite.js';
import type { Finding, RunResult, Target } from '../types.js';
import { checkProgram } from '../check.js';
import { bucketTrialLimit, trialModes } from '../trials/trials.js';
import { findingKind } from '../findingKinds.js';

export interface ResignResult {
  bucket: string;
  /** `renamed` / `merged` into `to`; `same`: the signature did not change; `kept`: could not be shown again. */
  outcome: 'same' | 'renamed' | 'merged' | 'kept';
  to?: string;
  from: string;
  signature?: string;
  how: 'evidence' | 'rerun';
  detail: string;
}

/** Buckets signed from gdb's stacks (crash, hang): their signatures change shape as they improve. */
function resignable(meta: BucketMeta): boolean {
  return findingKind(meta.kind)?.stacks === 'gdb';
}

export function needsResign(meta: BucketMeta): boolean {
  return resignable(meta) && (meta.signatureFormat ?? 1) < SIGNATURE_FORMAT;
}

/** One line for people: what re-signing a bucket did. */
export function describeResign(before: BucketMeta, r: ResignResult): string {
  return `re-signed ${r.bucket} (format ${before.signatureFormat ?? 1} -> ${SIGNATURE_FORMAT}, from ${r.how}): ${r.detail}`;
}

/** The repro.py text without ftfuzz's own header (the program as the run saw it). */
function programText(repro: string): string {
  const lines = repro.split('\n');
  const header = /^# (ftfuzz reproducer: |signature: |reproduce: |stacks of every thread)/;
  let i = 0;
  while (i < lines.length && header.test(lines[i] as string)) i++;
  return lines.slice(i).join('\n');
}

function runFromEvidence(e: BucketEvidence, source: string, target: Target): RunResult {
  return {
    program: { path: e.programPath, name: path.basename(e.programPath), source },
    target,
    modeRequested: e.modeRequested,
    ...emptyRunFields(),
    modeObservedAtStart: null,
    modeObservedAtEnd: null,
    runIndex: 0,
    termination: e.termination,
    durationMs: 0,
    stdoutTail: '',
    stderrTail: e.stderrTail,
    reproduceCommand: '',
    native: e.native,
    timeoutMs: e.timeoutMs,
  };
}

export interface ResignOptions {
  target: Target;
  /** Re-runs of repro.py for a bucket without evidence.json. */
  trials: number;
  timeoutMs: number;
  limits?: ResourceLimits;
  oracles?: readonly Oracle[];
}

/** A new signature for one bucket, from its evidence or a re-run; null when it could not be shown. */
async function freshFinding(store: CrashStore, bucket: string, meta: BucketMeta, o: ResignOptions): Promise<{ finding: Finding; how: ResignResult['how']; evidence?: BucketEvidence } | null> {
  const dir = store.dir(bucket);
  const oracles = (o.oracles ?? ALL_ORACLES).filter((x) => x.name === meta.oracle);
  const evidenceText = await fs.readFile(path.join(dir, 'evidence.json'), 'utf8').catch(() => null);
  if (evidenceText !== null) {
    let evidence: BucketEvidence | null = null;
    try {
      evidence = JSON.parse(evidenceText) as BucketEvidence;
    } catch {
      evidence = null;
    }
    if (evidence && typeof evidence.programPath === 'string' && evidence.termination) {
      const source = programText(await fs.readFile(path.join(dir, 'repro.py'), 'utf8'));
      const finding = oracles.flatMap((x) => x.check([runFromEvidence(evidence, source, o.target)])).find((f) => f.kind === meta.kind);
      if (finding) return { finding, how: 'evidence', evidence };
    }
  }
  const file = await reproducerIn(dir);
  const modes = trialModes(o.target, meta.modes, meta.signature);
  // A re-run may show another bug of the same kind (a flaky program has several): where the bucket knows
  // its innermost C function, only a finding with that same function re-signs it.
  // (Buckets of format 2 recorded a hang's innermost raw frame: that one must be in the new run's stacks.)
  const known = meta.native?.frames[0]?.split(' ')[0];
  const sameBug = (f: Finding, raw: string) =>
    f.kind === meta.kind && (!known || f.native?.frames[0]?.split(' ')[0] === known || (findingKind(meta.kind)?.outlivesLimit === true && new RegExp(`\\b${known.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(`).test(raw)));
  const timeoutMs = bucketTrialLimit(meta, o.timeoutMs);
  for (let i = 0; i < o.trials; i++) {
    const report = await checkProgram({ file, targets: [o.target], modes, runs: 1, jobs: 1, timeoutMs, limits: o.limits, oracles: [...oracles], plain: true });
    const run = report.runs.find((r) => r.termination.kind !== 'exit');
    const finding = report.findings.find((f) => sameBug(f, run?.native?.raw ?? ''));
    if (finding) {
      return { finding, how: 'rerun', evidence: run ? evidenceOf(run) : undefined };
    }
  }
  return null;
}

export async function resignBucket(store: CrashStore, bucket: string, meta: BucketMeta, o: ResignOptions): Promise<ResignResult> {
  const from = meta.signature;
  const shown = await freshFinding(store, bucket, meta, o);
  if (!shown) return { bucket, outcome: 'kept', from, how: 'rerun', detail: `not shown again (same kind${meta.native?.frames[0] ? ' and innermost C function' : ''}) in ${o.trials} run(s): signature left as it is (format ${meta.signatureFormat ?? 1})` };
  const { finding } = shown;
  const to = bucketName(finding);
  const dir = store.dir(bucket);
  if (shown.evidence) await writeFileAtomic(path.join(dir, 'evidence.json'), `${JSON.stringify(shown.evidence)}\n`);
  const update = (m: BucketMeta): BucketMeta => ({
    ...m,
    id: signatureId(finding.signature),
    signature: finding.signature,
    title: finding.title,
    signatureFormat: SIGNATURE_FORMAT,
    ...(finding.native ? { native: finding.native } : {}),
    // A new signature may be another family's: computed again by the next re-grouping (triage does it next).
    family: undefined,
  });
  if (to === bucket || finding.signature === from) {
    await store.update(bucket, update);
    return { bucket, outcome: 'same', from, to: bucket, signature: finding.signature, how: shown.how, detail: 'signature unchanged; format updated' };
  }
  const existing = await store.read(to).catch(() => null);
  if (!existing) {
    await store.update(bucket, update);
    await fs.rename(dir, store.dir(to));
    return { bucket, outcome: 'renamed', from, to, signature: finding.signature, how: shown.how, detail: `renamed to ${to}` };
  }
  // Another bucket already has this signature: one bug, one bucket. Its hits grow; this one goes.
  await store.update(to, (m) => mergeSightings(m, [{ hits: meta.hits, firstSeen: meta.firstSeen, lastSeen: meta.lastSeen, modes: meta.modes, verdict: meta.verdict }]));
  await fs.rm(dir, { recursive: true, force: true });
  return { bucket, outcome: 'merged', from, to, signature: finding.signature, how: shown.how, detail: `merged into ${to} (same signature)` };
}

export interface ResignStoreOptions extends Omit<ResignOptions, 'target'> {
  /** Re-sign every crash and hang bucket, not only those of an older format. */
  all: boolean;
  /** Only these buckets (names); all when absent. */
  only?: readonly string[];
  /** The interpreter a bucket is re-run on (its own, or --python); null when there is none. */
  targetFor: (meta: BucketMeta) => Promise<Target | null>;
  log: (line: string) => void;
}

/** A pass over a store: each bucket due is re-signed once, from a fresh read (earlier ones may have merged into it). */
export async function resignStore(store: CrashStore, o: ResignStoreOptions): Promise<ResignResult[]> {
  const done = new Set<string>();
  const results: ResignResult[] = [];
  for (const listed of (await store.list()).buckets) {
    const meta = done.has(listed.bucket) ? null : await store.read(listed.bucket).catch(() => null);
    if (!meta || !(needsResign(meta) || (o.all && resignable(meta)))) continue;
    if (o.only && !o.only.includes(listed.bucket)) continue;
    const target = await o.targetFor(meta);
    if (!target) {
      o.log(`${listed.bucket}: signature format ${meta.signatureFormat ?? 1} is older, but its interpreter ${meta.interpreter.path} is gone; pass --python to re-sign it`);
      continue;
    }
    const r = await resignBucket(store, listed.bucket, meta, { ...o, target });
    if (r.to) done.add(r.to);
    if (r.outcome !== 'same' || (meta.signatureFormat ?? 1) < SIGNATURE_FORMAT) o.log(describeResign(meta, r));
    results.push(r);
  }
  return results;
}
