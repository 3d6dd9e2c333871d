"""Objects that count every call of user code; the capture must make none.

usage: workload_safety.py AGENT_DIR SNAPSHOT RESULT_JSON
"""
import gc
import json
import os
import sys

sys.path.insert(0, sys.argv[1])
import pymem_agent

CALLS = []


class Meta(type):
    def __getattribute__(cls, name):
        CALLS.append("Meta.__getattribute__ " + name)
        return type.__getattribute__(cls, name)

    def __eq__(cls, other):
        CALLS.append("Meta.__eq__")
        return type.__eq__(cls, other)

    __hash__ = type.__hash__


class Trap(metaclass=Meta):
    def __init__(self, i):
        self.i = i
        self.payload = [i]

    def __repr__(self):
        CALLS.append("__repr__")
        return "Trap"

    def __len__(self):
        CALLS.append("__len__")
        return 1

    def __getattr__(self, name):
        CALLS.append("__getattr__ " + name)
        raise AttributeError(name)

    def __getattribute__(self, name):
        if name not in ("__dict__", "i", "payload", "__class__"):
            CALLS.append("__getattribute__ " + name)
        return object.__getattribute__(self, name)

    def __eq__(self, other):
        CALLS.append("__eq__")
        return self is other

    def __hash__(self):
        CALLS.append("__hash__")
        return 1

    def __sizeof__(self):
        CALLS.append("__sizeof__")
        return 1

    @property
    def __class__(self):
        CALLS.append("__class__")
        return Trap


class TrapDict(dict):
    def __len__(self):
        CALLS.append("TrapDict.__len__")
        return 0

    def items(self):
        CALLS.append("TrapDict.items")
        return []

    def keys(self):
        CALLS.append("TrapDict.keys")
        return []

    def __iter__(self):
        CALLS.append("TrapDict.__iter__")
        return iter(())


class TrapKey(str):
    def __hash__(self):
        CALLS.append("TrapKey.__hash__")
        return str.__hash__(self)

    def __eq__(self, other):
        CALLS.append("TrapKey.__eq__")
        return str.__eq__(self, other)


traps = [Trap(i) for i in range(50)]
tdict = TrapDict({TrapKey("a"): traps[0], "b": 2})
plain_with_trap_keys = {TrapKey("k%d" % i): i for i in range(10)}
CALLS.clear()

collections = []
gc.callbacks.append(lambda phase, info: collections.append(phase) if phase == "start" else None)

# 3.11+: an instance's attributes live outside any dict until __dict__ is touched.
probe = traps[1]


def has_materialised_dict(o):
    return any(type(r) is dict for r in gc.get_referents(o))


before = has_materialised_dict(probe)
modules_before = sorted(sys.modules)
collections_before = len(collections)
pymem_agent.dump(sys.argv[2])
collections_during_dump = len(collections) - collections_before
modules_imported = sorted(set(sys.modules) - set(modules_before))
after = has_materialised_dict(probe)

# A failed capture leaves neither the target nor a partial file behind.
failed_target = os.path.join(os.path.dirname(os.path.abspath(sys.argv[2])), "failed.jsonl")
capture = sys.modules["pymem_agent._capture"]  # the module whose dump() calls the walk
real_walk = capture._walk


def broken_walk(*a, **k):
    raise RuntimeError("simulated failure mid-capture")


capture._walk = broken_walk
try:
    pymem_agent.dump(failed_target)
    raised = False
except RuntimeError:
    raised = True
capture._walk = real_walk
leftovers = sorted(
    f for f in os.listdir(os.path.dirname(failed_target)) if f.startswith(".failed") or f == "failed.jsonl"
)
with open(sys.argv[3], "w") as f:
    json.dump(
        {
            "calls": CALLS,
            "collections": collections_during_dump,
            "dict_before": before,
            "dict_after": after,
            "failed_raised": raised,
            "leftovers": leftovers,
            "modules_imported": modules_imported,
        },
        f,
    )
