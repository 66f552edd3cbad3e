// The fleet store's one write: the Lua script a slice (or a `sync in` chunk, or a triage write-back)
// commits with, atomically, and how a large write is cut into scripts Redis can run without holding up
// every worker's lock renewal.

// Every key the script touches is in KEYS (Redis Cluster routes a script by its keys), and every key of
// one fleet has the same hash tag (`{prefix}`), so they live in one slot. KEYS: 1 the campaign's slice
// results, 2 its totals, 3 the bucket list, 4 the corpus, 5 the corpus order; then per bucket upload i
// (1-based), 5 + 2i - 1 its hash and 5 + 2i its hits.
export const COMMIT = `
local campaign, slice = ARGV[1], ARGV[2]
local data = cjson.decode(ARGV[3])
if campaign ~= '' then
  -- Once per slice; a result that did not verify (written without a key) is replaced, but only if it is
  -- still the one the writer saw: a real result committed meanwhile wins.
  local current = redis.call('HGET', KEYS[1], slice)
  if current and current ~= data.forgedSlice then return 0 end
end
local source = data.source
for i, b in ipairs(data.buckets) do
  local key, hits = KEYS[5 + 2 * i - 1], KEYS[5 + 2 * i]
  if b.meta then
    if redis.call('HSETNX', key, 'meta', b.meta) == 1 then
      redis.call('HSET', key, 'files', b.files, 'sig', b.sig, 'signer', b.signer, 'createdBy', source)
      redis.call('SADD', KEYS[3], b.name)
    elseif b.replace then
      redis.call('HSET', key, 'meta', b.meta, 'files', b.files, 'sig', b.sig, 'signer', b.signer)
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
