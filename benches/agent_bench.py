"""Agent benchmark: capture a heap of >= 1M objects and compare with a bare walk.

usage: python benches/agent_bench.py [N_NODES] [OUT]
Prints objects/s, the ratio to a bare gc.get_objects() + gc.get_referents() walk of the
same objects, and the agent's own memory per object (peak RSS growth during the dump,
measured with /proc/self/clear_refs and VmHWM; the file itself is not resident).
"""
import gc
import os
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(here, "..", "python"), here]
import pymem_agent  # noqa: E402
from shapes import Node  # noqa: E402


def status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def bare_walk():
    """The same objects the agent visits (tracked + untracked referents), no output."""
    objs = gc.get_objects()
    seen = set()
    push = objs.append
    for o in objs:
        for r in gc.get_referents(o):
            if not gc.is_tracked(r) and id(r) not in seen:
                seen.add(id(r))
                push(r)
    return len(objs)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 250_000
    out = sys.argv[2] if len(sys.argv) > 2 else "/tmp/pymem-agent-bench.jsonl"
    keep = [Node(i) for i in range(n)]
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        count = bare_walk()
        bare = time.perf_counter() - t
        gc.collect()
        rss = status_kb("VmRSS:")
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        r = pymem_agent.dump(out)
        peak = status_kb("VmHWM:") - rss
        runs.append((r["seconds"], bare, r["objects"], peak))
    runs.sort()
    secs, bare, objects, peak = runs[len(runs) // 2]
    print(
        "CPython %d.%d.%d: %d objects (bare walk: %d) captured in %.2f s (median of 3) = %.0f objects/s; "
        "bare walk %.2f s, ratio %.1fx; agent memory %.1f bytes/object"
        % (sys.version_info[:3] + (objects, count, secs, objects / secs, bare, secs / bare, peak * 1024 / objects))
    )
    del keep


main()
