// A C extension's free-threading readiness, from a module-mode campaign (`ftfuzz fuzz --module NAME`): what
// an author acts on. Whether the extension declares it can run without the GIL (Py_mod_gil), what the
// campaign exercised of it, and each family it found, with the pair of functions that raced or the frames
// that crashed, where they lie (the extension, CPython, or both) and the reproducer to run.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ModuleSurface } from '../generators/moduleMode.js';
import type { CrashStore } from '../store/crashStore.js';
import { formatBucketRate } from './triage.js';
import { terminalSafe } from '../text.js';
import type { FindingKind, Target } from '../types.js';
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
  /** true: importing it kept the GIL off (it declares Py_mod_gil_not_used, or is pure Python); false: the import turned the GIL on. */
  gilKeptOff: boolean | null;
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
  const families: ReadinessFamily[] = [];
  for (const f of o.stats.families) {
    const bucket = f.buckets[0];
    const meta = bucket ? await o.store.read(bucket).catch(() => null) : null;
    const frames = meta?.native?.frames ?? [];
    let where = frameScope(frames.slice(0, 2), names);
    if (where === 'cpython' && bucket) {
      const stacks = await fs.readFile(path.join(o.store.dir(bucket), 'stack.txt'), 'utf8').catch(() => '');
      if (names.some((n) => n && stacks.includes(`${n}.`))) where = 'via-extension';
    }
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
    gilKeptOff: o.surface.gil_after === undefined ? null : !(o.surface.gil_after === true && o.surface.gil_before === false),
    targets,
    calls: { generated: calls.generated.length, exercised: calls.exercised.length, notExercised: calls.generated.filter((c) => !calls.exercised.includes(c)) },
    surface: s ? { types: s.types, typesExercised: s.typesExercised, pairs: s.pairs, pairsExercised: s.pairsExercised } : null,
    families,
    verdict: exercised === 0 ? 'nothing-exercised' : families.length ? 'found' : 'clean',
    elapsedMs: o.stats.elapsedMs,
  };
}

const WHERE: Record<ReadinessFamily['where'], string> = { extension: 'in the extension', cpython: 'in CPython', both: 'extension and CPython', 'via-extension': 'CPython, via extension', python: 'Python level' };

/** The report as an author reads it in a terminal. */
export function formatReadiness(r: ReadinessReport): string {
  const hasC = r.targets.some((t) => t.extensions.length > 0);
  const gil = r.gilKeptOff === null ? 'unknown' : !r.gilKeptOff ? 'turned ON by the import: a C module of it does not declare Py_mod_gil_not_used (fuzzed with PYTHON_GIL=0 anyway)' : hasC ? 'kept off on import: its C modules declare Py_mod_gil_not_used' : 'kept off on import: no C module (pure Python)';
  const lines = [
    `readiness of ${r.module}: ${r.verdict === 'clean' ? 'CLEAN (nothing found)' : r.verdict === 'found' ? `FOUND ${r.families.length} famil${r.families.length === 1 ? 'y' : 'ies'}` : 'NOTHING EXERCISED (no call returned: nothing was tested)'} in ${(r.elapsedMs / 1000).toFixed(0)} s`,
    `  GIL: ${gil}`,
    ...r.targets.map((t) => `  ${t.label}: ${t.extensions.length ? t.extensions.map((e) => `${path.basename(e.file)}${e.tsanInstrumented === null ? '' : e.tsanInstrumented ? ' (TSan-instrumented)' : ' (NOT instrumented: its races are invisible to TSan)'}`).join(', ') : 'no C extension file (pure Python)'}`),
    `  exercised: ${r.calls.exercised}/${r.calls.generated} module-mode calls returned at least once${r.surface ? `; surface programs ${r.surface.pairsExercised}/${r.surface.pairs} (type, member) pairs of ${r.surface.typesExercised}/${r.surface.types} types` : ''}`,
    ...(r.calls.notExercised.length ? [`  never returned: ${r.calls.notExercised.slice(0, 8).join(', ')}${r.calls.notExercised.length > 8 ? ', ...' : ''}`] : []),
    ...r.families.flatMap((f) => [
      `  ${f.kind.padEnd(10)} ${WHERE[f.where].padEnd(21)} ${terminalSafe(f.title.slice(0, 140))}`,
      ...(f.frames.length ? [`             ${f.kind === 'race' ? 'racing' : 'frames'}: ${terminalSafe(f.frames.slice(0, 2).join(' ~ '))}`] : []),
      `             rate ${f.rate}; ${f.buckets.length} bucket(s); reproduce: cd ${path.dirname(f.reproducer)} && ${f.reproduce.replace(/repro\.py$/, path.basename(f.reproducer))}`,
    ]),
  ];
  return lines.join('\n');
}
