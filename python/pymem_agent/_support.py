"""Which interpreters the agent captures soundly, and the traverse functions it must never
call on some versions (CPython bugs that hand out freed objects)."""

import sys

from ._facts import FIRST_MINOR, LAST_MINOR, _facts_of, unsafe_traverse_here


class UnsupportedPython(RuntimeError):
    """This interpreter is not one pymem can capture soundly."""


def _unsupported():
    """Why this interpreter cannot be captured, or None. The agent was tested on the CPython
    versions _facts.py lists, with the GIL (not 3.14.0-3.14.4, which shipped a different,
    incremental, collector that 3.14.5 reverted); free-threaded builds have no GC header and
    no pymalloc."""
    v = sys.version_info
    name = "%s %d.%d.%d" % (sys.implementation.name, v[0], v[1], v[2])
    if sys.implementation.name != "cpython":
        return "%s is not CPython" % name
    if "t" in getattr(sys, "abiflags", ""):
        return "%s is a free-threaded build (no GIL), which pymem does not support yet" % name
    facts = _facts_of(v[1]) if v[0] == 3 else None
    if facts is None:
        return "%s is not supported: pymem captures CPython 3.%d-3.%d" % (name, FIRST_MINOR, LAST_MINOR)
    if v[2] < facts.first_micro:
        return "%s is not supported: 3.%d.0-3.%d.%d have the incremental collector, pymem supports 3.%d.%d and later" % (
            name,
            v[1],
            v[1],
            facts.first_micro - 1,
            v[1],
            facts.first_micro,
        )
    return None


def _unsafe_traversals():
    """{id(module): note} for the loaded modules whose traverse is unsafe on this version:
    the walk records only their __dict__, and the header says what was left out."""
    v = sys.version_info[:3]
    found = {}
    for name, issue, why in unsafe_traverse_here():
        m = sys.modules.get(name)
        if m is not None and type(m) is type(sys):
            found[id(m)] = (
                "references: of module %s only its __dict__ was followed on CPython %d.%d.%d "
                "(%s: %s); objects held only by its C state are not attributed to it"
                % (name, v[0], v[1], v[2], issue, why)
            )
    return found
