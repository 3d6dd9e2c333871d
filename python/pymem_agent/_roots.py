"""Roots of the heap: loaded modules, and the frames of every thread (with their locals)
but the agent's own; allocation tracebacks under tracemalloc."""

import sys

from ._base import _dict_items, _is_own_file
from ._names import _js


def _roots(out):
    """Modules and the frames of every thread except the agent's own."""
    w = out.write
    n = 0
    mods = sys.modules
    for name, m in list(_dict_items(mods)):
        if type(name) is str and m is not None:
            w('{"k":"root","a":%d,"kind":"module","name":%s}\n' % (id(m), _js(name)))
            n += 1
    w('{"k":"root","a":%d,"kind":"interpreter","name":"sys.modules"}\n' % id(mods))
    n += 1
    try:
        frames = sys._current_frames()
    except Exception:
        frames = {}
    # Loaded by the program or not at all: the agent imports nothing at capture time.
    threading = sys.modules.get("threading")
    # Thread names through the stdlib's own property getters (a subclass cannot intercept).
    names = {}
    try:
        for t in list(_dict_items(threading._active)):
            names[t[0]] = threading.Thread.name.fget(t[1])
    except Exception:
        pass
    for ident, f in _dict_items(frames):
        tname = names.get(ident, str(ident))
        while f is not None:
            code = f.f_code
            if not _is_own_file(code.co_filename):
                where = "thread %s: %s (%s:%d)" % (tname, code.co_name, code.co_filename, f.f_lineno)
                w('{"k":"root","a":%d,"kind":"frame","name":%s}\n' % (id(f), _js(where)))
                n += 1
                n += _frame_locals(w, f, where)
            f = f.f_back
    del frames
    return n


def _frame_locals(w, f, where):
    """Roots for a running frame's local variables (its values are not traversable edges).

    3.13 reads them through the frame's locals proxy; 3.8-3.12 through f_locals, which
    refreshes the frame's locals dict as debuggers and tracebacks do."""
    try:
        loc = f.f_locals
        if loc is f.f_globals:
            return 0  # module-level code: its variables are the module's globals
        items = list(_dict_items(loc)) if type(loc) is dict else list(loc.items())
    except Exception:
        return 0
    n = 0
    for name, value in items:
        if type(name) is str:
            w('{"k":"root","a":%d,"kind":"local","name":%s,"frame":%s}\n' % (id(value), _js(name), _js(where)))
            n += 1
    return n


def _traceback_getter():
    """tracemalloc's C-level lookup of an object's allocation traceback (frames innermost
    first), when the program is tracing; None otherwise. Never starts tracing itself."""
    tm = sys.modules.get("tracemalloc")
    if tm is None:
        return None
    try:
        if not tm.is_tracing():
            return None
        import _tracemalloc

        return _tracemalloc._get_object_traceback
    except Exception:
        return None
