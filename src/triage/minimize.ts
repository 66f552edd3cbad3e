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
import { runTrials } from '../trials/trials.js';
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

// ---- driver -------------------------------------------------------------------------------------

export async function minimize(o: MinimizeOptions): Promise<MinimizeResult> {
  const started = performance.now();
  // Candidates live beside the reproducer (hidden names), so whatever it imports from its own directory
  // (a C extension copied into the bucket) imports for them too.
  const dir = path.dirname(path.resolve(o.file));
  const tag = `.ftfuzz-candidate-${process.pid}-${Date.now().toString(36)}`;
  const written = new Set<string>();
  const candidateFile = (n: number | string) => {
    const file = path.join(dir, `${tag}-${n}.py`);
    written.add(file);
    return file;
  };
  const cleanup = () => Promise.all([...written].map((f) => fs.rm(f, { force: true })));
  // A checked finding (lost write, differential, refcount, leak) in a hand-written program has no
  // scenario to recompute its prediction from: cutting statements could break the prediction instead of
  // keeping the bug. Such candidates must also pass under the GIL, where a race cannot show.
  const guarded = !symptomOnly(o.signature) && readScenario(o.source, o.file) === null;
  const tried = new Map<string, boolean>();
  let candidatesTried = 0;
  let accepted = 0;
  let stoppedBy: MinimizeResult['stoppedBy'] = 'fixpoint';
  const bytesBefore = Buffer.byteLength(o.source);
  const linesBefore = lines(o.source);
  // Baseline: the program as it is must reproduce at the required rate, or nothing can be judged.
  const baselineFile = candidateFile('baseline');
  await fs.writeFile(baselineFile, o.source);
  // The baseline runs in every mode of the finding.
  const base = await runTrials({ file: baselineFile, target: o.target, modes: o.modes, signature: o.signature, trials: o.trialsPerCandidate, enoughHits: o.requiredHits, timeoutMs: o.timeoutMs, limits: o.limits, oracles: o.oracles, signal: o.signal });
  // Candidates that run much longer than the reproducing original (a reduction can turn a crash into a
  // hang) are cut short. A hang bucket's candidates keep a hang's time limit, capped: the limit is not the
  // bug, and a hang candidate needs no more than a few seconds to show one: whether it is the same
  // deadlock or spin is decided by its sampled C stacks (a candidate that merely crawls samples as slow).
  // A crash or hang is one symptom whatever the mode: candidates run in the one mode the baseline showed
  // it most in (a hang shown in both modes cost two time limits per trial; some show with the GIL only).
  // Checked findings keep their modes: a differential can need both.
  const bestMode = [...o.modes].sort((a, b) => (base.hitsByMode[b] ?? 0) - (base.hitsByMode[a] ?? 0))[0];
  const modes = symptomOnly(o.signature) && bestMode !== undefined ? [bestMode] : o.modes;
  const candidateTimeoutMs = /^hang\|/.test(o.signature) ? Math.min(o.timeoutMs, HANG_CANDIDATE_MS) : Math.min(o.timeoutMs, Math.max(3000, 4 * base.slowestHitMs));
  const unchanged = (stopped: MinimizeResult['stoppedBy']): MinimizeResult => ({
    source: o.source, strategy: readScenario(o.source, o.file) ? 'scenario' : 'ast', bytesBefore, bytesAfter: bytesBefore, linesBefore, linesAfter: linesBefore,
    candidatesTried: 0, accepted: 0, stoppedBy: stopped, baseline: { trials: base.trials, hits: base.hits }, candidateTimeoutMs,
  });
  if (base.cancelled) {
    await cleanup();
    return unchanged('signal');
  }
  if (base.hits < o.requiredHits) {
    await cleanup();
    return unchanged('no-baseline');
  }
  const showsUnderGil = async (file: string) =>
    (await runTrials({ file, target: o.target, modes: ['gil-on'], signature: o.signature, trials: 1, timeoutMs: o.timeoutMs, limits: o.limits, oracles: o.oracles, signal: o.signal })).hits > 0;
  if (guarded && (!o.target.freeThreaded || (await showsUnderGil(baselineFile)))) {
    await cleanup();
    return unchanged('unsafe');
  }
  const test = async (source: string): Promise<boolean | 'stop'> => {
    if (o.signal?.aborted) return (stoppedBy = 'signal'), 'stop';
    if (performance.now() - started > o.budgetMs) return (stoppedBy = 'budget'), 'stop';
    const digest = createHash('sha256').update(source).digest('hex');
    const known = tried.get(digest);
    if (known !== undefined) return known;
    candidatesTried += 1;
    const file = candidateFile(candidatesTried);
    await fs.writeFile(file, source);
    const r = await runTrials({
      file,
      target: o.target,
      modes,
      signature: o.signature,
      trials: o.trialsPerCandidate,
      enoughHits: o.requiredHits,
      timeoutMs: candidateTimeoutMs,
      limits: o.limits,
      oracles: o.oracles,
      signal: o.signal,
    });
    const ok = r.hits >= o.requiredHits && !(guarded && (await showsUnderGil(file)));
    await fs.rm(file, { force: true });
    if (r.cancelled) return (stoppedBy = 'signal'), 'stop';
    tried.set(digest, ok);
    if (ok) {
      accepted += 1;
      o.log?.(`kept candidate ${candidatesTried}: ${source.length} bytes, ${lines(source)} lines (${r.hits}/${r.trials})`);
    }
    return ok;
  };

  async function astStage(source: string): Promise<string> {
    const before = accepted;
    const module = await readProgramAst(o.target, o.file, source);
    const header = ['ftfuzz: minimized', ''];
    const result = await reduce<Module>(module, astPasses(), (m) => test(printModule(m, header)));
    return accepted === before ? source : printModule(result.best, header);
  }

  try {
    const read = readScenario(o.source, o.file);
    let best: string;
    let strategy: MinimizeResult['strategy'];
    if (read) {
      strategy = 'scenario';
      const origin = (s: ScenarioState) => ({ seed: read.seed, options: s.options, mutations: ['minimized'] });
      const checked = (s: ScenarioState) => renderProgram(s.scenario, origin(s)).source;
      const bare = (s: ScenarioState) => renderBare(s.scenario, origin(s)).source;
      const initial: ScenarioState = { scenario: read.scenario, options: read.options };
      // A crash or hang does not need the checks: the bare render (a fifth of the size, and every
      // candidate after it runs faster) is the first candidate; if the bug shows without the checks,
      // the scenario is reduced in that shape.
      let render = checked;
      if (symptomOnly(o.signature)) {
        const isBare = o.source.split('\n').some((l) => l === `# ${BARE_TAG}`);
        const verdict = isBare ? true : await test(bare(initial));
        if (verdict === true) render = bare;
      }
      const result = await reduce<ScenarioState>(initial, scenarioPasses(), (s) => test(render(s)));
      // The unreduced program renders exactly as generated; keep the original when nothing was removed.
      best = accepted === 0 ? o.source : render(result.best);
      // A flaky bug can miss the one bare candidate by chance: the reduced scenario gets a second try.
      if (!result.stopped && render === checked && symptomOnly(o.signature) && (await test(bare(result.best))) === true) best = bare(result.best);
      // A crash, hang or SystemError does not depend on the checks, so the fixed scaffolding (token
      // accounting, probes, reporting) can go too. Checked findings stay scenario-reduced only: cutting
      // statements could manufacture a lost write.
      if (!result.stopped && symptomOnly(o.signature)) {
        strategy = 'scenario+ast';
        best = await astStage(best);
      }
    } else {
      strategy = 'ast';
      best = await astStage(o.source);
    }
    return {
      source: best,
      strategy,
      bytesBefore,
      bytesAfter: Buffer.byteLength(best),
      linesBefore,
      linesAfter: lines(best),
      candidatesTried,
      accepted,
      stoppedBy,
      baseline: { trials: base.trials, hits: base.hits },
      candidateTimeoutMs,
    };
  } finally {
    await cleanup();
  }
}
