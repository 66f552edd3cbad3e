// The fleet's shared crash store and corpus, in Redis, with the semantics of the directories
// (store/crashStore.ts): one bucket per signature, first-seen decided atomically (the first writer's
// files stay, the others add hits), hits summed, files kept with the bucket, corpus programs
// content-addressed.
//
// Keys (prefix P, default `ftfuzz`; every key below starts `{P}`, a hash tag: one Redis Cluster slot per fleet):
//   P:buckets                 set of bucket names
//   P:bucket:<name>           hash: meta (JSON, as the first writer saw it), files (JSON name -> text),
//                             sig (HMAC of name, meta and files), createdBy (the contribution that made it)
//   P:hits:<name>             hash: contribution id -> JSON {hits, lastSeen, modes, verdict}; a bucket's
//                             hits are the sum, so writing one contribution twice counts once
//   P:corpus                  hash: sha256 of the source -> JSON {source, sig}
//   P:corpus:order            list of digests in the order they were added (slices take a prefix of it)
//   P:slices:<campaign>       hash: slice index -> JSON result, written once (a slice run twice counts once)
//   P:totals:<campaign>       hash: programs, executions, findings, slices (summed once per slice)
//   P:campaign:<campaign>     hash: the campaign's plan (JSON) and state
// Every change a slice makes is one Lua script: a worker killed before it commits changed nothing.
import { UsageError } from '../errors.js';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { writeFileAtomic } from '../atomicWrite.js';
import { CrashStore, isBucketName, mergeSightings, parseMeta, type BucketMeta } from '../store/crashStore.js';
import type { GilMode, Verdict } from '../types.js';
import { type FleetKey } from './trust.js';
export * from './redis.js';

export const DEFAULT_PREFIX = 'ftfuzz';

/** One writer's share of a bucket's hits. */
export interface Contribution {
  hits: number;
  lastSeen: string;
  modes: GilMode[];
  verdict: Verdict;
}

/** A bucket as a slice or a directory hands it to the store. */
export interface BucketUpload {
  name: string;
  /** Present when the writer has the bucket's files (it may be new to the store); absent: hits only. */
  meta?: string;
  files?: string;
  sig?: string;
  /** JSON Contribution; absent: no hits to add (a bucket read back from the store by triage). */
  contribution?: string;
  /** Replace the store's meta and files of a bucket it has (triage results written back). */
  replace?: boolean;
}

export interface CorpusUpload {
  digest: string;
  entry: string;
}

export interface StoredBucket {
  bucket: string;
  meta: BucketMeta;
  files: Record<string, string>;
  createdBy: string;
  contributions: Record<string, Contribution>;
}

// Every key the script touches is in KEYS (Redis Cluster routes a script by its keys), and every key of
// one fleet has the same hash tag (`{prefix}`), so they live in one slot. KEYS: 1 the campaign's slice
// results, 2 its totals, 3 the bucket list, 4 the corpus, 5 the corpus order; then per bucket upload i
// (1-based), 5 + 2i - 1 its hash and 5 + 2i its hits.
const COMMIT = `
local campaign, slice = ARGV[1], ARGV[2]
if campaign ~= '' and redis.call('HEXISTS', KEYS[1], slice) == 1 then return 0 end
local data = cjson.decode(ARGV[3])
local source = data.source
for i, b in ipairs(data.buckets) do
  local key, hits = KEYS[5 + 2 * i - 1], KEYS[5 + 2 * i]
  if b.meta then
    if redis.call('HSETNX', key, 'meta', b.meta) == 1 then
      redis.call('HSET', key, 'files', b.files, 'sig', b.sig, 'createdBy', source)
      redis.call('SADD', KEYS[3], b.name)
    elseif b.replace then
      redis.call('HSET', key, 'meta', b.meta, 'files', b.files, 'sig', b.sig)
      if b.forged then redis.call('HSET', key, 'createdBy', source) end
      redis.call('SADD', KEYS[3], b.name)
    end
  end
  if b.contribution and redis.call('HEXISTS', key, 'meta') == 1 then
    redis.call('HSET', hits, source, b.contribution)
  end
end
for _, c in ipairs(data.corpus) do
  if redis.call('HSETNX', KEYS[4], c.digest, c.entry) == 1 then
    redis.call('RPUSH', KEYS[5], c.digest)
  elseif c.forged then
    redis.call('HSET', KEYS[4], c.digest, c.entry)
    if not redis.call('LPOS', KEYS[5], c.digest) then redis.call('RPUSH', KEYS[5], c.digest) end
  end
end
if campaign ~= '' then
  redis.call('HSET', KEYS[1], slice, data.result)
  redis.call('HINCRBY', KEYS[2], 'slices', 1)
  redis.call('HINCRBY', KEYS[2], 'programs', data.programs)
  redis.call('HINCRBY', KEYS[2], 'executions', data.executions)
  redis.call('HINCRBY', KEYS[2], 'findings', data.findings)
end
return 1
`;


export function contributionOf(meta: Pick<BucketMeta, 'hits' | 'lastSeen' | 'modes' | 'verdict'>): Contribution {
  return { hits: meta.hits, lastSeen: meta.lastSeen, modes: meta.modes, verdict: meta.verdict };
}

/** What the signature of a bucket covers. */
function signedBucket(name: string, meta: string, files: string) {
  return { kind: 'ftfuzz-bucket', name, meta, files };
}

function signedContribution(bucket: string, source: string, c: Contribution) {
  return { kind: 'ftfuzz-contribution', bucket, source, c };
}

function signedCorpus(digest: string, source: string) {
  return { kind: 'ftfuzz-corpus', digest, source };
}

/**
 * A bucket's meta from its writers' contributions (the store's one merge rule, crashStore.ts): each writer's
 * share is one sighting, so writing a contribution twice counts once. The stored meta gives the identity.
 */
function mergedMeta(meta: BucketMeta, contributions: Contribution[]): BucketMeta {
  if (!contributions.length) return meta;
  const sorted = [...contributions].sort((a, b) => (a.lastSeen < b.lastSeen ? -1 : a.lastSeen > b.lastSeen ? 1 : 0));
  const merged = mergeSightings({ ...meta, hits: 0, lastSeen: meta.firstSeen, modes: [], verdict: 'unknown' }, sorted);
  return { ...merged, modes: merged.modes.length ? [...merged.modes].sort() : meta.modes, verdict: merged.verdict === 'unknown' ? meta.verdict : merged.verdict };
}

export class RedisStore {
  /** The corpus order list as far as it was read (append-only in Redis). */
  private readonly order: string[] = [];

  constructor(
    readonly client: Redis,
    readonly key: FleetKey,
    readonly prefix = DEFAULT_PREFIX,
  ) {}

  /** A key of this fleet: `{prefix}:...`, the hash tag putting all of a fleet's keys in one Redis Cluster slot. */
  private k(...parts: string[]): string {
    return [`{${this.prefix}}`, ...parts].join(':');
  }

  /** Files and meta of a bucket, signed for the store. */
  bucketUpload(name: string, meta: BucketMeta, files: Record<string, string>, replace = false): BucketUpload {
    const core: BucketMeta = { ...meta };
    delete (core as { fleetHits?: unknown }).fleetHits;
    const metaText = JSON.stringify(core);
    const filesText = JSON.stringify(files);
    return { name, meta: metaText, files: filesText, sig: this.key.sign(signedBucket(name, metaText, filesText)), contribution: JSON.stringify(contributionOf(meta)), ...(replace ? { replace } : {}) };
  }

  corpusUpload(source: string): CorpusUpload {
    const digest = createHash('sha256').update(source).digest('hex');
    return { digest, entry: JSON.stringify({ source, sig: this.key.sign(signedCorpus(digest, source)) }) };
  }

  /**
   * Apply one writer's buckets and corpus programs atomically. With a campaign and slice: once per
   * slice (false when that slice was committed already, and nothing changed).
   */
  async commit(c: {
    campaign?: string;
    slice?: string;
    source: string;
    buckets: BucketUpload[];
    corpus: CorpusUpload[];
    result?: unknown;
    programs?: number;
    executions?: number;
    findings?: number;
  }): Promise<boolean> {
    // Each contribution is signed with the bucket it counts for and the writer it came from: one copied to
    // another bucket or source, or written to Redis without the key, counts nothing.
    const signed = c.buckets.map((b) => (b.contribution === undefined ? b : { ...b, contribution: this.signContribution(b.name, c.source, JSON.parse(b.contribution) as Contribution) }));
    // An entry someone wrote first without the key (a junk meta under the name, a wrong program under
    // the digest) would keep the real one out for ever: it is overwritten (`forged`), never kept.
    const { buckets, corpus } = await this.overForgeries(signed, c.corpus);
    const payload = JSON.stringify({
      source: c.source,
      buckets,
      corpus,
      result: JSON.stringify(c.result ?? {}),
      programs: c.programs ?? 0,
      executions: c.executions ?? 0,
      findings: c.findings ?? 0,
    });
    const campaign = c.campaign ?? '';
    const keys = [this.k('slices', campaign), this.k('totals', campaign), this.k('buckets'), this.k('corpus'), this.k('corpus', 'order'), ...buckets.flatMap((b) => [this.k('bucket', b.name), this.k('hits', b.name)])];
    const applied = await this.client.eval(COMMIT, keys.length, ...keys, campaign, c.slice ?? '', payload);
    return applied === 1;
  }

  /** The uploads, those whose name or digest holds an entry that does not verify marked `forged` (to be overwritten). */
  private async overForgeries(buckets: BucketUpload[], corpus: CorpusUpload[]): Promise<{ buckets: (BucketUpload & { forged?: boolean })[]; corpus: (CorpusUpload & { forged?: boolean })[] }> {
    const pipeline = this.client.pipeline();
    const fresh = buckets.filter((b) => b.meta !== undefined && !b.replace);
    for (const b of fresh) pipeline.hmget(this.k('bucket', b.name), 'meta', 'files', 'sig');
    const replies = fresh.length ? ((await pipeline.exec()) ?? []) : [];
    const forgedNames = new Set<string>();
    fresh.forEach((b, i) => {
      const [meta, files, sig] = (replies[i]?.[1] ?? []) as (string | null)[];
      if (meta !== null && meta !== undefined && !this.bucketVerifies(b.name, meta, files, sig)) forgedNames.add(b.name);
    });
    const existing = corpus.length ? await this.client.hmget(this.k('corpus'), ...corpus.map((e) => e.digest)) : [];
    const forgedDigests = new Set(corpus.filter((e, i) => existing[i] !== null && existing[i] !== undefined && this.corpusSource(e.digest, existing[i]) === null).map((e) => e.digest));
    return {
      buckets: buckets.map((b) => (forgedNames.has(b.name) ? { ...b, replace: true, forged: true } : b)),
      corpus: corpus.map((e) => (forgedDigests.has(e.digest) ? { ...e, forged: true } : e)),
    };
  }

  /** A stored corpus entry's source when its digest and signature hold; null otherwise. */
  private corpusSource(digest: string, text: string): string | null {
    try {
      const e = JSON.parse(text) as { source?: unknown; sig?: unknown } | null;
      if (!e || typeof e.source !== 'string') return null;
      const actual = createHash('sha256').update(e.source).digest('hex');
      return actual === digest && this.key.verify(signedCorpus(digest, e.source), e.sig) ? e.source : null;
    } catch {
      return null;
    }
  }

  private signContribution(bucket: string, source: string, c: Contribution): string {
    const core = contributionOf(c);
    return JSON.stringify({ ...core, sig: this.key.sign(signedContribution(bucket, source, core)) });
  }

  /** A stored contribution when its signature holds for this bucket and writer; null otherwise. */
  private verifiedContribution(bucket: string, source: string, text: string): Contribution | null {
    try {
      const c = JSON.parse(text) as Contribution & { sig?: unknown };
      if (typeof c.hits !== 'number' || !Number.isInteger(c.hits) || c.hits < 0 || typeof c.lastSeen !== 'string' || !Array.isArray(c.modes) || typeof c.verdict !== 'string') return null;
      const core = contributionOf(c);
      return this.key.verify(signedContribution(bucket, source, core), c.sig) ? core : null;
    } catch {
      return null;
    }
  }

  /**
   * The first ftfuzz to use this Redis (coordinator, worker or sync) leaves a token signed with its key;
   * every later one checks it, so a machine with a wrong or rotated key stops at once with one line instead
   * of taking jobs it must refuse (or signing entries nobody else can read).
   */
  async checkKey(): Promise<void> {
    const key = this.k('keycheck');
    const signed = { kind: 'ftfuzz-key-check', prefix: this.prefix };
    await this.client.set(key, this.key.sign(signed), 'NX');
    if (!this.key.verify(signed, await this.client.get(key))) {
      throw new UsageError(`fleet key (${this.key.source}) is not the key this Redis fleet was first used with (its check entry ${key} does not verify): use the same key on every machine of the fleet; if that entry was not written by ftfuzz, delete it (redis-cli DEL ${key})`);
    }
  }

  /** The store's bucket names that are bucket names (isBucketName): any other entry is never read or used as a path. */
  async bucketNames(): Promise<string[]> {
    return (await this.listedNames()).names;
  }

  /** The bucket list, read once: its bucket names, and the entries that are not (written by something other than ftfuzz). */
  private async listedNames(): Promise<{ names: string[]; foreign: string[] }> {
    const all = (await this.client.smembers(this.k('buckets'))).sort();
    return { names: all.filter(isBucketName), foreign: all.filter((n) => !isBucketName(n)) };
  }

  /** Whether a stored bucket's signature holds for its name, meta and files. */
  private bucketVerifies(name: string, meta: string, files: string | null | undefined, sig: unknown): boolean {
    return this.key.verify(signedBucket(name, meta, files ?? ''), sig);
  }

  /** One bucket, verified; `forged` when its signature does not match the fleet key. */
  async readBucket(name: string): Promise<{ bucket?: StoredBucket; error?: string }> {
    const [h, hits] = await Promise.all([this.client.hgetall(this.k('bucket', name)), this.client.hgetall(this.k('hits', name))]);
    if (!h.meta) return { error: `bucket ${name}: listed but has no meta in redis` };
    if (!this.bucketVerifies(name, h.meta, h.files, h.sig)) return { error: `bucket ${name}: signature does not match the fleet key (altered in redis, or written with another key); not used` };
    let meta: BucketMeta;
    let files: Record<string, string>;
    try {
      meta = parseMeta(h.meta, `redis bucket ${name}`);
      files = JSON.parse(h.files ?? '{}') as Record<string, string>;
    } catch (error) {
      return { error: (error as Error).message };
    }
    const contributions: Record<string, Contribution> = {};
    // An unsigned, altered or unreadable contribution counts nothing.
    for (const [source, text] of Object.entries(hits)) {
      const c = this.verifiedContribution(name, source, text);
      if (c) contributions[source] = c;
    }
    return { bucket: { bucket: name, meta: mergedMeta(meta, Object.values(contributions)), files, createdBy: h.createdBy ?? '', contributions } };
  }

  /** Every bucket, and every one refused (named, with why). */
  async listBuckets(): Promise<{ buckets: StoredBucket[]; errors: string[] }> {
    const buckets: StoredBucket[] = [];
    const { names, foreign } = await this.listedNames();
    const errors = foreign.map((n) => `bucket name ${JSON.stringify(n.slice(0, 80))} in redis: not a bucket name (not written by ftfuzz); ignored`);
    for (const name of names) {
      const r = await this.readBucket(name);
      if (r.bucket) buckets.push(r.bucket);
      else if (r.error) errors.push(r.error);
    }
    return { buckets, errors };
  }

  /**
   * Metas of every bucket (unverified: used only to count hits against known buckets). With a cache,
   * only buckets new since the last call are read: a slice needs their names and kinds, which never
   * change, so 100 workers do not each read every bucket's meta for every slice.
   */
  async bucketMetas(cache?: Map<string, BucketMeta>): Promise<Map<string, BucketMeta>> {
    const names = await this.bucketNames();
    const out = new Map<string, BucketMeta>();
    const missing = names.filter((n) => !cache?.has(n));
    const pipeline = this.client.pipeline();
    for (const n of missing) pipeline.hget(this.k('bucket', n), 'meta');
    const replies = missing.length ? ((await pipeline.exec()) ?? []) : [];
    const read = cache ?? out;
    missing.forEach((n, i) => {
      const text = replies[i]?.[1];
      if (typeof text !== 'string') return;
      try {
        read.set(n, parseMeta(text, `redis bucket ${n}`));
      } catch {
        // a malformed one is reported by listBuckets
      }
    });
    if (cache) for (const n of names) if (cache.has(n)) out.set(n, cache.get(n) as BucketMeta);
    return out;
  }

  async corpusLength(): Promise<number> {
    return this.client.llen(this.k('corpus', 'order'));
  }

  /**
   * The first `upTo` corpus programs (all when undefined), verified. `cache` keeps verified sources by
   * digest across calls (content-addressed: an entry never changes).
   */
  async corpusEntries(upTo?: number, cache = new Map<string, string>()): Promise<{ entries: { digest: string; source: string }[]; errors: string[] }> {
    // The order list only grows: the part read before is not read again (with 10,000 programs in the
    // corpus it would be 640 kB per slice).
    if (upTo === undefined || upTo > this.order.length) {
      const more = await this.client.lrange(this.k('corpus', 'order'), this.order.length, upTo === undefined ? -1 : upTo - 1);
      this.order.push(...more);
    }
    const digests = upTo === undefined ? [...this.order] : this.order.slice(0, upTo);
    const missing = digests.filter((d) => !cache.has(d));
    const errors: string[] = [];
    for (let i = 0; i < missing.length; i += 500) {
      const chunk = missing.slice(i, i + 500);
      const texts = await this.client.hmget(this.k('corpus'), ...chunk);
      chunk.forEach((d, j) => {
        const text = texts[j];
        const source = typeof text === 'string' ? this.corpusSource(d, text) : null;
        if (source === null) errors.push(`corpus entry ${d.slice(0, 16)}: ${typeof text === 'string' ? 'unreadable, or its digest or signature does not match the fleet key (altered in redis, or written with another key)' : 'missing'}; not used`);
        else cache.set(d, source);
      });
    }
    return { entries: digests.flatMap((d) => (cache.has(d) ? [{ digest: d, source: cache.get(d) as string }] : [])), errors };
  }

  async sliceResults(campaign: string): Promise<Map<string, unknown>> {
    const h = await this.client.hgetall(this.k('slices', campaign));
    return new Map(Object.entries(h).map(([k, v]) => [k, JSON.parse(v) as unknown]));
  }

  async totals(campaign: string): Promise<{ slices: number; programs: number; executions: number; findings: number }> {
    const h = await this.client.hgetall(this.k('totals', campaign));
    const n = (k: string) => Number(h[k] ?? 0);
    return { slices: n('slices'), programs: n('programs'), executions: n('executions'), findings: n('findings') };
  }

  async sliceDone(campaign: string, slice: string): Promise<boolean> {
    return (await this.client.hexists(this.k('slices', campaign), slice)) === 1;
  }

  campaignKey(campaign: string): string {
    return this.k('campaign', campaign);
  }

  /**
   * Write the store out as ordinary directories (`crashes/<bucket>/…`, `corpus/<digest>.py`), each file
   * atomically and each bucket's meta.json last, as the crash store itself writes them. Refused
   * (unsigned or altered) entries are named in `errors` and not written.
   */
  async exportTo(crashDir: string | undefined, corpusDir: string | undefined): Promise<{ buckets: number; corpus: number; errors: string[] }> {
    const errors: string[] = [];
    let buckets = 0;
    let corpus = 0;
    if (crashDir) {
      const listed = await this.listBuckets();
      errors.push(...listed.errors);
      for (const b of listed.buckets) {
        const dir = path.join(crashDir, b.bucket);
        for (const [name, text] of Object.entries(b.files)) {
          if (!safeFileName(name)) {
            errors.push(`bucket ${b.bucket}: file name ${JSON.stringify(name)} refused`);
            continue;
          }
          await writeFileAtomic(path.join(dir, name), text);
        }
        const fleetHits = Object.fromEntries(Object.entries(b.contributions).map(([s, c]) => [s, c.hits]));
        await writeFileAtomic(path.join(dir, 'meta.json'), `${JSON.stringify({ ...b.meta, fleetHits }, null, 2)}\n`);
        buckets += 1;
      }
    }
    if (corpusDir) {
      const { entries, errors: bad } = await this.corpusEntries();
      errors.push(...bad);
      for (const e of entries) {
        await writeFileAtomic(path.join(corpusDir, `${e.digest.slice(0, 16)}.py`), e.source);
        corpus += 1;
      }
    }
    return { buckets, corpus, errors };
  }

  /**
   * Read directories into the store. A bucket new to the store is added with its files; one it has
   * gets the directory's hits as the directory's own contribution (hits it got from the store, recorded
   * in meta.json's fleetHits by exportTo, are not counted twice) and, with `replace`, the directory's
   * meta and files (triage results, repro.min.py). Importing the same directory twice changes nothing.
   */
  async importFrom(crashDir: string | undefined, corpusDir: string | undefined, opts: { replace?: boolean } = {}): Promise<{ buckets: number; corpus: number; errors: string[] }> {
    const errors: string[] = [];
    const uploads: BucketUpload[] = [];
    const source = crashDir ? `dir:${os.hostname()}:${path.resolve(crashDir)}` : `dir:${os.hostname()}`;
    if (crashDir) {
      const local = new CrashStore(crashDir);
      const { buckets, errors: bad } = await local.list();
      errors.push(...bad.map((e) => `${path.join(crashDir, e.bucket)}: ${e.error}`));
      for (const { bucket, meta } of buckets) {
        if (!isBucketName(bucket)) {
          errors.push(`${path.join(crashDir, bucket)}: not a bucket name ftfuzz makes; not sent to the fleet`);
          continue;
        }
        const fleetHits = ((meta as { fleetHits?: Record<string, number> }).fleetHits ?? {});
        // This directory's own hits: all of them, less those other writers made (known from the export).
        const others = Object.entries(fleetHits).filter(([s]) => s !== source).reduce((a, [, n]) => a + (Number(n) || 0), 0);
        const own = Math.max(0, meta.hits - others);
        const files = await readBucketFiles(path.join(crashDir, bucket));
        const upload = this.bucketUpload(bucket, meta, files, opts.replace);
        if (own > 0 || source in fleetHits) upload.contribution = JSON.stringify({ ...contributionOf(meta), hits: own });
        else delete upload.contribution;
        uploads.push(upload);
      }
    }
    const corpus: CorpusUpload[] = [];
    if (corpusDir) {
      let names: string[] = [];
      try {
        names = (await fs.readdir(corpusDir)).filter((n) => n.endsWith('.py') && !n.startsWith('.')).sort();
      } catch (error) {
        errors.push(`${corpusDir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      for (const n of names) corpus.push(this.corpusUpload(await fs.readFile(path.join(corpusDir, n), 'utf8')));
    }
    // In chunks of at most EVAL_BYTES: Redis runs one script at a time, and a long one would hold up
    // every worker's lock renewal. Every chunk is atomic, and a chunk applied twice changes nothing.
    for (const chunk of chunksOf([...uploads.map((b) => ({ b })), ...corpus.map((c) => ({ c }))], (x) => ('b' in x ? (x.b.meta?.length ?? 0) + (x.b.files?.length ?? 0) + (x.b.contribution?.length ?? 0) : x.c.entry.length))) {
      await this.commit({ source, buckets: chunk.flatMap((x) => ('b' in x ? [x.b] : [])), corpus: chunk.flatMap((x) => ('c' in x ? [x.c] : [])) });
    }
    return { buckets: uploads.length, corpus: corpus.length, errors };
  }
}

/** Bytes of entries one commit script carries at most (a bucket larger than this goes alone). */
export const EVAL_BYTES = 256 * 1024;

/** Consecutive chunks of at most EVAL_BYTES (by `size`) and 100 entries each. */
export function chunksOf<T>(items: readonly T[], size: (x: T) => number, maxBytes = EVAL_BYTES, maxItems = 100): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const x of items) {
    const n = size(x);
    if (current.length && (bytes + n > maxBytes || current.length >= maxItems)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(x);
    bytes += n;
  }
  if (current.length) out.push(current);
  return out;
}

function safeFileName(name: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name) && name !== 'meta.json';
}

/** A bucket directory's files, as the store keeps them (not meta.json, not temp or lock files). */
export async function readBucketFiles(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    if (!e.isFile() || !safeFileName(e.name)) continue;
    out[e.name] = await fs.readFile(path.join(dir, e.name), 'utf8');
  }
  return out;
}
