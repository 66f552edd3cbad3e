// How a campaign reads to people: the status line, a new bucket, the end-of-campaign summary (the library
// returns CampaignStats; `--json` writes it as it is).
import { terminalSafe } from '../text.js';
import path from 'node:path';
import type { BucketSummary, CampaignStats } from '../campaign/stats.js';
import type { Yield } from '../campaign/schedule.js';
import { formatRate } from '../trials/claims.js';
import { formatSlots } from '../campaign/slots.js';

function clock(ms: number): string {
  const secs = Math.floor(ms / 1000);
  const h = Math.floor(secs / 3600);
  const mm = String(Math.floor((secs % 3600) / 60)).padStart(h ? 2 : 1, '0');
  const ss = String(secs % 60).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** One status line: elapsed, executions and rate, findings by kind, distinct buckets. */
export function formatStats(s: CampaignStats): string {
  const secs = s.elapsedMs / 1000;
  const kinds = Object.entries(s.findingsByKind).map(([k, n]) => `${k}:${n}`).join(' ') || 'none';
  return `${clock(s.elapsedMs)} programs ${s.programs} execs ${s.executions} (${(s.executions / Math.max(secs, 0.001)).toFixed(1)}/s) findings ${kinds} buckets ${s.buckets.length} (new ${s.newBuckets.length}) corpus +${s.corpusAdded}`;
}

export function formatBucket(b: BucketSummary, crashDir: string): string {
  const r = b.reproduction;
  const rate = r ? `reproduces ${formatRate(r)}${r.flaky ? ' (flaky)' : ''}${r.how ? (r.how.besideJobs === 0 ? ', measured alone' : `, measured beside ${r.how.besideJobs} job(s)`) : ''}` : 'rate not measured';
  return `${b.kind.padEnd(14)} ${path.join(crashDir, b.bucket)}  ${b.verdict}, ${rate}\n    ${terminalSafe(b.title.slice(0, 160))}`;
}

/** The end-of-campaign summary for people. */
export function formatSummary(s: CampaignStats, crashDir: string): string {
  const out = [
    `campaign ${s.seed}: ${formatStats(s)}`,
    `stopped by ${s.stoppedBy}${s.cancelledPrograms ? ` (${s.cancelledPrograms} program(s) in flight dropped)` : ''}; replay it with --seed ${s.seed}`,
  ];
  // Families first: a triager counts bugs, not buckets.
  const fams = s.families ?? [];
  if (fams.length) {
    const fresh = fams.filter((f) => f.isNew).length;
    out.push(`${fams.length} famil${fams.length === 1 ? 'y' : 'ies'} (suspected bugs) hit, ${fresh} new, in ${s.buckets.length} bucket(s) (${s.newBuckets.length} new):`);
    for (const f of fams) {
      out.push(`  ${f.id}  ${f.isNew ? 'new  ' : 'known'}  ${f.label.slice(0, 120)}${f.alsoWithGil ? ' (also with the GIL)' : ''}  [${f.buckets.length} bucket(s), ${f.newBuckets} new, ${f.hits} hit(s)${f.unconfirmed ? `, +${f.unconfirmed} unconfirmed` : ''}]`);
      for (const b of s.newBuckets.filter((nb) => nb.family?.key === f.key)) out.push(`      ${formatBucket(b, crashDir).replace(/\n/g, '\n      ')}`);
    }
  }
  const orphans = s.newBuckets.filter((b) => !b.family || !fams.some((f) => f.key === b.family?.key));
  if (orphans.length) {
    out.push(`${orphans.length} new bucket(s) without a family:`);
    for (const b of orphans) out.push(`  ${formatBucket(b, crashDir).replace(/\n/g, '\n  ')}`);
  }
  const old = s.buckets.length - s.newBuckets.length;
  if (old > 0) out.push(`${old} known bucket(s) hit again (see ftfuzz triage)`);
  for (const r of s.resources) out.push(`resource ${r.signature.replace(/^resource\|/, '')}: ${r.hits} program(s), e.g. ${r.example} (not a crash bucket)`);
  for (const w of s.environmentWarnings) out.push(`environment: ${w}`);
  const unconfirmed = Object.entries(s.unconfirmedByKind).map(([k, n]) => `${k}:${n}`).join(' ');
  if (unconfirmed) out.push(`seen only in a reused worker (not in fresh retries; a stored bug's sightings are not re-run): ${unconfirmed} (new ones kept in ${path.join(crashDir, '.unconfirmed')}; see ftfuzz triage)`);
  if (s.promoted) out.push(`${s.promoted} finding(s) first seen in a reused worker were confirmed by a fresh retry`);
  if (s.slow) out.push(`${s.slow} crawl(s): past the limit but making progress, or finished in their finish window (kept in ${path.join(crashDir, '.slow')}, not hang buckets)`);
  const shapes = Object.entries<Yield>(s.yield.byShape).filter(([, y]) => y.programs > 0);
  if (shapes.length) out.push(`shapes: ${shapes.map(([k, y]) => `${k} ${y.programs} program(s), ${(y.runMs / 60_000).toFixed(1)} run-min, ${y.findings} finding(s), ${y.newBuckets} new bucket(s)`).join('; ')}`);
  const kinds = Object.entries<Yield>(s.yield.byKind).sort(([, a], [, b]) => b.newBuckets - a.newBuckets || b.findings - a.findings || b.runMs - a.runMs);
  if (kinds.length) {
    const top = kinds.slice(0, 8).map(([k, y]) => `${k} ${y.newBuckets}/${y.findings}/${y.programs}`);
    out.push(`yield by kind (new buckets/findings/programs), best first: ${top.join(', ')}${kinds.length > 8 ? `, … ${kinds.length - 8} more in --json` : ''}`);
  }
  if (s.surface) {
    const c = s.surface;
    const pct = c.pairs ? ((100 * c.pairsExercised) / c.pairs).toFixed(1) : '0';
    out.push(`surface: ${c.programs} program(s) exercised ${c.pairsExercised}/${c.pairs} (type, member) pairs (${pct}%) of ${c.typesExercised}/${c.types} C types, ${c.triples} (type, member, shape) triples${c.gilOnFailures ? `; ${c.gilOnFailures} failure(s) also shown with PYTHON_GIL=1, kept apart in ${path.join(crashDir, '.gil-on')} (not a race: a generator mistake, or a bug of the build the GIL does not hide; read them)` : ''}`);
  }
  if (s.collisions) {
    const c = s.collisions;
    const pct = (a: number, b: number) => (b ? ((100 * a) / b).toFixed(1) : '0');
    const areas = Object.entries(c.byArea).filter(([, a]) => a.seen > 0).map(([k, a]) => `${k} ${pct(a.seen, a.total)}%`).join(', ');
    const rules = c.witnesses.filter((w) => w.programs > 0).map((w) => `${w.id} ${w.programs}`).join(', ');
    out.push(`C coverage (${c.target}): ${c.edgesSeen}/${c.edgesTotal} edges (${pct(c.edgesSeen, c.edgesTotal)}%; ${areas}); collision witnesses in ${c.programsWithWitness}/${c.programs} program(s), ${c.witnessPairs} (witness, kind) pair(s)${rules ? ` (programs per witness: ${rules})` : ''}`);
  }
  if (s.perturbedPrograms) out.push(`schedule perturbation: ${s.perturbedPrograms} program(s) ran with a seeded perturbation (their buckets' repro.py say how to run with the seed)`);
  if (s.suppressedRaces?.length) out.push(`suppressed for later programs (campaign-local TSan suppressions): ${s.suppressedRaces.length} race famil${s.suppressedRaces.length === 1 ? 'y' : 'ies'} (${s.suppressedRaces.flatMap((r) => r.functions).slice(0, 8).join(', ')}${s.suppressedRaces.flatMap((r) => r.functions).length > 8 ? ', …' : ''})`);
  const pctOfRuns = (ms: number | undefined) => (s.runWallMs > 0 ? ((100 * (ms ?? 0)) / s.runWallMs).toFixed(1) : '0');
  const execs = Object.entries(s.byExecutor ?? {});
  if (execs.length > 1) out.push(`by executor: ${execs.map(([name, y]) => `${name} ${y.programs} programs, ${y.findings} findings, ${y.newBuckets} new buckets in ${(y.runMs / 60_000).toFixed(1)} run-min`).join('; ')}`);
  out.push(`time limits: median ${(s.medianLimitMs / 1000).toFixed(1)} s${s.calibrated ? ' (calibrated)' : ''}; ${s.timeoutRuns} run(s) went past their limit, ${pctOfRuns(s.timeoutWallMs)}% of run time (hangs ${pctOfRuns(s.hangWallMs)}%, crawls ${pctOfRuns(s.crawlWallMs)}%); leak harness on ${s.leakPrograms} program(s); ${s.spawnPrograms} in fresh processes`);
  if (s.slots) out.push(`slot time (${s.slots.totalMs > 0 ? (s.slots.totalMs / 60_000).toFixed(1) : '0'} slot-min): ${formatSlots(s.slots)}`);
  if (s.unmeasured?.length) out.push(`${s.unmeasured.length} new bucket(s) left unmeasured by the rate budget (--rate-share): ftfuzz triage --measure ${s.unmeasured.slice(0, 6).map((b) => `--bucket ${b}`).join(' ')}${s.unmeasured.length > 6 ? ' …' : ''}`);
  return out.join('\n');
}
