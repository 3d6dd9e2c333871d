"""The text of sys._debugmallocstats(), which CPython writes to the C-level stderr (fd 2):
pymalloc's size classes and totals, the free lists. Shared by the workloads whose ground
truth is counted from it."""
import os
import sys
import tempfile


def debugmallocstats():
    saved = os.dup(2)
    with tempfile.TemporaryFile() as f:
        os.dup2(f.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        f.seek(0)
        return f.read().decode()
