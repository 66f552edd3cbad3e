"""ftfuzz surface introspection: every C-implemented type of this interpreter, as concurrent programs can use it.

Usage: python ftfuzz_surface.py [--skip PROBE ...] [MODULE ...] > surface.json

Each risky call is announced on stderr first (`probe: MODULE.TYPE.MEMBER:OP`): when the interpreter dies
under one (a crash of the interpreter itself, single-threaded), the caller runs this again with that probe
skipped and records it as a crash the surface found.

Without arguments: the types of `builtins` and of every C module (`sys.builtin_module_names` and the
extension modules of lib-dynload), less the modules that act on the process, its files or its terminal
(SKIP_MODULES). With module names: those modules' types and functions only (module mode).

Per type: how to make one (CONSTRUCTORS, an expression a program evaluates, else the first generic call
that works), its methods with their arity (from `__text_signature__` where C declares one), its attribute
descriptors (get / set / delete, each tried on a throw-away instance), and the protocols it implements
(iteration, mapping, sequence, buffer, context manager, pickling, copying, comparison, hashing). Standard
library only; every call is made on throw-away instances in this process, never on anything shared.
"""

import copy
import importlib
import inspect
import json
import os
import pickle
import random
import signal
import sys
import sysconfig
import types
import warnings
import zlib

warnings.simplefilter("ignore")

# Modules that act on this process, its files, descriptors, signals or terminal, or start interpreters:
# a generated program must never close a descriptor, send a signal or block on a socket by our choice.
SKIP_MODULES = {
    "posix", "nt", "_signal", "faulthandler", "_thread", "fcntl", "resource", "_socket", "select", "termios",
    "_multiprocessing", "_posixshmem", "_posixsubprocess", "syslog", "_ctypes", "_tracemalloc", "sys", "gc",
    "atexit", "_imp", "_tkinter", "_curses", "_curses_panel", "readline", "_interpreters", "_interpqueues",
    "_interpchannels", "_xxsubinterpreters", "_lsprof", "_asyncio", "_ssl", "_dbm", "_gdbm", "_winapi",
    "msvcrt", "winreg", "_overlapped", "_warnings", "_frozen_importlib", "_frozen_importlib_external",
    "mmap", "_io_FileIO",
}

# Calls that end or reconfigure the process, or act on it as a whole: never generated (the interpreter-wide
# registries have a shape of their own, registries.ts).
PROCESS_WIDE = {
    "sleep", "serve_forever", "mainloop", "input", "interact", "pause", "sigwait", "fork", "system", "exit",
    "abort", "_exit", "settrace", "setprofile", "setrecursionlimit", "setswitchinterval", "set_int_max_str_digits",
    "register", "unregister", "enable", "disable", "interrupt", "set_authorizer", "set_progress_handler",
    "set_trace_callback", "load_extension", "enable_load_extension", "backup", "serialize", "deserialize",
    "iterdump", "blobopen", "getlimit", "setlimit", "create_window_function", "run", "start", "communicate",
}

# Names of calls that may wait for another party. Such a method is generated only when it did not block
# when it was learned (dict.get, BytesIO.read), or when it takes a timeout (SimpleQueue.get: called with
# timeout=0.001, it returns or raises Empty); one that blocked and takes no timeout is left out.
MAY_BLOCK = {
    "wait", "join", "acquire", "get", "put", "recv", "recv_into", "recvfrom", "accept", "select", "poll",
    "wait_for", "read", "readinto", "readline", "readlines",
}

# The timeout a may-block call that takes one is given: short enough that an empty queue costs nothing.
BLOCK_TIMEOUT = "timeout=0.001"

# Slot methods a program calls by name (`obj.__getitem__(k)`): a type's own dunders count, less those that
# make or destroy the object, reach its class, or have a shape of their own (re-initialisation, setstate).
DUNDER_SKIP = {
    "__new__", "__init__", "__del__", "__init_subclass__", "__subclasshook__", "__class_getitem__",
    "__getattribute__", "__getattr__", "__setattr__", "__delattr__", "__dir__", "__setstate__", "__class__",
    "__subclasses__", "__instancecheck__", "__subclasscheck__", "__prepare__", "__set_name__", "__get__",
    "__set__", "__delete__", "__release_buffer__", "__buffer__", "__doc__", "__module__", "__dict__",
    "__weakref__", "__slots__", "__text_signature__", "__qualname__", "__name__", "__call__",
    # Growth or work without bound when called a few hundred times with the pool's values (x.__imul__(65536)
    # on a list, (2 ** 70).__pow__(10 ** 30)): a crawl or a memory cap, never a race.
    "__imul__", "__pow__", "__rpow__", "__ipow__",
}

# Types no module exposes by name, made by a factory a user calls: `M` is the module the key names.
FACTORIES = {
    "re.Pattern": "M.compile('a(b|c)*d', 0)",
    "re.Match": "M.compile('(a)(b|c)*d').match('abcbd')",
    "_sre.SRE_Scanner": "__import__('re').compile('a|b').scanner('abab' * 64)",
    "builtins.list_iterator": "iter(list(range(5000)))",
    "builtins.list_reverseiterator": "reversed(list(range(5000)))",
    "builtins.dict_keys": "dict.fromkeys(range(64), 0).keys()",
    "builtins.dict_values": "dict.fromkeys(range(64), 0).values()",
    "builtins.dict_items": "dict.fromkeys(range(64), 0).items()",
    "builtins.dict_keyiterator": "iter(dict.fromkeys(range(5000), 0))",
    "builtins.dict_valueiterator": "iter(dict.fromkeys(range(5000), 0).values())",
    "builtins.dict_itemiterator": "iter(dict.fromkeys(range(5000), 0).items())",
    "builtins.set_iterator": "iter(set(range(5000)))",
    "builtins.tuple_iterator": "iter(tuple(range(5000)))",
    "builtins.range_iterator": "iter(range(5000))",
    "builtins.str_ascii_iterator": "iter('ftfuzz' * 800)",
    "builtins.bytes_iterator": "iter(b'ftfuzz' * 800)",
    "builtins.bytearray_iterator": "iter(bytearray(b'ftfuzz' * 800))",
    "builtins.mappingproxy": "type('T', (), {'a': 1}).__dict__",
    "builtins.generator": "(x for x in range(5000))",
}


def factory_types(requested):
    """The types FACTORIES makes (of the requested modules; all of them for the whole interpreter)."""
    found = []
    for key, expr in sorted(FACTORIES.items()):
        module_name, _, attr = key.rpartition(".")
        if requested and module_name not in requested:
            continue
        try:
            module = importlib.import_module(module_name)
            cls = type(eval(expr, {"M": module, "__builtins__": __builtins__}))
        except Exception:
            continue
        if cls.__name__ != attr or id(cls) in SEEN or not is_c_type(cls):
            continue
        SEEN.add(id(cls))
        found.append(describe_type(module_name, attr, cls, module))
    return found

# How a user makes one where no argument or a generic one does not do: Python expressions over the
# module's own name (`M`) and the standard library, evaluated here to check them and in programs as written.
CONSTRUCTORS = {
    "builtins.memoryview": "memoryview(bytearray(b'ftfuzz' * 8))",
    "builtins.enumerate": "enumerate(list(range(64)))",
    "builtins.reversed": "reversed(list(range(64)))",
    "builtins.zip": "zip(list(range(64)), 'abcdefgh' * 8)",
    "builtins.map": "map(abs, list(range(-32, 32)))",
    "builtins.filter": "filter(None, list(range(64)))",
    "builtins.range": "range(0, 1000, 3)",
    "builtins.slice": "slice(1, 50, 2)",
    "builtins.property": "property(len)",
    "builtins.staticmethod": "staticmethod(len)",
    "builtins.classmethod": "classmethod(len)",
    "builtins.super": None,
    "builtins.type": None,
    "builtins.object": "object()",
    "builtins.list": "list(range(64))",
    "builtins.dict": "dict.fromkeys(range(64), 0)",
    "builtins.set": "set(range(64))",
    "builtins.frozenset": "frozenset(range(64))",
    "builtins.bytearray": "bytearray(b'ftfuzz' * 8)",
    "builtins.bytes": "b'ftfuzz' * 8",
    "builtins.str": "'ftfuzz' * 8",
    "builtins.tuple": "tuple(range(64))",
    "builtins.int": "2 ** 70 + 12345",
    "builtins.float": "1.5",
    "builtins.complex": "complex(1, 2)",
    "builtins.bool": None,
    "_io.BytesIO": "M.BytesIO(b'ftfuzz' * 64)",
    "_io.StringIO": "M.StringIO('ftfuzz\\n' * 64)",
    "_io.BufferedReader": "M.BufferedReader(M.BytesIO(b'ftfuzz' * 64))",
    "_io.BufferedWriter": "M.BufferedWriter(M.BytesIO())",
    "_io.BufferedRandom": "M.BufferedRandom(M.BytesIO(b'ftfuzz' * 64))",
    "_io.BufferedRWPair": "M.BufferedRWPair(M.BytesIO(b'ftfuzz' * 64), M.BytesIO())",
    "_io.TextIOWrapper": "M.TextIOWrapper(M.BytesIO(b'ftfuzz\\n' * 64), encoding='utf-8')",
    "_io.IncrementalNewlineDecoder": "M.IncrementalNewlineDecoder(None, True)",
    "_io.FileIO": None,
    "_io._IOBase": None,
    "_io._RawIOBase": None,
    "_io._BufferedIOBase": None,
    "_io._TextIOBase": None,
    "_collections.deque": "M.deque(range(64), maxlen=128)",
    "_collections.defaultdict": "M.defaultdict(list, {1: [1]})",
    "_collections.OrderedDict": "M.OrderedDict.fromkeys(range(64), 0)",
    "_functools.partial": "M.partial(max, 0)",
    "_functools.KeyWrapper": None,
    "_operator.itemgetter": "M.itemgetter(0)",
    "_operator.attrgetter": "M.attrgetter('real')",
    "_operator.methodcaller": "M.methodcaller('bit_length')",
    "itertools.count": "M.count(0)",
    "itertools.cycle": "M.cycle(range(16))",
    "itertools.repeat": "M.repeat(7, 10000)",
    "itertools.accumulate": "M.accumulate(range(10000))",
    "itertools.chain": "M.chain(range(5000), range(5000))",
    "itertools.compress": "M.compress(range(10000), M.cycle([1, 0]))",
    "itertools.dropwhile": "M.dropwhile(lambda x: x < 10, range(10000))",
    "itertools.takewhile": "M.takewhile(lambda x: x < 9000, range(10000))",
    "itertools.filterfalse": "M.filterfalse(None, range(10000))",
    "itertools.groupby": "M.groupby(range(10000), lambda x: x // 7)",
    "itertools.islice": "M.islice(range(10000), 0, None, 2)",
    "itertools.pairwise": "M.pairwise(range(10000))",
    "itertools.starmap": "M.starmap(pow, zip(range(10000), M.repeat(2)))",
    "itertools.tee": None,
    "itertools._tee": "M.tee(range(10000))[0]",
    "itertools.zip_longest": "M.zip_longest(range(10000), range(5000))",
    "itertools.product": "M.product(range(30), repeat=3)",
    "itertools.permutations": "M.permutations(range(8), 4)",
    "itertools.combinations": "M.combinations(range(30), 3)",
    "itertools.combinations_with_replacement": "M.combinations_with_replacement(range(20), 3)",
    "itertools.batched": "M.batched(range(10000), 3)",
    "_csv.Reader": "M.reader(['a,b,c'] * 5000)",
    "_csv.Writer": "M.writer(__import__('io').StringIO())",
    "_pickle.Pickler": "M.Pickler(__import__('io').BytesIO())",
    "_pickle.Unpickler": "M.Unpickler(__import__('io').BytesIO(__import__('pickle').dumps(list(range(100)))))",
    "_pickle.PicklerMemoProxy": None,
    "_pickle.UnpicklerMemoProxy": None,
    "_json.make_scanner": None,
    "_json.make_encoder": None,
    "_struct.Struct": "M.Struct('<qd4s')",
    "_struct.unpack_iterator": "M.iter_unpack('<q', bytes(8000))",
    "array.array": "M.array('q', range(64))",
    "array.ArrayType": "M.array('q', range(64))",
    "_md5.MD5Type": "M.md5()",
    "_sha1.SHA1Type": "M.sha1()",
    "pyexpat.XMLParserType": "M.ParserCreate()",
    "time.struct_time": "M.localtime(0)",
    "_collections._deque_iterator": "iter(M.deque(range(5000)))",
    "_collections._deque_reverse_iterator": "reversed(M.deque(range(5000)))",
    "itertools._grouper": "next(M.groupby(range(10000), lambda x: x // 5000))[1]",
    "_functools._lru_cache_wrapper": "M._lru_cache_wrapper(abs, 64, False, __import__('functools')._CacheInfo)",
    "_random.Random": "M.Random(1)",
    "_queue.SimpleQueue": "M.SimpleQueue()",
    "_contextvars.ContextVar": "M.ContextVar('ftfuzz', default=0)",
    "_contextvars.Context": "M.Context()",
    "_contextvars.Token": None,
    "_sqlite3.Connection": "M.connect(':memory:', check_same_thread=False)",
    "_sqlite3.Cursor": "M.connect(':memory:', check_same_thread=False).cursor()",
    "_sqlite3.Row": None,
    "_sqlite3.Blob": None,
    "_decimal.Decimal": "M.Decimal('3.14159265358979323846')",
    "_decimal.Context": "M.Context(prec=28)",
    "_decimal.ContextManager": None,
    "_datetime.datetime": "M.datetime(2024, 5, 17, 12, 30)",
    "_datetime.date": "M.date(2024, 5, 17)",
    "_datetime.time": "M.time(12, 30)",
    "_datetime.timedelta": "M.timedelta(days=3, seconds=7)",
    "_datetime.timezone": "M.timezone(M.timedelta(hours=2))",
    "_elementtree.Element": "M.Element('root', {'a': '1'})",
    "_elementtree.TreeBuilder": "M.TreeBuilder()",
    "_elementtree.XMLParser": "M.XMLParser()",
    "pyexpat.xmlparser": "M.ParserCreate()",
    "zlib.Compress": "M.compressobj()",
    "zlib.Decompress": "M.decompressobj()",
    "zlib._ZlibDecompressor": "M._ZlibDecompressor()",
    "_bz2.BZ2Compressor": "M.BZ2Compressor()",
    "_bz2.BZ2Decompressor": "M.BZ2Decompressor()",
    "_lzma.LZMACompressor": "M.LZMACompressor()",
    "_lzma.LZMADecompressor": "M.LZMADecompressor()",
    "_hashlib.HASH": "M.new('sha256')",
    "_hashlib.HASHXOF": "M.new('shake_128')",
    "_hashlib.HMAC": "M.hmac_new(b'key', digestmod='sha256')",
    "_md5.md5": "M.md5()",
    "_sha1.sha1": "M.sha1()",
    "_sha2.SHA224Type": "M.sha224()",
    "_sha2.SHA256Type": "M.sha256()",
    "_sha2.SHA384Type": "M.sha384()",
    "_sha2.SHA512Type": "M.sha512()",
    "_sha3.sha3_224": "M.sha3_224()",
    "_sha3.sha3_256": "M.sha3_256()",
    "_sha3.sha3_384": "M.sha3_384()",
    "_sha3.sha3_512": "M.sha3_512()",
    "_sha3.shake_128": "M.shake_128()",
    "_sha3.shake_256": "M.shake_256()",
    "_blake2.blake2b": "M.blake2b()",
    "_blake2.blake2s": "M.blake2s()",
    "_multibytecodec.MultibyteIncrementalEncoder": None,
    "_sre.SRE_Pattern": None,
    "re.Pattern": None,
    "unicodedata.UCD": "M.ucd_3_2_0",
    "_zoneinfo.ZoneInfo": "M.ZoneInfo('UTC')",
    "_tokenize.TokenizerIter": "M.TokenizerIter(iter(['x = 1\\n'] * 2000).__next__, extra_tokens=False)",
    "_weakref.ReferenceType": None,
    "_weakref.ProxyType": None,
    "_weakref.CallableProxyType": None,
    "_abc._abc_data": None,
    "_statistics": None,
    "_string": None,
}

# Generic first calls for a type none of the above names: no argument, a size, a name, a container.
GENERIC_ARGS = [(), (8,), ("ftfuzz",), ([],), ({},), (b"ftfuzz",)]

# Values a method is tried with, single-threaded on a throw-away instance, to learn argument tuples it
# accepts (learn_args): a generated program then calls it the way it runs, not only the way it raises.
# Python expressions a program evaluates as written, with `obj` the instance and `_other()` another one.
# The values of the generator's random pool (generators/surface/program.ts POOL) less its hostile ones,
# and those only a learned call needs: encodings, error handlers, callables, a format, an ISO date. Never
# `obj` itself: a learned `obj.extend(obj)` run a few hundred times would double the object each time.
LEARN_POOL = [
    "0", "1", "-1", "2", "7", "255", "65536", "2 ** 63", "-(2 ** 64)", "10 ** 30",
    "''", "'a'", "'ftfuzz' * 4", "'\\xe9t\\xe9'", "'\\U0001f600' * 3", "'utf-8'", "'strict'", "','", "'B'",
    "'2000-01-01'",
    "b''", "b'xy'", "bytes(range(256))", "bytearray(b'ftfuzz')", "memoryview(b'ftfuzz')",
    "1.5", "float('nan')", "None", "True", "(1, 2)", "[3, 4]", "{'k': 1}", "{1, 2}", "()", "[]", "range(8)",
    "len", "abs", "lambda *a: None", "obj[:3]", "obj[0]", "type(obj)()", "_other()",
]

# Tuples tried per method, and how many that work are kept.
LEARN_TRIES = 48
LEARN_KEEP = 4
# Seconds one learning call may take (an alarm interrupts it).
LEARN_SECONDS = 1.0

PROTOCOL_DUNDERS = {
    "iteration": "__iter__",
    "iterator": "__next__",
    "context-manager": "__enter__",
}


def gil_enabled():
    probe = getattr(sys, "_is_gil_enabled", None)
    return True if probe is None else bool(probe())


def c_modules():
    names = [n for n in sys.builtin_module_names]
    dynload = os.path.join(sysconfig.get_path("platstdlib"), "lib-dynload")
    try:
        names += [f.split(".")[0] for f in os.listdir(dynload) if f.endswith(".so")]
    except OSError:
        pass
    return sorted({n for n in names if not n.startswith(("_test", "_xx", "xx")) and n not in SKIP_MODULES})


def is_c_type(cls):
    """Implemented in C: nothing in its own namespace is Python code."""
    for value in vars(cls).values():
        code = getattr(value, "__func__", None) or getattr(value, "fget", None) or value
        if isinstance(code, types.FunctionType):
            return False
    return True


def arity(func):
    """(minimum, maximum) positional arguments, from the signature C declares; None when unknown."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    low = high = 0
    for p in sig.parameters.values():
        if p.kind == p.VAR_POSITIONAL:
            high = max(high, low + 2)
            continue
        if p.kind == p.VAR_KEYWORD:
            continue
        if p.kind == p.KEYWORD_ONLY:
            if p.default is p.empty:
                return None
            continue
        high += 1
        if p.default is p.empty:
            low += 1
    return [low, max(low, high)]


def ctor_expr(module_name, attr, cls, module):
    """An expression that makes one, checked here: (expression, instance), or (None, None)."""
    key = "%s.%s" % (module_name, attr)
    if key in CONSTRUCTORS or key in FACTORIES:
        expr = CONSTRUCTORS.get(key) or FACTORIES.get(key)
        if expr is None:
            return None, None
        try:
            return expr, eval(expr, {"M": module, "__builtins__": __builtins__})
        except Exception:
            return None, None
    for args in GENERIC_ARGS:
        try:
            instance = cls(*args)
        except Exception:
            continue
        return "M.%s(%s)" % (attr, ", ".join(repr(a) for a in args)), instance
    return None, None


SKIP = set()


def probe(key):
    """Announce a risky call; False when an earlier run crashed on it."""
    if key in SKIP:
        return False
    sys.stderr.write("probe: %s\n" % key)
    sys.stderr.flush()
    return True


def fresh(expr, module):
    return eval(expr, {"M": module, "__builtins__": __builtins__})


class _Slow(Exception):
    pass


def _alarm(signum, frame):
    raise _Slow()


def _candidates(name, span):
    """Argument tuples to try, in a fixed order per method: no argument first, then one, two, three."""
    rng = random.Random(zlib.crc32(name.encode()))
    low, high = span
    out = []
    for n in range(low, min(high, low + 2) + 1):
        if n == 0:
            out.append(())
        elif n == 1:
            out.extend((a,) for a in rng.sample(LEARN_POOL, len(LEARN_POOL)))
        else:
            # The same value in every place first (replace(b'xy', b'xy'), insert(1, 1)), then mixtures.
            out.extend((a,) * n for a in LEARN_POOL)
            out.extend(tuple(rng.choice(LEARN_POOL) for _ in range(n)) for _ in range(LEARN_TRIES))
    return out


def learn_args(expr, module, name, span, kwargs=None):
    """Up to LEARN_KEEP argument tuples (expressions) the method accepts, each on a fresh instance; and
    whether a call was cut short by the alarm (it blocked, or looped)."""
    found = []
    blocked = False
    for args in _candidates(name, span):
        try:
            instance = fresh(expr, module)
            env = {"M": module, "obj": instance, "_other": lambda: fresh(expr, module), "__builtins__": __builtins__}
            values = [eval(a, env) for a in args]
        except Exception:
            continue
        signal.setitimer(signal.ITIMER_REAL, LEARN_SECONDS)
        try:
            getattr(instance, name)(*values, **(kwargs or {}))
            ok = True
        except _Slow:
            ok = False
            blocked = True
        except BaseException:
            ok = False
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if ok:
            found.append(list(args))
            if len(found) >= LEARN_KEEP:
                break
    return found, blocked


def reinit_candidates(attr, expr):
    """Ways to call `__init__` again on a live instance: with the constructor's own arguments, else with those its `__reduce__` gives."""
    out = []
    head = "M.%s(" % attr
    if expr.startswith(head):
        out.append("obj.__init__(" + expr[len(head):])
    out.append("obj.__init__(*obj.__reduce__()[1])")
    out.append("obj.__init__()")
    return out


def first_working(expr, module, statements):
    """The first statement (over `obj`, a fresh instance) that runs without an exception; None if none does."""
    for statement in statements:
        try:
            instance = fresh(expr, module)
            exec(statement, {"M": module, "obj": instance, "__builtins__": __builtins__})
            return statement
        except Exception:
            continue
    return None


def protocols(cls, instance):
    found = [name for name, dunder in PROTOCOL_DUNDERS.items() if hasattr(cls, dunder)]
    if hasattr(cls, "__getitem__"):
        found.append("mapping" if hasattr(cls, "keys") else "sequence")
    try:
        memoryview(instance).release()
        found.append("buffer")
    except Exception:
        pass
    try:
        pickle.loads(pickle.dumps(instance))
        found.append("pickling")
    except Exception:
        pass
    try:
        copy.copy(instance)
        found.append("copying")
    except Exception:
        pass
    if getattr(cls, "__lt__", None) is not getattr(object, "__lt__", None):
        found.append("comparison")
    if getattr(cls, "__hash__", None) is not None:
        found.append("hashing")
    if getattr(cls, "__setstate__", None) is not getattr(object, "__setstate__", None) or "__setstate__" in dir(cls):
        found.append("setstate")
    return sorted(found)


def callable_name(cls, m):
    """Whether a member is one programs call: a public name, or a dunder slot of the type's own (not object's)."""
    if m in PROCESS_WIDE:
        return False
    if m.startswith("__") and m.endswith("__"):
        if m in DUNDER_SKIP:
            return False
        # The type's own slot (or a base's other than object): object's __eq__ or __hash__ say nothing of it.
        return any(m in vars(base) for base in cls.__mro__ if base is not object)
    return not m.startswith("_")


def takes_timeout(bound):
    try:
        return "timeout" in inspect.signature(bound).parameters
    except (TypeError, ValueError):
        return False


def describe_method(module_name, attr, expr, module, m, bound):
    """A method's arity and learned argument tuples; None when it may block and takes no timeout."""
    span = arity(bound)
    if span is None:
        span = [0, 2]
    method = {"name": m, "arity": span}
    timeout = m in MAY_BLOCK and takes_timeout(bound)
    if timeout:
        method["timeout"] = BLOCK_TIMEOUT
    if probe("%s.%s.%s:call" % (module_name, attr, m)):
        learned, blocked = learn_args(expr, module, m, span, {"timeout": 0.001} if timeout else None)
        # A call that waited for another party when it was learned, and takes no timeout, would wait for
        # ever in a program whose other threads never oblige.
        if blocked and m in MAY_BLOCK and not timeout:
            return None
        method["args"] = learned
    elif m in MAY_BLOCK and not timeout:
        return None
    return method


def describe_type(module_name, attr, cls, module):
    if not probe("%s.%s:new" % (module_name, attr)):
        return {"module": module_name, "name": attr, "ctor": None, "methods": [], "properties": [], "protocols": []}
    expr, instance = ctor_expr(module_name, attr, cls, module)
    entry = {"module": module_name, "name": attr, "ctor": expr, "methods": [], "properties": [], "protocols": []}
    if instance is None:
        return entry
    for m in sorted(dir(cls)):
        if not callable_name(cls, m):
            continue
        try:
            raw = inspect.getattr_static(cls, m)
        except AttributeError:
            continue
        if isinstance(raw, (types.GetSetDescriptorType, types.MemberDescriptorType, property)):
            if m.startswith("_"):
                continue
            prop = {"name": m, "get": False, "set": False, "del": False}
            try:
                value = getattr(instance, m)
                prop["get"] = True
            except Exception:
                value = None
            for op in ("set", "del"):
                if not probe("%s.%s.%s:%s" % (module_name, attr, m, op)):
                    continue
                try:
                    victim = fresh(expr, module)
                    if op == "set":
                        setattr(victim, m, getattr(victim, m))
                    else:
                        delattr(victim, m)
                    prop[op] = True
                except Exception:
                    pass
            entry["properties"].append(prop)
            continue
        try:
            bound = getattr(instance, m)
        except Exception:
            continue
        if not callable(bound) or inspect.isclass(bound):
            continue
        method = describe_method(module_name, attr, expr, module, m, bound)
        if method is not None:
            entry["methods"].append(method)
    if probe("%s.%s:reinit" % (module_name, attr)):
        entry["reinit"] = first_working(expr, module, reinit_candidates(attr, expr))
        entry["restate"] = first_working(expr, module, ["obj.__setstate__(obj.__reduce_ex__(2)[2])", "obj.__setstate__(obj.__getstate__())"])
    if probe("%s.%s:protocols" % (module_name, attr)):
        entry["protocols"] = protocols(cls, instance)
    # Py_TPFLAGS_BASETYPE: a program can subclass it and write to the subclass while instances are in use.
    entry["subclassable"] = bool(cls.__flags__ & (1 << 10))
    try:
        entry["init"] = arity(cls.__init__) is not None and cls.__init__ is not object.__init__
    except Exception:
        entry["init"] = False
    return entry


SEEN = set()


def describe_module(name, with_functions):
    try:
        module = importlib.import_module(name)
    except Exception as exc:
        return None, {"module": name, "error": "%s: %s" % (type(exc).__name__, exc)}
    found = []
    functions = []
    for attr in sorted(dir(module)):
        if attr.startswith("__"):
            continue
        try:
            obj = getattr(module, attr)
        except Exception:
            continue
        if isinstance(obj, type):
            if issubclass(obj, BaseException) or not is_c_type(obj):
                continue
            # A type re-exported by another module is listed once, under the first module that has it.
            if (name != "builtins" and obj.__module__ == "builtins") or id(obj) in SEEN:
                continue
            SEEN.add(id(obj))
            found.append(describe_type(name, attr, obj, module))
        elif with_functions and isinstance(obj, types.BuiltinFunctionType) and not attr.startswith("_") and attr not in PROCESS_WIDE and attr not in MAY_BLOCK:
            span = arity(obj)
            if span is not None:
                functions.append({"name": attr, "arity": span})
    return (found, functions), None


def main():
    args = sys.argv[1:]
    requested = []
    while args:
        arg = args.pop(0)
        if arg == "--skip" and args:
            SKIP.add(args.pop(0))
        else:
            requested.append(arg)
    signal.signal(signal.SIGALRM, _alarm)
    before = gil_enabled()
    result = {
        "python": sys.version.split()[0],
        "implementation": sys.implementation.name,
        "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "modules": [],
        "types": [],
        "functions": [],
        "errors": [],
    }
    for name in requested or ["builtins"] + c_modules():
        described, error = describe_module(name, with_functions=bool(requested))
        if error:
            result["errors"].append(error)
            continue
        found, functions = described
        result["modules"].append(name)
        result["types"].extend(found)
        result["functions"].extend(dict(f, module=name) for f in functions)
    # Types a user only ever gets from a factory (re.compile, iter(list)): no module names them.
    result["types"].extend(factory_types(requested))
    result["gil_before"] = before
    result["gil_after"] = gil_enabled()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
