"""Code objects' contents: every code object reachable from a live function (nested code
through co_consts too), with the ids of what it holds, computed here with plain attribute
reads; then a snapshot.

usage: workload_code.py AGENT_DIR SNAPSHOT TRUTH_JSON
"""
import gc
import json
import sys
import types

sys.path.insert(0, sys.argv[1])
import pymem_agent


def holder():
    """A function whose constants include a planted tuple and a nested function."""

    def nested(x):
        return x + ("pymem nested constant", 271828)

    return nested(("pymem planted constant", 314159))


FIELDS = ["co_consts", "co_names", "co_filename", "co_name"]
FIELDS += ["co_linetable"] if sys.version_info >= (3, 10) else ["co_lnotab"]
if sys.version_info < (3, 11):
    FIELDS += ["co_code", "co_varnames", "co_freevars", "co_cellvars"]
else:
    FIELDS += ["co_qualname", "co_exceptiontable"]


def census():
    """Every code object reachable from a tracked function, and its fields' ids."""
    codes = {}
    todo = [f.__code__ for f in gc.get_objects() if type(f) is types.FunctionType]
    while todo:
        c = todo.pop()
        if id(c) in codes:
            continue
        codes[id(c)] = c
        todo.extend(k for k in c.co_consts if type(k) is types.CodeType)
    return codes


consts = holder.__code__.co_consts
planted_index = [i for i, k in enumerate(consts) if type(k) is tuple and k[:1] == ("pymem planted constant",)][0]
codes = census()  # kept alive until the snapshot is taken
truth = {
    "codes": {str(a): {f: id(getattr(c, f)) for f in FIELDS} for a, c in codes.items()},
    "planted": id(consts[planted_index]),
    "planted_index": planted_index,
    "consts_tuples": len({id(c.co_consts) for c in codes.values()}),
    "places": {str(a): [c.co_filename, c.co_firstlineno] for a, c in codes.items()},
    "holder": id(holder),
    "holder_place": "%s:%d" % (holder.__code__.co_filename, holder.__code__.co_firstlineno),
}
del consts
pymem_agent.dump(sys.argv[2])
with open(sys.argv[3], "w") as f:
    json.dump(truth, f)
