"""Planted workload: known objects, an independent count of them, then a snapshot.

usage: workload_basic.py AGENT_DIR SNAPSHOT TRUTH_JSON [values]
Writes TRUTH_JSON with counts computed here, independently of the agent.
"""
import gc
import json
import sys

sys.path.insert(0, sys.argv[1])
import pymem_agent


class Planted:
    def __init__(self, i):
        self.i = i
        self.label = "p"


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self):
        self.a = 1
        self.b = None


class Touched:
    def __init__(self):
        self.items = {"alpha": [1, 2, 3]}
        self.other = None


N_PLANTED = 1234
N_SLOTTED = 321
planted = [Planted(i) for i in range(N_PLANTED)]
slotted = [Slotted() for _ in range(N_SLOTTED)]
# Untracked objects reachable only through a container: 77 distinct bytes objects.
blobs = tuple(bytes(1000 + i) for i in range(77))
registry = {"k%d" % i: [i] * (i % 7) for i in range(500)}
# Untracked objects met through several referrers (and twice in one tuple): captured once.
shared = int("7" * 30)
# An instance whose __dict__ has been materialised (as vars(), copy, pickle and ORMs do):
# its attributes keep their names.
TOUCHED = Touched()
vars(TOUCHED)
shared_holders = ([shared], (shared, shared), {"k": shared}, [shared])


def independent_walk():
    """Count objects by exact type: gc-tracked objects plus everything they reference."""
    seen = set()
    counts = {}
    stack = gc.get_objects()
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        t = type(o)
        counts[t] = counts.get(t, 0) + 1
        for r in gc.get_referents(o):
            if id(r) not in seen:
                stack.append(r)
    return counts


counts = independent_walk()
truth = {
    "python": "%d.%d.%d" % sys.version_info[:3],
    "Planted": counts.get(Planted, 0),
    "Slotted": counts.get(Slotted, 0),
    "blobs_1000_plus": sum(1 for b in blobs if type(b) is bytes),
    # The tuple and its bytes are all malloc'd (> 512 bytes), so their sizes are
    # sys.getsizeof's; nothing else refers to them, so the tuple retains exactly this.
    "blobs_addr": id(blobs),
    "shared_addr": id(shared),
    "touched_item_addr": id(TOUCHED.items["alpha"]),
    "blobs_retained": sys.getsizeof(blobs) + sum(sys.getsizeof(b) for b in blobs),
}
values = len(sys.argv) > 4 and sys.argv[4] == "values"
result = pymem_agent.dump(sys.argv[2], values=values)
truth["dump"] = {k: v for k, v in result.items() if k != "path"}
with open(sys.argv[3], "w") as f:
    json.dump(truth, f)
