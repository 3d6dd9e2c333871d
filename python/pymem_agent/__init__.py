"""pymem capture agent: writes a heap snapshot of the running CPython process.

Stdlib only, CPython 3.8-3.15 (GIL builds; 3.14.5 and later). Installed by the pymem wheel
(`pip install pymem`), and shipped inside the `pymem` binary, which writes it out with
`pymem agent --write DIR` and injects it for `pymem run` and `pymem attach --method inject`.
Use:

    import pymem_agent
    pymem_agent.dump("heap.jsonl")            # -> dict with counts and the final path

The snapshot format (JSON Lines, "pymem-snapshot" version 1) is documented in the rustdoc of
pymem's `snapshot` module. Rules this package keeps, each covered by pymem's tests:

* it never runs user code: no repr/len/getattr/hash/eq on arbitrary objects; only the C-level
  slots of exact builtin types, `gc.get_referents`, and reads of validated memory;
* it never materialises instance dicts and never calls gc.collect() unless collect=True;
* it reads allocator memory only through /proc/self/mem (a bad address is an error, not a
  crash) and validates every pool header before using it;
* it writes to a temporary file beside the target and renames it only when complete.

Modules, in the order each builds on the ones before (the order `pymem` joins them in when it
injects the agent as one file): _base, _memory, _allocator, _support, _buffers, _kinds,
_names, _labels, _types, _numpy, _roots, _walk, _capture, _arming; pytest_plugin and __main__ are not
injected.
"""

# The version of pymem this agent belongs to; a test keeps it equal to Cargo.toml's.
__version__ = "0.1.0"

from ._base import FORMAT, VERSION
from ._support import UnsupportedPython
from ._capture import CaptureBusy, dump
from ._arming import _attach, _run_main, install  # noqa: F401 (_attach, _run_main: entry points of attach and run)

# `pytest -p pymem_agent` (where the wheel's entry point does not load the plugin itself).
from .pytest_plugin import pytest_addoption, pytest_configure, pytest_pyfunc_call  # noqa: F401 (the plugin's hooks)

__all__ = ["CaptureBusy", "FORMAT", "UnsupportedPython", "VERSION", "__version__", "dump", "install"]
