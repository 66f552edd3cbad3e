// Delta debugging of a reproducer: smaller candidates are kept while the same bug still shows at the
// required rate. Generated programs are reduced through their scenario (drop threads, ops and objects,
// fewer iterations and rounds, no sleeps or gc) and re-rendered, so predictions are always recomputed and
// a reduction can never manufacture a lost write. Other programs are reduced through the AST (drop
// statements, shrink integer literals), read with the target's own `ast` module.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Module } from '../generators/ast.js';
import { readProgramAst } from '../runtime/astBridge.js';
import { readScenario } from '../generators/mutators.js';
import { printModule } from '../generators/printer.js';
import { BARE_TAG, renderBare } from '../generators/bare.js';
import { renderProgram } from '../generators/program.js';
import type { Oracle } from '../oracles/index.js';
import type { ResourceLimits } from '../runtime/limits.js';
import type { GilMode, Target } from '../types.js';
import { runTrials, type TrialResult } from '../trials/trials.js';
import { signatureKind } from '../signature.js';
import { astPasses, reduce, scenarioPasses, type ScenarioState } from './reducePasses.js';

export { astPasses, reduce, scenarioPasses, type ScenarioState } from './reducePasses.js';

export interface MinimizeOptions {
  /** The reproducer's path (for messages and the AST bridge). */
  file: string;
  source: string;
  target: Target;
  modes: GilMode[];
  signature: string;
  /** Runs per candidate. */
  trialsPerCandidate: number;
  /** Hits a candidate needs out of `trialsPerCandidate` to be kept. */
  requiredHits: number;
  timeoutMs: number;
  budgetMs: number;
  limits?: ResourceLimits;
  oracles?: Oracle[];
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface MinimizeResult {
  source: string;
  /** `scenario` for generated programs, `ast` for any other program. */
  strategy: 'scenario' | 'scenario+ast' | 'ast';
  bytesBefore: number;
  bytesAfter: number;
  linesBefore: number;
  linesAfter: number;
  candidatesTried: number;
  accepted: number;
  stoppedBy: 'fixpoint' | 'budget' | 'signal' | 'no-baseline' | 'unsafe';
  /** The unreduced program's own trials: it must reproduce before anything is reduced. */
  baseline: { trials: number; hits: number };
  /** Per-run timeout used for candidates. */
  candidateTimeoutMs: number;
}

const lines = (s: string) => s.split('\n').filter((l) => l.trim() && !l.trimStart().startsWith('#')).length;

/** The time limit of a hang bucket's candidates (the bucket's own limit when it is lower). */
const HANG_CANDIDATE_MS = 3000;

/** Findings whose signature is a symptom (the interpreter died, hung or raised SystemError), not a check. */
const symptomOnly = (signature: string): boolean => signatureKind(signature)?.symptomOnly === true;

// ---- candidates ---------------------------------------------------------------------------------

/**
 * The candidates of one reduction: each written beside the reproducer (hidden names, so whatever it imports
 * from its own directory, a C extension copied into the bucket, imports for them too), run until it shows
 * the bug at the required rate or cannot, and remembered by digest. It owns the counts the result reports.
 */
class Candidates {
  tried = 0;
  accepted = 0;
  stoppedBy: MinimizeResult['stoppedBy'] = 'fixpoint';
  /** Modes and time limit of candidates, set from the baseline (`calibrate`). */
  modes: GilMode[];
  timeoutMs: number;
  private readonly verdicts = new Map<string, boolean>();
  private readonly written = new Set<string>();
  private readonly tag = `.ftfuzz-candidate-${process.pid}-${Date.now().toString(36)}`;
  private readonly started = performance.now();

  /** `guarded`: a candidate must also pass under the GIL (see `minimize`). */
  constructor(
    private readonly o: MinimizeOptions,
    readonly guarded: boolean,
  ) {
    this.modes = o.modes;
    this.timeoutMs = o.timeoutMs;
  }

  file(n: number | string): string {
    const file = path.join(path.dirname(path.resolve(this.o.file)), `${this.tag}-${n}.py`);
    this.written.add(file);
    return file;
  }

  async cleanup(): Promise<void> {
    await Promise.all([...this.written].map((f) => fs.rm(f, { force: true })));
  }

  /** The unreduced program, in every mode of the finding: it must reproduce before anything is reduced. */
  async baseline(): Promise<TrialResult> {
    const file = this.file('baseline');
    await fs.writeFile(file, this.o.source);
    const o = this.o;
    const base = await runTrials({ file, target: o.target, modes: o.modes, signature: o.signature, trials: o.trialsPerCandidate, enoughHits: o.requiredHits, timeoutMs: o.timeoutMs, limits: o.limits, oracles: o.oracles, signal: o.signal });
    this.calibrate(base);
    return base;
  }

  /**
   * Candidates that run much longer than the reproducing original (a reduction can turn a crash into a
   * hang) are cut short. A hang bucket's candidates keep a hang's time limit, capped: the limit is not the
   * bug, and a hang candidate needs no more than a few seconds to show one: whether it is the same deadlock
   * or spin is decided by its sampled C stacks (a candidate that merely crawls samples as slow). A crash or
   * hang is one symptom whatever the mode: candidates run in the one mode the baseline showed it most in (a
   * hang shown in both modes cost two time limits per trial; some show with the GIL only). Checked findings
   * keep their modes: a differential can need both.
   */
  private calibrate(base: TrialResult): void {
    const o = this.o;
    const bestMode = [...o.modes].sort((a, b) => (base.hitsByMode[b] ?? 0) - (base.hitsByMode[a] ?? 0))[0];
    this.modes = symptomOnly(o.signature) && bestMode !== undefined ? [bestMode] : o.modes;
    this.timeoutMs = /^hang\|/.test(o.signature) ? Math.min(o.timeoutMs, HANG_CANDIDATE_MS) : Math.min(o.timeoutMs, Math.max(3000, 4 * base.slowestHitMs));
  }

  async showsUnderGil(file: string): Promise<boolean> {
    const o = this.o;
    return (await runTrials({ file, target: o.target, modes: ['gil-on'], signature: o.signature, trials: 1, timeoutMs: o.timeoutMs, limits: o.limits, oracles: o.oracles, signal: o.signal })).hits > 0;
  }

  /** Whether `source` still shows the bug; 'stop' once the budget is spent or the run was stopped. */
  async test(source: string): Promise<boolean | 'stop'> {
    const o = this.o;
    if (o.signal?.aborted) return (this.stoppedBy = 'signal'), 'stop';
    if (performance.now() - this.started > o.budgetMs) return (this.stoppedBy = 'budget'), 'stop';
    const digest = createHash('sha256').update(source).digest('hex');
    const known = this.verdicts.get(digest);
    if (known !== undefined) return known;
    this.tried += 1;
    const file = this.file(this.tried);
    await fs.writeFile(file, source);
    const r = await runTrials({
      file, target: o.target, modes: this.modes, signature: o.signature, trials: o.trialsPerCandidate, enoughHits: o.requiredHits,
      timeoutMs: this.timeoutMs, limits: o.limits, oracles: o.oracles, signal: o.signal,
    });
    const ok = r.hits >= o.requiredHits && !(this.guarded && (await this.showsUnderGil(file)));
    await fs.rm(file, { force: true });
    if (r.cancelled) return (this.stoppedBy = 'signal'), 'stop';
    this.verdicts.set(digest, ok);
    if (ok) {
      this.accepted += 1;
      o.log?.(`kept candidate ${this.tried}: ${source.length} bytes, ${lines(source)} lines (${r.hits}/${r.trials})`);
    }
    return ok;
  }
}

// ---- driver -------------------------------------------------------------------------------------

export async function minimize(o: MinimizeOptions): Promise<MinimizeResult> {
  // A checked finding (lost write, differential, refcount, leak) in a hand-written program has no
  // scenario to recompute its prediction from: cutting statements could break the prediction instead of
  // keeping the bug. Such candidates must also pass under the GIL, where a race cannot show.
  const read = readScenario(o.source, o.file);
  const candidates = new Candidates(o, !symptomOnly(o.signature) && read === null);
  try {
    const base = await candidates.baseline();
    const result = (source: string, strategy: MinimizeResult['strategy'], stoppedBy = candidates.stoppedBy): MinimizeResult => ({
      source, strategy, bytesBefore: Buffer.byteLength(o.source), bytesAfter: Buffer.byteLength(source), linesBefore: lines(o.source), linesAfter: lines(source),
      candidatesTried: candidates.tried, accepted: candidates.accepted, stoppedBy, baseline: { trials: base.trials, hits: base.hits }, candidateTimeoutMs: candidates.timeoutMs,
    });
    const unchanged = (stopped: MinimizeResult['stoppedBy']) => result(o.source, read ? 'scenario' : 'ast', stopped);
    if (base.cancelled) return unchanged('signal');
    if (base.hits < o.requiredHits) return unchanged('no-baseline');
    if (candidates.guarded && (!o.target.freeThreaded || (await candidates.showsUnderGil(candidates.file('baseline'))))) return unchanged('unsafe');
    if (!read) return result(await astStage(o, candidates, o.source), 'ast');
    const reduced = await scenarioStage(o, candidates, read);
    // A crash, hang or SystemError does not depend on the checks, so the fixed scaffolding (token
    // accounting, probes, reporting) can go too. Checked findings stay scenario-reduced only: cutting
    // statements could manufacture a lost write.
    if (!reduced.stopped && symptomOnly(o.signature)) return result(await astStage(o, candidates, reduced.source), 'scenario+ast');
    return result(reduced.source, 'scenario');
  } finally {
    await candidates.cleanup();
  }
}

/** Statements dropped and literals shrunk through the target's own `ast` module; the source itself when nothing was kept. */
async function astStage(o: MinimizeOptions, candidates: Candidates, source: string): Promise<string> {
  const before = candidates.accepted;
  const module = await readProgramAst(o.target, o.file, source);
  const header = ['ftfuzz: minimized', ''];
  const result = await reduce<Module>(module, astPasses(), (m) => candidates.test(printModule(m, header)));
  return candidates.accepted === before ? source : printModule(result.best, header);
}

/** A generated program reduced through its scenario and re-rendered, so predictions are always recomputed. */
async function scenarioStage(o: MinimizeOptions, candidates: Candidates, read: NonNullable<ReturnType<typeof readScenario>>): Promise<{ source: string; stopped: boolean }> {
  const origin = (s: ScenarioState) => ({ seed: read.seed, options: s.options, mutations: ['minimized'] });
  const checked = (s: ScenarioState) => renderProgram(s.scenario, origin(s)).source;
  const bare = (s: ScenarioState) => renderBare(s.scenario, origin(s)).source;
  const initial: ScenarioState = { scenario: read.scenario, options: read.options };
  // A crash or hang does not need the checks: the bare render (a fifth of the size, and every candidate
  // after it runs faster) is the first candidate; if the bug shows without the checks, the scenario is
  // reduced in that shape.
  let render = checked;
  if (symptomOnly(o.signature)) {
    const isBare = o.source.split('\n').some((l) => l === `# ${BARE_TAG}`);
    const verdict = isBare ? true : await candidates.test(bare(initial));
    if (verdict === true) render = bare;
  }
  const result = await reduce<ScenarioState>(initial, scenarioPasses(), (s) => candidates.test(render(s)));
  // The unreduced program renders exactly as generated; keep the original when nothing was removed.
  let best = candidates.accepted === 0 ? o.source : render(result.best);
  // A flaky bug can miss the one bare candidate by chance: the reduced scenario gets a second try.
  if (!result.stopped && render === checked && symptomOnly(o.signature) && (await candidates.test(bare(result.best))) === true) best = bare(result.best);
  return { source: best, stopped: result.stopped };
}
