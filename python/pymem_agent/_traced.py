"""A capture under tracemalloc: the agent's code run where tracing it costs little.

tracemalloc records, at every allocation, the line of each frame up to its depth, and CPython
finds a frame's line by scanning its code's line table from the start: ~100 µs per
allocation in a function the size of the walk, and as much again for every long function of
the program's below the capture (a signal handler interrupts any function). Measured on
CPython 3.12, 240,000 objects: 42x the untraced capture with one frame, 112x with eight.
So under tracemalloc the capture's two long parts (the search for the allocator's tables,
the walk) each run in a thread of their own, whose stack holds two frames, with copies of the
agent's functions whose line tables are empty (their allocations are then traced at line 0);
the program's code and the agent's own functions are left as they are."""

import _thread
import sys

from ._base import _NOW, _is_own_file

# The field holding a code object's line table: co_linetable from 3.10, co_lnotab before.
_LINE_TABLE = "co_linetable" if hasattr(_is_own_file.__code__, "co_linetable") else "co_lnotab"


def _tracing():
    tm = sys.modules.get("tracemalloc")  # imported by the program, or not tracing
    try:
        return tm is not None and tm.is_tracing()
    except Exception:
        return False


def _no_lines(code):
    """`code` and the code nested in its constants, with empty line tables."""
    consts = tuple(_no_lines(c) if type(c) is type(code) else c for c in code.co_consts)
    return code.replace(co_consts=consts, **{_LINE_TABLE: b""})


def _line_free(fn, copies=None):
    """A copy of the agent's function `fn` without line tables, calling by name copies of
    the agent's functions it calls (through a copy of each module's namespace). The agent's
    classes are used as they are: their methods keep their tables."""
    if copies is None:
        copies = {}
    names = copies.get(id(fn.__globals__))
    if names is None:
        names = copies[id(fn.__globals__)] = dict(fn.__globals__)
        for name, value in fn.__globals__.items():
            if type(value) is type(fn) and _is_own_file(value.__code__.co_filename):
                names[name] = _line_free(value, copies)
    quick = type(fn)(_no_lines(fn.__code__), names, fn.__name__, fn.__defaults__, fn.__closure__)
    quick.__kwdefaults__ = fn.__kwdefaults__
    return quick


def _traced_apart(fn, args):
    """fn(*args): here when tracemalloc is not tracing; else in a new thread, line-table free,
    while this thread waits (here when the copies cannot be made or no thread can be
    started). Exceptions reach the caller."""
    if not _tracing():
        return fn(*args)
    try:
        quick = _line_free(fn)
    except Exception:
        return fn(*args)
    done = _thread.allocate_lock()
    done.acquire()
    result = []

    def run():
        _NOW.waiting = 1
        try:
            result.append((True, quick(*args)))
        except BaseException as e:  # handed to the waiting thread, which raises it
            result.append((False, e))
        finally:
            _NOW.waiting = 0
            done.release()

    try:
        _thread.start_new_thread(run, ())
    except Exception:
        return fn(*args)
    done.acquire()
    ok, value = result.pop()
    if not ok:
        raise value
    return value
