"""ftfuzz harness: runs one program like `python PROGRAM` would, and reports on the protocol channel.

Usage: python -X faulthandler ftfuzz_harness.py PROGRAM [ARGS...]

Protocol v1 (README "Program protocol"): when FTFUZZ_REPORT_FD names an open file descriptor, one JSON
object per line is written to it, each with "ftfuzz": 1 and a "type". The harness writes `start`,
`thread-exception`, `exception` and `end`; programs write `observables` (and later record types) with
the same helper they embed. Standard library only: targets have no PyPI.
"""

import faulthandler
import json
import os
import runpy
import signal
import sys
import threading

PROTOCOL_VERSION = 1
_lock = threading.Lock()
_fd = None
# Seconds between the soft CPU cap (SIGXCPU) and the hard one (SIGKILL); a fork server's worker, which
# runs several programs, sets more (see ftfuzz_forkserver.py).
CPU_HARD_SLACK = 1
# Record types written in this run (the fork server reuses a process only after a run without exceptions).
reported = set()


def _open_channel():
    global _fd
    raw = os.environ.get("FTFUZZ_REPORT_FD")
    if raw:
        try:
            _fd = int(raw)
            os.fstat(_fd)
        except (ValueError, OSError):
            _fd = None


def emit(record):
    reported.add(record.get("type"))
    if _fd is None:
        return
    data = (json.dumps(dict(record, ftfuzz=PROTOCOL_VERSION), sort_keys=True, default=repr) + "\n").encode()
    with _lock:
        view = memoryview(data)
        while view:
            try:
                n = os.write(_fd, view)
            except OSError:
                return
            view = view[n:]


def gil_enabled():
    # sys._is_gil_enabled() exists from 3.13 on; older interpreters always have the GIL.
    probe = getattr(sys, "_is_gil_enabled", None)
    return True if probe is None else bool(probe())


def apply_limits():
    """Caps set by the runner (FTFUZZ_LIMIT_AS bytes, FTFUZZ_LIMIT_CPU seconds); inherited by children."""
    applied = {}
    try:
        import resource
    except ImportError:  # not POSIX
        return applied
    for var, which, extra in (("FTFUZZ_LIMIT_AS", "RLIMIT_AS", 0), ("FTFUZZ_LIMIT_CPU", "RLIMIT_CPU", CPU_HARD_SLACK)):
        raw = os.environ.pop(var, None)
        if not raw or not hasattr(resource, which):
            continue
        soft = int(raw)
        if which == "RLIMIT_CPU":
            # CPU time is counted per process: one that already ran other programs (a fork server's
            # worker) gets the same allowance on top of what it used.
            used = resource.getrusage(resource.RUSAGE_SELF)
            soft += int(used.ru_utime + used.ru_stime) + 1
        limit = getattr(resource, which)
        _, hard = resource.getrlimit(limit)
        # The soft CPU cap sends SIGXCPU; the hard one, CPU_HARD_SLACK seconds later, SIGKILL.
        want_hard = soft + extra
        if hard != resource.RLIM_INFINITY:
            soft, want_hard = min(soft, hard), min(want_hard, hard)
        try:
            resource.setrlimit(limit, (soft, want_hard))
            applied[which] = soft
        except (ValueError, OSError):
            pass
    # Core files (FTFUZZ_LIMIT_CORE bytes): ftfuzz reads a crashed run's core with gdb for its C stacks.
    raw = os.environ.pop("FTFUZZ_LIMIT_CORE", None)
    if raw and hasattr(resource, "RLIMIT_CORE"):
        _, hard = resource.getrlimit(resource.RLIMIT_CORE)
        want = resource.RLIM_INFINITY if raw == "unlimited" else int(raw)
        if hard != resource.RLIM_INFINITY:
            want = hard if want == resource.RLIM_INFINITY else min(want, hard)
        try:
            resource.setrlimit(resource.RLIMIT_CORE, (want, hard))
            applied["RLIMIT_CORE"] = want
        except (ValueError, OSError):
            pass
    # A wall-clock backstop: the runner kills a run at its timeout, but a runner that was itself killed
    # (SIGKILL on a campaign) cannot; SIGALRM then ends the orphan a little later.
    wall = os.environ.pop("FTFUZZ_LIMIT_WALL", None)
    if wall and hasattr(signal, "alarm"):
        signal.alarm(int(wall))
        applied["wall"] = int(wall)
    return applied


def native_hooks():
    """The coverage build's runtime and the schedule shim, when this run asks for them (the runner sets
    FTFUZZ_COV_OUT: where this program's edges go; FTFUZZ_SCHED_SEED: the perturbation's seed, with
    native/ftfuzz_sched.c preloaded). Both are C functions in this process, reached through ctypes.
    Returns (before, after): called around the program."""
    cov_out = os.environ.pop("FTFUZZ_COV_OUT", None)
    sched_seed = os.environ.pop("FTFUZZ_SCHED_SEED", None)
    if not cov_out and not sched_seed:
        return (lambda: None), (lambda: None)
    import ctypes

    lib = ctypes.CDLL(None)
    cov = getattr(lib, "ftfuzz_cov_dump", None) if cov_out else None
    start = getattr(lib, "ftfuzz_sched_start", None) if sched_seed else None
    if cov_out and cov is None:
        sys.stderr.write("ftfuzz: FTFUZZ_COV_OUT is set but this interpreter is not a coverage build\n")
    if sched_seed and start is None:
        sys.stderr.write("ftfuzz: FTFUZZ_SCHED_SEED is set but the schedule shim is not preloaded\n")
    if start is not None:
        start.argtypes = [ctypes.c_uint64]
    if cov is not None:
        cov.argtypes = [ctypes.c_char_p]

    def before():
        if cov is not None:
            lib.ftfuzz_cov_reset()
        if start is not None:
            start(int(sched_seed))

    def after():
        if start is not None:
            lib.ftfuzz_sched_stop()
        if cov is not None:
            cov(os.fsencode(cov_out))

    return before, after


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: ftfuzz_harness.py PROGRAM [ARGS...]\n")
        return 2
    program = os.path.abspath(sys.argv[1])
    _open_channel()
    # Stacks of every thread on a fatal signal, and on SIGUSR1, which the runner sends on timeout
    # before it kills the process group: a hang report needs the stacks of the blocked threads.
    faulthandler.enable(all_threads=True)
    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, all_threads=True)

    limits = apply_limits()

    emit(
        {
            "type": "start",
            "pid": os.getpid(),
            "version": list(sys.version_info[:3]),
            # abiflags has "t" exactly on Py_GIL_DISABLED builds; sysconfig would load its whole
            # configuration data (tens of ms per run).
            "free_threaded": "t" in getattr(sys, "abiflags", ""),
            "gil_enabled": gil_enabled(),
            "limits": limits,
        }
    )

    previous_hook = threading.excepthook

    def report_thread_exception(args):
        emit(
            {
                "type": "thread-exception",
                "thread": getattr(args.thread, "name", "?"),
                "exc_type": getattr(args.exc_type, "__qualname__", repr(args.exc_type)),
                "message": str(args.exc_value)[:500],
            }
        )
        previous_hook(args)

    threading.excepthook = report_thread_exception

    # Behave like `python PROGRAM`: argv and sys.path[0] are the program's, not the harness's.
    sys.argv = [program] + sys.argv[2:]
    sys.path[0] = os.path.dirname(program)
    exit_code = 0
    before, after = native_hooks()
    before()
    try:
        runpy.run_path(program, run_name="__main__")
    except SystemExit as exc:
        code = exc.code
        exit_code = code if isinstance(code, int) else (0 if code is None else 1)
        raise
    except BaseException as exc:
        exit_code = 1
        emit({"type": "exception", "exc_type": type(exc).__qualname__, "message": str(exc)[:500]})
        raise
    finally:
        after()
        emit({"type": "end", "gil_enabled": gil_enabled(), "exit_code": exit_code})
    return 0


if __name__ == "__main__":
    sys.exit(main())
