"""Names as the snapshot records them: a type's module and qualified name, dict keys as
labels, and JSON quoting."""

from ._base import _KEY_LABEL_MAX, _str_isidentifier, _t_module, _t_qualname


try:  # the C accelerator of the json module: quotes and escapes a str, ASCII-only output
    from _json import encode_basestring_ascii as _js
except ImportError:  # pragma: no cover - CPython always builds _json
    from json.encoder import py_encode_basestring_ascii as _js


def _type_module(t):
    try:
        mod = _t_module(t)
    except Exception:
        mod = None
    return mod if type(mod) is str else "?"


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
        return "[%d]" % k
    if k is None:
        return "[None]"
    return "[<%s>]" % _type_name(tk)
