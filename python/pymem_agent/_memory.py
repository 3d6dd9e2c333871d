"""Reads of this process's memory through /proc/self/mem: an unmapped address is an error,
never a crash."""

import array
import ctypes
import os

from ._base import _raw_buffer


_PREAD = []


def _libc_pread():
    """libc's pread through ctypes.pythonapi (a PyDLL, which keeps the GIL during the call),
    made once per process. Built from pythonapi's own function-pointer class: a new PyDLL
    would define a new class (and a subclass entry in ctypes' base), and pythonapi.pread
    would cache the function on pythonapi where the program might meet it."""
    if not _PREAD:
        try:
            api = ctypes.pythonapi
            fn = api._FuncPtr(("pread", api))
            fn.restype = ctypes.c_ssize_t
            fn.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_long]
            _PREAD.append(fn)
        except Exception:
            _PREAD.append(None)
    return _PREAD[0]


class _Memory:
    """Reads process memory through /proc/self/mem: an unmapped address fails, never faults."""

    def __init__(self):
        self.fd = os.open("/proc/self/mem", os.O_RDONLY)
        self._pread = _libc_pread()
        if self._pread is not None:
            self._buf, self._buf_addr = _raw_buffer(4096)

    def read(self, addr, n):
        if addr <= 0 or addr >= 1 << 63:
            return None
        if self._pread is not None and n <= 4096:
            got = self._pread(self.fd, self._buf_addr, n, addr)
            if got != n:
                return None
            return bytes(self._buf[:n])
        try:
            data = os.pread(self.fd, n, addr)
        except OSError:
            return None
        return data if len(data) == n else None

    def close(self):
        os.close(self.fd)


def _u64s(data):
    a = array.array("Q")
    a.frombytes(data[: len(data) - len(data) % 8])
    return a
