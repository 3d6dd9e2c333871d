"""The walk: every object the collector knows (and the untracked ones they reference), with
its size, reference count and labelled referents, written as snapshot lines."""

import ctypes
import gc
import os
import sys

from ._base import (
    _NOW,
    _POOL_MASK,
    _POOL_OVERHEAD,
    _U64,
    _bytes_hash,
    _codetype,
    _deque,
    _dict_items,
    _dict_keys,
    _dict_len,
    _get_referents,
    _getrefcount,
    _is_own_file,
    _is_tracked,
    _mod_name,
    _modtype,
    _module_dict,
    _str_hash,
)
from ._buffers import _OUTSIDE_GETSIZEOF, _OWNED_READERS
from ._facts import FACTS
from ._kinds import (
    K_BUILTIN,
    K_BYTES,
    K_CODE,
    K_DICT,
    K_FUNC,
    K_INT,
    K_LRU,
    K_MODULE,
    K_NDARRAY,
    K_PLAIN,
    K_SIZED,
    K_STR,
    K_TYPE,
    _deque_maxlen,
    _lru_extra,
)
from ._names import _js
from ._labels import _code_edges, _dict_edges, _function_edges, _module_edges, _type_edges
from ._types import _TID_BASE, _calibrate, _sole_reference_count
from ._numpy import _numpy_arrays
from ._roots import _traceback_getter


def _capture_objects():
    """Ids of the objects this capture created before its walk (its tables, its frames'
    locals, its output file): with collection off they sit after the marker, in creation
    order, at the end of the youngest generation. Objects another thread creates meanwhile
    are there too, and are left out with them: a snapshot shows the heap as the capture
    began. Left in, the capture's own objects would look like new objects held from outside
    to a later snapshot whose capture reused their addresses."""
    mark = _NOW.mark
    young = gc.get_objects(0)
    own = {id(young)}
    for k in range(len(young) - 1, -1, -1):
        if young[k] is mark:
            own.update(map(id, young[k:]))
            break
    return own


def _json_value(v):
    """JSON text of a header value (dicts, lists, str, int, float, bool, None). Not
    json.dumps: its encoder objects would change the observed program's json classes (their
    shared attribute keys grow) and it can run user code through `default`."""
    t = type(v)
    if v is None:
        return "null"
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return "%d" % v
    if t is float:
        return repr(v) if v == v and v not in (float("inf"), float("-inf")) else "null"
    if t is str:
        return _js(v)
    if t is dict:
        return "{" + ",".join([_js(k if type(k) is str else "%s" % (k,)) + ":" + _json_value(x) for k, x in _dict_items(v)]) + "}"
    if t is list or t is tuple:
        return "[" + ",".join([_json_value(x) for x in v]) + "]"
    return _js("?")


def _interned_table(objs):
    """The id of the interpreter's interned-strings dict when the collector lists it (3.14+,
    where every dict is tracked), else None: the one dict that holds a string interned just
    now, under itself. Earlier versions never list it, so no probe string is made there."""
    if not FACTS.every_dict_tracked:
        return None
    probe = sys.intern("pymem interned probe %d %d" % (os.getpid(), id(objs)))
    for o in objs:
        if type(o) is dict and probe in o and o[probe] is probe:
            return id(o)
    return None


# Types of untracked objects, registered before the walk with those of the tracked ones.
_EAGER_TYPES = (str, bytes, int, float, complex, bool, type(None), tuple, list, dict, set, frozenset, type, _codetype)


def _held_references(own, walk_list):
    """id -> the references that the capture holds to objects of the program: from its own
    objects (the tracked objects created after the marker: its tables, closures and output
    file; all-string dict keys too, which traversal skips) and from the locals of its own
    frames. The walk subtracts them from every reference count it reads."""
    held = {}
    young = gc.get_objects(0)
    mark = _NOW.mark
    start = len(young)
    for k in range(len(young) - 1, -1, -1):
        if young[k] is mark:
            start = k
            break
    skip = {id(walk_list), id(own), id(held)}

    def count(r):
        i = id(r)
        if i not in own:
            held[i] = held.get(i, _TID_BASE) + 1  # never a cached small int (see below)

    for k in range(start, len(young)):
        x = young[k]
        if id(x) in skip:
            continue
        for r in _get_referents(x):
            count(r)
        if type(x) is dict:
            keys = list(_dict_keys(x))
            if all(type(key) is str for key in keys):
                for key in keys:
                    count(key)
    del young
    f = sys._getframe(1)
    while f is not None:
        if _is_own_file(f.f_code.co_filename):
            try:
                loc = f.f_locals
                values = list(loc.values()) if type(loc) is dict else [v for _k, v in loc.items()]
            except Exception:
                values = []
            for v in values:
                if id(v) not in skip:
                    count(v)
            del values, loc
        f = f.f_back
    return held


def _is_object(addr, type_id=id(type)):  # noqa: B008 (computed once, on purpose)
    """Whether the words at addr look like an object header (read through /proc/self/mem,
    never dereferenced): its type's type chain reaches `type` within a few steps."""
    mem = _NOW.mem
    if mem is None or addr % 8:
        return False
    raw = mem.read(addr + 8, 8)
    if raw is None:
        return False
    t = _U64.unpack(raw)[0]
    for _ in range(4):
        if not t or t % 8:
            return False
        raw = mem.read(t + 8, 8)
        if raw is None:
            return False
        meta = _U64.unpack(raw)[0]
        if meta == type_id:
            return True
        t = meta
    return False


def _permanent_objects(objs):
    """The objects of the collector's permanent generation (gc.freeze(); on 3.12 also the
    interpreter's static tuples), which gc.get_objects() leaves out: found by following the
    generation's list from one of its members (a tracked object the program references that
    gc.get_objects() did not list) through the GC headers before each object, reading them
    through /proc/self/mem and stepping over the list's head (not an object)."""
    n = gc.get_freeze_count() if hasattr(gc, "get_freeze_count") else 0
    if not n or _NOW.mem is None:
        return []
    listed = set(map(id, objs))
    start = None
    candidates = [sys.modules, sys.__dict__] + [t.__mro__ for t in (int, str, bytes, object, type, dict, list, tuple)]
    for m in list(_dict_items(sys.modules)):
        candidates.append(m[1])
    for c in candidates:
        if _is_tracked(c) and id(c) not in listed:
            start = c
            break
        try:
            inner = _mod_name(c) if type(c) is _modtype else None
        except Exception:
            inner = None
        if inner is not None and _is_tracked(inner) and id(inner) not in listed:
            start = inner
            break
    if start is None:
        return []
    first = id(start) - 16
    found = []
    g = first
    unpack = _U64.unpack
    for _ in range(n + 2):
        o = g + 16
        if o not in listed and _is_object(o):
            found.append(o)
        raw = _NOW.mem.read(g, 8)
        if raw is None:
            break
        g = unpack(raw)[0] & ~3
        if g == first or not g:
            break
    return [ctypes.cast(a, ctypes.py_object).value for a in found]


def _walk(out, types, values, pools, arenas, unsafe):
    """Every gc-tracked object plus the untracked objects they reference, one line each.

    One loop over gc.get_objects(), to which untracked referents are appended as they are
    found (list iteration picks them up): every object is then held exactly once by the
    list and once by the loop variable, so one measured offset corrects every count."""
    w = out.write
    objs = gc.get_objects()
    objs.extend(_permanent_objects(objs))
    tget = types.get
    tpre = types.pre
    tkind = types.kind
    tlabeller = types.labeller.get
    towned = types.owned
    texternal = types.has_external
    tids = types.ids
    readers = _OWNED_READERS
    immortal = 1 << 31 if FACTS.immortal_refcounts else 1 << 62
    pget = pools.get
    mask = _POOL_MASK
    overhead = _POOL_OVERHEAD
    is_tracked = _is_tracked
    getrefcount = _getrefcount
    get_referents = _get_referents
    seen_untracked = set()
    add_seen = seen_untracked.add
    push = objs.append
    n_refs = skipped = changed = 0
    own = _capture_objects()
    own.update((id(objs), id(seen_untracked), id(pools), id(types.ids)))
    # The allocator tables read for this capture, and the output file's objects: not the
    # program's (a later snapshot would see them as new objects held from outside).
    own.update(map(id, pools.values()))
    for arena in arenas or ():
        own.add(id(arena))
        own.add(id(arena[4]))
        own.update(map(id, arena[4]))
    own.add(id(arenas))
    f = out
    while f is not None and id(f) not in own:
        own.add(id(f))
        f = getattr(f, "buffer", None) or getattr(f, "raw", None)
    interned = _interned_table(objs)
    types.ndarray, ndarray_edges = _numpy_arrays()
    # Every type met now, so that the type table (its closures, its tables) is complete
    # before any reference count is read; then the references the capture itself holds.
    for o in objs:
        tget(type(o))
    for t in _EAGER_TYPES:
        tget(t)
    o = None
    # The counts are offset by _TID_BASE: as small ints they would be references of the
    # capture to the program's 1 and 2, thousands of them.
    held = _held_references(own, objs).get
    rc_adjust = _calibrate()
    # An untracked object referenced once can be met only once, so it needs no entry in
    # seen_untracked, but only while no other thread runs: another thread can take a second
    # reference to it while the walk goes on (the walk releases the GIL), and it would then
    # be met again. With other threads, every untracked object is remembered. From 3.14 a
    # frame's stack can hold borrowed references (not counted), so a count no longer says
    # that the referent has one holder: there, too, every untracked object is remembered.
    try:
        alone = len(sys._current_frames()) <= 1 + _NOW.waiting
    except Exception:
        alone = False
    sole = _sole_reference_count() if alone and not FACTS.stack_refs_borrowed else -1
    js = _js
    tb_of = _traceback_getter()
    tb_ids = {}

    def tb_extra(o):
        """`,"tb":N` for a traced object, writing the traceback record the first time."""
        frames = tb_of(o)
        if frames is None:
            return ""
        n = tb_ids.get(frames)
        if n is None:
            n = tb_ids[frames] = len(tb_ids)
            w('{"k":"tb","id":%d,"f":[%s]}\n' % (n, ",".join(["[%s,%d]" % (js(f), ln) for f, ln in frames])))
        return ',"tb":%d' % n

    refs = r = t = None
    for o in objs:
        # The previous object's referents, last referent and type must not count as
        # references to this one (an object right after its owner in the walk).
        refs = r = t = None
        rc = getrefcount(o)  # own statement: a call argument list would hold one more
        t = type(o)
        tid = tids.get(id(t))
        a = id(o)
        if a in own:  # the agent's own tables
            skipped += 1
            continue
        if tid is None:
            tid = tget(t)
        else:
            tid -= _TID_BASE
        # Reference count without the walk's own references (immortal objects: as reported).
        rc = rc if rc >= immortal else rc - rc_adjust - held(a, _TID_BASE) + _TID_BASE
        if rc < 0:
            # Another thread dropped references after the capture counted its own: the
            # count changed during the capture. Recorded as 0, and counted in the end record.
            rc = 0
            changed += 1
        block = a - tpre[tid]
        pool = block & mask
        info = pget(pool)
        if info is not None and (block - pool - overhead) % info[0] == 0 and block - pool < info[1]:
            size = info[0]
            code = towned[tid]
            reader = readers[code] if code else None
            external = texternal[tid]
        else:
            size = types.size(tid, o)  # sys.getsizeof: memory outside the object included
            code = towned[tid]
            reader = readers[code] if code >= _OUTSIDE_GETSIZEOF else None
            external = False
        kind = tkind[tid]
        if kind >= K_INT:  # leaves: str, bytes, int, float have no referents
            if kind == K_STR:
                extra = ',"n":%d,"h":%d' % (len(o), _str_hash(o))
                if values:
                    extra += ',"v":' + _json_value(o)
            elif kind == K_INT:
                extra = ',"v":%d' % o if values and -(1 << 53) < o < 1 << 53 else ""
            elif kind == K_BYTES:
                extra = ',"n":%d,"h":%d' % (len(o), _bytes_hash(o))
                if values:
                    extra += ',"v":' + _json_value(o.decode("latin-1"))
            else:
                extra = ',"v":%r' % o if values and o - o == 0.0 else ""
            if tb_of is not None:
                extra += tb_extra(o)
            w('{"k":"o","a":%d,"t":%d,"s":%d,"rc":%d,"r":[]%s}\n' % (a, tid, size, rc, extra))
            continue
        refs = get_referents(o) if a not in unsafe else [_module_dict(o)]
        extra = ""
        labels = None
        if kind == K_PLAIN:
            labeller = tlabeller(tid + _TID_BASE)
            if labeller is not None:
                labels = labeller(o, refs)
        elif kind == K_SIZED:
            extra = ',"n":%d' % len(o)
            if t is list or t is tuple:
                # Index order (some versions traverse from the end), in a fresh container:
                # the sole-reference test below counts on one.
                refs = list(o)
            elif t is _deque:
                bound = _deque_maxlen(o)
                if bound is not None:
                    extra += ',"bound":%d' % bound
        elif a == interned:
            # The interpreter's table of interned strings: its references are not counted
            # in the strings' reference counts (and do not keep them alive), so none is an edge.
            refs = ()
            extra = ',"n":%d' % len(o)
        elif kind == K_DICT:
            refs, labels = _dict_edges(o, refs, values, t is dict)
            extra = ',"n":%d' % (len(o) if t is dict else _dict_len(o))  # C-level for subclasses
        elif kind == K_FUNC:
            extra, labels = _function_edges(o, refs)
        elif kind == K_TYPE:
            extra, labels = _type_edges(o, refs)
        elif kind == K_MODULE:
            extra, labels = _module_edges(o, refs)
        elif kind == K_CODE:
            extra, refs, labels = _code_edges(o)
        elif kind == K_LRU:
            extra = _lru_extra(o)
            labeller = tlabeller(tid + _TID_BASE)
            if labeller is not None:
                labels = labeller(o, refs)
        elif kind == K_NDARRAY:
            refs, labels = ndarray_edges(o, refs)
        elif kind == K_BUILTIN:
            extra = ',"name":%s' % js(o.__name__)
        buf = reader(o, pget) if reader is not None else ()
        if external:
            # What the type's C __sizeof__ counts beyond the block and the buffers read:
            # address 0, where it lies is not known.
            outside = types.external_bytes(tid, o, size + sum([b[1] for b in buf]))
            if outside:
                buf = list(buf)
                buf.append((0, outside))
        if buf:
            extra += ',"b":[%s]' % ",".join(["[%d,%d]" % b for b in buf])
        if tb_of is not None:
            extra += tb_extra(o)
        if refs:
            n_refs += len(refs)
            if labels is not None:
                extra += ',"l":[%s]' % ",".join(["null" if x is None else js(x) for x in labels])
            w(
                '{"k":"o","a":%d,"t":%d,"s":%d,"rc":%d,"r":[%s]%s}\n'
                % (a, tid, size, rc, ",".join(map(str, map(id, refs))), extra)
            )
            for r in refs:
                if not is_tracked(r):
                    if getrefcount(r) == sole:
                        push(r)  # its only reference is this one: it cannot be met again
                        continue
                    ri = id(r)
                    if ri not in seen_untracked:
                        add_seen(ri)
                        push(r)
        else:
            w('{"k":"o","a":%d,"t":%d,"s":%d,"rc":%d,"r":[]%s}\n' % (a, tid, size, rc, extra))
    return len(objs) - skipped, n_refs, changed
