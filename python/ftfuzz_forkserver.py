"""ftfuzz fork server: one warmed interpreter that forks the workers programs run in.

Usage: PYTHON_GIL=0|1 python ftfuzz_forkserver.py

Start-up (interpreter, harness, the modules generated programs import) is paid once, in the server,
which then freezes everything it holds (gc.freeze) so no child's collection ever writes to those pages.
The server stays single-threaded (forking a threaded process is unsafe) and exits at end of stdin.

Workers. A program runs in a worker: a child of the server that leads its own process group, points
fds 1 and 2 at the request's output files and the protocol channel at its report file, applies the
caps and runs the program exactly as ftfuzz_harness.py would. A worker whose program ended *quiet*
(exit 0, no exception, nothing on stderr, no thread or child process left, and the interpreter state
it can see -- hooks, signal handlers, gc settings, imported modules, ... -- as it was) may run the next
program (persistent mode, as in AFL). Anything else ends the worker like the end of `python PROGRAM`:
its threads are waited for, atexit handlers run, its objects collected, then os._exit(status), and the
next program gets a new worker. A request with "fresh" always gets a new worker, used once: ftfuzz
confirms every finding from a reused worker on fresh ones (see src/check.ts), so whatever a program
leaves behind can hide a bug but never invent one. A worker also retires after FTFUZZ_WORKER_PROGRAMS
programs (default 500) or once it holds 256 MiB more than the server.

Why: on machines where a page fault is expensive (virtual machines), a fork costs ~9 ms and a child
pays a copy-on-write fault for every page it writes (compiling a small program alone touches ~500), so
a new process per program is 4x the cost of the program itself. A worker pays for its pages once.

Protocol (JSON lines; src/runtime/forkProtocol.ts types the same shapes and validates every reply).
Requests on stdin:
  {"id", "program", "stdout", "stderr", "report", "env", "cwd", "fresh"}          -- RunRequest
  {"kill": id, "signal": "SIGUSR1"|"SIGKILL", "group": bool}                       -- KillRequest:
      signal the worker running id, if any
(The output cap is watched by ftfuzz, from the output files' sizes, not with RLIMIT_FSIZE here: the
kernel applies RLIMIT_FSIZE to core files too.)
Replies on stdout: {"ready", "pid"} once; per request {"id", "pid", "reused"} when a worker takes it,
then {"id", "status", "alive": true, "stdout", "report"?} when it ended quiet (the worker lives on; its
output tail and protocol records come along), or {"id", "status"} when
the worker running it has exited ("status" as os.waitstatus_to_exitcode: negative means killed by that
signal). Standard library only.
"""

import atexit
import gc
import json
import os
import selectors
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ftfuzz_harness as harness  # noqa: E402

# Imported once here, shared by every child. The rule: every module a generated program can import is
# passed by the executor on the command line (`--warm`: the union of the generator's kinds' and ops'
# imports, forkServerExecutor.ts), so a new kind needs no change here; this list is what the harness and
# module-mode programs use beyond that.
WARM = (
    "array bisect collections contextlib copy dataclasses decimal enum faulthandler fractions functools gc "
    "heapq io itertools json math operator queue random re runpy signal statistics string struct sysconfig "
    "threading time tracemalloc types warnings weakref resource ctypes"
).split()
# Signals whose handlers a program could change (the harness registers SIGUSR1 itself on every run).
WATCHED_SIGNALS = [
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGALRM", "SIGCHLD", "SIGPIPE", "SIGUSR2", "SIGXFSZ", "SIGXCPU")
    if hasattr(signal, name)
]
RSS_GROWTH = 256 * 1024 * 1024
TAIL = 64 * 1024  # bytes of output ftfuzz keeps (forkServerExecutor.ts)
INLINE_REPORT = 1024 * 1024  # larger protocol reports are read from the file


def warm(extra=()):
    for name in [*WARM, *extra]:
        try:
            __import__(name)
        except ImportError:
            pass
    # What the harness looks up in every child: loaded once here instead (sysconfig data is large).
    import sysconfig

    sysconfig.get_config_var("Py_GIL_DISABLED")


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def reply(record):
    write_all(1, (json.dumps(record) + "\n").encode())


def resident_bytes():
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


# ---------------------------------------------------------------------------------------------------
# Server side


class WorkerHandle:
    """The server's view of one worker: its pid, pidfd and the two pipes."""

    def __init__(self, pid, pidfd, to_worker, from_worker):
        self.pid = pid
        self.pidfd = pidfd
        self.to_worker = to_worker
        self.from_worker = from_worker
        self.runs = 0
        self.current = None  # id of the request it runs
        self.buffer = b""


class StartWorker(BaseException):
    """Raised in a new worker to leave the server's loop (and its frames) behind."""

    def __init__(self, request, requests_fd, results_fd, fresh):
        super().__init__()
        self.request = request
        self.requests_fd = requests_fd
        self.results_fd = results_fd
        self.fresh = fresh


class Server:
    def __init__(self):
        self.selector = selectors.DefaultSelector()
        self.workers = {}  # pid -> WorkerHandle
        self.idle = []
        self.open_input = True

    def fds(self):
        """Every descriptor a new worker must not keep (the selector's own is closed with it)."""
        out = []
        for w in self.workers.values():
            out += [w.pidfd, w.to_worker, w.from_worker]
        return out

    def start_worker(self, request, fresh):
        requests_r, requests_w = os.pipe()
        results_r, results_w = os.pipe()
        inherited = self.fds() + [requests_w, results_r]
        pid = os.fork()
        if pid == 0:
            self.selector.close()
            for fd in inherited:
                try:
                    os.close(fd)
                except OSError:
                    pass
            raise StartWorker(request, requests_r, results_w, fresh)
        os.close(requests_r)
        os.close(results_w)
        worker = WorkerHandle(pid, os.pidfd_open(pid), requests_w, results_r)
        self.workers[pid] = worker
        self.selector.register(worker.pidfd, selectors.EVENT_READ, ("exit", worker))
        self.selector.register(worker.from_worker, selectors.EVENT_READ, ("result", worker))
        return worker

    def dispatch(self, request):
        fresh = bool(request.get("fresh"))
        worker = self.idle.pop() if self.idle and not fresh else None
        if worker is not None:
            try:
                write_all(worker.to_worker, (json.dumps(request) + "\n").encode())
            except OSError:
                worker = None  # it died between two programs: its exit is reaped below
        if worker is None:
            worker = self.start_worker(request, fresh)
        worker.current = request["id"]
        reply({"id": request["id"], "pid": worker.pid, "reused": worker.runs > 0})
        worker.runs += 1

    def kill(self, message):
        for worker in self.workers.values():
            if worker.current == message["kill"]:
                sig = getattr(signal, message.get("signal", "SIGKILL"))
                try:
                    if message.get("group"):
                        os.killpg(worker.pid, sig)
                    else:
                        os.kill(worker.pid, sig)
                except OSError:
                    pass
                return

    def on_requests(self):
        chunk = os.read(0, 65536)
        if not chunk:
            self.open_input = False
            self.selector.unregister(0)
            for worker in self.idle:
                os.close(worker.to_worker)  # an idle worker exits at end of its requests
                worker.to_worker = -1
            self.idle = []
            return
        self.pending += chunk
        *lines, self.pending = self.pending.split(b"\n")
        for line in lines:
            if not line.strip():
                continue
            message = json.loads(line)
            if "kill" in message:
                self.kill(message)
            else:
                self.dispatch(message)

    def on_result(self, worker):
        chunk = os.read(worker.from_worker, 1 << 20)
        if not chunk:
            self.selector.unregister(worker.from_worker)
            return
        worker.buffer += chunk
        *lines, worker.buffer = worker.buffer.split(b"\n")
        for line in lines:
            # Relayed as it came (a JSON object with "status"), with the request id in front.
            rid, worker.current = worker.current, None
            write_all(1, b'{"id": %d, "alive": true, %s\n' % (rid, line[1:]))
            if self.open_input:
                self.idle.append(worker)
            else:
                os.close(worker.to_worker)
                worker.to_worker = -1

    def on_exit(self, worker):
        self.selector.unregister(worker.pidfd)
        try:
            self.selector.unregister(worker.from_worker)
        except (KeyError, ValueError):
            pass
        os.close(worker.pidfd)
        os.close(worker.from_worker)
        if worker.to_worker >= 0:
            os.close(worker.to_worker)
        del self.workers[worker.pid]
        if worker in self.idle:
            self.idle.remove(worker)
        _, status = os.waitpid(worker.pid, 0)
        if worker.current is not None:
            reply({"id": worker.current, "status": os.waitstatus_to_exitcode(status)})

    def stop(self, *_):
        """SIGTERM: end every worker's process group (a busy one runs a program), then the server."""
        for worker in list(self.workers.values()):
            try:
                os.killpg(worker.pid, signal.SIGKILL)
            except OSError:
                pass
        os._exit(0)

    def serve(self):
        signal.signal(signal.SIGTERM, self.stop)
        self.pending = b""
        self.selector.register(0, selectors.EVENT_READ, ("requests", None))
        reply({"ready": True, "pid": os.getpid()})
        while self.open_input or self.workers:
            for key, _ in self.selector.select():
                kind, worker = key.data
                if kind == "requests":
                    self.on_requests()
                elif kind == "result":
                    self.on_result(worker)
                else:
                    self.on_exit(worker)


# ---------------------------------------------------------------------------------------------------
# Worker side


def fingerprint():
    """The interpreter state a program can change and a next program could see."""
    import decimal
    import tracemalloc
    import warnings

    monitoring = getattr(sys, "monitoring", None)
    return (
        sys.getrecursionlimit(),
        getattr(sys, "get_int_max_str_digits", lambda: None)(),
        sys.getdlopenflags(),
        gc.isenabled(),
        gc.get_threshold(),
        gc.get_debug(),
        sys.gettrace(),
        sys.getprofile(),
        getattr(threading, "_trace_hook", None),
        getattr(threading, "_profile_hook", None),
        threading.stack_size(),
        sys.stdin,
        sys.stdout,
        sys.stderr,
        sys.excepthook,
        sys.unraisablehook,
        sys.displayhook,
        sys.breakpointhook,
        harness.gil_enabled(),
        tuple(sys.meta_path),
        tuple(sys.path_hooks),
        atexit._ncallbacks(),
        tuple(signal.getsignal(s) for s in WATCHED_SIGNALS),
        tuple(warnings.filters),
        tracemalloc.is_tracing(),
        repr(decimal.getcontext()),
        tuple(monitoring.get_tool(i) for i in range(6)) if monitoring else (),
    )


class Worker:
    """Runs programs in this process, one after another, while they end quiet."""

    def __init__(self, fresh):
        self.limit = 1 if fresh else int(os.environ.get("FTFUZZ_WORKER_PROGRAMS", "500"))
        self.runs = 0
        self.environ = dict(os.environ)
        self.path = list(sys.path)
        self.cwd = os.getcwd()
        self.switch_interval = sys.getswitchinterval()
        self.thread_hook = threading.excepthook
        self.rss_limit = resident_bytes() + RSS_GROWTH
        self.state = fingerprint()

    def prepare(self, request):
        environ = os.environ
        for name in [n for n in environ if n not in self.environ]:
            del environ[name]
        for name, value in self.environ.items():
            if environ.get(name) != value:
                environ[name] = value
        sys.path[:] = self.path
        # Unconditionally: the last program's directory (where a core would have gone) is removed by
        # ftfuzz once that program ended, and os.getcwd() fails in a removed directory.
        os.chdir(self.cwd)
        sys.setswitchinterval(self.switch_interval)
        threading.excepthook = self.thread_hook
        harness.reported.clear()
        # Read-write: a quiet run's output and records go back with its status (no file reads in ftfuzz).
        flags = os.O_RDWR | os.O_CREAT | os.O_TRUNC
        out = os.open(request["stdout"], flags, 0o600)
        err = os.open(request["stderr"], flags, 0o600)
        os.dup2(out, 1)
        os.dup2(err, 2)
        os.close(out)
        os.close(err)
        report = os.open(request["report"], flags, 0o600)
        os.environ["FTFUZZ_REPORT_FD"] = str(report)
        os.environ.update(request.get("env") or {})
        if request.get("cwd"):
            os.chdir(request["cwd"])
        # As a fresh `python ftfuzz_harness.py PROGRAM`, minus the start-up.
        harness._fd = None
        sys.argv = [harness.__file__, request["program"]]
        sys.path[0] = os.path.dirname(request["program"])
        return report

    def run(self, request):
        """One program; returns (exit status, quiet, its open report fd)."""
        report = self.prepare(request)
        self.runs += 1
        try:
            harness.main()
            code = 0
        except SystemExit as exc:
            code = exit_status(exc)
        except BaseException:
            sys.excepthook(*sys.exc_info())
            code = 1
        # What Py_Finalize does first: wait for the program's non-daemon threads. Its objects were freed
        # as run_path returned; collect the cycles among them, so a crash or refcount damage in their
        # deallocation shows here, as it would at the end of `python PROGRAM`.
        try:
            threading._shutdown()
        except BaseException:
            sys.excepthook(*sys.exc_info())
        gc.collect()
        flush()
        if hasattr(signal, "alarm"):
            signal.alarm(0)
        quiet = (
            code == 0
            and not harness.reported & {"exception", "thread-exception"}
            and os.fstat(2).st_size == 0
            and threading.active_count() == 1
            and not has_children()
            and fingerprint() == self.state
        )
        return code, quiet, report

    def collect(self, request, code, report):
        """A quiet run's status, output tail and records, sent back in one message; its files removed."""
        result = {"status": code, "stdout": tail(1).decode("utf-8", "replace")}
        size = os.fstat(report).st_size
        names = ["stdout", "stderr"]
        if size <= INLINE_REPORT:
            result["report"] = os.pread(report, size, 0).decode("utf-8", "replace")
            names.append("report")
        for name in names:
            try:
                os.unlink(request[name])
            except OSError:
                pass
        return result

    def serve(self, request, requests_fd, results_fd):
        requests = os.fdopen(requests_fd, "rb", buffering=0)
        pending = b""
        while True:
            code, quiet, report = self.run(request)
            if not quiet or self.runs >= self.limit or resident_bytes() > self.rss_limit or cpu_seconds() > 600:
                os.close(report)
                finish(code)  # ftfuzz reads the files once the server has reaped this worker
            result = self.collect(request, code, report)
            os.close(report)
            try:
                write_all(results_fd, (json.dumps(result) + "\n").encode())
            except OSError:
                finish(code)  # the server is gone
            while b"\n" not in pending:
                chunk = requests.read(65536)
                if not chunk:
                    finish(code)  # the server closed our requests: no more programs
                pending += chunk
            line, pending = pending.split(b"\n", 1)
            request = json.loads(line)


def tail(fd):
    """The last TAIL bytes written to fd (as ftfuzz keeps of every output)."""
    size = os.fstat(fd).st_size
    start = max(0, size - TAIL)
    return os.pread(fd, size - start, start)


def has_children():
    """A process the program started and left behind (running, or a zombie nobody waited for)."""
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return False
    return True


def cpu_seconds():
    times = os.times()
    return times.user + times.system


def flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def exit_status(exc):
    """What the interpreter makes of an uncaught SystemExit (Python/pythonrun.c, handle_system_exit)."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(str(code) + "\n")
    except Exception:
        pass
    return 1


def finish(code):
    """The end of `python PROGRAM` for a worker that will not run another: threads were waited for
    and the program's objects collected; its atexit handlers run, then the process ends without
    tearing down the server's modules (frozen and shared: that would only copy pages)."""
    atexit._run_exitfuncs()
    flush()
    os._exit(code)


def die_with_server():
    """A worker must not outlive the server that forked it (nor, through it, the runner): the kernel
    sends it SIGKILL when its parent dies (prctl PR_SET_PDEATHSIG; not inherited across fork, so each
    worker sets it). The parent may have died already, between fork and here: then exit at once."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (ImportError, OSError, AttributeError):
        pass
    if os.getppid() != SERVER_PID:
        os._exit(1)


SERVER_PID = os.getpid()


def become_worker(start):
    die_with_server()
    os.setpgid(0, 0)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Nothing may reach the server's reply pipe (fd 1) before the first program's files are in place.
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    # CPU time is per process: a worker needs room to give each next program its allowance on top of
    # what the earlier ones used (runaway programs are still ended by the timeout and the wall alarm).
    harness.CPU_HARD_SLACK = 3600
    Worker(start.fresh).serve(start.request, start.requests_fd, start.results_fd)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    extra = argv[argv.index("--warm") + 1].split(",") if "--warm" in argv and argv.index("--warm") + 1 < len(argv) else []
    warm([name for name in extra if name])
    # Everything the server holds is moved out of the collector's reach: a child's gc.collect() then
    # never writes to (and so never copies) the server's pages.
    gc.collect()
    gc.freeze()
    try:
        Server().serve()
    except StartWorker as start:
        become_worker(start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
