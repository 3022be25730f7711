#!/usr/bin/env python3
"""The Python design's figures on the same work as `afstudio bench`.

afstudio replaces a Python IntegrationManager: integrations are Python
modules, each holding a handler class; the manager imports them, keeps one
handler instance per integration (its state lives in the instance), calls
every handler subscribed to an event in a plain loop, and reloads a module
with importlib.reload and a fresh instance ("What happens during reload":
unregister, reimport, new instance, register again; on failure the old
handler is restored). This script rebuilds that design with the standard
library only and measures it the way starhost/hostbench measures afstudio,
so that the two can be compared side by side (scripts/bench-compare.sh,
`make bench`):

  afstudio (starhost/hostbench)          here
  -----------------------------          ----
  Module(i, rev): 100 generated .star    module_source(i, rev): the same
  integrations of ~25 lines that count   handlers as a Python class with
  events by name in their state and, on  handle(event_name, data) and the
  response_received, keep the last 100   state in the instance; same
  latencies, sort them and return        counting, window, sort and
  n/median/rev                           n/median/rev result
  load (retained heap per integration)   tracemalloc: memory still held
                                         after the import, per integration
  reloadOne: the middle integration,     the same integration, reloaded
  reloaded N times (300), each after a   N times after the same appended
  real source change; p50 and p99        comment, through importlib.reload
                                         and a new instance; p50 and p99
  reloadAll: ReloadAllIntegrations of    reload_all_integrations() of the
  the 100 unchanged integrations, 15     100 unchanged modules (sequential,
  runs, median                           as the design does), 15 runs, median
  emitRate: Emit("response_received")    emit("response_received") in a
  with fresh data each call for 1 s,     loop for the same time: handler
  handler calls per second, from 1       calls per second, one thread only
  goroutine and then GOMAXPROCS

Times are taken with time.perf_counter_ns and reported in milliseconds to
the microsecond, and percentiles by nearest rank, as hostbench does.

Python is measured at its fastest on each figure:
- Every unchanged module has an up-to-date .pyc (written when it was first
  imported, whatever PYTHONDONTWRITEBYTECODE says), so reloading it reads
  the bytecode and compiles nothing, as afstudio may reuse a compiled
  program whose source has not changed.
- A changed module is compiled from source but its .pyc is not written
  during the timed reloads (as with PYTHONDONTWRITEBYTECODE=1): writing it
  adds about a millisecond per reload on a VM's disk. --write-pyc times
  the reloads of a default Python, which writes it. After the series the
  last revision's .pyc is written, untimed, so that reload all finds every
  .pyc fresh.
- The emit loop is single-threaded: the Python design calls its handlers on
  one thread and is not thread-safe, and the GIL would serialise Python
  handlers on other threads anyway. Both emit keys of the JSON hold that one
  measurement, with "emitters": 1.

Python checks a .pyc against the source's size and modification time in
whole seconds, which the quick successive edits of the reload-one series
would not change (the appended comments have equal lengths), so each edit
also moves the file's mtime to a second of its own; a check before timing
proves that a reload runs the edited code.

Usage: scripts/python_design_bench.py [--json] [-n N] [--reloads N] [--emit-for DURATION] [--write-pyc]
(the flags of `afstudio bench`; single-dash forms such as -json work too).
Needs Python 3.10 or newer, standard library only. The figures depend on the
interpreter's build (optimisation flags) as well as its version: the output
names the interpreter ("python", "python_executable").
"""

import argparse
import bisect
import gc
import importlib
import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
import tracemalloc

CLASS_NAME = "BenchIntegration"
RELOAD_ALL_RUNS = 15  # hostbench.reloadAll's runs


def module_name(i):
    """The module (and integration) name of the i-th generated module."""
    return "bench_%03d" % i


def module_source(i, rev):
    """The Python twin of hostbench.Module(i, rev): the same three
    subscriptions, counting, latency window, sort and results."""
    return f'''# Generated benchmark integration {i} (the Python design).
WINDOW = 100
REV = {rev}


class {CLASS_NAME}:
    name = "{module_name(i)}"
    description = "Generated benchmark integration."
    subscriptions = ("response_received", "mission_started", "mission_completed")

    def __init__(self):
        self.state = {{}}

    def handle(self, event_name, data):
        if event_name == "response_received":
            return self.on_response(event_name, data)
        return self.on_other(event_name, data)

    def _count(self, event_name):
        counts = self.state.setdefault("counts", {{}})
        counts[event_name] = counts.get(event_name, 0) + 1
        return counts[event_name]

    def on_response(self, event_name, data):
        self._count(event_name)
        window = self.state.setdefault("latencies", [])
        window.append(data.get("latency_ms", 0))
        if len(window) > WINDOW:
            window.pop(0)
        ordered = sorted(window)
        return {{"n": len(ordered), "median": ordered[len(ordered) // 2], "rev": REV}}

    def on_other(self, event_name, data):
        return {{"count": self._count(event_name), "rev": REV}}
'''


class IntegrationManager:
    """The part of the Python IntegrationManager that the benchmark uses:
    handler instances by name, subscribers by event, emit, reload."""

    def __init__(self):
        self.modules = {}  # name -> module
        self.handlers = {}  # name -> handler instance
        self.subscribers = {}  # event name -> handlers, in (priority, name) order

    def register(self, handler):
        self.handlers[handler.name] = handler
        for event in handler.subscriptions:
            # One priority here: name order.
            bisect.insort(self.subscribers.setdefault(event, []), handler, key=lambda h: h.name)

    def unregister(self, name):
        handler = self.handlers.pop(name)
        for event in handler.subscriptions:
            self.subscribers[event].remove(handler)
        return handler

    def add_integration(self, module_name, class_name):
        module = importlib.import_module(module_name)
        handler = getattr(module, class_name)()
        self.modules[handler.name] = module
        self.register(handler)

    def reload_integration(self, name):
        """Unregister, importlib.reload, new instance, register; on failure
        the old handler is registered again."""
        old = self.unregister(name)
        try:
            module = importlib.reload(self.modules[name])
            handler = getattr(module, type(old).__name__)()
        except Exception:
            self.register(old)
            return False
        self.modules[name] = module
        self.register(handler)
        return True

    def reload_all_integrations(self):
        return {name: self.reload_integration(name) for name in list(self.handlers)}

    def emit(self, event_name, data):
        """Calls every handler subscribed to event_name, in order; one
        handler's exception does not stop the others."""
        results = []
        for handler in self.subscribers.get(event_name, ()):
            try:
                results.append(handler.handle(event_name, data))
            except Exception as e:  # the design logs it and goes on
                results.append(e)
        return results


def quantile(values, q):
    """The q-quantile (0 to 1) of values by nearest rank, as hostbench."""
    s = sorted(values)
    i = math.ceil(q * len(s)) - 1
    return s[min(max(i, 0), len(s) - 1)]


def ms(ns):
    """Nanoseconds as milliseconds, to the microsecond (as hostbench.ms)."""
    return (ns // 1000) / 1000


def write_source(path, text, mtime):
    """Writes a module's source in place and sets its mtime to the whole
    second mtime, so that Python's .pyc check sees every edit."""
    with open(path, "w") as f:
        f.write(text)
    os.utime(path, (mtime, mtime))


def load(scratch, n):
    """Writes and imports n generated modules; returns the manager and the
    memory they retain per integration, in KiB."""
    for i in range(n):
        with open(os.path.join(scratch, module_name(i) + ".py"), "w") as f:
            f.write(module_source(i, 0))
    sys.path.insert(0, scratch)
    importlib.invalidate_caches()
    gc.collect()
    tracemalloc.start()
    mgr = IntegrationManager()
    for i in range(n):
        mgr.add_integration(module_name(i), CLASS_NAME)
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return mgr, retained / 1024 / n


def check_reload_sees_edits(mgr, path, i, mtime):
    """Before timing: an edit followed by a reload must be what runs (the
    .pyc check is by mtime and size). Leaves the module as generated."""
    write_source(path, module_source(i, 1), mtime)
    if not mgr.reload_integration(module_name(i)):
        sys.exit("python_design_bench: reload of %s failed" % module_name(i))
    got = mgr.handlers[module_name(i)].handle("mission_started", {})["rev"]
    if got != 1:
        sys.exit("python_design_bench: a reload ran stale code (rev %r, want 1)" % got)
    write_source(path, module_source(i, 0), mtime + 1)
    mgr.reload_integration(module_name(i))


def reload_one(mgr, scratch, i, reloads, write_pyc):
    """hostbench.reloadOne: reload integration i `reloads` times, each after
    appending "# bench revision K" to its original source; p50 and p99 in
    milliseconds. write_pyc: each reload writes the new .pyc (timed)."""
    name = module_name(i)
    path = os.path.join(scratch, name + ".py")
    mtime = int(os.stat(path).st_mtime) - reloads - 10  # seconds that no other version of the file has
    check_reload_sees_edits(mgr, path, i, mtime)
    mtime += 2
    with open(path) as f:
        src = f.read()
    times = []
    sys.dont_write_bytecode = not write_pyc
    for k in range(reloads):
        write_source(path, src + "\n# bench revision %d\n" % (k + 1), mtime + k)
        start = time.perf_counter_ns()
        if not mgr.reload_integration(name):
            sys.exit("python_design_bench: reload %s failed" % name)
        times.append(time.perf_counter_ns() - start)
    sys.dont_write_bytecode = False
    mgr.reload_integration(name)  # untimed: the last revision's .pyc, for reload all
    return ms(quantile(times, 0.50)), ms(quantile(times, 0.99))


def reload_all(mgr, runs):
    """hostbench.reloadAll: median of `runs` reloads of every integration, in
    milliseconds; a failed reload is an error."""
    times = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        results = mgr.reload_all_integrations()
        times.append(time.perf_counter_ns() - start)
        failed = [name for name, ok in results.items() if not ok]
        if failed:
            sys.exit("python_design_bench: reload all: %s failed" % ", ".join(failed))
    return ms(quantile(times, 0.5))


def emit_rate(mgr, seconds):
    """hostbench.emitRate with one emitter: emit response_received with fresh
    data for `seconds`; handler calls per second."""
    calls = 0
    i = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        calls += len(mgr.emit("response_received", {"mission_id": "bench", "latency_ms": (i * 7) % 500}))
        i += 1
    return calls / (time.perf_counter() - start)


_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def duration(text):
    """A Go duration ("1s", "500ms", "1m30s") in seconds, as afstudio bench's
    --emit-for takes it."""
    parts = re.findall(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise argparse.ArgumentTypeError("not a duration: %r (try 1s or 500ms)" % text)
    seconds = sum(float(n) * _DURATION_UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise argparse.ArgumentTypeError("duration must be positive: %r" % text)
    return seconds


def positive(text):
    n = int(text)
    if n <= 0:
        raise argparse.ArgumentTypeError("must be positive: %r" % text)
    return n


def main():
    if sys.version_info < (3, 10):
        sys.exit("python_design_bench: needs Python 3.10 or newer (bisect with key=), this is %s" % sys.version.split()[0])
    p = argparse.ArgumentParser(description="The Python design's figures on afstudio bench's generated workload.")
    p.add_argument("-n", "--n", type=positive, default=100, help="generated integrations (default 100)")
    p.add_argument("-reloads", "--reloads", type=positive, default=300, help="single reloads timed (default 300)")
    p.add_argument("-emit-for", "--emit-for", type=duration, default=1.0, metavar="DURATION",
                   help="how long to measure emit throughput (default 1s)")
    p.add_argument("-json", "--json", action="store_true", help="print one JSON object")
    p.add_argument("-write-pyc", "--write-pyc", action="store_true",
                   help="time single reloads with the .pyc write of a default Python (default: compile only)")
    args = p.parse_args()

    # Every module's .pyc is written at import, whatever
    # PYTHONDONTWRITEBYTECODE or -B say (see "at its fastest" above).
    sys.dont_write_bytecode = False
    scratch = tempfile.mkdtemp(prefix="afstudio-pybench-")
    try:
        mgr, kib = load(scratch, args.n)
        rep = {"n": len(mgr.handlers)}
        rep["reload_p50_ms"], rep["reload_p99_ms"] = reload_one(mgr, scratch, args.n // 2, args.reloads, args.write_pyc)
        rep["reload_all_ms"] = reload_all(mgr, RELOAD_ALL_RUNS)
        rate = emit_rate(mgr, args.emit_for)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    rep["emit_handler_calls_per_s"] = rate
    rep["emit_handler_calls_per_s_single_goroutine"] = rate
    rep["retained_kib_per_integration"] = kib
    rep["emitters"] = 1
    rep["gomaxprocs"] = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    rep["design"] = "python"
    rep["python"] = sys.version.split()[0]
    rep["python_executable"] = sys.executable
    rep["write_pyc"] = args.write_pyc
    rep["note"] = ("single-threaded: the design emits on one thread and the GIL serialises Python handlers, "
                   "so both emit keys hold one measurement; gomaxprocs is the CPUs available; "
                   "unchanged modules reload from their .pyc" +
                   ("; single reloads write the changed module's .pyc" if args.write_pyc
                    else "; a changed module is compiled without writing its .pyc"))

    if args.json:
        print(json.dumps(rep))
        return
    print("design:                       Python %s (IntegrationManager, importlib.reload)" % rep["python"])
    print("integrations:                 %d" % rep["n"])
    print("reload one, p50:              %.3f ms (%s)" % (rep["reload_p50_ms"],
          "with the .pyc write" if args.write_pyc else "compile only, no .pyc write"))
    print("reload one, p99:              %.3f ms" % rep["reload_p99_ms"])
    print("reload all (median of %d):    %.2f ms" % (RELOAD_ALL_RUNS, rep["reload_all_ms"]))
    print("handler calls/s, 1 thread:    %.0f (single-threaded design; the GIL)" % rate)
    print("retained memory/integration:  %.1f KiB" % kib)


if __name__ == "__main__":
    main()
