// `ftfuzz gen`.
import { checkSeed } from '../../seed.js';
import type { Argv } from 'yargs';
import { resolveTargets } from '../../check.js';
import { generateProgram } from '../../generators/program.js';
import { generateModuleProgram } from '../../generators/moduleMode.js';
import { introspectModule } from '../../runtime/introspect.js';
import { writeFileAtomic } from '../../atomicWrite.js';
import { type Target } from '../../types.js';
import { genOptionsFrom, parseRange, say, withGenOptions, withTargetOptions } from '../options.js';

export function genCommand(y: Argv): Argv {
  return y
  .command(
    'gen',
    'print a generated program (same seed, options and generator version: same bytes)',
    (y) =>
      withTargetOptions(withGenOptions(y))
        .option('seed', { type: 'string', demandOption: true, describe: 'the seed' })
        .option('module', { type: 'string', describe: 'module mode: concurrent calls on shared instances of this importable module (introspected on --python)' })
        .option('out', { type: 'string', describe: 'write to this file (atomically) instead of stdout' })
        .option('json', { type: 'boolean', default: false, describe: 'print {source, meta} as JSON' }),
    async (args) => {
      checkSeed(args.seed);
      let text: string;
      if (args.module) {
        const [target] = await resolveTargets({ python: args.python, log: say });
        const surface = await introspectModule(target as Target, args.module);
        const threads = parseRange(args.threads, '--threads');
        const iterations = parseRange(args.iterations, '--iterations');
        const program = generateModuleProgram(surface, args.seed, { threads: threads?.[0], iterations: iterations?.[0] });
        text = args.json ? `${JSON.stringify({ ...program, surface }, null, 2)}\n` : program.source;
      } else {
        const program = generateProgram(args.seed, genOptionsFrom(args));
        text = args.json ? `${JSON.stringify({ source: program.source, meta: program.meta }, null, 2)}\n` : program.source;
      }
      if (args.out) await writeFileAtomic(args.out, text);
      else process.stdout.write(text);
    },
  );
}
