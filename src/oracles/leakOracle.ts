// Memory leaks. A program runs its scenario R times in one process and reports, after each round and a
// gc.collect(), the number of gc-tracked objects, the tracemalloc total, sys.gettotalrefcount() on debug
// builds and the resident set size (`leak-rounds` record, with how many rounds were warm-up).
//
// Noise rule, after CPython's regrtest -R (check_rc_deltas, bpo-30776): a metric leaks when EVERY
// measured round grows it by at least its threshold. One-off growth (caches filling, mimalloc pages
// taken by a new thread's heap, [3, 0, 0] or [8, -8, 1] patterns) never leaks every round, while a real
// leak does ([5, 5, 6]). Thresholds: 1 object, 1 reference; 4 KiB of tracemalloc, because a correct
// program that starts 4 threads per round still grows the traced total by 210-350 bytes every round
// (interpreter bookkeeping per thread, measured on the planted twin on 3.13.15t), so a smaller threshold
// reports noise; and for RSS, which moves in pages and arenas, one page per round and 4 MiB in total (not
// on sanitizer builds, whose RSS grows with the sanitizer's own bookkeeping). The free-threaded build gives
// every thread its own mimalloc heap, and a round's exited threads leave pages behind: with nothing leaking
// (gc objects and tracemalloc flat), RSS rose in all three measured rounds by up to 1.6 MiB in total, in one
// run of ten of a dict program on 3.13.15t and in five 1 MiB "leaks" of earlier campaigns (BytesIO, WeakSet
// with array). 4 MiB is above every one of them; a leak of raw malloc() memory smaller than about 1.3 MiB a
// round goes unseen (PyMem's and objects' leaks show in tracemalloc and gc objects).
// At least 3 measured rounds.
import { mergeBySignature, type Oracle } from './oracle.js';

const THRESHOLDS: Record<string, { perRound: number; total: number }> = {
  gc_objects: { perRound: 1, total: 1 },
  totalrefcount: { perRound: 1, total: 1 },
  tracemalloc: { perRound: 4096, total: 3 * 4096 },
  rss: { perRound: 4096, total: 4 << 20 },
};

export function leakingMetrics(metrics: Record<string, number[]>, warmup: number): { metric: string; deltas: number[] }[] {
  const out: { metric: string; deltas: number[] }[] = [];
  for (const [metric, series] of Object.entries(metrics)) {
    const rule = THRESHOLDS[metric];
    if (!rule || !Array.isArray(series)) continue;
    const measured = series.slice(warmup);
    if (measured.length < 4) continue; // 3 deltas at least
    const deltas = measured.slice(1).map((v, i) => v - (measured[i] as number));
    const total = deltas.reduce((s, d) => s + d, 0);
    if (deltas.every((d) => d >= rule.perRound) && total >= rule.total) out.push({ metric, deltas });
  }
  return out;
}

export const leakOracle: Oracle = {
  name: 'leak',
  description: 'steady growth over measured rounds of gc objects, tracemalloc, total refcount (debug) or RSS',
  check(runs) {
    return mergeBySignature(runs, (run) => {
      const rec = run.records.find((r) => r.type === 'leak-rounds');
      if (!rec || typeof rec.metrics !== 'object' || rec.metrics === null) return null;
      // A sanitizer build's resident set grows with its own bookkeeping (TSan keeps the shadow and context
      // of every thread a round starts): RSS says nothing there. Seen on markupsafe's TSan venv: +736/+356/+28
      // KiB per round, with gc objects and tracemalloc flat. The other metrics still count.
      const metrics = { ...(rec.metrics as Record<string, number[]>) };
      if (run.target.sanitizers.length > 0) delete metrics.rss;
      const leaking = leakingMetrics(metrics, Number(rec.warmup ?? 0));
      if (leaking.length === 0) return null;
      const scenario = typeof rec.scenario === 'string' ? rec.scenario : run.program.name;
      return {
        kind: 'leak',
        oracle: 'leak',
        // Which metrics crossed their threshold varies from run to run (RSS is page-grained and noisy):
        // the metrics go in the title, the signature is the scenario alone.
        signature: `leak|${scenario}`,
        title: `leak: ${leaking.map((l) => `${l.metric} +${l.deltas.join('/+')}`).join('; ')} per round in ${scenario}`,
        details: JSON.stringify(rec.metrics),
        program: run.program,
        reproduceCommand: run.reproduceCommand,
        verdict: 'runtime-bug',
      };
    });
  },
};
