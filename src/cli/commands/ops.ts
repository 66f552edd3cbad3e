// `ftfuzz ops`.
import type { Argv } from 'yargs';
import { formatOpsTable } from '../opsTable.js';

export function opsCommand(y: Argv): Argv {
  return y
  .command(
    'ops',
    'print the operation library: per op, its effect class, token effect and documented thread safety',
    (y) =>
      y
        .option('kind', { type: 'string', describe: 'only this object kind' })
        .option('json', { type: 'boolean', default: false }),
    (args) => {
      process.stdout.write(formatOpsTable({ kind: args.kind, json: args.json }));
    },
  );
}
