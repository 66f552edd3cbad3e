// What the campaign runs next: program i of a seed, generated (broad or focused, as the scheduler plans),
// mutated from a corpus parent, or a module-mode program. The same seed and index give the same program
// while the corpus is the same.
import { generateModuleProgram, MODULE_GENERATOR, type ModuleSurface } from '../generators/moduleMode.js';
import { mutateProgram } from '../generators/mutators.js';
import { generateProgram } from '../generators/program.js';
import { generateSurfaceProgram, SURFACE_GENERATOR } from '../generators/surface/program.js';
import { generateRegistryProgram } from '../generators/surface/registries.js';
import { isWholeInterpreter, type Surface } from '../generators/surface/types.js';
import { Rng } from '../generators/rng.js';
import type { CampaignCorpus } from './corpus.js';
import type { CampaignSettings } from './settings.js';
import { creditOf, type Scheduler, type Shape } from './schedule.js';

/** Share of surface programs that write interpreter-wide registries (codecs, interning, contextvars, ...). */
const REGISTRY_SHARE = 0.1;

/** The leak harness a share of campaign programs runs with (`--leak-share`). */
const LEAK_ROUNDS = { rounds: 6, warmupRounds: 2 };

/** What the campaign runs: a program's source, where it came from, and the features corpus novelty counts. */
export interface Candidate {
  source: string;
  origin: Record<string, unknown>;
  features: string[];
  mutated: boolean;
  shape: Shape;
  /** The kinds and ops its yield is credited to. */
  credit: { kinds: string[]; ops: string[] };
  /** Runs with the leak harness (several rounds in one process). */
  leak: boolean;
  /** A surface program (crash-only; a failure that also shows with the GIL on is kept apart). */
  surface?: { type: string; shape: string; members: string[] };
}

export interface PlanOptions {
  /** The settings a plan reads (settings.ts, resolved). */
  settings: Pick<CampaignSettings, 'seed' | 'genOptions' | 'mutateShare' | 'leakShare' | 'surfaceShare'>;
  module?: ModuleSurface;
  /** The target's C surface: `surfaceShare` of programs are surface programs on it. */
  surface?: Surface;
  /** Weight of a (type, member) pair for the next surface program (the coverage's steering). */
  surfaceWeight?: (pair: string) => number;
}

export class ProgramPlan {
  constructor(
    private readonly o: PlanOptions,
    private readonly corpus: CampaignCorpus,
    private readonly scheduler: Scheduler,
  ) {}

  program(index: number): Candidate {
    const o = this.o;
    const { seed, genOptions } = o.settings;
    const rng = new Rng(`${seed}:program:${index}`);
    // Surface programs first: in module mode, on the module's own types (the same machinery, one module).
    if (o.surface && rng.fork('surface').bool(o.settings.surfaceShare)) return this.surfaceProgram(o.surface, index);
    if (o.module) {
      // Module mode gets the leak harness on the same share of programs (a C extension's leak is a
      // module-mode bug first).
      const leak = rng.bool(o.settings.leakShare);
      const program = generateModuleProgram(o.module, `${seed}-${index}`, leak ? LEAK_ROUNDS : {});
      return {
        source: program.source, origin: { generator: MODULE_GENERATOR, module: o.module.module, seed: `${seed}-${index}`, campaignSeed: seed }, features: program.calls, mutated: false,
        shape: 'broad', credit: { kinds: [o.module.module], ops: program.calls }, leak,
      };
    }
    const parents = this.corpus.parents;
    const parent = parents.length && rng.bool(o.settings.mutateShare) ? rng.pick(parents) : null;
    // A share of fresh programs runs the leak harness (several rounds in one process), so the leak
    // oracle is not inert in a default campaign; a choice of the campaign seed, recorded in the header.
    const leak = !parent && (genOptions.rounds ?? 1) <= 1 && rng.bool(o.settings.leakShare);
    const plan = parent ? null : this.scheduler.plan(rng.fork('shape'), genOptions);
    const program = parent
      ? mutateProgram(rng, parent, rng.int(1, 3), parents.length > 1 && rng.bool(0.2) ? rng.pick(parents).scenario : undefined)
      : generateProgram(`${seed}-${index}`, leak ? { ...plan?.options, ...LEAK_ROUNDS } : plan?.options);
    return {
      source: program.source,
      origin: { generator: program.meta.generator, seed: program.meta.seed, mutations: program.meta.mutations, campaignSeed: seed },
      features: program.meta.scenario.threadOps.flatMap((t) => t.ops.map((i) => i.op)),
      mutated: parent !== null,
      shape: parent ? 'mutated' : (plan?.shape ?? 'broad'),
      credit: creditOf(program.meta.scenario),
      leak,
    };
  }

  /** A generic shape on a type of the surface, steered toward the pairs no program has exercised yet. */
  private surfaceProgram(surface: Surface, index: number): Candidate {
    const o = this.o;
    const { seed } = o.settings;
    // A tenth of them, on the whole interpreter's surface, write its registries from threads instead.
    const registries = isWholeInterpreter(surface) && new Rng(`${seed}:registries:${index}`).bool(REGISTRY_SHARE);
    const program = registries ? generateRegistryProgram(`${seed}-${index}`, o.surfaceWeight) : generateSurfaceProgram(surface, `${seed}-${index}`, { weight: o.surfaceWeight });
    return {
      source: program.source, origin: { generator: SURFACE_GENERATOR, seed: `${seed}-${index}`, surfaceType: program.type, shape: program.shape, campaignSeed: seed },
      features: program.members.map((m) => `surface:${program.type}.${m}@${program.shape}`), mutated: false, shape: 'surface',
      credit: { kinds: [program.type], ops: program.members.map((m) => `${program.type}.${m}`) }, leak: false,
      surface: { type: program.type, shape: program.shape, members: program.members },
    };
  }
}
