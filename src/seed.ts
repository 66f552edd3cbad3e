// Seeds name campaigns, programs and fleet jobs, and are written into every generated program's header:
// one line of printable ASCII, bounded, checked wherever one comes in (the command line, a fleet job), so
// a seed can never end a header's comment line and carry code, nor break a job id or a file name.
import { UsageError } from './errors.js';

export const MAX_SEED_LENGTH = 128;

/** Why a seed cannot be used, or null when it can. */
export function seedProblem(seed: string): string | null {
  if (seed.length === 0) return 'it is empty';
  if (seed.length > MAX_SEED_LENGTH) return `it is ${seed.length} characters long (at most ${MAX_SEED_LENGTH})`;
  const bad = /[^\x20-\x7e]/.exec(seed);
  if (bad) return `it holds ${JSON.stringify(bad[0])} at ${bad.index} (only printable ASCII on one line)`;
  if (seed.trim() !== seed) return 'it starts or ends with a space';
  return null;
}

/** The seed, or a usage error naming the option and what to pass. */
export function checkSeed(seed: string, option = '--seed'): string {
  const problem = seedProblem(seed);
  if (problem) throw new UsageError(`${option} ${JSON.stringify(seed.slice(0, 40))}${seed.length > 40 ? '…' : ''}: ${problem}; pass one line of printable ASCII, 1-${MAX_SEED_LENGTH} characters`);
  return seed;
}
