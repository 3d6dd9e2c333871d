"""pymalloc's arenas and pools: finding the allocator's tables in the interpreter's image,
reading and validating pool headers, and the figures of sys._debugmallocstats()."""

import ctypes
import os
import re
import sys

from ._base import (
    _ARENA_SIZE,
    _NB_CLASSES,
    _POOL_MASK,
    _POOL_OVERHEAD,
    _POOL_SIZE,
    _ARENA_OBJECT,
    _POOL_HEADER,
    _U32,
    _U64_U32,
    _raw_buffer,
)
from ._facts import FACTS
from ._memory import _u64s


def _pool_header(mem, pool):
    """Parse and validate a pool header; None when it is not a plausible pool."""
    raw = mem.read(pool, _POOL_OVERHEAD)
    return None if raw is None else _parse_pool_header(raw, pool)


def _parse_pool_header(raw, pool):
    count, freeblock, _nxt, _prv, arenaindex, szidx, nextoffset, maxnext = _POOL_HEADER.unpack(raw)
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
            base, pool_address, nfree, ntotal = _ARENA_OBJECT.unpack(raw)
            if not (base and base % 4096 == 0 and base <= pool < base + _ARENA_SIZE):
                return False
            if not (base < pool_address <= base + _ARENA_SIZE and nfree <= ntotal <= 64):
                return False
        return True

    if FACTS.runtime_allocator_state:
        raw = mem.read(usedpools_addr + 512, 12)
        if raw is not None:
            ptr, maxa = _U64_U32.unpack(raw)
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
        cap = _U32.unpack(raw)[0] if raw else 1 << 12
        self.cap = max(16, cap) * 2
        self.arena_buf, self.arena_addr = _raw_buffer(self.cap * 48)
        self.pool_buf, self.pool_addr = _raw_buffer(self.cap * 64 * _POOL_OVERHEAD)
        self.narenas = 0
        self.npools = 0
        self.ok = False

    def capture(self):
        """The allocation-light part: two preads, then one per carved pool."""
        fn, fd = self.mem._pread, self.mem.fd
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
            address, pool_address, nfree, ntotal = _ARENA_OBJECT.unpack_from(raw, 48 * i)
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
