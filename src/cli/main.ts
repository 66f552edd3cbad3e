// The command line: parse options, call the library, print. One module per command (commands/), the
// option groups they share in options.ts; nothing here that a TypeScript user of the library would need.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { FtfuzzError, UsageError, exitCodeOf } from '../errors.js';
import { ExitCode } from '../types.js';
import { pythonCommand } from './commands/python.js';
import { setupCommand } from './commands/setup.js';
import { genCommand } from './commands/gen.js';
import { opsCommand } from './commands/ops.js';
import { fuzzCommand } from './commands/fuzz.js';
import { triageCommand } from './commands/triage.js';
import { minimizeCommand } from './commands/minimize.js';
import { replayCommand } from './commands/replay.js';
import { workerCommand } from './commands/worker.js';
import { syncCommand } from './commands/sync.js';
import { fleetCommand } from './commands/fleet.js';
import { reportCommand } from './commands/report.js';
import { runCommand } from './commands/run.js';
import { surfaceCommand } from './commands/surface.js';

const COMMANDS = [pythonCommand, setupCommand, genCommand, opsCommand, fuzzCommand, triageCommand, minimizeCommand, replayCommand, workerCommand, fleetCommand, syncCommand, reportCommand, runCommand, surfaceCommand];

/**
 * The CLI. `inspect` (tests) receives each command's parsed arguments after validation instead of its handler
 * running: how a command line reads, without doing anything.
 */
export function buildCli(argv: string[], inspect?: (parsed: Record<string, unknown>) => never) {
  const cli = COMMANDS.reduce((y, command) => command(y), yargs(argv).scriptName('ftfuzz').usage('$0 <command> [options]\n\nFuzz and stress-test free-threaded CPython.'));
  if (inspect) cli.middleware((parsed) => inspect(parsed), false);
  return cli
    // A repeatable option takes one value per flag: `python venv --python PY DIR` is DIR's, as in any order.
    .parserConfiguration({ 'greedy-arrays': false })
    .demandCommand(1, 'choose a command')
    .strict()
    .help()
    .version(false)
    .epilog('Exit codes: 0 nothing found, 1 findings, 2 usage error, 3 environment error, 4 bad input file, 5 a fleet job, corpus entry or bucket refused (signature).')
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    });
}

export async function main(argv = hideBin(process.argv)): Promise<number> {
  try {
    await buildCli(argv).parseAsync();
    return Number(process.exitCode ?? ExitCode.Clean);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // yargs puts its detail on the next lines ("Invalid values:\n  Argument: ..."): one line of it all.
    const line = error instanceof UsageError ? message.split('\n').map((l) => l.trim()).filter(Boolean).join(' ') : message.split('\n')[0];
    process.stderr.write(`ftfuzz: error: ${line}\n`);
    if (!(error instanceof FtfuzzError) && process.env.FTFUZZ_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return exitCodeOf(error);
  }
}
