"""numpy's arrays, when the program loaded numpy (the agent never imports it): a view's base,
and the objects in an object array's data, as references, read with numpy's own C-level
descriptors (no Python code of numpy's or the program's runs). Their data is counted as
their own memory by the type's C __sizeof__ (_types)."""

import sys

from ._base import _modtype, _module_dict, _t_mro, _t_ns

_NPY_OBJECT = 17  # dtype.num of dtype=object


def _numpy_arrays():
    """(numpy.ndarray, edges) when numpy is loaded and looks as expected, else (None, None).
    edges(array, refs) -> (refs, labels) adds `.base` for a view, and `[i]` for each item
    of an object array that owns its data (a view's items are its base's)."""
    np = sys.modules.get("numpy")
    if type(np) is not _modtype:
        return None, None
    try:
        ns = _module_dict(np)
        ndarray, dtype = ns.get("ndarray"), ns.get("dtype")
        if type not in _t_mro(type(ndarray)) or type not in _t_mro(type(dtype)):
            return None, None
        arr, dt = _t_ns(ndarray), _t_ns(dtype)
        base_of = arr["base"].__get__
        dtype_of = arr["dtype"].__get__
        flat_of = arr["flat"].__get__
        num_of = dt["num"].__get__
    except Exception:
        return None, None

    def edges(o, refs):
        refs = list(refs)
        labels = [None] * len(refs)
        try:
            base = base_of(o)
            if base is not None:
                refs.append(base)
                labels.append(".base")
            elif num_of(dtype_of(o)) == _NPY_OBJECT:
                items = list(flat_of(o))
                refs.extend(items)
                labels.extend(["[%d]" % i for i in range(len(items))])
                del items
        except Exception:
            pass
        return refs, labels

    return ndarray, edges
