"""A heap-building target for the capture benchmarks: N objects of realistic shapes, then it
waits, its heap quiet, for captures from outside or with the agent.

usage: python benches/heap_program.py OBJECTS [AGENT_SNAPSHOT]

Builds about OBJECTS objects (instances with attributes, strings, lists, dicts, ints), prints
"PID FD READY_SECONDS" and sits in os.read(FD). Writing "d" to the pipe makes it take an
agent snapshot to AGENT_SNAPSHOT (timed, printed as "agent SECONDS OBJECTS"); "h" times
guppy3's hpy().heap() (printed as "heapy SECONDS OBJECTS", or "heapy none" when guppy is not
importable; it materialises instance dicts, so it goes last); "q" exits."""
import os
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(here, "..", "python"), here]
import pymem_agent  # noqa: E402
from shapes import Node, Slotted  # noqa: E402


t0 = time.time()
target = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
# Per Node: the instance, its name, its list, two ints (and the list's buffer): ~5 objects;
# per Slotted: the instance, its key, its tuple, two ints: ~5.
per = target // 10
nodes = [Node(i) for i in range(per)]
slotted = [Slotted(i) for i in range(per)]
index = {n.name: n for n in nodes[: per // 4]}
r, w = os.pipe()
print(os.getpid(), r, round(time.time() - t0, 2), flush=True)
while True:
    c = os.read(r, 1)
    if c == b"d":
        t = time.perf_counter()
        res = pymem_agent.dump(sys.argv[2])
        print("agent %.3f %d" % (time.perf_counter() - t, res["objects"]), flush=True)
    elif c == b"h":
        try:
            from guppy import hpy
        except ImportError:
            print("heapy none", flush=True)
            continue
        t = time.perf_counter()
        heap = hpy().heap()
        print("heapy %.3f %d" % (time.perf_counter() - t, heap.count), flush=True)
        del heap
    elif c == b"q" or not c:
        break
