"""heapy (guppy3) in-process on the same kind of 1M-object heap, for comparison with pymem.

usage: python benches/heapy_compare.py [N_NODES]   (needs: pip install guppy3)
"""
import sys
import time

from guppy import hpy


class Node:
    def __init__(self, i):
        self.i = i
        self.name = "n%d" % i
        self.tags = [i, i + 1]


keep = [Node(i) for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 250_000)]
h = hpy()
t = time.perf_counter()
heap = h.heap()
t_heap = time.perf_counter() - t
print("heapy hpy().heap(): %d objects in %.2f s" % (heap.count, t_heap))
t = time.perf_counter()
byid = heap.byid
_ = byid.count
print("heapy .byid: %.2f s" % (time.perf_counter() - t))
t = time.perf_counter()
dom = heap.dominos
print("heapy .dominos: %d objects in %.2f s" % (dom.count, time.perf_counter() - t))
t = time.perf_counter()
size = heap.domisize
print("heapy .domisize: %d bytes in %.2f s" % (size, time.perf_counter() - t))
