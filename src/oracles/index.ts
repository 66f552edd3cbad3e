// The oracle registry: every oracle by name, switchable with `--oracles`.
import { UsageError } from '../errors.js';
import type { Finding, RunResult } from '../types.js';
import { crashOracle } from './crashOracle.js';
import { differentialOracle } from './differentialOracle.js';
import { hangOracle } from './hangOracle.js';
import { internalErrorOracle } from './internalErrorOracle.js';
import { leakOracle } from './leakOracle.js';
import { lostWriteOracle } from './lostWriteOracle.js';
import { modeOracle } from './modeOracle.js';
import { raceOracle } from './raceOracle.js';
import { refcountOracle } from './refcountOracle.js';
import { resourceOracle } from './resourceOracle.js';
import type { Oracle } from './oracle.js';

export type { Oracle } from './oracle.js';

export const ALL_ORACLES: readonly Oracle[] = [
  crashOracle,
  hangOracle,
  internalErrorOracle,
  modeOracle,
  lostWriteOracle,
  refcountOracle,
  leakOracle,
  raceOracle,
  differentialOracle,
  resourceOracle,
];

/** Resolve `--oracles` names ("all", "crash,hang", "all,-differential"). */
export function selectOracles(spec: string | undefined): Oracle[] {
  if (!spec || spec === 'all') return [...ALL_ORACLES];
  const names = spec.split(',').map((s) => s.trim()).filter(Boolean);
  const known = new Map(ALL_ORACLES.map((o) => [o.name, o]));
  const chosen = new Set<Oracle>(names.includes('all') ? ALL_ORACLES : []);
  for (const name of names) {
    if (name === 'all') continue;
    const negate = name.startsWith('-');
    const oracle = known.get(negate ? name.slice(1) : name);
    if (!oracle) {
      throw new UsageError(`--oracles: unknown oracle "${name}"; known: ${[...known.keys()].join(', ')}`);
    }
    if (negate) chosen.delete(oracle);
    else chosen.add(oracle);
  }
  return ALL_ORACLES.filter((o) => chosen.has(o));
}

export function applyOracles(oracles: readonly Oracle[], runs: readonly RunResult[]): Finding[] {
  return oracles.flatMap((o) => o.check(runs));
}
