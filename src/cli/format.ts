// Human-readable output of reports. The CLI prints these; `--json` prints the values instead.
import type { CheckReport } from '../check.js';
import { signatureId } from '../signature.js';
import { terminalSafe } from '../text.js';
import type { Finding, RunResult, Target } from '../types.js';

export function describeTermination(run: RunResult): string {
  const t = run.termination;
  switch (t.kind) {
    case 'exit':
      return `exit ${t.code}`;
    case 'signal':
      return `killed by ${t.signal}`;
    case 'timeout':
      return `timeout after ${t.afterMs} ms`;
    case 'resource':
      return `${t.resource} limit: ${t.detail}`;
    case 'spawn-error':
      return `could not start: ${t.message}`;
    case 'cancelled':
      return 'cancelled by ftfuzz';
  }
}

/** A finding for the terminal: its title and signature come from the target's output, escape sequences shown as `?`. */
export function formatFinding(f: Finding): string {
  return terminalSafe([
    `[${f.kind}] ${f.title}`,
    `    on ${f.targets.map((t) => t.label).join(', ')} (${f.modes.join(', ')}); ${f.hits}/${f.runs} runs; verdict: ${f.verdict}`,
    `    signature ${signatureId(f.signature)}: ${f.signature}`,
    `    reproduce: ${f.reproduceCommand}`,
  ].join('\n'));
}

export function formatReport(report: CheckReport): string {
  const lines: string[] = [];
  lines.push(`program ${report.program.path}`);
  for (const target of report.targets) {
    for (const mode of report.modes) {
      const runs = report.runs.filter((r) => r.target === target && r.modeRequested === mode);
      if (runs.length === 0) continue;
      const outcomes = new Map<string, number>();
      for (const r of runs) outcomes.set(describeTermination(r), (outcomes.get(describeTermination(r)) ?? 0) + 1);
      const observed = [...new Set(runs.map((r) => r.modeObservedAtStart ?? 'not reported'))].join('/');
      const ms = runs.reduce((s, r) => s + r.durationMs, 0) / runs.length;
      lines.push(
        `  ${target.label} ${mode} (observed ${observed}): ${[...outcomes].map(([k, n]) => `${k} ×${n}`).join(', ')}; mean ${ms.toFixed(0)} ms`,
      );
    }
  }
  for (const n of report.notices) lines.push(`  note: ${n}`);
  if (report.findings.length === 0) lines.push('no findings');
  else {
    lines.push(`${report.findings.length} finding(s):`);
    for (const f of report.findings) lines.push(formatFinding(f));
  }
  return lines.join('\n');
}

export function formatTargetRow(t: Target): string {
  const kind = t.freeThreaded ? 'free-threaded' : 'GIL-only';
  const flags = [t.debug ? 'debug' : 'release', ...t.sanitizers.map((s) => `${s}-sanitizer`), ...(t.coverage ? ['coverage'] : [])].join(',');
  return `${t.label.padEnd(36)} ${kind.padEnd(13)} ${flags.padEnd(24)} ${t.origin.padEnd(5)} ${t.path}`;
}
