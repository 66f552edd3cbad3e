// A finding's signature: `<kind>|<part>|<part>…`, the dedup key of the crash store. One place that
// knows its shape: its id (the bucket's name), its kind, its parts.
import { createHash } from 'node:crypto';
import { findingKind, type FindingKindSpec } from './findingKinds.js';
import type { FindingKind } from './types.js';

/** A short stable id for a signature: the bucket name in the crash store. */
export function signatureId(signature: string): string {
  return createHash('sha256').update(signature).digest('hex').slice(0, 12);
}

export interface ParsedSignature {
  /** The kind it names first, when this version knows it (an older or foreign store may name others). */
  kind: FindingKind | null;
  spec: Readonly<FindingKindSpec> | null;
  /** What follows the kind, split on `|` (a kind's oracle decides what each part means). */
  parts: string[];
  text: string;
}

export function parseSignature(signature: string): ParsedSignature {
  const [head = '', ...parts] = signature.split('|');
  const spec = findingKind(head) ?? null;
  return { kind: spec ? (head as FindingKind) : null, spec, parts, text: signature };
}

/** The kind named at the head of a signature (`crash|SIGSEGV|…`). */
export function signatureKind(signature: string): Readonly<FindingKindSpec> | undefined {
  return parseSignature(signature).spec ?? undefined;
}
