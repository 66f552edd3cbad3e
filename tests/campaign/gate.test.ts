import { describe, expect, it } from 'vitest';
import { ExclusiveGate } from '../../src/campaign/gate.js';

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

describe('the gate between program runs and rate measurements', () => {
  it('runs a measurement only when no program is in flight, and starts no program during it', async () => {
    const gate = new ExclusiveGate();
    const log: string[] = [];
    let inFlight = 0;
    let maxDuringMeasure = -1;
    const program = (name: string, ms: number) =>
      gate.withShared(async () => {
        inFlight += 1;
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
        inFlight -= 1;
      });
    const a = program('a', 30);
    const b = program('b', 10);
    await tick();
    const m = gate.withExclusive(async () => {
      maxDuringMeasure = inFlight;
      log.push('measure');
      await tick();
      maxDuringMeasure = Math.max(maxDuringMeasure, inFlight);
      log.push('measured');
    });
    // Asked for after the measurement: waits for it.
    const c = program('c', 1);
    await Promise.all([a, b, m, c]);
    expect(maxDuringMeasure).toBe(0);
    expect(log.indexOf('measure')).toBeGreaterThan(log.indexOf('end a'));
    expect(log.indexOf('start c')).toBeGreaterThan(log.indexOf('measured'));
  });

  it('lets programs share, and two measurements take turns', async () => {
    const gate = new ExclusiveGate();
    let together = 0;
    let most = 0;
    const program = () => gate.withShared(async () => { together += 1; most = Math.max(most, together); await tick(); together -= 1; });
    await Promise.all([program(), program(), program()]);
    expect(most).toBe(3);
    let alone = 0;
    let overlap = false;
    const measure = () => gate.withExclusive(async () => { alone += 1; if (alone > 1) overlap = true; await tick(); alone -= 1; });
    await Promise.all([measure(), measure(), program()]);
    expect(overlap).toBe(false);
    expect(gate.sharedHolders).toBe(0);
  });
});
