"""Allocation tracebacks: tracemalloc on, 500 Orders made per round at one line.

usage: workload_traced.py AGENT_DIR OUT_DIR

Writes OUT_DIR/a.jsonl, b.jsonl, c.jsonl and truth.json: the Orders' allocation site
(`file:line` of the innermost frame, as tracemalloc reports it in this process) and, at each
snapshot, how many live objects tracemalloc places at that site."""
import gc
import json
import os
import sys
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


def at_site(site):
    n = 0
    for o in gc.get_objects():
        tb = tracemalloc.get_object_traceback(o)
        if tb is not None and "%s:%d" % (tb[-1].filename, tb[-1].lineno) == site:
            n += 1
    return n


take(10)
first = tracemalloc.get_object_traceback(orders[0])[-1]  # innermost (Traceback runs oldest first)
site = "%s:%d" % (first.filename, first.lineno)
truth = {"site": site, "counts": []}
for name in ("a", "b", "c"):
    pymem_agent.dump(os.path.join(sys.argv[2], name + ".jsonl"))
    truth["counts"].append(at_site(site))
    take(500)
with open(os.path.join(sys.argv[2], "truth.json"), "w") as f:
    json.dump(truth, f)
