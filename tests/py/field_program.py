"""A program for `pymem run` and `pymem attach` tests.

usage: field_program.py MODE [ARGS...]
  exit CODE      print argv, echo one stdin line, exit with CODE (snapshot at exit)
  signal         send itself SIGUSR2 (the armed snapshot), then exit 0
  term           wait for SIGTERM (passed on by pymem), print "got TERM", exit 5
  serve FILE [DIR] [BLOCK]
                 keep running, writing a heartbeat counter to FILE every 20 ms (main thread)
                 and to FILE.thread every 20 ms (a second thread); with DIR (not -), arm
                 the agent: a snapshot into DIR on each SIGUSR2; with BLOCK, both threads
                 sleep BLOCK seconds at a time instead (in C, where no queued code can
                 run); exits with code 3 on SIGTERM
"""
import os
import signal
import sys
import time


class Planted:
    pass


planted = [Planted() for _ in range(321)]
mode = sys.argv[1]
if mode == "exit":
    print("argv", sys.argv[1:], __name__)
    print("stdin", sys.stdin.readline().strip())
    sys.stdout.flush()
    sys.exit(int(sys.argv[2]))
elif mode == "signal":
    os.kill(os.getpid(), signal.SIGUSR2)
    time.sleep(0.1)
elif mode == "term":
    def on_term(signum, frame):
        print("got TERM")
        sys.stdout.flush()
        sys.exit(5)

    signal.signal(signal.SIGTERM, on_term)
    print("ready")
    sys.stdout.flush()
    for _ in range(600):
        time.sleep(0.05)
    sys.exit(9)
elif mode == "serve":
    import threading

    beat = sys.argv[2]
    armed = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] != "-" else None
    block = float(sys.argv[4]) if len(sys.argv) > 4 else 0.02
    if armed:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../python"))
        import pymem_agent

        del sys.path[0]
        pymem_agent.install(signal=signal.SIGUSR2, directory=armed)

    def on_term(signum, frame):
        sys.exit(3)

    signal.signal(signal.SIGTERM, on_term)

    def write(path, n):
        with open(path + ".tmp", "w") as f:
            f.write(str(n))
        os.replace(path + ".tmp", path)

    def ticker():
        n = 0
        while True:
            time.sleep(block)
            n += 1
            write(beat + ".thread", n)

    threading.Thread(target=ticker, daemon=True).start()
    n = 0
    while True:
        time.sleep(block)
        n += 1
        write(beat, n)
