"""A leak of memory outside pymalloc: every round appends 20 arrays of 100,000 doubles
(numpy's when NUMPY_DIR is given, else the array module's) to a global list, between three
snapshots; prints the bytes one round adds, by sys.getsizeof. With "object" after
NUMPY_DIR, the leak is through a preallocated object array instead, 1,000 new objects a
round stored into its next slots.

usage: workload_array_leak.py AGENT_DIR SNAPSHOT_DIR [NUMPY_DIR [object]]
"""
import array
import os
import sys

sys.path.insert(0, sys.argv[1])
if len(sys.argv) > 3:
    sys.path.insert(0, sys.argv[3])
    import numpy

    def make():
        return numpy.zeros(100000)
else:

    def make():
        return array.array("d", bytes(800000))

import pymem_agent

class Token:
    def __init__(self, i):
        self.i = i


kept = []
slots = numpy.empty(100000, dtype=object) if sys.argv[4:] == ["object"] else None
per_round = 0
for k, name in enumerate(("a", "b", "c")):
    pymem_agent.dump(os.path.join(sys.argv[2], name + ".jsonl"))
    if slots is not None:
        for i in range(1000):
            slots[k * 1000 + i] = Token(i)
        continue
    added = [make() for _ in range(20)]
    per_round = sum(sys.getsizeof(x) for x in added)
    kept.extend(added)
    del added
print(per_round)
