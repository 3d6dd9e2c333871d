"""Owned buffers of builtin containers (list items, set and dict tables, bytearray storage,
inline values), read from their C structs by address."""

import ctypes

from ._base import _POOL_MASK, _POOL_OVERHEAD, _I64_U64, _U64, _U64_I64, _U64_U64, _t_basicsize
from ._facts import FACTS, INLINE_EMBEDDED_AT, MANAGED_DICT_BEFORE, MANAGED_INLINE_313, MANAGED_SPLIT_311, SPLIT_VALUES_BEFORE


def _list_buffers(o, pget):
    raw = ctypes.string_at(id(o) + 24, 16)
    items, allocated = _U64_I64.unpack(raw)
    if not items:
        return ()
    return (_buffer(items, allocated * 8, pget),)


def _set_buffers(o, pget):
    raw = ctypes.string_at(id(o) + 32, 16)
    mask, table = _I64_U64.unpack(raw)
    if not table or table == id(o) + 64:
        return ()
    return (_buffer(table, (mask + 1) * 16, pget),)


_BYTES_HEADER = _t_basicsize(bytes) - 1  # offset of a bytes object's data


def _bytearray_buffers(o, pget):
    raw = ctypes.string_at(id(o) + 24, 16)
    alloc, ob_bytes = _I64_U64.unpack(raw)
    if not ob_bytes:
        return ()
    if FACTS.bytearray_storage_is_bytes:
        # The storage is a bytes object (ob_bytes points at its data): the whole object, its
        # header and NUL included, as sys.getsizeof counts it; none for the static empty bytes.
        if not alloc:
            return ()
        return (_buffer(ob_bytes - _BYTES_HEADER, alloc + _BYTES_HEADER + 1, pget),)
    return (_buffer(ob_bytes, alloc, pget),)


_dict_sizeof = dict.__sizeof__  # the C method: a subclass's __sizeof__ is user code
_EMPTY_DICT_SIZE = _dict_sizeof({})


def _dict_buffers(o, pget):
    raw = ctypes.string_at(id(o) + 32, 16)
    keys, vals = _U64_U64.unpack(raw)
    out = []
    rest = max(0, _dict_sizeof(o) - _EMPTY_DICT_SIZE)
    for ptr, owned in ((keys, vals == 0), (vals, True)):
        if not ptr or not owned:
            continue
        if FACTS.values_apart and ptr == vals:
            prefix = ctypes.string_at(ptr - 1, 1)[0]
            ptr -= prefix
        elif FACTS.managed == MANAGED_INLINE_313 and ptr == vals:
            if ctypes.string_at(ptr + INLINE_EMBEDDED_AT, 1)[0]:
                continue  # embedded in the owning instance
        b = _buffer(ptr, 0, pget)
        if b[1] == 0:
            if not rest:
                continue  # static empty keys, or nothing owned outside the pools
            b = (ptr, rest)
        rest = max(0, rest - b[1])
        out.append(b)
    return out


def _word_at(addr, _unpack=_U64.unpack, _string_at=ctypes.string_at):
    """The 8-byte word at `addr` (inside a live object: its pre-header)."""
    return _unpack(_string_at(addr, 8))[0]


def _values_buffers(o, pget):
    """3.11/3.12: the separately allocated values array of an instance whose __dict__ was
    never materialised (pointer in the pre-header; the byte before it is the prefix size)."""
    a = id(o)
    if FACTS.managed == MANAGED_SPLIT_311:
        values = _word_at(a - SPLIT_VALUES_BEFORE)
    else:
        word = _word_at(a - MANAGED_DICT_BEFORE)
        values = word + 1 if word & 1 else 0
    if not values:
        return ()
    prefix = ctypes.string_at(values - 1, 1)[0]
    b = _buffer(values - prefix, 0, pget)
    return (b,) if b[1] else ()


def _buffer(ptr, nominal, pget):
    """(address, bytes): the pool block size when the buffer sits in a pool, else its nominal size."""
    info = pget(ptr & _POOL_MASK)
    if info is not None and (ptr - (ptr & _POOL_MASK) - _POOL_OVERHEAD) % info[0] == 0:
        return (ptr, info[0])
    return (ptr, nominal)


# ctypes instances: their base type, and the C-level functions and members that tell where
# their memory is (no __sizeof__ of ctypes counts it).
_CData = ctypes.c_int.__mro__[-2]
_addressof = ctypes.addressof
_c_sizeof = ctypes.sizeof
_b_needsfree = _CData.__dict__["_b_needsfree_"].__get__


def _ctypes_buffers(o, pget):
    """The buffer of a ctypes instance that allocated its own (b_needsfree, and b_ptr not
    inside the object: small values live in the object's b_value); views of other memory
    (from_address, from_buffer, a structure's fields) own nothing."""
    if not _b_needsfree(o):
        return ()
    ptr = _addressof(o)
    a = id(o)
    if a <= ptr < a + _t_basicsize(type(o)):
        return ()
    n = _c_sizeof(o)
    return (_buffer(ptr, n, pget),) if n > 0 else ()


# Readers of owned buffers, by the code the type table stores (0: none).
_OWNED_READERS = (None, _list_buffers, _set_buffers, _bytearray_buffers, _dict_buffers, _values_buffers, _ctypes_buffers)
_OWN_VALUES = 5
_OWNED = {list: 1, set: 2, frozenset: 2, bytearray: 3, dict: 4, _CData: 6}
# Readers of buffers that sys.getsizeof leaves out: run for objects outside pools as well,
# whose size is sys.getsizeof's.
_OUTSIDE_GETSIZEOF = 6
