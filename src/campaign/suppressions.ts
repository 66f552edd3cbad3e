// Campaign-local TSan suppressions: once a race family is recorded, the campaign's later programs run with
// it suppressed, so they stop paying for the same frequent reports and the rarer races behind them get
// reported (fusil saw five races take almost every first-report slot of its TSan runs). The file is
// CPython's own suppressions plus one `race:^function$` line per signing frame of each recorded family,
// written beside the campaign's work; the recorded buckets, their reproducers and their rates stay on
// CPython's suppressions alone (the target the store records is the original one).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../atomicWrite.js';
import { FINDING_KINDS } from '../findingKinds.js';
import type { Finding, Target } from '../types.js';
import { isTsan } from '../runtime/tsan.js';

/**
 * A signing frame as raceSignature labels it (`func`, or `func [module]` in an extension) -> the function to
 * suppress, or null. CPython's API and runtime functions (`Py*`, `_Py*`: `_PyParkingLot_Park`,
 * `_PyMutex_TryUnlock`, `PyLong_AsLongLong` signed races of a 3.13.5t TSan campaign) and mimalloc's (`mi_*`,
 * `_mi_*`) are on the stacks of every object's code: a `race:` line for one would hide races everywhere.
 */
function functionOf(label: string): string | null {
  const func = label.replace(/\s*\[[^\]]*\]$/, '').trim();
  if (!/^[A-Za-z_][\w.$]*$/.test(func) || /^_?(Py|mi_)/.test(func)) return null;
  return func;
}

export class CampaignSuppressions {
  private readonly families = new Map<string, string[]>();
  private readonly functions = new Set<string>();
  private readonly derived = new Map<string, Target>();
  private version = 0;

  constructor(private readonly dir: string) {}

  /** A recorded race finding of a new family: its signing functions join the suppressions. True when any did. */
  async add(family: string, finding: Finding, targets: readonly Target[]): Promise<boolean> {
    if (FINDING_KINDS[finding.kind].stacks !== 'tsan' || this.families.has(family)) return false;
    // Both accesses in one function (a race of two writers in func_set_qualname) make one line.
    const funcs = [...new Set((finding.native?.frames ?? []).map(functionOf))].filter((f): f is string => f !== null && !this.functions.has(f));
    this.families.set(family, funcs);
    if (funcs.length === 0) return false;
    for (const f of funcs) this.functions.add(f);
    this.version += 1;
    for (const t of targets.filter(isTsan)) await this.write(t);
    return true;
  }

  private async write(t: Target): Promise<void> {
    const base = t.tsanSuppressions ? await fs.readFile(t.tsanSuppressions, 'utf8').catch(() => '') : '';
    const file = path.join(this.dir, `tsan-suppressions-${this.version}-${path.basename(t.path)}.txt`);
    const lines = [...this.families].flatMap(([family, funcs]) => [`# ${family}`, ...funcs.map((f) => `race:^${f}$`)]);
    await writeFileAtomic(file, `${base}\n# ftfuzz: races this campaign recorded\n${lines.join('\n')}\n`);
    this.derived.set(t.path, { ...t, tsanSuppressions: file });
  }

  /** The targets later programs run on: a TSan target with the campaign's suppressions, others as they are. */
  targets(targets: readonly Target[]): Target[] {
    return targets.map((t) => this.derived.get(t.path) ?? t);
  }

  /** Families suppressed, with their functions (for the summary and --json); one with no function name to suppress is not. */
  list(): { family: string; functions: string[] }[] {
    return [...this.families].filter(([, functions]) => functions.length > 0).map(([family, functions]) => ({ family, functions }));
  }
}
