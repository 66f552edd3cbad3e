"""ftfuzz in-process bound: run program files one after another in this one interpreter, no isolation.

Usage: python ftfuzz_inprocess.py PROGRAM... ; prints {"seconds": total, "runs": n} as JSON.
The upper bound a per-program executor is compared with in `npm run bench`: no start-up, no fork, no
process at all per program. It starts like the fork server (same modules imported, then gc.freeze) and
gives programs a protocol channel (to /dev/null), so the programs do the same work in both. A program
that calls sys.exit is counted and the next one runs.
"""

import gc
import json
import os
import runpy
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ftfuzz_forkserver  # noqa: E402


def main():
    files = sys.argv[1:]
    ftfuzz_forkserver.warm()
    gc.collect()
    gc.freeze()
    devnull = open(os.devnull, "w")
    os.environ["FTFUZZ_REPORT_FD"] = str(devnull.fileno())
    start = time.perf_counter()
    runs = 0
    for f in files:
        saved = sys.stdout
        sys.stdout = devnull
        try:
            runpy.run_path(f, run_name="__main__")
        except SystemExit:
            pass
        finally:
            sys.stdout = saved
        runs += 1
    print(json.dumps({"seconds": time.perf_counter() - start, "runs": runs}))


if __name__ == "__main__":
    main()
