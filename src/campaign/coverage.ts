// Surface coverage: which (type, member, shape) triples of the interpreter's C surface two or more threads
// returned from on the same shared object with the GIL off (each surface program reports them; its GIL-on
// runs count for nothing: no two threads ran at once); the denominator is every (type, member) pair a
// surface program can exercise (coverablePairs: methods of any arity, dunder slots, may-block calls that
// take a timeout, types made by factories). Pairs not yet exercised weigh more when the next surface
// program picks its type and members.
import { coverablePairs } from '../generators/surface/program.js';
import { REGISTRY_PAIRS } from '../generators/surface/registries.js';
import { isWholeInterpreter, type Surface } from '../generators/surface/types.js';
import type { RunResult } from '../types.js';

/** `module.Type` of a `module.Type.member` pair. */
const typeOf = (pair: string): string => pair.slice(0, pair.lastIndexOf('.'));

/** Weight of a pair no program has exercised yet, against 1 for one already exercised. */
const UNEXERCISED_WEIGHT = 8;

export interface SurfaceCoverageStats {
  /** Coverable (type, member) pairs: members and protocol slots of the types a shape applies to. */
  pairs: number;
  pairsExercised: number;
  /** Distinct (type, member, shape) triples exercised. */
  triples: number;
  types: number;
  typesExercised: number;
  /** Surface programs run, and those whose failure also showed with the GIL on (kept apart). */
  programs: number;
  gilOnFailures: number;
  /** The pairs no program has exercised yet (what a longer campaign, or a better constructor, would reach). */
  unexercised: string[];
}

/** A program's runs, GIL-off ones first: what a program reports of itself is read from a run whose threads ran concurrently. */
function gilOffFirst(runs: readonly RunResult[]): RunResult[] {
  return [...runs.filter((r) => r.modeRequested === 'gil-off'), ...runs.filter((r) => r.modeRequested !== 'gil-off')];
}

export class SurfaceCoverage {
  private readonly pairs: Set<string>;
  private readonly exercised = new Set<string>();
  private readonly triples = new Set<string>();
  private readonly types: Set<string>;
  programs = 0;
  gilOnFailures = 0;

  /** The registries count too when the surface is the whole interpreter's (it includes builtins). */
  constructor(surface: Pick<Surface, 'types'> & { modules?: readonly string[] }) {
    this.pairs = new Set([...coverablePairs(surface), ...(isWholeInterpreter(surface) ? REGISTRY_PAIRS : [])]);
    this.types = new Set([...this.pairs].map(typeOf));
  }

  /** The members the GIL-off runs report as exercised (`surface` records): only there did threads run at once. */
  record(runs: readonly RunResult[]): void {
    this.programs += 1;
    const report = runs.filter((r) => r.modeRequested === 'gil-off').flatMap((r) => r.records).find((x) => x.type === 'surface');
    if (!report || typeof report.type_key !== 'string' || typeof report.shape !== 'string' || !Array.isArray(report.exercised)) return;
    for (const member of report.exercised) {
      if (typeof member !== 'string') continue;
      const pair = `${report.type_key}.${member}`;
      if (!this.pairs.has(pair)) continue;
      this.exercised.add(pair);
      this.triples.add(`${pair}@${report.shape}`);
    }
  }

  weight = (pair: string): number => (this.exercised.has(pair) ? 1 : UNEXERCISED_WEIGHT);

  stats(): SurfaceCoverageStats {
    return {
      pairs: this.pairs.size, pairsExercised: this.exercised.size, triples: this.triples.size, types: this.types.size, typesExercised: new Set([...this.exercised].map(typeOf)).size,
      programs: this.programs, gilOnFailures: this.gilOnFailures, unexercised: [...this.pairs].filter((p) => !this.exercised.has(p)).sort(),
    };
  }
}

/** Module mode's calls (`Class.method`, `module.function(target)`): generated, and exercised (returned at least once). */
export interface ModuleCallStats {
  generated: string[];
  exercised: string[];
}

/** What module-mode programs called, from their `module-calls` records (GIL-off runs first: they ran concurrently). */
export class ModuleCallCoverage {
  private readonly generated = new Set<string>();
  private readonly exercised = new Set<string>();

  record(runs: readonly RunResult[], calls: readonly string[]): void {
    for (const c of calls) this.generated.add(c);
    const ordered = gilOffFirst(runs);
    for (const report of ordered.flatMap((r) => r.records).filter((x) => x.type === 'module-calls')) {
      if (!Array.isArray(report.calls) || !Array.isArray(report.ok)) continue;
      report.calls.forEach((label: unknown, i: number) => {
        const ok = (report.ok as unknown[])[i];
        if (typeof label === 'string' && typeof ok === 'number' && ok > 0) this.exercised.add(label);
      });
    }
  }

  stats(): ModuleCallStats {
    return { generated: [...this.generated].sort(), exercised: [...this.exercised].sort() };
  }
}
