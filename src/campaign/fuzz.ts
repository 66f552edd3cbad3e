// A fuzz campaign: generate (or mutate corpus programs), run each on the targets in every mode, apply
// the oracles, keep findings in the crash store and programs that showed new behaviour in the corpus.
// Every new bucket's reproducer is re-run to measure how often it shows (races are flaky).
//
// The budget is a deadline: when it passes (or the AbortSignal fires), the runs in flight are killed and
// their programs dropped, so a campaign ends within moments of its budget and keeps everything found.
// Every target process runs under memory, CPU-time and output caps; a run stopped by one is a resource
// finding, kept apart from the crash buckets.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkProgram } from '../check.js';
import { generateModuleProgram, type ModuleSurface } from '../generators/moduleMode.js';
import { mutateProgram, readScenario } from '../generators/mutators.js';
import { generateProgram } from '../generators/program.js';
import { eligibleKinds, resolveGenOptions } from '../generators/scenario.js';
import { TimelineWriter } from '../store/timeline.js';
import { ExclusiveGate } from './gate.js';
import { InputError } from '../errors.js';
import { FINDING_KINDS } from '../findingKinds.js';
import { creditOf, Scheduler, type Shape } from './schedule.js';
import type { GenOptions } from '../generators/scenario.js';
import { Rng } from '../generators/rng.js';
import { SIGNATURE_FORMAT } from '../oracles/crashOracle.js';
import { applyOracles, selectOracles, type Oracle } from '../oracles/index.js';
import { TimeoutCalibrator } from '../runtime/calibration.js';
import { mapConcurrent } from '../runtime/matrix.js';
import { formatStackFile } from '../runtime/nativeStacks.js';
import { isTsan } from '../runtime/tsan.js';
import { createExecutor } from '../runtime/forkServerExecutor.js';
import type { Executor } from '../runtime/executor.js';
import { defaultLimits, type ResourceLimits } from '../runtime/limits.js';
import { writeFileAtomic } from '../atomicWrite.js';
import { bucketName, CrashStore, evidenceOf, type BucketFamily, type Reproduction } from '../store/crashStore.js';
import { measureRate } from '../trials/rate.js';
import { factsOf, familyId, familyOf } from '../trials/family.js';
import type { Finding, FindingKind, GilMode, RunResult, Target } from '../types.js';

export interface CampaignOptions {
  targets: Target[];
  modes: GilMode[];
  seed: string;
  /** Stop after this long (ms); at least one of durationMs and maxPrograms must be set. */
  durationMs?: number;
  maxPrograms?: number;
  /**
   * Index of the first program (default 0): programs `firstProgram …` of the seed, so that a fleet slice
   * runs exactly the programs a local campaign of the same seed would at those indices.
   */
  firstProgram?: number;
  jobs: number;
  timeoutMs: number;
  crashDir: string;
  corpusDir: string;
  /** Resource findings (oom, cpu, output) go here, not among the crash buckets. Default `<crashDir>/.resource`. */
  resourceDir?: string;
  genOptions?: Partial<GenOptions>;
  /** Module mode: programs make concurrent calls on this introspected module instead. */
  module?: ModuleSurface;
  /** Share of programs made by mutating a corpus program rather than generating afresh. */
  mutateShare?: number;
  oracles?: Oracle[];
  /** Caps per target process; default `defaultLimits(jobs, timeoutMs)`. */
  limits?: ResourceLimits;
  /** Re-runs of each new bucket's reproducer (0: do not measure). Default 10. */
  reproTrials?: number;
  /** A bucket reproducing in fewer than this share of its trials is marked flaky. Default 0.5. */
  flakyBelow?: number;
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
  /** Calibrated time limits (default on): `timeoutMs` is then the cap (runtime/calibration.ts). */
  calibrate?: boolean;
  /** Share of generated programs run with the leak harness (rounds > 1). Default 0.1. */
  leakShare?: number;
  /** Fresh re-runs of a finding seen only in a reused worker before it is kept as unconfirmed. Default 3. */
  unconfirmedRetries?: number;
  /** Share of generated programs that are focused (schedule.ts; 0: broad programs only). Default 0.5. */
  focusedShare?: number;
  /**
   * Share of programs run in fresh processes (the spawn executor) rather than the fork server, whose
   * pre-imported modules and reused workers hide first-import and lazy-initialisation races. Default 0.1;
   * ignored when the campaign's executor is spawn already.
   */
  spawnShare?: number;
}

import type { BucketSummary, CampaignFamily, CampaignStats } from './stats.js';
export type { BucketSummary, CampaignFamily, CampaignStats };

/** The leak harness a share of campaign programs runs with (`--leak-share`). */
const LEAK_ROUNDS = { rounds: 6, warmupRounds: 2 };

/** Re-runs per mode of a program whose lost write or differential lacks evidence (oracle EVIDENCE_RUNS). */
const EVIDENCE_RERUNS = 3;


async function loadCorpus(dir: string): Promise<{ file: string; source: string }[]> {
  let names: string[] = [];
  try {
    names = (await fs.readdir(dir)).filter((n) => n.endsWith('.py') && !n.startsWith('.')).sort();
  } catch {
    return [];
  }
  const out: { file: string; source: string }[] = [];
  for (const n of names) {
    const file = path.join(dir, n);
    try {
      out.push({ file, source: await fs.readFile(file, 'utf8') });
    } catch {
      // unreadable corpus file: `ftfuzz replay` names it; a campaign just does not use it
    }
  }
  return out;
}

/** What the campaign runs: a program's source, where it came from, and the features corpus novelty counts. */
interface Candidate {
  source: string;
  origin: Record<string, unknown>;
  features: string[];
  mutated: boolean;
  shape: Shape;
  /** The kinds and ops its yield is credited to. */
  credit: { kinds: string[]; ops: string[] };
}

/** faulthandler's thread stacks in a run's stderr (what stack.txt keeps beside the C stacks). */
function pythonStacksOf(stderr: string): string {
  const lines = stderr.split('\n');
  const start = lines.findIndex((l) => /^(Fatal Python error|Current thread|Thread 0x|Stack \(most recent)/.test(l));
  return start >= 0 ? lines.slice(start).join('\n') : '';
}

/**
 * The run that best shows a finding: for a crash or hang, a run that alone yields the same signature (so
 * the bucket's stack.txt is the stack that signed it); else one of its target and mode, preferring the one
 * that ended oddest.
 */
function evidenceRun(f: Finding, runs: readonly RunResult[], oracles?: readonly Oracle[]): RunResult | undefined {
  if (oracles && FINDING_KINDS[f.kind].stacks === 'gdb') {
    const own = oracles.filter((o) => o.name === f.oracle);
    const signed = runs.find((r) => r.termination.kind !== 'exit' && applyOracles(own, [r]).some((g) => g.signature === f.signature));
    if (signed) return signed;
  }
  return runs.find((r) => f.modes.includes(r.modeRequested) && f.targets.some((t) => t.path === r.target.path) && r.termination.kind !== 'exit') ??
    runs.find((r) => f.modes.includes(r.modeRequested) && f.targets.some((t) => t.path === r.target.path)) ??
    runs[0];
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignStats> {
  if (o.durationMs === undefined && o.maxPrograms === undefined) throw new RangeError('a campaign needs --duration or --runs');
  const started = performance.now();
  const store = new CrashStore(o.crashDir);
  const resourceStore = new CrashStore(o.resourceDir ?? path.join(o.crashDir, '.resource'));
  const slowStore = new CrashStore(path.join(o.crashDir, '.slow'));
  const unconfirmedStore = new CrashStore(path.join(o.crashDir, '.unconfirmed'));
  const calibrator = o.calibrate === false ? undefined : new TimeoutCalibrator(o.timeoutMs);
  const oracles = o.oracles ?? selectOracles('all');
  const limitSample: number[] = [];
  const limits = o.limits ?? defaultLimits(o.jobs, o.timeoutMs);
  const reproTrials = o.reproTrials ?? 10;
  const gate = new ExclusiveGate();
  const flakyBelow = o.flakyBelow ?? 0.5;
  // Opened before the work directory, executors and tickers exist: a bad path fails the campaign at once
  // (it once printed the error, then ticked "programs 0" forever with the tickers and fork server alive).
  const timeline = o.timelineFile ? new TimelineWriter(o.timelineFile) : undefined;
  await timeline?.open().catch((error: unknown) => {
    throw new InputError(o.timelineFile as string, `cannot write the campaign timeline (${(error as Error).message}); give --timeline a writable file path`, { cause: error });
  });
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-campaign-'));
  const executor = o.executor ?? createExecutor();
  const spawnExecutor = executor.name === 'spawn' ? executor : createExecutor('spawn');
  const corpus = await loadCorpus(o.corpusDir);
  // Parents for mutation: corpus programs that carry a scenario; a malformed header skips that file.
  const parents = o.module
    ? []
    : corpus.flatMap((c) => {
        try {
          const read = readScenario(c.source, c.file);
          return read ? [read] : [];
        } catch {
          return [];
        }
      });
  const seenContent = new Set(corpus.map((c) => createHash('sha256').update(c.source).digest('hex')));
  // Corpus novelty: an op (or module call) no kept program used yet, a new bucket, or a new exception kind.
  const seenFeatures = new Set<string>(parents.flatMap((p) => p.scenario.threadOps.flatMap((t) => t.ops.map((i) => i.op))));
  // Feedback: focused programs on the kinds that yield (schedule.ts).
  const scheduler = new Scheduler(o.module ? [] : eligibleKinds(resolveGenOptions(o.genOptions)).map((k) => k.id), { focusedShare: o.focusedShare ?? 0.5, cores: os.availableParallelism() });
  const stats: CampaignStats = {
    seed: o.seed,
    elapsedMs: 0,
    programs: 0,
    executions: 0,
    findingsByKind: {},
    buckets: [],
    families: [],
    newBuckets: [],
    resources: [],
    corpusAdded: 0,
    mutated: 0,
    cancelledPrograms: 0,
    unconfirmedByKind: {},
    promoted: 0,
    slow: 0,
    timeoutWallMs: 0,
    runWallMs: 0,
    medianLimitMs: 0,
    calibrated: o.calibrate !== false,
    timeoutRuns: 0,
    leakPrograms: 0,
    spawnPrograms: 0,
    byExecutor: {},
    verdicts: {},
    environmentWarnings: [],
    limits,
    stoppedBy: 'running',
    yield: scheduler.yields(),
  };
  const buckets = new Set<string>();
  // Families the store held before this campaign (a bucket of an older store without one: its own signature).
  const familiesBefore = new Set((await store.list()).buckets.map((b) => b.meta.family?.key).filter((k): k is string => k !== undefined));
  const families = new Map<string, CampaignFamily>();
  const countFamily = (family: BucketFamily | undefined, kind: FindingKind, bucket: string | null, isNewBucket: boolean) => {
    if (!family) return;
    let row = families.get(family.key);
    if (!row) {
      row = { id: familyId(family.key), key: family.key, label: family.label, kind, buckets: [], newBuckets: 0, isNew: !familiesBefore.has(family.key), hits: 0, unconfirmed: 0 };
      families.set(family.key, row);
    }
    if (bucket === null) {
      row.unconfirmed += 1;
      return;
    }
    row.hits += 1;
    if (!row.buckets.includes(bucket)) row.buckets.push(bucket);
    if (isNewBucket) row.newBuckets += 1;
  };
  const snapshot = (): CampaignStats => {
    stats.elapsedMs = performance.now() - started;
    const sorted = [...limitSample].sort((a, b) => a - b);
    stats.medianLimitMs = sorted[Math.floor(sorted.length / 2)] ?? 0;
    stats.buckets = [...buckets].sort();
    stats.families = [...families.values()].filter((f) => f.buckets.length > 0).sort((a, b) => b.hits - a.hits || a.id.localeCompare(b.id));
    stats.yield = scheduler.yields();
    return structuredClone(stats);
  };
  const ticker = o.onProgress ? setInterval(() => o.onProgress?.(snapshot()), o.progressEveryMs ?? 10_000) : undefined;
  const timelineTicker = timeline ? setInterval(() => void timeline.append(snapshot()).catch(() => undefined), o.timelineEveryMs ?? 5000) : undefined;

  // One signal for everything in flight: the caller's, or the deadline.
  const deadline = new AbortController();
  const onOuter = () => deadline.abort();
  o.signal?.addEventListener('abort', onOuter, { once: true });
  if (o.signal?.aborted) deadline.abort();
  const timer = o.durationMs !== undefined ? setTimeout(() => deadline.abort(), Math.max(0, o.durationMs)) : undefined;
  const first = o.firstProgram ?? 0;
  let next = first;
  const outOfBudget = () => deadline.signal.aborted || (o.maxPrograms !== undefined && next >= first + o.maxPrograms);

  const makeProgram = (index: number): Candidate => {
    const rng = new Rng(`${o.seed}:program:${index}`);
    if (o.module) {
      // Module mode gets the leak harness on the same share of programs (a C extension's leak is a
      // module-mode bug first).
      const leak = rng.bool(o.leakShare ?? 0.1);
      if (leak) stats.leakPrograms += 1;
      const program = generateModuleProgram(o.module, `${o.seed}-${index}`, leak ? LEAK_ROUNDS : {});
      return {
        source: program.source, origin: { generator: 'ftfuzz-module/1', module: o.module.module, seed: `${o.seed}-${index}`, campaignSeed: o.seed }, features: program.calls, mutated: false,
        shape: 'broad', credit: { kinds: [o.module.module], ops: program.calls },
      };
    }
    const parent = parents.length && rng.bool(o.mutateShare ?? 0.3) ? rng.pick(parents) : null;
    // A share of fresh programs runs the leak harness (several rounds in one process), so the leak
    // oracle is not inert in a default campaign; a choice of the campaign seed, recorded in the header.
    const leak = !parent && (o.genOptions?.rounds ?? 1) <= 1 && rng.bool(o.leakShare ?? 0.1);
    const plan = parent ? null : scheduler.plan(rng.fork('shape'), o.genOptions ?? {});
    const program = parent
      ? mutateProgram(rng, parent, rng.int(1, 3), parents.length > 1 && rng.bool(0.2) ? rng.pick(parents).scenario : undefined)
      : generateProgram(`${o.seed}-${index}`, leak ? { ...plan?.options, ...LEAK_ROUNDS } : plan?.options);
    if (leak) stats.leakPrograms += 1;
    return {
      source: program.source,
      origin: { generator: program.meta.generator, seed: program.meta.seed, mutations: program.meta.mutations, campaignSeed: o.seed },
      features: program.meta.scenario.threadOps.flatMap((t) => t.ops.map((i) => i.op)),
      mutated: parent !== null,
      shape: parent ? 'mutated' : (plan?.shape ?? 'broad'),
      credit: creditOf(program.meta.scenario),
    };
  };

  const keep = async (program: Candidate) => {
    const digest = createHash('sha256').update(program.source).digest('hex');
    if (seenContent.has(digest)) return;
    seenContent.add(digest);
    await writeFileAtomic(path.join(o.corpusDir, `${digest.slice(0, 16)}.py`), program.source);
    stats.corpusAdded += 1;
    // Kept programs are parents for mutation in this same campaign, not only in the next one.
    if (!o.module) {
      const read = readScenario(program.source, path.join(o.corpusDir, `${digest.slice(0, 16)}.py`));
      if (read) parents.push(read);
    }
  };

  /** Re-run a new bucket's repro.py and record how often the same bug shows. */
  const measure = async (bucket: string, target: Target): Promise<Reproduction | undefined> => {
    const meta = reproTrials > 0 ? await store.read(bucket) : null;
    if (!meta) return undefined;
    const settings = { trials: reproTrials, timeoutMs: o.timeoutMs, limits, oracles, signal: deadline.signal, flakyBelow, besideJobs: 0 };
    // With the other jobs paused (gate.ts): the rate a maintainer running repro.py alone will see.
    // Cancelled by the deadline: left unmeasured, for `ftfuzz triage --measure`.
    return gate.withExclusive(async () => (await measureRate(store, bucket, meta, target, settings)).reproduction);
  };

  const recordInput = (finding: Finding, program: Candidate, run: RunResult | undefined, target: Target) => {
    const stacks =
      FINDING_KINDS[finding.kind].stacks === 'tsan'
        ? `# ThreadSanitizer report (both access stacks), ${target.label}\n${finding.details}\n`
        : run && (run.native || FINDING_KINDS[finding.kind].stacks === 'gdb')
          ? formatStackFile(run.native, pythonStacksOf(run.stderrTail))
          : undefined;
    const evidence = run ? evidenceOf(run) : undefined;
    return {
      finding,
      source: program.source,
      target,
      stderrTail: run?.stderrTail ?? '',
      stacks,
      timeoutMs: run?.timeoutMs,
      signatureFormat: SIGNATURE_FORMAT,
      evidence,
      // Computed from exactly what the bucket keeps, so that `triage` re-grouping a store agrees with it.
      family: familyOf(factsOf(finding, { evidence, stackText: stacks, source: program.source })),
      origin: program.origin,
    };
  };

  const record = async (finding: Finding, program: Candidate, run: RunResult | undefined, target: Target): Promise<boolean> => {
    stats.findingsByKind[finding.kind] = (stats.findingsByKind[finding.kind] ?? 0) + 1;
    // Generated programs cannot deadlock or spin by construction: a hang of theirs is the runtime's.
    // (Not a deadlock on the program's own Python-level waits: that one has no C culprit frames.)
    if (finding.kind === 'hang' && finding.native?.hangClass && finding.native.hangClass !== 'slow' && finding.native.frames.length > 0 && typeof program.origin.generator === 'string') finding.verdict = 'runtime-bug';
    const input = recordInput(finding, program, run, target);
    const where = FINDING_KINDS[finding.kind].store;
    if (where === 'slow') {
      stats.slow += 1;
      await slowStore.record(input);
      return false;
    }
    if (where === 'resource') {
      const { bucket } = await resourceStore.record(input);
      const known = stats.resources.find((r) => r.signature === finding.signature);
      if (known) known.hits += 1;
      else stats.resources.push({ signature: finding.signature, hits: 1, example: path.join(resourceStore.root, bucket) });
      return false;
    }
    if (where === 'warning') {
      if (!stats.environmentWarnings.includes(finding.title)) stats.environmentWarnings.push(finding.title);
      return false;
    }
    const { bucket, isNew, meta } = await store.record(input);
    buckets.add(bucket);
    countFamily(meta.family, finding.kind, bucket, isNew);
    if (!isNew) return false;
    const family = meta.family ? { id: familyId(meta.family.key), key: meta.family.key, label: meta.family.label } : undefined;
    const summary: BucketSummary = { bucket, kind: finding.kind, title: finding.title, ...(family ? { family } : {}), interpreter: target.label, modes: finding.modes, verdict: finding.verdict };
    stats.verdicts[finding.verdict] = (stats.verdicts[finding.verdict] ?? 0) + 1;
    stats.newBuckets.push(summary);
    o.onBucket?.({ ...summary });
    summary.reproduction = await measure(bucket, target);
    if (summary.reproduction) o.onBucket?.({ ...summary });
    return true;
  };

  try {
    // Each worker runs one program at a time (its runs one after another), so `jobs` programs run at once.
    await mapConcurrent(Array.from({ length: Math.max(1, o.jobs) }, (_, w) => w), o.jobs, async () => {
      while (!outOfBudget()) {
        const index = next++;
        const program = makeProgram(index);
        const file = path.join(work, `prog-${index}.py`);
        await fs.writeFile(file, program.source);
        // A seeded share of programs runs in fresh interpreters (no pre-imports, no reused worker).
        const inSpawn = spawnExecutor !== executor && new Rng(`${o.seed}:executor:${index}`).bool(o.spawnShare ?? 0.1);
        if (inSpawn) stats.spawnPrograms += 1;
        const check = (extra: { runs?: number; fresh?: boolean } = {}) =>
          gate.withShared(() =>
            checkProgram({ file, targets: o.targets, modes: o.modes, runs: extra.runs ?? 1, jobs: 1, timeoutMs: o.timeoutMs, oracles, limits, signal: deadline.signal, executor: inSpawn ? spawnExecutor : executor, calibrator, fresh: extra.fresh }),
          );
        const account = (runs: readonly RunResult[]) => {
          stats.executions += runs.length;
          for (const r of runs) {
            stats.runWallMs += r.durationMs;
            if (r.termination.kind === 'timeout') {
              stats.timeoutWallMs += r.durationMs;
              stats.timeoutRuns += 1;
            }
            if (r.timeoutMs !== undefined && limitSample.length < 100_000) limitSample.push(r.timeoutMs);
          }
        };
        const result = await check();
        if (result.cancelled) {
          await fs.rm(file, { force: true });
          stats.cancelledPrograms += 1;
          break;
        }
        stats.programs += 1;
        if (program.mutated) stats.mutated += 1;
        account(result.runs);
        account(result.unconfirmed?.runs ?? []);
        let findings = result.findings;
        let runs = result.runs;
        // A lost write or differential from one run per mode is no evidence either way: run it again
        // (EVIDENCE_RERUNS per mode) and judge on all the runs together.
        const rejudged = (f: Finding) => FINDING_KINDS[f.kind].judgedOnReruns;
        if (findings.some((f) => rejudged(f) && f.verdict !== 'runtime-bug') && !deadline.signal.aborted) {
          const again = await check({ runs: EVIDENCE_RERUNS });
          if (!again.cancelled) {
            account(again.runs);
            runs = [...runs, ...again.runs];
            const judged = applyOracles(oracles, runs);
            findings = [...findings.filter((f) => !rejudged(f)), ...judged.filter(rejudged)];
          }
        }
        // Seen only in a reused worker: retried on fresh ones a few times more; promoted when it shows,
        // else kept in <crashes>/.unconfirmed (never silently dropped).
        for (const f of result.unconfirmed?.notAgain ?? []) {
          let shown: Finding | undefined;
          let evidence: RunResult | undefined;
          for (let i = 0; i < (o.unconfirmedRetries ?? 3) && !shown && !deadline.signal.aborted; i++) {
            const retry = await check({ fresh: true });
            if (retry.cancelled) break;
            account(retry.runs);
            shown = retry.findings.find((g) => g.signature === f.signature);
            if (shown) evidence = evidenceRun(shown, retry.runs, oracles);
          }
          if (shown) {
            stats.promoted += 1;
            findings = [...findings.filter((g) => g.signature !== shown.signature), shown];
            runs = [...runs, ...(evidence ? [evidence] : [])];
            continue;
          }
          stats.unconfirmedByKind[f.kind] = (stats.unconfirmedByKind[f.kind] ?? 0) + 1;
          const firstRun = evidenceRun(f, result.unconfirmed?.runs ?? [], oracles);
          const target = o.targets.find((t) => t.path === firstRun?.target.path) ?? o.targets[0];
          // A bug that already has its bucket is known: an unconfirmed sighting of it is no news.
          const known = (await store.read(bucketName(f)).catch(() => null)) !== null;
          if (!target || f.kind === 'resource' || f.kind === 'mode-mismatch') continue;
          const input = recordInput(f, program, firstRun, target);
          // A sighting of a family already stored (before or during this campaign) counts for that family.
          if (familiesBefore.has(input.family.key) || families.has(input.family.key)) countFamily(input.family, f.kind, null, false);
          if (!known) await unconfirmedStore.record(input);
        }
        let newBehaviour = false;
        let newBuckets = 0;
        for (const f of findings) {
          // The program file is still on disk here: re-signing a run reads its op from it (a crash signature
          // names the op), and a run that signs the finding is what stack.txt and evidence.json must keep.
          const run = evidenceRun(f, runs, oracles);
          const target = o.targets.find((t) => t.path === run?.target.path) ?? o.targets[0];
          if (target && (await record(f, program, run, target))) {
            newBehaviour = true;
            newBuckets += 1;
          }
        }
        await fs.rm(file, { force: true });
        const contended = runs.some((r) => r.threadExceptions.length > 0 || Number(r.observables?.allowed_exceptions ?? 0) > 0);
        const runMs = runs.reduce((t, r) => t + r.durationMs, 0);
        scheduler.update(program.shape, program.credit.kinds, program.credit.ops, { runMs, findings: findings.length, newBuckets, contended });
        // TSan targets always run in fresh processes (the fork server hands them to spawn).
        const ranIn = inSpawn || o.targets.every(isTsan) ? spawnExecutor.name : executor.name;
        const byExec = (stats.byExecutor[ranIn] ??= { programs: 0, runMs: 0, findings: 0, newBuckets: 0 });
        byExec.programs += 1;
        byExec.runMs += runMs;
        byExec.findings += findings.length;
        byExec.newBuckets += newBuckets;
        const features = [
          ...program.features,
          ...runs.flatMap((r) => [...r.threadExceptions.map((e) => `exc:${e.excType}`), ...(r.uncaughtException ? [`exc:${r.uncaughtException.excType}`] : [])]),
        ];
        if (features.some((f) => !seenFeatures.has(f))) {
          for (const f of features) seenFeatures.add(f);
          newBehaviour = true;
        }
        if (newBehaviour) await keep(program);
      }
    });
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
