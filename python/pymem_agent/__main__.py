"""`python -m pymem_agent`: the version and how to take a snapshot; `python -m pymem_agent
FILE` takes one of this (otherwise idle) interpreter."""

import sys

from . import __version__, dump

_USAGE = """pymem_agent %s (CPython %d.%d.%d at %s)

Take a snapshot inside your program:
    import pymem_agent
    pymem_agent.dump("heap.jsonl")                # no string contents; values=True adds them
    pymem_agent.install(signal=signal.SIGUSR2)    # then: kill -USR2 PID

Or from outside, with no code in the process:
    pymem attach PID -o heap.jsonl
    pymem run --signal USR2 -- script.py

Then: pymem summary heap.jsonl; pymem top heap.jsonl; pymem leaks a.jsonl b.jsonl c.jsonl
"""


def main(argv):
    if len(argv) > 1 and argv[1] not in ("-h", "--help", "--version"):
        print(dump(argv[1]))
        return 0
    v = sys.version_info
    print(_USAGE % (__version__, v[0], v[1], v[2], sys.executable), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
