"""Fragmentation: long-lived Tokens allocated among many short-lived objects of the same size
class, then the short-lived ones freed, so a few Tokens pin otherwise empty arenas.

usage: workload_frag.py AGENT_DIR SNAPSHOT TRUTH_JSON [compact]

With `compact` nothing survives the burst (the control: arenas go back to the OS)."""
import gc
import json
import sys

sys.path.insert(0, sys.argv[1])
import pymem_agent


class Token:
    __slots__ = ("owner", "serial")


class Scratch:
    __slots__ = ("owner", "serial")  # same layout, same pymalloc size class as Token


class Auth:
    def __init__(self):
        self.tokens = []


auth = Auth()
compact = len(sys.argv) > 4 and sys.argv[4] == "compact"
burst = []
for i in range(300_000):
    if i % 150 == 0 and not compact:
        t = Token()
        t.owner, t.serial = None, None
        auth.tokens.append(t)
    else:
        s = Scratch()
        s.owner, s.serial = None, None
        burst.append(s)
del burst, s
gc.collect()
pymem_agent.dump(sys.argv[2])
with open(sys.argv[3], "w") as f:
    json.dump({"tokens": sum(1 for o in gc.get_objects() if type(o) is Token)}, f)
