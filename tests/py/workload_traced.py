"""Allocation tracebacks: tracemalloc on, 500 Orders made per round at one line.

usage: workload_traced.py AGENT_DIR OUT_DIR [wait]

Writes OUT_DIR/a.jsonl, b.jsonl, c.jsonl and truth.json: the Orders' allocation site
(`file:line` of the innermost frame, as tracemalloc reports it in this process) and, at each
snapshot, how many live objects tracemalloc places at that site. Also Records copied by
copy.deepcopy (allocated inside the standard library): for a few of them, the whole stack and
the innermost frame outside the standard library, told apart here by sysconfig's paths.
With `wait`, then prints its pid and waits for a line on stdin (the test reads it from
outside meanwhile; `final` is the count at the site then)."""
import copy
import gc
import json
import os
import sys
import sysconfig
import tracemalloc

tracemalloc.start(5)
sys.path.insert(0, sys.argv[1])
import pymem_agent  # noqa: E402


class Order:
    __slots__ = ("n",)

    def __init__(self, n):
        self.n = n


orders = []


def take(count):
    for i in range(count):
        orders.append(Order(i))  # the allocation site


class Record:
    __slots__ = ("tags",)  # 3.11 finds no traceback for an object with a managed __dict__

    def __init__(self):
        self.tags = [1, 2]


template = Record()
copies = []


def clone(count):
    for _ in range(count):
        copies.append(copy.deepcopy(template))  # allocated in the standard library, called here


LIBRARY = tuple(
    p.rstrip("/") + "/"
    for p in {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
) + (os.path.dirname(pymem_agent.__file__) + "/",)


def user_site(frames):
    """Innermost first: the first frame outside the standard library and installed packages."""
    for f in frames:
        if not f.filename.startswith("<frozen ") and not f.filename.startswith(LIBRARY):
            return "%s:%d" % (f.filename, f.lineno)
    return None


def at_site(site):
    n = 0
    for o in gc.get_objects():
        tb = tracemalloc.get_object_traceback(o)
        if tb is not None and "%s:%d" % (tb[-1].filename, tb[-1].lineno) == site:
            n += 1
    return n


take(10)
clone(50)
first = tracemalloc.get_object_traceback(orders[0])[-1]  # innermost (Traceback runs oldest first)
site = "%s:%d" % (first.filename, first.lineno)
copied = []
for r in copies[:3]:
    frames = list(reversed(tracemalloc.get_object_traceback(r)))  # innermost first
    copied.append(
        {
            "addr": id(r),
            "stack": ["%s:%d" % (f.filename, f.lineno) for f in frames],
            "site": user_site(frames),
        }
    )
truth = {"site": site, "counts": [], "copied": copied}
for name in ("a", "b", "c"):
    pymem_agent.dump(os.path.join(sys.argv[2], name + ".jsonl"))
    truth["counts"].append(at_site(site))
    take(500)
truth["final"] = at_site(site)
with open(os.path.join(sys.argv[2], "truth.json"), "w") as f:
    json.dump(truth, f)
if sys.argv[3:] == ["wait"]:
    print(os.getpid(), flush=True)
    sys.stdin.readline()
