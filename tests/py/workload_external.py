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
import pymem_agent

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


# Two "Cython runtimes": heap types made from a spec named module.name, whose __module__
# entry is a descriptor for their instances (as Cython's function types have): they are
# named by their tp_name's module, and stay two rows.
class _Slot(ctypes.Structure):
    _fields_ = [("slot", ctypes.c_int), ("pfunc", ctypes.c_void_p)]


class _Spec(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("basicsize", ctypes.c_int), ("itemsize", ctypes.c_int),
                ("flags", ctypes.c_uint), ("slots", ctypes.POINTER(_Slot))]


def _spec_type(name):
    from_spec = ctypes.pythonapi.PyType_FromSpec
    from_spec.restype = ctypes.py_object
    from_spec.argtypes = [ctypes.POINTER(_Spec)]
    t = from_spec(ctypes.byref(_Spec(name, 16, 0, 0, (_Slot * 1)(_Slot(0, None)))))
    t.__module__ = property(lambda self: "an instance's module")
    return t


_NAMES = (b"_cython_3_0_1.cython_function_or_method", b"_cython_3_1_0.cython_function_or_method")
cython_like = [[t() for _ in range(3 + k)] for k, t in enumerate(map(_spec_type, _NAMES))]
truth["cython_rows"] = {n.decode(): 3 + k for k, n in enumerate(_NAMES)}

pymem_agent.dump(sys.argv[2])
with open(sys.argv[3], "w") as f:
    json.dump(truth, f)
