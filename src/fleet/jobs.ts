// Fleet slices as queue jobs: their payload, result, signature (a forged job is refused) and ids.
import { seedProblem } from '../seed.js';
import { resolveSettings, type CampaignSettings } from '../campaign/settings.js';
import { type RedisStore } from './store.js';
import { verifyWith, type FleetTrust, type Signer } from './trust.js';

export const QUEUE = 'slices';
/** 3: the campaign's settings as one value (campaign/settings.ts); 2: jobs signed with the coordinator's Ed25519 key (1: a shared HMAC key). */
export const SLICE_FORMAT = 3;

/**
 * What a slice is: the campaign's settings, with this slice's part of the budget (program range
 * `firstProgram`/`maxPrograms`, or `durationMs`), and where it stands in the fleet; signed by the coordinator.
 */
export interface SlicePayload {
  format: number;
  campaign: string;
  slice: number;
  settings: CampaignSettings;
  /** The campaign's end (--duration campaigns): a slice taken after it does nothing. */
  deadline?: string;
  /** The slice mutates the first corpusUpTo programs of the shared corpus (its order list). */
  corpusUpTo: number;
}

export interface SignedJob {
  payload: SlicePayload;
  sig: string;
}

export interface SliceResult {
  campaign: string;
  slice: number;
  worker: string;
  targets: string[];
  programs: number;
  executions: number;
  findings: number;
  /** Hits of this slice per bucket (committed once). */
  hits: Record<string, number>;
  /** Buckets new to the fleet when this slice found them. */
  newBuckets: string[];
  corpusAdded: number;
  /** The slice's surface programs and the (type, member) pairs they exercised, of the worker's surface. */
  surface?: { programs: number; pairs: number; pairsExercised: number };
  expired?: boolean;
  /** Wall time of the slice's campaign, and what coordination cost around it (ms). */
  campaignMs: number;
  overhead: { prepareMs: number; commitMs: number };
  /** False when another run of the slice had committed first (this one counted nothing). */
  committed: boolean;
}

/** A job, signed with the coordinator's private key (the only key that can make one). */
export function signJob(coordinator: Signer, payload: SlicePayload): SignedJob {
  return { payload, sig: coordinator.sign({ kind: 'ftfuzz-slice', payload }) };
}

/**
 * The payload of a job whose signature is the fleet coordinator's, or why it is refused. A worker's key
 * never makes a job: a registered worker that is compromised cannot make the others run anything.
 */
export function verifyJob(trust: Pick<FleetTrust, 'coordinator'>, data: unknown): { payload?: SlicePayload; refused?: string } {
  const d = data as Partial<SignedJob> | null;
  if (!d || typeof d !== 'object' || typeof d.payload !== 'object' || d.payload === null) return { refused: 'not an ftfuzz slice (no payload)' };
  if (typeof d.sig !== 'string') return { refused: 'unsigned' };
  if (!verifyWith(trust.coordinator.key, { kind: 'ftfuzz-slice', payload: d.payload }, d.sig)) return { refused: `signature does not match the fleet coordinator's key ${trust.coordinator.id} (forged or altered, signed by a worker's key, or by another fleet's coordinator)` };
  if (d.payload.format !== SLICE_FORMAT) return { refused: `slice format ${String(d.payload.format)}; this ftfuzz reads ${SLICE_FORMAT} (upgrade the older side)` };
  // Signed is not enough: a seed reaches program headers and file names, so it is checked as the command line
  // checks it, and the settings are resolved again by the one code that resolves a local campaign's.
  const problem = typeof d.payload.campaign === 'string' ? seedProblem(d.payload.campaign) : 'it is not a string';
  if (problem) return { refused: `its campaign cannot be used: ${problem}` };
  if (!Number.isInteger(d.payload.slice) || typeof d.payload.corpusUpTo !== 'number' || (d.payload.deadline !== undefined && typeof d.payload.deadline !== 'string')) return { refused: 'not an ftfuzz slice (slice, corpusUpTo or deadline malformed)' };
  try {
    const settings = resolveSettings(d.payload.settings);
    return { payload: { ...d.payload, settings } };
  } catch (error) {
    return { refused: `its settings cannot be used: ${(error as Error).message}` };
  }
}

/** A BullMQ job id: the campaign's seed with `:` (which BullMQ refuses in ids) and `%` escaped, then the slice. */
export function jobId(campaign: string, slice: number): string {
  return `${campaign.replace(/%/g, '%25').replace(/:/g, '%3A')}-${slice}`;
}

export function bullPrefix(store: RedisStore): string {
  // The store's hash tag: the queue's keys live in the fleet's one Redis Cluster slot too.
  return `{${store.prefix}}:bull`;
}

/** Runs of a slice before it is reported lost (refusals by workers of another format and failures alike). */
export const SLICE_ATTEMPTS = 5;

/** A handler that logs each distinct message once (a Redis that went away would repeat one every second). */
export function onceEach(log: (message: string) => void): (error: Error) => void {
  const seen = new Set<string>();
  return (error) => {
    const m = error.message.split('\n')[0] ?? '';
    if (seen.has(m) || seen.size > 50) return;
    seen.add(m);
    log(m);
  };
}
