// `ftfuzz ops`: the operation library as a table, with the documentation each effect class rests on.
import { UsageError } from '../errors.js';
import { CITATIONS } from '../generators/citations.js';
import { KINDS, KNOB_OPS, OPS, type OpSpec } from '../generators/ops.js';

export function formatOpsTable(options: { kind?: string; json?: boolean }): string {
  const all: OpSpec[] = [...OPS, ...KNOB_OPS];
  const ops = options.kind ? all.filter((o) => o.kind === options.kind) : all;
  if (options.kind && ops.length === 0) {
    throw new UsageError(`--kind ${options.kind}: no such kind; known: ${KINDS.map((k) => k.id).join(', ')}`);
  }
  if (options.json) {
    return `${JSON.stringify(ops.map((o) => ({ id: o.id, kind: o.kind, effect: o.effect, tokens: o.tokens, allowed: o.allowed, citation: CITATIONS[o.cite] })), null, 2)}\n`;
  }
  const rows = ops.map((o) => [o.id, o.effect, o.tokens, o.allowed.join(',') || '-', o.cite]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length), ['op', 'effect', 'tokens', 'allowed'][i]?.length ?? 0));
  const line = (r: string[]) => r.map((c, i) => (i < 4 ? c.padEnd(widths[i] ?? 0) : c)).join('  ');
  const used = [...new Set(ops.map((o) => o.cite))];
  const kinds = new Set(ops.map((o) => o.kind));
  return [
    line(['op', 'effect', 'tokens', 'allowed', 'citation']),
    ...rows.map(line),
    '',
    `${ops.length} operations on ${kinds.size} kinds. Citations:`,
    ...used.map((c) => `  ${c}: ${CITATIONS[c].source}: "${CITATIONS[c].says}"`),
    '',
  ].join('\n');
}
