"""A real program's heap: third-party packages (lxml, requests/urllib3 against a local
server, SQLAlchemy, Django ORM and templates, pydantic, numpy, pandas, each where it is
importable), asyncio with thousands of tasks and futures, generators and coroutines,
weakrefs and finalizers, slotted dataclasses, enums, typing generics, ctypes, and two
threads working all through the captures.

It takes two snapshots with `dump` and two on a signal (`install(signal=SIGUSR2)`), and after
each it goes on working (new tasks, ORM queries, HTTP requests, allocations and frees, full
collections) and checks its own results; any crash, hang or wrong result fails the test.
Ground truth for the first snapshot, computed here at the same instant: a census of
tracked types from gc.get_objects(), and sys.getsizeof of objects of C-implemented types.

usage: workload_realheap.py AGENT_DIR OUT_DIR [DEPS_DIR...]
Writes OUT_DIR/truth.json; prints "survived" at the end.
"""
import array
import asyncio
import collections
import ctypes
import dataclasses
import enum
import gc
import http.server
import json
import os
import signal
import sys
import threading
import time
import typing
import weakref

sys.path.insert(0, sys.argv[1])
OUT = sys.argv[2]
sys.path[1:1] = sys.argv[3:]
import pymem_agent  # noqa: E402

skipped = []


def optional(name):
    """The package, or None (and its name in `skipped`) where it is not installed here."""
    try:
        return __import__(name)
    except ImportError:
        skipped.append(name)
        return None


lxml_etree = None
if optional("lxml"):
    from lxml import etree as lxml_etree
requests = optional("requests")
sqlalchemy = optional("sqlalchemy")
django = optional("django")
pydantic = optional("pydantic")
numpy = optional("numpy")
pandas = optional("pandas") if numpy else None


def key(t):
    """The summary row of a type, as pymem names it."""
    return t.__qualname__ if t.__module__ == "builtins" else t.__module__ + "." + t.__qualname__


# --- plain Python: slotted dataclasses, enums, generics, weakrefs, finalizers, ctypes --------
if sys.version_info >= (3, 10):

    @dataclasses.dataclass(slots=True)
    class Rec:
        ident: int
        name: str
        tags: list

else:

    @dataclasses.dataclass
    class Rec:
        __slots__ = ("ident", "name", "tags")
        ident: int
        name: str
        tags: list


Color = enum.Enum("Color", ["C%d" % i for i in range(50)])


class Perm(enum.IntFlag):
    R = 4
    W = 2
    X = 1


T = typing.TypeVar("T")


class Box(typing.Generic[T]):
    def __init__(self, item: T):
        self.item = item


class Node:
    def __init__(self, n):
        self.n = n


class Point3(ctypes.Structure):
    _fields_ = [("x", ctypes.c_double), ("y", ctypes.c_double), ("z", ctypes.c_double)]


recs = [Rec(i, "r%d" % i, [i]) for i in range(3000)]
colors = [Color["C%d" % (i % 50)] for i in range(1000)]
perms = [Perm.R | Perm.W, Perm.X]
boxes = [Box[int](i) for i in range(1000)]
aliases = [typing.List[int], typing.Dict[str, Box[int]], typing.Optional[Rec]]
nodes = [Node(i) for i in range(2000)]
refs = [weakref.ref(n) for n in nodes]
by_number = weakref.WeakValueDictionary((n.n, n) for n in nodes)
finalized = []
doomed = [Node(-i) for i in range(300)]
finalizers = [weakref.finalize(d, finalized.append, d.n) for d in doomed]
points = (Point3 * 2000)()
structs = [Point3(i, i, i) for i in range(500)]


def counter(n):
    for i in range(n):
        yield i


async def later(i):
    await asyncio.sleep(0)
    return i


gens = [counter(10) for _ in range(500)]
for g in gens:
    next(g)
coros = [later(i) for i in range(300)]  # never started; closed at the end

# --- third-party packages ------------------------------------------------------------------
checks = []  # (what, function) run after every capture


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = str(int(self.path.rsplit("/", 1)[1]) ** 2).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
base_url = "http://127.0.0.1:%d/n/" % server.server_address[1]

if lxml_etree is not None:
    root = lxml_etree.Element("catalogue")
    for i in range(2000):
        lxml_etree.SubElement(root, "item", kind="ab"[i % 2], n=str(i)).text = "t%d" % i
    items = root.findall("item")  # Python proxies for the C nodes
    checks.append(("lxml", lambda: len(root.xpath("//item[@kind='b']")) == 1000))

if requests is not None:
    http_session = requests.Session()
    replies = [http_session.get(base_url + str(i), timeout=10).text for i in range(20)]
    assert replies == [str(i * i) for i in range(20)], replies
    checks.append(("requests", lambda: http_session.get(base_url + "12", timeout=10).text == "144"))
    import urllib3

    pool = urllib3.PoolManager()
    checks.append(("urllib3", lambda: pool.request("GET", base_url + "9").data == b"81"))

if sqlalchemy is not None:
    from sqlalchemy.orm import Session, declarative_base

    Base = declarative_base()

    class User(Base):
        __tablename__ = "users"
        id = sqlalchemy.Column(sqlalchemy.Integer, primary_key=True)
        name = sqlalchemy.Column(sqlalchemy.String)

    engine = sqlalchemy.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    orm = Session(engine)
    orm.add_all([User(name="u%d" % i) for i in range(3000)])
    orm.commit()
    users = orm.query(User).all()  # thousands of instances in the session's identity map
    added = [0]

    def orm_works():
        added[0] += 1
        orm.add(User(name="after%d" % added[0]))
        orm.commit()
        return orm.query(User).count() == 3000 + added[0] and users[17].name == "u17"

    checks.append(("sqlalchemy", orm_works))

if django is not None:
    from django.conf import settings

    # The ORM is used from inside the event loop below, as a sync-in-async program does.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes"],
        # A file, not :memory:: inside the event loop Django opens a connection per task.
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                               "NAME": os.path.join(OUT, "django.sqlite3")}},
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates"}],
        USE_TZ=True,
    )
    django.setup()
    from django.db import connection, models
    from django.template import Context, Template

    class Article(models.Model):
        title = models.CharField(max_length=100)
        views = models.IntegerField(default=0)

        class Meta:
            app_label = "realheap"

    with connection.schema_editor() as editor:
        editor.create_model(Article)
    Article.objects.bulk_create([Article(title="t%d" % i, views=i) for i in range(1000)])
    articles = list(Article.objects.all())
    template = Template("{% for a in articles %}{{ a.views }},{% endfor %}")
    checks.append(("django", lambda: Article.objects.filter(views__gte=990).count() == 10
                   and template.render(Context({"articles": articles[:3]})) == "0,1,2,"))

if pydantic is not None:

    class Item(pydantic.BaseModel):
        ident: int
        label: str

    models_ = [Item(ident=i, label="m%d" % i) for i in range(2000)]
    checks.append(("pydantic", lambda: Item.model_validate({"ident": "7", "label": "x"}).ident == 7
                   and sum(m.ident for m in models_) == 1999 * 1000))

if numpy is not None:
    matrix = numpy.arange(100000, dtype=numpy.float64).reshape(1000, 100).copy()  # owns its data
    checks.append(("numpy", lambda: float(matrix[:, 1].sum()) == sum(range(1, 100000, 100))))
if pandas is not None:
    frame = pandas.DataFrame({"n": numpy.arange(5000), "s": ["v%d" % i for i in range(5000)]})
    checks.append(("pandas", lambda: int(frame["n"].sum()) == 4999 * 2500 and frame["s"].iloc[42] == "v42"))

# --- threads working all through the captures -----------------------------------------------
stop = threading.Event()
progress = [0, 0]


def worker(slot):
    recent = collections.deque(maxlen=500)
    while not stop.is_set():
        d = {"slot": slot, "n": progress[slot], "payload": [progress[slot]] * 8}
        recent.append(d)
        if recent[0]["slot"] != slot:
            raise SystemExit("worker %d saw a corrupt deque" % slot)
        progress[slot] += 1
        if progress[slot] % 50 == 0:  # working, but leaving the GIL to the program
            time.sleep(0.001)


workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(2)]
for w in workers:
    w.start()


# --- captures --------------------------------------------------------------------------------
def census_and_dump(path, loop_objects):
    """The first snapshot, with ground truth taken at the same instant: the collector is off
    from the census to the end of the capture (the agent leaves it as it found it)."""
    gc.collect()
    gc.disable()
    try:
        types = [Rec, Color, Box, Node, weakref.finalize, Point3, type(loop_objects["task"]),
                 type(loop_objects["future"]), type(coros[0])]
        if requests is not None:
            types += [requests.Session, requests.adapters.HTTPAdapter, urllib3.PoolManager]
        if sqlalchemy is not None:
            types.append(User)
        if django is not None:
            types.append(Article)
        if pydantic is not None:
            types.append(Item)
        if pandas is not None:
            types.append(pandas.DataFrame)
        wanted = {t: 0 for t in types}
        for o in gc.get_objects():
            t = type(o)
            if t in wanted:
                wanted[t] += 1
        o = t = None
        census = {key(t): n for t, n in wanted.items()}
        # (Not asyncio's Task and Future: from 3.14 their instances keep their attributes
        # inline, in a block that grows with the class's shared keys, which sys.getsizeof
        # leaves out; pymem records the block.)
        sized = {
            "coroutine": coros[0],
            "generator": gens[0],
            "array": array.array("q", range(50000)),
            "deque": collections.deque(range(30000)),
            "bytearray": bytearray(70000),
            "set": set(range(20000)),
            "dict": {i: i for i in range(10000)},
            "list": list(range(40000)),
        }
        if lxml_etree is not None:
            sized["lxml_element"] = items[5]
        if numpy is not None:
            sized["numpy"] = matrix
        sizes = {name: {"addr": "0x%x" % id(o), "bytes": sys.getsizeof(o)} for name, o in sized.items()}
        before = progress[:]
        pymem_agent.dump(path)
        return census, sizes, before
    finally:
        gc.enable()


def work_after(label):
    """Ordinary work after a capture; every check must hold."""
    failed = [what for what, check in checks if not check()]
    if failed:
        raise SystemExit("%s: wrong results from %s" % (label, ", ".join(failed)))
    junk = [{"k": [i] * 5} for i in range(50000)]
    del junk
    started = time.monotonic()
    gc.collect()
    if time.monotonic() - started > 30:
        raise SystemExit("%s: a full collection took %.0f s" % (label, time.monotonic() - started))


async def main():
    loop = asyncio.get_running_loop()
    futures = [loop.create_future() for _ in range(3000)]

    async def waiter(f):
        return await f

    tasks = [asyncio.ensure_future(waiter(f)) for f in futures]
    await asyncio.sleep(0)  # every task now awaits its future
    census, sizes, before = census_and_dump(
        os.path.join(OUT, "first.jsonl"), {"task": tasks[0], "future": futures[0]})
    for i, f in enumerate(futures):
        f.set_result(i)
    if sum(await asyncio.gather(*tasks)) != sum(range(3000)):
        raise SystemExit("tasks gave wrong results after the first snapshot")
    work_after("first")

    # A second dump in the same asyncio process, with tasks running around it.
    more = [asyncio.ensure_future(later(i)) for i in range(2000)]
    await asyncio.sleep(0)
    pymem_agent.dump(os.path.join(OUT, "second.jsonl"))
    if sum(await asyncio.gather(*more)) != sum(range(2000)):
        raise SystemExit("tasks gave wrong results after the second snapshot")
    work_after("second")

    # Snapshots on a signal, as `pymem run --signal USR2` takes them, while tasks and the
    # HTTP server keep working.
    signals_dir = os.path.join(OUT, "signals")
    pymem_agent.install(signal=signal.SIGUSR2, directory=signals_dir)
    for round_ in range(2):
        os.kill(os.getpid(), signal.SIGUSR2)
        results = await asyncio.gather(*(later(i) for i in range(500)))
        if sum(results) != sum(range(500)):
            raise SystemExit("tasks gave wrong results after signal %d" % round_)
        work_after("signal %d" % round_)
    return census, sizes, before


try:
    census, sizes, before = asyncio.run(main())
finally:
    stop.set()  # a failure must not leave the workers spinning

# Finalizers and weak references still behave.
del doomed
gc.collect()
if sorted(finalized) != sorted(-i for i in range(300)):
    raise SystemExit("finalizers did not all run: %d of 300" % len(finalized))
if by_number[1234] is not nodes[1234] or refs[5]() is not nodes[5]:
    raise SystemExit("weak references are broken")
if sum(next(g) for g in gens) != 500 or points[1999].z != 0.0 or structs[7].y != 7.0:
    raise SystemExit("generators or ctypes objects are broken")
for c in coros:
    c.close()
for w in workers:
    w.join()
if progress == before:
    raise SystemExit("the worker threads made no progress")
server.shutdown()
with open(os.path.join(OUT, "truth.json"), "w") as f:
    json.dump({"census": census, "sizes": sizes, "skipped": skipped,
               "signal_snapshots": sorted(os.listdir(os.path.join(OUT, "signals")))}, f)
print("survived", flush=True)
