"""Captures under stress.

usage: workload_robust.py AGENT_DIR MODE OUT_DIR
  threads  four threads mutate dicts, lists and sets while the main thread captures
  shapes   a 1,000,000-long linked list and containers nested 100,000 deep
  errors   captures into a missing directory and past a file-size limit (a full disk)
Writes OUT_DIR/heap.jsonl (threads, shapes) and OUT_DIR/result.json."""
import gc
import json
import os
import resource
import signal
import sys
import threading

sys.path.insert(0, sys.argv[1])
import pymem_agent

mode, out = sys.argv[2], sys.argv[3]
result = {}


class Node:
    __slots__ = ("next",)


if mode == "threads":
    stop = threading.Event()
    shared = {"d": {}, "l": [], "s": set()}

    def churn(k):
        i = 0
        while not stop.is_set():
            i += 1
            shared["d"]["k%d-%d" % (k, i % 500)] = [i]
            shared["l"].append(i)
            if len(shared["l"]) > 1000:
                del shared["l"][:500]
            shared["s"].add(i % 700)
            shared["s"].discard((i + 350) % 700)

    workers = [threading.Thread(target=churn, args=(k,)) for k in range(4)]
    for t in workers:
        t.start()
    counts = [pymem_agent.dump(os.path.join(out, "heap.jsonl"))["objects"] for _ in range(3)]
    stop.set()
    for t in workers:
        t.join()
    result["captures"] = len(counts)
elif mode == "shapes":
    head = None
    for _ in range(1_000_000):
        n = Node()
        n.next = head
        head = n
    nested = []
    cur = nested
    for _ in range(100_000):
        nxt = []
        cur.append(nxt)
        cur = nxt
    pymem_agent.dump(os.path.join(out, "heap.jsonl"))
    result["head"] = id(head)
    result["nested"] = id(nested)
elif mode == "errors":
    try:
        pymem_agent.dump("/nonexistent-dir/heap.jsonl")
        result["missing_dir"] = "no error"
    except OSError as e:
        result["missing_dir"] = type(e).__name__
    # A full disk: writes past RLIMIT_FSIZE fail with EFBIG once SIGXFSZ is ignored.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, resource.RLIM_INFINITY))
    target = os.path.join(out, "full.jsonl")
    try:
        pymem_agent.dump(target)
        result["full_disk"] = "no error"
    except OSError as e:
        result["full_disk"] = type(e).__name__
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    result["leftovers"] = sorted(os.listdir(out))
    result["still_running"] = sum(range(10))
elif mode == "overlap":
    # Captures at once from two threads: to one path, then to two paths. Each must finish
    # (serialised), each file complete, collection off until the last one ends.
    import threading

    keep = [{"n": i} for i in range(20_000)]
    errors = []
    collections = []
    # A collection while a capture walks (its marker set, between disabling the collector
    # and enabling it again) would be the bug: the first capture to end re-enabling it.
    # (The capture in progress is the agent's _NOW.mark; a callback that raised would be
    # reported as unraisable, importing the traceback machinery between the captures.)
    from pymem_agent._base import _NOW

    gc.callbacks.append(lambda phase, info: phase == "start" and _NOW.mark is not None and collections.append(1))

    def capture(path):
        try:
            pymem_agent.dump(path)
        except Exception as e:
            errors.append("%s: %s" % (type(e).__name__, e))

    for paths in (["same.jsonl", "same.jsonl"], ["one.jsonl", "two.jsonl"]):
        threads = [threading.Thread(target=capture, args=(os.path.join(out, p),)) for p in paths]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    result["errors"] = errors
    result["collections_during"] = len(collections)
    result["gc_enabled_after"] = gc.isenabled()
    result["files"] = sorted(os.listdir(out))
with open(os.path.join(out, "result.json"), "w") as f:
    json.dump(result, f)
