// `ftfuzz triage`.
import { terminalSafe } from '../../text.js';
import type { Argv } from 'yargs';
import { resolveTargets } from '../../check.js';
import { CrashStore } from '../../store/crashStore.js';
import { formatFamilyRow, formatTriageRow } from '../../triage/triage.js';
import { familyJson } from '../../triage/families.js';
import { TRIAGE_DEFAULTS, triageStore, type TriageOptions } from '../../triage/session.js';
import { installPython, type Variant } from '../../runtime/provision.js';
import { isTsan } from '../../runtime/tsan.js';
import type { Target } from '../../types.js';
import path from 'node:path';
import { discoverTargets } from '../../runtime/targets.js';
import { ExitCode } from '../../types.js';
import { redactUrl } from '../../fleet/trust.js';
import { duration, positiveInt, say, withRedis, withRedisOptions, withTargetOptions } from '../options.js';
import { formatDuration } from '../../units.js';

/** How `--bisect` has the interpreter of a release: built from source and cached, like `ftfuzz python install`. */
function bisectInstalls(): NonNullable<TriageOptions['bisect']> {
  const variantOf = (t: Target): Variant => (isTsan(t) ? 'tsan' : t.debug ? 'debug' : 'release');
  return {
    targetFor: async (release, found) => {
      try {
        return (await installPython({ version: release, variant: variantOf(found), log: say })).target;
      } catch (error) {
        say(`bisect: ${release} (${variantOf(found)}) cannot be had: ${(error as Error).message.split('\n')[0] ?? ''}; passed over`);
        return null;
      }
    },
    newestOf: async (series) => {
      try {
        return (await installPython({ version: series, log: say })).target.version;
      } catch (error) {
        say(`bisect: no release of ${series} can be had: ${(error as Error).message.split('\n')[0] ?? ''}`);
        return null;
      }
    },
  };
}

export function triageCommand(y: Argv): Argv {
  return y
  .command(
    'triage',
    'list the crash buckets; --versions replays each on every known interpreter',
    (y) =>
      withRedisOptions(withTargetOptions(y))
        .option('crashes', { type: 'string', default: 'crashes', describe: 'crash store directory' })
        .option('versions', { type: 'boolean', default: false, describe: 'replay every bucket on the --python interpreters, else on every known one (cache, PATH); record affected / not' })
        .option('measure', { type: 'boolean', default: false, describe: 'measure (again) the reproduction rate of the buckets on their own interpreter' })
        .option('bucket', { type: 'string', array: true, describe: 'only these buckets (names)' })
        .option('trials', { type: 'number', default: TRIAGE_DEFAULTS.trials, describe: 'runs per bucket and interpreter' })
        .option('max-trials', { type: 'number', default: TRIAGE_DEFAULTS.maxTrials, describe: 'while a bucket shows nothing on an interpreter, go on up to the trials its recorded rate needs for "not affected" (95%), at most this many' })
        .option('timeout', { type: 'string', default: formatDuration(TRIAGE_DEFAULTS.timeoutMs), describe: 'per-run cap (a hang bucket uses its calibrated limit)' })
        .option('flaky-below', { type: 'number', default: TRIAGE_DEFAULTS.flakyBelow, describe: 'rate under which a bucket is marked flaky' })
        .option('promote', { type: 'boolean', default: false, describe: 'replay race buckets (ThreadSanitizer reports) on the plain free-threaded build of the same version (--python, else every known one) and record whether they crash or hang there' })
        .option('bisect', { type: 'boolean', default: false, describe: 'for each family, find the first patch release that fixes it: between the release it was found on and the newest of its series, building the releases in between (cached), each step judged as fixed-between (trials interleaved with the found-on release, Fisher\'s test); its upstream candidates are that release\'s NEWS entries' })
        .option('resign', { type: 'boolean', default: false, describe: 're-sign every crash and hang bucket (buckets of an older signature format are always re-signed)' })
        .option('json', { type: 'boolean', default: false, describe: 'print the buckets as JSON' }),
    async (args) =>
      withRedis(args, { writeBack: true }, async (dirs) => {
      const store = new CrashStore(path.resolve(dirs.crashes ?? args.crashes));
      // The interpreters named with --python, else every one ftfuzz can see (for --versions and --promote).
      const named = args.python?.length ? await resolveTargets({ python: args.python, log: say }) : null;
      const known = args.versions || args.promote ? (named ?? (await discoverTargets()).flatMap((d) => (d.target ? [d.target] : []))) : [];
      const { families, buckets: chosen, links, familyLinks: linksOf, errors, missing, unconfirmed, slow, gilOn } = await triageStore(store, {
        trials: positiveInt(args.trials, '--trials'),
        maxTrials: positiveInt(args['max-trials'], '--max-trials'),
        timeoutMs: duration(args.timeout, '--timeout'),
        flakyBelow: args['flaky-below'],
        only: args.bucket,
        measure: args.measure,
        versions: args.versions ? known : undefined,
        promoteOn: args.promote ? known : undefined,
        resignAll: args.resign,
        python: named?.[0],
        bisect: args.bisect ? bisectInstalls() : undefined,
        log: say,
      });
      for (const name of missing) say(`no complete bucket ${name} in ${store.root}`);
      if (args.json) {
        const json = {
          families: families.map((row) => ({ ...familyJson(row), upstream: linksOf(row).map((l) => ({ gh: l.bug.gh, area: l.bug.area, strength: l.strength, matched: l.matched, fixedIn: l.fixedIn, status: l.status })) })),
          buckets: chosen,
          errors,
        };
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      } else {
        if (chosen.length === 0) process.stdout.write(`no buckets in ${args.redis ? redactUrl(args.redis) : store.root}\n`);
        else process.stdout.write(`${families.length} famil${families.length === 1 ? 'y' : 'ies'} (suspected bugs) in ${chosen.length} bucket(s):\n\n`);
        for (const row of families) {
          process.stdout.write(`${formatFamilyRow(row, linksOf(row))}\n`);
          for (const b of row.buckets) process.stdout.write(`${formatTriageRow(b.bucket, b.meta, links.get(b.bucket) ?? [], '    ')}\n`);
          process.stdout.write('\n');
        }
        for (const e of errors) process.stdout.write(`malformed ${e.bucket}: ${e.error}\n`);
        if (unconfirmed.length) {
          process.stdout.write(`${unconfirmed.length} unconfirmed finding(s) in ${path.join(store.root, '.unconfirmed')} (seen in a reused worker, not in fresh retries):\n`);
          for (const u of unconfirmed) process.stdout.write(`  ${u.meta.kind.padEnd(14)} ${u.bucket}  hits ${u.meta.hits}  ${terminalSafe(u.meta.title.slice(0, 120))}\n`);
        }
        if (slow.length) process.stdout.write(`${slow.length} crawl(s) in ${path.join(store.root, '.slow')} (past the limit, still making progress; not hangs)\n`);
        if (gilOn.length) {
          process.stdout.write(`${gilOn.length} surface program failure(s) that also show with PYTHON_GIL=1, in ${path.join(store.root, '.gil-on')} (a generator mistake, or a bug of the build the GIL does not hide):\n`);
          for (const g of gilOn) process.stdout.write(`  ${g.meta.kind.padEnd(14)} ${g.bucket}  hits ${g.meta.hits}  ${terminalSafe(g.meta.title.slice(0, 120))}\n`);
        }
      }
      process.exitCode = errors.length ? ExitCode.Input : chosen.length ? ExitCode.Findings : ExitCode.Clean;
    }),
  );
}
