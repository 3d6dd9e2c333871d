"""pymem capture agent: writes a heap snapshot of the running CPython process.

Stdlib only, CPython 3.8-3.15 (GIL builds; 3.14.5 and later). Shipped inside the `pymem` binary; `pymem agent --write DIR`
puts this file on disk. Use:

    import pymem_agent
    pymem_agent.dump("heap.jsonl")            # -> dict with counts and the final path

The snapshot format (JSON Lines, "pymem-snapshot" version 1) is documented in the rustdoc of
pymem's `snapshot` module. Rules this module keeps, each covered by pymem's tests:

* it never runs user code: no repr/len/getattr/hash/eq on arbitrary objects; only the C-level
  slots of exact builtin types, `gc.get_referents`, and reads of validated memory;
* it never materialises instance dicts and never calls gc.collect() unless collect=True;
* it reads allocator memory only through /proc/self/mem (a bad address is an error, not a
  crash) and validates every pool header before using it;
* it writes to a temporary file beside the target and renames it only when complete.
"""

import _collections
import _thread
import _struct
import array
import ctypes
import gc
import json
import os
import re
import sys
import time

FORMAT = "pymem-snapshot"
VERSION = 1

_V = sys.version_info[:2]
_HAVE_GC = 1 << 14
_MANAGED_DICT = 1 << 4
_MANAGED_WEAKREF = 1 << 3
_INLINE_VALUES = 1 << 2
_HEAPTYPE = 1 << 9
_POOL_OVERHEAD = 48
_NB_CLASSES = 32
if _V >= (3, 10):
    _ARENA_SIZE, _POOL_SIZE = 1 << 20, 1 << 14
else:
    _ARENA_SIZE, _POOL_SIZE = 1 << 18, 1 << 12
_POOL_MASK = ~(_POOL_SIZE - 1)

# Descriptors read straight from `type` so a metaclass cannot intercept them.
_tdict = type.__dict__
_t_flags = _tdict["__flags__"].__get__
_t_basicsize = _tdict["__basicsize__"].__get__
_t_itemsize = _tdict["__itemsize__"].__get__
_t_qualname = _tdict["__qualname__"].__get__
_t_module = _tdict["__module__"].__get__
_t_mro_slot = _tdict["__mro__"].__get__


def _t_mro(t):
    """The MRO; (t,) for a C type never readied (3.8's lru_list_elem has no tp_mro)."""
    return _t_mro_slot(t) or (t,)


_t_ns = _tdict["__dict__"].__get__
_dict_items = dict.items
_dict_len = dict.__len__
_dict_keys = dict.keys
_str_isidentifier = str.isidentifier
_getrefcount = sys.getrefcount
_get_referents = gc.get_referents
_module_dict = type(sys).__dict__["__dict__"].__get__  # C getset: md_dict, no user code
_is_tracked = gc.is_tracked
_getsizeof = sys.getsizeof
_modtype = type(sys)
_deque = _collections.deque
_functype = type(lambda: 0)
_codetype = type((lambda: 0).__code__)
_builtin_fn_type = type(len)
_mod_name = _modtype.__dict__["__dict__"].__get__
_str_hash = str.__hash__
_bytes_hash = bytes.__hash__
_KEY_LABEL_MAX = 64


_STRUCTS = {}


def _S(fmt):
    """A compiled struct format. Not struct.unpack(fmt, ...): that fills the struct module's
    cache, which a later snapshot would report as new objects of the observed program."""
    s = _STRUCTS.get(fmt)
    if s is None:
        s = _STRUCTS[fmt] = _struct.Struct(fmt)
    return s


def _raw_buffer(n):
    """A writable n-byte buffer and its address. A bytearray, not a ctypes array: every new
    ctypes array length creates a type that ctypes caches for the life of the process."""
    buf = bytearray(n)
    return buf, ctypes.addressof(ctypes.c_char.from_buffer(buf))


_PREAD = []


def _libc_pread():
    """libc's pread through ctypes.pythonapi (a PyDLL, which keeps the GIL during the call),
    made once per process. Built from pythonapi's own function-pointer class: a new PyDLL
    would define a new class (and a subclass entry in ctypes' base), and pythonapi.pread
    would cache the function on pythonapi where the program might meet it."""
    if not _PREAD:
        try:
            api = ctypes.pythonapi
            fn = api._FuncPtr(("pread", api))
            fn.restype = ctypes.c_ssize_t
            fn.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_long]
            _PREAD.append(fn)
        except Exception:
            _PREAD.append(None)
    return _PREAD[0]


class _Memory:
    """Reads process memory through /proc/self/mem: an unmapped address fails, never faults."""

    def __init__(self):
        self.fd = os.open("/proc/self/mem", os.O_RDONLY)
        self._pread = _libc_pread()
        if self._pread is not None:
            self._buf, self._buf_addr = _raw_buffer(4096)

    def read(self, addr, n):
        if addr <= 0 or addr >= 1 << 63:
            return None
        if self._pread is not None and n <= 4096:
            got = self._pread(self.fd, self._buf_addr, n, addr)
            if got != n:
                return None
            return bytes(self._buf[:n])
        try:
            data = os.pread(self.fd, n, addr)
        except OSError:
            return None
        return data if len(data) == n else None

    def close(self):
        os.close(self.fd)


def _u64s(data):
    a = array.array("Q")
    a.frombytes(data[: len(data) - len(data) % 8])
    return a


def _pool_header(mem, pool):
    """Parse and validate a pool header; None when it is not a plausible pool."""
    raw = mem.read(pool, _POOL_OVERHEAD)
    return None if raw is None else _parse_pool_header(raw, pool)


def _parse_pool_header(raw, pool):
    count, freeblock, _nxt, _prv, arenaindex, szidx, nextoffset, maxnext = _S("<I4xQQQIIII").unpack(raw)
    if szidx >= _NB_CLASSES:
        return None
    size = (szidx + 1) * 16
    if maxnext != _POOL_SIZE - size:
        return None
    if nextoffset < _POOL_OVERHEAD + size or nextoffset > _POOL_SIZE:
        return None
    if (nextoffset - _POOL_OVERHEAD) % size:
        return None
    capacity = (_POOL_SIZE - _POOL_OVERHEAD) // size
    if count > capacity:
        return None
    if freeblock and not (
        pool + _POOL_OVERHEAD <= freeblock < pool + _POOL_SIZE
        and (freeblock - pool - _POOL_OVERHEAD) % size == 0
    ):
        return None
    return (count, arenaindex, szidx, nextoffset)


def _image_segments():
    """Writable memory of the interpreter image (binary or libpython) plus its bss."""
    exe = os.path.realpath(sys.executable)
    segs, prev_img = [], False
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            path = parts[5] if len(parts) > 5 else ""
            is_img = path == exe or "libpython" in path
            if parts[1].startswith("rw"):
                if is_img or (prev_img and not path):
                    segs.append((lo, hi))
            prev_img = is_img or (prev_img and not path and parts[1].startswith("rw"))
    return segs


def _find_usedpools(mem):
    """Locate `usedpools`: 32 pairs, each self-pointing (empty class) or two pool addresses
    whose headers carry that size class. Return (address, its 64 words, (segment, words))."""
    for lo, hi in _image_segments():
        data = mem.read(lo, hi - lo)
        if data is None:
            continue
        w = _u64s(data)
        n = len(w)
        run = 0
        for i in range(n):
            v = w[i]
            if (v and v % _POOL_SIZE == 0) or v == lo + 8 * i - 16 or v == lo + 8 * i - 24:
                run += 1
                continue
            if run >= 64:
                found = _usedpools_in_run(mem, lo, w, i - run, i)
                if found is not None:
                    return found[0], found[1], (lo, w)
            run = 0
        if run >= 64:
            found = _usedpools_in_run(mem, lo, w, n - run, n)
            if found is not None:
                return found[0], found[1], (lo, w)
    return None


def _usedpools_in_run(mem, lo, w, first, stop):
    for j in range(first, stop - 63):
        base = lo + 8 * j
        used = []
        for c in range(_NB_CLASSES):
            a, b = w[j + 2 * c], w[j + 2 * c + 1]
            me = base + 16 * c - 16
            if a == me and b == me:
                continue
            if a and b and a % _POOL_SIZE == 0 and b % _POOL_SIZE == 0:
                used.append((c, a, b))
                continue
            break
        else:
            if not used:
                continue
            ok = True
            for c, a, b in used:
                ha, hb = _pool_header(mem, a), _pool_header(mem, b)
                if ha is None or hb is None or ha[2] != c or hb[2] != c:
                    ok = False
                    break
            if ok:
                return base, w[j : j + 64]
    return None


def _find_arenas(mem, usedpools_addr, used_words, seg):
    """Locate the words holding `arenas` and `maxarenas`; return their addresses or None."""
    # Known (pool, arenaindex) pairs from the used rings, re-read now: the scan's copy is stale.
    fresh = mem.read(usedpools_addr, 512)
    if fresh is not None:
        used_words = _u64s(fresh)
    known = []
    for c in range(_NB_CLASSES):
        a = used_words[2 * c]
        if a != usedpools_addr + 16 * c - 16:
            h = _pool_header(mem, a)
            if h is not None:
                known.append((a, h[1]))
    if not known:
        return None

    def fits(ptr):
        for pool, idx in known:
            raw = mem.read(ptr + 48 * idx, 24)
            if raw is None:
                return False
            base, pool_address, nfree, ntotal = _S("<QQII").unpack(raw)
            if not (base and base % 4096 == 0 and base <= pool < base + _ARENA_SIZE):
                return False
            if not (base < pool_address <= base + _ARENA_SIZE and nfree <= ntotal <= 64):
                return False
        return True

    if _V >= (3, 12):
        raw = mem.read(usedpools_addr + 512, 12)
        if raw is not None:
            ptr, maxa = _S("<QI").unpack(raw)
            if ptr and fits(ptr):
                return usedpools_addr + 512, usedpools_addr + 520
    top = max(idx for _p, idx in known)
    # Pointer words of every writable image segment (bss may be its own mapping), nearest first.
    cands = []
    segs = [seg]
    for lo, hi in _image_segments():
        if lo != seg[0]:
            data = mem.read(lo, hi - lo)
            if data is not None:
                segs.append((lo, _u64s(data)))
    for lo, w in segs:
        for i in range(len(w)):
            ptr = w[i]
            if ptr and not ptr % 8 and ptr != usedpools_addr:
                cands.append((abs(lo + 8 * i - usedpools_addr), i, lo, w))
    cands.sort(key=lambda c: c[0])
    fallback = None
    for _dist, i, lo, w in cands:
        # Re-read the words: this scan allocates, and a new arena can move the vector
        # (and grow maxarenas) after the segment was copied.
        first = max(0, i - 4)
        raw = mem.read(lo + 8 * first, 8 * (min(len(w), i + 5) - first))
        if raw is None:
            continue
        now = _u64s(raw)
        k = i - first
        if not fits(now[k]):
            continue
        # maxarenas is a uint next to the pointer (16 * 2**k, above every index in use).
        for off in (1, -1, 2, -2, 3, -3, 4, -4):
            jj = k + off
            if 0 <= jj < len(now):
                for half, m in ((0, now[jj] & 0xFFFFFFFF), (4, now[jj] >> 32)):
                    if m > top and m >= 16 and m & (m - 1) == 0 and m <= 1 << 24:
                        return lo + 8 * i, lo + 8 * (first + jj) + half
        if fallback is None:
            fallback = (lo + 8 * i, None)
    return fallback


def _locate_allocator(mem):
    """Where pymalloc keeps its arena table: (arenas word, maxarenas word or None), or (None, why).

    Allocation-heavy (it scans the image), so it runs before the figures are taken."""
    found = _find_usedpools(mem)
    if found is None:
        return None, "usedpools not found in the interpreter image"
    up_addr, used_words, seg = found
    where = _find_arenas(mem, up_addr, used_words, seg)
    if where is None:
        return None, "arenas vector not found"
    return where, None


class _AllocatorReader:
    """Reads the arena table and every pool header into buffers allocated up front, so that
    reading them does not itself allocate pymalloc blocks (which would skew the figures)."""

    def __init__(self, mem, where):
        self.mem = mem
        self.arenas_word, self.maxarenas_word = where
        raw = mem.read(self.maxarenas_word, 4) if self.maxarenas_word else None
        cap = _S("<I").unpack(raw)[0] if raw else 1 << 12
        self.cap = max(16, cap) * 2
        self.arena_buf, self.arena_addr = _raw_buffer(self.cap * 48)
        self.pool_buf, self.pool_addr = _raw_buffer(self.cap * 64 * _POOL_OVERHEAD)
        self.narenas = 0
        self.npools = 0
        self.ok = False

    def capture(self):
        """The allocation-light part: two preads, then one per carved pool."""
        mem, fn, fd = self.mem, self.mem._pread, self.mem.fd
        if fn is None:
            return
        word = ctypes.c_uint64()
        if fn(fd, ctypes.byref(word), 8, self.arenas_word) != 8:
            return
        limit = self.cap
        if self.maxarenas_word:
            m = ctypes.c_uint32()
            if fn(fd, ctypes.byref(m), 4, self.maxarenas_word) != 4 or m.value > limit:
                return
            limit = m.value
        if fn(fd, self.arena_addr, limit * 48, word.value) != limit * 48:
            return
        self.narenas = limit
        base = self.pool_addr
        a = memoryview(self.arena_buf).cast("Q")
        k = 0
        for i in range(limit):
            address = a[6 * i]
            if not address:
                continue
            pool_address = a[6 * i + 1]
            p = (address + _POOL_SIZE - 1) & _POOL_MASK
            while p < pool_address and p + _POOL_SIZE <= address + _ARENA_SIZE and k < self.cap * 64:
                if fn(fd, base + k * _POOL_OVERHEAD, _POOL_OVERHEAD, p) != _POOL_OVERHEAD:
                    self.pool_buf[k * _POOL_OVERHEAD] = 0xFF  # unreadable: fails validation
                k += 1
                p += _POOL_SIZE
        self.npools = k
        self.ok = True

    def arenas(self):
        """[(address, index, ntotal, nfree, [(pool, szidx, count, nextoffset), ...])]"""
        if not self.ok:
            return None
        out = []
        k = 0
        raw = bytes(self.arena_buf)
        pools = bytes(self.pool_buf[: self.npools * _POOL_OVERHEAD])
        for i in range(self.narenas):
            address, pool_address, nfree, ntotal = _S("<QQII").unpack_from(raw, 48 * i)
            if not address:
                continue
            if not (address <= pool_address <= address + _ARENA_SIZE and nfree <= ntotal <= 64):
                continue
            plist = []
            p = (address + _POOL_SIZE - 1) & _POOL_MASK
            while p < pool_address and p + _POOL_SIZE <= address + _ARENA_SIZE and k < self.npools:
                h = _parse_pool_header(pools[k * _POOL_OVERHEAD : (k + 1) * _POOL_OVERHEAD], p)
                if h is not None and h[1] == i:
                    plist.append((p, h[2], h[0], h[3]))
                k += 1
                p += _POOL_SIZE
            out.append((address, i, ntotal, nfree, plist))
        return out


_STAT_LINE = re.compile(r"^# ?([a-z][a-z ]+?)\s+=\s+([\d,]+)\s*$")
_CLASS_LINE = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$")
_FREE_LINE = re.compile(r"^\s*(\d+) free (?:(\d+)-sized )?(\w+) \* (\d+) bytes each")


def _scratch_fd(directory):
    """An unnamed read-write file (no tempfile import: the agent must not load modules)."""
    try:
        return os.open(directory, os.O_TMPFILE | os.O_RDWR, 0o600)
    except (AttributeError, OSError):
        name = os.path.join(directory, ".pymem-stats.%d" % os.getpid())
        fd = os.open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        os.unlink(name)
        return fd


def _mallocstats_text(fd):
    """Raw sys._debugmallocstats() output (written to C stderr; fd 2 is redirected briefly
    to the scratch file `fd`)."""
    if not hasattr(sys, "_debugmallocstats"):
        return None
    try:
        sys.stderr.flush()
    except Exception:
        pass
    saved = os.dup(2)
    try:
        os.dup2(fd, 2)
        sys._debugmallocstats()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _parse_mallocstats(raw):
    if raw is None:
        return None
    text = raw.decode("ascii", "replace")
    out = {"pymalloc": "Small block threshold" in text, "classes": [], "counters": {}, "free_lists": {}, "free_list_bytes": {}}
    for line in text.splitlines():
        m = _CLASS_LINE.match(line)
        if m:
            out["classes"].append([int(g) for g in m.groups()])
            continue
        m = _STAT_LINE.match(line)
        if m:
            out["counters"][m.group(1).strip().replace(" ", "_")] = int(m.group(2).replace(",", ""))
            continue
        m = _FREE_LINE.match(line)
        if m:
            key = m.group(3) + ("[%s]" % m.group(2) if m.group(2) else "")
            out["free_lists"][key] = int(m.group(1))
            out["free_list_bytes"][key] = int(m.group(4))
    out["blocks_in_use"] = sum(c[3] for c in out["classes"])
    return out


def _rss():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except Exception:
        return None


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
        self.kind = bytearray()
        self.owned = bytearray()  # index into _OWNED_READERS
        self.labeller = {}  # type id + _TID_BASE -> labeller
        self.held = {}  # id(object) -> references the capture's tables hold to it
        self.debug_shift = debug_shift

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
        if _V == (3, 11) and flags & _MANAGED_DICT:
            pre += 16
        elif _V >= (3, 12) and flags & (_MANAGED_DICT | _MANAGED_WEAKREF):
            pre += 16
        self.pre.append(pre + self.debug_shift)
        self.sizer.append(self._sizer(t, flags, tid))
        self.kind.append(_kind_of(t))
        reader = _owned_reader(t)
        if reader == 0 and _V in ((3, 11), (3, 12)) and flags & _MANAGED_DICT:
            reader = _OWN_VALUES
        self.owned.append(reader)
        try:
            labeller = _make_labeller(t, flags, self)
        except Exception:
            labeller = None
        if labeller is not None:
            self.labeller[tid + _TID_BASE] = labeller
        name = _type_name(t)
        module = _type_module(t)
        self.out.write(
            '{"k":"type","id":%d,"a":%d,"name":%s,"module":%s,"flags":%d,"basicsize":%d,"itemsize":%d,"pre":%d}\n'
            % (tid, key, _js(name), _js(module), flags, _t_basicsize(t), _t_itemsize(t), pre)
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


class UnsupportedPython(RuntimeError):
    """This interpreter is not one pymem can capture soundly."""


def _unsupported():
    """Why this interpreter cannot be captured, or None. The agent was tested on CPython
    3.8-3.15 with the GIL; 3.14.0-3.14.4 shipped a different (incremental) collector, which
    3.14.5 reverted; free-threaded builds have no GC header and no pymalloc."""
    v = sys.version_info
    name = "%s %d.%d.%d" % (sys.implementation.name, v[0], v[1], v[2])
    if sys.implementation.name != "cpython":
        return "%s is not CPython" % name
    if "t" in getattr(sys, "abiflags", ""):
        return "%s is a free-threaded build (no GIL), which pymem does not support yet" % name
    if not (3, 8) <= v[:2] <= (3, 15):
        return "%s is not supported: pymem captures CPython 3.8-3.15" % name
    if v[:2] == (3, 14) and v[2] < 5:
        return "%s is not supported: 3.14.0-3.14.4 have the incremental collector, pymem supports 3.14.5 and later" % name
    return None


def dump(path, *, values=False, collect=False):
    """Write a snapshot of this process's heap to `path`; return a summary dict.

    values=True also records string/bytes contents and all dict key names (private data).
    collect=True runs gc.collect() first (off by default: it changes what is measured).
    Raises UnsupportedPython, before touching anything, on an interpreter pymem cannot
    capture soundly.
    """
    why = _unsupported()
    if why is not None:
        raise UnsupportedPython(why)
    # One capture at a time in a process: another thread waits for its turn; a capture
    # started again in the thread that is capturing (a signal handler firing mid-capture)
    # is refused, since it cannot wait for itself.
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
    t0 = time.time()
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    # Named per process and per thread: never shared by two captures.
    tmp = os.path.join(
        directory, ".%s.%d.%d.partial" % (os.path.basename(path), os.getpid(), _thread.get_ident())
    )
    if collect:
        gc.collect()
    # No automatic collection may run during the capture: it would change what is measured.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    global _CAPTURE_MARK
    # Everything tracked after this marker in the youngest generation is the capture's own.
    _CAPTURE_MARK = [None]
    try:
        return _dump(path, tmp, values, t0)
    finally:
        _CAPTURE_MARK = None
        if gc_was_enabled:
            gc.enable()


_CAPTURE_MARK = None


def _capture_objects():
    """Ids of the objects this capture created before its walk (its tables, its frames'
    locals, its output file): with collection off they sit after the marker, in creation
    order, at the end of the youngest generation. Objects another thread creates meanwhile
    are there too, and are left out with them: a snapshot shows the heap as the capture
    began. Left in, the capture's own objects would look like new objects held from outside
    to a later snapshot whose capture reused their addresses."""
    mark = _CAPTURE_MARK
    young = gc.get_objects(0)
    own = {id(young)}
    for k in range(len(young) - 1, -1, -1):
        if young[k] is mark:
            own.update(map(id, young[k:]))
            break
    return own


# Traverse functions that hand out freed or half-built objects on some CPython versions:
# the agent never calls them there and takes those objects' references another way.
# (first version, last version, module, CPython issue, what is done instead)
_UNSAFE_TRAVERSE = (
    (
        (3, 12, 0),
        (3, 12, 4),
        "_asyncio",
        "gh-122695",
        "its free list of FutureIter objects is handed out by gc.get_referents while they are freed",
    ),
)


def _unsafe_traversals():
    """{id(module): note} for the loaded modules whose traverse is unsafe on this version:
    the walk records only their __dict__, and the header says what was left out."""
    v = sys.version_info[:3]
    found = {}
    for first, last, name, issue, why in _UNSAFE_TRAVERSE:
        m = sys.modules.get(name)
        if m is not None and first <= v <= last and type(m) is type(sys):
            found[id(m)] = (
                "references: of module %s only its __dict__ was followed on CPython %d.%d.%d "
                "(%s: %s); objects held only by its C state are not attributed to it"
                % (name, v[0], v[1], v[2], issue, why)
            )
    return found


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
            where, why = _locate_allocator(mem)
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
    global _MEM
    _MEM = mem
    try:
        with open(tmp, "w", encoding="utf-8", buffering=1 << 20) as out:
            counts = _write(out, path, values, stats, arenas, pools, debug_shift, missing, t0, unsafe)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    finally:
        _MEM = None
        if mem is not None:
            mem.close()
    counts["path"] = path
    counts["seconds"] = round(time.time() - t0, 3)
    return counts


def _detect_debug_shift(pools):
    """16 when debug hooks put a 16-byte header before each block; found on fresh floats."""
    probes = [float(i) + 0.5 for i in range(64)]
    for shift in (0, 16):
        hits = 0
        for f in probes:
            block = id(f) - shift
            info = pools.get(block & _POOL_MASK)
            if info and (block - (block & _POOL_MASK) - _POOL_OVERHEAD) % info[0] == 0:
                hits += 1
        if hits > 48:
            return shift
    return 0


def _allocator_info(stats, debug_shift, have_pools=False):
    name = "pymalloc" if (stats and stats["pymalloc"]) or have_pools else "malloc"
    env = os.environ.get("PYTHONMALLOC", "")
    if "mimalloc" in env or (stats is None and hasattr(sys, "_is_gil_enabled")):
        name = "mimalloc"
    hooks = debug_shift == 16 or "debug" in env or bool(getattr(sys.flags, "dev_mode", False))
    info = {"name": name, "debug_hooks": hooks, "pythonmalloc": env or None}
    if name == "pymalloc":
        info.update(
            arena_size=_ARENA_SIZE,
            pool_size=_POOL_SIZE,
            pool_overhead=_POOL_OVERHEAD,
            alignment=16,
            small_threshold=512,
            size_classes=_NB_CLASSES,
            debug_shift=debug_shift,
        )
    return info


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
    n_obj, n_refs, n_changed = _walk(out, types, values, pools, arenas, frozenset(unsafe))
    n_roots = _roots(out)
    w(
        '{"k":"end","objects":%d,"refs":%d,"types":%d,"arenas":%d,"pools":%d,"roots":%d,"elapsed":%.3f,"rc_changed":%d}\n'
        % (n_obj, n_refs, len(types.pre), n_arenas, n_pools, n_roots, time.time() - t0, n_changed)
    )
    return {"objects": n_obj, "refs": n_refs, "types": len(types.pre), "arenas": n_arenas}


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
    me = os.path.abspath(__file__)
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
            if os.path.abspath(code.co_filename) != me:
                where = "thread %s: %s (%s:%d)" % (tname, code.co_name, code.co_filename, f.f_lineno)
                w('{"k":"root","a":%d,"kind":"frame","name":%s}\n' % (id(f), _js(where)))
                n += 1
                n += _frame_locals(w, f, where)
            f = f.f_back
    del frames
    return n


# Kinds of object the walk treats specially, decided once per type by identity over its MRO.
# Leaves (no referents) come last: the walk tests `kind >= K_INT`.
K_PLAIN, K_DICT, K_SIZED, K_MODULE, K_FUNC, K_CODE, K_TYPE, K_BUILTIN, K_LRU = range(9)
K_INT, K_STR, K_BYTES, K_FLOAT = range(9, 13)
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


def _kind_of(t):
    k = _EXACT_KINDS.get(t)
    if k is not None:
        return k
    try:
        mro = _t_mro(t)
    except Exception:
        return K_PLAIN
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


def _interned_table(objs):
    """The id of the interpreter's interned-strings dict when the collector lists it (3.14+,
    where every dict is tracked), else None: the one dict that holds a string interned just
    now, under itself. Earlier versions never list it, so no probe string is made there."""
    if _V < (3, 14):
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
    mark = _CAPTURE_MARK
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
    me = os.path.abspath(__file__)
    f = sys._getframe(1)
    while f is not None:
        if os.path.abspath(f.f_code.co_filename) == me:
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


def _is_object(addr, type_id=id(type)):
    """Whether the words at addr look like an object header (read through /proc/self/mem,
    never dereferenced): its type's type chain reaches `type` within a few steps."""
    mem = _MEM
    if mem is None or addr % 8:
        return False
    raw = mem.read(addr + 8, 8)
    if raw is None:
        return False
    t = _S("<Q").unpack(raw)[0]
    for _ in range(4):
        if not t or t % 8:
            return False
        raw = mem.read(t + 8, 8)
        if raw is None:
            return False
        meta = _S("<Q").unpack(raw)[0]
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
    if not n or _MEM is None:
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
    unpack = _S("<Q").unpack
    for _ in range(n + 2):
        o = g + 16
        if o not in listed and _is_object(o):
            found.append(o)
        raw = _MEM.read(g, 8)
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
    tids = types.ids
    readers = _OWNED_READERS
    immortal = 1 << 31 if _V >= (3, 12) else 1 << 62
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
        alone = len(sys._current_frames()) <= 1
    except Exception:
        alone = False
    sole = _sole_reference_count() if alone and _V < (3, 14) else -1
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
            reader = readers[towned[tid]]
        else:
            reader = None
            size = types.size(tid, o)
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
            extra = ',"name":%s' % js(o.co_qualname if _V >= (3, 11) else o.co_name)
        elif kind == K_LRU:
            extra = _lru_extra(o)
            labeller = tlabeller(tid + _TID_BASE)
            if labeller is not None:
                labels = labeller(o, refs)
        elif kind == K_BUILTIN:
            extra = ',"name":%s' % js(o.__name__)
        if reader is not None:
            buf = reader(o, pget)
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


_member_descriptor = type(type.__dict__["__basicsize__"])
_t_dictoffset = _tdict["__dictoffset__"].__get__
_t_name = _tdict["__name__"].__get__
_MEM = None  # the _Memory of the capture in progress


def _slot_descriptors(t):
    """(name, member descriptor) of every __slots__ entry in the MRO (C-level reads only)."""
    out = []
    for c in _t_mro(t):
        if not _t_flags(c) & _HEAPTYPE:
            continue
        for d in _get_referents(_t_ns(c)):
            if type(d) is dict:
                for k, v in list(_dict_items(d)):
                    if type(v) is _member_descriptor and type(k) is str:
                        out.append((k, v))
    return out


def _shared_key_names(t):
    """3.11+: attribute names of a class's shared keys, in values-array order, or None.

    ht_cached_keys is the word after ht_qualname in the heap type (ht_name two words before);
    both are found by identity in the type's own memory, and every key is checked to be a
    str before it is turned back into an object."""
    mem = _MEM
    if mem is None:
        return None
    try:
        size = _t_basicsize(type(t))
        raw = mem.read(id(t), size)
        qn, nm = id(_t_qualname(t)), id(_t_name(t))
    except Exception:
        return None
    if raw is None:
        return None
    words = _struct.Struct("<%dQ" % (size // 8)).unpack(raw[: size // 8 * 8])
    for i in range(2, len(words) - 1):
        if words[i] == qn and words[i - 2] == nm:
            keys = words[i + 1]
            break
    else:
        return None
    hdr = mem.read(keys, 32) if keys else None
    if hdr is None:
        return None
    _rc, _l2size, l2idx, kind, _ver, _usable, nent = _S("<qBBBxIqq").unpack(hdr)
    if kind != 2 or not 0 < nent <= 1 << 16 or l2idx > 24:  # DICT_KEYS_SPLIT
        return None
    ent = mem.read(keys + 32 + (1 << l2idx), 16 * nent)
    if ent is None:
        return None
    names = []
    str_type = id(str)
    for k in _struct.Struct("<%dQ" % (2 * nent)).unpack(ent)[0::2]:
        tp = mem.read(k + 8, 8) if k else None
        if tp is None or _S("<Q").unpack(tp)[0] != str_type:
            names.append(None)
            continue
        names.append(ctypes.cast(k, ctypes.py_object).value)
    return names


def _make_labeller(t, flags, types):
    """A function labelling an instance's referents by attribute name, or None. It keeps
    the type's id, not the type (that would raise the type's reference count); the slot
    descriptors and names it keeps are counted in types.held."""
    slots = _slot_descriptors(t)
    for name, md in slots:
        types.hold(name)
        types.hold(md)
    t_id = id(t)
    if _V >= (3, 11) and flags & _MANAGED_DICT:
        names = _shared_key_names(t)
        basicsize = _t_basicsize(t)
        inline = _V >= (3, 13) and flags & _INLINE_VALUES
    else:
        names = None
        try:
            dictoffset = _t_dictoffset(t)
        except Exception:
            dictoffset = 0
        if dictoffset <= 0 and not slots:
            return None
    string_at = ctypes.string_at
    word_at = _S("<Q").unpack
    dotted = [None if n is None else "." + n for n in names] if names else None
    values_at = _struct.Struct("<%dQ" % len(names)).unpack if names else None
    dotted_type = dotted + [None] if dotted and None not in dotted else None
    managed = _V >= (3, 11) and flags & _MANAGED_DICT

    def labeller(o, refs):
        # Pointers read here come from the object's own fields (its pre-header or inline
        # values), which CPython keeps valid for a live object.
        a = id(o)
        known = None
        if managed:
            word = word_at(string_at(a - 24, 8))[0]
            values = 0
            if _V == (3, 12):
                if word & 1:
                    values, word = word + 1, 0
            elif _V == (3, 11):
                values = word_at(string_at(a - 32, 8))[0]
            elif inline and not word and string_at(a + basicsize + 3, 1)[0]:
                values = a + basicsize + 8
            if word:
                known = {word: ".__dict__"}
            elif values and dotted:
                # Every value set: the traversal visits them in key order, then the type.
                if dotted_type and not slots and len(refs) == len(dotted_type) and id(refs[-1]) == t_id:
                    return dotted_type
                known = dict(zip(values_at(string_at(values, 8 * len(dotted))), dotted))
        elif dictoffset > 0:
            word = word_at(string_at(a + dictoffset, 8))[0]
            if word:
                known = {word: ".__dict__"}
        if slots:
            if known is None:
                known = {}
            for name, md in slots:
                try:
                    v = md.__get__(o)
                except Exception:
                    continue
                known.setdefault(id(v), "." + name)
        if not known:
            return None
        get = known.get
        return [get(id(r)) for r in refs]

    return labeller


def _dict_edges(d, refs, values, exact):
    """Label a dict's values by key; add all-str-key dicts' keys, which gc traversal skips.
    A subclass's other referents (a defaultdict's factory, an instance __dict__) stay
    unlabelled."""
    by_id = {}
    # list() copies in one C call (no bytecode runs, so no other thread can change the dict
    # half way); a Python loop over the live view could fail when another thread mutates it.
    for k, v in list(_dict_items(d)):
        by_id.setdefault(id(v), _key_label(k, values))
    out_refs = list(refs)
    have = set(map(id, out_refs))
    keys = None if exact else set()
    for k in list(_dict_keys(d)):
        if keys is not None:
            keys.add(id(k))
        if id(k) not in have:
            have.add(id(k))
            out_refs.append(k)
    if exact:
        return out_refs, [by_id.get(id(r), "<key>") for r in out_refs]
    return out_refs, [by_id.get(id(r), "<key>" if id(r) in keys else None) for r in out_refs]


def _module_edges(m, refs):
    try:
        d = _mod_name(m)
    except Exception:
        d = None
    name = d.get("__name__") if type(d) is dict else None
    extra = ',"name":%s' % _js(name) if type(name) is str else ""
    labels = [".__dict__" if r is d else None for r in refs]
    return extra, labels


def _function_edges(f, refs):
    code = f.__code__
    extra = ',"name":%s' % _js(code.co_qualname if _V >= (3, 11) else f.__qualname__)
    known = {
        id(f.__code__): ".__code__",
        id(f.__globals__): ".__globals__",
    }
    if f.__defaults__ is not None:
        known[id(f.__defaults__)] = ".__defaults__"
    if f.__kwdefaults__ is not None:
        known[id(f.__kwdefaults__)] = ".__kwdefaults__"
    if f.__closure__ is not None:
        known[id(f.__closure__)] = ".__closure__"
    return extra, [known.get(id(r)) for r in refs]


def _type_edges(t, refs):
    extra = ',"name":%s' % _js(_type_name(t))
    known = {}
    try:
        # The mappingproxy's one referent is the type's real namespace dict.
        for d in _get_referents(_t_ns(t)):
            known[id(d)] = ".__dict__"
        known[id(_t_mro_slot(t))] = ".__mro__"
    except Exception:
        pass
    return extra, [known.get(id(r)) for r in refs]


def _list_buffers(o, pget):
    raw = ctypes.string_at(id(o) + 24, 16)
    items, allocated = _S("<Qq").unpack(raw)
    if not items:
        return ()
    return (_buffer(items, allocated * 8, pget),)


def _set_buffers(o, pget):
    raw = ctypes.string_at(id(o) + 32, 16)
    mask, table = _S("<qQ").unpack(raw)
    if not table or table == id(o) + 64:
        return ()
    return (_buffer(table, (mask + 1) * 16, pget),)


def _bytearray_buffers(o, pget):
    raw = ctypes.string_at(id(o) + 24, 16)
    alloc, ob_bytes = _S("<qQ").unpack(raw)
    if not ob_bytes:
        return ()
    return (_buffer(ob_bytes, alloc, pget),)


_dict_sizeof = dict.__sizeof__  # the C method: a subclass's __sizeof__ is user code
_EMPTY_DICT_SIZE = _dict_sizeof({})


def _dict_buffers(o, pget):
    raw = ctypes.string_at(id(o) + 32, 16)
    keys, vals = _S("<QQ").unpack(raw)
    out = []
    rest = max(0, _dict_sizeof(o) - _EMPTY_DICT_SIZE)
    for ptr, owned in ((keys, vals == 0), (vals, True)):
        if not ptr or not owned:
            continue
        if _V in ((3, 11), (3, 12)) and ptr == vals:
            prefix = ctypes.string_at(ptr - 1, 1)[0]
            ptr -= prefix
        elif _V >= (3, 13) and ptr == vals:
            if ctypes.string_at(ptr + 2, 1)[0]:
                continue  # embedded in the owning instance
        b = _buffer(ptr, 0, pget)
        if b[1] == 0:
            if not rest:
                continue  # static empty keys, or nothing owned outside the pools
            b = (ptr, rest)
        rest = max(0, rest - b[1])
        out.append(b)
    return out


def _word_at(addr, _unpack=_S("<Q").unpack, _string_at=ctypes.string_at):
    """The 8-byte word at `addr` (inside a live object: its pre-header)."""
    return _unpack(_string_at(addr, 8))[0]


def _values_buffers(o, pget):
    """3.11/3.12: the separately allocated values array of an instance whose __dict__ was
    never materialised (pointer in the pre-header; the byte before it is the prefix size)."""
    a = id(o)
    if _V == (3, 11):
        values = _word_at(a - 32)
    else:
        word = _word_at(a - 24)
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


# Readers of owned buffers, by the code the type table stores (0: none).
_OWNED_READERS = (None, _list_buffers, _set_buffers, _bytearray_buffers, _dict_buffers, _values_buffers)
_OWN_VALUES = 5
_OWNED = {list: 1, set: 2, frozenset: 2, bytearray: 3, dict: 4}


# --- arming a long-lived process ----------------------------------------------------------


def install(signal=None, directory=".", *, every=None, at_exit=False, tracemalloc=0, values=False):
    """Arm snapshots in a running program; each goes to DIRECTORY/pymem-PID-NNN-REASON.jsonl
    and its path is printed on stderr.

    signal: a signal number (e.g. signal.SIGUSR2): a snapshot whenever it arrives (the
      handler runs in the main thread; a handler installed before is still called after);
    every: seconds between periodic snapshots (from a daemon thread);
    at_exit: a snapshot when the interpreter exits normally;
    tracemalloc: start tracemalloc with this many frames, so snapshots record where each
      object was allocated (costs memory and time while the program runs);
    values: record string contents (private data) in the snapshots.
    """
    directory = os.path.abspath(os.fspath(directory))
    os.makedirs(directory, exist_ok=True)
    if tracemalloc:
        import tracemalloc as _tm

        if not _tm.is_tracing():
            _tm.start(int(tracemalloc))
    count = [0]

    def snapshot(reason):
        count[0] += 1
        path = os.path.join(directory, "pymem-%d-%03d-%s.jsonl" % (os.getpid(), count[0], reason))
        if reason == "exit" and _tracing():
            _say("pymem: taking the snapshot at exit (tracemalloc is tracing: this can take minutes)")
        try:
            dump(path, values=values)
        except Exception as e:  # a failed snapshot must never take the program down
            _say("pymem: snapshot failed (%s: %s)" % (type(e).__name__, e))
            return None
        _say("pymem: wrote %s" % path)
        return path

    if signal is not None:
        import signal as _signal

        previous = _signal.getsignal(signal)

        def on_signal(signum, frame):
            snapshot("signal")
            if callable(previous):
                previous(signum, frame)

        _signal.signal(signal, on_signal)
    if at_exit:
        import atexit

        atexit.register(snapshot, "exit")
    if every:
        import atexit
        import threading

        def finish_in_flight():
            # A periodic capture still running when the program ends would die with its
            # daemon thread: wait for it (dump() takes one capture at a time).
            if _CAPTURE_OWNER[0] is not None:
                _say("pymem: waiting for the snapshot in progress to finish")
                _CAPTURE_LOCK.acquire()
                _CAPTURE_LOCK.release()

        atexit.register(finish_in_flight)

        def periodic():
            while True:
                time.sleep(float(every))
                snapshot("every")

        threading.Thread(target=periodic, name="pymem-every", daemon=True).start()
    return snapshot


def _tracing():
    tm = sys.modules.get("tracemalloc")
    try:
        return bool(tm and tm.is_tracing())
    except Exception:
        return False


def _say(text):
    try:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
    except Exception:
        pass


def _run_main(config):
    """`pymem run`: arm the snapshots in CONFIG, then run the program the way `python` would
    (a script with its directory first on sys.path, or `-m module`), exit code untouched."""
    import runpy

    c = json.loads(config)
    # The program is found before anything is armed: a program that cannot start gets one
    # line and status 2, and no snapshot of a program that never ran.
    args = sys.argv[1:]
    if args and args[0] == "-m":
        code = None
    else:
        try:
            with open(os.path.abspath(args[0]), "rb") as f:
                source = f.read()
        except OSError as e:
            _say("pymem: cannot run %s: %s" % (args[0], e.strerror or e))
            sys.exit(2)
        code = compile(source, args[0], "exec")
    install(
        c.get("signal"),
        c["directory"],
        every=c.get("every"),
        at_exit=c.get("at_exit", False),
        tracemalloc=c.get("tracemalloc", 0),
        values=c.get("values", False),
    )
    # Run in the real __main__ module, as `python` does: its globals then live until the
    # interpreter shuts down (after atexit), not only until the code returns.
    main = sys.modules["__main__"].__dict__
    for name in ("sys", "pymem_agent"):  # the bootstrap's own names
        main.pop(name, None)
    if code is None:
        sys.argv = args[1:]
        runpy._run_module_as_main(args[1], alter_argv=True)
    else:
        sys.argv = args
        sys.path[0] = os.path.dirname(os.path.abspath(args[0]))
        main.update(__file__=args[0], __cached__=None)
        exec(code, main)


def _attach(path, values, status):
    """`pymem attach`: a snapshot taken from a debugger's call into the process. Never
    raises (an exception would surface in the debugger, not here); the outcome goes to the
    file STATUS for pymem to read."""
    try:
        result = dump(path, values=values)
        message = "ok %d" % result["objects"]
    except BaseException as e:
        message = "error %s: %s" % (type(e).__name__, e)
    try:
        with open(status, "w") as f:
            f.write(message)
    except Exception:
        pass


# --- pytest plugin: `pytest -p pymem_agent` ------------------------------------------------
# Loaded as a plugin, this module adds the marker
#
#     @pytest.mark.pymem_leaks(max_growth="64KiB", rounds=100, warmup=5)
#
# The marked test's body runs `warmup` times, then a baseline snapshot is taken, then it runs
# `rounds` times between each of two more snapshots, and `pymem gate` judges the three (the
# `pymem` binary from $PYMEM or PATH). A failing gate fails the test with the leak roots; the
# snapshots are then kept and their directory named. Other options: max_leaks=N,
# min_growth=SIZE, ignore=[patterns]. Fixtures are set up once and shared by every call;
# coroutine tests are not supported.

_LEAK_OPTIONS = ("max_growth", "max_leaks", "min_growth", "rounds", "warmup", "ignore")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "pymem_leaks(max_growth='64KiB', rounds=100, warmup=5, max_leaks=None, min_growth=None, "
        "ignore=()): run the test body repeatedly and fail if pymem finds a growing container",
    )


def pytest_pyfunc_call(pyfuncitem):
    """Runs before pytest's own call of the test function (that one is `trylast`)."""
    marker = pyfuncitem.get_closest_marker("pymem_leaks")
    if marker is None:
        return None
    import inspect

    if inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    _run_leak_check(pyfuncitem, marker)
    return True



def _run_leak_check(item, marker):
    import json
    import shutil
    import subprocess
    import tempfile

    import pytest

    opts = dict(marker.kwargs)
    unknown = sorted(set(opts) - set(_LEAK_OPTIONS))
    if unknown or marker.args:
        pytest.fail("pymem_leaks: unknown option(s) %s (known: %s)" % (unknown or list(marker.args), ", ".join(_LEAK_OPTIONS)), pytrace=False)
    binary = os.environ.get("PYMEM") or shutil.which("pymem")
    if not binary:
        pytest.fail("pymem_leaks: the pymem binary was not found (put it on PATH or set PYMEM)", pytrace=False)
    func = item.obj
    kwargs = {name: item.funcargs[name] for name in item._fixtureinfo.argnames}
    for _ in range(int(opts.get("warmup", 5))):
        func(**kwargs)
    # Under pytest's own temporary directory (--basetemp; pytest keeps the last few runs),
    # so that a run leaves nothing of its own in the system's temporary directory.
    try:
        directory = str(item.config._tmp_path_factory.mktemp("pymem-leaks", numbered=True))
    except Exception:
        directory = tempfile.mkdtemp(prefix="pymem-leaks-")
    paths = []
    for name in ("baseline", "target", "final"):
        if paths:
            for _ in range(int(opts.get("rounds", 100))):
                func(**kwargs)
        paths.append(os.path.join(directory, name + ".jsonl"))
        dump(paths[-1], collect=True)
    cmd = [binary, "gate"] + paths + ["--format", "json", "--max-growth", str(opts.get("max_growth", "64KiB"))]
    if opts.get("max_leaks") is not None:
        cmd += ["--max-leaks", str(opts["max_leaks"])]
    if opts.get("min_growth") is not None:
        cmd += ["--min-growth", str(opts["min_growth"])]
    for pattern in opts.get("ignore", ()):
        cmd += ["--ignore", pattern]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if proc.returncode == 0:
        shutil.rmtree(directory, ignore_errors=True)
        return
    if proc.returncode != 1:
        pytest.fail("pymem_leaks: pymem gate failed: %s" % proc.stderr.strip(), pytrace=False)
    verdict = json.loads(proc.stdout)
    broken = ["%s %d > %d" % (b["limit"], b["value"], b["allowed"]) for b in verdict["breaches"]]
    lines = ["pymem: %s leaks (%s)" % (item.name, "; ".join(broken))]
    for root in verdict["leaks"]["roots"]:
        if root["leak"]:
            where = root["path"]["expr"] if root.get("path") else root["addr"]
            lines.append(
                "  %s (%s): +%d bytes, entries %s; e.g. %s"
                % (where, root["kind"], root["growth_bytes"], root["entries"], (root.get("sample") or {}).get("expr", "-"))
            )
    lines.append("snapshots: %s (pymem leaks %s)" % (directory, " ".join(paths)))
    pytest.fail("\n".join(lines), pytrace=False)


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "heap.jsonl"
    print(dump(target))
