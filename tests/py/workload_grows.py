"""A process that grows, for `pymem watch`: it prints "PID RSS" and then obeys stdin, one
command per line:
  grow N   append N MiB to the planted container `hoard` (4 KiB bytes objects in small lists)
  run N    grow by N MiB in a background thread, 1 MiB every 20 ms, as a leaking service does
  ping     print "pong" and the number of MiB in the hoard (proves the process runs on)
  (end of input) exit 0
Each command prints one line when it is done.
"""
import os
import sys
import threading
import time

hoard = []  # the planted container: what `pymem top` must list first


def add_mib():
    hoard.append([bytes(4096) for _ in range(256)])


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def run(n):
    for _ in range(n):
        add_mib()
        time.sleep(0.02)


print(os.getpid(), rss(), flush=True)
for line in sys.stdin:
    cmd = line.split()
    if cmd[0] == "grow":
        for _ in range(int(cmd[1])):
            add_mib()
        print("rss", rss(), flush=True)
    elif cmd[0] == "run":
        threading.Thread(target=run, args=(int(cmd[1]),), daemon=True).start()
        print("running", flush=True)
    elif cmd[0] == "ping":
        print("pong", len(hoard), flush=True)
