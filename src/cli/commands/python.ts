// `ftfuzz python`.
import type { Argv } from 'yargs';
import os from 'node:os';
import { installPython, VARIANTS } from '../../runtime/provision.js';
import { makeVenv } from '../../runtime/venv.js';
import { resolveTargets } from '../../check.js';
import { UsageError } from '../../errors.js';
import { discoverTargets } from '../../runtime/targets.js';
import { formatTargetRow } from '../format.js';
import { positiveInt, say, withTargetOptions } from '../options.js';

export function pythonCommand(y: Argv): Argv {
  return y
  .command('python', 'find, list and build interpreters', (y) =>
    y
      .command(
        'list',
        'list the interpreters ftfuzz can see (PATH, FTFUZZ_PYTHON, --python, its cache)',
        (yy) => withTargetOptions(yy).option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
        async (args) => {
          const found = await discoverTargets({ explicit: args.python });
          if (args.json) {
            process.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
            return;
          }
          if (found.length === 0) process.stdout.write('no interpreters found; run `ftfuzz python install`\n');
          for (const d of found) process.stdout.write(d.target ? `${formatTargetRow(d.target)}\n` : `unusable ${d.path}: ${d.error}\n`);
        },
      )
      .command(
        'install',
        'build a free-threaded CPython from source into the cache (a no-op when already there)',
        (yy) =>
          yy
            .option('version', { type: 'string', describe: 'a series (3.13: newest obtainable) or exact release (3.13.5); default newest 3.14, else 3.13' })
            .option('variant', { choices: VARIANTS, default: 'release' as const, describe: 'debug = --with-pydebug; tsan = --with-thread-sanitizer (clang), with CPython\'s TSan suppressions installed beside it; coverage = release with clang SanitizerCoverage (C edges and collision witnesses per program); tsan-coverage = both' })
            .option('source', { type: 'string', describe: 'a CPython source tarball path or URL to build from' })
            .option('jobs', { type: 'number', default: os.availableParallelism(), describe: 'parallel make jobs' })
            .option('json', { type: 'boolean', default: false }),
        async (args) => {
          const result = await installPython({
            version: args.version,
            variant: args.variant,
            source: args.source,
            jobs: positiveInt(args.jobs, '--jobs'),
            log: say,
          });
          if (args.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
          else process.stdout.write(`${result.target.executable}\n`);
        },
      )
      .command(
        'venv <dir>',
        'make a virtual environment of a free-threaded interpreter (pip and setuptools offline) and pip-install your extension into it: on a TSan interpreter it is compiled with -fsanitize=thread',
        (yy) =>
          withTargetOptions(yy)
            .positional('dir', { type: 'string', demandOption: true, describe: 'the environment\'s directory (made, or reused when it is a venv of the same interpreter)' })
            .option('variant', { choices: VARIANTS, describe: 'without --python: the provisioned 3.13 interpreter of this variant (built when missing)' })
            .option('install', { type: 'string', array: true, nargs: 1, describe: 'pip install this (a project directory, sdist or wheel) into it, without an index or build isolation (repeatable)' }),
        async (args) => {
          if (args.python?.length && args.variant) throw new UsageError('give --python PY or --variant V, not both');
          if ((args.python?.length ?? 0) > 1) throw new UsageError('a venv is made of one interpreter: give one --python');
          const base = args.python?.length
            ? (await resolveTargets({ python: args.python, log: say }))[0]
            : (await installPython({ version: '3.13', variant: args.variant ?? 'release', log: say })).target;
          if (!base) throw new UsageError('no interpreter to make the venv of');
          const venv = await makeVenv({ base, dir: args.dir, install: args.install, log: say });
          process.stdout.write(`${venv.python}\n`);
        },
      )
      .demandCommand(1, 'python: choose list, install or venv'),
  );
}
