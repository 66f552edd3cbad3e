// Compiling a single-file C extension against a target interpreter's own headers, with the compiler
// and flags sysconfig recorded for it (no setuptools: targets have no PyPI). Used for the planted-bug
// fixtures and available to users testing their own extension with module mode.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { EnvironmentError } from '../errors.js';
import type { Target } from '../types.js';

const run = promisify(execFile);

const SYSCONFIG = `
import json, sysconfig
print(json.dumps({"include": sysconfig.get_paths()["include"], "suffix": sysconfig.get_config_var("EXT_SUFFIX"),
                  "cc": sysconfig.get_config_var("CC") or "cc"}))
`;

/** Build `source` (module name = its base name) into `outDir`; returns the directory to put on PYTHONPATH. */
export async function buildExtension(target: Pick<Target, 'path'> & Partial<Pick<Target, 'sanitizers'>>, source: string, outDir: string): Promise<string> {
  const { stdout } = await run(target.path, ['-I', '-c', SYSCONFIG]);
  const cfg = JSON.parse(stdout) as { include: string; suffix: string; cc: string };
  const name = path.basename(source, '.c');
  await fs.mkdir(outDir, { recursive: true });
  const output = path.join(outDir, `${name}${cfg.suffix}`);
  const cc = cfg.cc.split(/\s+/).filter(Boolean);
  const [compiler = 'cc', ...ccFlags] = cc;
  try {
    // For a ThreadSanitizer build the extension is instrumented too: its races are then seen, not only CPython's.
    const tsan = target.sanitizers?.includes('thread') ? ['-fsanitize=thread'] : [];
    await run(compiler, [...ccFlags, ...tsan, '-shared', '-fPIC', '-O2', '-g', '-Wall', `-I${cfg.include}`, source, '-o', output], { timeout: 120_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new EnvironmentError(`compiling ${source} for ${target.path} failed: ${stderr.trim().split('\n').slice(-3).join(' / ')}`, { cause: error });
  }
  return outDir;
}
