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
  /** Each listing: the release whose section lists it, and the series whose NEWS file it was read from. */
  listings: { release: string; file: string }[];
}

/** The changelogs ftfuzz has, merged: per gh issue, every release that lists a fix for it. */
export class NewsIndex {
  private readonly byGh = new Map<number, FixRecord>();
  /** Per series, the newest release whose NEWS was read (a fix missing from it is not in that series yet). */
  readonly newestRead = new Map<string, string>();

  /** `entries` read from the NEWS file of `readReleases` (one release: its series is the file's). */
  constructor(entries: readonly NewsEntry[] = [], readReleases: readonly string[] = []) {
    const series = [...new Set(readReleases.map(seriesOfRelease))];
    for (const e of entries) this.add(e, series.length === 1 ? series[0] : undefined);
    for (const r of readReleases) this.noteRead(r);
  }

  /** An entry read from the NEWS file of `file` (a series; default: the series of the entry's own release). */
  add(e: NewsEntry, file = seriesOfRelease(e.release)): void {
    let known = this.byGh.get(e.gh);
    if (!known) this.byGh.set(e.gh, (known = { gh: e.gh, releases: [], text: e.text, section: e.section, listings: [] }));
    if (!known.releases.includes(e.release)) known.releases.push(e.release);
    if (!known.listings.some((l) => l.release === e.release && l.file === file)) known.listings.push({ release: e.release, file });
    known.releases.sort(compareReleases);
  }

  /** The entries a release's own section lists (`3.13.12`: what that release fixed). */
  listedIn(release: string): FixRecord[] {
    return this.all().filter((f) => f.releases.includes(release));
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
   * Whether an interpreter of `version` (`3.13.15`) has the fix for `gh`, from the changelogs only: true /
   * false, or null when they cannot tell. Containment is read from `version`'s own series' NEWS file, never
   * assumed across series: a fix in 3.13.12 is in 3.14.0 only if 3.14's NEWS lists it (in a 3.14 release up to
   * that version, or in an earlier series' section of 3.14's own file: merged before 3.14 branched). Fixed
   * twice in a series (gh-137400: 3.13.7 and 3.13.10): only the last one makes the interpreter whole.
   */
  contains(gh: number, version: string): boolean | null {
    const series = seriesOfRelease(version);
    const newest = this.newestRead.get(series);
    // This series' changelog was never read: it cannot tell (3.14 is the default install on a user's machine).
    if (!newest) return null;
    const listings = (this.byGh.get(gh)?.listings ?? []).filter((l) => l.file === series);
    if (listings.length === 0) return compareReleases(version, newest) <= 0 ? false : null;
    // Listed under an earlier series in this series' own file: on the main branch before this one branched.
    if (listings.some((l) => compareReleases(`${seriesOfRelease(l.release)}.0`, `${series}.0`) < 0)) return true;
    const own = listings.map((l) => l.release).filter((r) => seriesOfRelease(r) === series).sort(compareReleases);
    const last = own[own.length - 1];
    return last === undefined ? null : compareReleases(version, last) >= 0;
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
        for (const e of parseNews(await fs.readFile(f.file, 'utf8'))) out.add(e, seriesOfRelease(f.release));
        out.noteRead(f.release);
      }
      return out;
    })();
    indexes.set(cacheRoot, index);
  }
  return index;
}

/** What a bucket's crash site offers a changelog: the functions there, and the objects and modules at fault. */
export interface SiteWords {
  /** C functions at the crash site (the innermost meaningful frames and where the stack entered the object). */
  functions: string[];
  /** Object kinds and module names (`bytearray`, `elementtree`, `atexit`). */
  names: string[];
}

/** Parts of C function names that say nothing of which fix it is. */
const FUNCTION_STOP = new Set(['impl', 'internal', 'lock', 'held', 'locked', 'unlocked', 'get', 'set', 'new', 'obj', 'object', 'objects', 'py', 'pyobject', 'type', 'call', 'func', 'wrapper', 'fast', 'slow', 'generic', 'self', 'args', 'arg', 'tp', 'the', 'and', 'with', 'from', 'ex', 'item', 'items', 'next', 'data', 'ptr', 'size', 'len', 'free', 'alloc', 'init', 'dealloc', 'clear', 'fastcall', 'vectorcall', 'meth', 'method']);
const CONCURRENT_WORDS = /free[- ]thread|thread[- ]safe|thread safety|data race|\brace\b|races\b|concurrent|multiple threads|several threads|use-after-free|use after free/i;
const NEWS_FIX_SECTIONS = /^(Library|Core and Builtins|C API)$/;

function wordIn(text: string, word: string): boolean {
  return new RegExp(`(^|[^a-z0-9])${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^a-z0-9]|$)`, 'i').test(text);
}

/** `_elementtree_Element_findtext_impl` -> `elementtree`, `element`, `findtext`. */
export function functionWords(func: string): string[] {
  return func.split(/_+|(?<=[a-z])(?=[A-Z])/).map((w) => w.toLowerCase()).filter((w) => w.length >= 3 && !FUNCTION_STOP.has(w));
}

export interface RankedFix {
  fix: FixRecord;
  score: number;
  /** What matched: `names bytearray`, `functions find`, `concurrency`. */
  matched: string[];
}

/**
 * The changelog entries that may be the fix of a bug, ranked by the crash site's words: the object or module
 * named (+2), each function word of the site the text names (+2: `find` for bytearray_find, `unregister` for
 * atexit_unregister), a concurrency fix (+1). An entry needs 3 or more, and a name or two function words:
 * never the text's resemblance to an op alone.
 */
export function rankFixes(fixes: readonly FixRecord[], site: SiteWords): RankedFix[] {
  const names = [...new Set(site.names.map((n) => n.toLowerCase().replace(/^_+/, '')).filter((n) => n.length >= 3))];
  const words = [...new Set(site.functions.flatMap(functionWords))].filter((w) => !names.includes(w));
  const out: RankedFix[] = [];
  for (const fix of fixes) {
    if (!NEWS_FIX_SECTIONS.test(fix.section)) continue;
    const text = fix.text.replace(/concurrent\.futures/g, '');
    const name = names.find((n) => wordIn(text, n));
    const hit = words.filter((w) => wordIn(text, w));
    const concurrent = CONCURRENT_WORDS.test(text);
    const score = (name ? 2 : 0) + 2 * hit.length + (concurrent ? 1 : 0);
    if (score < 3 || (!name && hit.length < 2)) continue;
    out.push({ fix, score, matched: [...(name ? [`names ${name}`] : []), ...(hit.length ? [`functions ${hit.join(', ')}`] : []), ...(concurrent ? ['concurrency'] : [])] });
  }
  return out.sort((a, b) => b.score - a.score || a.fix.gh - b.fix.gh);
}
