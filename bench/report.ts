// `npm run bench -- report`: how long headless Chromium takes to render the report of a large store:
// 10,000 timeline lines and 500 buckets (synthetic files of realistic size; the page is what is timed).
// The figure is the page's own clock from navigation start to the moment every chart has drawn.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TIMELINE_FORMAT, type TimelineLine } from '../src/store/timeline.js';
import { loadReportData, renderReport } from '../src/report/report.js';
import type { BucketMeta } from '../src/store/crashStore.js';
import { whichOnPathSync } from '../src/runtime/targets.js';

/** Debian's chromium (or another Chromium on PATH), for the report benchmark and the browser test. */
export function findChromium(): string | null {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    const found = whichOnPathSync(name);
    if (found) return found;
  }
  return null;
}

export async function reportSection(o: { lines?: number; buckets?: number } = {}): Promise<{ name: string; value: string; note?: string }[]> {
  const nLines = o.lines ?? 10_000;
  const nBuckets = o.buckets ?? 500;
  const exe = findChromium();
  if (!exe) return [{ name: 'report render', value: 'skipped', note: 'chromium not found (ftfuzz setup --for report installs it)' }];
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-bench-report-'));
  try {
    const crashes = path.join(dir, 'crashes');
    const kinds = ['crash', 'hang', 'lost-write', 'race', 'refcount'];
    const start = Date.parse('2026-12-01T20:00:00Z');
    for (let i = 0; i < nBuckets; i++) {
      const name = `${kinds[i % kinds.length]}-${i.toString(16).padStart(12, '0')}`;
      const b = path.join(crashes, name);
      await fs.mkdir(b, { recursive: true });
      const meta: BucketMeta = {
        version: 1, id: name.slice(-12), signature: `${kinds[i % kinds.length]}|SIGSEGV|func_${i} (Objects/x.c:${i})|caller_${i % 37}`, kind: kinds[i % kinds.length] as BucketMeta['kind'], oracle: 'crash',
        title: `crash: SIGSEGV in func_${i} (Objects/x.c:${i}) during op_${i % 53}`, verdict: i % 3 ? 'runtime-bug' : 'unknown', origin: { seed: `s-${i}` },
        interpreter: { label: 'CPython 3.13.5t', path: '/p/python3.13t', version: '3.13.5', freeThreaded: true, debug: false, sanitizers: [], configArgs: '' },
        modes: ['gil-off'], reproduce: 'PYTHON_GIL=0 /p/python3.13t repro.py', firstSeen: new Date(start + i * 60_000).toISOString(), lastSeen: new Date(start + i * 90_000).toISOString(), hits: 1 + (i % 17),
        reproduction: { interpreter: 'CPython 3.13.5t', modes: ['gil-off'], trials: 10, hits: i % 11, rate: (i % 11) / 10, flaky: i % 11 < 5, measuredAt: new Date(start).toISOString() },
        versions: { '3.13.15t': { path: '/q', version: '3.13.15', modes: ['gil-off'], trials: 10, hits: i % 2, affected: i % 2 === 1, status: i % 2 ? 'affected' : 'not-affected', measuredAt: new Date(start).toISOString() } },
        native: { frames: [`func_${i} (Objects/x.c:${i})`, `caller_${i % 37} (Python/y.c:1)`, 'PyObject_Call (Objects/call.c:1)'], op: `op_${i % 53}` },
      };
      await fs.writeFile(path.join(b, 'meta.json'), JSON.stringify(meta));
      await fs.writeFile(path.join(b, 'repro.py'), `# ftfuzz reproducer\n${'x = [1, 2, 3]\n'.repeat(150)}`);
      await fs.writeFile(path.join(b, 'stack.txt'), `Thread 1\n${'#0 0x00007f func (Objects/x.c:1)\n'.repeat(60)}`);
    }
    const timeline: string[] = [];
    const ops = Array.from({ length: 120 }, (_, k) => `kind${k % 30}.op${k}`);
    for (let i = 0; i < nLines; i++) {
      const line: TimelineLine = {
        format: TIMELINE_FORMAT, seed: 'bench', time: start + i * 5000, elapsedMs: i * 5000, programs: i * 3, executions: i * 8, execsPerSec: 1.5 + Math.sin(i / 50),
        findingsByKind: { crash: Math.floor(i / 40) }, buckets: Math.min(nBuckets, Math.floor(i / 20)), newBuckets: Math.min(nBuckets, Math.floor(i / 20)), corpus: Math.floor(i / 4),
        byKind: Object.fromEntries(Array.from({ length: 30 }, (_, k) => [`kind${k}`, [i + k, Math.floor(i / 50), Math.floor(i / 400)]])),
        byOp: Object.fromEntries(ops.map((op, k) => [op, [i + k, Math.floor(i / (60 + k)), Math.floor(i / 900)]])),
      };
      timeline.push(JSON.stringify(line));
    }
    await fs.mkdir(path.join(crashes, '.timeline'), { recursive: true });
    await fs.writeFile(path.join(crashes, '.timeline', 'bench.jsonl'), `${timeline.join('\n')}\n`);
    const t0 = performance.now();
    const out = path.join(dir, 'report.html');
    await fs.writeFile(out, renderReport(await loadReportData({ crashDir: crashes }), out));
    const buildMs = performance.now() - t0;
    const size = (await fs.stat(out)).size;
    const { default: puppeteer } = await import('puppeteer-core');
    const browser = await puppeteer.launch({ executablePath: exe, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    const times: number[] = [];
    const charts: number[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const page = await browser.newPage();
        await page.setViewport({ width: 1400, height: 1000 });
        await page.goto(pathToFileURL(out).href, { waitUntil: 'load', timeout: 60_000 });
        await page.waitForFunction('window.__ftfuzzReport && window.__ftfuzzReport.ready', { timeout: 60_000 });
        times.push(Number(await page.evaluate('window.__ftfuzzReport.renderedAtMs')));
        charts.push(Number(await page.evaluate('window.__ftfuzzReport.chartsMs')));
        await page.close();
      }
    } finally {
      await browser.close();
    }
    const best = Math.min(...times);
    const median = [...times].sort((a, b) => a - b)[1] as number;
    return [
      { name: `report render, ${nLines} timeline lines and ${nBuckets} buckets (median of 3, ms)`, value: median.toFixed(0), note: `goal < 2000 ms; best ${best.toFixed(0)} ms, of which the charts ${Math.min(...charts).toFixed(0)} ms; page ${(size / 1e6).toFixed(1)} MB` },
      { name: 'report build (ftfuzz report: read store and timeline, write HTML, ms)', value: buildMs.toFixed(0) },
    ];
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
