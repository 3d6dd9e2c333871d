"""The pytest plugin: the `pymem_leaks` marker, which runs a test body repeatedly between
snapshots and fails the test when `pymem gate` finds a growing container.

Loaded by itself where the wheel is installed (its `pytest11` entry point), else with
`pytest -p pymem_agent`. A test marked

    @pytest.mark.pymem_leaks(max_growth="64KiB", rounds=100, warmup=5)

runs `warmup` times, then a baseline snapshot is taken, then it runs `rounds` times between
each of two more snapshots, and `pymem gate` judges the three (the `pymem` binary from
$PYMEM, else the one installed beside this interpreter, else PATH). A failing gate fails the
test with the leak roots; the snapshots are then kept and their directory named. Other
options: max_leaks=N, min_growth=SIZE, ignore=[patterns]. Fixtures are set up once and
shared by every call; coroutine tests are not supported. With `--pymem-report-dir DIR`, a
failing leak test also leaves `pymem report`'s HTML page of its three snapshots in DIR
(named after the test), for a reviewer to open.

Snapshots are read from outside by `pymem attach` where the system lets a child read its
parent (about 5x faster than the walk from inside, and nothing of the capture's in them),
else taken from inside. Command-line options, each with an ini key of the same name
(`pymem_rounds = 50` in pytest.ini): `--pymem-off` runs marked tests once as plain tests;
`--pymem-rounds N` sets the default rounds; `--pymem-capture auto|outside|inside`."""

import os
import sys

from ._capture import dump

_LEAK_OPTIONS = ("max_growth", "max_leaks", "min_growth", "rounds", "warmup", "ignore")


_OPTIONS = (
    ("report_dir", "DIR", "write an HTML report (pymem gate --html) for every failing pymem_leaks test into DIR"),
    ("off", None, "run pymem_leaks tests once, as plain tests (no snapshots, no gate)"),
    ("rounds", "N", "rounds between snapshots for tests whose marker does not say (default 100)"),
    ("capture", "HOW", "auto (read from outside where permitted, else inside), outside or inside"),
)


def pytest_addoption(parser):
    group = parser.getgroup("pymem")
    for name, metavar, text in _OPTIONS:
        flag = "--pymem-" + name.replace("_", "-")
        if metavar is None:
            group.addoption(flag, action="store_true", default=None, help=text)
            parser.addini("pymem_" + name, text, type="bool", default=False)
        else:
            group.addoption(flag, default=None, metavar=metavar, help=text)
            parser.addini("pymem_" + name, text, default=None)


def _option(config, name):
    """--pymem-NAME, else the ini key pymem_NAME."""
    value = config.getoption("pymem_" + name, None)
    if value is None:
        try:
            value = config.getini("pymem_" + name)
        except (ValueError, KeyError):
            value = None
    return value


def _report_path(item):
    """DIR/<test id>.html for a failing test, or None without --pymem-report-dir."""
    import re

    directory = _option(item.config, "report_dir")
    if not directory:
        return None
    os.makedirs(directory, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", item.nodeid).strip("_")[:200] or "test"
    return os.path.join(directory, name + ".html")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "pymem_leaks(max_growth='64KiB', rounds=100, warmup=5, max_leaks=None, min_growth=None, "
        "ignore=()): run the test body repeatedly and fail if pymem finds a growing container",
    )


def pytest_pyfunc_call(pyfuncitem):
    """Runs before pytest's own call of the test function (that one is `trylast`)."""
    marker = pyfuncitem.get_closest_marker("pymem_leaks")
    if marker is None:
        return None
    import inspect

    if inspect.iscoroutinefunction(pyfuncitem.obj) or _option(pyfuncitem.config, "off"):
        return None
    _run_leak_check(pyfuncitem, marker)
    return True


def _size(n):
    """Bytes as `pymem` prints them: 64.0 KiB, 1.5 MiB."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return "%d B" % n if unit == "B" else "%.1f %s" % (n, unit)
        n /= 1024.0


def _snapshot(binary, path, how):
    """A snapshot of this process: read from outside by `pymem attach` (how: auto or
    outside), else taken from inside. Returns how it was taken."""
    import gc
    import subprocess

    if how in ("auto", "outside"):
        gc.collect()  # as dump(collect=True) does
        allowed = _allow_reading_by_children(True)
        try:
            proc = subprocess.run(
                [binary, "--no-index", "attach", str(os.getpid()), "-o", path],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
            )
        finally:
            if allowed:
                _allow_reading_by_children(False)
        if proc.returncode == 0:
            return "outside"
        if how == "outside":
            import pytest

            pytest.fail("pymem_leaks: pymem attach failed: %s" % proc.stderr.strip(), pytrace=False)
    dump(path, collect=True)
    return "inside"


def _allow_reading_by_children(allow):
    """Where Yama's ptrace_scope is 1, a process may be read only by its ancestors, or by
    those it names: prctl(PR_SET_PTRACER, ANY) for the read, undone after. True if set."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_ptracer, any_ptracer = 0x59616D61, ctypes.c_ulong(-1).value
        return libc.prctl(pr_set_ptracer, any_ptracer if allow else 0, 0, 0, 0) == 0
    except Exception:
        return False



def _pymem_binary():
    """$PYMEM; else the `pymem` that the wheel installed beside this interpreter (its scripts
    directory, which need not be on PATH: `venv/bin/python -m pytest`); else PATH."""
    import shutil
    import sysconfig

    if os.environ.get("PYMEM"):
        return os.environ["PYMEM"]
    for directory in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        candidate = os.path.join(directory or "", "pymem")
        if directory and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("pymem")


def _run_leak_check(item, marker):
    import json
    import shutil
    import subprocess
    import tempfile

    import pytest

    opts = dict(marker.kwargs)
    unknown = sorted(set(opts) - set(_LEAK_OPTIONS))
    if unknown or marker.args:
        pytest.fail("pymem_leaks: unknown option(s) %s (known: %s)" % (unknown or list(marker.args), ", ".join(_LEAK_OPTIONS)), pytrace=False)
    binary = _pymem_binary()
    if not binary:
        pytest.fail("pymem_leaks: the pymem binary was not found (install the pymem wheel, put pymem on PATH or set PYMEM)", pytrace=False)
    func = item.obj
    kwargs = {name: item.funcargs[name] for name in item._fixtureinfo.argnames}
    for _ in range(int(opts.get("warmup", 5))):
        func(**kwargs)
    # Under pytest's own temporary directory (--basetemp; pytest keeps the last few runs),
    # so that a run leaves nothing of its own in the system's temporary directory.
    try:
        directory = str(item.config._tmp_path_factory.mktemp("pymem-leaks", numbered=True))
    except Exception:
        directory = tempfile.mkdtemp(prefix="pymem-leaks-")
    rounds = int(opts.get("rounds") or _option(item.config, "rounds") or 100)
    how = _option(item.config, "capture") or "auto"
    if how not in ("auto", "outside", "inside"):
        pytest.fail("pymem_leaks: --pymem-capture %s is not auto, outside or inside" % how, pytrace=False)
    paths = []
    for name in ("baseline", "target", "final"):
        if paths:
            for _ in range(rounds):
                func(**kwargs)
        paths.append(os.path.join(directory, name + ".jsonl"))
        how = _snapshot(binary, paths[-1], how)  # once outside fails, inside for the rest
    cmd = [binary, "--no-index", "gate"] + paths + ["--format", "json", "--max-growth", str(opts.get("max_growth", "64KiB"))]
    if opts.get("max_leaks") is not None:
        cmd += ["--max-leaks", str(opts["max_leaks"])]
    if opts.get("min_growth") is not None:
        cmd += ["--min-growth", str(opts["min_growth"])]
    for pattern in opts.get("ignore", ()):
        cmd += ["--ignore", pattern]
    report = _report_path(item)
    if report:
        cmd += ["--html", report]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if proc.returncode == 0:
        shutil.rmtree(directory, ignore_errors=True)
        if report and os.path.exists(report):
            os.remove(report)  # a report for failing tests only
        return
    if proc.returncode != 1:
        pytest.fail("pymem_leaks: pymem gate failed: %s" % proc.stderr.strip(), pytrace=False)
    verdict = json.loads(proc.stdout)
    broken = [
        "%s %s > %s" % (b["limit"], b["value"], b["allowed"])
        if b["limit"] == "max_leaks"
        else "%s %s > %s" % (b["limit"], _size(b["value"]), _size(b["allowed"]))
        for b in verdict["breaches"]
    ]
    lines = ["pymem: %s leaks (%s)" % (item.name, "; ".join(broken))]
    for root in verdict["leaks"]["roots"]:
        if root["leak"]:
            where = root["path"]["expr"] if root.get("path") else root["addr"]
            lines.append(
                "  %s (%s): +%s, entries %s; e.g. %s"
                % (where, root["kind"], _size(root["growth_bytes"]), root["entries"], (root.get("sample") or {}).get("expr", "-"))
            )
    lines.append("snapshots: %s (pymem leaks %s)" % (directory, " ".join(paths)))
    if report:
        lines.append("report: %s" % report)
    pytest.fail("\n".join(lines), pytrace=False)
