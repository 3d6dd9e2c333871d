"""A heap for comparing a read from outside with the agent: builtin containers of every
kind, instances with dicts, managed values and slots, and the standard library's C types
(array, deque, OrderedDict, defaultdict, partial, lru_cache, itertools, io, weakrefs,
generators, coroutines, asyncio tasks, ctypes), a second thread parked in C with locals.

usage: workload_outside.py AGENT_DIR SNAPSHOT

Prints "PID FD" and then sits in os.read(FD): the test reads the process from outside while
it sits there, then writes "d" to the pipe; the program then takes the agent's snapshot
(on the very same line, so that frames agree) and prints "dumped"."""
import array
import asyncio
import collections
import ctypes
import functools
import io
import itertools
import os
import sys
import threading
import time
import weakref

sys.path.insert(0, sys.argv[1])
import pymem_agent


class Plain:
    def __init__(self, i):
        self.i = i
        self.name = "plain-%d" % i
        self.same_a = self.same_b = None  # two attributes, one object


class Slotted:
    __slots__ = ("x", "y", "__weakref__")

    def __init__(self, i):
        self.x = i
        self.y = [i]


class Partial:
    def __init__(self, i):
        if i % 2:
            self.odd = i  # some instances leave attributes unset


class MyDict(dict):
    pass


class MyList(list):
    def __init__(self, *a):
        super().__init__(*a)
        self.tag = "mylist"


class Touched:
    def __init__(self):
        self.items = {"a": 1}


plain = [Plain(i) for i in range(200)]
slotted = [Slotted(i) for i in range(100)]
partial = [Partial(i) for i in range(50)]
touched = Touched()
vars(touched)  # materialise its __dict__
mydict = MyDict(a=1, b=[2])
mylist = MyList([1, 2, 3])
mixed_keys = {1: "one", (2, 3): "pair", "s": "str", None: 0, 2.5: "f", frozenset([1]): "fs"}
long_key = {"k" * 100: 1, "not an identifier": 2}
nested = {"l": [(1, 2), {3, 4}, frozenset({5})], "t": (b"bytes", bytearray(b"ba"), 1.5, 10 ** 30)}
big_list = list(range(1000))
big_tuple = tuple(range(300))
big_set = set(range(500))
big_str = "x" * 5000
unicode_str = "é" * 10 + "€" * 10 + "\U0001f600"
# Struct sequences keep fields beyond their visible length (os.stat_result's float times and
# nanosecond ints, struct_time's zone): the read from outside must find them as the
# agent's traversal does (issue 26).
stats = [os.stat(__file__) for _ in range(50)]
clock = time.localtime(1_700_000_000.5)
flags = sys.flags

numbers = array.array("d", range(100))
ring = collections.deque(range(200), maxlen=150)
queue = collections.deque(range(70))
ordered = collections.OrderedDict((str(i), i) for i in range(20))
grouped = collections.defaultdict(list)
for i in range(30):
    grouped[i % 7].append(i)
counter = collections.Counter("abracadabra")
adder = functools.partial(max, 1, key=abs)


@functools.lru_cache(maxsize=32)
def cached(n):
    return [n] * 2


@functools.lru_cache(maxsize=None)
def unbounded(n):
    return str(n)


for i in range(40):
    cached(i)
    unbounded(i)

counting = itertools.count(5)
cycling = itertools.cycle([1, 2])
chained = itertools.chain([1], [2])
buffer = io.BytesIO(b"0123456789" * 10)
text = io.StringIO("hello\nworld\n")
opened = open(__file__, "rb")
refs = [weakref.ref(s) for s in slotted[:10]]
proxy = weakref.proxy(slotted[0])
values = weakref.WeakValueDictionary({i: s for i, s in enumerate(slotted[:20])})
finalizer = weakref.finalize(slotted[1], print, "finalized")


def generate(n):
    acc = []
    for i in range(n):
        acc.append(i)
        yield i


suspended = generate(10)
next(suspended)
next(suspended)


async def waiter(future, label):
    local = [label]  # noqa: F841 (held by the coroutine's frame, for the capture)
    return await future


loop = asyncio.new_event_loop()
futures = [loop.create_future() for _ in range(5)]
tasks = [loop.create_task(waiter(f, "t%d" % i)) for i, f in enumerate(futures)]
loop.run_until_complete(asyncio.sleep(0))
coro = waiter(futures[0], "bare")

c_int = ctypes.c_int(42)
c_array = (ctypes.c_double * 16)()


class Point(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_int)]


c_point = Point(1, 2)

# With PYMEM_COMPILED set (and the packages on PYTHONPATH): objects of compiled code.
# mypy is compiled by mypyc, whose classes keep int attributes as tagged words (an int's
# address plus one when it does not fit in 62 bits: Instance._hash); lxml by Cython, whose
# shared function type has no string __module__; pydantic-core by PyO3 (Rust); contourpy by
# pybind11; gemmi by nanobind (issue 26).
compiled = None
if os.environ.get("PYMEM_COMPILED"):
    from lxml import etree
    from mypy.nodes import Block, ClassDef, SymbolTable, TypeInfo
    from mypy.types import Instance

    info = TypeInfo(SymbolTable(), ClassDef("C", Block([])), "m")
    instances = [Instance(info, [], line=i) for i in range(2000)]
    for i, inst in enumerate(instances):
        hash(inst)  # caches its hash in _hash (a short tagged value or a boxed int)
        if i % 2:
            inst._hash = (1 << 62) + i  # too big for a short tagged value: an int object
    tree = etree.fromstring("<r>" + "<a k='v'>t</a>" * 200 + "</r>")

    import contourpy
    import numpy
    import pydantic
    from pydantic_core import SchemaValidator, core_schema

    class Order(pydantic.BaseModel):
        id: int
        sku: str
        tags: list

    orders = [Order(id=i, sku="s%d" % i, tags=[i]) for i in range(300)]
    validator = SchemaValidator(core_schema.list_schema(core_schema.int_schema()))
    validated = validator.validate_python(list(range(50)))
    contours = contourpy.contour_generator(z=numpy.arange(64.0).reshape(8, 8))
    contour_lines = contours.lines(20.0)
    import gemmi

    cells = [gemmi.UnitCell(10.0 + i, 20.0, 30.0, 90.0, 90.0, 90.0) for i in range(200)]
    structure = gemmi.Structure()
    structure.add_model(gemmi.Model("1"))
    structure.cell = cells[0]
    group = gemmi.find_spacegroup_by_name("P 21 21 21")
    # mypy at work: it type-checks a real package from PyPI (annotated_types, pinned) and
    # the build result stays, as in a language server: a whole mypyc heap, whose ints in
    # tagged words were 14 % of all its ints and mostly missed (issue 26).
    from mypy import build as mypy_build
    from mypy.main import process_options

    sources, mypy_options = process_options(
        ["-p", "annotated_types", "--no-incremental", "--cache-dir", os.devnull])
    mypy_result = mypy_build.build(sources, mypy_options)
    compiled = (instances, tree, tree.findall("a"), etree.tostring, orders, validator,
                validated, contours, contour_lines, mypy_result, cells, structure, group,
                gemmi.UnitCell.fractionalize)

parked = threading.Event()
ready = threading.Event()


def parked_thread(tag):
    thread_local = {"tag": tag, "data": list(range(5))}
    ready.set()
    parked.wait()
    return thread_local


worker = threading.Thread(target=parked_thread, args=("worker",), name="parked-worker", daemon=True)
worker.start()
ready.wait()

r, w = os.pipe()
print(os.getpid(), r, flush=True)


def wait_for_capture(path):
    local_list = [1, 2, 3]  # noqa: F841 (held by the frame, for the capture)
    while True:
        os.read(r, 1) == b"d" and (pymem_agent.dump(path), print("dumped", flush=True))


wait_for_capture(sys.argv[2])
