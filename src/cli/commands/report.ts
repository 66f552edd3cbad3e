// `ftfuzz report`.
import type { Argv } from 'yargs';
import { writeFileAtomic } from '../../atomicWrite.js';
import { promises as fs } from 'node:fs';
import { InputError } from '../../errors.js';
import path from 'node:path';
import { redactUrl } from '../../fleet/trust.js';
import { loadReportData, renderReport, timelineFiles } from '../../report/report.js';
import { say, withRedis, withRedisOptions } from '../options.js';

export function reportCommand(y: Argv): Argv {
  return y
  .command(
    'report',
    'one self-contained HTML page: plots over time, a table of the buckets, their stacks and reproducers',
    (y) =>
      withRedisOptions(y)
        .option('crashes', { type: 'string', default: 'crashes', describe: 'crash store directory (its .timeline/*.jsonl are read too)' })
        .option('stats', { type: 'string', array: true, describe: 'campaign timeline files (JSONL, from ftfuzz fuzz) besides those in <crashes>/.timeline' })
        .option('title', { type: 'string', default: 'ftfuzz campaign report' })
        .option('out', { type: 'string', demandOption: true, describe: 'the HTML file to write (atomically)' }),
    async (args) =>
      withRedis(args, { writeBack: false }, async (dirs) => {
        for (const f of args.stats ?? []) {
          await fs.access(f).catch(() => {
            throw new InputError(f, 'no such timeline file; campaigns write theirs to <crashes>/.timeline/<seed>.jsonl');
          });
        }
        const crashDir = path.resolve(dirs.crashes ?? args.crashes);
        const localTimelines = dirs.crashes ? await timelineFiles(path.resolve(args.crashes)) : [];
        const data = await loadReportData({ crashDir, statsFiles: [...localTimelines, ...(args.stats ?? [])], source: args.redis ? redactUrl(args.redis) : crashDir, filesOnDisk: !dirs.crashes });
        data.title = args.title;
        const out = path.resolve(args.out);
        await writeFileAtomic(out, renderReport(data, out));
        for (const e of data.errors) say(e);
        process.stdout.write(`${out}\n`);
        say(`report: ${data.buckets.length} bucket(s), ${data.timelines.length} timeline(s) (${data.timelines.reduce((n, t) => n + t.lines.length, 0)} lines)`);
      }),
  );
}
