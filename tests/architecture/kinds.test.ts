// The kind table decides: every place that treats one finding kind unlike another reads its row in
// src/findingKinds.ts, so a new kind is a new row, and each of its decisions is made there.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sourceFiles } from '../helpers/sources.js';
import { FINDING_KINDS, type FindingKindSpec } from '../../src/findingKinds.js';
import { factsOf, familyOf } from '../../src/trials/family.js';
import { gilFamily } from '../../src/familyGil.js';
import { shownWithGil } from '../../src/triage/families.js';

describe('the finding-kind table', () => {
  it('is the only place that branches on a finding kind\'s name', async () => {
    const kinds = Object.keys(FINDING_KINDS).join('|');
    // `x.kind === 'hang'`, `['crash', 'race'].includes(kind)`: a decision by name. A process's termination
    // kind (`timeout`, `resource`, ...) is another vocabulary and not matched.
    const byName = new RegExp(`(?<!\\btermination|\\bt)\\??\\.kind\\s*[!=]==\\s*'(${kinds})'|(?<![.\\w])kind\\s*[!=]==\\s*'(${kinds})'|\\['(${kinds})'(?:, '(${kinds})')*\\]\\.includes\\([^)]*kind`);
    const offenders: string[] = [];
    for (const file of sourceFiles(path.resolve('src'))) {
      if (file.endsWith('findingKinds.ts')) continue;
      (await fs.readFile(file, 'utf8')).split('\n').forEach((line, i) => {
        if (byName.test(line)) offenders.push(`${path.relative('.', file)}:${i + 1}: ${line.trim().slice(0, 140)}`);
      });
    }
    expect(offenders).toEqual([]);
    expect(byName.test("if (meta.kind === 'race') {") && byName.test("f.kind !== 'crash'") && byName.test("kind === 'hang'") && !byName.test("r.termination.kind === 'resource'") && !byName.test("t.kind !== 'resource'")).toBe(true);
  });

  it('has every decision in every row (a kind added without one fails to compile; its values are the ones the code reads)', () => {
    const fields: (keyof FindingKindSpec)[] = ['store', 'stacks', 'judgedOnReruns', 'trialLimit', 'symptomOnly', 'blocksAbsence', 'reproduce', 'family', 'withGil', 'gilSplit', 'outlivesLimit', 'needsTsan'];
    for (const [kind, spec] of Object.entries(FINDING_KINDS)) expect(Object.keys(spec).sort(), kind).toEqual([...fields].sort());
  });

  it('drives families and the GIL rules from the row, not the name', () => {
    // A crash with the GIL on splits its family; a race shown with the GIL on is a family too, but keeps its key.
    const entry = { key: 'crash|Objects/x.c|f', label: 'crash in f', rule: 'entry' };
    expect(gilFamily(entry, 'crash', ['gil-off', 'gil-on']).key).toMatch(/\|with the GIL$/);
    expect(gilFamily(entry, 'race', ['gil-on']).key).toBe(entry.key);
    expect(shownWithGil({ kind: 'race', modes: ['gil-on'] })).toBe(true);
    expect(shownWithGil({ kind: 'differential', modes: ['gil-on'] })).toBe(false);
    // Each kind gets the facts its family rule reads: a hang's threads, a race's TSan stacks.
    const hang = factsOf({ kind: 'hang', signature: 'hang|spin|f', native: undefined }, { evidence: { termination: { kind: 'timeout' }, modeRequested: 'gil-off', programPath: 'p', stderrTail: '', native: { source: 'gdb-attach', samples: [{ at: null, ticks: {}, python: {}, threads: [{ lwp: 1, name: null, frames: [{ func: 'f', file: 'Objects/x.c', line: 1, lib: null }] }] }], faultingLwp: null, raw: '' } } as never });
    expect(hang.hangThreads).toHaveLength(1);
    expect(familyOf(hang).rule).not.toBe('signature');
  });
});
