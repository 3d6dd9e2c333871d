"""A program for `pymem run` and `pymem attach` tests.

usage: field_program.py MODE [ARGS...]
  exit CODE      print argv, echo one stdin line, exit with CODE (snapshot at exit)
  signal         send itself SIGUSR2 (the armed snapshot), then exit 0
  term           wait for SIGTERM (passed on by pymem), print "got TERM", exit 5
  serve FILE     keep running, writing a heartbeat counter to FILE every 20 ms
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
    n = 0
    while True:
        time.sleep(0.02)
        n += 1
        with open(sys.argv[2] + ".tmp", "w") as f:
            f.write(str(n))
        os.replace(sys.argv[2] + ".tmp", sys.argv[2])
