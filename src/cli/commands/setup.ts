// `ftfuzz setup`.
import type { Argv } from 'yargs';
import { ensureTools, missingTools, TOOL_PURPOSES, TOOLS } from '../../runtime/provision/tools.js';
import { say } from '../options.js';

export function setupCommand(y: Argv): Argv {
  return y
  .command(
    'setup',
    "install the Debian packages ftfuzz uses (gdb, clang, redis-server, chromium, CPython's build dependencies), or print the one command that does",
    (y) =>
      y
        .option('for', { choices: TOOL_PURPOSES, default: 'tests' as const, describe: 'what the tools are for: tests needs every one' })
        .option('check', { type: 'boolean', default: false, describe: 'only report what is missing (exit 3 when something is)' }),
    async (args) => {
      const missing = await missingTools(args.for);
      if (missing.length === 0) {
        say(`setup: everything ${args.for} needs is installed (${TOOLS.filter((t) => t.purposes.includes(args.for)).map((t) => t.pkg).join(', ')})`);
        return;
      }
      await ensureTools({ purpose: args.for, install: !args.check, log: (line) => say(`setup: ${line}`) });
    },
  );
}
