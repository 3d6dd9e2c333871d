"""Run one leakshop scenario and take baseline, target and final snapshots.

usage: workload_leaks.py AGENT_DIR SCENARIO OUT_DIR [ITERATIONS_PER_ROUND]

Writes OUT_DIR/a.jsonl (after a warm-up), b.jsonl and c.jsonl (after each round), and
OUT_DIR/truth.json: what the program itself sees at each snapshot (instances of leakshop's
classes counted with gc, and for leak scenarios the planted container's address and entries)."""
import gc
import json
import os
import sys

sys.path.insert(0, sys.argv[1])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pymem_agent
import leakshop

step = getattr(leakshop, sys.argv[2])
out = sys.argv[3]
per_round = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
truth = {"counts": [], "container": None, "entries": []}


def observe():
    counts = {}
    for o in gc.get_objects():
        t = type(o)
        if t.__module__ == "leakshop":
            key = "leakshop." + t.__qualname__
            counts[key] = counts.get(key, 0) + 1
    truth["counts"].append(counts)
    if sys.argv[2] in leakshop.LEAKS:
        container, entries = leakshop.planted(sys.argv[2])
        truth["container"] = id(container)
        truth["entries"].append(entries)


# Keys start past every CPython's cache of small ints (-5..256, up to 1024 on 3.15): a
# bounded cache whose keys moved from static small ints to heap ints would really grow.
i = 10000
for _ in range(50):  # warm-up: lazily created state settles before the baseline
    step(i)
    i += 1
# With PYMEM_PAUSE set, before each snapshot the program prints "pause PID FD" and waits in
# os.read(FD) for a byte, so that a test can read it from outside at that very point; it
# then takes the agent's snapshot on the same line.
pause = None
if os.environ.get("PYMEM_PAUSE"):
    pause = os.pipe()
for name in ("a", "b", "c"):
    gc.collect()
    if pause is not None:
        print("pause %d %d" % (os.getpid(), pause[0]), flush=True)
    (pause is None or os.read(pause[0], 1)) and pymem_agent.dump(os.path.join(out, name + ".jsonl"), collect=True)
    observe()
    if name == "c":
        break
    for _ in range(per_round):
        step(i)
        i += 1
with open(os.path.join(out, "truth.json"), "w") as f:
    json.dump(truth, f)
