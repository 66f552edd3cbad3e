// Options a person can type in any order: every command's positionals against every repeatable (array)
// option it takes, found from the CLI's own help, not from a list kept by hand.
import { describe, expect, it } from 'vitest';
import { buildCli } from '../../src/cli/main.js';

class Parsed extends Error {
  constructor(readonly args: Record<string, unknown>) {
    super('parsed');
  }
}

/** The help text of a command path. */
async function helpOf(path: string[]): Promise<string> {
  let text = '';
  await buildCli([...path, '--help']).exitProcess(false).parseAsync([...path, '--help'], {}, (_e, _a, output) => {
    text = output;
  });
  return text;
}

/** What a command line parses to, its handler not run. */
async function parse(argv: string[]): Promise<Record<string, unknown>> {
  try {
    await buildCli(argv, (args) => {
      throw new Parsed(args);
    }).parseAsync();
  } catch (error) {
    if (error instanceof Parsed) return error.args;
    throw error;
  }
  throw new Error(`${argv.join(' ')}: no command ran`);
}

/** The section of a help text under a heading (`Commands:`, `Positionals:`, `Options:`). */
function section(help: string, heading: string): string[] {
  const lines = help.split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && /^\S/.test(l));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** Every command path, leaves only (a group such as `python` is walked into). */
async function commandPaths(prefix: string[] = []): Promise<string[][]> {
  const help = await helpOf(prefix);
  const subs = section(help, 'Commands:')
    .map((l) => /^ {2}ftfuzz ((?:[a-z-]+ ?)+?)(?: [<[]|\s{2,}|$)/.exec(l)?.[1]?.trim().split(' '))
    .filter((p): p is string[] => p !== undefined && p.length === prefix.length + 1);
  if (subs.length === 0) return prefix.length ? [prefix] : [];
  const out: string[][] = [];
  for (const sub of subs) out.push(...(await commandPaths(sub)));
  return out;
}

/** A section's entries, each with its wrapped continuation lines joined (`  --python  interpreter … [array]`). */
function entries(lines: string[]): string[] {
  const out: string[] = [];
  for (const l of lines) {
    if (/^ {2}\S/.test(l)) out.push(l.trim());
    else if (out.length && l.trim()) out[out.length - 1] += ` ${l.trim()}`;
  }
  return out;
}

interface Positional {
  name: string;
  variadic: boolean;
  choices: string[];
}

/** A command's positionals from its usage line, with their choices from the Positionals section. */
function positionalsOf(help: string): Positional[] {
  const usage = help.split('\n')[0] ?? '';
  const details = entries(section(help, 'Positionals:'));
  return [...usage.matchAll(/[<[]([a-z-]+)(\.\.)?[>\]]/g)].map((m) => {
    const name = m[1] as string;
    const entry = details.find((e) => e.startsWith(`${name} `)) ?? '';
    const choices = /\[choices: ([^\]]+)\]/.exec(entry)?.[1];
    return { name, variadic: m[2] !== undefined, choices: choices ? [...choices.matchAll(/"([^"]+)"/g)].map((c) => c[1] as string) : [] };
  });
}

describe('the command line', () => {
  it('takes a repeatable option before or after a command\'s positionals alike (python venv --python PY DIR)', async () => {
    const paths = await commandPaths();
    expect(paths.map((p) => p.join(' '))).toEqual(expect.arrayContaining(['python venv', 'replay', 'minimize', 'fuzz']));
    let pairs = 0;
    for (const path of paths) {
      const help = await helpOf(path);
      const positionals = positionalsOf(help);
      const arrays = entries(section(help, 'Options:')).map((e) => /^--([a-z-]+)\b.*\[array\]/.exec(e)?.[1]).filter((o): o is string => o !== undefined);
      if (positionals.length === 0) continue;
      const values = positionals.flatMap((p, i) => (p.choices.length ? [p.choices[0] as string] : p.variadic ? [`P${i}a`, `P${i}b`] : [`P${i}`]));
      for (const option of arrays) {
        const flag = [`--${option}`, 'V1', `--${option}`, 'V2'];
        const before = await parse([...path, ...flag, ...values]);
        const after = await parse([...path, ...values, ...flag]);
        for (const p of positionals) expect(before[p.name], `${path.join(' ')} --${option} … ${p.name}`).toEqual(after[p.name]);
        expect(before[option], `${path.join(' ')} --${option}`).toEqual(['V1', 'V2']);
        expect(after[option]).toEqual(['V1', 'V2']);
        pairs += 1;
      }
    }
    // python venv (--python, --install), replay (--python), minimize (--python), ...: the check saw them.
    expect(pairs).toBeGreaterThanOrEqual(4);
  });

  it('reads python venv --python PY DIR as DIR\'s venv of PY', async () => {
    const args = await parse(['python', 'venv', '--python', '/opt/py3.13t', 'envdir']);
    expect(args).toMatchObject({ python: ['/opt/py3.13t'], dir: 'envdir' });
    expect(await parse(['python', 'venv', 'envdir', '--python', '/opt/py3.13t'])).toMatchObject({ python: ['/opt/py3.13t'], dir: 'envdir' });
  });
});
