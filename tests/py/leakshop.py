"""A small service with one planted leak (or steady-state control) per scenario.

Each scenario is a function called once per iteration of the workload; the leaking ones
grow a container held in a different place, the controls churn without growing."""
import collections
import functools
import logging
import sys
import warnings


class Cart:
    def __init__(self, i):
        self.user = "u%d" % i
        self.items = [i, i + 1, i + 2]


class Session:
    def __init__(self, i):
        self.token = "t%d" % i
        self.data = {"n": i}


# --- leaks -------------------------------------------------------------------------------
_carts = {}


def module_global(i):
    _carts["u%d" % i] = Cart(i)


class Registry:
    instances = []


def class_attr(i):
    Registry.instances.append(Session(i))


class App:
    def __init__(self):
        self.history = []


app = App()


def instance_attr(i):
    app.history.append({"request": i, "path": "/items/%d" % i})


def remember(x, _seen=[]):  # noqa: B006 - the leak under test
    _seen.append(x)


def func_default(i):
    remember(Cart(i))


def _make_tracker():
    log = []

    def track(x):
        log.append(x)

    return track


track = _make_tracker()


def closure(i):
    track(("event", i, [i]))


@functools.lru_cache(maxsize=None)
def lookup(key):
    return [key, key * 2, "v%d" % key]


def lru_unbounded(i):
    lookup(i)


def stdlib_registry(i):
    logging.getLogger("leakshop.request.%d" % i)


_by_user = collections.defaultdict(list)


def defaultdict_lists(i):
    _by_user["user%d" % (i % 10)].append(Session(i))


# CPython gh-97557: the registry of the module a warning is attributed to keeps one entry
# per distinct message, so a warning whose text varies (a price, an id) grows it without
# bound. As in the report, the registry is __main__'s (stacklevel=2: the caller's module),
# next to the program's own globals. The default action shows each once; the program
# silences the showing, not the registry.
warnings.showwarning = lambda *args, **kwargs: None


def warning_registry(i):
    warnings.warn("price %d is out of range" % i, stacklevel=2)


# --- controls: steady state ----------------------------------------------------------------
@functools.lru_cache(maxsize=64)
def bounded(key):
    return [key, "v%d" % key]


def bounded_lru(i):
    bounded(i)


# An lru_cache that is still filling up (issue 26): bounded, so never a leak, however its
# entries grow between the snapshots.
@functools.lru_cache(maxsize=4096)
def filling(key):
    return {"key": key, "payload": [key] * 4}


def lru_filling(i):
    filling(i)


_recent = collections.deque(maxlen=100)


def deque_ring(i):
    _recent.append(Session(i))


# A query log like Django's with DEBUG=True: bounded, and still filling up.
_query_log = collections.deque(maxlen=9000)


def deque_filling(i):
    _query_log.append(Session(i))


_slots = {}


def overwrite(i):
    _slots["k%d" % (i % 50)] = Cart(i)


def temporary(i):
    batch = [Cart(i + j) for j in range(20)]
    return len(batch)


LEAKS = {
    "module_global": "leakshop._carts",
    "class_attr": "leakshop.Registry.instances",
    "instance_attr": "leakshop.app.history",
    "func_default": "leakshop.remember.__defaults__[0]",
    "closure": "leakshop.track.__closure__[0].cell_contents",
    "lru_unbounded": "leakshop.lookup",
    "stdlib_registry": "loggerDict",
    "defaultdict_lists": "leakshop._by_user",
    "warning_registry": "__main__.__warningregistry__",
}
CONTROLS = ["bounded_lru", "lru_filling", "deque_ring", "deque_filling", "overwrite", "temporary"]


def planted(scenario):
    """The container a leak scenario grows, and its entries, found by the program itself."""
    if scenario == "lru_unbounded":
        return lookup, lookup.cache_info().currsize
    container = {
        "module_global": lambda: _carts,
        "class_attr": lambda: Registry.instances,
        "instance_attr": lambda: app.history,
        "func_default": lambda: remember.__defaults__[0],
        "closure": lambda: track.__closure__[0].cell_contents,
        "stdlib_registry": lambda: logging.Logger.manager.loggerDict,
        "defaultdict_lists": lambda: _by_user,
        "warning_registry": lambda: vars(sys.modules["__main__"])["__warningregistry__"],
    }[scenario]()
    return container, len(container)
