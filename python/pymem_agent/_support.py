"""Which interpreters the agent captures soundly, and the traverse functions it must never
call on some versions (CPython bugs that hand out freed objects)."""

import sys


class UnsupportedPython(RuntimeError):
    """This interpreter is not one pymem can capture soundly."""


def _unsupported():
    """Why this interpreter cannot be captured, or None. The agent was tested on CPython
    3.8-3.15 with the GIL; 3.14.0-3.14.4 shipped a different (incremental) collector, which
    3.14.5 reverted; free-threaded builds have no GC header and no pymalloc."""
    v = sys.version_info
    name = "%s %d.%d.%d" % (sys.implementation.name, v[0], v[1], v[2])
    if sys.implementation.name != "cpython":
        return "%s is not CPython" % name
    if "t" in getattr(sys, "abiflags", ""):
        return "%s is a free-threaded build (no GIL), which pymem does not support yet" % name
    if not (3, 8) <= v[:2] <= (3, 15):
        return "%s is not supported: pymem captures CPython 3.8-3.15" % name
    if v[:2] == (3, 14) and v[2] < 5:
        return "%s is not supported: 3.14.0-3.14.4 have the incremental collector, pymem supports 3.14.5 and later" % name
    return None


# Traverse functions that hand out freed or half-built objects on some CPython versions:
# the agent never calls them there and takes those objects' references another way.
# (first version, last version, module, CPython issue, what is done instead)
_UNSAFE_TRAVERSE = (
    (
        (3, 12, 0),
        (3, 12, 4),
        "_asyncio",
        "gh-122695",
        "its free list of FutureIter objects is handed out by gc.get_referents while they are freed",
    ),
)


def _unsafe_traversals():
    """{id(module): note} for the loaded modules whose traverse is unsafe on this version:
    the walk records only their __dict__, and the header says what was left out."""
    v = sys.version_info[:3]
    found = {}
    for first, last, name, issue, why in _UNSAFE_TRAVERSE:
        m = sys.modules.get(name)
        if m is not None and first <= v <= last and type(m) is type(sys):
            found[id(m)] = (
                "references: of module %s only its __dict__ was followed on CPython %d.%d.%d "
                "(%s: %s); objects held only by its C state are not attributed to it"
                % (name, v[0], v[1], v[2], issue, why)
            )
    return found
