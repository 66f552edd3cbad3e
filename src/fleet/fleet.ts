// Fleet campaigns: one campaign across many machines, on Redis (the shared store, fleet/store.ts) and
// BullMQ (the queue). The coordinator (`ftfuzz fuzz --redis URL`) puts the campaign on the queue as
// deterministic slices — the campaign seed, the slice index, a program range (--runs) or a time budget
// (--duration), the generator options and how much of the shared corpus the slice may mutate — and
// shows the fleet's progress. Workers (`ftfuzz worker --redis URL`) take slices, run them with their own
// interpreters through the ordinary campaign (campaign/fuzz.ts) into a scratch directory, and commit the
// slice's buckets, hits and corpus programs in one atomic script, once per slice. A slice whose worker
// died goes back to the queue when its lock expires (BullMQ's stalled-job check) and is run again; if
// the first run had committed, the second one's commit is refused, so a slice counts once.

export * from './jobs.js';
export * from './worker.js';
export * from './coordinator.js';


