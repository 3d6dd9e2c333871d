"""What the process's resident memory is made of, measured at capture: /proc/self/smaps by
kind of mapping, the resident pages of pymalloc's arenas (/proc/self/pagemap), and the C
allocator's own figures (glibc's mallinfo2). Raw figures only: pymem's summary turns them
into the RSS breakdown."""

import ctypes
import os

_KIB = 1024
# glibc's non-main malloc heaps are reserved HEAP_MAX_SIZE-aligned (64 MiB on 64-bit).
_HEAP_ALIGN = 64 << 20
# Thread stacks are an anonymous mapping above a small PROT_NONE guard.
_GUARD_MAX = 64 << 10


def _smaps():
    """(start, end, perms, path, rss bytes) of every mapping in /proc/self/smaps."""
    out = []
    with open("/proc/self/smaps", "rb") as f:
        cur = None
        for line in f:
            head = line.split(None, 5)
            if not head:
                continue
            if b"-" in head[0] and len(head) >= 5 and not head[0].endswith(b":"):
                lo, _, hi = head[0].partition(b"-")
                path = head[5].strip() if len(head) > 5 else b""
                cur = [int(lo, 16), int(hi, 16), head[1], path, 0]
                out.append(cur)
            elif head[0] == b"Rss:" and cur is not None:
                cur[4] = int(head[1]) * _KIB
    return out


def _mappings(threads):
    """Resident bytes by kind of mapping: files (binaries, libraries, mapped files), stacks
    (the main thread's and at most threads-1 others, told by their guard page), glibc's
    malloc heaps (the brk heap and the 64 MiB-aligned heaps of its other arenas, counted),
    and the other anonymous memory (pymalloc's arenas, large malloc blocks, other mmaps)."""
    maps = _smaps()
    out = {"rss": 0, "files": 0, "stacks": 0, "threads": threads, "malloc_heaps": 0, "malloc_heap_count": 0, "anonymous": 0, "kernel": 0}
    stacks = 0
    prev = None
    for i, m in enumerate(maps):
        start, end, perms, path, rss = m
        after = maps[i + 1] if i + 1 < len(maps) else None
        out["rss"] += rss
        if path == b"[stack]":
            out["stacks"] += rss
        elif path.startswith(b"/"):
            out["files"] += rss
        elif path == b"[heap]":
            out["malloc_heaps"] += rss
            out["malloc_heap_count"] += 1
        elif path.startswith(b"["):
            out["kernel"] += rss
        elif (
            perms.startswith(b"rw")
            and prev is not None
            and prev[1] == start
            and prev[2].startswith(b"---")
            and not prev[3]
            and prev[1] - prev[0] <= _GUARD_MAX
            and stacks < threads - 1
        ):
            stacks += 1
            out["stacks"] += rss
        elif (
            perms.startswith(b"rw")
            and start % _HEAP_ALIGN == 0
            and not path
            # the rest of its 64 MiB reserved PROT_NONE, or all of it in use
            and (end - start == _HEAP_ALIGN or (after is not None and after[0] == end and after[2].startswith(b"---") and after[1] - start <= _HEAP_ALIGN))
        ):
            out["malloc_heaps"] += rss
            out["malloc_heap_count"] += 1
        else:
            out["anonymous"] += rss
        prev = m
    out["thread_stacks_found"] = stacks
    return out


def _resident(ranges):
    """Resident bytes of the (address, size) ranges, page by page from /proc/self/pagemap
    (bit 63: present; readable by the process itself without privilege)."""
    page = os.sysconf("SC_PAGE_SIZE")
    high = bytes(range(128))
    total = 0
    fd = os.open("/proc/self/pagemap", os.O_RDONLY)
    try:
        for addr, size in ranges:
            n = (size + page - 1) // page
            raw = os.pread(fd, 8 * n, addr // page * 8)
            # The top byte of each little-endian entry, without those below 0x80: present.
            total += len(raw[7::8].translate(None, high))
    finally:
        os.close(fd)
    return total * page


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")
    ]


def _c_allocator():
    """glibc's mallinfo2() (2.33+) when glibc is the C library: bytes the allocator got from
    the system in its heaps (arena) and as separately mapped blocks (mmapped), the bytes in
    use and free but held; or the allocator's name and why nothing was read."""
    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION")
    except (ValueError, OSError):
        glibc = None
    if not glibc:
        return {"name": "unknown", "why": "not glibc: the C allocator's figures are not read"}
    info = {"name": "glibc", "version": glibc.split()[-1]}
    try:
        api = ctypes.pythonapi
        fn = api._FuncPtr(("mallinfo2", api))
    except (AttributeError, TypeError):
        info["why"] = "mallinfo2 is missing (glibc before 2.33)"
        return info
    fn.restype = _Mallinfo2
    fn.argtypes = []
    m = fn()
    info.update(arena=m.arena, mmapped=m.hblkhd, mmapped_blocks=m.hblks, in_use=m.uordblks, free=m.fordblks, top_releasable=m.keepcost)
    return info


def _process_memory(arenas, arena_size):
    """The header's `memory` record, or None where /proc is not there."""
    try:
        threads = len(os.listdir("/proc/self/task"))
        out = _mappings(threads)
    except OSError:
        return None
    if arenas:
        try:
            out["pymalloc_arenas"] = _resident([(a[0], arena_size) for a in arenas])
        except OSError:
            pass
    try:
        out["c_allocator"] = _c_allocator()
    except Exception as e:  # never let the figures kill the capture
        out["c_allocator"] = {"name": "unknown", "why": "%s: %s" % (type(e).__name__, e)}
    return out
