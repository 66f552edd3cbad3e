// A C extension's free-threading readiness, from a module-mode campaign (`ftfuzz fuzz --module NAME`): what
// an author acts on. Whether the extension declares it can run without the GIL (Py_mod_gil), what the
// campaign exercised of it, and each family it found, with the pair of functions that raced or the frames
// that crashed, where they lie (the extension, CPython, or both) and the reproducer to run.
import { FINDING_KINDS, findingKind } from '../findingKinds.js';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ModuleSurface } from '../generators/moduleMode.js';
import type { CrashStore } from '../store/crashStore.js';
import { formatBucketRate } from './triage.js';
import { terminalSafe } from '../text.js';
import type { FindingKind, NativeEvidence, Target } from '../types.js';
import { parseTsanStacks } from '../oracles/raceOracle.js';
import { extensionFiles, isTsanInstrumented } from '../runtime/venv.js';

/** What readiness reads of a campaign's figures (campaign/stats.ts CampaignStats has them). */
export interface ReadinessInput {
  families: { label: string; kind: FindingKind; buckets: string[] }[];
  moduleCalls?: { generated: string[]; exercised: string[] };
  surface?: { types: number; typesExercised: number; pairs: number; pairsExercised: number };
  elapsedMs: number;
}

export type ReadinessVerdict = 'clean' | 'found' | 'nothing-exercised';

export interface ReadinessFamily {
  label: string;
  kind: FindingKind;
  buckets: string[];
  /** The racing pair (races) or innermost C frames (crashes, hangs) of its first bucket. */
  frames: string[];
  /**
   * Where the frames lie: the extension's own code, CPython's, both, CPython's reached through the extension
   * (its stacks pass through the extension: a list the extension shares unlocked, say), or none (Python level).
   */
  where: 'extension' | 'cpython' | 'both' | 'via-extension' | 'python';
  title: string;
  rate: string;
  /** The reproducer to run (the minimized one when there is one). */
  reproducer: string;
  reproduce: string;
}

export interface ReadinessReport {
  module: string;
  /**
   * true: importing it kept the GIL off (it was off before and is off after); false: the import turned it on;
   * null: the GIL was already on before the import (nothing could be kept off), or it was not read.
   */
  gilKeptOff: boolean | null;
  /** `sys._is_gil_enabled()` just before and just after the import, as introspection saw them (null: not read). */
  gilBefore: boolean | null;
  gilAfter: boolean | null;
  targets: { label: string; extensions: { file: string; tsanInstrumented: boolean | null }[] }[];
  calls: { generated: number; exercised: number; notExercised: string[] };
  surface: { types: number; typesExercised: number; pairs: number; pairsExercised: number } | null;
  families: ReadinessFamily[];
  verdict: ReadinessVerdict;
  elapsedMs: number;
}

/** Where a finding's frames lie: a frame of the extension is labelled `func [module]` (raceOracle) or sits in a file of the extension. */
export function frameScope(frames: readonly string[], extensionNames: readonly string[]): ReadinessFamily['where'] {
  if (!frames.length) return 'python';
  // `func [module]` (a race frame of a shared object that is not CPython's), a frame naming one of its files,
  // or a crash frame `func (path:line)` whose source is not CPython's tree (c-ext/compressionwriter.c:171).
  const cpythonSource = /\((?:\.\/)?(?:Objects|Python|Modules|Include|Parser|Programs)\/[^)]*\)/;
  const own = (f: string) => /\[[^\]]+\]/.test(f) || extensionNames.some((n) => n && f.includes(n)) || (/\([^()]+\.(c|cc|cpp|h|pyx):\d+\)/.test(f) && !cpythonSource.test(f));
  const ours = frames.filter(own).length;
  return ours === 0 ? 'cpython' : ours === frames.length ? 'extension' : 'both';
}

/** The readiness of `surface.module` after a campaign on `targets` whose buckets are in `store`. */
export async function readinessOf(o: { surface: ModuleSurface; stats: ReadinessInput; store: CrashStore; targets: Target[] }): Promise<ReadinessReport> {
  const targets: ReadinessReport['targets'] = [];
  for (const t of o.targets) {
    const files = await extensionFiles(t, o.surface.module).catch(() => [] as string[]);
    const extensions = [];
    for (const file of files) extensions.push({ file, tsanInstrumented: t.sanitizers.includes('thread') ? await isTsanInstrumented(file).catch(() => null) : null });
    targets.push({ label: t.label, extensions });
  }
  const names = [...new Set(targets.flatMap((t) => t.extensions.map((e) => path.basename(e.file).split('.')[0] as string)))];
  const files = [...new Set(targets.flatMap((t) => t.extensions.map((e) => path.basename(e.file))))];
  const families: ReadinessFamily[] = [];
  for (const f of o.stats.families) {
    const bucket = f.buckets[0];
    const meta = bucket ? await o.store.read(bucket).catch(() => null) : null;
    const frames = meta?.native?.frames ?? [];
    let where = frameScope(frames.slice(0, 2), names);
    if (where === 'cpython' && bucket && meta && (await passesThroughExtension(o.store.dir(bucket), meta.kind, files))) where = 'via-extension';
    families.push({
      label: f.label, kind: f.kind, buckets: f.buckets, frames, where, title: meta?.title ?? f.label,
      rate: meta ? formatBucketRate(meta) : 'not measured',
      reproducer: bucket ? path.join(o.store.dir(bucket), meta?.minimized ? 'repro.min.py' : 'repro.py') : '',
      reproduce: meta?.reproduce ?? '',
    });
  }
  const calls = o.stats.moduleCalls ?? { generated: [], exercised: [] };
  const s = o.stats.surface;
  const exercised = calls.exercised.length + (s?.pairsExercised ?? 0);
  return {
    module: o.surface.module,
    gilKeptOff: o.surface.gil_after === undefined || o.surface.gil_before !== false ? null : o.surface.gil_after === false,
    gilBefore: o.surface.gil_before ?? null,
    gilAfter: o.surface.gil_after ?? null,
    targets,
    calls: { generated: calls.generated.length, exercised: calls.exercised.length, notExercised: calls.generated.filter((c) => !calls.exercised.includes(c)) },
    surface: s ? { types: s.types, typesExercised: s.typesExercised, pairs: s.pairs, pairsExercised: s.pairsExercised } : null,
    families,
    // A family found is a finding whatever else: exit 1, never "nothing exercised" (a crash on import is exercised enough).
    verdict: families.length ? 'found' : exercised === 0 ? 'nothing-exercised' : 'clean',
    elapsedMs: o.stats.elapsedMs,
  };
}

/**
 * Whether a bucket's stacks pass through the extension's code: a frame of its shared objects (by file name)
 * in a race's access stacks (TSan names each frame's module), or in the crashed thread's (or a hung
 * thread's) C stack (gdb names each frame's library). Frames, never the text of stack.txt (the module's
 * name appears there in Python frames and paths).
 */
export async function passesThroughExtension(dir: string, kind: FindingKind, files: readonly string[]): Promise<boolean> {
  if (files.length === 0) return false;
  const ours = (object: string | null | undefined) => object !== null && object !== undefined && files.includes(path.basename(object));
  if (FINDING_KINDS[kind].stacks === 'tsan') {
    const stacks = parseTsanStacks(await fs.readFile(path.join(dir, 'stack.txt'), 'utf8').catch(() => ''));
    return stacks.some((s) => s.frames.some((f) => ours(f.module)));
  }
  let evidence: { native?: NativeEvidence } | null = null;
  try {
    evidence = JSON.parse(await fs.readFile(path.join(dir, 'evidence.json'), 'utf8')) as { native?: NativeEvidence };
  } catch {
    return false;
  }
  const sample = evidence?.native?.samples.at(-1);
  const threads = evidence?.native?.source === 'core' ? sample?.threads.filter((t) => t.lwp === evidence?.native?.faultingLwp) : sample?.threads;
  return (threads ?? []).some((t) => t.frames.some((f) => ours(f.lib)));
}

const WHERE: Record<ReadinessFamily['where'], string> = { extension: 'in the extension', cpython: 'in CPython', both: 'extension and CPython', 'via-extension': 'CPython, via extension', python: 'Python level' };

/** The report as an author reads it in a terminal. */
export function formatReadiness(r: ReadinessReport): string {
  const hasC = r.targets.some((t) => t.extensions.length > 0);
  const state = (on: boolean | null) => (on === null ? 'not read' : on ? 'on' : 'off');
  const what = r.gilKeptOff === null ? (r.gilBefore === true ? 'already on before the import, so the import cannot be judged' : 'unknown') : !r.gilKeptOff ? 'turned ON by the import: a C module of it does not declare Py_mod_gil_not_used (fuzzed with PYTHON_GIL=0 anyway)' : hasC ? 'kept off on import: its C modules declare Py_mod_gil_not_used' : 'kept off on import: no C module (pure Python)';
  const gil = `${what} (before the import: ${state(r.gilBefore)}; after: ${state(r.gilAfter)})`;
  const lines = [
    `readiness of ${r.module}: ${r.verdict === 'clean' ? 'CLEAN (nothing found)' : r.verdict === 'found' ? `FOUND ${r.families.length} famil${r.families.length === 1 ? 'y' : 'ies'}` : 'NOTHING EXERCISED (no call returned: nothing was tested)'} in ${(r.elapsedMs / 1000).toFixed(0)} s`,
    `  GIL: ${gil}`,
    ...r.targets.map((t) => `  ${t.label}: ${t.extensions.length ? t.extensions.map((e) => `${path.basename(e.file)}${e.tsanInstrumented === null ? '' : e.tsanInstrumented ? ' (TSan-instrumented)' : ' (NOT instrumented: its races are invisible to TSan)'}`).join(', ') : 'no C extension file (pure Python)'}`),
    `  exercised: ${r.calls.exercised}/${r.calls.generated} module-mode calls returned at least once${r.surface ? `; surface programs ${r.surface.pairsExercised}/${r.surface.pairs} (type, member) pairs of ${r.surface.typesExercised}/${r.surface.types} types` : ''}`,
    ...(r.calls.notExercised.length ? [`  never returned: ${r.calls.notExercised.slice(0, 8).join(', ')}${r.calls.notExercised.length > 8 ? ', ...' : ''}`] : []),
    ...r.families.flatMap((f) => [
      `  ${f.kind.padEnd(10)} ${WHERE[f.where].padEnd(21)} ${terminalSafe(f.title.slice(0, 140))}`,
      ...(f.frames.length ? [`             ${findingKind(f.kind)?.stacks === 'tsan' ? 'racing' : 'frames'}: ${terminalSafe(f.frames.slice(0, 2).join(' ~ '))}`] : []),
      `             rate ${f.rate}; ${f.buckets.length} bucket(s); reproduce: cd ${path.dirname(f.reproducer)} && ${f.reproduce.replace(/repro\.py$/, path.basename(f.reproducer))}`,
    ]),
  ];
  return lines.join('\n');
}
