// CPython's own changelog, `Misc/NEWS` of the source tarballs ftfuzz builds from (provisioning keeps a
// copy beside each install: `<prefix>/share/ftfuzz/NEWS`). It says, for every gh issue, in which releases a
// fix landed: so a newer release's fixes appear without a code change, and a candidate upstream issue is
// never a fix the bucket's own interpreter already has.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { NEWS_COPY } from '../runtime/paths.js';

export interface NewsEntry {
  gh: number;
  /** The release whose section lists it: `3.13.12` (final releases), `3.13.0rc2`, `3.14.0a1`, ... */
  release: string;
  /** `Library`, `Core and Builtins`, `C API`, ... */
  section: string;
  /** The entry's text, reST roles reduced to their text. */
  text: string;
}

const RELEASE = /^What's New in Python (\d+\.\d+\.\d+)(?: (final|release candidate (\d+)|beta (\d+)|alpha (\d+)))?\??\s*$/;

/** `:class:\`~xml.etree.ElementTree.Element\`` -> `xml.etree.ElementTree.Element`; `:meth:\`copy <x.copy>\`` -> `x.copy`. */
export function plainText(rst: string): string {
  return rst
    .replace(/:[\w:]+:`~?([^`<]*?)\s*<([^>`]+)>`/g, '$2')
    .replace(/:[\w:]+:`[~!]?([^`]+)`/g, '$1')
    .replace(/``([^`]+)``/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Every `- gh-N: ...` entry of a Misc/NEWS text, with its release and section. */
export function parseNews(text: string): NewsEntry[] {
  const entries: NewsEntry[] = [];
  let release = '';
  let section = '';
  let current: { gh: number; lines: string[] } | null = null;
  const lines = text.split('\n');
  const flush = () => {
    if (current && release) entries.push({ gh: current.gh, release, section, text: plainText(current.lines.join(' ')) });
    current = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const rel = RELEASE.exec(line);
    if (rel) {
      flush();
      const [, version = '', kind, rc, beta, alpha] = rel;
      release = kind === undefined || kind === 'final' ? version : `${version}${rc ? `rc${rc}` : beta ? `b${beta}` : `a${alpha ?? ''}`}`;
      section = '';
      continue;
    }
    // A section heading: a line followed by a line of dashes.
    if (/^-{3,}\s*$/.test(lines[i + 1] ?? '') && line.trim() !== '' && !line.startsWith('-')) {
      flush();
      section = line.trim();
      i += 1;
      continue;
    }
    const entry = /^- gh-(\d+): ?(.*)$/.exec(line) ?? /^- bpo-\d+, gh-(\d+): ?(.*)$/.exec(line);
    if (entry) {
      flush();
      current = { gh: Number(entry[1]), lines: [entry[2] ?? ''] };
      continue;
    }
    if (current && /^ {2}\S/.test(line)) current.lines.push(line.trim());
    else if (current && line.trim() === '') flush();
  }
  flush();
  return entries;
}

/** `3.13.12` -> [3, 13, 12, 4]; pre-releases sort before the final (`a` 1, `b` 2, `rc` 3). */
export function releaseKey(release: string): number[] {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:(a|b|rc)(\d+))?$/.exec(release);
  if (!m) return [0, 0, 0, 0, 0];
  const stage = m[4] === 'a' ? 1 : m[4] === 'b' ? 2 : m[4] === 'rc' ? 3 : 4;
  return [Number(m[1]), Number(m[2]), Number(m[3]), stage, Number(m[5] ?? 0)];
}

export function compareReleases(a: string, b: string): number {
  const ka = releaseKey(a);
  const kb = releaseKey(b);
  for (let i = 0; i < ka.length; i++) if ((ka[i] as number) !== (kb[i] as number)) return (ka[i] as number) - (kb[i] as number);
  return 0;
}

export function seriesOfRelease(release: string): string {
  return /^(\d+\.\d+)/.exec(release)?.[1] ?? release;
}

/** What the changelogs say of one gh issue: every release (of every series read) whose section lists it. */
export interface FixRecord {
  gh: number;
  releases: string[];
  text: string;
  section: string;
}

/** The changelogs ftfuzz has, merged: per gh issue, every release that lists a fix for it. */
export class NewsIndex {
  private readonly byGh = new Map<number, FixRecord>();
  /** Per series, the newest release whose NEWS was read (a fix missing from it is not in that series yet). */
  readonly newestRead = new Map<string, string>();

  constructor(entries: readonly NewsEntry[] = [], readReleases: readonly string[] = []) {
    for (const e of entries) this.add(e);
    for (const r of readReleases) this.noteRead(r);
  }

  add(e: NewsEntry): void {
    const known = this.byGh.get(e.gh);
    if (!known) this.byGh.set(e.gh, { gh: e.gh, releases: [e.release], text: e.text, section: e.section });
    else if (!known.releases.includes(e.release)) known.releases.push(e.release);
    this.byGh.get(e.gh)?.releases.sort(compareReleases);
  }

  noteRead(release: string): void {
    const series = seriesOfRelease(release);
    const known = this.newestRead.get(series);
    if (!known || compareReleases(release, known) > 0) this.newestRead.set(series, release);
  }

  get(gh: number): FixRecord | undefined {
    return this.byGh.get(gh);
  }

  get size(): number {
    return this.byGh.size;
  }

  all(): FixRecord[] {
    return [...this.byGh.values()];
  }

  /**
   * Whether an interpreter of `version` (`3.13.15`) has every fix listed for `gh` in its own series:
   * true / false, or null when the changelogs read do not cover that series.
   */
  contains(gh: number, version: string): boolean | null {
    const series = seriesOfRelease(version);
    const fix = this.byGh.get(gh);
    // Fixed in an earlier series (3.13's NEWS repeats 3.12's alphas): every later series branched after it.
    if (fix?.releases.some((r) => compareReleases(`${seriesOfRelease(r)}.0`, `${series}.0`) < 0)) return true;
    const inSeries = fix?.releases.filter((r) => seriesOfRelease(r) === series) ?? [];
    if (inSeries.length === 0) return this.newestRead.has(series) ? false : null;
    // Fixed twice (gh-137400: 3.13.7 and 3.13.10): only the last one makes the interpreter whole.
    const last = inSeries[inSeries.length - 1] as string;
    return compareReleases(version, last) >= 0;
  }

  /** The releases of `version`'s series (else any) that list `gh`, for people: `3.13.7 and 3.13.10`. */
  fixedIn(gh: number, series?: string): string[] {
    const releases = this.byGh.get(gh)?.releases ?? [];
    const mine = series ? releases.filter((r) => seriesOfRelease(r) === series) : releases;
    return mine.length ? mine : releases;
  }
}

/** The NEWS copies of installs under the cache (`pythons/<id>/share/ftfuzz/NEWS`), and the release each is. */
export async function newsFiles(cacheRoot: string): Promise<{ file: string; release: string }[]> {
  const pythons = path.join(cacheRoot, 'pythons');
  const out: { file: string; release: string }[] = [];
  for (const id of await fs.readdir(pythons).catch(() => [] as string[])) {
    const release = /^cpython-(\d+\.\d+\.\d+)t-/.exec(id)?.[1];
    const file = path.join(pythons, id, NEWS_COPY);
    if (release && (await fs.access(file).then(() => true, () => false))) out.push({ file, release });
  }
  return out;
}


const indexes = new Map<string, Promise<NewsIndex>>();

/** Every changelog the cache holds, read once per process (the newest of each series has the older ones' entries). */
export function loadNews(cacheRoot: string): Promise<NewsIndex> {
  let index = indexes.get(cacheRoot);
  if (!index) {
    index = (async () => {
      const files = await newsFiles(cacheRoot);
      // The newest release of each series suffices: its NEWS repeats every earlier section.
      const newest = new Map<string, { file: string; release: string }>();
      for (const f of files) {
        const series = seriesOfRelease(f.release);
        const known = newest.get(series);
        if (!known || compareReleases(f.release, known.release) > 0) newest.set(series, f);
      }
      const out = new NewsIndex();
      for (const f of newest.values()) {
        for (const e of parseNews(await fs.readFile(f.file, 'utf8'))) out.add(e);
        out.noteRead(f.release);
      }
      return out;
    })();
    indexes.set(cacheRoot, index);
  }
  return index;
}
