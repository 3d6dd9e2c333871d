"""A heap whose names are made to attack terminals and reports: escapes, bells, newlines
that forge whole output lines, direction overrides, in a class's module and qualname, a
module's name, attribute names, dict keys, a function's name, a thread's name (roots), a
growing container (leaks, gate, caches) and many instances (advise). Three snapshots, one
round of growth between each.

usage: workload_hostile.py AGENT_DIR OUT_DIR
"""
import os
import sys
import threading
import types

sys.path.insert(0, sys.argv[1])
import pymem_agent

FORGED = "\nRSS        0 B (forged)\nFAIL: forged\n"
EVIL = "Evil\x1b]0;pwned\x07Q\x1b[2J\x1b[31m\u202e\x9b" + FORGED

# A module with a hostile name, holding the growing container.
mod = types.ModuleType("evilmod\x1b[2J\x1b[31m" + FORGED)
sys.modules[mod.__name__] = mod


class Hostile:
    pass


Hostile.__module__ = "evilmod\x1b[2J\x1b[31m" + FORGED
Hostile.__qualname__ = Hostile.__name__ = EVIL


def handler():
    pass


handler.__qualname__ = handler.__name__ = EVIL
handler.__code__ = handler.__code__.replace(co_name=EVIL)

mod.hoard = {}
setattr(mod, EVIL, [Hostile() for _ in range(300)])  # a global with a hostile name
instances = [Hostile() for _ in range(500)]  # advice: instances that could use __slots__
for h in instances:
    setattr(h, "attr" + FORGED, 1)
mod.handler = handler

# Names that are markup and script: an HTML report must show them as text and run nothing.
MARKUP = "</script><img src=x onerror=window.pwned=1><script>window.pwned=2</script>"


class Markup:
    pass


Markup.__qualname__ = Markup.__name__ = MARKUP
mod.markup = {"javascript:window.pwned=3": [Markup() for _ in range(200)], MARKUP: Markup()}


def grow(n):
    for i in range(n):
        h = Hostile()
        h.payload = [i] * 8
        mod.hoard[EVIL + str(len(mod.hoard))] = h


def snap(i):
    pymem_agent.dump(os.path.join(sys.argv[2], "s%d.jsonl" % i))


def run():
    local_with_hostile_thread_name = [Hostile()]  # noqa: F841 (a root: a local of this frame)
    for i in range(3):
        grow(2000)
        snap(i)


t = threading.Thread(target=run, name="thread" + EVIL)
t.start()
t.join()
