// Regression replay: corpus programs and crash reproducers run again on the given interpreters, each
// with a status, for CI. A reproducer (repro.py or repro.min.py beside a bucket's meta.json) is expected
// to show its bucket's bug: still failing, fixed, flaky, or a new failure instead. A corpus program is
// expected to pass. A file that cannot be read or is malformed is reported by name; the rest still run.
import { findingKind } from '../findingKinds.js';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProgram } from '../check.js';
import { FtfuzzError } from '../errors.js';
import { readScenario } from '../generators/mutators.js';
import type { Oracle } from '../oracles/index.js';
import junitModule, { type Builder } from 'junit-report-builder';
import { mapConcurrent } from '../runtime/matrix.js';
import { defaultLimits, type ResourceLimits } from '../runtime/limits.js';
import { parseMeta, reproducerIn, type BucketMeta } from '../store/crashStore.js';
import type { Finding, GilMode, Target } from '../types.js';
import { absenceClaim, absenceImpossible, formatRate, inconclusiveWhy, recordedCount, ruledOut, trialsNeeded } from '../trials/claims.js';
import { bucketTrialLimit, runTrials, trialModes } from '../trials/trials.js';

/**
 * `inconclusive`: nothing showed, but too few trials for the bucket's recorded rate to call it fixed
 * (claims.ts); `not-applicable`: the interpreter cannot show the bug at all (a race on a build without
 * ThreadSanitizer, a GIL-off bug on a GIL-only build), so nothing is claimed.
 */
export type ReplayStatus = 'still-failing' | 'fixed' | 'inconclusive' | 'not-applicable' | 'flaky' | 'new-failure' | 'pass' | 'error';
export const REPLAY_STATUSES: readonly ReplayStatus[] = ['still-failing', 'new-failure', 'flaky', 'fixed', 'inconclusive', 'not-applicable', 'pass', 'error'];

export interface ReplayItem {
  file: string;
  /** A reproducer carries its bucket's meta; a corpus program has none. */
  meta?: BucketMeta;
  /** Why the file cannot be replayed (malformed meta.json, unreadable directory). */
  error?: string;
}

export interface ReplayEntry {
  file: string;
  role: 'reproducer' | 'program';
  interpreter: string;
  interpreterPath: string;
  status: ReplayStatus;
  trials: number;
  /** Trials that showed the expected bug (reproducers) or any finding (programs). */
  hits: number;
  expected?: string;
  findings: Pick<Finding, 'kind' | 'signature' | 'title' | 'verdict'>[];
  /** The bucket's verdict (reproducers), as meta.json records it. */
  verdict?: Finding['verdict'];
  detail: string;
  durationMs: number;
}

const REPRO_NAMES = new Set(['repro.py', 'repro.min.py']);

/** The files behind the paths: bucket directories, store and corpus directories, single files. */
export async function collectReplayItems(paths: readonly string[]): Promise<ReplayItem[]> {
  const items: ReplayItem[] = [];
  const bucketItems = async (dir: string) => {
    const metaFile = path.join(dir, 'meta.json');
    let meta: BucketMeta;
    try {
      meta = parseMeta(await fs.readFile(metaFile, 'utf8'), metaFile);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      items.push({ file: metaFile, error: code ? `cannot be read (${code}); restore it or delete the bucket` : (error as Error).message });
      return;
    }
    // The minimized reproducer replaces the full one when there is one.
    items.push({ file: await reproducerIn(dir), meta });
  };
  const walk = async (dir: string, depth: number) => {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (error) {
      items.push({ file: dir, error: `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); check the path and its permissions` });
      return;
    }
    if (entries.some((e) => e.name === 'meta.json')) return bucketItems(dir);
    // An incomplete bucket (killed before meta.json) has repro.py only: not a bucket yet, skipped.
    if (entries.some((e) => e.name === 'repro.py') && depth > 0) return;
    for (const e of entries.filter((x) => !x.name.startsWith('.')).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full, depth + 1);
      else if (e.name.endsWith('.py')) items.push({ file: full });
    }
  };
  for (const p of paths) await collectPath(p);
  // Programs are checked once, before any run: unreadable, or a corpus file with a damaged scenario header.
  for (const item of items) {
    if (item.error || item.meta) continue;
    try {
      await loadProgram(item.file);
      readScenario(await fs.readFile(item.file, 'utf8'), item.file);
    } catch (error) {
      item.error = (error as Error).message;
    }
  }
  return items;

  async function collectPath(p: string) {
    const abs = path.resolve(p);
    let stat;
    try {
      stat = await fs.stat(abs);
    } catch {
      items.push({ file: abs, error: 'does not exist; check the path' });
      return;
    }
    if (stat.isDirectory()) await walk(abs, 0);
    else if (REPRO_NAMES.has(path.basename(abs)) && (await exists(path.join(path.dirname(abs), 'meta.json')))) {
      const metaFile = path.join(path.dirname(abs), 'meta.json');
      try {
        items.push({ file: abs, meta: parseMeta(await fs.readFile(metaFile, 'utf8'), metaFile) });
      } catch (error) {
        items.push({ file: metaFile, error: (error as Error).message });
      }
    } else items.push({ file: abs });
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

/** Replay's defaults, defined once: the library applies them, and the CLI shows them (`ftfuzz replay --help`). */
export const REPLAY_DEFAULTS = { modes: ['gil-off', 'gil-on'] as readonly GilMode[], trials: 3, maxTrials: 30, timeoutMs: 30_000 } as const;

export interface ReplayOptions {
  items: ReplayItem[];
  targets: Target[];
  /** Modes for corpus programs (reproducers use their bucket's modes). Default GIL off, then on. */
  modes?: readonly GilMode[];
  /** Runs per file and interpreter. Default 3. */
  trials?: number;
  /** Per-run cap (a hang reproducer uses its calibrated limit). Default 30 s. */
  timeoutMs?: number;
  /** Files in parallel. Default: the available parallelism. */
  jobs?: number;
  /** Default: `defaultLimits(jobs, timeoutMs)`. */
  limits?: ResourceLimits;
  oracles?: Oracle[];
  /** While a reproducer shows nothing, trials go on up to what its rate needs for a `fixed`, at most this. Default 30. */
  maxTrials?: number;
  onEntry?: (entry: ReplayEntry) => void;
}

const brief = (f: Finding) => ({ kind: f.kind, signature: f.signature, title: f.title, verdict: f.verdict });

/**
 * One file on one interpreter. `alone`: nothing else runs beside it, so its trials may go on to an absence
 * claim (`fixed` rests on trials measured as the bucket's rate was: alone); otherwise `trials` only.
 */
async function replayOne(item: ReplayItem, target: Target, o: ResolvedReplay, alone: boolean): Promise<ReplayEntry> {
  const started = performance.now();
  const base = { file: item.file, role: item.meta ? ('reproducer' as const) : ('program' as const), interpreter: target.label, interpreterPath: target.path, expected: item.meta?.signature, verdict: item.meta?.verdict };
  const fail = (detail: string): ReplayEntry => ({ ...base, status: 'error', trials: 0, hits: 0, findings: [], detail, durationMs: performance.now() - started });
  if (item.error) return fail(item.error);
  const impossible = item.meta ? absenceImpossible(target, item.meta) : null;
  if (item.meta && impossible) return { ...base, status: 'not-applicable', trials: 0, hits: 0, findings: [], detail: `${item.meta.kind}: not run: ${impossible}`, durationMs: 0 };
  const modes = item.meta ? trialModes(target, item.meta.modes, item.meta.signature) : o.modes.filter((m) => m === 'gil-on' || target.freeThreaded);
  // Claims rest on the rate of the very file replayed: repro.min.py has its own (measured by minimize).
  const recorded = item.meta ? recordedCount(item.meta, path.basename(item.file) === 'repro.min.py' ? 'repro.min.py' : 'repro.py') : null;
  let r;
  try {
    // A reproducer runs as plain `python repro.py`; a corpus program through the harness, like a campaign.
    const extendTo = item.meta && alone ? Math.min(o.maxTrials ?? REPLAY_DEFAULTS.maxTrials, trialsNeeded(recorded)) : undefined;
    const timeoutMs = item.meta ? bucketTrialLimit(item.meta, o.timeoutMs) : o.timeoutMs;
    r = await runTrials({
      file: item.file, target, modes, signature: item.meta?.signature, family: item.meta?.family?.key, trials: o.trials, timeoutMs,
      limits: o.limits, oracles: o.oracles, plain: item.meta !== undefined, extendTo, hangHits: findingKind(item.meta?.kind ?? '')?.outlivesLimit === true,
    });
  } catch (error) {
    if (error instanceof FtfuzzError) return fail(error.message);
    throw error;
  }
  const { hits, trials } = r;
  const shown = r.others.map(brief);
  let status: ReplayStatus;
  let detail: string;
  if (item.meta) {
    const claim = absenceClaim(hits, trials, recorded);
    status = hits === trials ? 'still-failing' : hits > 0 ? 'flaky' : shown.length ? 'new-failure' : claim === 'absent' && alone ? 'fixed' : 'inconclusive';
    const rateText = recorded ? `; recorded ${formatRate(recorded)}` : '';
    const why = status === 'inconclusive' ? `; ${alone ? inconclusiveWhy(trials, recorded) : `0/${trials} beside other files (absence is judged alone)`}` : status === 'fixed' ? `; ${ruledOut(trials, recorded)}, trials run alone as the rate was` : '';
    detail = `${item.meta.kind} ${hits}/${trials}${rateText}${why}${shown.length ? `; also: ${shown.map((f) => f.title).join(' | ').slice(0, 300)}` : ''}`;
  } else {
    status = hits === 0 ? 'pass' : hits === trials ? 'new-failure' : 'flaky';
    detail = hits ? `${hits}/${trials} trials: ${shown.map((f) => f.title).join(' | ').slice(0, 300)}` : `clean in ${trials} trial(s)`;
  }
  return { ...base, status, trials, hits, findings: shown, detail, durationMs: performance.now() - started };
}

type ResolvedReplay = ReplayOptions & Required<Pick<ReplayOptions, 'modes' | 'trials' | 'timeoutMs' | 'jobs'>>;

/**
 * Replay every file on every interpreter: first `trials` of each, files in parallel (`jobs`), which is
 * enough to show a bug still there; then, one at a time, the reproducers that showed nothing go on alone
 * to the trials an absence claim needs. A recorded rate was measured alone, and a race needs free cores: a
 * bug at 100% alone and 30% beside other files was called fixed a third of the time when those trials counted.
 */
export async function replay(options: ReplayOptions): Promise<ReplayEntry[]> {
  const jobs = options.jobs ?? os.availableParallelism();
  const timeoutMs = options.timeoutMs ?? REPLAY_DEFAULTS.timeoutMs;
  const o: ResolvedReplay = {
    ...options, modes: options.modes ?? REPLAY_DEFAULTS.modes, trials: options.trials ?? REPLAY_DEFAULTS.trials, timeoutMs, jobs,
    limits: options.limits ?? defaultLimits(jobs, timeoutMs),
  };
  const work = o.items.flatMap((item) => (item.error ? [{ item, target: o.targets[0] as Target }] : o.targets.map((target) => ({ item, target }))));
  const alone = o.jobs <= 1;
  const needsAlone = (e: ReplayEntry, item: ReplayItem) => !alone && item.meta !== undefined && e.status === 'inconclusive' && e.hits === 0 && e.findings.length === 0;
  const first = await mapConcurrent(work, o.jobs, async ({ item, target }) => {
    const entry = await replayOne(item, target, o, alone);
    if (!needsAlone(entry, item)) o.onEntry?.(entry);
    return entry;
  });
  const out: ReplayEntry[] = [];
  for (const [i, entry] of first.entries()) {
    const { item, target } = work[i] as (typeof work)[number];
    if (!needsAlone(entry, item)) {
      out.push(entry);
      continue;
    }
    const again = await replayOne(item, target, o, true);
    o.onEntry?.(again);
    out.push(again);
  }
  return out;
}

/** Anything that still fails (or fails anew, or sometimes) makes the replay fail. */
export function isFailing(status: ReplayStatus): boolean {
  return status === 'still-failing' || status === 'new-failure' || status === 'flaky';
}

// The package is CommonJS: under Node's ESM loader its default import is `module.exports`, the builder
// itself (its types describe a transpiled `exports.default`).
const junit = junitModule as unknown as Builder;

/** XML 1.0 cannot carry most control characters, even escaped: what a dying process printed can hold them. */
const printable = (s: string) => s.replace(/\p{Cc}/gu, (c) => ('\t\n\r'.includes(c) ? c : '?'));

/** JUnit XML (junit-report-builder): one testsuite per interpreter, one testcase per file. */
export function toJUnit(entries: readonly ReplayEntry[], cwd = process.cwd()): string {
  const report = junit.newBuilder();
  const byTarget = new Map<string, ReplayEntry[]>();
  for (const e of entries) byTarget.set(e.interpreter, [...(byTarget.get(e.interpreter) ?? []), e]);
  for (const [label, list] of byTarget) {
    const suite = report.testSuite().name(printable(`ftfuzz replay on ${label}`)).time(list.reduce((t, e) => t + e.durationMs, 0) / 1000);
    for (const e of list) {
      const c = suite.testCase().className(`ftfuzz.replay.${e.role}`).name(printable(path.relative(cwd, e.file) || e.file)).time(e.durationMs / 1000);
      const verdict = e.verdict ? ` [${e.verdict}]` : '';
      if (isFailing(e.status)) {
        c.failure(printable(`${e.status}${verdict}: ${e.detail}`.slice(0, 500)), e.status);
        c.stacktrace(printable(e.findings.map((f) => `${f.kind} [${f.verdict}] ${f.signature}`).join('\n') || e.expected || ''));
      } else if (e.status === 'error') c.error(printable(e.detail.slice(0, 500)), 'error');
      else if (e.status === 'not-applicable') c.skipped().standardOutput(printable(`${e.status}: ${e.detail}`));
      else c.standardOutput(printable(`${e.status}: ${e.detail}`));
    }
  }
  return `${report.build()}\n`;
}
