// `ftfuzz ops`: the operation library as a table, with the documentation each effect class rests on.
import Table from 'cli-table3';
import { UsageError } from '../errors.js';
import { CITATIONS } from '../generators/citations.js';
import { KINDS, KNOB_OPS, OPS, type OpSpec } from '../generators/ops.js';

const BORDER_PARTS = ['top', 'top-mid', 'top-left', 'top-right', 'bottom', 'bottom-mid', 'bottom-left', 'bottom-right', 'left', 'left-mid', 'mid', 'mid-mid', 'right', 'right-mid', 'middle'] as const;

export function formatOpsTable(options: { kind?: string; json?: boolean }): string {
  const all: OpSpec[] = [...OPS, ...KNOB_OPS];
  const ops = options.kind ? all.filter((o) => o.kind === options.kind) : all;
  if (options.kind && ops.length === 0) {
    throw new UsageError(`--kind ${options.kind}: no such kind; known: ${KINDS.map((k) => k.id).join(', ')}`);
  }
  if (options.json) {
    return `${JSON.stringify(ops.map((o) => ({ id: o.id, kind: o.kind, effect: o.effect, tokens: o.tokens, allowed: o.allowed, citation: CITATIONS[o.cite] })), null, 2)}\n`;
  }
  // A borderless cli-table3 table: aligned columns that stay grep-able, one op per line.
  const table = new Table({
    head: ['op', 'effect', 'tokens', 'allowed', 'citation'],
    chars: Object.fromEntries(BORDER_PARTS.map((k) => [k, ''])),
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 2, compact: true },
  });
  for (const o of ops) table.push([o.id, o.effect, o.tokens, o.allowed.join(',') || '-', o.cite]);
  const used = [...new Set(ops.map((o) => o.cite))];
  const kinds = new Set(ops.map((o) => o.kind));
  return [
    ...table.toString().split('\n').map((l) => l.trimEnd()),
    '',
    `${ops.length} operations on ${kinds.size} kinds. Citations:`,
    ...used.map((c) => `  ${c}: ${CITATIONS[c].source}: "${CITATIONS[c].says}"`),
    '',
  ].join('\n');
}
