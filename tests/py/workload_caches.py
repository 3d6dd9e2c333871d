"""Caches of every kind, held in every place caches hide, some growing and some bounded.

usage: workload_caches.py AGENT_DIR OUT_DIR

Writes OUT_DIR/a.jsonl, b.jsonl, c.jsonl (300 more requests between each) and
OUT_DIR/truth.json: per planted cache, its address, expected verdict, entries at each
snapshot, bound and (lru_cache) hits and misses, as the program itself sees them."""
import collections
import functools
import json
import logging
import os
import sys

sys.path.insert(0, sys.argv[1])
import pymem_agent

out = sys.argv[2]


class Item:
    def __init__(self, i):
        self.i = i


_sessions = {}  # module global
CODES = {"E%03d" % i: i for i in range(200)}  # constant table: steady


class Registry:
    by_name = {}  # class attribute


class App:
    def __init__(self):
        self.index = collections.OrderedDict()  # attribute of a long-lived object
        self.recent = collections.deque(maxlen=150)  # bounded


app = App()


def remember(key, _memo={}):  # noqa: B006 - function default
    _memo[key] = Item(key)


def _make_counter():
    counts = {}  # closure

    def count(key):
        counts[key] = counts.get(key, 0) + 1

    return count


count = _make_counter()


@functools.lru_cache(maxsize=None)
def lookup(key):
    return [key]


@functools.lru_cache(maxsize=128)
def render(key):
    return "<%d>" % key


by_user = collections.defaultdict(list)
seen = set()


def request(i):
    _sessions["s%d" % i] = Item(i)
    Registry.by_name["n%d" % i] = Item(i)
    app.index["k%d" % i] = i
    app.recent.append(Item(i))
    remember(i)
    count("c%d" % i)
    lookup(i)
    render(i)
    render(i % 7)
    by_user["u%d" % i].append(i)
    seen.add(("t", i))
    logging.getLogger("caches.req%d" % i)


planted = {
    "_sessions": (lambda: _sessions, "growing"),
    "Registry.by_name": (lambda: Registry.by_name, "growing"),
    "app.index": (lambda: app.index, "growing"),
    "remember._memo": (lambda: remember.__defaults__[0], "growing"),
    "count.counts": (lambda: count.__closure__[0].cell_contents, "growing"),
    "lookup": (lambda: lookup, "growing"),
    "by_user": (lambda: by_user, "growing"),
    "seen": (lambda: seen, "growing"),
    "loggerDict": (lambda: logging.Logger.manager.loggerDict, "growing"),
    "CODES": (lambda: CODES, "steady"),
    "render": (lambda: render, "bounded"),
    "app.recent": (lambda: app.recent, "bounded"),
}
truth = {name: {"verdict": v, "entries": []} for name, (_, v) in planted.items()}
i = 0
for snap in ("a", "b", "c"):
    for _ in range(300):
        request(i)
        i += 1
    pymem_agent.dump(os.path.join(out, snap + ".jsonl"))
    for name, (get, _) in planted.items():
        obj = get()
        t = truth[name]
        t["addr"] = id(obj)
        if isinstance(obj, functools._lru_cache_wrapper):
            info = obj.cache_info()
            t["entries"].append(info.currsize)
            t["bound"], t["hits"], t["misses"] = info.maxsize, info.hits, info.misses
        else:
            t["entries"].append(len(obj))
            t["bound"] = getattr(obj, "maxlen", None)
    obj = None  # the loop variable must not become the shortest path to the last cache
with open(os.path.join(out, "truth.json"), "w") as f:
    json.dump(truth, f)
