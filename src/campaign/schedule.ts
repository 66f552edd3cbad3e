// Feedback for a campaign: what to generate next, learned from what the programs so far yielded.
//
// Two shapes of program are mixed: broad ones (the generator's defaults: several objects of random kinds,
// mixed ops) and focused ones (one shared object, two or three ops per thread on it, many iterations,
// threads sized to the cores). A focused program's object kind is chosen by a UCB1 bandit over the kinds,
// rewarded by what programs of that kind found: a new family counts most, any finding some, and a program
// whose threads raised the exceptions their ops allow (the container changed under them: the threads
// really met) a little, as a near miss. A new bucket earns its full point only when it begins a new family;
// on a coverage build, new collision witnesses and new C edges earn part of one (collisions.ts). A share of programs ignores the bandit (exploration), and a kind
// never tried is tried before any is tried twice, so a kind that yields nothing early is not starved for
// ever. The yield per kind, op and shape is reported in the campaign summary and its JSON.
import { OPS_BY_KIND } from '../generators/ops.js';
import type { GenOptions } from '../generators/scenario.js';
import type { Rng } from '../generators/rng.js';

export type Shape = 'broad' | 'focused' | 'mutated' | 'surface';

export interface Yield {
  programs: number;
  /** Wall time of the programs' runs, ms. */
  runMs: number;
  /** Findings (every kind, known buckets included). */
  findings: number;
  /** Buckets first seen in this campaign. */
  newBuckets: number;
  /** Programs whose threads raised allowed or unexpected exceptions (the threads met). */
  contended: number;
  /** Wall time of runs that went past their limit and then finished, or kept making progress (crawls), ms. */
  crawlMs: number;
  /** Programs that crawled (absent in yields of an older campaign). */
  crawls?: number;
  /** Findings whose family was new to the store. */
  newFamilies?: number;
  /** On a coverage build: C edges first reached, and (witness, kind) pairs first reached (collisions.ts). */
  newEdges?: number;
  newWitnesses?: number;
}

export interface YieldReport {
  byShape: Record<Shape, Yield>;
  byKind: Record<string, Yield>;
  byOp: Record<string, Yield>;
}

export interface Outcome {
  runMs: number;
  findings: number;
  /** Findings of bugs the store did not have (the reward counts these, not every known crash seen again). */
  novelFindings?: number;
  newBuckets: number;
  contended: boolean;
  /** Time of the program's runs that crawled past their limit (0: none did). */
  crawlMs?: number;
  /** Time of the program's runs that went past their limit, hangs and crawls (0: none did). */
  pastLimitMs?: number;
  /** Of newBuckets: those whose family was new to the store. */
  newFamilies?: number;
  /** C edges no earlier program reached (coverage builds). */
  newEdges?: number;
  /** (collision witness, kind) pairs no earlier program reached (coverage builds). */
  newWitnesses?: number;
}

export interface SchedulerOptions {
  /** Share of generated programs that are focused (the campaign's `focusedShare` setting). */
  focusedShare: number;
  /** Share of focused programs whose kind is picked at random rather than by the bandit (default 0.25). */
  explore?: number;
  /** Cores of the machine: a focused program runs cores .. 2 x cores threads. */
  cores: number;
}

/**
 * A new family is what a triager counts; a new bucket of a family already known is one more signature of a
 * bug the store has (in a 20-minute TSan campaign BytesIO made 34 buckets of one family and kept winning when
 * every bucket earned a full point). New collision witnesses and new C edges (coverage builds) are the near
 * misses that say the threads met somewhere new: less than a find, more than an exception.
 */
const REWARD = { newFamily: 1, newBucket: 0.2, finding: 0.2, witness: 0.25, witnessCap: 0.5, edges: 0.2, edgesFull: 200, contended: 0.05 };
/**
 * A program that went past its limit (a crawl, or a hang the store knows) cost a slot many programs' time
 * for nothing new: it earns nothing, so the bandit moves off kinds whose programs' cost explodes (growth of a
 * shared container under copy, repr or sort, a GIL-on convoy) or that keep hanging the same known way.
 */
const empty = (): Yield => ({ programs: 0, runMs: 0, findings: 0, newBuckets: 0, contended: 0, crawlMs: 0, crawls: 0 });

export function reward(o: Outcome): number {
  if (o.newBuckets === 0 && ((o.crawlMs ?? 0) > 0 || (o.pastLimitMs ?? 0) > 0)) return 0;
  const novel = o.novelFindings ?? o.findings;
  // An outcome without newFamilies (an older caller) counts every new bucket as a new family.
  const families = o.newFamilies ?? o.newBuckets;
  const knownFamilyBuckets = Math.max(0, o.newBuckets - families);
  return Math.min(
    1,
    families * REWARD.newFamily +
      (knownFamilyBuckets > 0 ? REWARD.newBucket : 0) +
      (novel > 0 ? REWARD.finding : 0) +
      Math.min(REWARD.witnessCap, (o.newWitnesses ?? 0) * REWARD.witness) +
      REWARD.edges * Math.min(1, (o.newEdges ?? 0) / REWARD.edgesFull) +
      (o.contended ? REWARD.contended : 0),
  );
}

export class Scheduler {
  private readonly arms: Map<string, { n: number; total: number }>;
  private readonly report: YieldReport = { byShape: { broad: empty(), focused: empty(), mutated: empty(), surface: empty() }, byKind: {}, byOp: {} };
  private plays = 0;

  constructor(
    kinds: readonly string[],
    private readonly o: SchedulerOptions,
  ) {
    this.arms = new Map(kinds.map((k) => [k, { n: 0, total: 0 }]));
  }

  /**
   * Ops whose programs crawl: in two programs or more, and either a third or more of those that used them or
   * half or more of their run time, with more than twice as many crawls as new buckets. A crawl is never a
   * bug and costs a slot its limit, its samples and often its finish window (a json.dumps of a growing
   * defaultdict crawled in one program of eight, but that one took longer than the other seven together);
   * generation leaves these ops out (its options' `excludeOps`), as the bandit moves off crawling kinds.
   */
  crawlingOps(): string[] {
    return Object.entries(this.report.byOp)
      .filter(([, y]) => {
        const crawls = y.crawls ?? 0;
        return crawls >= 2 && crawls > 2 * y.newBuckets && (crawls * 3 >= y.programs || y.crawlMs * 2 >= y.runMs);
      })
      .map(([op]) => op)
      .sort();
  }

  /** The next program's shape, and the generator options that make it. */
  plan(rng: Rng, base: Partial<GenOptions>): { shape: Shape; kind: string | null; options: Partial<GenOptions> } {
    const crawling = this.crawlingOps();
    const avoid = (options: Partial<GenOptions>, kind: string | null): Partial<GenOptions> => {
      // Never every op of a focused program's kind: it would have nothing to run.
      const excluded = crawling.filter((op) => !base.excludeOps?.includes(op) && (kind === null || (OPS_BY_KIND.get(kind) ?? []).some((x) => x.id !== op && !crawling.includes(x.id))));
      return excluded.length ? { ...options, excludeOps: [...(base.excludeOps ?? []), ...excluded] } : options;
    };
    if (this.arms.size === 0 || !rng.bool(this.o.focusedShare)) return { shape: 'broad', kind: null, options: avoid(base, null) };
    const kind = rng.bool(this.o.explore ?? 0.25) ? rng.pick([...this.arms.keys()]) : this.best(rng);
    const cores = Math.max(1, this.o.cores);
    // One op with no checked outcome (a repr, a serializer) lowers the whole object to crash-only, and a
    // lost write then goes unseen: half the focused programs of a kind that has exact ops use only those.
    const checked = base.effects === undefined && (OPS_BY_KIND.get(kind) ?? []).some((op) => op.effect === 'exact') && rng.bool(0.5);
    return {
      shape: 'focused',
      kind,
      // What the user set explicitly (iterations, threads, ...) stands; the focused shape fills the rest.
      options: {
        objects: [1, 1],
        opsPerThread: [2, 3],
        iterations: [200, 1000],
        threads: [Math.max(2, cores), Math.min(16, Math.max(2, 2 * cores))],
        ...(checked ? { effects: ['exact' as const] } : {}),
        ...avoid(base, kind),
        kinds: [kind],
      },
    };
  }

  /** UCB1 over the kinds; untried kinds first, in a seeded order. */
  private best(rng: Rng): string {
    const untried = [...this.arms].filter(([, a]) => a.n === 0).map(([k]) => k);
    if (untried.length) return rng.pick(untried);
    let bestKind = '';
    let bestScore = -Infinity;
    const logN = Math.log(Math.max(1, this.plays));
    for (const [k, a] of this.arms) {
      const score = a.total / a.n + Math.sqrt((2 * logN) / a.n);
      if (score > bestScore) {
        bestScore = score;
        bestKind = k;
      }
    }
    return bestKind;
  }

  /** Credit a finished program to its shape, its kinds (the bandit's arms) and its ops. */
  update(shape: Shape, kinds: readonly string[], ops: readonly string[], outcome: Outcome): void {
    const add = (y: Yield) => {
      y.programs += 1;
      y.runMs += outcome.runMs;
      y.findings += outcome.findings;
      y.newBuckets += outcome.newBuckets;
      y.contended += outcome.contended ? 1 : 0;
      y.crawlMs += outcome.crawlMs ?? 0;
      y.crawls = (y.crawls ?? 0) + ((outcome.crawlMs ?? 0) > 0 ? 1 : 0);
      if (outcome.newFamilies) y.newFamilies = (y.newFamilies ?? 0) + outcome.newFamilies;
      if (outcome.newEdges) y.newEdges = (y.newEdges ?? 0) + outcome.newEdges;
      if (outcome.newWitnesses) y.newWitnesses = (y.newWitnesses ?? 0) + outcome.newWitnesses;
    };
    add(this.report.byShape[shape]);
    for (const k of new Set(kinds)) add((this.report.byKind[k] ??= empty()));
    for (const op of new Set(ops)) add((this.report.byOp[op] ??= empty()));
    const r = reward(outcome);
    const unique = [...new Set(kinds)];
    for (const k of unique) {
      const arm = this.arms.get(k);
      if (!arm) continue;
      arm.n += 1;
      arm.total += r / unique.length;
    }
    this.plays += 1;
  }

  yields(): YieldReport {
    return structuredClone(this.report);
  }
}

/** The kinds and ops a program's yield is credited to, from its scenario. */
export function creditOf(scenario: { objects: { v: string; kind: string }[]; threadOps: { ops: { op: string }[] }[] }): { kinds: string[]; ops: string[] } {
  return { kinds: scenario.objects.map((o) => o.kind), ops: scenario.threadOps.flatMap((t) => t.ops.map((i) => i.op)) };
}
