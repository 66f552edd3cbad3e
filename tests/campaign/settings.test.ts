import { promises as fs } from 'node:fs';
import path from 'node:path';
import yargs from 'yargs';
import { describe, expect, it } from 'vitest';
import { sourceFiles } from '../helpers/sources.js';
import { resolveSettings, SETTINGS, SETTING_FLAGS, type SettingName } from '../../src/campaign/settings.js';
import { settingsFromArgs, withCampaignSettings } from '../../src/cli/options.js';
import { UsageError } from '../../src/errors.js';

/** A command line through the flags the CLI declares from SETTINGS, to the settings. */
async function fromCli(argv: string[]) {
  const args = await withCampaignSettings(yargs(argv).strict()).parseAsync();
  return settingsFromArgs(args);
}

describe('campaign settings', () => {
  it('resolve every setting once: given ones checked, the others their defaults', () => {
    const s = resolveSettings({ seed: 'x', maxPrograms: 5 });
    expect(s).toMatchObject({ seed: 'x', maxPrograms: 5, durationMs: undefined, firstProgram: 0, modes: ['gil-off', 'gil-on'], timeoutMs: 30_000, calibrate: true, oracles: 'all' });
    expect(s).toMatchObject({ mutateShare: 0.3, leakShare: 0.1, spawnShare: 0.1, focusedShare: 0.5, surfaceShare: 0.5, reproTrials: 10, rateShare: 0.1, flakyBelow: 0.5, unconfirmedRetries: 2 });
    // Every row has a value: nothing left for a stage to default.
    expect(Object.keys(s).sort()).toEqual(Object.keys(SETTINGS).sort());
    // A random seed when none is given (printed at start), different each time.
    expect(resolveSettings({ maxPrograms: 1 }).seed).toMatch(/^[0-9a-f]{8}$/);
  });

  it('default the surface share to 0 when the programs are narrowed to kinds or effects', () => {
    expect(resolveSettings({ maxPrograms: 1, genOptions: { kinds: ['list'] } }).surfaceShare).toBe(0);
    expect(resolveSettings({ maxPrograms: 1, genOptions: { effects: ['exact'] } }).surfaceShare).toBe(0);
    expect(resolveSettings({ maxPrograms: 1, genOptions: { kinds: ['list'] }, surfaceShare: 0.2 }).surfaceShare).toBe(0.2);
  });

  it('refuse a wrong value by its flag, an unknown setting, and a campaign without a budget', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ leakShare: 2 }, /--leak-share 2: expected a share between 0 and 1/],
      [{ reproTrials: -1 }, /--repro-trials -1: expected a whole number ≥ 0/],
      [{ maxPrograms: 0 }, /--runs 0: expected a whole number ≥ 1/],
      [{ modes: 'gil-maybe' }, /--modes gil-maybe: unknown mode "gil-maybe"/],
      [{ timeoutMs: 'soon' }, /--timeout soon: expected a duration/],
      [{ oracles: 'crash,nope' }, /unknown oracle "nope"/],
      [{ seed: 'a\nb' }, /--seed .*only printable ASCII/],
      [{ genOptions: { threads: [1, 99] } }, /generator options: threads must be within 2..16/],
      [{ leakshare: 0.1 }, /unknown setting "leakshare"/],
    ];
    for (const [input, message] of bad) expect(() => resolveSettings({ maxPrograms: 1, ...input })).toThrow(message);
    expect(() => resolveSettings({})).toThrow(UsageError);
    expect(() => resolveSettings({})).toThrow(/a campaign needs a budget: --duration D and\/or --runs N/);
  });

  it('read the same from a command line as from a library caller', async () => {
    const cli = await fromCli(['--seed', 's', '--duration', '90s', '--timeout', '10s', '--modes', 'gil-off', '--leak-share', '0', '--no-calibrate', '--kinds', 'list,dict', '--unconfirmed-retries', '3']);
    const api = resolveSettings({ seed: 's', durationMs: 90_000, timeoutMs: 10_000, modes: ['gil-off'], leakShare: 0, calibrate: false, genOptions: { kinds: ['list', 'dict'] }, unconfirmedRetries: 3 });
    expect(cli).toEqual(api);
    await expect(fromCli(['--runs', '3', '--focused-share', '7'])).rejects.toThrow(/--focused-share 7: expected a share between 0 and 1/);
  });

  it('have a flag for every row a person sets, each once', () => {
    const flags = SETTING_FLAGS.map((f) => f.flag);
    expect(new Set(flags).size).toBe(flags.length);
    const flagless = (Object.keys(SETTINGS) as SettingName[]).filter((k) => !SETTING_FLAGS.some((f) => f.key === k)).sort();
    // firstProgram is a fleet slice's; genOptions comes from --threads, --kinds, ... and --options.
    expect(flagless).toEqual(['firstProgram', 'genOptions']);
  });

  it('are defaulted nowhere else: no `?? default` on a setting outside settings.ts', async () => {
    // A budget may be absent (no duration: a number of programs); every other setting always has its value.
    const names = Object.keys(SETTINGS).filter((k) => k !== 'durationMs' && k !== 'maxPrograms').join('|');
    // Anywhere: a read of the settings value with a fallback. In the campaign's, the fleet's and the CLI's
    // code: a setting's name read off an options bag with one (how the defaults were once applied, at nine sites).
    const onSettings = new RegExp(`\\bsettings\\.(${names})\\s*\\?\\?`);
    const onBag = new RegExp(`\\b(?:s|o|c\\.o|this\\.o|args|payload|plan|options)\\.(${names})\\s*\\?\\?`);
    const campaignCode = ['campaign', 'fleet', 'cli'].map((d) => path.resolve('src', d) + path.sep);
    const offenders: string[] = [];
    for (const file of sourceFiles(path.resolve('src'))) {
      if (file.endsWith(path.join('campaign', 'settings.ts'))) continue;
      const ours = campaignCode.some((d) => file.startsWith(d));
      const lines = (await fs.readFile(file, 'utf8')).split('\n');
      lines.forEach((line, i) => {
        if (onSettings.test(line) || (ours && onBag.test(line)) || /CAMPAIGN_DEFAULTS/.test(line)) offenders.push(`${path.relative('.', file)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
    // The rule sees what it is for.
    expect(onBag.test('rng.bool(o.leakShare ?? 0.1)') && onSettings.test('x.settings.focusedShare ?? 0.5')).toBe(true);
  });
});
