"""ftfuzz module introspection: what a module offers to concurrent callers.

Usage: python ftfuzz_introspect.py MODULE > MODULE.json

Lists the module's public classes that can be built (with no arguments, or with the first working call of
a small table of constructor arguments: `array('i')`, `deque(maxlen=16)`, ...; the shared instances), their
public methods and the module's public functions, each with the positional parameters inspect can see.
Also records whether importing the module re-enabled the GIL (a C extension without Py_mod_gil does).
Standard library only.
"""

import importlib
import inspect
import json
import sys

# Calls that block by design (waiting for another party) would hang a program by our choice, not by a
# bug in the module: never generated.
BLOCKING = {
    "wait", "join", "acquire", "get", "put", "recv", "recv_into", "recvfrom", "accept", "read", "readline",
    "readlines", "readinto", "sleep", "serve_forever", "run", "start", "mainloop", "input", "select", "poll",
    "communicate", "wait_for", "getline", "interact", "pause", "sigwait", "fork", "system", "exit", "abort",
}
# Module-level calls that touch the file system, the process or the environment: module mode must never delete,
# create or rename files, or signal processes, whatever module it is pointed at.
DESTRUCTIVE = {
    "open", "open_code", "remove", "unlink", "rmdir", "removedirs", "mkdir", "makedirs", "rename", "renames",
    "replace", "chdir", "chmod", "chown", "chroot", "kill", "killpg", "truncate", "symlink", "link", "mkfifo",
    "mknod", "putenv", "unsetenv", "popen", "startfile", "rmtree", "move", "copy", "copyfile", "copytree",
    "dup2", "close", "closerange", "setuid", "setgid", "seteuid", "setegid", "umask", "nice", "execv", "execve",
    "execl", "execlp", "execvp", "spawnv", "spawnl", "write", "writelines", "settrace", "setprofile",
    "setrecursionlimit", "setswitchinterval", "set_int_max_str_digits", "_exit",
}


# Constructors that need arguments: what a user of the class would pass (the class's own signature
# rarely says which values make sense). Tried before the generic candidates below, in order.
KNOWN_CONSTRUCTORS = {
    "array.array": [(["i"], {}), (["q"], {}), (["d"], {})],
    "collections.deque": [([], {"maxlen": 16}), ([[1, 2, 3]], {})],
    "collections.OrderedDict": [([], {})],
    "struct.Struct": [(["<qd"], {})],
    "re.Pattern": [],
    "io.BytesIO": [([], {})],
    "io.StringIO": [([], {})],
    "threading.Semaphore": [([2], {})],
    "threading.BoundedSemaphore": [([2], {})],
    "threading.Barrier": [],
    "queue.Queue": [([], {"maxsize": 0})],
}
# Generic candidates for any class whose no-argument construction fails: a type code, a size, a name, an
# empty container. JSON values only: the generator renders them as literals.
GENERIC_CONSTRUCTORS = [([], {}), (["i"], {}), ([0], {}), ([8], {}), (["ftfuzz"], {}), ([[]], {}), ([{}], {})]


def construct(module_name, attr, cls):
    """The first constructor call that works: (instance, {"args": [...], "kwargs": {...}}), or (None, None)."""
    for args, kwargs in KNOWN_CONSTRUCTORS.get("%s.%s" % (module_name, attr), []) + GENERIC_CONSTRUCTORS:
        try:
            return cls(*args, **kwargs), {"args": args, "kwargs": kwargs}
        except Exception:
            continue
    return None, None


def gil_enabled():
    probe = getattr(sys, "_is_gil_enabled", None)
    return True if probe is None else bool(probe())


def params_of(func):
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    out = []
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.kind == p.KEYWORD_ONLY and p.default is p.empty:
            return None  # a required keyword-only parameter: we do not guess its name's meaning
        if p.kind == p.KEYWORD_ONLY:
            continue
        out.append({"name": p.name, "required": p.default is p.empty})
    return out


def main():
    name = sys.argv[1]
    before = gil_enabled()
    try:
        module = importlib.import_module(name)
    except Exception as exc:
        print(json.dumps({"module": name, "error": "%s: %s" % (type(exc).__name__, exc)}))
        return 0
    result = {"module": name, "gil_before": before, "gil_after": gil_enabled(), "classes": [], "functions": []}
    for attr in sorted(dir(module)):
        if attr.startswith("_"):
            continue
        try:
            obj = getattr(module, attr)
        except Exception:
            continue
        if inspect.isclass(obj):
            if issubclass(obj, BaseException):
                continue
            instance, ctor = construct(name, attr, obj)
            if instance is None:
                continue
            methods = []
            for m in sorted(dir(instance)):
                if m.startswith("_") or m in BLOCKING:
                    continue
                try:
                    bound = getattr(instance, m)
                except Exception:
                    continue
                if not callable(bound) or inspect.isclass(bound):
                    continue
                params = params_of(bound)
                if params is not None and sum(p["required"] for p in params) <= 2:
                    methods.append({"name": m, "params": params})
            if methods:
                result["classes"].append({"name": attr, "ctor": ctor, "methods": methods})
        elif callable(obj) and attr not in BLOCKING and attr not in DESTRUCTIVE and (inspect.isbuiltin(obj) or inspect.isfunction(obj)):
            params = params_of(obj)
            if params is not None and 1 <= sum(p["required"] for p in params) <= 2:
                result["functions"].append({"name": attr, "params": params})
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
