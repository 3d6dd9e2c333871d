"""Tests run by pytest with pymem's plugin (`pytest -p pymem_agent`), by tests/it/pytest_plugin.rs."""
import pytest

_seen = {}


class Token:
    def __init__(self, i):
        self.value = "tok-%d" % i


@pytest.fixture
def counter():
    return [0]


@pytest.mark.pymem_leaks(max_growth="16KiB", rounds=300)
def test_registry_leaks(counter):
    counter[0] += 1
    _seen["t%d" % counter[0]] = Token(counter[0])


@pytest.mark.pymem_leaks(max_growth="16KiB", rounds=300)
def test_bounded_is_fine(counter):
    counter[0] += 1
    _seen["fixed-%d" % (counter[0] % 10)] = Token(counter[0])


def test_unmarked_runs_once(counter):
    counter[0] += 1
    assert counter[0] == 1
