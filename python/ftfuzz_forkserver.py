"""ftfuzz fork server: one warmed interpreter that forks a child per program.

Usage: PYTHON_GIL=0|1 python ftfuzz_forkserver.py

Start-up (interpreter, harness, the modules generated programs import) is paid once. Requests arrive as
JSON lines on stdin; for each, the server forks. The child leads its own process group, points fds 1
and 2 at the request's output files and the protocol channel at its report file, applies the caps, and
runs the program exactly as ftfuzz_harness.py would; it then leaves the server's loop with SystemExit,
so the interpreter finalizes normally (crashes at finalization still show). The server writes JSON lines
on stdout: {"ready"} once, then per request {"id", "pid"} after the fork and {"id", "status"} when the
child has been reaped ("status" as os.waitstatus_to_exitcode: negative means killed by that signal).
The server stays single-threaded (forking a threaded process is unsafe) and exits at end of stdin.
Standard library only.
"""

import json
import os
import selectors
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ftfuzz_harness as harness  # noqa: E402

# What generated and module-mode programs import: imported once here, shared by every child.
WARM = (
    "array bisect collections contextlib copy dataclasses decimal enum faulthandler fractions functools gc "
    "heapq io itertools json math operator queue random re runpy signal statistics string struct sysconfig "
    "threading time tracemalloc types weakref resource"
).split()


def warm():
    for name in WARM:
        try:
            __import__(name)
        except ImportError:
            pass
    # What the harness looks up in every child: loaded once here instead (sysconfig data is large).
    import sysconfig

    sysconfig.get_config_var("Py_GIL_DISABLED")


def reply(record):
    data = (json.dumps(record) + "\n").encode()
    view = memoryview(data)
    while view:
        view = view[os.write(1, view):]


class ChildExit(BaseException):
    """Raised in a forked child to leave the server loop; carries the request."""

    def __init__(self, request):
        super().__init__()
        self.request = request


def become_child(request):
    os.setpgid(0, 0)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    out = os.open(request["stdout"], flags, 0o600)
    err = os.open(request["stderr"], flags, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(err, 2)
    for fd in (null, out, err):
        os.close(fd)
    report = os.open(request["report"], flags, 0o600)
    os.environ["FTFUZZ_REPORT_FD"] = str(report)
    os.environ.update(request.get("env") or {})
    cap = request.get("output_cap")
    if cap:
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (int(cap), int(cap)))
    if request.get("cwd"):
        os.chdir(request["cwd"])
    # The child is a fresh `python ftfuzz_harness.py PROGRAM`, minus the start-up.
    harness._fd = None
    sys.argv = [harness.__file__, request["program"]]
    sys.path[0] = os.path.dirname(request["program"])


def serve():
    warm()
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ, "requests")
    pending = b""
    children = {}
    reply({"ready": True, "pid": os.getpid()})
    open_input = True
    while open_input or children:
        for key, _ in selector.select():
            if key.data == "requests":
                chunk = os.read(0, 65536)
                if not chunk:
                    open_input = False
                    selector.unregister(0)
                    continue
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if not line.strip():
                        continue
                    request = json.loads(line)
                    sys.stdout.flush()
                    sys.stderr.flush()
                    pid = os.fork()
                    if pid == 0:
                        selector.close()
                        raise ChildExit(request)
                    pidfd = os.pidfd_open(pid)
                    children[pidfd] = (pid, request["id"])
                    selector.register(pidfd, selectors.EVENT_READ, "child")
                    reply({"id": request["id"], "pid": pid})
            else:
                pid, rid = children.pop(key.fd)
                selector.unregister(key.fd)
                os.close(key.fd)
                _, status = os.waitpid(pid, 0)
                reply({"id": rid, "status": os.waitstatus_to_exitcode(status)})


def main():
    try:
        serve()
    except ChildExit as leave:
        become_child(leave.request)
        sys.exit(harness.main())
    return 0


if __name__ == "__main__":
    sys.exit(main())
