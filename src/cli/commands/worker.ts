// `ftfuzz worker`.
import type { Argv } from 'yargs';
import os from 'node:os';
import { resolveTargets } from '../../check.js';
import { UsageError } from '../../errors.js';
import { ExitCode } from '../../types.js';
import { openFleet } from '../../fleet/session.js';
import { runWorker } from '../../fleet/fleet.js';
import { redactUrl } from '../../fleet/trust.js';
import type { Surface } from '../../generators/surface/types.js';
import { introspectSurface } from '../../runtime/surface.js';
import type { Target } from '../../types.js';
import { duration, fleetKeys, onStopSignals, positiveInt, say, withRedisOptions, withTargetOptions } from '../options.js';

export function workerCommand(y: Argv): Argv {
  return y
  .command(
    'worker',
    'take slices of fleet campaigns from the Redis queue and run them on this machine\'s interpreters',
    (y) =>
      withRedisOptions(withTargetOptions(y))
        .option('jobs', { type: 'number', default: os.availableParallelism(), describe: 'programs in parallel within a slice' })
        .option('lock', { type: 'string', default: '30s', describe: 'a slice\'s lock: a worker silent this long is taken for dead and its slice is run again elsewhere' })
        .option('slices', { type: 'number', describe: 'exit after this many slices' })
        .option('idle-exit', { type: 'string', describe: 'exit when no slice came for this long (default: wait for work forever)' }),
    async (args) => {
      if (!args.redis) throw new UsageError('worker needs --redis URL (the fleet\'s Redis server)');
      const jobs = positiveInt(args.jobs, '--jobs');
      const fleet = await openFleet(args.redis, fleetKeys(args));
      const targets = await resolveTargets({ python: args.python, log: say });
      let surface: Promise<Surface> | undefined;
      const stopping = onStopSignals('worker stopping: the slice in flight goes back to the queue (signal again to quit at once)', say);
      try {
        say(`worker ${os.hostname()}:${process.pid} (${fleet.store.trust.nameOf(fleet.store.trust.me.id)}) on ${redactUrl(fleet.url)} with ${targets.map((t) => t.label).join(', ')}, ${jobs} job(s) per slice`);
        const r = await runWorker({
          store: fleet.store, connection: await fleet.bull(), trust: fleet.store.trust, targets, jobs, lockMs: duration(args.lock, '--lock'), log: say,
          maxSlices: args.slices === undefined ? undefined : positiveInt(args.slices, '--slices'),
          idleMs: args['idle-exit'] === undefined ? undefined : duration(args['idle-exit'], '--idle-exit'), signal: stopping.signal,
          // Introspected at the first slice that has surface programs, then the same for every slice.
          surface: () => (surface ??= introspectSurface(targets[0] as Target, { log: say })),
        });
        say(`worker done: ${r.slices} slice(s) run, ${r.refused} job(s) refused`);
        process.exitCode = r.refused ? ExitCode.Refused : ExitCode.Clean;
      } finally {
        stopping.release();
        await fleet.close();
      }
    },
  );
}
