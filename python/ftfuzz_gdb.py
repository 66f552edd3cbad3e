"""ftfuzz native-stack sampler: runs inside gdb's own Python (`gdb -batch -nx -x ftfuzz_gdb.py`).

Two jobs, chosen by FTFUZZ_GDB_MODE:

  attach  FTFUZZ_PID, FTFUZZ_SAMPLES, FTFUZZ_INTERVAL: a hung process is sampled FTFUZZ_SAMPLES times,
          FTFUZZ_INTERVAL seconds apart. Each sample attaches, records every thread's C stack, its CPU
          time (/proc/PID/task/TID/stat, read just before the attach) and the position of its Python
          frames (the instruction pointers of the innermost interpreter frames, read from the
          interpreter's thread-state list), then detaches and lets the process run on. Two samples tell
          a deadlock (nothing moves), a spin (CPU advances, positions stay) and a crawl (positions move).
  core    FTFUZZ_CORE: the core file of a crashed process (gdb was started with the executable);
          one sample, plus the thread that received the signal and the signal itself.

Output: one line `FTFUZZ-GDB <json>` on stdout, then the raw `thread apply all bt` text of the last
sample between `FTFUZZ-GDB-RAW-BEGIN` / `FTFUZZ-GDB-RAW-END` lines (kept in a bucket's stack.txt).
Anything gdb itself prints around them is ignored by the reader (src/runtime/nativeStacks.ts).
"""

import json
import os
import time

import gdb  # noqa: F401  (provided by gdb)

MAX_FRAMES = 64
# Frames walked per thread: a fault inside faulthandler's own handler nests handler frames, thousands deep.
MAX_WALK = 20000
HANDLER_FRAMES = ("<signal handler called>", "faulthandler_fatal_error")
MAX_PY_FRAMES = 8


def cpu_ticks(pid):
    """utime + stime per thread, in clock ticks; {} when the process is gone."""
    ticks = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return ticks
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields start after the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        try:
            ticks[int(tid)] = int(fields[11]) + int(fields[12])
        except (IndexError, ValueError):
            pass
    return ticks


def frame_record(frame):
    rec = {"func": None, "file": None, "line": 0, "lib": None, "inline": False}
    try:
        rec["func"] = frame.name()
    except gdb.error:
        pass
    try:
        sal = frame.find_sal()
        if sal.symtab is not None:
            rec["file"] = sal.symtab.filename
            rec["line"] = sal.line
    except gdb.error:
        pass
    try:
        rec["lib"] = gdb.solib_name(frame.pc())
    except gdb.error:
        pass
    try:
        rec["inline"] = frame.type() == gdb.INLINE_FRAME
        if frame.type() == gdb.SIGTRAMP_FRAME:
            rec["func"] = "<signal handler called>"
    except gdb.error:
        pass
    return rec


def c_stacks():
    threads = []
    inferior = gdb.selected_inferior()
    for th in inferior.threads():
        try:
            th.switch()
            frames = []
            folded = 0
            walked = 0
            frame = gdb.newest_frame()
            while frame is not None and len(frames) < MAX_FRAMES and walked < MAX_WALK:
                rec = frame_record(frame)
                walked += 1
                # Faults inside the fault handler: one handler / signal pair is kept, the repeats are
                # counted, so the frames that faulted first are still among the recorded ones.
                if rec["func"] in HANDLER_FRAMES and any(r["func"] == rec["func"] for r in frames[-2:]):
                    folded += 1
                else:
                    frames.append(rec)
                try:
                    frame = frame.older()
                except gdb.error:
                    break
            threads.append({"lwp": th.ptid[1], "num": th.num, "name": th.name, "frames": frames, "folded": folded})
        except gdb.error as exc:
            threads.append({"lwp": th.ptid[1], "num": th.num, "name": th.name, "frames": [], "error": str(exc)})
    threads.sort(key=lambda t: t["lwp"])
    return threads


def python_positions():
    """native thread id -> instruction pointers of its innermost interpreter frames (3.12+ layouts)."""
    positions = {}
    try:
        interp = gdb.parse_and_eval("_PyRuntime.interpreters.head")
        tstate = interp["threads"]["head"]
    except gdb.error:
        return positions
    seen = 0
    while seen < 512:
        try:
            if int(tstate) == 0:
                break
            nid = int(tstate["native_thread_id"])
            frame = tstate["current_frame"]
            pos = []
            while int(frame) != 0 and len(pos) < MAX_PY_FRAMES:
                try:
                    pos.append(int(frame["instr_ptr"]))
                except gdb.error:
                    pos.append(int(frame["prev_instr"]))
                frame = frame["previous"]
            positions[str(nid)] = pos
            tstate = tstate["next"]
        except (gdb.error, gdb.MemoryError):
            break
        seen += 1
    return positions


def raw_backtrace():
    try:
        return gdb.execute("thread apply all bt", to_string=True)
    except gdb.error as exc:
        return "gdb: %s\n" % exc


def sample():
    return {"threads": c_stacks(), "python": python_positions()}


def main():
    gdb.execute("set pagination off")
    gdb.execute("set print thread-events off")
    gdb.execute("set confirm off")
    mode = os.environ.get("FTFUZZ_GDB_MODE", "attach")
    out = {"mode": mode, "samples": []}
    raw = ""
    if mode == "core":
        s = sample()
        try:
            s["selected"] = gdb.selected_thread().ptid[1]
        except (gdb.error, AttributeError):
            s["selected"] = None
        try:
            out["signal"] = int(gdb.parse_and_eval("$_siginfo.si_signo"))
        except gdb.error:
            out["signal"] = None
        out["samples"].append(s)
        raw = raw_backtrace()
    else:
        pid = int(os.environ["FTFUZZ_PID"])
        count = max(1, int(os.environ.get("FTFUZZ_SAMPLES", "2")))
        interval = float(os.environ.get("FTFUZZ_INTERVAL", "1"))
        for k in range(count):
            if k:
                time.sleep(interval)
            ticks = cpu_ticks(pid)
            taken = time.monotonic()
            try:
                gdb.execute("attach %d" % pid, to_string=True)
            except gdb.error as exc:
                out["error"] = "attach: %s" % exc
                break
            s = sample()
            s["ticks"] = {str(k2): v for k2, v in ticks.items()}
            s["at"] = taken
            if k == count - 1:
                raw = raw_backtrace()
            out["samples"].append(s)
            try:
                gdb.execute("detach", to_string=True)
            except gdb.error:
                pass
        out["clk_tck"] = os.sysconf("SC_CLK_TCK")
    print("FTFUZZ-GDB " + json.dumps(out))
    print("FTFUZZ-GDB-RAW-BEGIN")
    print(raw.rstrip("\n"))
    print("FTFUZZ-GDB-RAW-END")


try:
    main()
except Exception as exc:  # the reader wants a line, whatever went wrong
    print("FTFUZZ-GDB " + json.dumps({"error": "%s: %s" % (type(exc).__name__, exc), "samples": []}))
