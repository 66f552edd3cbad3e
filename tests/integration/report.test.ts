// The campaign report in a real browser (issue 15): a small real campaign writes its timeline and
// buckets, `ftfuzz report` renders them, and headless Chromium (Debian's `chromium`) opens the page
// from disk: every chart drew (a canvas with painted pixels), the table has one row per bucket, and
// the console shows no error. The screenshot is kept beside the report.
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readTimeline } from '../../src/store/timeline.js';
import { CrashStore } from '../../src/store/crashStore.js';
import { findChromium } from '../../bench/report.js';

const root = path.join(import.meta.dirname, '..', '..');
let dir = '';
let browser: Browser | undefined;

function chromiumPath(): string {
  const found = findChromium();
  if (!found) throw new Error('chromium not found: install it: ftfuzz setup --for report');
  return found;
}

function cli(args: string[]) {
  return spawnSync(process.execPath, [path.join(root, 'bin', 'ftfuzz.js'), ...args], { encoding: 'utf8', cwd: dir, timeout: 170_000 });
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftfuzz-report-'));
  browser = await puppeteer.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
});

afterAll(async () => {
  await browser?.close();
});

describe('ftfuzz report', () => {
  it('renders a real campaign: every chart drawn, one table row per bucket, no console error', async () => {
    // Tracing and profiling hooks switched while threads run crash 3.13.5t often: a campaign with buckets.
    const fuzz = cli(['fuzz', '--python', inject('ftPythonOld'), '--runs', '12', '--kinds', 'hooks', '--modes', 'gil-off', '--repro-trials', '2', '--jobs', '2', '--seed', 'report-test', '--crashes', 'crashes', '--corpus', 'corpus']);
    expect([0, 1], fuzz.stderr).toContain(fuzz.status);
    const timeline = await readTimeline(path.join(dir, 'crashes', '.timeline', 'report-test.jsonl'));
    expect(timeline.malformed).toBe(0);
    expect(timeline.lines.at(-1)?.final).toBe(true);
    expect(timeline.lines.at(-1)?.programs).toBe(12);
    const buckets = (await new CrashStore(path.join(dir, 'crashes')).list()).buckets;
    expect(buckets.length, fuzz.stdout).toBeGreaterThan(0);

    const out = path.join(dir, 'report.html');
    const report = cli(['report', '--crashes', 'crashes', '--out', out]);
    expect(report.status, report.stderr).toBe(0);
    expect(report.stdout.trim()).toBe(out);
    const html = await fs.readFile(out, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/); // self-contained: nothing fetched

    const page = await (browser as Browser).newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    await page.setViewport({ width: 1400, height: 1000 });
    await page.goto(pathToFileURL(out).href, { waitUntil: 'load' });
    await page.waitForFunction('window.__ftfuzzReport && window.__ftfuzzReport.ready', { timeout: 20_000 });
    // Evaluated in the page (a string: this project's TypeScript has no DOM types).
    const state = (await page.evaluate(`(() => {
      const painted = [...document.querySelectorAll('canvas')].map((c) => {
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n += 1;
        return { id: c.id, painted: n, size: c.width * c.height };
      });
      return { painted, rows: document.querySelectorAll('#buckets tbody tr').length, report: window.__ftfuzzReport };
    })()`)) as { painted: { id: string; painted: number; size: number }[]; rows: number; report: { charts: number } };
    expect(problems).toEqual([]);
    // c-collisions holds its message (this campaign ran on a plain build, no C edges): painted, not a chart.
    expect(state.painted.map((c) => c.id).sort()).toEqual(['c-buckets', 'c-collisions', 'c-kinds', 'c-rate', 'c-yield-kind', 'c-yield-op']);
    for (const c of state.painted) expect(c.painted, c.id).toBeGreaterThan(c.size / 200);
    expect(state.rows).toBe(buckets.length);
    expect(state.report.charts).toBe(5); // with buckets and a timeline, every chart is a Chart.js chart
    await page.screenshot({ path: path.join(dir, 'report.png'), fullPage: false });
    expect((await fs.stat(path.join(dir, 'report.png'))).size).toBeGreaterThan(10_000);
    await page.close();
  }, 240_000);

  it('a store someone else wrote: hostile text is escaped, a bucket with hostile numbers is an error, the rest renders and no script runs', async () => {
    const hostile = path.join(dir, 'hostile');
    const base = JSON.parse(await fs.readFile(path.join(root, 'tests', 'fuzz', 'seeds', 'meta.json'), 'utf8')) as Record<string, unknown>;
    const payload = (n: number) => `<img src=x onerror="window.__pwned=${n}"><script>window.__pwned=${n}</script>`;
    const write = async (name: string, meta: Record<string, unknown>) => {
      await fs.mkdir(path.join(hostile, name), { recursive: true });
      await fs.writeFile(path.join(hostile, name, 'meta.json'), JSON.stringify(meta));
      await fs.writeFile(path.join(hostile, name, 'repro.py'), 'print(1)\n');
    };
    await write('hang-aaaaaaaaaaaa', { ...base, title: payload(1), family: { key: payload(2), label: payload(3), format: 5 }, native: { frames: [payload(4)], op: null } });
    await write('hang-bbbbbbbbbbbb', { ...base, reproduction: { ...(base.reproduction as object), hits: payload(5) }, minimized: { linesAfter: payload(6), bytesAfter: 1, linesBefore: 2 } });
    await write('hang-cccccccccccc', { ...base, verdict: undefined, interpreter: undefined });
    const out = path.join(dir, 'hostile.html');
    const r = cli(['report', '--crashes', hostile, '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    const html = await fs.readFile(out, 'utf8');
    expect(html).toContain('hang-bbbbbbbbbbbb');
    const page = await (browser as Browser).newPage();
    await page.goto(pathToFileURL(out).href, { waitUntil: 'load' });
    await page.waitForFunction('window.__ftfuzzReport && window.__ftfuzzReport.ready', { timeout: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 500)); // an onerror handler would have fired by now
    const state = (await page.evaluate(`({ pwned: window.__pwned, rows: document.querySelectorAll('#buckets tbody tr').length, errors: [...document.querySelectorAll('.errors li')].map((li) => li.textContent) })`)) as { pwned?: number; rows: number; errors: string[] };
    await page.close();
    expect(state.pwned).toBeUndefined();
    expect(state.rows).toBe(1);
    expect(state.errors.join('\n')).toMatch(/hang-bbbbbbbbbbbb.*malformed: reproduction, minimized/);
    expect(state.errors.join('\n')).toMatch(/hang-cccccccccccc.*malformed: verdict, interpreter/);
  }, 120_000);

  it('a missing timeline file is a one-line input error naming it (exit 4)', () => {
    const r = cli(['report', '--crashes', 'crashes', '--stats', 'nope.jsonl', '--out', path.join(dir, 'r2.html')]);
    expect(r.status).toBe(4);
    expect(r.stderr).toMatch(/ftfuzz: error: nope\.jsonl: no such timeline file/);
  });
});
