"""Object shapes shared by the benchmark programs: instances of a plain class (a dict's or
inline values' worth of attributes, a name, a list) and of a slotted class."""


class Node:
    def __init__(self, i):
        self.i = i
        self.name = "n%d" % i
        self.tags = [i, i + 1]


class Slotted:
    __slots__ = ("key", "value")

    def __init__(self, i):
        self.key = "k%d" % i
        self.value = (i, i * 2)
