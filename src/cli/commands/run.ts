// `ftfuzz run`.
import type { Argv } from 'yargs';
import os from 'node:os';
import { checkProgram, resolveTargets } from '../../check.js';
import { selectOracles } from '../../oracles/index.js';
import { createExecutor } from '../../runtime/forkServerExecutor.js';
import { ExitCode } from '../../types.js';
import { formatReport } from '../format.js';
import { duration, parseModes, positiveInt, say, withExecutorOption, withTargetOptions } from '../options.js';

export function runCommand(y: Argv): Argv {
  return y
  .command(
    'run <file>',
    'run one program on the interpreters in both GIL modes and report findings',
    (y) =>
      withExecutorOption(withTargetOptions(y))
        .positional('file', { type: 'string', demandOption: true, describe: 'a Python program' })
        .option('modes', { type: 'string', default: 'gil-off,gil-on', describe: 'GIL modes to run' })
        .option('runs', { type: 'number', default: 3, describe: 'repeats per interpreter and mode' })
        .option('timeout', { type: 'string', default: '30s', describe: 'per-run timeout (a hang beyond it is a finding)' })
        .option('jobs', { type: 'number', default: os.availableParallelism(), describe: 'runs in parallel' })
        .option('oracles', { type: 'string', default: 'all', describe: `oracles to apply: all, or a list (${selectOracles('all').map((o) => o.name).join(', ')}); -name removes one` })
        .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' }),
    async (args) => {
      const oracles = selectOracles(args.oracles);
      const modes = parseModes(args.modes);
      const runs = positiveInt(args.runs, '--runs');
      const jobs = positiveInt(args.jobs, '--jobs');
      const timeoutMs = duration(args.timeout, '--timeout');
      const targets = await resolveTargets({ python: args.python, log: say });
      const executor = createExecutor(args.executor);
      const report = await checkProgram({ file: args.file, targets, modes, runs, timeoutMs, jobs, oracles, executor }).finally(() => executor.close());
      process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
      process.exitCode = report.findings.length > 0 ? ExitCode.Findings : ExitCode.Clean;
    },
  );
}
