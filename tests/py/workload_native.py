"""A leak in native code, reproduced from pydantic#8397 (pydantic 2.5.2, pydantic-core 2.14.5):
each TypeAdapter of a recursive model leaves a reference cycle of Rust Arcs behind, about
7.5 kB of C heap per call, while the count of Python objects stays flat.

usage: workload_native.py AGENT_DIR OUT_DIR (leak|control) [CALLS_PER_ROUND]

Writes OUT_DIR/a.jsonl (after a warm-up), b.jsonl and c.jsonl (after each round), and
OUT_DIR/truth.json: the C allocator's bytes in use (mallinfo2, read with ctypes) at each
snapshot, measured by the program itself. The control validates the same data through one
TypeAdapter made once."""
import ctypes
import gc
import json
import os
import sys
from typing import List

sys.path.insert(0, sys.argv[1])
import pymem_agent
from pydantic import BaseModel, TypeAdapter

out, mode = sys.argv[2], sys.argv[3]
per_round = int(sys.argv[4]) if len(sys.argv) > 4 else 1000


class Bar(BaseModel):
    pass


class Foo(BaseModel):
    children: List["Foo"]
    bar: Bar


DATA = [{"children": [], "bar": Bar()}]
_shared = TypeAdapter(List[Foo])


def call():
    adapter = TypeAdapter(List[Foo]) if mode == "leak" else _shared
    got = adapter.validate_python(DATA)
    assert len(got) == 1 and got[0].children == []


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def c_heap_in_use():
    libc = ctypes.CDLL(None)
    try:
        f = libc.mallinfo2
    except AttributeError:
        return None
    f.restype = _Mallinfo2
    m = f()
    return m.uordblks + m.hblkhd


for _ in range(50):  # warm-up: schemas, caches and imports settle before the baseline
    call()
truth = {"c_heap_in_use": []}
for name in ("a", "b", "c"):
    gc.collect()
    truth["c_heap_in_use"].append(c_heap_in_use())
    pymem_agent.dump(os.path.join(out, name + ".jsonl"), collect=True)
    if name == "c":
        break
    for _ in range(per_round):
        call()
with open(os.path.join(out, "truth.json"), "w") as f:
    json.dump(truth, f)
