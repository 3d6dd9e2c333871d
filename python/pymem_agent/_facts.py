"""What each CPython version does that the agent must know, as named facts in one table by
minor version. Its twin on the Rust side is src/capture/facts.rs, and tests/it/agent_facts.rs
holds the facts both know equal for every supported version. Everywhere else the agent reads
these names and never compares versions itself."""

import sys

# The CPython versions pymem supports: 3.FIRST_MINOR to 3.LAST_MINOR. This is the one list:
# the agent's support check, `pymem attach` and `pymem core` (src/capture/facts.rs reads
# these two lines when pymem is built) and the tests' list of interpreters all read it.
FIRST_MINOR = 8
LAST_MINOR = 15

# Where an instance of a class with a managed dict (tp_flags MANAGED_DICT) keeps its
# attributes; the names are those of the Rust enum `Managed`.
MANAGED_NONE = "None"  # 3.8-3.10: no managed dicts; a __dict__ pointer at tp_dictoffset
MANAGED_SPLIT_311 = "Split311"  # a values array pointer at -32, a dict pointer at -24
MANAGED_TAGGED_312 = "Tagged312"  # one word at -24: a dict, or values tagged with bit 0
MANAGED_INLINE_313 = "Inline313"  # a dict pointer at -24; values inline after tp_basicsize

# Offsets of the managed-dict layouts (the same in every version that has them).
MANAGED_DICT_BEFORE = 24  # the dict (or 3.12's tagged word) sits this far before the object
SPLIT_VALUES_BEFORE = 32  # 3.11: the values array pointer sits this far before the object
INLINE_CAPACITY_AT = 0  # 3.13+ inline values: their header's capacity byte,
INLINE_EMBEDDED_AT = 2  # its "embedded in the instance" byte,
INLINE_VALID_AT = 3  # its "values valid" byte,
INLINE_ITEMS_AT = 8  # and where the values begin

# tp_flags bits whose objects have two more words before them (beyond the GC header).
_MANAGED_WEAKREF_FLAG = 1 << 3
_MANAGED_DICT_FLAG = 1 << 4


class _Facts(object):
    """The facts of one minor version; `names()` lists them (the test compares by name)."""

    __slots__ = (
        "minor",
        "first_micro",
        "managed",
        "preheader_flags",
        "immortal_refcounts",
        "immortal_reported",
        "managed_dict_first",
        "arena_size",
        "pool_size",
        "values_apart",
        "code_qualname",
        "code_localsplus",
        "bytearray_storage_is_bytes",
        "runtime_allocator_state",
        "every_dict_tracked",
        "stack_refs_borrowed",
    )

    def names(self):
        return dict((name, getattr(self, name)) for name in self.__slots__)


def _facts_of(minor):
    """The facts of CPython 3.`minor`, or None for a version pymem does not support."""
    if not FIRST_MINOR <= minor <= LAST_MINOR:
        return None
    f = _Facts()
    f.minor = minor
    # The first sound release: 3.14.0-3.14.4 shipped the incremental collector, which 3.14.5
    # reverted.
    f.first_micro = 5 if minor == 14 else 0
    if minor <= 10:
        f.managed = MANAGED_NONE
    elif minor == 11:
        f.managed = MANAGED_SPLIT_311
    elif minor == 12:
        f.managed = MANAGED_TAGGED_312
    else:
        f.managed = MANAGED_INLINE_313
    if minor <= 10:
        f.preheader_flags = 0
    elif minor == 11:
        f.preheader_flags = _MANAGED_DICT_FLAG
    else:
        f.preheader_flags = _MANAGED_DICT_FLAG | _MANAGED_WEAKREF_FLAG
    # 3.12+: immortal objects, whose reference count sys.getrefcount reports as at least
    # 2**31 (3.14+: always exactly 3 << 30).
    f.immortal_refcounts = minor >= 12
    f.immortal_reported = 3 << 30 if minor >= 14 else None
    # 3.14+: an instance whose __dict__ was materialised has its dict traversed, not its
    # inline values (3.13 traverses the values while they are valid).
    f.managed_dict_first = minor >= 14
    # pymalloc's geometry: 1 MiB arenas of 16 KiB pools from 3.10, 256 KiB of 4 KiB before.
    f.arena_size, f.pool_size = (1 << 20, 1 << 14) if minor >= 10 else (1 << 18, 1 << 12)
    # 3.11, 3.12: an instance's values array is allocated apart from it (a prefix byte before
    # it says how far back the allocation starts); 3.13+ keep them inline.
    f.values_apart = minor in (11, 12)
    # 3.11+: code objects have co_qualname, and co_localsplusnames/kinds no member exposes.
    f.code_qualname = minor >= 11
    f.code_localsplus = minor >= 11
    # 3.15+: a bytearray's storage is a bytes object (ob_bytes points at its data).
    f.bytearray_storage_is_bytes = minor >= 15
    # 3.12+: pymalloc's state (usedpools, then the arenas) lives in _PyRuntime.
    f.runtime_allocator_state = minor >= 12
    # 3.14+: the collector lists every dict, the interned-strings table among them.
    f.every_dict_tracked = minor >= 14
    # 3.14+: a frame's stack can hold borrowed references, which no reference count shows.
    f.stack_refs_borrowed = minor >= 14
    return f


# Traverse functions that hand out freed or half-built objects on some CPython releases:
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


def unsafe_traverse_here():
    """(module, CPython issue, what is done instead) for the unsafe traverse functions of
    the running release."""
    v = sys.version_info[:3]
    return [(name, issue, why) for first, last, name, issue, why in _UNSAFE_TRAVERSE if first <= v <= last]


# The facts of the running interpreter; of the nearest supported version on one that is not
# (the support check refuses it before any capture, but the package must still import).
FACTS = _facts_of(min(max(sys.version_info[1], FIRST_MINOR), LAST_MINOR))
