// The campaign's corpus: programs that showed new behaviour, kept as files, and the parents mutation
// draws from. Novelty is a feature (an op, a module call, an exception kind) no kept program had yet.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../atomicWrite.js';
import { readScenario } from '../generators/mutators.js';
import type { RunResult } from '../types.js';
import { crawled, pastLimit } from './ledger.js';

/** A corpus program mutation can start from: its scenario, options and seed (mutators.ts readScenario). */
export type Parent = NonNullable<ReturnType<typeof readScenario>>;

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

export class CampaignCorpus {
  private constructor(
    readonly dir: string,
    /** Parents for mutation (none in module mode), growing as the campaign keeps programs. */
    readonly parents: Parent[],
    private readonly seenContent: Set<string>,
    private readonly seenFeatures: Set<string>,
    private readonly moduleMode: boolean,
  ) {}

  static async load(dir: string, moduleMode: boolean): Promise<CampaignCorpus> {
    const corpus = await loadCorpus(dir);
    // Parents: corpus programs that carry a scenario; a malformed header skips that file.
    const parents = moduleMode
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
    const seenFeatures = new Set<string>(parents.flatMap((p) => p.scenario.threadOps.flatMap((t) => t.ops.map((i) => i.op))));
    return new CampaignCorpus(dir, parents, seenContent, seenFeatures, moduleMode);
  }

  /** Whether any of these features is new; all of them are seen afterwards. */
  novel(features: readonly string[]): boolean {
    if (features.every((f) => this.seenFeatures.has(f))) return false;
    for (const f of features) this.seenFeatures.add(f);
    return true;
  }

  /**
   * A judged program into the corpus when it showed something new: a new bucket, a feature (an op or
   * module call, an exception kind) no kept program had, or (on a coverage build) C edges or collision
   * witnesses no earlier program of the campaign reached. Surface programs count their novelty as coverage
   * (coverage.ts), not here: kept only with a new bucket. A program that crawled is kept only with a new
   * bucket too (its mutants would crawl as well), and one that went past its limit is never a parent.
   * True when written.
   */
  async consider(program: { source: string; features: readonly string[]; surface?: unknown }, runs: readonly RunResult[], newBuckets: number, collided?: { newEdges: number; newWitnesses: number }): Promise<boolean> {
    const features = [
      ...program.features,
      ...runs.flatMap((r) => [...r.threadExceptions.map((e) => `exc:${e.excType}`), ...(r.uncaughtException ? [`exc:${r.uncaughtException.excType}`] : [])]),
    ];
    const novel = !program.surface && !runs.some(crawled) && this.novel(features);
    // On a coverage build: new collision witnesses always, new C edges unless it crawled (collisions.ts).
    const reached = (collided?.newWitnesses ?? 0) > 0 || ((collided?.newEdges ?? 0) > 0 && !runs.some(crawled));
    return (newBuckets > 0 || novel || reached) && (await this.keep(program.source, !runs.some(pastLimit)));
  }

  /**
   * Keep a program (once per content); it is a parent for mutation in this same campaign unless `parent` is
   * false (a program that went past its limit: its mutants would too, and that costs a slot its limit and its
   * samples each time). True when written.
   */
  async keep(source: string, parent = true): Promise<boolean> {
    const digest = createHash('sha256').update(source).digest('hex');
    if (this.seenContent.has(digest)) return false;
    this.seenContent.add(digest);
    const file = path.join(this.dir, `${digest.slice(0, 16)}.py`);
    await writeFileAtomic(file, source);
    if (!this.moduleMode && parent) {
      const read = readScenario(source, file);
      if (read) this.parents.push(read);
    }
    return true;
  }
}
