"""A leak of memory outside pymalloc: every round appends 20 arrays of 100,000 doubles
(numpy's when NUMPY_DIR is given, else the array module's) to a global list, between three
snapshots; prints the bytes one round adds, by sys.getsizeof.

usage: workload_array_leak.py AGENT_DIR SNAPSHOT_DIR [NUMPY_DIR]
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

import pymem_agent  # noqa: E402

kept = []
per_round = 0
for name in ("a", "b", "c"):
    pymem_agent.dump(os.path.join(sys.argv[2], name + ".jsonl"))
    added = [make() for _ in range(20)]
    per_round = sum(sys.getsizeof(x) for x in added)
    kept.extend(added)
    del added
print(per_round)
