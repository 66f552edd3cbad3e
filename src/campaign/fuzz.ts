// A fuzz campaign: generate (or mutate corpus programs), run each on the targets in every mode, apply
// the oracles, keep findings in the crash store and programs that showed new behaviour in the corpus.
// Every new bucket's reproducer is re-run to measure how often it shows (races are flaky).
//
// The budget is a deadline: when it passes (or the AbortSignal fires), the runs in flight are killed and
// their programs dropped, so a campaign ends within moments of its budget and keeps everything found.
// Every target process runs under memory, CPU-time and output caps; a run stopped by one is a resource
// finding, kept apart from the crash buckets.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkProgram } from '../check.js';
import { FINDING_KINDS, findingKind } from '../findingKinds.js';
import { InputError } from '../errors.js';
import type { ModuleSurface } from '../generators/moduleMode.js';
import type { Surface } from '../generators/surface/types.js';
import { shapesFor } from '../generators/surface/program.js';
import { ModuleCallCoverage, SurfaceCoverage } from './coverage.js';
import { Rng } from '../generators/rng.js';
import { eligibleKinds, resolveGenOptions } from '../generators/scenario.js';
import { selectOracles, type Oracle } from '../oracles/index.js';
import { FINISH_WINDOW_MIN_MS, TimeoutCalibrator } from '../runtime/calibration.js';
import type { Executor } from '../runtime/executor.js';
import { createExecutor } from '../runtime/forkServerExecutor.js';
import { defaultLimits, windowLimits, type ResourceLimits } from '../runtime/limits.js';
import { mapConcurrent } from '../runtime/matrix.js';
import { isTsan } from '../runtime/tsan.js';
import { CrashStore, type Reproduction } from '../store/crashStore.js';
import { TimelineWriter } from '../store/timeline.js';
import { measureFileRate, reproducerOf, type RateSettings } from '../trials/rate.js';
import { rateDecided } from '../trials/claims.js';
import type { Finding, GilMode, RunResult, Target } from '../types.js';
import { CampaignCorpus } from './corpus.js';
import { crawled, emptyStats, pastLimit, RunLedger } from './ledger.js';
import { ExclusiveGate } from './gate.js';
import type { CampaignSettings } from './settings.js';

export { resolveSettings, type CampaignSettings, type SettingsInput } from './settings.js';
import { judgeProgram, type Judged } from './judge.js';
import { ProgramPlan, type Candidate } from './plan.js';
import { RateQueue, type RateJob } from './rates.js';
import { SlotClock } from './slots.js';
import { evidenceRun, Recorder } from './recorder.js';
import { Scheduler } from './schedule.js';
import { CollisionCoverage, type ProgramCollisions } from './collisions.js';
import { CampaignSuppressions } from './suppressions.js';
import { coverageMapFor } from '../runtime/nativeCoverage.js';
import { schedShim, schedSeed } from '../runtime/schedShim.js';
import type { NativeFor } from '../runtime/matrix.js';

/** A campaign: its settings (settings.ts, resolved), and where and on what this machine runs it. */
export interface CampaignOptions {
  /** Every campaign setting, resolved once by resolveSettings: read here with no fallback. */
  settings: CampaignSettings;
  targets: Target[];
  /** Programs in parallel on this machine. */
  jobs: number;
  crashDir: string;
  corpusDir: string;
  /** Resource findings (oom, cpu, output) go here, not among the crash buckets. Default `<crashDir>/.resource`. */
  resourceDir?: string;
  /** Module mode: programs make concurrent calls on this introspected module instead. */
  module?: ModuleSurface;
  /** The first target's C surface (runtime/surface.ts): a share of programs are generic shapes on its types. */
  surface?: Surface;
  /** Caps per target process on this machine; default `defaultLimits(jobs, timeoutMs)`. */
  limits?: ResourceLimits;
  signal?: AbortSignal;
  /** Runs the programs; default `createExecutor()` (closed at the end). Passed in: the caller closes it. */
  executor?: Executor;
  onProgress?: (stats: CampaignStats) => void;
  progressEveryMs?: number;
  /** Append a line of statistics to this JSONL file every timelineEveryMs (campaign/timeline.ts). */
  timelineFile?: string;
  /** Default 5 s. */
  timelineEveryMs?: number;
  /** Called as each new bucket is saved (and again once its rate is measured). */
  onBucket?: (bucket: BucketSummary) => void;
}

import type { BucketSummary, CampaignFamily, CampaignStats } from './stats.js';
export type { BucketSummary, CampaignFamily, CampaignStats };

/** What one program's run needs from its campaign (runCampaign builds it once). */
export interface ProgramContext {
  o: CampaignOptions;
  plan: ProgramPlan;
  corpus: CampaignCorpus;
  recorder: Recorder;
  scheduler: Scheduler;
  stats: CampaignStats;
  gate: ExclusiveGate;
  executor: Executor;
  spawnExecutor: Executor;
  work: string;
  oracles: Oracle[];
  limits: ResourceLimits;
  calibrator: TimeoutCalibrator | undefined;
  signal: AbortSignal;
  account: (runs: readonly RunResult[]) => void;
  coverage: SurfaceCoverage | undefined;
  /** Module mode: which of its calls the programs made and which returned. */
  moduleCalls: ModuleCallCoverage | undefined;
  /** Where each slot's time goes (slots.ts). */
  clock: SlotClock;
  /** Runs waiting out a finish window right now (a rate batch does not start meanwhile). */
  windows: { count: number };
  /** Per coverage target (by path): the campaign's edges and witnesses (collisions.ts), when feedback is on. */
  collisions: Map<string, CollisionCoverage>;
  /** The schedule shim, when a share of programs is perturbed. */
  shim: string | undefined;
  /** TSan: the campaign-local suppressions of recorded race families. */
  suppressions: CampaignSuppressions | undefined;
}

/** Findings of a surface program that also showed with the GIL on and may be a generator mistake (not a crash or a race). */
function mistakeWithGil(f: Finding): boolean {
  return f.modes.includes('gil-on') && FINDING_KINDS[f.kind].store === 'bucket' && FINDING_KINDS[f.kind].withGil === 'set-aside';
}

/** Program `index`: planned, judged, its findings recorded, its yield fed back; false when the budget ended under it. */
async function runProgram(c: ProgramContext, index: number): Promise<boolean> {
  const { o, stats, recorder, executor, spawnExecutor, oracles, plan, gate, work, limits, calibrator, signal, account, coverage, moduleCalls, clock } = c;
  const planned = performance.now();
  const program = plan.program(index);
  clock.add('plan', performance.now() - planned);
  if (program.leak) stats.leakPrograms += 1;
  const file = path.join(work, `prog-${index}.py`);
  await fs.writeFile(file, program.source);
  // A seeded share of programs runs in fresh interpreters (no pre-imports, no reused worker).
  const inSpawn = spawnExecutor !== executor && new Rng(`${o.settings.seed}:executor:${index}`).bool(o.settings.spawnShare);
  if (inSpawn) stats.spawnPrograms += 1;
  const perturbed = c.shim !== undefined && new Rng(`${o.settings.seed}:perturb:${index}`).bool(o.settings.perturbShare);
  if (perturbed) stats.perturbedPrograms = (stats.perturbedPrograms ?? 0) + 1;
  let dumps = 0;
  const nativeFor: NativeFor = ({ target, mode, runIndex }) => ({
    ...(c.collisions.has(target.path) ? { edgesFile: path.join(work, `prog-${index}.${dumps++}.cov`) } : {}),
    ...(perturbed && c.shim ? { sched: { shim: c.shim, seed: schedSeed(o.settings.seed, index, mode, runIndex) } } : {}),
  });
  // Later programs of a TSan campaign run with the races it recorded suppressed (suppressions.ts).
  const targets = c.suppressions ? c.suppressions.targets(o.targets) : o.targets;
  let attempts = 0;
  const known = (signature: string) => recorder.knownBucket(signature);
  const finishWindow = { knownHang: (signature: string) => recorder.knownHang(signature), onWait: (waiting: boolean) => (c.windows.count += waiting ? 1 : -1) };
  const check = (extra: { runs?: number; fresh?: boolean; modes?: GilMode[] } = {}) => {
    const asked = performance.now();
    return gate.withShared(async () => {
      const t0 = performance.now();
      clock.add('waiting', t0 - asked);
      const report = await checkProgram({ file, targets, nativeFor, modes: extra.modes ?? o.settings.modes, runs: extra.runs ?? 1, jobs: 1, timeoutMs: o.settings.timeoutMs, oracles, limits, signal: signal, executor: inSpawn ? spawnExecutor : executor, calibrator, fresh: extra.fresh, finishWindow, knownFinding: known });
      // The first check is the program's first attempt (but for the fresh re-run inside it); later ones re-run it:
      // the evidence re-runs of a lost write or differential, or the fresh retries of an unconfirmed sighting.
      const confirmMs = report.confirmMs ?? 0;
      const first = attempts++ === 0;
      clock.charge(first ? 'first' : 'confirm', performance.now() - t0 - confirmMs, report.unconfirmed?.runs ?? report.runs, extra.runs !== undefined ? 'evidence' : 'retries');
      if (confirmMs > 0) clock.charge('confirm', confirmMs, report.runs, 'fresh');
      return report;
    });
  };
  const judged = await judgeProgram({ check, account, oracles, signal: signal, unconfirmedRetries: o.settings.unconfirmedRetries, known });
  if (!judged) {
    await fs.rm(file, { force: true });
    stats.cancelledPrograms += 1;
    return false;
  }
  judged.findings = await aloneHangs(c, file, judged);
  stats.programs += 1;
  if (program.mutated) stats.mutated += 1;
  stats.promoted += judged.promoted;
  // Findings of bugs the store did not have before this program: what the scheduler rewards (a known crash
  // seen again tells it nothing new, and on 3.13.5t the same ones recur every few programs).
  const novel = judged.findings.filter((f) => !known(f.signature)).length;
  const { runs } = judged;
  // Edges and witnesses first: the corpus keeps a program that reached new ones (recordProgram).
  const collided = collisionsOf(c, runs, program);
  const { newBuckets, newFamilies } = await clock.time('record', () => recordProgram(c, program, judged, collided));
  await fs.rm(file, { force: true });
  const findings = judged.findings.filter((f) => !(program.surface && mistakeWithGil(f)));
  if (program.surface) coverage?.record(runs);
  else moduleCalls?.record(runs, program.features);
  const contended = runs.some((r) => r.threadExceptions.length > 0 || Number(r.observables?.allowed_exceptions ?? 0) > 0);
  const runMs = runs.reduce((t, r) => t + r.durationMs, 0);
  // Time past the limit in runs that then finished (crawls): what the scheduler steers away from.
  const crawlMs = runs.reduce((t, r) => t + (crawled(r) ? r.durationMs : 0), 0);
  const pastLimitMs = runs.reduce((t, r) => t + (pastLimit(r) ? r.durationMs : 0), 0);
  c.scheduler.update(program.shape, program.credit.kinds, program.credit.ops, { runMs, findings: findings.length, novelFindings: novel, newBuckets, newFamilies, contended, crawlMs, pastLimitMs, newEdges: collided.newEdges, newWitnesses: collided.newWitnesses });
  // TSan targets always run in fresh processes (the fork server hands them to spawn).
  const ranIn = inSpawn || o.targets.every(isTsan) ? spawnExecutor.name : executor.name;
  const byExec = (stats.byExecutor[ranIn] ??= { programs: 0, runMs: 0, findings: 0, newBuckets: 0 });
  byExec.programs += 1;
  byExec.runMs += runMs;
  byExec.findings += findings.length;
  byExec.newBuckets += newBuckets;
  return true;
}

/**
 * (Exported for its test.) A new hang proved by waiting out its finish window beside the other jobs, outside the allocator (a heap
 * corruption's free-list walk never ends), is run once more alone, the other jobs paused, in a fresh process
 * with a limit of 10x its calibrated one (at least 60 s): one that finishes is a crawl (`.slow`, both times
 * in its title), not a hang. On 3.13.5t a deque.copy of a deque other threads grow, 12 threads on 2 cores,
 * waited 60 s beside another job and was filed as a hang; alone it finished in 39 s at most.
 */
export async function aloneHangs(c: ProgramContext, file: string, judged: Judged): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const f of judged.findings) {
    const run = judged.runs.find((r) => f.modes.includes(r.modeRequested) && r.termination.kind === 'timeout' && r.termination.waitedMs !== undefined);
    if (!FINDING_KINDS[f.kind].outlivesLimit || !run || f.signature.includes('|heap:') || c.recorder.knownHang(f.signature) !== false || c.signal.aborted) {
      out.push(f);
      continue;
    }
    const limitMs = Math.max(FINISH_WINDOW_MIN_MS, 10 * (run.timeoutMs ?? c.o.settings.timeoutMs));
    const t0 = performance.now();
    const alone = await c.gate.withExclusive(() =>
      checkProgram({ file, targets: [run.target], modes: [run.modeRequested], runs: 1, jobs: 1, timeoutMs: limitMs, oracles: c.oracles, limits: windowLimits(c.limits, limitMs, limitMs), signal: c.signal, executor: c.spawnExecutor, fresh: true }),
    );
    c.account(alone.runs);
    c.clock.charge('confirm', performance.now() - t0, alone.runs, 'window');
    // It exited (an error exit too: a check failing is not a hang); a crash alone keeps the hang (the heap it left may differ).
    const finished = alone.runs.find((r) => r.termination.kind === 'exit');
    if (alone.cancelled || !finished) {
      out.push(f);
      continue;
    }
    const waited = (run.termination.kind === 'timeout' ? run.termination.waitedMs : undefined) ?? run.durationMs;
    out.push({
      ...f, kind: 'slow', verdict: 'slow', signature: `slow|finished-alone|${f.signature.replace(/^hang\|/, '')}`,
      title: `slow: no exit after ${Math.round(waited)} ms beside the other jobs (limit ${run.timeoutMs ?? '?'} ms), but alone it finished after ${Math.round(finished.durationMs)} ms; ${f.title.replace(/^hang \([a-z]+\): [^;]*; /, '')}`.slice(0, 400),
    });
  }
  return out;
}

/** A program's C edges and witnesses into the campaign's (every coverage target's runs; none without feedback). */
function collisionsOf(c: ProgramContext, runs: readonly RunResult[], program: Candidate): ProgramCollisions {
  const out: ProgramCollisions = { newEdges: 0, newWitnesses: 0, witnesses: [] };
  for (const [target, coverage] of c.collisions) {
    const got = coverage.record(runs.filter((r) => r.target.path === target), program.credit.kinds);
    out.newEdges += got.newEdges;
    out.newWitnesses += got.newWitnesses;
    out.witnesses.push(...got.witnesses);
  }
  return out;
}

/**
 * A judged program's findings into the stores, and the program into the corpus when it showed something
 * new (a bucket, a feature, C edges or witnesses); its new buckets and how many of them began a new family.
 */
async function recordProgram(c: ProgramContext, program: Candidate, judged: Judged, collided: ProgramCollisions): Promise<{ newBuckets: number; newFamilies: number }> {
  const { o, recorder, oracles, corpus, stats, coverage } = c;
  const targetOf = (run: RunResult | undefined) => o.targets.find((t) => t.path === run?.target.path) ?? o.targets[0];
  const { runs } = judged;
  let findings = judged.findings;
  if (program.surface) {
    // A surface program must pass with the GIL on: a failure that shows there too, other than a crash or a
    // race (never a generator mistake), may be ours and is kept apart.
    const gilOn = findings.filter(mistakeWithGil);
    for (const f of gilOn) {
      const run = evidenceRun(f, runs, oracles);
      await recorder.gilOn(f, program, run, targetOf(run) as Target);
    }
    if (coverage) coverage.gilOnFailures += gilOn.length;
    findings = findings.filter((f) => !gilOn.includes(f));
  }
  for (const u of judged.unconfirmed) await recorder.unconfirmed(u.finding, program, u.firstRun, targetOf(u.firstRun));
  let newBuckets = 0;
  let newFamilies = 0;
  for (const f of findings) {
    // The program file is still on disk here: re-signing a run reads its op from it (a crash signature
    // names the op), and a run that signs the finding is what stack.txt and evidence.json must keep.
    const run = evidenceRun(f, runs, oracles);
    const target = targetOf(run);
    if (!target) continue;
    const made = await recorder.record(f, program, run, target);
    if (made.bucket) newBuckets += 1;
    if (made.newFamily) newFamilies += 1;
    // A race family recorded: later programs run with it suppressed (the bucket keeps CPython's suppressions only).
    if (made.family && c.suppressions) await c.suppressions.add(made.family, f, o.targets);
  }
  stats.newFamilies = (stats.newFamilies ?? 0) + newFamilies;
  if (await corpus.consider(program, runs, newBuckets, collided)) stats.corpusAdded += 1;
  return { newBuckets, newFamilies };
}

/**
 * Re-run a queued bucket's repro.py and record how often the same bug shows, sequentially (stopping once
 * the interval decides), inside the rate queue's exclusive batch (rates.ts): the rate a maintainer running
 * repro.py alone will see. Cancelled by the deadline: left unmeasured, for `ftfuzz triage --measure`.
 */
async function measureQueued(store: CrashStore, job: RateJob, settings: RateSettings, overBudget: () => boolean): Promise<Reproduction | undefined> {
  const meta = await store.read(job.bucket);
  if (!meta) return undefined;
  const r = await measureFileRate(await reproducerOf(store, job.bucket), meta, job.target, { ...settings, overBudget });
  // Stopped short by the budget before anything showed (0/3 says nothing): back in the queue, measured in full later.
  if (!r || (r.hits === 0 && !rateDecided(0, r.trials, settings.flakyBelow))) return undefined;
  await store.update(job.bucket, (m) => ({ ...m, reproduction: r }));
  return r;
}

/**
 * The campaign's work directory, and its native feedback: each coverage target's edge map (made once per
 * build, cached); the shim, when it perturbs; a TSan campaign's own suppressions (in the work directory).
 */
async function workAndFeedback(o: CampaignOptions): Promise<Pick<ProgramContext, 'work' | 'collisions' | 'shim' | 'suppressions'>> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-campaign-'));
  try {
    const collisions = new Map<string, CollisionCoverage>();
    if (o.settings.feedback) for (const t of o.targets.filter((t) => t.coverage)) collisions.set(t.path, new CollisionCoverage(await coverageMapFor(t)));
    const suppressions = o.settings.suppressKnownRaces && o.targets.some(isTsan) ? new CampaignSuppressions(work) : undefined;
    return { work, collisions, shim: o.settings.perturbShare > 0 ? await schedShim() : undefined, suppressions };
  } catch (error) {
    await fs.rm(work, { recursive: true, force: true });
    throw error;
  }
}

/**
 * A campaign: programs from the plan, judged on the targets, their findings recorded, their yield fed back
 * to the scheduler, and those with new behaviour kept in the corpus, until the budget ends.
 */
export async function runCampaign(o: CampaignOptions): Promise<CampaignStats> {
  const s = o.settings;
  if (s.durationMs === undefined && s.maxPrograms === undefined) throw new RangeError('a campaign needs a budget: resolve its settings with resolveSettings');
  const started = performance.now();
  const store = new CrashStore(o.crashDir);
  const calibrator = s.calibrate ? new TimeoutCalibrator(s.timeoutMs) : undefined;
  const oracles = selectOracles(s.oracles);
  const limits = o.limits ?? defaultLimits(o.jobs, s.timeoutMs);
  const gate = new ExclusiveGate();
  // Opened before the work directory, executors and tickers exist: a bad path fails the campaign at once
  // (it once printed the error, then ticked "programs 0" forever with the tickers and fork server alive).
  const timeline = o.timelineFile ? new TimelineWriter(o.timelineFile) : undefined;
  await timeline?.open().catch((error: unknown) => {
    throw new InputError(o.timelineFile as string, `cannot write the campaign timeline (${(error as Error).message}); give --timeline a writable file path`, { cause: error });
  });
  const { work, collisions, shim, suppressions } = await workAndFeedback(o);
  const executor = o.executor ?? createExecutor();
  const spawnExecutor = executor.name === 'spawn' ? executor : createExecutor('spawn');
  const corpus = await CampaignCorpus.load(o.corpusDir, o.module !== undefined);
  // Feedback: focused programs on the kinds that yield (schedule.ts).
  const scheduler = new Scheduler(o.module ? [] : eligibleKinds(resolveGenOptions(s.genOptions)).map((k) => k.id), { focusedShare: s.focusedShare, cores: os.availableParallelism() });
  const coverage = o.surface && o.surface.types.some((t) => shapesFor(t).length > 0) ? new SurfaceCoverage(o.surface) : undefined;
  const moduleCalls = o.module ? new ModuleCallCoverage() : undefined;
  const plan = new ProgramPlan({ settings: s, module: o.module, surface: coverage ? o.surface : undefined, surfaceWeight: coverage?.weight }, corpus, scheduler);
  const stats = emptyStats(s.seed, s.calibrate, limits, scheduler.yields());
  const ledger = new RunLedger(stats);

  // One signal for everything in flight: the caller's, or the deadline.
  const deadline = new AbortController();
  const onOuter = () => deadline.abort();
  o.signal?.addEventListener('abort', onOuter, { once: true });
  if (o.signal?.aborted) deadline.abort();
  const timer = s.durationMs !== undefined ? setTimeout(() => deadline.abort(), Math.max(0, s.durationMs)) : undefined;
  const first = s.firstProgram;
  let next = first;
  const outOfBudget = () => deadline.signal.aborted || (s.maxPrograms !== undefined && next >= first + s.maxPrograms);

  const rateSettings: RateSettings = { trials: s.reproTrials, timeoutMs: s.timeoutMs, limits, oracles, signal: deadline.signal, flakyBelow: s.flakyBelow, besideJobs: 0, sequential: true };
  const clock = new SlotClock();
  const windows = { count: 0 };
  const rates = new RateQueue({
    held: () => windows.count > 0,
    share: s.rateShare, expectedTrials: Math.min(s.reproTrials, 5), gate, clock, elapsedMs: () => performance.now() - started, signal: deadline.signal,
    measure: (job, overBudget) => measureQueued(store, job, rateSettings, overBudget),
  });
  const before = (await store.list()).buckets;
  const recorder = new Recorder(
    {
      store,
      resourceStore: new CrashStore(o.resourceDir ?? path.join(o.crashDir, '.resource')),
      slowStore: new CrashStore(path.join(o.crashDir, '.slow')),
      unconfirmedStore: new CrashStore(path.join(o.crashDir, '.unconfirmed')),
      gilOnStore: new CrashStore(path.join(o.crashDir, '.gil-on')),
    },
    stats,
    // Families the store held before this campaign (a bucket of an older store without one: its own signature).
    new Set(before.map((b) => b.meta.family?.key).filter((k): k is string => k !== undefined)),
    (job) => rates.enqueue(job),
    o.onBucket,
    before.filter((b) => findingKind(b.meta.kind)?.outlivesLimit === true).map((b) => b.meta.signature),
    before.map((b) => b.meta.signature),
    shim,
  );

  const snapshot = (): CampaignStats => {
    stats.elapsedMs = performance.now() - started;
    stats.medianLimitMs = ledger.medianLimitMs();
    stats.buckets = [...recorder.buckets].sort();
    stats.families = recorder.familyRows();
    stats.yield = scheduler.yields();
    if (coverage) stats.surface = coverage.stats();
    if (moduleCalls) stats.moduleCalls = moduleCalls.stats();
    stats.slots = clock.stats(stats.elapsedMs, o.jobs);
    stats.unmeasured = rates.pending;
    const [covered, edges] = [...collisions].at(0) ?? [];
    if (edges) stats.collisions = { target: o.targets.find((t) => t.path === covered)?.label ?? String(covered), ...edges.stats() };
    if (suppressions) stats.suppressedRaces = suppressions.list();
    return structuredClone(stats);
  };
  const ticker = o.onProgress ? setInterval(() => o.onProgress?.(snapshot()), o.progressEveryMs ?? 10_000) : undefined;
  const timelineTicker = timeline ? setInterval(() => void timeline.append(snapshot()).catch(() => undefined), o.timelineEveryMs ?? 5000) : undefined;
  const context: ProgramContext = { o, plan, corpus, recorder, scheduler, stats, gate, executor, spawnExecutor, work, oracles, limits, calibrator, signal: deadline.signal, account: (runs) => ledger.add(runs), coverage, moduleCalls, clock, windows, collisions, shim, suppressions };

  try {
    // Each worker runs one program at a time (its runs one after another), so `jobs` programs run at once;
    // between two programs, a worker may measure the queued rates (rates.ts).
    await mapConcurrent(Array.from({ length: Math.max(1, o.jobs) }, (_, w) => w), o.jobs, async () => {
      while (!outOfBudget()) {
        await rates.runDue();
        if (outOfBudget() || !(await runProgram(context, next++))) break;
      }
    });
    // A campaign of a number of programs has no deadline: what the budget left unmeasured is measured now.
    if (s.durationMs === undefined && !deadline.signal.aborted) await rates.drain();
  } finally {
    if (ticker) clearInterval(ticker);
    if (timelineTicker) clearInterval(timelineTicker);
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onOuter);
    await fs.rm(work, { recursive: true, force: true });
    if (!o.executor) await executor.close();
    if (spawnExecutor !== executor) await spawnExecutor.close();
  }
  const final = snapshot();
  final.stoppedBy = o.signal?.aborted ? 'signal' : 'budget';
  if (timeline) {
    await timeline.append(final, true);
    await timeline.close();
  }
  return final;
}
