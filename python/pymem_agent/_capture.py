"""dump(): one capture at a time, collection off, allocator state first, then the header,
the objects, the roots and the end record, written to a temporary file and renamed."""

import _thread
import gc
import os
import sys
import time

from ._base import FORMAT, VERSION, _ARENA_SIZE, _NOW
from ._memory import _Memory
from ._process import _process_memory
from ._allocator import (
    _AllocatorReader,
    _allocator_info,
    _detect_debug_shift,
    _locate_allocator,
    _mallocstats_text,
    _parse_mallocstats,
    _rss,
    _scratch_fd,
)
from ._support import UnsupportedPython, _unsafe_traversals, _unsupported
from ._types import _Types
from ._roots import _roots, _traceback_getter
from ._traced import _traced_apart
from ._walk import _json_value, _walk


def dump(path, *, values=False, collect=False):
    """Write a snapshot of this process's heap to `path`; return a summary dict.

    values=True also records string/bytes contents and all dict key names (private data).
    collect=True runs gc.collect() first (off by default: it changes what is measured).
    Raises UnsupportedPython, before touching anything, on an interpreter pymem cannot
    capture soundly.
    """
    # One capture at a time in a process: another thread waits for its turn; a capture
    # started again in the thread that is capturing (a signal handler firing mid-capture)
    # is refused, since it cannot wait for itself. Nothing the collector tracks is made
    # before the collector is off (inside the lock, in _dump_alone).
    me = _thread.get_ident()
    if _CAPTURE_OWNER[0] == me:
        raise CaptureBusy("a capture is already running in this thread; this one was not taken")
    # acquire/release, not `with`: a `with` block keeps the lock's bound __exit__ alive on
    # the frame, an object of the agent's that the snapshot would show.
    _CAPTURE_LOCK.acquire()
    try:
        _CAPTURE_OWNER[0] = me
        return _dump_alone(path, values, collect)
    finally:
        _CAPTURE_OWNER[0] = None
        _CAPTURE_LOCK.release()


class CaptureBusy(RuntimeError):
    """dump() was called again from inside a capture (by a signal handler)."""


_CAPTURE_LOCK = _thread.allocate_lock()
_CAPTURE_OWNER = [None]  # the thread whose capture holds the lock


def _dump_alone(path, values, collect):
    # No automatic collection may run during the capture (it would change what is
    # measured), its checks included: the collector is off first, and on again last.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        why = _unsupported()
        if why is not None:
            raise UnsupportedPython(why)
        t0 = time.time()
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        # Named per process and per thread: never shared by two captures.
        tmp = os.path.join(
            directory, ".%s.%d.%d.partial" % (os.path.basename(path), os.getpid(), _thread.get_ident())
        )
        if collect:
            gc.collect()
        # Everything tracked after this marker in the youngest generation is the capture's own.
        _NOW.mark = [None]
        try:
            return _dump(path, tmp, values, t0)
        finally:
            _NOW.mark = None
    finally:
        if gc_was_enabled:
            gc.enable()


def _dump(path, tmp, values, t0):
    missing = []
    unsafe = _unsafe_traversals()
    missing.extend(unsafe.values())
    mem = None
    try:
        mem = _Memory()
    except OSError as e:
        missing.append("pools: /proc/self/mem unreadable (%s)" % e.strerror)

    # Allocator state first (the capture itself allocates): locate, then read next to the figures.
    where = None
    if mem is not None and hasattr(sys, "_debugmallocstats"):
        try:
            where, why = _traced_apart(_locate_allocator, (mem,))
        except Exception as e:  # never let allocator archaeology kill the capture
            where, why = None, "%s: %s" % (type(e).__name__, e)
    arenas = None
    reader = _AllocatorReader(mem, where) if where is not None else None
    stats_fd = _scratch_fd(os.path.dirname(tmp))
    try:
        raw_stats = _mallocstats_text(stats_fd)
        if reader is not None:
            reader.capture()
    finally:
        os.close(stats_fd)
    if reader is not None:
        arenas = reader.arenas()
        del reader
    stats = _parse_mallocstats(raw_stats)
    pymalloc = bool(stats and stats["pymalloc"])
    if not pymalloc and _traceback_getter() is not None and arenas:
        # tracemalloc wraps the allocator, and _debugmallocstats() then prints nothing; the
        # arena table found in the image is pymalloc's, still underneath.
        pymalloc = True
        stats = None
        missing.append("mallocstats: sys._debugmallocstats() prints nothing while tracemalloc is tracing")
    debug_shift = 0
    if not pymalloc:
        missing.append("pools: pymalloc is not the allocator in use")
        arenas = None
    elif where is None:
        missing.append("pools: " + (why if mem is not None else "no /proc/self/mem"))
    elif arenas is None:
        missing.append("pools: arena table unreadable")
    pools = {}
    if arenas:
        for _addr, _idx, _nt, _nf, plist in arenas:
            for p, szidx, count, nextoffset in plist:
                if count:
                    pools[p] = ((szidx + 1) * 16, nextoffset)
        debug_shift = _detect_debug_shift(pools)
    _NOW.mem = mem
    try:
        with open(tmp, "w", encoding="utf-8", buffering=1 << 20) as out:
            counts = _write(out, path, values, stats, arenas, pools, debug_shift, missing, t0, unsafe)
        if isinstance(path, str) and path.endswith(".gz"):
            _gzip_in_place(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    finally:
        _NOW.mem = None
        if mem is not None:
            mem.close()
    counts["path"] = path
    counts["seconds"] = round(time.time() - t0, 3)
    return counts


def _gzip_in_place(tmp):
    """Compress the finished snapshot `tmp` in place (gzip, as `.gz` names ask): after the
    walk, so that the heap is not held still while compressing."""
    import zlib

    packed = tmp + ".z"
    try:
        z = zlib.compressobj(1, zlib.DEFLATED, 31)  # wbits 31: the gzip format
        with open(tmp, "rb") as src, open(packed, "wb") as dst:
            while True:
                chunk = src.read(1 << 20)
                if not chunk:
                    break
                dst.write(z.compress(chunk))
            dst.write(z.flush())
        os.replace(packed, tmp)
    except BaseException:
        try:
            os.unlink(packed)
        except OSError:
            pass
        raise


def _write(out, path, values, stats, arenas, pools, debug_shift, missing, t0, unsafe):
    w = out.write
    header = {
        "k": "header",
        "format": FORMAT,
        "version": VERSION,
        "python": {
            "version": "%d.%d.%d" % sys.version_info[:3],
            "implementation": sys.implementation.name,
            "hexversion": sys.hexversion,
            "build": sys.version,
            "platform": sys.platform,
        },
        "allocator": _allocator_info(stats, debug_shift, bool(pools)),
        "pid": os.getpid(),
        "argv": [a if type(a) is str else "?" for a in sys.argv],
        "time": t0,
        "rss": _rss(),
        "memory": _process_memory(arenas, _ARENA_SIZE),
        "values": bool(values),
        "mallocstats": stats,
        "recorded": {
            "objects": True,
            "refs": True,
            "labels": True,
            "pools": arenas is not None,
            "values": bool(values),
            "tracebacks": _traceback_getter() is not None,
        },
        "missing": missing
        + (
            []
            if _traceback_getter() is not None
            else ["tracebacks: tracemalloc was not tracing (start it, or use pymem run --tracemalloc N)"]
        ),
    }
    w(_json_value(header) + "\n")
    n_arenas = n_pools = 0
    for address, idx, ntotal, nfree, plist in arenas or ():
        n_arenas += 1
        n_pools += len(plist)
        w(
            '{"k":"arena","a":%d,"index":%d,"ntotal":%d,"nfree":%d,"pools":[%s]}\n'
            % (address, idx, ntotal, nfree, ",".join("[%d,%d,%d,%d]" % p for p in plist))
        )
    types = _Types(out, debug_shift)
    walk_args = (out, types, values, pools, arenas, frozenset(unsafe))
    n_obj, n_refs, n_changed = _traced_apart(_walk, walk_args)
    n_roots = _roots(out)
    w(
        '{"k":"end","objects":%d,"refs":%d,"types":%d,"arenas":%d,"pools":%d,"roots":%d,"elapsed":%.3f,"rc_changed":%d}\n'
        % (n_obj, n_refs, len(types.pre), n_arenas, n_pools, n_roots, time.time() - t0, n_changed)
    )
    return {"objects": n_obj, "refs": n_refs, "types": len(types.pre), "arenas": n_arenas}
