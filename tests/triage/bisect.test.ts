// Release bisection and upstream links read from the changelogs: the first fixing release found step by
// step (each step judged as fixed-between is), its NEWS entries ranked by the crash site's words, and
// containment across series read from the files, never assumed.
import { describe, expect, it } from 'vitest';
import { bisectBucket, releasesBetween } from '../../src/triage/bisect.js';
import { fixedBetween, type Count } from '../../src/trials/claims.js';
import { functionWords, NewsIndex, parseNews, rankFixes } from '../../src/triage/news.js';
import { bisectedFix } from '../../src/triage/families.js';
import type { BucketMeta } from '../../src/store/crashStore.js';
import type { Target } from '../../src/types.js';
import { Rng } from '../../src/generators/rng.js';

const target = (version: string): Target => ({ path: `/py/${version}`, executable: `/py/${version}`, origin: 'cache', implementation: 'cpython', version, versionInfo: version.split('.').map(Number) as [number, number, number], freeThreaded: true, debug: false, sanitizers: [], abiflags: 't', configArgs: '', label: `CPython ${version}t` });
const meta = { id: 'crash-1', kind: 'crash', modes: ['gil-off'], signature: 'crash|SIGSEGV|SIGSEGV|c:bytearray_find_internal' } as unknown as BucketMeta;

const NEWS_313 = `What's New in Python 3.13.12 final?
===================================

Core and Builtins
-----------------

- gh-142560: Fix use-after-free in bytearray search-like methods
  (:meth:\`bytearray.find\`, :meth:\`bytearray.count\`, :meth:\`bytearray.index\`) by marking the storage as exported.

- gh-143003: Fix an overflow of the shared empty buffer in :meth:\`bytearray.extend\`
  when \`\`__length_hint__()\`\` returns 0 for a non-empty iterator.

Library
-------

- gh-142881: Fix concurrent and reentrant call of :func:\`atexit.unregister\`.

What's New in Python 3.13.10 final?
===================================

Library
-------

- gh-141311: Fix assertion failure in :func:\`!io.BytesIO.readinto\` under concurrent use.
`;

const NEWS_314 = `What's New in Python 3.14.1 final?
==================================

Library
-------

- gh-142881: Fix concurrent and reentrant call of :func:\`atexit.unregister\`.

What's New in Python 3.14.0 beta 1?
===================================

Library
-------

- gh-141311: Fix assertion failure in :func:\`!io.BytesIO.readinto\` under concurrent use.

What's New in Python 3.13.0 alpha 2?
====================================

Library
-------

- gh-100001: Make the thing thread-safe.
`;

/** The changelogs of 3.13 and 3.14 read as loadNews reads them: each entry from its series' file. */
function news(): NewsIndex {
  const index = new NewsIndex();
  for (const e of parseNews(NEWS_313)) index.add(e, '3.13');
  index.noteRead('3.13.15');
  for (const e of parseNews(NEWS_314)) index.add(e, '3.14');
  index.noteRead('3.14.2');
  return index;
}

/**
 * Releases simulated by their true rates: a trial of release v shows the bug with `rate(v)`; the
 * step compares v with the found-on release as the real one does (interleaved counts, fixedBetween).
 */
function simulated(rate: (version: string) => number, seed: string) {
  const rng = new Rng(seed);
  return (_file: string, _meta: BucketMeta, recorded: Count, old: Target, neu: Target) => {
    const o = { hits: 0, trials: 0 };
    const n = { hits: 0, trials: 0 };
    for (let i = 0; i < 20; i++) {
      n.trials += 1;
      if (rng.bool(rate(neu.version))) n.hits += 1;
      o.trials += 1;
      if (rng.bool(rate(old.version))) o.hits += 1;
      if (n.hits > 0 && i >= 2) break;
    }
    return Promise.resolve({ old: o, new: n, newOthers: { trials: 0, titles: [] }, ...fixedBetween(o, n, recorded) });
  };
}

describe('release bisection', () => {
  it('lists the patch releases between two releases of a series', () => {
    expect(releasesBetween('3.13.5', '3.13.9')).toEqual(['3.13.6', '3.13.7', '3.13.8', '3.13.9']);
    expect(releasesBetween('3.13.5', '3.14.0')).toEqual([]);
  });

  it('finds the first fixing release, with every step\'s trials and p-value, and ranks that release\'s NEWS by the crash site', async () => {
    const fixedIn = 12;
    const tested: string[] = [];
    const b = await bisectBucket({
      file: 'repro.py', meta, recorded: { hits: 9, trials: 10 }, found: target('3.13.5'), to: '3.13.15', news: news(),
      site: { functions: ['bytearray_find_internal', 'bytearray_find'], names: ['bytearray'] },
      targetFor: (release) => {
        tested.push(release);
        return Promise.resolve(target(release));
      },
      compare: simulated((v) => (Number(v.split('.')[2]) >= fixedIn ? 0 : 0.8), 'bisect'),
    });
    expect(b.firstFixed).toBe('3.13.12');
    expect(b.lastAffected).toBe('3.13.11');
    // Binary search: the newest first, then halving (never all ten releases).
    expect(tested[0]).toBe('3.13.15');
    expect(tested.length).toBeLessThanOrEqual(5);
    for (const s of b.steps) {
      expect(s.old.trials).toBeGreaterThan(0);
      expect(s.claim === 'fixed-between' ? s.p !== null && s.p < 0.05 : s.claim === 'still-present').toBe(true);
    }
    // The candidates are 3.13.12's entries that the site names: bytearray and find (not extend's overflow,
    // which names bytearray but neither the site's functions nor a concurrency fix).
    expect(b.candidates.map((c) => c.gh)).toEqual([142560]);
    expect(b.candidates[0]?.matched).toContain('functions find');
    expect(bisectedFix({ bisection: b })).toBe('3.13.12|gh-142560');
  });

  it('passes over a release that cannot be built, and says the fix is one of the untested ones', async () => {
    const b = await bisectBucket({
      file: 'repro.py', meta, recorded: { hits: 10, trials: 10 }, found: target('3.13.5'), to: '3.13.8',
      site: { functions: [], names: [] },
      targetFor: (release) => Promise.resolve(release === '3.13.7' ? null : target(release)),
      compare: simulated((v) => (Number(v.split('.')[2]) >= 7 ? 0 : 1), 'gap'),
    });
    expect(b.lastAffected).toBe('3.13.6');
    expect(b.firstFixed).toBeNull();
    expect(b.why).toMatch(/3\.13\.7 could not be obtained, so the first fix is one of 3\.13\.7, 3\.13\.8/);
  });

  it('claims nothing when the newest release still shows the bug', async () => {
    const b = await bisectBucket({
      file: 'repro.py', meta, recorded: { hits: 10, trials: 10 }, found: target('3.13.5'), to: '3.13.15',
      site: { functions: [], names: [] }, targetFor: (r) => Promise.resolve(target(r)), compare: simulated(() => 0.9, 'still'),
    });
    expect(b.firstFixed).toBeNull();
    expect(b.steps).toHaveLength(1);
    expect(b.why).toMatch(/^not fixed between 3\.13\.5 and 3\.13\.15/);
  });
});

describe('containment across series, from the files', () => {
  it('a fix listed in a 3.13.x NEWS file is in 3.14 only if 3.14\'s own NEWS lists it', () => {
    const index = news();
    // gh-142881: 3.13.12 and 3.14.1 list it: not in 3.14.0, in 3.14.1 and later.
    expect(index.contains(142881, '3.14.0')).toBe(false);
    expect(index.contains(142881, '3.14.1')).toBe(true);
    // gh-142560 is in 3.13's NEWS only: 3.14's changelog does not list it, so 3.14 does not have it.
    expect(index.contains(142560, '3.14.2')).toBe(false);
    // ... and a 3.14 newer than any 3.14 changelog read cannot be told.
    expect(index.contains(142560, '3.14.5')).toBeNull();
    // gh-141311: fixed in 3.13.10 and, before 3.14 was released, in 3.14.0b1: in 3.14.0.
    expect(index.contains(141311, '3.14.0')).toBe(true);
    // Merged while 3.13 was still main (listed in 3.14's own file, under 3.13.0a2): in every 3.14.
    expect(index.contains(100001, '3.14.0')).toBe(true);
    // Within a series as before.
    expect(index.contains(142560, '3.13.11')).toBe(false);
    expect(index.contains(142560, '3.13.12')).toBe(true);
    // A series whose changelog was never read: unknown, never assumed.
    expect(index.contains(142560, '3.15.0')).toBeNull();
  });

  it('ranks a changelog by the crash site\'s words, never by an op name alone', () => {
    expect(functionWords('_elementtree_Element_findtext_impl')).toEqual(['elementtree', 'element', 'findtext']);
    const fixes = news().listedIn('3.13.12');
    expect(rankFixes(fixes, { functions: ['atexit_unregister'], names: ['atexit'] }).map((r) => r.fix.gh)).toEqual([142881]);
    expect(rankFixes(fixes, { functions: ['bytearray_extend'], names: ['bytearray'] })[0]?.fix.gh).toBe(143003);
    // A name alone, without a site word or a concurrency fix, is not enough.
    expect(rankFixes(fixes, { functions: [], names: ['list'] })).toEqual([]);
  });
});
