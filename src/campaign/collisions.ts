// Collision coverage: what a campaign on a coverage build learns from each program's C edges.
//
// Two signals, per program: new edges (C code of the interpreter no earlier program of the campaign
// reached), and new witnesses (runtime/witnesses.ts: code that runs when another thread got in the way).
// A witness edge counts for a program when its GIL-off runs reached it and its GIL-on runs did not: the
// same code on the same objects, with the threads kept apart, is the baseline (a thread re-entering its
// own object's critical section takes the same slow path, with or without the GIL). Without a GIL-on run
// (a gil-off campaign, or a crash there) the baseline is the build's single-threaded calibration alone
// (nativeCoverage.ts aloneEdges, always subtracted). A witness is attributed to the object kinds the program shared: a
// counter-based build has no stacks, so the program's kinds stand for "the object implementation on the
// stack"; a (witness, kind) pair no earlier program reached is what counts as new. The campaign keeps such
// programs in its corpus and rewards their kinds and ops (schedule.ts).
import { edgeRange, hasEdge, type CoverageMap, type ObjectEdges } from '../runtime/nativeCoverage.js';
import { witnessWhat } from '../runtime/witnesses.js';
import type { RunResult } from '../types.js';

/** Where an edge's function is: the interpreter's C directories, an extension module, or elsewhere. */
export type Area = 'Objects' | 'Python' | 'Modules' | 'Parser' | 'Include' | 'extension' | 'other';

export interface CollisionStats {
  /** Edges of the build's map (the interpreter and the extension modules it loaded when mapped). */
  edgesTotal: number;
  /** Edges reached by any program of the campaign. */
  edgesSeen: number;
  /** Per area: edges reached, of how many. */
  byArea: Record<string, { seen: number; total: number }>;
  /** Programs whose runs wrote coverage (a crashed run writes none). */
  programs: number;
  /** Programs that reached a witness with the GIL off. */
  programsWithWitness: number;
  /** Per witness rule: programs that reached it, and the kinds it was reached on. */
  witnesses: { id: string; what: string; programs: number; kinds: string[] }[];
  /** (witness, kind) pairs reached: the collision coverage count. */
  witnessPairs: number;
  /** Witness edges this build reaches in a single-threaded program (never counted), per rule. */
  reachedAlone: Record<string, number>;
}

export interface ProgramCollisions {
  newEdges: number;
  /** (witness, kind) pairs this program reached first. */
  newWitnesses: number;
  /** Witness rules it reached with the GIL off. */
  witnesses: string[];
}

function areaOf(file: string, object: string, executable: string): Area {
  if (object !== executable && !/\/lib-dynload\//.test(object)) return 'extension';
  const top = file.split('/')[0];
  return top === 'Objects' || top === 'Python' || top === 'Modules' || top === 'Parser' || top === 'Include' ? top : 'other';
}

export class CollisionCoverage {
  private readonly seen = new Map<string, Uint8Array>();
  private readonly witness: Map<string, Map<number, string>>;
  private readonly pairs = new Map<string, Set<string>>();
  private readonly rulePrograms = new Map<string, number>();
  private readonly areaTotal = new Map<Area, number>();
  private readonly areaSeen = new Map<Area, number>();
  /** Per object: the area of each edge (computed once per object, on first sight). */
  private readonly areas = new Map<string, Uint8Array>();
  private readonly areaNames: Area[] = ['Objects', 'Python', 'Modules', 'Parser', 'Include', 'extension', 'other'];
  private edgesSeen = 0;
  private programs = 0;
  private programsWithWitness = 0;
  private extraTotal = 0;

  /** The build's witness rules, and its witness edges a single thread reaches, per rule: fixed by the build. */
  private readonly rules: string[];
  private readonly alone: Record<string, number> = {};

  constructor(private readonly map: CoverageMap) {
    this.witness = map.witnessEdges();
    this.rules = map.witnessRules();
    const all = map.witnessEdges(true);
    for (const a of map.file.aloneEdges) {
      for (const e of a.edges) {
        const rule = all.get(a.object)?.get(e);
        if (rule) this.alone[rule] = (this.alone[rule] ?? 0) + 1;
      }
    }
    for (const o of map.file.objects) {
      const areas = this.areasOf(o.object);
      for (const a of areas) this.areaTotal.set(this.areaNames[a] as Area, (this.areaTotal.get(this.areaNames[a] as Area) ?? 0) + 1);
    }
  }

  private areasOf(object: string): Uint8Array {
    let out = this.areas.get(object);
    if (out) return out;
    const o = this.map.object(object);
    out = new Uint8Array(o?.edges ?? 0);
    if (o) {
      o.functions.forEach((f, i) => {
        out?.fill(this.areaNames.indexOf(areaOf(f.file, object, this.map.file.executable)), ...edgeRange(o, i));
      });
    }
    this.areas.set(object, out);
    return out;
  }

  /** One program's runs: their edges into the campaign's, their witnesses attributed to `kinds`. */
  record(runs: readonly RunResult[], kinds: readonly string[]): ProgramCollisions {
    const dumps = runs.filter((r) => r.edges !== undefined);
    if (dumps.length === 0) return { newEdges: 0, newWitnesses: 0, witnesses: [] };
    this.programs += 1;
    let newEdges = 0;
    const off = new Map<string, string>();
    const on = new Set<string>();
    for (const run of dumps) {
      for (const o of run.edges as ObjectEdges[]) {
        newEdges += this.merge(o);
        const w = this.witness.get(o.object);
        if (!w) continue;
        for (const [e, rule] of w) {
          if (!hasEdge(o, e)) continue;
          if (run.modeRequested === 'gil-off') off.set(`${o.object}\0${e}`, rule);
          else on.add(`${o.object}\0${e}`);
        }
      }
    }
    const reached = new Set([...off].filter(([edge]) => !on.has(edge)).map(([, rule]) => rule));
    let newWitnesses = 0;
    for (const rule of reached) {
      this.rulePrograms.set(rule, (this.rulePrograms.get(rule) ?? 0) + 1);
      const pairs = this.pairs.get(rule) ?? new Set<string>();
      this.pairs.set(rule, pairs);
      for (const k of new Set(kinds.length ? kinds : ['?'])) {
        if (pairs.has(k)) continue;
        pairs.add(k);
        newWitnesses += 1;
      }
    }
    if (reached.size) this.programsWithWitness += 1;
    return { newEdges, newWitnesses, witnesses: [...reached].sort() };
  }

  /** An object's flags into the campaign's; the edges new to it. */
  private merge(o: ObjectEdges): number {
    let seen = this.seen.get(o.object);
    if (!seen) {
      seen = new Uint8Array(Math.ceil(o.edges / 8));
      this.seen.set(o.object, seen);
      if (!this.map.object(o.object)) this.extraTotal += o.edges; // an object loaded after the map was made
    }
    const areas = this.areasOf(o.object);
    let added = 0;
    const n = Math.min(seen.length, o.bits.length);
    for (let i = 0; i < n; i++) {
      const fresh = (o.bits[i] as number) & ~(seen[i] as number);
      if (fresh === 0) continue;
      seen[i] = (seen[i] as number) | fresh;
      for (let b = 0; b < 8; b++) {
        if (!((fresh >> b) & 1)) continue;
        added += 1;
        const e = i * 8 + b;
        const area = e < areas.length ? (this.areaNames[areas[e] as number] as Area) : 'extension';
        this.areaSeen.set(area, (this.areaSeen.get(area) ?? 0) + 1);
      }
    }
    this.edgesSeen += added;
    return added;
  }

  stats(): CollisionStats {
    const byArea: CollisionStats['byArea'] = {};
    for (const a of this.areaNames) {
      const total = (this.areaTotal.get(a) ?? 0) + (a === 'extension' ? this.extraTotal : 0);
      if (total > 0) byArea[a] = { seen: this.areaSeen.get(a) ?? 0, total };
    }
    const witnesses = this.rules.map((id) => ({ id, what: witnessWhat(id), programs: this.rulePrograms.get(id) ?? 0, kinds: [...(this.pairs.get(id) ?? [])].sort() }));
    return {
      edgesTotal: this.map.total + this.extraTotal,
      edgesSeen: this.edgesSeen,
      byArea,
      programs: this.programs,
      programsWithWitness: this.programsWithWitness,
      witnesses,
      witnessPairs: witnesses.reduce((n, w) => n + w.kinds.length, 0),
      reachedAlone: { ...this.alone },
    };
  }
}
