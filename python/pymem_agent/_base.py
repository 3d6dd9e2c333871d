"""Constants of the interpreter and the snapshot format, C-level accessors read straight from
`type` and the builtins (so no metaclass or subclass can intercept them), and the state of
the capture in progress."""

import _collections
import _struct
import ctypes
import gc
import os
import sys

from ._facts import FACTS


FORMAT = "pymem-snapshot"
VERSION = 1

_HAVE_GC = 1 << 14
_MANAGED_DICT = 1 << 4
_MANAGED_WEAKREF = 1 << 3
_INLINE_VALUES = 1 << 2
_HEAPTYPE = 1 << 9
_POOL_OVERHEAD = 48
_NB_CLASSES = 32
_ARENA_SIZE, _POOL_SIZE = FACTS.arena_size, FACTS.pool_size
_POOL_MASK = ~(_POOL_SIZE - 1)

# Descriptors read straight from `type` so a metaclass cannot intercept them.
_tdict = type.__dict__
_t_flags = _tdict["__flags__"].__get__
_t_basicsize = _tdict["__basicsize__"].__get__
_t_itemsize = _tdict["__itemsize__"].__get__
_t_qualname = _tdict["__qualname__"].__get__
_t_module = _tdict["__module__"].__get__
_t_mro_slot = _tdict["__mro__"].__get__
_t_base = _tdict["__base__"].__get__


def _t_mro(t):
    """The MRO; (t,) for a C type never readied (3.8's lru_list_elem has no tp_mro)."""
    return _t_mro_slot(t) or (t,)


_t_ns = _tdict["__dict__"].__get__
_dict_items = dict.items
_dict_len = dict.__len__
_dict_keys = dict.keys
_str_isidentifier = str.isidentifier
_getrefcount = sys.getrefcount
_get_referents = gc.get_referents
_module_dict = type(sys).__dict__["__dict__"].__get__  # C getset: md_dict, no user code
_is_tracked = gc.is_tracked
_getsizeof = sys.getsizeof
_modtype = type(sys)
_deque = _collections.deque
_functype = type(lambda: 0)
_codetype = type((lambda: 0).__code__)
_builtin_fn_type = type(len)
_mod_name = _modtype.__dict__["__dict__"].__get__
_str_hash = str.__hash__
_bytes_hash = bytes.__hash__
_KEY_LABEL_MAX = 64
# Int keys longer than this are labelled by their size, not their value (as in Rust).
_KEY_INT_BITS_MAX = 4096


# Layouts read from memory, compiled once at import. Not struct.unpack(fmt, ...): that fills
# the struct module's cache, which a later snapshot would report as new objects of the
# program; nor a cache of the agent's own filled on first use, whose new entries, made during
# a walk, would add references to format strings the walk had already counted.
_U32 = _struct.Struct("<I")
_U64 = _struct.Struct("<Q")
_U64_I64 = _struct.Struct("<Qq")  # a list's items and allocated
_I64_U64 = _struct.Struct("<qQ")  # a set's mask and table; a bytearray's alloc and ob_bytes
_U64_U64 = _struct.Struct("<QQ")  # a dict's keys and values
_U64_U32 = _struct.Struct("<QI")  # a pointer and a 32-bit count
_ARENA_OBJECT = _struct.Struct("<QQII")  # address, pool_address, nfreepools, ntotalpools
_POOL_HEADER = _struct.Struct("<I4xQQQIIII")  # pymalloc's pool_header
_DICT_KEYS_HEADER = _struct.Struct("<qBBBxIqq")  # PyDictKeysObject's fixed part (3.11+)


def _raw_buffer(n):
    """A writable n-byte buffer and its address. A bytearray, not a ctypes array: every new
    ctypes array length creates a type that ctypes caches for the life of the process."""
    buf = bytearray(n)
    return buf, ctypes.addressof(ctypes.c_char.from_buffer(buf))


class _Now:
    """The capture in progress: its memory reader and the marker in the youngest generation
    after which every tracked object is the capture's own (both None between captures)."""

    __slots__ = ("mem", "mark", "waiting")

    def __init__(self):
        self.mem = None
        self.mark = None
        self.waiting = 0  # threads waiting, doing nothing, for the capture's (see _traced)


_NOW = _Now()


def _is_own_file(filename):
    """Whether code compiled from `filename` is the agent's: a file of this package, or the
    agent's one file when it was injected as one."""
    path = os.path.abspath(filename)
    if __package__:
        return os.path.dirname(path) == _HERE
    return path == _ME


_ME = os.path.abspath(__file__)
_HERE = os.path.dirname(_ME)


_member_descriptor = type(type.__dict__["__basicsize__"])
_t_dictoffset = _tdict["__dictoffset__"].__get__
_t_name = _tdict["__name__"].__get__


# tp_traverse's offset in PyTypeObject (the same on 3.8-3.15), and the traversal of every
# class a `class` statement makes (subtype_traverse), read from one. A heap type with
# another traversal is made by C code (an extension's PyType_FromSpec, Cython, mypyc).
_TP_TRAVERSE = 184


class _AnyClass:
    pass


def _traverse_of(t):
    return _U64.unpack(ctypes.string_at(id(t) + _TP_TRAVERSE, 8))[0]


_SUBTYPE_TRAVERSE = _traverse_of(_AnyClass)


def _python_class(t, flags):
    """Whether t was made by a `class` statement, not by C code."""
    return bool(flags & _HEAPTYPE) and _traverse_of(t) == _SUBTYPE_TRAVERSE
