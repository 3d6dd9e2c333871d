"""The C heap and the rest of RSS: many C blocks malloc'd and freed with a few kept between
them (free memory glibc holds and cannot trim), a large bytes object outside pymalloc, a
few threads; then a snapshot, and the process's own figures around it.

usage: workload_cheap.py AGENT_DIR SNAPSHOT TRUTH_JSON
"""
import ctypes
import json
import os
import sys
import threading

sys.path.insert(0, sys.argv[1])
import pymem_agent

libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]


class Mallinfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]


libc.mallinfo2.restype = Mallinfo2

N, SIZE, KEEP_EVERY = 30000, 2000, 50
blocks = [libc.malloc(SIZE) for _ in range(N)]
for b in blocks:
    libc.memset(b, 1, SIZE)  # touched: resident
kept = [b for i, b in enumerate(blocks) if i % KEEP_EVERY == 0]
for i, b in enumerate(blocks):
    if i % KEEP_EVERY:
        libc.free(b)
del blocks
big = bytes(5 << 20)  # outside pymalloc: a C-heap block of its own

stop = threading.Event()
threads = [threading.Thread(target=stop.wait) for _ in range(3)]
for t in threads:
    t.start()

before = libc.mallinfo2()
pymem_agent.dump(sys.argv[2])
after = libc.mallinfo2()
with open("/proc/self/statm") as f:
    rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
stop.set()
for t in threads:
    t.join()
with open(sys.argv[3], "w") as f:
    json.dump(
        {
            "free_before": before.fordblks,
            "free_after": after.fordblks,
            "in_use_before": before.uordblks + before.hblkhd,
            "rss": rss,
            "big": len(big),
            "threads": 1 + len(threads),
        },
        f,
    )
