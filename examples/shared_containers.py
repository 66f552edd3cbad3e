# ftfuzz example: eight threads hammer shared built-in containers with operations CPython documents as
# atomic (Doc/library/threadsafety.rst, 3.14; the free-threading howto, 3.13): list.append, dict item
# assignment with per-thread keys, set.add of distinct items, deque.append. Every write is a unique
# token, so the final state is fixed by construction: a lost, duplicated or phantom token, a crash or
# a hang is a runtime bug, whatever the interleaving and whatever the GIL mode.
#
# Standalone: `python3.13t shared_containers.py` checks itself and exits 1 on a failed check.
# Under `ftfuzz run`, it also reports its observables on the protocol channel (FTFUZZ_REPORT_FD).
import collections
import json
import os
import sys
import threading

THREADS, ITERS = 8, 3000


def report(record):
    fd = os.environ.get("FTFUZZ_REPORT_FD")
    if fd:
        os.write(int(fd), (json.dumps(dict(record, ftfuzz=1), sort_keys=True) + "\n").encode())


shared_list = []
shared_dict = {}
shared_set = set()
shared_deque = collections.deque()
barrier = threading.Barrier(THREADS)


def worker(tid):
    barrier.wait()
    for i in range(ITERS):
        token = tid * ITERS + i
        shared_list.append(token)
        shared_dict[token] = tid
        shared_set.add(token)
        shared_deque.append(token)
        if i % 500 == 0:
            # Readers race with writers: allowed to see any prefix, never a value nobody wrote.
            snapshot = list(shared_dict.items())
            assert all(v == k // ITERS for k, v in snapshot), "phantom value in dict snapshot"


threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
for t in threads:
    t.start()
for t in threads:
    t.join()

all_tokens = list(range(THREADS * ITERS))
observed = {
    "list": sorted(shared_list) == all_tokens,
    "dict": sorted(shared_dict) == all_tokens and all(v == k // ITERS for k, v in shared_dict.items()),
    "set": sorted(shared_set) == all_tokens,
    "deque": sorted(shared_deque) == all_tokens,
    "sizes": [len(shared_list), len(shared_dict), len(shared_set), len(shared_deque)],
}
expected = {"list": True, "dict": True, "set": True, "deque": True, "sizes": [THREADS * ITERS] * 4}
report({"type": "observables", "data": observed, "expected": expected})
if observed != expected:
    sys.exit(f"check failed: {observed} != {expected}")
print("ok", observed["sizes"])
