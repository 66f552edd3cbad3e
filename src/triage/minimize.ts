// Delta debugging of a reproducer: smaller candidates are kept while the same bug still shows at the
// required rate. Generated programs are reduced through their scenario (drop threads, ops and objects,
// fewer iterations and rounds, no sleeps or gc) and re-rendered, so predictions are always recomputed and
// a reduction can never manufacture a lost write. Other programs are reduced through the AST (drop
// statements, shrink integer literals), read with the target's own `ast` module.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Constant, Module, Stmt } from '../generators/ast.js';
import { py } from '../generators/ast.js';
import { readProgramAst } from '../runtime/astBridge.js';
import { readScenario } from '../generators/mutators.js';
import { printModule } from '../generators/printer.js';
import { BARE_TAG, renderBare, renderProgram } from '../generators/program.js';
import type { GenOptions, Scenario } from '../generators/scenario.js';
import type { Oracle } from '../oracles/index.js';
import type { ResourceLimits } from '../runtime/limits.js';
import type { GilMode, Target } from '../types.js';
import { runTrials } from '../trials/trials.js';
import { signatureKind } from '../signature.js';

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

/** Greedy reduction: take the first candidate of a pass that passes the test, restart that pass, repeat to a fixpoint. */
export async function reduce<S>(initial: S, passes: ((s: S) => Iterable<S>)[], test: (s: S) => Promise<boolean | 'stop'>): Promise<{ best: S; stopped: boolean }> {
  let current = initial;
  for (let progress = true; progress; ) {
    progress = false;
    for (const pass of passes) {
      for (let again = true; again; ) {
        again = false;
        for (const candidate of pass(current)) {
          const verdict = await test(candidate);
          if (verdict === 'stop') return { best: current, stopped: true };
          if (verdict) {
            current = candidate;
            again = progress = true;
            break;
          }
        }
      }
    }
  }
  return { best: current, stopped: false };
}

/** Chunks of a list to remove, largest first (ddmin's granularity schedule). */
function* chunkRemovals<T>(list: readonly T[], keepAtLeast: number): Generator<T[]> {
  for (let size = Math.max(1, Math.floor(list.length / 2)); size >= 1; size = size === 1 ? 0 : Math.max(1, Math.floor(size / 2))) {
    for (let start = 0; start < list.length; start += size) {
      const rest = [...list.slice(0, start), ...list.slice(start + size)];
      if (rest.length >= keepAtLeast && rest.length < list.length) yield rest;
    }
  }
}

// ---- scenario reduction -------------------------------------------------------------------------

export interface ScenarioState {
  scenario: Scenario;
  options: GenOptions;
}

const clone = <T>(v: T): T => structuredClone(v);

export function scenarioPasses(): ((s: ScenarioState) => Iterable<ScenarioState>)[] {
  return [
    // Fewer threads (a race needs two).
    function* dropThreads({ scenario, options }) {
      if (scenario.threads <= 2) return;
      for (const ops of chunkRemovals(scenario.threadOps, 2)) yield { scenario: { ...clone(scenario), threads: ops.length, threadOps: clone(ops) }, options };
    },
    // Fewer ops per thread (every thread keeps one).
    function* dropOps({ scenario, options }) {
      for (let t = 0; t < scenario.threadOps.length; t++) {
        for (const ops of chunkRemovals(scenario.threadOps[t]?.ops ?? [], 1)) {
          const next = clone(scenario);
          (next.threadOps[t] as Scenario['threadOps'][number]).ops = clone(ops);
          yield { scenario: next, options };
        }
      }
    },
    // Fewer objects: one no op touches, or one together with its ops while every thread keeps an op.
    function* dropObjects({ scenario, options }) {
      if (scenario.objects.length <= 1) return;
      for (const o of scenario.objects) {
        const next = clone(scenario);
        next.objects = next.objects.filter((x) => x.v !== o.v);
        for (const t of next.threadOps) t.ops = t.ops.filter((i) => i.obj !== o.v);
        if (next.threadOps.every((t) => t.ops.length > 0)) yield { scenario: next, options };
      }
    },
    // Fewer iterations: 1 first, then halving.
    function* fewerIterations({ scenario, options }) {
      const n = scenario.iterations;
      for (const m of [1, Math.floor(n / 4), Math.floor(n / 2)]) if (m >= 1 && m < n) yield { scenario: { ...clone(scenario), iterations: m }, options };
    },
    // Fewer leak rounds (a leak needs some: the test decides how many).
    function* fewerRounds({ scenario, options }) {
      for (const r of [Math.floor(options.rounds / 2), options.rounds - 1]) {
        if (r < 1 || r >= options.rounds) continue;
        const warmupRounds = r === 1 ? 0 : Math.min(options.warmupRounds, r - 1);
        yield { scenario, options: { ...options, rounds: r, warmupRounds } };
      }
    },
    // Plainer: no sleeps, no gc, objects directly rather than through a container.
    function* simplify({ scenario, options }) {
      if (scenario.threadOps.some((t) => t.ops.some((i) => i.sleepAfter))) {
        const next = clone(scenario);
        for (const t of next.threadOps) for (const i of t.ops) i.sleepAfter = false;
        yield { scenario: next, options };
      }
      if (scenario.threadOps.some((t) => t.gcEvery !== null)) {
        const next = clone(scenario);
        for (const t of next.threadOps) t.gcEvery = null;
        yield { scenario: next, options };
      }
      for (const o of scenario.objects.filter((x) => x.viaContainer)) {
        const next = clone(scenario);
        for (const x of next.objects) if (x.v === o.v) x.viaContainer = false;
        yield { scenario: next, options };
      }
    },
  ];
}

// ---- AST reduction ------------------------------------------------------------------------------

/** Every statement list in the module, in a fixed order (the same order in a structured clone). */
function statementLists(module: Module): Stmt[][] {
  const out: Stmt[][] = [];
  const visit = (list: Stmt[]) => {
    out.push(list);
    for (const s of list) {
      switch (s._type) {
        case 'FunctionDef':
        case 'ClassDef':
        case 'With':
          visit(s.body);
          break;
        case 'For':
        case 'While':
        case 'If':
          visit(s.body);
          visit(s.orelse);
          break;
        case 'Try':
          visit(s.body);
          for (const h of s.handlers) visit(h.body);
          visit(s.orelse);
          visit(s.finalbody);
          break;
        default:
      }
    }
  };
  visit(module.body);
  return out;
}

function intOf(c: Constant): bigint {
  const v = c.value;
  return v !== null && typeof v === 'object' && '$int' in v ? BigInt(v.$int) : 0n;
}

/** Integer constants in the module (loop counts, sizes), in a fixed order. */
function intConstants(module: Module): Constant[] {
  const out: Constant[] = [];
  const walk = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
      return;
    }
    const n = node as { _type?: string; value?: unknown };
    if (n._type === 'Constant' && intOf(n as Constant) > 1n) out.push(n as Constant);
    for (const v of Object.values(node)) if (v && typeof v === 'object') walk(v);
  };
  walk(module.body);
  return out;
}

/** A `for t in threads: t.join()` loop: the end of the threads phase. */
function isJoinLoop(st: Stmt): boolean {
  if (st._type !== 'For' || st.body.length !== 1) return false;
  const only = st.body[0];
  return only?._type === 'Expr' && only.value._type === 'Call' && only.value.func._type === 'Attribute' && only.value.func.attr === 'join';
}

export function astPasses(): ((m: Module) => Iterable<Module>)[] {
  return [
    // A crash or hang happens while the threads run: everything after they are joined (accounting,
    // probes, checks, reports) is one candidate, tried before statement-by-statement removal.
    function* cutAfterJoin(module) {
      const lists = statementLists(module);
      for (let k = 0; k < lists.length; k++) {
        const list = lists[k] as Stmt[];
        const at = list.findIndex(isJoinLoop);
        if (at < 0 || at === list.length - 1) continue;
        const next = clone(module);
        (statementLists(next)[k] as Stmt[]).splice(at + 1);
        yield next;
      }
    },
    function* dropStatements(module) {
      const count = statementLists(module).length;
      for (let k = 0; k < count; k++) {
        const list = statementLists(module)[k] as Stmt[];
        // The module body may end up empty; a compound statement's body keeps at least `pass`.
        for (const rest of chunkRemovals(list, 0)) {
          if (rest.length === 1 && rest[0]?._type === 'Pass' && list.length === 1) continue;
          const next = clone(module);
          const target = statementLists(next)[k] as Stmt[];
          target.splice(0, target.length, ...(rest.length || k === 0 ? clone(rest) : [py.pass()]));
          yield next;
        }
      }
    },
    function* shrinkIntegers(module) {
      const count = intConstants(module).length;
      for (let k = 0; k < count; k++) {
        const v = intOf(intConstants(module)[k] as Constant);
        for (const m of [1n, v / 2n]) {
          if (m < 1n || m >= v) continue;
          const next = clone(module);
          (intConstants(next)[k] as Constant).value = { $int: m.toString() };
          yield next;
        }
      }
    },
  ];
}

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
