"""Kinds of object the walk treats specially, decided once per type by identity over its MRO."""

from ._base import _builtin_fn_type, _codetype, _deque, _functype, _modtype, _t_mro
from ._buffers import _OWNED


# Kinds of object the walk treats specially, decided once per type by identity over its MRO.
# Leaves (no referents) come last: the walk tests `kind >= K_INT`.
K_PLAIN, K_DICT, K_SIZED, K_MODULE, K_FUNC, K_CODE, K_TYPE, K_BUILTIN, K_LRU, K_NDARRAY = range(10)
K_INT, K_STR, K_BYTES, K_FLOAT = range(10, 14)
_EXACT_KINDS = {
    str: K_STR,
    bytes: K_BYTES,
    list: K_SIZED,
    tuple: K_SIZED,
    set: K_SIZED,
    frozenset: K_SIZED,
    _deque: K_SIZED,
    _modtype: K_MODULE,
    _functype: K_FUNC,
    _codetype: K_CODE,
    _builtin_fn_type: K_BUILTIN,
    int: K_INT,
    float: K_FLOAT,
}


try:  # the C implementation of functools.lru_cache
    import _functools

    _lru_type = _functools._lru_cache_wrapper
    _lru_info = _lru_type.cache_info
    _EXACT_KINDS[_lru_type] = K_LRU
except (ImportError, AttributeError):
    _lru_type = _lru_info = None
_deque_maxlen = _deque.maxlen.__get__
_tuple_item = tuple.__getitem__


def _lru_extra(o):
    """Entries, bound and hit counts of an lru_cache, from its C-level cache_info()."""
    try:
        info = _lru_info(o)
        hits, misses, maxsize, currsize = (_tuple_item(info, i) for i in range(4))
    except Exception:
        return ""
    out = ',"n":%d,"hits":%d,"misses":%d' % (currsize, hits, misses)
    if type(maxsize) is int:
        out += ',"bound":%d' % maxsize
    return out


def _kind_of(t, ndarray=None):
    """The kind of t's objects; `ndarray` is numpy's array type when the program loaded numpy."""
    k = _EXACT_KINDS.get(t)
    if k is not None:
        return k
    try:
        mro = _t_mro(t)
    except Exception:
        return K_PLAIN
    if ndarray is not None and ndarray in mro:
        return K_NDARRAY
    for c in mro:
        if c is dict:
            return K_DICT
        if c is type:
            return K_TYPE
        if c is _builtin_fn_type:  # bound C methods (builtin_method) too
            return K_BUILTIN
    return K_PLAIN


def _owned_reader(t):
    """Code of the reader of the separate buffers an object of type t owns
    (list/set/dict/bytearray layouts; 0: none), an index into _OWNED_READERS."""
    try:
        mro = _t_mro(t)
    except Exception:
        return 0
    for c in mro:
        r = _OWNED.get(c)
        if r is not None:
            return r
    return 0
