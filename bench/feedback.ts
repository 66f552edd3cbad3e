// `npm run bench -- feedback`: does feedback from the interpreter's C code (coverage build, collision
// witnesses) and seeded schedule perturbation find more bugs in the same CPU budget?
//
// Arms, each a campaign of the same budget, jobs and seed:
//   off        the plain release build; no C feedback, no perturbation (what ftfuzz did before)
//   feedback   the coverage build of the same release; corpus and bandit fed by new edges and witnesses
//   both       the coverage build, feedback on, and a share of programs perturbed (native/ftfuzz_sched.c)
// The coverage build's cost (its programs run slower) is charged to the arms that use it: same wall budget.
// Per arm: distinct families (suspected bugs) with a runtime-bug verdict, those whose reproducer showed
// them again when the campaign measured its rate (plain `python repro.py`), time to first find of each,
// edges and witnesses reached. For the families both `off` and `both` found: the median ratio of their
// first-find times. For `both`'s families found by a perturbed run: the rate of the reproducer with its
// perturbation seed against without, interleaved trials on the same file.
// Families are ftfuzz's own (triage/family.ts) and the verdicts its own: this grades nothing against a
// table of known fixes (that is `bench -- bugs`), so a family the two arms file differently counts twice.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import yargs from 'yargs';
import { resolveSettings, runCampaign, type CampaignStats } from '../src/campaign/fuzz.js';
import { UsageError } from '../src/errors.js';
import { writeFileAtomic } from '../src/atomicWrite.js';
import { installPython } from '../src/runtime/provision.js';
import type { Variant } from '../src/runtime/provision/cache.js';
import { CrashStore, type BucketMeta } from '../src/store/crashStore.js';
import { measureFileRate, reproducerOf } from '../src/trials/rate.js';
import { rateInterval } from '../src/trials/claims.js';
import { parseDuration } from '../src/units.js';
import type { Target } from '../src/types.js';
import { freshOutDir } from './bugs.js';
import { generateProgram } from '../src/generators/program.js';
import { SpawnExecutor } from '../src/runtime/spawnExecutor.js';

export type Arm = 'off' | 'feedback' | 'both';
const ARMS: readonly Arm[] = ['off', 'feedback', 'both'];

interface ArmFamily {
  key: string;
  label: string;
  kind: string;
  firstFoundMs: number;
  buckets: number;
  /** The campaign's measured rate of its best bucket (plain repro.py), if measured. */
  rate: { hits: number; trials: number } | null;
  perturbed: boolean;
}

export interface ArmRun {
  arm: Arm;
  seed: string;
  target: string;
  programs: number;
  executions: number;
  elapsedMs: number;
  families: ArmFamily[];
  edges?: { seen: number; total: number };
  witnessPrograms?: number;
  witnessPairs?: number;
  perturbedPrograms?: number;
}

export interface PerturbedRate {
  family: string;
  bucket: string;
  seed: string;
  with: { hits: number; trials: number };
  without: { hits: number; trials: number };
}

async function familiesOf(crashDir: string, started: number): Promise<ArmFamily[]> {
  const store = new CrashStore(crashDir);
  const byKey = new Map<string, { metas: BucketMeta[] }>();
  for (const b of (await store.list()).buckets) {
    if (b.meta.verdict !== 'runtime-bug') continue;
    const key = b.meta.family?.key ?? b.meta.signature;
    const entry = byKey.get(key) ?? { metas: [] };
    entry.metas.push(b.meta);
    byKey.set(key, entry);
  }
  return [...byKey].map(([key, { metas }]) => {
    const first = Math.min(...metas.map((m) => Date.parse(m.firstSeen)));
    const rated = metas.map((m) => m.reproduction).filter((r): r is NonNullable<BucketMeta['reproduction']> => r !== undefined).sort((a, b) => b.hits / b.trials - a.hits / a.trials)[0];
    return {
      key,
      label: metas[0]?.family?.label ?? metas[0]?.title ?? key,
      kind: metas[0]?.kind ?? '?',
      firstFoundMs: Math.max(0, first - started),
      buckets: metas.length,
      rate: rated ? { hits: rated.hits, trials: rated.trials } : null,
      perturbed: metas.some((m) => m.perturbation !== undefined),
    };
  });
}

async function runArm(o: { arm: Arm; seed: string; budgetMs: number; jobs: number; dir: string; plain: Target; coverage: Target; perturbShare: number; log: (l: string) => void }): Promise<{ run: ArmRun; stats: CampaignStats }> {
  const target = o.arm === 'off' ? o.plain : o.coverage;
  const dir = path.join(o.dir, `${o.arm}-${o.seed}`);
  const crashDir = path.join(dir, 'crashes');
  const settings = resolveSettings({ seed: o.seed, durationMs: o.budgetMs, feedback: o.arm !== 'off', perturbShare: o.arm === 'both' ? o.perturbShare : 0 });
  o.log(`arm ${o.arm}, seed ${o.seed}: ${Math.round(o.budgetMs / 60_000)} min on ${target.label}, ${o.jobs} jobs -> ${dir}`);
  const started = Date.now();
  const stats = await runCampaign({
    settings, targets: [target], jobs: o.jobs, crashDir, corpusDir: path.join(dir, 'corpus'),
    timelineFile: path.join(crashDir, '.timeline', `${o.arm}-${o.seed}.jsonl`),
    onBucket: (b) => { if (!b.reproduction) o.log(`  new bucket ${b.bucket} at ${((Date.now() - started) / 60_000).toFixed(1)} min: ${b.title.slice(0, 100)}`); },
  });
  await writeFileAtomic(path.join(dir, 'stats.json'), `${JSON.stringify(stats, null, 2)}\n`);
  const c = stats.collisions;
  return {
    stats,
    run: {
      arm: o.arm, seed: o.seed, target: target.label, programs: stats.programs, executions: stats.executions, elapsedMs: stats.elapsedMs,
      families: await familiesOf(crashDir, started),
      ...(c ? { edges: { seen: c.edgesSeen, total: c.edgesTotal }, witnessPrograms: c.programsWithWitness, witnessPairs: c.witnessPairs } : {}),
      ...(stats.perturbedPrograms ? { perturbedPrograms: stats.perturbedPrograms } : {}),
    },
  };
}

/** A perturbed family's best bucket: its repro.py with its seed against without, `trials` each, alternating. */
async function perturbedRates(dir: string, target: Target, trials: number, log: (l: string) => void): Promise<PerturbedRate[]> {
  const store = new CrashStore(path.join(dir, 'crashes'));
  const out: PerturbedRate[] = [];
  const seen = new Set<string>();
  for (const b of (await store.list()).buckets) {
    const m = b.meta;
    const key = m.family?.key ?? m.signature;
    if (!m.perturbation || m.verdict !== 'runtime-bug' || seen.has(key) || m.kind === 'hang') continue;
    seen.add(key);
    const file = await reproducerOf(store, b.bucket);
    const env = { LD_PRELOAD: m.perturbation.shim, FTFUZZ_SCHED_SEED: m.perturbation.seed };
    const counts = { with: { hits: 0, trials: 0 }, without: { hits: 0, trials: 0 } };
    for (let i = 0; i < trials; i++) {
      for (const which of ['with', 'without'] as const) {
        const r = await measureFileRate(file, m, target, { trials: 1, timeoutMs: 30_000, flakyBelow: 0.5, ...(which === 'with' ? { env } : {}) });
        if (!r) continue;
        counts[which].hits += r.hits;
        counts[which].trials += r.trials;
      }
    }
    log(`  ${b.bucket}: with seed ${counts.with.hits}/${counts.with.trials}, without ${counts.without.hits}/${counts.without.trials}`);
    out.push({ family: m.family?.label ?? key, bucket: b.bucket, seed: m.perturbation.seed, ...counts });
  }
  return out;
}

/**
 * The coverage build's cost: the same generated programs, one at a time in fresh processes, on the plain and
 * the coverage build of one release, alternating; each build's total run time (GIL off and on), and the
 * coverage build's with its per-run dumps read (what a campaign pays).
 */
async function overheadOf(plain: Target, coverage: Target, programs: number, dir: string): Promise<{ programs: number; plainMs: number; coverageMs: number; dumpedMs: number }> {
  const spawn = new SpawnExecutor();
  const work = path.join(dir, 'overhead');
  await fs.mkdir(work, { recursive: true });
  const total = { plainMs: 0, coverageMs: 0, dumpedMs: 0 };
  for (let i = 0; i < programs; i++) {
    const file = path.join(work, `p${i}.py`);
    await fs.writeFile(file, generateProgram(`overhead-${i}`).source);
    for (const mode of ['gil-off', 'gil-on'] as const) {
      const req = (target: Target) => ({ program: { path: file, name: `p${i}.py` }, target, mode, runIndex: 0, timeoutMs: 60_000 });
      total.plainMs += (await spawn.execute(req(plain))).durationMs;
      total.coverageMs += (await spawn.execute(req(coverage))).durationMs;
      const t0 = performance.now();
      await spawn.execute({ ...req(coverage), edgesFile: path.join(work, `p${i}.${mode}.cov`) });
      total.dumpedMs += performance.now() - t0;
    }
  }
  await fs.rm(work, { recursive: true, force: true });
  return { programs, ...total };
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const pctInterval = (c: { hits: number; trials: number }) => {
  const [lo, hi] = rateInterval(c);
  return `${c.hits}/${c.trials} (${Math.round(100 * lo)}-${Math.round(100 * hi)}%)`;
};

export function formatFeedback(runs: ArmRun[], rates: PerturbedRate[], jobs: number): string[] {
  const out: string[] = [];
  out.push('arm       seed    target                          programs  execs/s  families  reproduced  C edges          witness programs / pairs');
  for (const r of runs) {
    const reproduced = r.families.filter((f) => f.rate && f.rate.hits > 0).length;
    out.push(
      `${r.arm.padEnd(9)} ${r.seed.padEnd(7)} ${r.target.slice(0, 31).padEnd(31)} ${String(r.programs).padStart(8)} ${(r.executions / (r.elapsedMs / 1000)).toFixed(1).padStart(8)} ${String(r.families.length).padStart(9)} ${String(reproduced).padStart(11)}  ${r.edges ? `${r.edges.seen}/${r.edges.total}`.padEnd(15) : '-'.padEnd(15)}  ${r.witnessPrograms !== undefined ? `${r.witnessPrograms} / ${r.witnessPairs}` : '-'}`,
    );
  }
  const union = (arm: Arm) => {
    const m = new Map<string, number[]>();
    for (const r of runs.filter((x) => x.arm === arm)) for (const f of r.families) m.set(f.key, [...(m.get(f.key) ?? []), f.firstFoundMs]);
    return m;
  };
  out.push('');
  for (const arm of ARMS) {
    const u = union(arm);
    if (!runs.some((r) => r.arm === arm)) continue;
    const perSeed = runs.filter((r) => r.arm === arm).map((r) => r.families.length);
    out.push(`${arm}: ${u.size} distinct families over its seeds (per seed: ${perSeed.join(', ')}; ${jobs} jobs)`);
  }
  const off = union('off');
  const both = union('both');
  const shared = [...off.keys()].filter((k) => both.has(k));
  const ratios = shared.map((k) => Math.min(...(off.get(k) as number[])) / Math.max(1, Math.min(...(both.get(k) as number[]))));
  const offSize = off.size;
  out.push(`both vs off: ${both.size} vs ${offSize} distinct families (${offSize ? (both.size / offSize).toFixed(2) : '∞'}x); ${shared.length} found by both, median first-find off/both ${median(ratios)?.toFixed(2) ?? '-'}x`);
  out.push(`  only off: ${[...off.keys()].filter((k) => !both.has(k)).length}; only both: ${[...both.keys()].filter((k) => !off.has(k)).length}`);
  if (rates.length) {
    out.push('');
    out.push('perturbed families: repro.py with its seed against without (interleaved trials; 95% intervals)');
    for (const r of rates) out.push(`  ${r.family.slice(0, 70).padEnd(70)} with ${pctInterval(r.with)}  without ${pctInterval(r.without)}`);
  }
  return out;
}

export async function feedbackSection(argv: string[]): Promise<{ name: string; value: string; note?: string }[]> {
  const args = await yargs(argv)
    .version(false)
    .option('budget', { type: 'string', default: '30m', describe: 'wall budget of each campaign' })
    .option('seeds', { type: 'string', default: 'fb1,fb2' })
    .option('arms', { type: 'string', default: ARMS.join(',') })
    .option('version', { type: 'string', default: '3.13.5' })
    .option('variant', { choices: ['release', 'tsan'] as const, default: 'release' as const, describe: 'release: plain vs coverage build; tsan: tsan vs tsan-coverage' })
    .option('jobs', { type: 'number', default: 2 })
    .option('perturb-share', { type: 'number', default: 0.5 })
    .option('rate-trials', { type: 'number', default: 8, describe: 'trials per perturbed family, with and without its seed each' })
    .option('overhead-programs', { type: 'number', default: 30, describe: 'programs run on both builds to measure the coverage build\'s cost (0: skip)' })
    .option('out', { type: 'string', demandOption: true, describe: 'a new or empty directory' })
    .strict()
    .parseAsync();
  const arms = args.arms.split(',').map((a) => a.trim()).filter(Boolean) as Arm[];
  for (const a of arms) if (!ARMS.includes(a)) throw new UsageError(`--arms ${args.arms}: unknown arm "${a}"; use ${ARMS.join(', ')}`);
  const budgetMs = parseDuration(args.budget, '--budget');
  const log = (l: string) => process.stderr.write(`[feedback] ${l}\n`);
  await freshOutDir(args.out);
  const plainVariant: Variant = args.variant === 'tsan' ? 'tsan' : 'release';
  const coverageVariant: Variant = args.variant === 'tsan' ? 'tsan-coverage' : 'coverage';
  const plain = (await installPython({ version: args.version, variant: plainVariant, log })).target;
  const coverage = (await installPython({ version: args.version, variant: coverageVariant, log })).target;
  const overhead = args['overhead-programs'] > 0 ? await overheadOf(plain, coverage, args['overhead-programs'], args.out) : null;
  if (overhead) {
    const line = `coverage build cost: ${overhead.programs} programs x 2 modes, fresh processes: plain ${(overhead.plainMs / 1000).toFixed(1)} s, coverage ${(overhead.coverageMs / 1000).toFixed(1)} s (${(overhead.coverageMs / overhead.plainMs).toFixed(2)}x), with dumps read ${(overhead.dumpedMs / 1000).toFixed(1)} s (${(overhead.dumpedMs / overhead.plainMs).toFixed(2)}x)`;
    log(line);
    await writeFileAtomic(path.join(args.out, 'overhead.json'), `${JSON.stringify({ ...overhead, line }, null, 2)}\n`);
  }
  const runs: ArmRun[] = [];
  for (const seed of args.seeds.split(',').map((s) => s.trim()).filter(Boolean)) {
    for (const arm of arms) {
      const { run } = await runArm({ arm, seed, budgetMs, jobs: args.jobs, dir: args.out, plain, coverage, perturbShare: args['perturb-share'], log });
      runs.push(run);
      await writeFileAtomic(path.join(args.out, 'feedback.json'), `${JSON.stringify({ runs }, null, 2)}\n`);
    }
  }
  const rates: PerturbedRate[] = [];
  if (args['rate-trials'] > 0) {
    for (const run of runs.filter((r) => r.arm === 'both')) rates.push(...(await perturbedRates(path.join(args.out, `both-${run.seed}`), coverage, args['rate-trials'], log)));
  }
  await writeFileAtomic(path.join(args.out, 'feedback.json'), `${JSON.stringify({ runs, rates }, null, 2)}\n`);
  const lines = formatFeedback(runs, rates, args.jobs);
  await fs.writeFile(path.join(args.out, 'feedback.txt'), `${lines.join('\n')}\n`);
  for (const l of lines) console.log(`  ${l}`);
  return [];
}
