// A fuzz campaign: generate (or mutate corpus programs), run each on the targets in every mode, apply
// the oracles, keep findings in the crash store and programs that showed new behaviour in the corpus.
// Stops at its budget or when its AbortSignal fires, keeping everything found so far.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkProgram } from '../check.js';
import { mutateProgram, readScenario } from '../generators/mutators.js';
import { generateProgram, type GenOptions, type GeneratedProgram } from '../generators/program.js';
import { Rng } from '../generators/rng.js';
import type { Oracle } from '../oracles/index.js';
import { mapConcurrent } from '../runtime/matrix.js';
import { writeFileAtomic } from '../store/atomicWrite.js';
import { CrashStore } from '../store/crashStore.js';
import type { Finding, FindingKind, GilMode, Target } from '../types.js';

export interface CampaignOptions {
  targets: Target[];
  modes: GilMode[];
  seed: string;
  /** Stop after this long (ms); at least one of durationMs and maxPrograms must be set. */
  durationMs?: number;
  maxPrograms?: number;
  jobs: number;
  timeoutMs: number;
  crashDir: string;
  corpusDir: string;
  genOptions?: Partial<GenOptions>;
  /** Share of programs made by mutating a corpus program rather than generating afresh. */
  mutateShare?: number;
  oracles?: Oracle[];
  signal?: AbortSignal;
  onProgress?: (stats: CampaignStats) => void;
  progressEveryMs?: number;
}

export interface CampaignStats {
  seed: string;
  elapsedMs: number;
  programs: number;
  executions: number;
  findingsByKind: Partial<Record<FindingKind, number>>;
  buckets: string[];
  newBuckets: string[];
  corpusAdded: number;
  /** Programs made by mutating a corpus program. */
  mutated: number;
  environmentWarnings: string[];
  stoppedBy: 'budget' | 'signal' | 'running';
}

/** Kinds kept in the crash store; a mode mismatch is an environment problem, reported instead. */
const STORED: ReadonlySet<FindingKind> = new Set(['crash', 'hang', 'internal-error', 'lost-write', 'refcount', 'leak', 'differential', 'resource']);

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
    out.push({ file, source: await fs.readFile(file, 'utf8') });
  }
  return out;
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignStats> {
  if (o.durationMs === undefined && o.maxPrograms === undefined) throw new RangeError('a campaign needs --duration or --runs');
  const started = performance.now();
  const store = new CrashStore(o.crashDir);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-campaign-'));
  const corpus = await loadCorpus(o.corpusDir);
  // Parents for mutation: corpus programs that carry a scenario; a malformed header skips that file.
  const parents = corpus.flatMap((c) => {
    try {
      const read = readScenario(c.source, c.file);
      return read ? [read] : [];
    } catch {
      return [];
    }
  });
  const seenContent = new Set(corpus.map((c) => createHash('sha256').update(c.source).digest('hex')));
  // Corpus novelty: an op no kept program used yet (the op library bounds the corpus), or a new bucket.
  const seenOps = new Set<string>(parents.flatMap((p) => p.scenario.threadOps.flatMap((t) => t.ops.map((i) => i.op))));
  const stats: CampaignStats = {
    seed: o.seed,
    elapsedMs: 0,
    programs: 0,
    executions: 0,
    findingsByKind: {},
    buckets: [],
    newBuckets: [],
    corpusAdded: 0,
    mutated: 0,
    environmentWarnings: [],
    stoppedBy: 'running',
  };
  const buckets = new Set<string>();
  const report = () => {
    stats.elapsedMs = performance.now() - started;
    stats.buckets = [...buckets].sort();
    o.onProgress?.({ ...stats });
  };
  const ticker = o.onProgress ? setInterval(report, o.progressEveryMs ?? 10_000) : undefined;
  let next = 0;
  const outOfBudget = () =>
    o.signal?.aborted === true ||
    (o.maxPrograms !== undefined && next >= o.maxPrograms) ||
    (o.durationMs !== undefined && performance.now() - started >= o.durationMs);

  const makeProgram = (index: number): GeneratedProgram => {
    const rng = new Rng(`${o.seed}:program:${index}`);
    const parent = parents.length && rng.bool(o.mutateShare ?? 0.3) ? rng.pick(parents) : null;
    if (parent) {
      const other = parents.length > 1 && rng.bool(0.2) ? rng.pick(parents).scenario : undefined;
      stats.mutated += 1;
      return mutateProgram(rng, parent, rng.int(1, 3), other);
    }
    return generateProgram(`${o.seed}-${index}`, o.genOptions);
  };

  const keep = async (program: GeneratedProgram) => {
    const digest = createHash('sha256').update(program.source).digest('hex');
    if (seenContent.has(digest)) return;
    seenContent.add(digest);
    await writeFileAtomic(path.join(o.corpusDir, `${digest.slice(0, 16)}.py`), program.source);
    stats.corpusAdded += 1;
  };

  const store1 = async (finding: Finding, program: GeneratedProgram, stderrTail: string, target: Target) => {
    stats.findingsByKind[finding.kind] = (stats.findingsByKind[finding.kind] ?? 0) + 1;
    if (!STORED.has(finding.kind)) {
      if (!stats.environmentWarnings.includes(finding.title)) stats.environmentWarnings.push(finding.title);
      return false;
    }
    const { bucket, isNew } = await store.record({
      finding,
      source: program.source,
      target,
      stderrTail,
      origin: { generator: program.meta.generator, seed: program.meta.seed, mutations: program.meta.mutations, campaignSeed: o.seed },
    });
    buckets.add(bucket);
    if (isNew) stats.newBuckets.push(bucket);
    return isNew;
  };

  try {
    // Each worker runs one program at a time (its runs one after another), so `jobs` programs run at once.
    await mapConcurrent(Array.from({ length: Math.max(1, o.jobs) }, (_, w) => w), o.jobs, async () => {
      while (!outOfBudget()) {
        const index = next++;
        const program = makeProgram(index);
        const file = path.join(work, `prog-${index}.py`);
        await fs.writeFile(file, program.source);
        const result = await checkProgram({ file, targets: o.targets, modes: o.modes, runs: 1, jobs: 1, timeoutMs: o.timeoutMs, oracles: o.oracles });
        stats.programs += 1;
        stats.executions += result.runs.length;
        let newBehaviour = false;
        for (const f of result.findings) {
          const run = result.runs.find((r) => f.modes.includes(r.modeRequested) && f.targets.some((t) => t.path === r.target.path)) ?? result.runs[0];
          const target = o.targets.find((t) => t.path === run?.target.path) ?? o.targets[0];
          if (target && (await store1(f, program, run?.stderrTail ?? '', target))) newBehaviour = true;
        }
        const ops = program.meta.scenario.threadOps.flatMap((t) => t.ops.map((i) => i.op));
        if (ops.some((op) => !seenOps.has(op))) {
          for (const op of ops) seenOps.add(op);
          newBehaviour = true;
        }
        if (newBehaviour) await keep(program);
        await fs.rm(file, { force: true });
      }
    });
  } finally {
    if (ticker) clearInterval(ticker);
    await fs.rm(work, { recursive: true, force: true });
  }
  stats.stoppedBy = o.signal?.aborted ? 'signal' : 'budget';
  stats.elapsedMs = performance.now() - started;
  stats.buckets = [...buckets].sort();
  return stats;
}

export function formatStats(s: CampaignStats): string {
  const secs = s.elapsedMs / 1000;
  const kinds = Object.entries(s.findingsByKind).map(([k, n]) => `${k}:${n}`).join(' ') || 'none';
  return `${Math.floor(secs / 60)}:${String(Math.floor(secs % 60)).padStart(2, '0')} programs ${s.programs} executions ${s.executions} (${(s.executions / Math.max(secs, 0.001)).toFixed(1)}/s) findings ${kinds} buckets ${s.buckets.length} (new ${s.newBuckets.length}) corpus +${s.corpusAdded}`;
}
