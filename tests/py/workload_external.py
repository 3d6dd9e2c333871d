"""Objects that own memory outside their object, with the ground truth computed here: what
sys.getsizeof reports (array, deque, OrderedDict, numpy when it is importable) and, for a
ctypes array, its object plus its buffer (ctypes.sizeof; no __sizeof__ of ctypes counts it).

usage: workload_external.py AGENT_DIR SNAPSHOT TRUTH_JSON [NUMPY_DIR]
"""
import array
import collections
import ctypes
import json
import sys

sys.path.insert(0, sys.argv[1])
if len(sys.argv) > 4:
    sys.path.insert(0, sys.argv[4])
import pymem_agent  # noqa: E402

planted = {
    "array": array.array("d", range(100000)),
    "deque": collections.deque(range(100000)),
    "ordered": collections.OrderedDict((i, None) for i in range(20000)),
    "ctypes": (ctypes.c_double * 100000)(),
}
truth = {}
for name, o in planted.items():
    if name == "ctypes":  # its buffer (the object's own block may be larger than getsizeof says)
        truth[name] = {"addr": "0x%x" % id(o), "buffers": ctypes.sizeof(o)}
    else:
        truth[name] = {"addr": "0x%x" % id(o), "bytes": sys.getsizeof(o)}
del name, o
if len(sys.argv) > 4:
    import numpy

    big = numpy.zeros(1000000)
    view = big[::2]
    planted["numpy"] = big
    planted["numpy_view"] = view
    truth["numpy"] = {"addr": "0x%x" % id(big), "bytes": sys.getsizeof(big)}
    truth["numpy_view"] = {"addr": "0x%x" % id(view), "bytes": sys.getsizeof(view)}
pymem_agent.dump(sys.argv[2])
with open(sys.argv[3], "w") as f:
    json.dump(truth, f)
