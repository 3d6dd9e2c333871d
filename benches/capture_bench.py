"""Capture benchmark: a heap-building program (benches/heap_program.py) of OBJECTS objects
is read from outside by `pymem attach` (RUNS runs: wall time, pymem's peak RSS, how long the
target was stopped; medians), then dumped by gdb's gcore and read back by `pymem core` (RUNS
runs), then captured by the agent inside it, then measured by guppy3's
hpy().heap() when guppy3 is importable by that Python (PYTHONPATH).

usage: python3 benches/capture_bench.py PYTHON OBJECTS [RUNS] [OUT_DIR]
"""
import os
import re
import statistics
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(here)
python, n = sys.argv[1], int(sys.argv[2])
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
out = sys.argv[4] if len(sys.argv) > 4 else os.path.join(repo, "bench-data")
os.makedirs(out, exist_ok=True)
pymem = os.path.join(repo, "target", "release", "pymem")



def timed(args):
    """Run pymem with ARGS: (wall seconds, peak RSS bytes, stderr); exits on failure."""
    t = time.perf_counter()
    p = subprocess.Popen([pymem] + args, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    err = p.stderr.read()
    p.stderr.close()
    if status != 0:
        sys.exit("pymem %s failed: %s" % (args[0], err))
    return wall, usage.ru_maxrss * 1024, err


target = subprocess.Popen(
    [python, os.path.join(here, "heap_program.py"), str(n), os.path.join(out, "capture-agent.jsonl")],
    stdout=subprocess.PIPE,
    text=True,
)
try:
    pid, fd, ready = target.stdout.readline().split()

    def command(c):
        with open("/proc/%s/fd/%s" % (pid, fd), "wb") as pipe:
            pipe.write(c)
        return target.stdout.readline().split()

    with open("/proc/%s/status" % pid) as f:
        rss = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) * 1024
    walls, peaks, stops = [], [], []
    objects = 0
    for _ in range(runs):
        wall, peak, err = timed(["attach", pid, "-o", os.path.join(out, "capture-read.jsonl")])
        walls.append(wall)
        peaks.append(peak)
        stops.append(float(re.search(r"stopped ([0-9.]+) ms", err).group(1)) / 1000)
        objects = int(re.search(r"\((\d+) objects", err).group(1))
    wall, peak, stop = statistics.median(walls), int(statistics.median(peaks)), statistics.median(stops)
    print("heap of %d objects (built in %s s), target RSS %d MiB; medians of %d runs" % (objects, ready, rss >> 20, runs))
    print(
        "read from outside: %.2f s (%.2fM objects/s), target stopped %.0f ms (%.2f s per GB of RSS), "
        "pymem peak RSS %d MiB (= target RSS %+d B/object)"
        % (wall, objects / wall / 1e6, stop * 1000, stop / (rss / 2**30), peak >> 20, (peak - rss) / objects)
    )
    core = os.path.join(out, "capture.core")
    t = time.perf_counter()
    subprocess.run(["gcore", "-o", core, pid], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gcore_s = time.perf_counter() - t
    core += "." + pid
    try:
        core_walls, core_peaks = [], []
        for _ in range(runs):
            wall, peak, _ = timed(["core", core, "-o", os.path.join(out, "capture-core.jsonl")])
            core_walls.append(wall)
            core_peaks.append(peak)
        core_wall = statistics.median(core_walls)
        print(
            "core file (gcore took %.1f s, %d MiB): pymem core %.2f s (%.2fM objects/s), peak RSS %d MiB"
            % (gcore_s, os.path.getsize(core) >> 20, core_wall, objects / core_wall / 1e6, int(statistics.median(core_peaks)) >> 20)
        )
    finally:
        os.unlink(core)
    _, agent_s, agent_n = command(b"d")
    print("agent in process: %s s for %s objects: the read is %.1fx faster" % (agent_s, agent_n, float(agent_s) / wall))
    reply = command(b"h")
    if reply[1] == "none":
        print("guppy3 hpy().heap(): skipped (guppy3 not importable by %s)" % python)
    else:
        print("guppy3 hpy().heap(): %s s for %s objects: the read is %.1fx faster" % (reply[1], reply[2], float(reply[1]) / wall))
    with open("/proc/%s/fd/%s" % (pid, fd), "wb") as pipe:
        pipe.write(b"q")
    target.wait(timeout=60)
finally:
    if target.poll() is None:
        target.kill()
        target.wait()
