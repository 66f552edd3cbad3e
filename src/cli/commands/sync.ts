// `ftfuzz sync`.
import type { Argv } from 'yargs';
import { UsageError } from '../../errors.js';
import path from 'node:path';
import { ExitCode } from '../../types.js';
import { openFleet } from '../../fleet/session.js';
import { redactUrl } from '../../fleet/trust.js';
import { fleetKeys, say, withRedisOptions } from '../options.js';

export function syncCommand(y: Argv): Argv {
  return y
  .command(
    'sync <direction>',
    'copy a fleet\'s Redis store out to ordinary crashes/ and corpus/ directories, or directories into it',
    (y) =>
      withRedisOptions(y)
        .positional('direction', { choices: ['out', 'in'] as const, demandOption: true, describe: 'out: Redis -> directories; in: directories -> Redis' })
        .option('crashes', { type: 'string', default: 'crashes', describe: 'crash store directory' })
        .option('corpus', { type: 'string', default: 'corpus', describe: 'corpus directory' }),
    async (args) => {
      if (!args.redis) throw new UsageError('sync needs --redis URL');
      const fleet = await openFleet(args.redis, fleetKeys(args));
      try {
        const crashes = path.resolve(args.crashes);
        const corpus = path.resolve(args.corpus);
        const r = args.direction === 'out' ? await fleet.store.exportTo(crashes, corpus) : await fleet.store.importFrom(crashes, corpus);
        for (const e of r.errors) say(args.direction === 'out' ? `refused: ${e}` : e);
        say(`${args.direction === 'out' ? `wrote ${r.buckets} bucket(s) to ${crashes} and ${r.corpus} corpus program(s) to ${corpus}` : `read ${r.buckets} bucket(s) from ${crashes} and ${r.corpus} corpus program(s) from ${corpus} into ${redactUrl(fleet.url)}`}`);
        process.exitCode = r.errors.length ? (args.direction === 'out' ? ExitCode.Refused : ExitCode.Input) : ExitCode.Clean;
      } finally {
        await fleet.close();
      }
    },
  );
}
