// The schedule perturbation shim (native/ftfuzz_sched.c): compiled once per source into the cache, and the
// per-run seeds a campaign gives it. A run with a seed gets LD_PRELOAD=<shim> and FTFUZZ_SCHED_SEED=<seed>
// (executor.ts preloadEnv / nativeRunEnv); its reproducer says how to run it the same way (store/crashStore.ts).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { EnvironmentError } from '../errors.js';
import { cacheDir, schedShimSource } from './paths.js';
import { whichOnPath } from './targets.js';

const execFileAsync = promisify(execFile);
let built: Promise<string> | undefined;

/** The shim's path, compiling it on first use (cc, gcc or clang); an EnvironmentError says what is missing. */
export function schedShim(root = cacheDir()): Promise<string> {
  built ??= (async () => {
    const source = await fs.readFile(schedShimSource);
    const digest = createHash('sha256').update(source).digest('hex').slice(0, 12);
    const out = path.join(root, 'native', `libftfuzz_sched-${digest}.so`);
    if (await fs.access(out).then(() => true, () => false)) return out;
    let compiler: string | null = null;
    for (const name of ['cc', 'gcc', 'clang']) if ((compiler = await whichOnPath(name))) break;
    if (!compiler) throw new EnvironmentError('schedule perturbation needs a C compiler to build native/ftfuzz_sched.c; run `ftfuzz setup --for build` (Debian packages gcc or clang)');
    await fs.mkdir(path.dirname(out), { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    try {
      await execFileAsync(compiler, ['-O2', '-fPIC', '-shared', '-Wall', '-o', tmp, schedShimSource, '-ldl', '-lpthread']);
      await fs.rename(tmp, out);
    } catch (error) {
      await fs.rm(tmp, { force: true });
      throw new EnvironmentError(`compiling ${schedShimSource} with ${compiler} failed: ${(error as Error).message.split('\n')[0]}`, { cause: error });
    }
    return out;
  })();
  built.catch(() => (built = undefined));
  return built;
}

/** A run's perturbation seed: a decimal 64-bit number from the campaign seed and the run's place. */
export function schedSeed(...parts: (string | number)[]): string {
  const hex = createHash('sha256').update(parts.join(':')).digest('hex').slice(0, 16);
  const n = BigInt(`0x${hex}`);
  return (n === 0n ? 1n : n).toString();
}
