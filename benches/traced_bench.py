"""The agent under tracemalloc: capture time untraced, tracing 1 frame and 8 frames.

usage: python benches/traced_bench.py [N_RECORDS] [RUNS]   (PYMEM_AGENT_DIR: another agent to time)
Each run is a fresh interpreter holding N_RECORDS small records (4 objects each, made while
tracing, so every one has a traceback) and taking one snapshot from inside a long function,
as a signal handler would; prints the median capture time per mode and the ratio to the
untraced capture.
"""
import os
import statistics
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
agent = os.environ.get("PYMEM_AGENT_DIR") or os.path.join(here, "..", "python")

CHILD = r"""
import sys, time, tracemalloc
frames, n, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
if frames:
    tracemalloc.start(frames)
sys.path.insert(0, sys.argv[4])
import pymem_agent

class Record:
    def __init__(self, i):
        self.i = i
        self.name = "r%d" % i
        self.tags = [i, i + 1]

def long_function():
    data = [Record(i) for i in range(n)]
""" + "".join("    x%d = %d\n" % (i, i) for i in range(300)) + r"""
    t = time.perf_counter()
    pymem_agent.dump(out)
    return time.perf_counter() - t, data

print(long_function()[0])
"""


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 60000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    times = {}
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "heap.jsonl")
        for frames in (0, 1, 8):
            t = []
            for _ in range(runs):
                r = subprocess.run(
                    [sys.executable, "-c", CHILD, str(frames), str(n), out, agent],
                    check=True, capture_output=True, text=True,
                )
                t.append(float(r.stdout))
            times[frames] = statistics.median(t)
    print("CPython %d.%d, %d records (~%d objects), median of %d" % (sys.version_info[:2] + (n, 4 * n, runs)))
    for frames, t in times.items():
        label = "untraced" if frames == 0 else "tracemalloc, %d frame%s" % (frames, "" if frames == 1 else "s")
        print("  %-22s %7.2f s  %5.1fx" % (label, t, t / times[0]))


if __name__ == "__main__":
    main()
