"""Names as the snapshot records them: a type's module and qualified name, dict keys as
labels, and JSON quoting."""

import ctypes

from ._base import _KEY_INT_BITS_MAX, _KEY_LABEL_MAX, _U64, _str_isidentifier, _t_module, _t_qualname


try:  # the C accelerator of the json module: quotes and escapes a str, ASCII-only output
    from _json import encode_basestring_ascii as _js
except ImportError:  # pragma: no cover - CPython always builds _json
    from json.encoder import py_encode_basestring_ascii as _js  # noqa: F401 (used by the other modules)


def _tp_name(t):
    """The type's C-level tp_name (PyTypeObject's fourth word, a C string as long as the
    type lives), or None."""
    try:
        ptr = _U64.unpack(ctypes.string_at(id(t) + 24, 8))[0]
        return ctypes.string_at(ptr).decode("utf-8", "replace") if ptr else None
    except Exception:
        return None


def _type_module(t):
    """The type's __module__, read from `type` (no metaclass intercepts it). When that is not
    a string (a heap type whose __module__ entry is a descriptor for its instances, as
    Cython's function types have), the module part of its tp_name ("_cython_3_0_1" of
    "_cython_3_0_1.cython_function_or_method"); "?" when neither names one."""
    try:
        mod = _t_module(t)
    except Exception:
        mod = None
    if type(mod) is str:
        return mod
    name = _tp_name(t)
    if name and "." in name:
        return name.rpartition(".")[0]
    return "?"


def _type_name(t):
    mod = _type_module(t)
    try:
        qn = _t_qualname(t)
    except Exception:
        qn = None
    if type(qn) is not str:
        qn = "?"
    return qn if mod == "builtins" else mod + "." + qn


def _key_label(k, values):
    """Edge label for a dict value stored under key k (exact str/int keys only)."""
    tk = type(k)
    if tk is str:
        if values or (len(k) <= _KEY_LABEL_MAX and _str_isidentifier(k)):
            return "[%r]" % k if values else "['" + k + "']"
        return "[<str len=%d>]" % len(k)
    if tk is int or tk is bool:
        # Decimal conversion is quadratic in the digits (and refused past 4,300 on 3.11+).
        bits = k.bit_length()
        return "[%d]" % k if bits <= _KEY_INT_BITS_MAX else "[<int bits=%d>]" % bits
    if k is None:
        return "[None]"
    return "[<%s>]" % _type_name(tk)
