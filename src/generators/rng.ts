// One seeded random stream, passed explicitly (STYLE.md practice 3). `fork(label)` derives an
// independent stream, so adding a choice in one part of the generator does not shift every later choice
// elsewhere: programs stay stable across small generator changes within a generator version.
import seedrandom from 'seedrandom';

export class Rng {
  private readonly prng: seedrandom.PRNG;
  constructor(readonly seed: string) {
    this.prng = seedrandom(seed);
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.prng.double();
  }

  /** A uniform integer in [lo, hi], inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Pick by weight; items with weight 0 are never picked. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((s, [, w]) => s + w, 0);
    if (total <= 0) throw new Error('Rng.weighted with no positive weight');
    let r = this.next() * total;
    for (const [item, w] of items) {
      if (r < w) return item;
      r -= w;
    }
    return (items.findLast(([, w]) => w > 0) as readonly [T, number])[0];
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }

  fork(label: string): Rng {
    return new Rng(`${this.seed}/${label}`);
  }
}
