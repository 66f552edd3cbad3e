// A campaign's settings, read, validated and given their defaults in one place (fast-check's
// QualifiedParameters): one value every later stage reads with no fallback of its own. The same value is a
// local campaign's, a fleet coordinator's and, inside the signed slice payload, a fleet worker's: a worker
// resolves the payload's settings again here, so a forged or older payload is refused by the same checks a
// command line gets. The CLI declares one flag per row of SETTINGS and maps flags onto rows; nothing else.
//
// Adding a setting: a row below (its flag, help, default and parser), and its use where a stage reads
// `settings.<name>`. The CLI's flag, the fleet payload and the worker follow from the row.
import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';
import type { EffectClass } from '../generators/ops.js';
import { resolveGenOptions, type GenOptions } from '../generators/scenario.js';
import { selectOracles } from '../oracles/index.js';
import { checkSeed } from '../seed.js';
import { GIL_MODES, type GilMode } from '../types.js';
import { parseDuration } from '../units.js';

/** How the CLI declares a row's flag (yargs `type`); `null`: no flag of its own. */
type FlagType = 'number' | 'string' | 'boolean';

interface Row<T> {
  /** The command-line flag, also the name errors give (`--leak-share 2: ...`); null for a setting no flag sets. */
  flag: string | null;
  type: FlagType;
  describe: string;
  /** The default, from the settings resolved before it (rows resolve in order). */
  default: (earlier: Earlier) => T;
  /** A value given (a flag's text, or a library caller's typed value) to the setting, or a UsageError. */
  parse: (raw: unknown, name: string) => T;
}

/** What a default may read of the settings resolved before it. */
interface Earlier {
  genOptions?: Partial<GenOptions>;
}

const row = <T>(r: Row<T>): Row<T> => r;

function fail(name: string, raw: unknown, expected: string): never {
  throw new UsageError(`${name} ${typeof raw === 'string' ? raw : JSON.stringify(raw)}: ${expected}`);
}

/** A share: a number in [0, 1] (a flag's text too). */
function share(raw: unknown, name: string): number {
  const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) fail(name, raw, 'expected a share between 0 and 1');
  return v;
}

function wholeNumber(min: number) {
  return (raw: unknown, name: string): number => {
    const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(name, raw, `expected a whole number ≥ ${min}`);
    return v;
  };
}

/** Milliseconds: a library caller's number as it is, a flag's text as a duration (`30s`, `10m`; a bare number is seconds). */
function millis(raw: unknown, name: string): number {
  if (typeof raw === 'number' && Number.isFinite(raw) && raw >= 0) return Math.round(raw);
  if (typeof raw === 'string') return parseDuration(raw, name);
  return fail(name, raw, 'expected a duration like 500ms, 30s, 10m or 2h');
}

function bool(raw: unknown, name: string): boolean {
  if (typeof raw === 'boolean') return raw;
  return fail(name, raw, 'expected true or false');
}

/** `gil-off,gil-on`, or an array of modes. */
export function parseModes(raw: unknown, name = '--modes'): GilMode[] {
  const list = typeof raw === 'string' ? raw.split(',').map((m) => m.trim()).filter(Boolean) : raw;
  if (!Array.isArray(list)) return fail(name, raw, 'expected gil-off, gil-on or gil-off,gil-on');
  for (const m of list) if (!GIL_MODES.includes(m as GilMode)) fail(name, raw, `unknown mode "${String(m)}"; use gil-off, gil-on or both`);
  if (list.length === 0) fail(name, raw, 'is empty; use gil-off, gil-on or gil-off,gil-on');
  return [...new Set(list as GilMode[])];
}

/** Generator options as a program header records them, checked (`--options`, and what the flags below make). */
function genOptions(raw: unknown, name: string): Partial<GenOptions> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail(name, raw, 'expected generator options as an object');
  try {
    resolveGenOptions(raw);
  } catch (error) {
    throw new UsageError(`generator options: ${(error as Error).message}`);
  }
  return raw;
}

/** An oracle selection (`all`, or names): checked against the oracles this ftfuzz has. */
function oracles(raw: unknown, name: string): string {
  if (typeof raw !== 'string') return fail(name, raw, 'expected "all" or a comma-separated list of oracle names');
  selectOracles(raw);
  return raw;
}

/** Every campaign setting, in the order they resolve. */
export const SETTINGS = {
  seed: row<string>({
    flag: 'seed', type: 'string', describe: 'campaign seed (default: random, printed at start)',
    default: () => randomBytes(4).toString('hex'),
    parse: (raw, name) => (typeof raw === 'string' ? checkSeed(raw, name) : fail(name, raw, 'expected a seed (one line of printable ASCII)')),
  }),
  modes: row<GilMode[]>({ flag: 'modes', type: 'string', describe: 'GIL modes to run in (default gil-off,gil-on)', default: () => ['gil-off', 'gil-on'], parse: parseModes }),
  durationMs: row<number | undefined>({ flag: 'duration', type: 'string', describe: 'stop after this long (e.g. 60s, 10m, 8h)', default: () => undefined, parse: millis }),
  maxPrograms: row<number | undefined>({ flag: 'runs', type: 'number', describe: 'stop after this many programs', default: () => undefined, parse: wholeNumber(1) }),
  /** Programs `firstProgram …` of the seed: a fleet slice runs exactly the programs a local campaign of the same seed would at those indices. */
  firstProgram: row<number>({ flag: null, type: 'number', describe: 'index of the first program', default: () => 0, parse: wholeNumber(0) }),
  timeoutMs: row<number>({
    flag: 'timeout', type: 'string', describe: 'cap of the per-run time limit; each program\'s own limit is calibrated from its measured run time (--no-calibrate: the cap for every run; default 30s)',
    default: () => 30_000, parse: (raw, name) => { const ms = millis(raw, name); return ms > 0 ? ms : fail(name, raw, 'expected a duration above 0'); },
  }),
  calibrate: row<boolean>({
    flag: 'calibrate', type: 'boolean', describe: 'calibrated per-program time limits (each GIL mode on its own runs; a run past its limit with no progress is waited on through a finish window before it is a hang; default on)',
    default: () => true, parse: bool,
  }),
  genOptions: row<Partial<GenOptions>>({ flag: null, type: 'string', describe: 'generator options (--threads, --iterations, --objects, --effects, --kinds, --options)', default: () => ({}), parse: genOptions }),
  oracles: row<string>({ flag: 'oracles', type: 'string', describe: 'oracles to apply (default all)', default: () => 'all', parse: oracles }),
  mutateShare: row<number>({ flag: 'mutate-share', type: 'number', describe: 'share of programs made by mutating a corpus program (default 0.3)', default: () => 0.3, parse: share }),
  leakShare: row<number>({ flag: 'leak-share', type: 'number', describe: 'share of generated programs run with the leak harness, several rounds in one process (default 0.1)', default: () => 0.1, parse: share }),
  spawnShare: row<number>({
    flag: 'spawn-share', type: 'number', describe: 'share of programs run in fresh processes instead of the fork server, whose pre-imported modules and reused workers hide first-import and lazy-initialisation races (default 0.1)',
    default: () => 0.1, parse: share,
  }),
  focusedShare: row<number>({
    flag: 'focused-share', type: 'number', describe: 'share of generated programs that are focused: one shared object, 2-3 ops per thread, many iterations, its kind chosen by what kinds yielded so far (0: broad programs only; default 0.5)',
    default: () => 0.5, parse: share,
  }),
  surfaceShare: row<number>({
    flag: 'surface-share', type: 'number',
    describe: 'share of programs that are surface programs: a generic shape (method pairs, shared iterators, first access, re-initialisation, snapshots under mutation, property and class writes, registries) on any C type of the first interpreter (see `ftfuzz surface`; default 0.5, or 0 when --kinds or --effects narrows the programs; 0: none)',
    // A campaign narrowed to some kinds or effects is about them: surface programs only when asked for.
    default: (s) => (s.genOptions?.kinds || s.genOptions?.effects ? 0 : 0.5), parse: share,
  }),
  reproTrials: row<number>({ flag: 'repro-trials', type: 'number', describe: 'most re-runs of each new bucket to measure its rate; they stop once the interval says whether it is flaky (0: skip; default 10)', default: () => 10, parse: wholeNumber(0) }),
  rateShare: row<number>({
    flag: 'rate-share', type: 'number', describe: 'share of the campaign that rate measurements (alone, in batches, the other jobs paused) may take; what it leaves unmeasured is listed for ftfuzz triage --measure (default 0.1)',
    default: () => 0.1, parse: share,
  }),
  flakyBelow: row<number>({ flag: 'flaky-below', type: 'number', describe: 'a bucket reproducing less often than this is marked flaky (default 0.5)', default: () => 0.5, parse: share }),
  /** 2: 3 took 8% of a 3.13.5t campaign's slot time, mostly on flaky crashes that a third try did not show either. */
  unconfirmedRetries: row<number>({
    flag: 'unconfirmed-retries', type: 'number', describe: 'fresh re-runs of a finding seen only in a reused worker before it is kept as unconfirmed (default 2)',
    default: () => 2, parse: wholeNumber(0),
  }),
  feedback: row<boolean>({
    flag: 'feedback', type: 'boolean',
    describe: 'on a coverage build (ftfuzz python install --variant coverage): keep programs that reach new C edges or new collision witnesses, and reward kinds and ops by them (default on; no effect on other builds)',
    default: () => true, parse: bool,
  }),
  perturbShare: row<number>({
    flag: 'perturb-share', type: 'number',
    describe: 'share of programs run with seeded schedule perturbation (native/ftfuzz_sched.c, LD_PRELOAD: delays at contended locks, threads stalled at random change points); the seed goes in repro.py (default 0)',
    default: () => 0, parse: share,
  }),
  suppressKnownRaces: row<boolean>({
    flag: 'suppress-known-races', type: 'boolean',
    describe: 'on a TSan build: once a race family is recorded, later programs run with it suppressed (a campaign-local suppressions file), so rarer races behind it get reported (default on)',
    default: () => true, parse: bool,
  }),
};

export type SettingName = keyof typeof SETTINGS;

/** A campaign's settings, every one resolved. */
export type CampaignSettings = { [K in SettingName]: ReturnType<(typeof SETTINGS)[K]['parse']> };

/** What a caller gives: any setting, as its value or (from a flag) its text; the rest take their defaults. */
export type SettingsInput = { [K in SettingName]?: CampaignSettings[K] | string | number };

/**
 * The settings: each given one parsed and checked, each other one its default; a UsageError names the first
 * one that is wrong (its flag). A campaign needs a budget: a duration, a number of programs, or both.
 */
export function resolveSettings(input: SettingsInput): CampaignSettings {
  if (typeof input !== 'object' || input === null) throw new UsageError('campaign settings: expected an object');
  for (const key of Object.keys(input)) if (!(key in SETTINGS)) throw new UsageError(`campaign settings: unknown setting "${key}"`);
  const out: Partial<Record<SettingName, unknown>> = {};
  for (const [key, r] of Object.entries(SETTINGS) as [SettingName, Row<unknown>][]) {
    const raw = input[key];
    out[key] = raw === undefined ? r.default(out as Earlier) : r.parse(raw, r.flag ? `--${r.flag}` : key);
  }
  const settings = out as CampaignSettings;
  if (settings.durationMs === undefined && settings.maxPrograms === undefined) throw new UsageError('a campaign needs a budget: --duration D and/or --runs N');
  return settings;
}

/** The settings the CLI sets from its flags: one entry per row with a flag. */
export const SETTING_FLAGS = (Object.entries(SETTINGS) as [SettingName, Row<unknown>][]).filter(([, r]) => r.flag !== null).map(([key, r]) => ({ key, flag: r.flag as string, type: r.type, describe: r.describe }));

/** The effect classes `--effects` chooses from. */
export const EFFECT_CLASSES: readonly EffectClass[] = ['exact', 'invariant-only', 'crash-only'];

/** A number or range, `2..8`. */
export function parseRange(text: string | undefined, option: string): [number, number] | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)(?:\.\.(\d+))?$/.exec(text.trim());
  if (!m) throw new UsageError(`${option} ${text}: expected a number or a range like 2..8`);
  return [Number(m[1]), Number(m[2] ?? m[1])];
}

export type GenArgs = { threads?: string; iterations?: string; objects?: string; effects?: string; kinds?: string; options?: string };

/** The generator options a user gave with `--threads`, `--kinds`, ... (checked), without the defaults: a campaign's focused programs set the rest. */
export function genPartialFrom(args: GenArgs): Partial<GenOptions> {
  let partial: Partial<GenOptions> = {};
  if (args.options) {
    try {
      partial = JSON.parse(args.options) as Partial<GenOptions>;
    } catch {
      throw new UsageError(`--options: not valid JSON; pass the object a program header records after "options:"`);
    }
  }
  const threads = parseRange(args.threads, '--threads');
  const iterations = parseRange(args.iterations, '--iterations');
  const objects = parseRange(args.objects, '--objects');
  if (threads) partial.threads = threads;
  if (iterations) partial.iterations = iterations;
  if (objects) partial.objects = objects;
  if (args.effects) {
    const effects = args.effects.split(',').map((e) => e.trim());
    for (const e of effects) if (!EFFECT_CLASSES.includes(e as EffectClass)) throw new UsageError(`--effects: unknown effect class "${e}"; use ${EFFECT_CLASSES.join(', ')}`);
    partial.effects = effects as EffectClass[];
  }
  if (args.kinds) partial.kinds = args.kinds.split(',').map((k) => k.trim());
  return genOptions(partial, '--options');
}
