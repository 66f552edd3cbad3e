// Seeds reach program headers, job ids and file names: one printable line, bounded, checked where they
// come in; and a header stays comments whatever reaches it.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { generateProgram } from '../../src/generators/program.js';
import { generateSurfaceProgram } from '../../src/generators/surface/program.js';
import { checkSeed, seedProblem } from '../../src/seed.js';
import { shellQuote, terminalSafe } from '../../src/text.js';
import { FleetTrust, generateFleetKeys, signerFrom } from '../../src/fleet/trust.js';
import { resolveSettings } from '../../src/campaign/settings.js';
import { jobId, signJob, SLICE_FORMAT, verifyJob, type SlicePayload } from '../../src/fleet/jobs.js';

const INJECTED = 'abc\nprint("INJECTED") #';

/** Lines of a program before its first line of code. */
const headerOf = (source: string) => source.split('\n').slice(0, source.split('\n').findIndex((l) => l.trim() && !l.startsWith('#')));

describe('seeds', () => {
  it('are one line of printable ASCII, 1-128 characters, without surrounding spaces', () => {
    expect(seedProblem('surf23b')).toBeNull();
    expect(seedProblem('a:b c-1')).toBeNull();
    expect(seedProblem('')).toMatch(/empty/);
    expect(seedProblem('x'.repeat(129))).toMatch(/at most 128/);
    expect(seedProblem(INJECTED)).toMatch(/"\\n" at 3/);
    expect(seedProblem('é')).toMatch(/printable ASCII/);
    expect(seedProblem(' a')).toMatch(/space/);
    expect(() => checkSeed(INJECTED)).toThrow(/^--seed "abc\\nprint/);
  });

  it('never leave a generated header, even when a caller skips the check', () => {
    for (const source of [
      generateProgram(INJECTED).source,
      generateSurfaceProgram({ types: [{ module: 'm', name: 'T', ctor: 'M.T()', methods: [{ name: 'go', arity: [0, 0] }], properties: [], protocols: [] }] }, INJECTED).source,
    ]) {
      expect(source.split('\n').filter((l) => l.startsWith('print("INJECTED")'))).toEqual([]);
      expect(headerOf(source).every((l) => l.startsWith('#') || l === '')).toBe(true);
      expect(source).toContain('# seed: abc\\x0aprint("INJECTED") #');
    }
  });

  it('reach a terminal without their escape sequences', () => {
    expect(terminalSafe('crash \x1b]0;pwned\x07 in \x9bfoo\nnext\tcol')).toBe('crash ?]0;pwned? in ?foo\nnext\tcol');
  });

  it('regenerate as pasted: the seed shell-quoted in the header', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(generateProgram("o'k").source).toContain(`--seed 'o'\\''k'`);
  });

  it('make job ids BullMQ accepts, distinct per seed', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ minLength: 1, maxLength: 20 }), (a, b) => {
        expect(jobId(a, 3)).not.toContain(':');
        if (a !== b) expect(jobId(a, 3)).not.toBe(jobId(b, 3));
      }),
    );
  });

  it('are checked in a signed fleet job too', () => {
    const me = signerFrom(generateFleetKeys().privatePem, 'test');
    const key = new FleetTrust(me, me.publicKey);
    const settings = resolveSettings({ seed: 'ok:seed', maxPrograms: 2, modes: ['gil-off'] });
    const payload: SlicePayload = { format: SLICE_FORMAT, campaign: 'c', slice: 0, corpusUpTo: 0, settings: { ...settings, seed: INJECTED } };
    expect(verifyJob(key, signJob(me, payload)).refused).toMatch(/its settings cannot be used: --seed .*it holds "\\n"/);
    expect(verifyJob(key, signJob(me, { ...payload, campaign: INJECTED })).refused).toMatch(/its campaign cannot be used: it holds "\\n"/);
    expect(verifyJob(key, signJob(me, { ...payload, settings })).payload?.settings.seed).toBe('ok:seed');
    // A payload that resolves differently than its settings say (a share out of range) is refused by the same checks a flag gets.
    expect(verifyJob(key, signJob(me, { ...payload, settings: { ...settings, leakShare: 2 } })).refused).toMatch(/--leak-share 2: expected a share between 0 and 1/);
  });
});
