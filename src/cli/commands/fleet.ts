// `ftfuzz fleet`: the keys of a fleet. `keygen` makes a key pair on the machine that will use it (the
// private key never leaves it); `register` and `revoke` (on the coordinator's machine, with its key) say
// which worker keys the fleet trusts; `workers` lists them.
import { promises as fs } from 'node:fs';
import type { Argv } from 'yargs';
import { UsageError } from '../../errors.js';
import { openFleet } from '../../fleet/session.js';
import { publicKeyFrom, redactUrl, workerNameProblem, writeKeyPair } from '../../fleet/trust.js';
import { ExitCode } from '../../types.js';
import { fleetKeys, say, withRedisOptions } from '../options.js';

const ACTIONS = ['keygen', 'register', 'revoke', 'workers'] as const;

export function fleetCommand(y: Argv): Argv {
  return y.command(
    'fleet <action> [arg]',
    'a fleet\'s keys: keygen FILE (a key pair for this machine), register FILE.pub --name NAME and revoke NAME (on the coordinator), workers (list)',
    (y) =>
      withRedisOptions(y)
        .positional('action', { choices: ACTIONS, demandOption: true, describe: 'keygen FILE | register FILE.pub --name NAME | revoke NAME-or-ID | workers' })
        .positional('arg', { type: 'string', describe: 'keygen: where to write the private key (FILE.pub gets the public one); register: a worker\'s .pub file; revoke: a worker\'s name or key id' })
        .option('name', { type: 'string', describe: 'register: the worker\'s name in listings, reports and bucket signers' }),
    async (args) => {
      if (args.action === 'keygen') {
        if (!args.arg) throw new UsageError('fleet keygen needs FILE: where to write this machine\'s private key (FILE.pub gets the public key)');
        const keys = await writeKeyPair(args.arg);
        say(`fleet key ${keys.id}: private key in ${args.arg} (keep it on this machine), public key in ${args.arg}.pub`);
        say(`a coordinator: give ${args.arg}.pub to every worker (their --coordinator-key); a worker: give ${args.arg}.pub to the operator, who runs ftfuzz fleet register --redis URL --name NAME ${args.arg}.pub`);
        return;
      }
      if (!args.redis) throw new UsageError(`fleet ${args.action} needs --redis URL (the fleet's Redis server)`);
      if (args.action === 'register') {
        if (!args.arg) throw new UsageError('fleet register needs the worker\'s public key file (the .pub ftfuzz fleet keygen wrote on the worker)');
        if (!args.name) throw new UsageError('fleet register needs --name NAME (what to call the worker)');
        const problem = workerNameProblem(args.name);
        if (problem) throw new UsageError(`--name ${JSON.stringify(args.name)}: ${problem}`);
        const text = await fs.readFile(args.arg, 'utf8').catch((error: NodeJS.ErrnoException) => {
          throw new UsageError(`${args.arg}: ${error.code ?? error.message}; pass the worker's .pub file`);
        });
        const pub = publicKeyFrom(text, args.arg);
        const fleet = await openFleet(args.redis, fleetKeys(args));
        try {
          const w = await fleet.store.registry.register(args.name, pub);
          say(`registered worker ${w.name} (key ${w.id}) with the fleet on ${redactUrl(fleet.url)}; start it with: ftfuzz worker --redis URL --fleet-key-file ITS-KEY --coordinator-key COORDINATOR.pub (coordinator key ${fleet.store.trust.coordinator.id})`);
        } finally {
          await fleet.close();
        }
        return;
      }
      const fleet = await openFleet(args.redis, fleetKeys(args));
      try {
        if (args.action === 'revoke') {
          if (!args.arg) throw new UsageError('fleet revoke needs the worker\'s name or key id');
          const gone = await fleet.store.registry.revoke(args.arg);
          if (!gone.length) throw new UsageError(`no registered worker is named ${JSON.stringify(args.arg)} or has that key id; list them with ftfuzz fleet workers --redis URL`);
          say(`revoked ${gone.map((w) => `${w.name} (${w.id})`).join(', ')}: nothing signed with ${gone.length > 1 ? 'those keys' : 'that key'} counts from now on (every reader re-reads the registry within 30 s)`);
          return;
        }
        const { workers, errors } = await fleet.store.registry.list();
        say(`coordinator key ${fleet.store.trust.coordinator.id}; ${workers.length} registered worker(s)`);
        for (const w of workers) process.stdout.write(`${w.id}  ${w.name}  registered ${w.registered}\n`);
        for (const e of errors) say(`refused: ${e}`);
        if (errors.length) process.exitCode = ExitCode.Refused;
      } finally {
        await fleet.close();
      }
    },
  );
}
