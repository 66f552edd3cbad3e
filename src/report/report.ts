// `ftfuzz report`: one self-contained HTML page a triager opens in the morning. Plots (Chart.js, inlined:
// no network needed to view it) of executions/s and programs over time, distinct buckets over time,
// findings by kind and verdict, yield per object kind and op; a table with one row per bucket; and per
// bucket a section with its stacks and its reproducer.
import { createRequire } from 'node:module';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../runtime/paths.js';
import { readTimeline, type TimelineLine } from '../store/timeline.js';
import { CrashStore, type BucketMeta } from '../store/crashStore.js';
import { formatRate } from '../trials/claims.js';
import { bucketFamily, familyRate, groupFamilies, type FamilyRow } from '../triage/families.js';
import { familyCurrent, familyId } from '../trials/family.js';

export interface ReportBucket {
  bucket: string;
  meta: BucketMeta;
  /** Text of the files a triager reads, when present. */
  repro?: string;
  reproFile?: string;
  stack?: string;
  stderr?: string;
  /** Directory holding the bucket's files, when they are on disk. */
  dir?: string;
}

export interface ReportTimeline {
  file: string;
  seed: string;
  lines: TimelineLine[];
  malformed: number;
}

export interface ReportData {
  title: string;
  generatedAt: string;
  source: string;
  buckets: ReportBucket[];
  timelines: ReportTimeline[];
  errors: string[];
}

/** Every `*.jsonl` under `<crashes>/.timeline`, plus the files given. */
export async function timelineFiles(crashDir: string | undefined, extra: string[] = []): Promise<string[]> {
  const found: string[] = [];
  if (crashDir) {
    try {
      const dir = path.join(crashDir, '.timeline');
      for (const n of (await fs.readdir(dir)).sort()) if (n.endsWith('.jsonl')) found.push(path.join(dir, n));
    } catch {
      // no timelines
    }
  }
  return [...new Set([...found, ...extra.map((f) => path.resolve(f))])];
}

async function readOptional(file: string, max = 200_000): Promise<string | undefined> {
  try {
    const text = await fs.readFile(file, 'utf8');
    return text.length > max ? `${text.slice(0, max)}\n… (${text.length - max} more characters in ${path.basename(file)})` : text;
  } catch {
    return undefined;
  }
}

export async function loadReportData(o: { crashDir?: string; statsFiles?: string[]; source?: string; filesOnDisk?: boolean }): Promise<ReportData> {
  const errors: string[] = [];
  const buckets: ReportBucket[] = [];
  if (o.crashDir) {
    const store = new CrashStore(o.crashDir);
    const listed = await store.list();
    errors.push(...listed.errors.map((e) => `${e.bucket}: ${e.error}`));
    for (const listedBucket of listed.buckets) {
      const { bucket } = listedBucket;
      // A bucket of an older store has no family yet: computed here, in memory (the report never writes the store).
      const meta = familyCurrent(listedBucket.meta) ? listedBucket.meta : { ...listedBucket.meta, family: await bucketFamily(store, bucket, listedBucket.meta) };
      const dir = store.dir(bucket);
      const reproFile = meta.minimized ? 'repro.min.py' : 'repro.py';
      buckets.push({
        bucket, meta, reproFile, repro: (await readOptional(path.join(dir, reproFile))) ?? (await readOptional(path.join(dir, 'repro.py'))),
        stack: await readOptional(path.join(dir, 'stack.txt')), stderr: await readOptional(path.join(dir, 'stderr.txt')), ...(o.filesOnDisk === false ? {} : { dir }),
      });
    }
  }
  const timelines: ReportTimeline[] = [];
  for (const file of await timelineFiles(o.crashDir, o.statsFiles)) {
    try {
      const { lines, malformed } = await readTimeline(file);
      if (malformed) errors.push(`${file}: ${malformed} malformed line(s) skipped (a campaign killed mid-write leaves one)`);
      timelines.push({ file, seed: lines[0]?.seed ?? path.basename(file, '.jsonl'), lines, malformed });
    } catch (error) {
      errors.push(`${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  return { title: 'ftfuzz campaign report', generatedAt: new Date().toISOString(), source: o.source ?? o.crashDir ?? '', buckets, timelines, errors };
}

/** A number for the page: printed as the number it is, anything else (from a store someone else wrote) escaped. */
const num = (v: unknown): string => (typeof v === 'number' && Number.isFinite(v) ? String(v) : esc(String(v)));

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

function chartJs(): string {
  // Resolved from the package's root (what import.meta.url would give, and the fuzz build's CommonJS has too).
  const require = createRequire(path.join(packageRoot, 'package.json'));
  // The UMD build sits beside the package's main file (the package's exports do not name it).
  return readFileSync(path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
}

/** Versions a bucket was replayed on, by status (`ftfuzz triage --versions`). */
function versionCell(meta: BucketMeta): string {
  const v = Object.entries(meta.versions ?? {});
  if (!v.length) return '<span class="dim">not replayed</span>';
  return v
    .map(([label, t]) => {
      const status = t.status ?? (t.affected ? 'affected' : 'not-affected');
      return `<span class="ver ${esc(status)}" title="${num(t.hits)}/${num(t.trials)} trials">${esc(label)}: ${esc(status)}</span>`;
    })
    .join(' ');
}

function rateCell(meta: BucketMeta): string {
  const r = meta.reproduction;
  if (!r) return '<span class="dim">not measured</span>';
  const how = r.how ? ` title="${esc(`plain runs, ${Math.round(r.how.timeoutMs / 1000)} s limit, ${r.how.besideJobs === 0 ? 'alone' : `beside ${r.how.besideJobs} job(s)`}, load ${r.how.loadAverage} on ${r.how.cores} cores`)}"` : '';
  return `<span${how}>${esc(formatRate(r))}</span>${r.flaky ? ' <span class="flaky">flaky</span>' : ''}`;
}

function link(b: ReportBucket, file: string, outDir: string, present: boolean): string {
  if (!present) return '';
  if (!b.dir) return `<a href="#b-${esc(b.bucket)}">${esc(file)}</a>`;
  const rel = path.relative(outDir, path.join(b.dir, file)).split(path.sep).map(encodeURIComponent).join('/');
  return `<a href="${rel}">${esc(file)}</a>`;
}

/** The page. `outFile` places the links to bucket files relative to it. */
export function renderReport(data: ReportData, outFile: string): string {
  const outDir = path.dirname(path.resolve(outFile));
  const buckets = [...data.buckets].sort((a, b) => (a.meta.firstSeen < b.meta.firstSeen ? -1 : a.meta.firstSeen > b.meta.firstSeen ? 1 : a.bucket.localeCompare(b.bucket)));
  const chartData = chartDataOf(data, buckets);
  const rows = buckets.map((b) => bucketRow(b, outDir));
  // Families first: one row per suspected bug, its buckets linked below it.
  const families = groupFamilies(buckets.map((b) => ({ bucket: b.bucket, meta: b.meta })));
  const familyRows = families.map(familyRow);
  const details = buckets.map(bucketDetails);
  const totals = data.timelines.map((t) => t.lines.at(-1)).filter((l): l is TimelineLine => l !== undefined);
  const programs = totals.reduce((n, l) => n + l.programs, 0);
  const executions = totals.reduce((n, l) => n + l.executions, 0);
  const hours = totals.reduce((n, l) => n + l.elapsedMs, 0) / 3_600_000;
  const json = JSON.stringify(chartData).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(data.title)}</title>
<style>
${PAGE_STYLE}</style></head><body>
<h1>${esc(data.title)}</h1>
<div class="dim">${esc(data.source)} — generated ${esc(data.generatedAt)}</div>
<div class="summary"><div><b id="n-families">${families.length}</b>families (suspected bugs)</div><div><b>${families.filter((f) => f.verdict === 'runtime-bug').length}</b>runtime-bug families</div><div><b id="n-buckets">${buckets.length}</b>buckets</div><div><b>${num(programs)}</b>programs</div><div><b>${num(executions)}</b>executions</div><div><b>${num(Number(hours.toFixed(2)))}</b>campaign hours</div><div><b>${data.timelines.length}</b>timelines</div>${surfaceBox(totals)}${collisionBox(totals)}</div>
${data.errors.length ? `<ul class="errors">${data.errors.map((e) => `<li>${esc(e)}</li>`).join('')}</ul>` : ''}
<h2>Over time</h2>
<div class="charts">
<div class="chart"><h3>Executions per second and programs</h3><canvas id="c-rate"></canvas></div>
<div class="chart"><h3>Distinct buckets and families (by first seen)</h3><canvas id="c-buckets"></canvas></div>
<div class="chart"><h3>Buckets by kind and verdict</h3><canvas id="c-kinds"></canvas></div>
<div class="chart"><h3>C edges and collision witnesses (coverage builds)</h3><canvas id="c-collisions"></canvas></div>
<div class="chart"><h3>Yield per object kind (programs, findings, new buckets)</h3><canvas id="c-yield-kind"></canvas></div>
<div class="chart"><h3>Yield per op (top 25 by findings)</h3><canvas id="c-yield-op"></canvas></div>
</div>
<h2>Families</h2>
<table id="families"><thead><tr><th>kind</th><th>family</th><th>verdict</th><th>buckets</th><th>hits</th><th>reproduces (all its buckets' trials)</th><th>versions</th><th>its buckets</th><th>first seen</th></tr></thead>
<tbody>${familyRows.join('\n')}</tbody></table>
<h2>Buckets</h2>
<table id="buckets"><thead><tr><th>kind</th><th>bucket</th><th>verdict</th><th>hits</th><th>reproduces</th><th>versions</th><th>top C frames</th><th>minimized</th><th>first seen</th><th>last seen</th><th>reproduce</th><th>files</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>
<h2>Bucket details</h2>
${details.join('\n')}
<script type="application/json" id="report-data">${json}</script>
<script>${chartJs().replace(/<\/script/gi, '<\\/script')}</script>
<script>
${PAGE_SCRIPT}</script>
</body></html>
`;
}

/** The surface coverage of the campaigns' last lines (their pairs are the same surface when the interpreter is). */
function surfaceBox(totals: readonly TimelineLine[]): string {
  const best = totals.filter((l) => l.surface).sort((a, b) => (b.surface?.[0] ?? 0) - (a.surface?.[0] ?? 0))[0]?.surface;
  if (!best) return '';
  const [exercised, pairs, triples] = best;
  return `<div title="${esc(`${triples} (type, member, shape) triples; the campaign with the most`)}"><b id="surface-coverage">${num(exercised)}/${num(pairs)}</b>surface pairs exercised (${typeof pairs === 'number' && typeof exercised === 'number' && pairs ? ((100 * exercised) / pairs).toFixed(1) : '0'}%)</div>`;
}

/** The C edge coverage and witnesses of the campaigns' last lines on coverage builds: the campaign with the most edges. */
function collisionBox(totals: readonly TimelineLine[]): string {
  const best = totals.filter((l) => l.collisions).sort((a, b) => (b.collisions?.[0] ?? 0) - (a.collisions?.[0] ?? 0))[0]?.collisions;
  if (!best) return '';
  const [seen, total, programs, pairs] = best;
  return `<div title="${esc(`C edges of the coverage build reached; ${pairs} (witness, kind) pairs`)}"><b id="edge-coverage">${num(seen)}/${num(total)}</b>C edges (${total ? ((100 * seen) / total).toFixed(1) : '0'}%)</div><div title="programs whose GIL-off runs reached a collision witness their GIL-on runs did not"><b id="witness-programs">${num(programs)}</b>programs with a collision witness (${num(pairs)} witness/kind pairs)</div>`;
}

/** What the charts need, small: the page computes nothing a test could not see in the data. */
function chartDataOf(data: ReportData, buckets: ReportBucket[]) {
  // One clock for the buckets chart: minutes since the earliest campaign start or first bucket.
  const firstSeen = buckets.map((b) => Date.parse(b.meta.firstSeen)).filter(Number.isFinite).sort((a, b) => a - b);
  const starts = data.timelines.flatMap((t) => (t.lines[0] ? [t.lines[0].time - t.lines[0].elapsedMs] : []));
  const origin = Math.min(...starts, ...(firstSeen.length ? [firstSeen[0] as number] : []), Date.now());
  const minutes = (t: number) => Number(((t - origin) / 60_000).toFixed(3));
  return {
    origin: new Date(origin).toISOString().replace('T', ' ').slice(0, 16),
    bucketSteps: firstSeen.map((t, i) => ({ x: minutes(t), y: i + 1 })),
    timelineBuckets: data.timelines.map((t) => ({ seed: t.seed, points: thin(t.lines, MAX_POINTS).map((l) => ({ x: minutes(l.time), y: l.buckets })) })),
    timelineFamilies: data.timelines.map((t) => ({ seed: t.seed, points: thin(t.lines, MAX_POINTS).filter((l) => l.families !== undefined).map((l) => ({ x: minutes(l.time), y: l.families as number })) })),
    timelines: data.timelines.map((t) => {
      const lines = thin(t.lines, MAX_POINTS);
      return {
        seed: t.seed,
        x: lines.map((l) => Number((l.elapsedMs / 60_000).toFixed(3))),
        execsPerSec: lines.map((l) => l.execsPerSec),
        programs: lines.map((l) => l.programs),
        edges: lines.map((l) => l.collisions?.[0] ?? null),
        witnessPairs: lines.map((l) => l.collisions?.[3] ?? null),
      };
    }),
    byKindVerdict: (() => {
      const m: Record<string, Record<string, number>> = {};
      for (const b of buckets) {
        const row = (m[b.meta.kind] ??= {});
        row[b.meta.verdict] = (row[b.meta.verdict] ?? 0) + 1;
      }
      return m;
    })(),
    hitsByKind: buckets.reduce<Record<string, number>>((acc, b) => ({ ...acc, [b.meta.kind]: (acc[b.meta.kind] ?? 0) + b.meta.hits }), {}),
    yieldByKind: mergeYield(data.timelines, 'byKind'),
    yieldByOp: topOps(mergeYield(data.timelines, 'byOp'), 25),
  };
}

/** One bucket's row in the bucket table. */
function bucketRow(b: ReportBucket, outDir: string): string {
    const m = b.meta;
    const frames = (m.native?.frames ?? []).slice(0, 3);
    const min = m.minimized ? `${num(m.minimized.linesAfter)} lines (${num(m.minimized.bytesAfter)} B, from ${num(m.minimized.linesBefore)})` : '<span class="dim">—</span>';
    const links = [link(b, 'repro.py', outDir, b.repro !== undefined), m.minimized ? link(b, 'repro.min.py', outDir, true) : '', link(b, 'stack.txt', outDir, b.stack !== undefined), link(b, 'stderr.txt', outDir, b.stderr !== undefined)].filter(Boolean).join(' ');
    return `<tr data-bucket="${esc(b.bucket)}"><td class="kind ${esc(m.kind)}">${esc(m.kind)}</td><td><a href="#b-${esc(b.bucket)}">${esc(b.bucket)}</a><div class="title">${esc(m.title.slice(0, 160))}</div>${m.family ? `<div class="title">family ${esc(familyId(m.family.key))}: ${esc(m.family.label.slice(0, 120))}</div>` : ''}</td><td class="verdict ${esc(m.verdict)}">${esc(m.verdict)}</td><td class="num">${num(m.hits)}</td><td>${rateCell(m)}</td><td>${versionCell(m)}</td><td class="frames">${frames.map((f) => esc(f)).join('<br>') || '<span class="dim">—</span>'}</td><td>${min}</td><td class="time">${esc(m.firstSeen.replace('T', ' ').slice(0, 19))}</td><td class="time">${esc(m.lastSeen.replace('T', ' ').slice(0, 19))}</td><td><code>${esc(m.reproduce)}</code></td><td class="links">${links}</td></tr>`;
}

/** One family's row in the family table. */
function familyRow(f: FamilyRow): string {
    const versions = Object.entries(f.versions).map(([label, v]) => `<span class="ver ${esc(v.status)}" title="${esc(`${v.hits}/${v.trials}`)} trials">${esc(label)}: ${esc(v.status)}</span>`).join(' ');
    return `<tr data-family="${esc(f.id)}"><td class="kind ${esc(f.kind)}">${esc(f.kind)}</td><td><b>${esc(f.id)}</b><div class="title">${esc(f.label.slice(0, 160))}</div></td><td class="verdict ${esc(f.verdict)}">${esc(f.verdict)}</td><td class="num">${esc(String(f.buckets.length))}</td><td class="num">${esc(String(f.hits))}</td><td>${esc(familyRate(f))}</td><td>${versions || '<span class="dim">not replayed</span>'}</td><td class="links">${f.buckets.map((b) => `<a href="#b-${esc(b.bucket)}">${esc(b.bucket)}</a>`).join(' ')}</td><td class="time">${esc(f.firstSeen.replace('T', ' ').slice(0, 19))}</td></tr>`;
}

/** One bucket's details section. */
function bucketDetails(b: ReportBucket): string {
    const m = b.meta;
    return `<section class="bucket" id="b-${esc(b.bucket)}"><h3>${esc(b.bucket)} <span class="kind ${esc(m.kind)}">${esc(m.kind)}</span></h3>
<p>${esc(m.title)}</p><p class="sig"><b>signature</b> <code>${esc(m.signature)}</code></p>
<p><b>interpreter</b> ${esc(m.interpreter.label)} (${esc(m.interpreter.path)}), modes ${esc(m.modes.join(', '))}; <b>reproduce</b> <code>${esc(m.reproduce)}</code></p>
${b.stack !== undefined ? `<details><summary>stacks (stack.txt)</summary><pre>${esc(b.stack)}</pre></details>` : ''}
${b.stderr !== undefined ? `<details><summary>stderr.txt</summary><pre>${esc(b.stderr)}</pre></details>` : ''}
${b.repro !== undefined ? `<details><summary>reproducer (${esc(b.reproFile ?? 'repro.py')})</summary><pre>${esc(b.repro)}</pre></details>` : ''}
</section>`;
}

// The page's style and its script (no templates: the data arrives as JSON in #report-data).
const PAGE_STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}h1{margin:0 0 .2em}h2{margin-top:1.6em}.dim{color:#888}
.summary{display:flex;gap:2em;flex-wrap:wrap;margin:.8em 0}.summary div{background:#f4f4f6;padding:.5em 1em;border-radius:6px}.summary b{display:block;font-size:1.4em}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:1.2em}.chart{background:#fafafa;border:1px solid #e3e3e8;border-radius:6px;padding:.6em}.chart h3{margin:.1em 0 .4em;font-size:1em}
.chart canvas{width:100%!important;height:260px!important}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #e3e3e8;padding:.35em .5em;text-align:left;vertical-align:top}th{background:#f4f4f6;position:sticky;top:0}
td.num{text-align:right}.title{color:#555;font-size:12px}.frames{font-family:ui-monospace,monospace;font-size:12px}code{font-size:12px}.time{white-space:nowrap}
.kind{font-weight:600}.verdict.runtime-bug{color:#b00020}.flaky{background:#fff3cd;padding:0 .3em;border-radius:3px}.ver{display:inline-block;margin:1px;padding:0 .3em;border-radius:3px;background:#eee}
.ver.affected{background:#f8d7da}.ver.not-affected{background:#d4edda}.ver.inconclusive{background:#fff3cd}
pre{background:#f6f8fa;padding:.6em;overflow:auto;max-height:420px;font-size:12px}section.bucket{border-top:1px solid #ddd;margin-top:1em;content-visibility:auto;contain-intrinsic-size:auto 160px}
#buckets tbody tr{content-visibility:auto;contain-intrinsic-size:auto 60px}.errors{color:#b00020}
`;

const PAGE_SCRIPT = `(function () {
  var started = performance.now();
  var d = JSON.parse(document.getElementById('report-data').textContent);
  var palette = ['#4e79a7','#f28e2b','#e15759','#76b7b2','#59a14f','#edc948','#b07aa1','#ff9da7','#9c755f','#bab0ac'];
  var base = { animation: false, responsive: true, maintainAspectRatio: false, parsing: false, normalized: true, plugins: { legend: { position: 'bottom' } } };
  var charts = [];
  function pts(x, y) { return x.map(function (v, i) { return { x: v, y: y[i] }; }); }
  function empty(id, text) { var c = document.getElementById(id); var g = c.getContext('2d'); g.font = '14px sans-serif'; g.fillStyle = '#888'; g.fillText(text, 20, 40); }
  var rate = [];
  d.timelines.forEach(function (t, i) {
    rate.push({ label: 'execs/s ' + t.seed, data: pts(t.x, t.execsPerSec), borderColor: palette[i % 10], pointRadius: 0, borderWidth: 1.5, yAxisID: 'y' });
    rate.push({ label: 'programs ' + t.seed, data: pts(t.x, t.programs), borderColor: palette[i % 10], borderDash: [5, 3], pointRadius: 0, borderWidth: 1.5, yAxisID: 'y1' });
  });
  var lin = { type: 'linear', title: { display: true, text: 'minutes into the campaign' } };
  if (rate.length) charts.push(new Chart(document.getElementById('c-rate'), { type: 'line', data: { datasets: rate }, options: Object.assign({}, base, { plugins: { legend: { position: 'bottom' }, decimation: { enabled: true, algorithm: 'lttb', samples: 500 } }, scales: { x: lin, y: { title: { display: true, text: 'executions/s' } }, y1: { position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: 'programs' } } } }) }));
  else empty('c-rate', 'no timeline (campaigns write one to <crashes>/.timeline/)');
  var cov = [];
  d.timelines.forEach(function (t, i) {
    if (!t.edges.some(function (v) { return v !== null; })) return;
    cov.push({ label: 'C edges ' + t.seed, data: pts(t.x, t.edges), borderColor: palette[i % 10], pointRadius: 0, borderWidth: 1.5, yAxisID: 'y' });
    cov.push({ label: 'witness/kind pairs ' + t.seed, data: pts(t.x, t.witnessPairs), borderColor: palette[i % 10], borderDash: [5, 3], pointRadius: 0, borderWidth: 1.5, yAxisID: 'y1' });
  });
  if (cov.length) charts.push(new Chart(document.getElementById('c-collisions'), { type: 'line', data: { datasets: cov }, options: Object.assign({}, base, { scales: { x: lin, y: { title: { display: true, text: 'C edges reached' } }, y1: { position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: 'witness/kind pairs' } } } }) }));
  else empty('c-collisions', 'no coverage build among the campaigns (ftfuzz python install --variant coverage)');
  var steps = d.bucketSteps;
  var bds = [{ label: 'buckets in the store (by first seen)', data: steps, stepped: true, borderColor: '#e15759', pointRadius: 2 }];
  d.timelineBuckets.forEach(function (t, i) { bds.push({ label: 'buckets hit by campaign ' + t.seed, data: t.points, borderColor: palette[(i + 1) % 10], pointRadius: 0, borderWidth: 1.5 }); });
  d.timelineFamilies.forEach(function (t, i) { if (t.points.length) bds.push({ label: 'families hit by campaign ' + t.seed, data: t.points, borderColor: palette[(i + 1) % 10], borderDash: [5, 3], pointRadius: 0, borderWidth: 1.5 }); });
  if (steps.length || d.timelines.length) charts.push(new Chart(document.getElementById('c-buckets'), { type: 'line', data: { datasets: bds }, options: Object.assign({}, base, { scales: { x: { type: 'linear', title: { display: true, text: 'minutes since ' + d.origin + ' UTC' } }, y: { beginAtZero: true } } }) }));
  else empty('c-buckets', 'no buckets');
  var kinds = Object.keys(d.byKindVerdict), verdicts = {};
  kinds.forEach(function (k) { Object.keys(d.byKindVerdict[k]).forEach(function (v) { verdicts[v] = 1; }); });
  var vds = Object.keys(verdicts).map(function (v, i) { return { label: v, data: kinds.map(function (k) { return d.byKindVerdict[k][v] || 0; }), backgroundColor: palette[i % 10] }; });
  if (kinds.length) charts.push(new Chart(document.getElementById('c-kinds'), { type: 'bar', data: { labels: kinds, datasets: vds }, options: Object.assign({}, base, { parsing: true, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } }) }));
  else empty('c-kinds', 'no buckets');
  function yieldChart(id, y, label) {
    var names = Object.keys(y);
    if (!names.length) { empty(id, 'no yield figures (timeline lines carry them)'); return; }
    charts.push(new Chart(document.getElementById(id), { type: 'bar', data: { labels: names, datasets: [
      { label: 'programs', data: names.map(function (n) { return y[n][0]; }), backgroundColor: '#bab0ac' },
      { label: 'findings', data: names.map(function (n) { return y[n][1]; }), backgroundColor: '#f28e2b' },
      { label: 'new buckets', data: names.map(function (n) { return y[n][2]; }), backgroundColor: '#e15759' }] },
      options: Object.assign({}, base, { parsing: true, indexAxis: label === 'op' ? 'y' : 'x', scales: { x: { beginAtZero: true, type: label === 'op' ? 'logarithmic' : 'category' }, y: { beginAtZero: true, type: label === 'op' ? 'category' : 'logarithmic' } } }) }));
  }
  yieldChart('c-yield-kind', d.yieldByKind, 'kind');
  yieldChart('c-yield-op', d.yieldByOp, 'op');
  window.__ftfuzzReport = { renderedAtMs: performance.now(), chartsMs: performance.now() - started, charts: charts.length, canvases: document.querySelectorAll('canvas').length, rows: document.querySelectorAll('#buckets tbody tr').length, families: document.querySelectorAll('#families tbody tr').length, ready: true };
})();
`;

/** Points per plotted series: more than a chart's width in pixels shows nothing more. */
const MAX_POINTS = 1500;

/**
 * At most `max` lines, evenly spaced, first and last kept; within each stride the line with the
 * highest rate is kept, so a dip or a burst is not thinned away.
 */
export function thin(lines: TimelineLine[], max: number): TimelineLine[] {
  if (lines.length <= max) return lines;
  const stride = Math.ceil(lines.length / max);
  const out: TimelineLine[] = [];
  for (let i = 0; i < lines.length; i += stride) {
    let pick = lines[i] as TimelineLine;
    for (let j = i + 1; j < Math.min(lines.length, i + stride); j++) if ((lines[j] as TimelineLine).execsPerSec > pick.execsPerSec) pick = lines[j] as TimelineLine;
    out.push(pick);
  }
  const last = lines.at(-1) as TimelineLine;
  if (out.at(-1) !== last) out.push(last);
  return out;
}

/** The last line of each timeline holds its campaign's totals; campaigns are summed. */
function mergeYield(timelines: ReportTimeline[], key: 'byKind' | 'byOp'): Record<string, [number, number, number]> {
  const out: Record<string, [number, number, number]> = {};
  for (const t of timelines) {
    const last = t.lines.at(-1);
    for (const [k, v] of Object.entries(last?.[key] ?? {})) {
      const cur = (out[k] ??= [0, 0, 0]);
      cur[0] += v[0];
      cur[1] += v[1];
      cur[2] += v[2];
    }
  }
  return out;
}

function topOps(y: Record<string, [number, number, number]>, n: number): Record<string, [number, number, number]> {
  return Object.fromEntries(Object.entries(y).sort(([, a], [, b]) => b[1] - a[1] || b[2] - a[2] || b[0] - a[0]).slice(0, n));
}
