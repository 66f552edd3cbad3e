// The campaign timeline: one JSON line of statistics every few seconds (elapsed, programs, executions/s,
// findings by kind, buckets, corpus size, yield per object kind and op), appended to a JSONL file in the
// campaign's directory (`<crashes>/.timeline/<seed>.jsonl` by default). Each line goes out in one write()
// of an O_APPEND file, so a campaign killed at any moment leaves every earlier line whole; a reader skips
// a torn last line (readTimeline).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { FindingKind } from '../types.js';

export const TIMELINE_FORMAT = 1;

/** Yield as [programs, findings, new buckets]. */
export type CompactYield = [number, number, number];

export interface TimelineLine {
  format: number;
  seed: string;
  /** Wall-clock time of the line (ms since the epoch). */
  time: number;
  elapsedMs: number;
  programs: number;
  executions: number;
  /** Executions per second since the previous line (the first: since the start). */
  execsPerSec: number;
  findingsByKind: Partial<Record<FindingKind, number>>;
  /** Distinct buckets hit so far, and how many of them this campaign created. */
  buckets: number;
  /** Distinct families (suspected bugs) hit so far (absent in lines of older campaigns). */
  families?: number;
  newBuckets: number;
  corpus: number;
  byKind: Record<string, CompactYield>;
  byOp: Record<string, CompactYield>;
  /** Surface coverage so far: [pairs exercised, coverable pairs, triples] (absent: no surface programs). */
  surface?: [number, number, number];
  /** Where the slots' time went so far: each use's share (first, confirm, rates, sampling, record, idle). */
  slots?: Record<string, number>;
  /** On a coverage build: [C edges reached, edges of the build, programs with a collision witness, (witness, kind) pairs]. */
  collisions?: [number, number, number, number];
  final?: boolean;
}

type YieldCounts = Record<string, { programs: number; findings: number; newBuckets: number }>;

/** What a line is made of: a campaign's figures so far (campaign/stats.ts CampaignStats has them all). */
export interface TimelineSnapshot {
  seed: string;
  elapsedMs: number;
  programs: number;
  executions: number;
  findingsByKind: Partial<Record<FindingKind, number>>;
  buckets: readonly unknown[];
  families: readonly unknown[];
  newBuckets: readonly unknown[];
  corpusAdded: number;
  yield: { byKind: YieldCounts; byOp: YieldCounts };
  surface?: { pairs: number; pairsExercised: number; triples: number };
  slots?: { shares: Record<string, number> };
  collisions?: { edgesSeen: number; edgesTotal: number; programsWithWitness: number; witnessPairs: number };
}

export class TimelineWriter {
  private handle: fs.FileHandle | undefined;
  private last = { time: 0, executions: 0 };
  private writes = Promise.resolve();

  constructor(readonly file: string) {}

  async open(): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    this.handle = await fs.open(this.file, 'a');
    this.last = { time: performance.now(), executions: 0 };
  }

  /** Append one line (queued: lines never interleave). */
  append(s: TimelineSnapshot, final = false): Promise<void> {
    const now = performance.now();
    const dt = (now - this.last.time) / 1000;
    const line: TimelineLine = {
      format: TIMELINE_FORMAT, seed: s.seed, time: Date.now(), elapsedMs: Math.round(s.elapsedMs), programs: s.programs, executions: s.executions,
      execsPerSec: dt > 0 ? Number(((s.executions - this.last.executions) / dt).toFixed(2)) : 0,
      findingsByKind: s.findingsByKind, buckets: s.buckets.length, families: s.families.length, newBuckets: s.newBuckets.length, corpus: s.corpusAdded,
      byKind: compact(s.yield.byKind), byOp: compact(s.yield.byOp),
      ...(s.surface ? { surface: [s.surface.pairsExercised, s.surface.pairs, s.surface.triples] as [number, number, number] } : {}),
      ...(s.collisions ? { collisions: [s.collisions.edgesSeen, s.collisions.edgesTotal, s.collisions.programsWithWitness, s.collisions.witnessPairs] as [number, number, number, number] } : {}),
      ...(s.slots ? { slots: Object.fromEntries(Object.entries(s.slots.shares).map(([k, v]) => [k, Number(v.toFixed(4))])) } : {}), ...(final ? { final } : {}),
    };
    this.last = { time: now, executions: s.executions };
    const text = `${JSON.stringify(line)}\n`;
    this.writes = this.writes.then(async () => {
      if (!this.handle) return;
      await this.handle.write(text);
      if (final) await this.handle.sync();
    });
    return this.writes;
  }

  async close(): Promise<void> {
    await this.writes;
    await this.handle?.close();
    this.handle = undefined;
  }
}

function compact(y: YieldCounts): Record<string, CompactYield> {
  return Object.fromEntries(Object.entries(y).filter(([, v]) => v.programs > 0).map(([k, v]) => [k, [v.programs, v.findings, v.newBuckets]]));
}

/** A timeline file's lines; malformed ones (a torn last line of a killed campaign) are counted, not fatal. */
export async function readTimeline(file: string): Promise<{ lines: TimelineLine[]; malformed: number }> {
  const text = await fs.readFile(file, 'utf8');
  const lines: TimelineLine[] = [];
  let malformed = 0;
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue;
    try {
      const l = JSON.parse(raw) as Partial<TimelineLine>;
      if (typeof l !== 'object' || l === null || typeof l.elapsedMs !== 'number' || typeof l.programs !== 'number' || typeof l.time !== 'number') throw new Error('not a timeline line');
      lines.push({ byKind: {}, byOp: {}, findingsByKind: {}, buckets: 0, newBuckets: 0, corpus: 0, execsPerSec: 0, executions: 0, seed: '', format: TIMELINE_FORMAT, ...l } as TimelineLine);
    } catch {
      malformed += 1;
    }
  }
  return { lines, malformed };
}
