// A crash that also shows with the GIL on is a family of its own (trials/family.ts): the GIL does not hide
// it, so it is not the free-threading crash at the same site. Whether a bucket showed with the GIL grows
// with its sightings, so the store (crashStore.ts) moves a bucket's family under the GIL key when a
// sighting with the GIL on arrives, and trials count either key as the bug.
import { findingKind } from './findingKinds.js';

/** The suffix of a crash family that also shows with the GIL on. */
export const WITH_GIL = '|with the GIL';

/** A family key without its GIL suffix: a trial run in one mode sees the same bug under either. */
export function familyBase(key: string): string {
  return key.endsWith(WITH_GIL) ? key.slice(0, -WITH_GIL.length) : key;
}

/** The rules whose crash families split by the GIL (a site, or how it died without one). */
const SPLIT_RULES = new Set(['entry', 'no-stack']);

/**
 * The family of a crash bucket once it has shown with the GIL on: its key with the GIL suffix (label
 * unchanged: listings say "also with the GIL" from the bucket's modes). Any other family is returned as is.
 */
export function gilFamily<F extends { key: string; rule?: string }>(family: F, kind: string, modes: readonly string[]): F {
  if (findingKind(kind)?.gilSplit !== true || !modes.includes('gil-on') || !SPLIT_RULES.has(family.rule ?? '') || family.key.endsWith(WITH_GIL)) return family;
  return { ...family, key: `${family.key}${WITH_GIL}` };
}
