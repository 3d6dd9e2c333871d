"""The type table: one record per type met, with what is needed to size its instances and
label their references."""

import array

from ._base import (
    _HAVE_GC,
    _HEAPTYPE,
    _MANAGED_DICT,
    _codetype,
    _get_referents,
    _getrefcount,
    _getsizeof,
    _python_class,
    _t_basicsize,
    _t_flags,
    _t_itemsize,
    _t_mro,
    _t_ns,
)
from ._buffers import _OWN_VALUES
from ._facts import FACTS
from ._kinds import _kind_of, _owned_reader
from ._names import _js, _type_module, _type_name
from ._labels import _make_labeller


class _Types:
    """Type table: one record per type met, with the facts needed to size its instances.

    Its tables hold as few references to the program's objects as they can (codes and
    numbers in arrays, ids instead of objects), so that the reference counts the walk reads
    are the program's own; the references it must hold (slot descriptors and their names,
    C-level __sizeof__ methods) are counted in `held` and subtracted."""

    def __init__(self, out, debug_shift):
        self.out = out
        self.ids = {}  # id(type) -> type id + _TID_BASE (never a cached small int)
        self.pre = array.array("q")
        self.sizer = bytearray()  # _SIZE_* codes
        self.c_sizeof = {}  # type id + _TID_BASE -> (C __sizeof__, GC header bytes)
        # type id + _TID_BASE -> (C __sizeof__, bytes before the object) for the types whose
        # C __sizeof__ counts memory they own outside their object (see _external_sizer)
        self.external = {}
        self.has_external = bytearray()  # by type id: 1 when `external` has an entry
        self.kind = bytearray()
        self.owned = bytearray()  # index into _OWNED_READERS
        self.labeller = {}  # type id + _TID_BASE -> labeller
        self.held = {}  # id(object) -> references the capture's tables hold to it
        self.debug_shift = debug_shift
        self.ndarray = None  # numpy.ndarray while a capture of a program with numpy runs

    def hold(self, obj):
        self.held[id(obj)] = self.held.get(id(obj), 0) + 1

    def get(self, t):
        key = id(t)
        tid = self.ids.get(key)
        if tid is not None:
            return tid - _TID_BASE
        tid = len(self.pre)
        self.ids[key] = tid + _TID_BASE
        flags = _t_flags(t)
        pre = 16 if flags & _HAVE_GC else 0
        if flags & FACTS.preheader_flags:
            pre += 16
        self.pre.append(pre + self.debug_shift)
        self.sizer.append(self._sizer(t, flags, tid))
        self.kind.append(_kind_of(t, self.ndarray))
        reader = _owned_reader(t)
        if reader == 0 and FACTS.values_apart and flags & _MANAGED_DICT:
            reader = _OWN_VALUES
        self.owned.append(reader)
        self._external_sizer(t, tid, pre)
        self.has_external.append(1 if tid + _TID_BASE in self.external else 0)
        try:
            labeller = _make_labeller(t, flags, self)
        except Exception:
            labeller = None
        if labeller is not None:
            self.labeller[tid + _TID_BASE] = labeller
        name = _type_name(t)
        module = _type_module(t)
        self.out.write(
            '{"k":"type","id":%d,"a":%d,"name":%s,"module":%s,"flags":%d,"basicsize":%d,"itemsize":%d,"pre":%d,"py":%s}\n'
            % (tid, key, _js(name), _js(module), flags, _t_basicsize(t), _t_itemsize(t), pre, "true" if _python_class(t, flags) else "false")
        )
        return tid

    def size(self, tid, o):
        """The object's size as sys.getsizeof reports it (see _sizer), 0 when unknown."""
        code = self.sizer[tid]
        try:
            if code == _SIZE_GETSIZEOF:
                return _getsizeof(o)
            if code == _SIZE_C_BASE:
                fn, gc_pre = self.c_sizeof[tid + _TID_BASE]
                return fn(o) + gc_pre
        except Exception:
            pass
        return 0

    def external_bytes(self, tid, o, block):
        """Bytes the object's C __sizeof__ reports beyond its block (0 if none or unknown):
        memory of its own outside pymalloc (an array's data, a deque's blocks, a ctypes
        buffer). Only for types registered by _external_sizer."""
        entry = self.external.get(tid + _TID_BASE)
        if entry is None:
            return 0
        fn, pre = entry
        try:
            n = fn(o) + pre - block
        except Exception:
            return 0
        return n if n > 0 else 0

    def _external_sizer(self, t, tid, pre):
        """Registers the C __sizeof__ of a type that may own memory outside its object: the
        first __sizeof__ in its MRO that is a C method (a Python-level override is user code
        and is passed over), unless it is object's (the object alone) or the type's objects
        hold everything inline (str, int, tuple, ...)."""
        try:
            mro = _t_mro(t)
        except Exception:
            return
        for c in mro:
            ns = _t_ns(c)  # None for a C type never readied
            fn = ns.get("__sizeof__") if type(ns) is _mappingproxy else None
            if fn is None or type(fn) is not _method_descriptor:
                continue
            if c is object or c in _INLINE_TYPES:
                return
            self.hold(fn)
            self.external[tid + _TID_BASE] = (fn, pre)
            return

    def _sizer(self, t, flags, tid):
        """sys.getsizeof unless a Python class overrides __sizeof__ (user code); then the C base's."""
        try:
            mro = _t_mro(t)
        except Exception:
            return _SIZE_NONE
        for c in mro:
            if _t_flags(c) & _HEAPTYPE:
                if "__sizeof__" in _t_ns(c):
                    break
            else:
                return _SIZE_GETSIZEOF
        else:
            return _SIZE_GETSIZEOF
        for c in mro:
            if not _t_flags(c) & _HEAPTYPE:
                fn = _t_ns(c).get("__sizeof__")
                if fn is not None:
                    self.hold(fn)
                    self.c_sizeof[tid + _TID_BASE] = (fn, 16 if flags & _HAVE_GC else 0)
                    return _SIZE_C_BASE
        return _SIZE_NONE


# Type ids as stored in the capture's dicts: offset so that no stored value is one of the
# interpreter's cached small ints (whose reference counts the tables would otherwise raise).
_TID_BASE = 1 << 40
_SIZE_NONE, _SIZE_GETSIZEOF, _SIZE_C_BASE = range(3)
# Builtin types whose __sizeof__ counts only what is inside the object's own block, or that
# and the buffers their readers find (_buffers).
_INLINE_TYPES = (str, bytes, int, bool, float, complex, tuple, type, _codetype, list, set, frozenset, bytearray, dict)
_method_descriptor = type(object.__dict__["__sizeof__"])
_mappingproxy = type(object.__dict__)


def _calibrate():
    """References the walk itself adds to an object's count, measured with the walk's own
    shape (the list it iterates and the loop variable), never assumed."""
    probe = object()  # true count: 1, this local
    for o in [probe]:
        rc = _getrefcount(o)
        return rc - 1


def _sole_reference_count():
    """What getrefcount reports, in the walk's referent loop, for an object referenced
    once (by its parent): the referents container and the loop variable add theirs."""
    parent = [object()]
    refs = _get_referents(parent)
    del parent  # the object is now held only by `refs`, standing in for its one parent
    for r in refs:
        return _getrefcount(r) + 1  # + the parent's own reference, which `refs` replaced
