"""Planted advice cases with savings the program measures itself.

usage: workload_advise.py AGENT_DIR SNAPSHOT TRUTH_JSON

- 5,000 Points with a __dict__: what a slotted twin saves, measured as the bytes of the
  pymalloc blocks in use (sys._debugmallocstats) before and after creating each;
- 3,000 equal 40-character strings built separately: (3000 - 1) x their block size;
- 2,000 empty dicts;
- a list of 100,000 floats, against array.array('d');
- a list that shrank from 30,000 to 16,000 entries: its unused capacity."""
import array
import gc
import json
import re
import sys

sys.path.insert(0, sys.argv[1])
import pymem_agent
from mallocstats import debugmallocstats

N = 5000


# Attribute values made up front, and no loop counter while measuring: ints created or
# freed then would count in the instances' bytes.
XS, YS, ZS = ([float(i + k) for i in range(N)] for k in range(3))


class Point:
    def __init__(self, x, y, z):
        self.x, self.y, self.z = x, y, z


class SlottedPoint:
    __slots__ = ("x", "y", "z")

    def __init__(self, x, y, z):
        self.x, self.y, self.z = x, y, z


def block(n):
    return (n + 15) // 16 * 16


def block_bytes():
    """Bytes in pymalloc blocks in use, from sys._debugmallocstats() (written to fd 2)."""
    text = debugmallocstats()
    rows = re.findall(r"^\s*\d+\s+(\d+)\s+\d+\s+(\d+)\s+\d+\s*$", text, re.M)
    return sum(int(size) * int(used) for size, used in rows)


def measure(cls):
    # No collection may free earlier garbage in between (it would count against the class).
    gc.collect()
    gc.disable()
    try:
        before = block_bytes()
        holder = list(map(cls, XS, YS, ZS))
        return holder, block_bytes() - before
    finally:
        gc.enable()


points, points_bytes = measure(Point)
twins, twins_bytes = measure(SlottedPoint)
del twins
dups = ["".join(["x"] * 40) for _ in range(3000)]
empties = [dict() for _ in range(2000)]
floats = [float(i) + 0.5 for i in range(100000)]
shrunk = list(range(30000))
del shrunk[16000:]

truth = {
    "slots_saving": points_bytes - twins_bytes,
    "dup_count": len(dups),
    "dup_saving": (len(dups) - 1) * block(sys.getsizeof(dups[0])),
    "empty_dicts": len(empties),
    "empty_dict_bytes": len(empties) * block(sys.getsizeof({})),
    "floats_saving": sys.getsizeof(floats)
    + sum(block(sys.getsizeof(f)) for f in floats)
    - sys.getsizeof(array.array("d", floats)),
    "shrunk_spare": (30000 - 16000) * 8,
}
pymem_agent.dump(sys.argv[2])
with open(sys.argv[3], "w") as f:
    json.dump(truth, f)
