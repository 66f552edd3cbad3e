// The fleet's shared crash store and corpus, in Redis, with the semantics of the directories
// (store/crashStore.ts): one bucket per signature, first-seen decided atomically (the first writer's
// files stay, the others add hits), hits summed, files kept with the bucket, corpus programs
// content-addressed.
//
// Keys (prefix P, default `ftfuzz`; every key below starts `{P}`, a hash tag: one Redis Cluster slot per fleet):
//   P:buckets                 set of bucket names
//   P:fleet                   the fleet's check entry: the coordinator's key id and public key, signed by it
//   P:workers                 hash: worker key id -> JSON {name, publicPem, registered, sig (the coordinator's)}
//   P:buckets                 set of bucket names
//   P:bucket:<name>           hash: meta (JSON, as the first writer saw it), files (JSON name -> text),
//                             signer (key id), sig (its signature of name, meta, files and signer),
//                             createdBy (the contribution that made it)
//   P:hits:<name>             hash: contribution id -> JSON {hits, lastSeen, modes, verdict, signer, sig}; a
//                             bucket's hits are the sum, so writing one contribution twice counts once
//   P:corpus                  hash: sha256 of the source -> JSON {source, signer, sig}
//   P:corpus:order            list of digests in the order they were added (slices take a prefix of it)
//   P:slices:<campaign>       hash: slice index -> JSON {result, signer, sig}, written once (a slice run
//                             twice counts once)
//   P:totals:<campaign>       hash: programs, executions, findings, slices (summed once per slice; unsigned,
//                             so used for progress lines only: what a summary says comes from signed results)
//   P:campaign:<campaign>     hash: the campaign's plan (JSON) and state
// Every change a slice makes is one Lua script: a worker killed before it commits changed nothing.
// Every entry is signed by the key that wrote it (trust.ts): the coordinator's or a registered worker's;
// an entry whose signer is unknown, revoked or does not verify is refused by name and never used.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { writeFileAtomic } from '../atomicWrite.js';
import { CrashStore, isBucketName, mergeSightings, parseMeta, type BucketMeta } from '../store/crashStore.js';
import type { GilMode, Verdict } from '../types.js';
import { type FleetTrust } from './trust.js';
import { Registry, safeParse, signerIn, signerOf } from './registry.js';
export * from './redis.js';
export { REGISTRY_TTL_MS } from './registry.js';
export { chunksOf, EVAL_BYTES } from './commitScript.js';
import { chunksOf, COMMIT } from './commitScript.js';

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
  signer?: string;
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
  /** Who wrote its meta and files: `worker NAME (id)` or `coordinator id`. */
  signer: string;
  contributions: Record<string, Contribution>;
}



export function contributionOf(meta: Pick<BucketMeta, 'hits' | 'lastSeen' | 'modes' | 'verdict'>): Contribution {
  return { hits: meta.hits, lastSeen: meta.lastSeen, modes: meta.modes, verdict: meta.verdict };
}

// What each signature covers: the entry, where it is stored, and the key that signed it.
function signedBucket(name: string, meta: string, files: string, signer: string) {
  return { kind: 'ftfuzz-bucket', name, meta, files, signer };
}

function signedContribution(bucket: string, source: string, signer: string, c: Contribution) {
  return { kind: 'ftfuzz-contribution', bucket, source, signer, c };
}

function signedCorpus(digest: string, source: string, signer: string) {
  return { kind: 'ftfuzz-corpus', digest, source, signer };
}

function signedSliceResult(prefix: string, campaign: string, slice: string, signer: string, result: unknown) {
  return { kind: 'ftfuzz-slice-result', prefix, campaign, slice, signer, result };
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

  /** Which keys the fleet trusts: its coordinator's and the registered workers'. */
  readonly registry: Registry;

  constructor(
    readonly client: Redis,
    readonly trust: FleetTrust,
    readonly prefix = DEFAULT_PREFIX,
  ) {
    this.registry = new Registry(client, trust, prefix, (...parts) => this.k(...parts));
  }

  private get signer(): string {
    return this.trust.me.id;
  }

  /** A key of this fleet: `{prefix}:...`, the hash tag putting all of a fleet's keys in one Redis Cluster slot. */
  private k(...parts: string[]): string {
    return [`{${this.prefix}}`, ...parts].join(':');
  }

  /** Files and meta of a bucket, signed for the store. */
  bucketUpload(name: string, meta: BucketMeta, files: Record<string, string>, replace = false): BucketUpload {
    const core: BucketMeta = { ...meta };
    delete (core as { fleetHits?: unknown }).fleetHits;
    delete (core as { fleetSigner?: unknown }).fleetSigner;
    const metaText = JSON.stringify(core);
    const filesText = JSON.stringify(files);
    const signer = this.signer;
    return { name, meta: metaText, files: filesText, signer, sig: this.trust.me.sign(signedBucket(name, metaText, filesText, signer)), contribution: JSON.stringify(contributionOf(meta)), ...(replace ? { replace } : {}) };
  }

  corpusUpload(source: string): CorpusUpload {
    const digest = createHash('sha256').update(source).digest('hex');
    const signer = this.signer;
    return { digest, entry: JSON.stringify({ source, signer, sig: this.trust.me.sign(signedCorpus(digest, source, signer)) }) };
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
    const campaign = c.campaign ?? '';
    const slice = c.slice ?? '';
    const { buckets, corpus, forgedSlice } = await this.overForgeries(signed, c.corpus, campaign, slice);
    const result = c.result ?? {};
    const payload = JSON.stringify({
      source: c.source,
      buckets,
      corpus,
      result: JSON.stringify({ result, signer: this.signer, sig: this.trust.me.sign(signedSliceResult(this.prefix, campaign, slice, this.signer, result)) }),
      ...(forgedSlice !== undefined ? { forgedSlice } : {}),
      programs: c.programs ?? 0,
      executions: c.executions ?? 0,
      findings: c.findings ?? 0,
    });
    const keys = [this.k('slices', campaign), this.k('totals', campaign), this.k('buckets'), this.k('corpus'), this.k('corpus', 'order'), ...buckets.flatMap((b) => [this.k('bucket', b.name), this.k('hits', b.name)])];
    const applied = await this.client.eval(COMMIT, keys.length, ...keys, campaign, slice, payload);
    return applied === 1;
  }

  /**
   * The uploads, those whose name or digest holds an entry that does not verify marked `forged` (to be
   * overwritten), and the slice's stored result when it does not verify (to be replaced if still there).
   * What is already stored is read in one round trip.
   */
  private async overForgeries(buckets: BucketUpload[], corpus: CorpusUpload[], campaign: string, slice: string): Promise<{ buckets: (BucketUpload & { forged?: boolean })[]; corpus: (CorpusUpload & { forged?: boolean })[]; forgedSlice?: string }> {
    const pipeline = this.client.pipeline();
    const fresh = buckets.filter((b) => b.meta !== undefined && !b.replace);
    for (const b of fresh) pipeline.hmget(this.k('bucket', b.name), 'meta', 'files', 'sig', 'signer');
    if (corpus.length) pipeline.hmget(this.k('corpus'), ...corpus.map((e) => e.digest));
    if (campaign) pipeline.hget(this.k('slices', campaign), slice);
    const replies = pipeline.length ? ((await pipeline.exec()) ?? []) : [];
    const stored = fresh.map((_, i) => (replies[i]?.[1] ?? []) as (string | null)[]);
    const existing = corpus.length ? ((replies[fresh.length]?.[1] ?? []) as (string | null)[]) : [];
    const current = campaign ? ((replies[fresh.length + (corpus.length ? 1 : 0)]?.[1] ?? null) as string | null) : null;
    await this.ensureSigners([...stored.map((r) => signerOf(r[3])), ...existing.map(signerIn), signerIn(current)]);
    const forgedNames = new Set<string>();
    fresh.forEach((b, i) => {
      const [meta, files, sig, signer] = stored[i] as (string | null)[];
      if (meta !== null && meta !== undefined && !this.bucketVerifies(b.name, meta, files, sig, signer)) forgedNames.add(b.name);
    });
    const forgedDigests = new Set(corpus.filter((e, i) => existing[i] !== null && existing[i] !== undefined && this.corpusSource(e.digest, existing[i]) === null).map((e) => e.digest));
    return {
      buckets: buckets.map((b) => (forgedNames.has(b.name) ? { ...b, replace: true, forged: true } : b)),
      corpus: corpus.map((e) => (forgedDigests.has(e.digest) ? { ...e, forged: true } : e)),
      ...(current !== null && this.verifiedSliceResult(campaign, slice, current) === null ? { forgedSlice: current } : {}),
    };
  }

  /** A stored corpus entry's source when its digest and signature hold; null otherwise. */
  private corpusSource(digest: string, text: string): string | null {
    const e = safeParse(text);
    if (!e || typeof e.source !== 'string') return null;
    const actual = createHash('sha256').update(e.source).digest('hex');
    return actual === digest && this.trust.verify(e.signer, signedCorpus(digest, e.source, String(e.signer)), e.sig) ? e.source : null;
  }

  private signContribution(bucket: string, source: string, c: Contribution): string {
    const core = contributionOf(c);
    const signer = this.signer;
    return JSON.stringify({ ...core, signer, sig: this.trust.me.sign(signedContribution(bucket, source, signer, core)) });
  }

  /** A stored contribution when its signature holds for this bucket and writer; null otherwise. */
  private verifiedContribution(bucket: string, source: string, text: string): Contribution | null {
    try {
      const c = JSON.parse(text) as Contribution & { signer?: unknown; sig?: unknown };
      if (typeof c.hits !== 'number' || !Number.isInteger(c.hits) || c.hits < 0 || typeof c.lastSeen !== 'string' || !Array.isArray(c.modes) || typeof c.verdict !== 'string') return null;
      const core = contributionOf(c);
      return this.trust.verify(c.signer, signedContribution(bucket, source, String(c.signer), core), c.sig) ? core : null;
    } catch {
      return null;
    }
  }

  /** Check this machine's keys against the fleet (Registry.check): before it takes or writes anything. */
  checkFleet(): Promise<void> {
    return this.registry.check();
  }

  private ensureSigners(signers: Iterable<string | undefined>): Promise<void> {
    return this.registry.ensure(signers);
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
  private bucketVerifies(name: string, meta: string, files: string | null | undefined, sig: unknown, signer: unknown): boolean {
    return this.trust.verify(signer, signedBucket(name, meta, files ?? '', String(signer)), sig);
  }

  /** One bucket, verified; `forged` when its signature does not match the fleet key. */
  async readBucket(name: string): Promise<{ bucket?: StoredBucket; error?: string }> {
    const [h, hits] = await Promise.all([this.client.hgetall(this.k('bucket', name)), this.client.hgetall(this.k('hits', name))]);
    if (!h.meta) return { error: `bucket ${name}: listed but has no meta in redis` };
    await this.ensureSigners([signerOf(h.signer), ...Object.values(hits).map(signerIn)]);
    if (!this.bucketVerifies(name, h.meta, h.files, h.sig, h.signer)) return { error: `bucket ${name}: ${this.refusal(h.signer)}; not used` };
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
    return { bucket: { bucket: name, meta: mergedMeta(meta, Object.values(contributions)), files, createdBy: h.createdBy ?? '', signer: this.trust.nameOf(h.signer as string), contributions } };
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
      await this.ensureSigners(texts.map(signerIn));
      chunk.forEach((d, j) => {
        const text = texts[j];
        const source = typeof text === 'string' ? this.corpusSource(d, text) : null;
        if (source === null) errors.push(`corpus entry ${d.slice(0, 16)}: ${typeof text === 'string' ? `unreadable, or its digest does not match, or ${this.refusal(safeParse(text)?.signer)}` : 'missing'}; not used`);
        else cache.set(d, source);
      });
    }
    return { entries: digests.flatMap((d) => (cache.has(d) ? [{ digest: d, source: cache.get(d) as string }] : [])), errors };
  }

  /** A campaign's committed slice results whose signatures hold (a result written without a key is not one). */
  async sliceResults(campaign: string): Promise<Map<string, unknown>> {
    const h = await this.client.hgetall(this.k('slices', campaign));
    await this.ensureSigners(Object.values(h).map(signerIn));
    const out = new Map<string, unknown>();
    for (const [slice, text] of Object.entries(h)) {
      const result = this.verifiedSliceResult(campaign, slice, text);
      if (result !== null) out.set(slice, result);
    }
    return out;
  }

  /** A stored slice result when its signature holds for this fleet, campaign and slice; null otherwise. */
  private verifiedSliceResult(campaign: string, slice: string, text: string): unknown {
    const e = safeParse(text);
    if (!e || !('result' in e)) return null;
    return this.trust.verify(e.signer, signedSliceResult(this.prefix, campaign, slice, String(e.signer), e.result), e.sig) ? e.result : null;
  }

  /** Why an entry naming `signer` is refused (its signature did not verify). */
  private refusal(signer: unknown): string {
    const id = signerOf(signer);
    if (!id) return 'it names no signer key (written into redis without a fleet key)';
    if (this.trust.keyOf(id) === undefined) return `its signer key ${id} is not registered with this fleet (never registered, or revoked)`;
    return `its signature does not verify with ${this.trust.nameOf(id)}'s key (altered in redis)`;
  }

  async totals(campaign: string): Promise<{ slices: number; programs: number; executions: number; findings: number }> {
    const h = await this.client.hgetall(this.k('totals', campaign));
    const n = (k: string) => Number(h[k] ?? 0);
    return { slices: n('slices'), programs: n('programs'), executions: n('executions'), findings: n('findings') };
  }

  /** Whether a slice has a committed result whose signature holds (one written without a key does not stop it running). */
  async sliceDone(campaign: string, slice: string): Promise<boolean> {
    const text = await this.client.hget(this.k('slices', campaign), slice);
    if (text === null) return false;
    await this.ensureSigners([signerIn(text)]);
    return this.verifiedSliceResult(campaign, slice, text) !== null;
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
        // Who wrote the bucket's files (a worker's reproducer is code a triager runs): `triage` shows it.
        await writeFileAtomic(path.join(dir, 'meta.json'), `${JSON.stringify({ ...b.meta, fleetHits, fleetSigner: b.signer }, null, 2)}\n`);
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
