"""mypy (compiled by mypyc) type-checks a real package from PyPI and keeps its build result,
as a language server or a test harness does (issue 26, item 5). mypy raises the collector's
threshold to 150,000 for its build, so cycles of checkers it dropped are still waiting for
collection when the build returns: garbage that references the live build.

Prints its pid and the result's address, then waits for a line on stdin (pymem reads it
from outside meanwhile). Then it measures, with the allocators' own counts (pymalloc's bytes in allocated blocks plus
glibc's bytes in use), what the collector gives back (the garbage) and then what dropping
the build result gives back, and prints both: the ground truth for pymem's unreachable
bytes and for the result's retained bytes.

    python mypy_build.py PACKAGE
"""
import ctypes
import gc
import os
import re
import sys

from mallocstats import debugmallocstats
from mypy import build
from mypy.main import process_options


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split())]


libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2


def bytes_in_use():
    """pymalloc's bytes in allocated blocks that are not on a free list (from
    _debugmallocstats, which writes to the C stderr) plus glibc's bytes in use, in the heap
    and in mmapped chunks."""
    text = debugmallocstats()
    small = re.search(r"# bytes in allocated blocks\s*=\s*([\d,]+)", text).group(1)
    # The interpreter's free lists are allocated blocks holding no object; a full collection
    # empties them (up to 3.11), which would count as garbage given back.
    free_lists = sum(int(n.replace(",", "")) for n in re.findall(
        r"free .*bytes each\s*=\s*([\d,]+)", text))
    info = libc.mallinfo2()
    return int(small.replace(",", "")) - free_lists + info.uordblks + info.hblkhd


files, options = process_options(
    ["-p", sys.argv[1], "--no-incremental", "--cache-dir", os.devnull])
result = build.build(files, options)
del files, options
print(os.getpid(), hex(id(result)), flush=True)
sys.stdin.readline()

before = bytes_in_use()
gc.collect()
collected = bytes_in_use()
result = None
gc.collect()
after = bytes_in_use()
print(before - collected, collected - after, flush=True)
