// Builds the CommonJS copy of the parsers that jsfuzz fuzzes (tsconfig.fuzz.json -> build/fuzz).
// tsc reports TS1343 for src/runtime/paths.ts (import.meta has no CommonJS form) but still emits; that
// one line is rewritten to its CommonJS equivalent. Any other compile error fails the build.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function buildFuzzCjs(): Promise<string> {
  const out = path.join(root, 'build', 'fuzz');
  let log = '';
  try {
    execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.fuzz.json')], { cwd: root, encoding: 'utf8' });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    log = `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
  const unexpected = log.split('\n').filter((l) => l.trim() && !/src\/runtime\/paths\.ts\(\d+,\d+\): error TS1343/.test(l));
  if (unexpected.length) throw new Error(`tsc (tsconfig.fuzz.json) failed:\n${unexpected.join('\n')}`);
  const pathsJs = path.join(out, 'runtime', 'paths.js');
  const text = await fs.readFile(pathsJs, 'utf8');
  await fs.writeFile(pathsJs, text.replace(/import\.meta\.url/g, "require('node:url').pathToFileURL(__filename).href"));
  await fs.writeFile(path.join(out, 'package.json'), '{ "type": "commonjs" }\n');
  return out;
}
