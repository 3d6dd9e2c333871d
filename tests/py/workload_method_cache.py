"""An lru_cache on a method (flake8-bugbear B019) that keeps every instance alive, beside
two that do not: an lru_cache'd function called with instances, and one on a staticmethod.

usage: workload_method_cache.py AGENT_DIR OUT_DIR [wait]

Writes OUT_DIR/a.jsonl, b.jsonl, c.jsonl (100 requests a round), d.jsonl.gz (gzip) and
truth.json: where each
cached function is defined (its code's file and first line, read here) and the cache
wrappers' addresses. With `wait`, then prints its pid and waits for a line on stdin (the
test reads it from outside meanwhile)."""

import functools
import json
import os
import sys

sys.path.insert(0, sys.argv[1])
import pymem_agent


class Pricing:
    def __init__(self, ctx):
        self.ctx = ctx

    @functools.lru_cache(maxsize=None)  # noqa: B019 (the leak this workload plants)
    def quote(self, n):
        return [n] * 8


class Units:
    @staticmethod
    @functools.lru_cache(maxsize=None)
    def square(n):
        return n * n


@functools.lru_cache(maxsize=None)
def tax(pricing):
    return [pricing.ctx["req"]]


def serve(first, count):
    for i in range(first, first + count):
        p = Pricing({"req": i, "payload": list(range(20))})
        p.quote(i)
        tax(Pricing({"req": i}))
        Units.square(i)


def place(f):
    code = f.__wrapped__.__code__
    return "%s:%d" % (code.co_filename, code.co_firstlineno)


serve(0, 50)
for k, name in enumerate("abc"):
    serve(1000 * (k + 1), 100)
    pymem_agent.dump(os.path.join(sys.argv[2], name + ".jsonl"))
pymem_agent.dump(os.path.join(sys.argv[2], "d.jsonl.gz"))  # compressed, as its name asks
truth = {
    "quote": {"addr": id(Pricing.__dict__["quote"]), "defined_at": place(Pricing.quote)},
    "tax": {"addr": id(tax), "defined_at": place(tax)},
    "square": {"addr": id(Units.square), "defined_at": place(Units.square)},
}
with open(os.path.join(sys.argv[2], "truth.json"), "w") as f:
    json.dump(truth, f)
if sys.argv[3:] == ["wait"]:
    print(os.getpid(), flush=True)
    sys.stdin.readline()
