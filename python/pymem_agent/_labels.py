"""Labellers: the names of the references an object holds (attributes, slots, dict keys,
module globals, closure cells), made once per type from C-level reads only."""

import _struct
import ctypes

from ._base import (
    _INLINE_VALUES,
    _MANAGED_DICT,
    _NOW,
    _DICT_KEYS_HEADER,
    _U64,
    _U64_U64,
    _codetype,
    _dict_items,
    _dict_keys,
    _get_referents,
    _member_descriptor,
    _mod_name,
    _python_class,
    _t_basicsize,
    _t_dictoffset,
    _t_flags,
    _t_base,
    _t_mro_slot,
    _t_name,
    _t_ns,
    _t_qualname,
)
from ._facts import (
    FACTS,
    INLINE_ITEMS_AT,
    INLINE_VALID_AT,
    MANAGED_DICT_BEFORE,
    MANAGED_INLINE_313,
    MANAGED_NONE,
    MANAGED_SPLIT_311,
    MANAGED_TAGGED_312,
    SPLIT_VALUES_BEFORE,
)
from ._names import _js, _key_label, _type_name


def _slot_descriptors(t):
    """(name, member descriptor) of every __slots__ entry of t and of the classes whose
    layout it extends (its tp_base chain), most derived first, while they are classes made
    by `class` statements (C-level reads only). Members of other classes may describe
    another layout: a mypyc class's base trait has its __dict__ member where the class
    itself keeps a native field, and reading it there crashed the process."""
    out = []
    c = t
    for _ in range(64):  # a bound, against a corrupt chain
        if c is None or not _python_class(c, _t_flags(c)):
            break
        for d in _get_referents(_t_ns(c)):
            if type(d) is dict:
                for k, v in list(_dict_items(d)):
                    if type(v) is _member_descriptor and type(k) is str:
                        out.append((k, v))
        c = _t_base(c)
    return out


def _shared_key_names(t):
    """3.11+: attribute names of a class's shared keys, in values-array order, or None.

    ht_cached_keys is the word after ht_qualname in the heap type (ht_name two words before);
    both are found by identity in the type's own memory, and every key is checked to be a
    str before it is turned back into an object."""
    mem = _NOW.mem
    if mem is None:
        return None
    try:
        size = _t_basicsize(type(t))
        raw = mem.read(id(t), size)
        qn, nm = id(_t_qualname(t)), id(_t_name(t))
    except Exception:
        return None
    if raw is None:
        return None
    words = _struct.Struct("<%dQ" % (size // 8)).unpack(raw[: size // 8 * 8])
    for i in range(2, len(words) - 1):
        if words[i] == qn and words[i - 2] == nm:
            keys = words[i + 1]
            break
    else:
        return None
    hdr = mem.read(keys, 32) if keys else None
    if hdr is None:
        return None
    _rc, _l2size, l2idx, kind, _ver, _usable, nent = _DICT_KEYS_HEADER.unpack(hdr)
    if kind != 2 or not 0 < nent <= 1 << 16 or l2idx > 24:  # DICT_KEYS_SPLIT
        return None
    ent = mem.read(keys + 32 + (1 << l2idx), 16 * nent)
    if ent is None:
        return None
    names = []
    str_type = id(str)
    for k in _struct.Struct("<%dQ" % (2 * nent)).unpack(ent)[0::2]:
        tp = mem.read(k + 8, 8) if k else None
        if tp is None or _U64.unpack(tp)[0] != str_type:
            names.append(None)
            continue
        names.append(ctypes.cast(k, ctypes.py_object).value)
    return names


def _make_labeller(t, flags, types):
    """A function labelling an instance's referents by attribute name, or None. It keeps
    the type's id, not the type (that would raise the type's reference count); the slot
    descriptors and names it keeps are counted in types.held."""
    slots = _slot_descriptors(t)
    for name, md in slots:
        types.hold(name)
        types.hold(md)
    t_id = id(t)
    layout = FACTS.managed
    managed = layout != MANAGED_NONE and flags & _MANAGED_DICT
    if managed:
        names = _shared_key_names(t)
        basicsize = _t_basicsize(t)
        inline = layout == MANAGED_INLINE_313 and flags & _INLINE_VALUES
        dict_first = FACTS.managed_dict_first
    else:
        names = None
        try:
            dictoffset = _t_dictoffset(t)
        except Exception:
            dictoffset = 0
        if dictoffset <= 0 and not slots:
            return None
    string_at = ctypes.string_at
    word_at = _U64.unpack
    dotted = [None if n is None else "." + n for n in names] if names else None
    values_at = _struct.Struct("<%dQ" % len(names)).unpack if names else None
    dotted_type = dotted + [None] if dotted and None not in dotted else None

    def labeller(o, refs):
        # Pointers read here come from the object's own fields (its pre-header or inline
        # values), which CPython keeps valid for a live object.
        a = id(o)
        known = None
        if managed:
            word = word_at(string_at(a - MANAGED_DICT_BEFORE, 8))[0]
            values = 0
            if layout == MANAGED_TAGGED_312:
                if word & 1:
                    values, word = word + 1, 0
            elif layout == MANAGED_SPLIT_311:
                values = word_at(string_at(a - SPLIT_VALUES_BEFORE, 8))[0]
            elif inline and string_at(a + basicsize + INLINE_VALID_AT, 1)[0] and not (word and dict_first):
                # Valid inline values, traversed even when a materialised __dict__ shares
                # them (vars(obj), copy, pickle), except from 3.14, which visits the dict.
                values = a + basicsize + INLINE_ITEMS_AT
            if values and dotted:
                # Every value set: the traversal visits them in key order, then the type.
                if dotted_type and not slots and len(refs) == len(dotted_type) and id(refs[-1]) == t_id:
                    return dotted_type
                known = dict(zip(values_at(string_at(values, 8 * len(dotted))), dotted))
            if word:
                if known is None:
                    known = {}
                known[word] = ".__dict__"
        elif dictoffset > 0:
            word = word_at(string_at(a + dictoffset, 8))[0]
            if word:
                known = {word: ".__dict__"}
        if slots:
            if known is None:
                known = {}
            for name, md in slots:
                try:
                    v = md.__get__(o)
                except Exception:
                    continue
                known.setdefault(id(v), "." + name)
        if not known:
            return None
        get = known.get
        return [get(id(r)) for r in refs]

    return labeller


def _dict_edges(d, refs, values, exact):
    """Label a dict's values by key; add all-str-key dicts' keys, which gc traversal skips.
    A subclass's other referents (a defaultdict's factory, an instance __dict__) stay
    unlabelled."""
    by_id = {}
    # list() copies in one C call (no bytecode runs, so no other thread can change the dict
    # half way); a Python loop over the live view could fail when another thread mutates it.
    for k, v in list(_dict_items(d)):
        by_id.setdefault(id(v), _key_label(k, values))
    out_refs = list(refs)
    have = set(map(id, out_refs))
    keys = None if exact else set()
    for k in list(_dict_keys(d)):
        if keys is not None:
            keys.add(id(k))
        if id(k) not in have:
            have.add(id(k))
            out_refs.append(k)
    if exact:
        return out_refs, [by_id.get(id(r), "<key>") for r in out_refs]
    return out_refs, [by_id.get(id(r), "<key>" if id(r) in keys else None) for r in out_refs]


def _module_edges(m, refs):
    try:
        d = _mod_name(m)
    except Exception:
        d = None
    name = d.get("__name__") if type(d) is dict else None
    extra = ',"name":%s' % _js(name) if type(name) is str else ""
    labels = [".__dict__" if r is d else None for r in refs]
    return extra, labels


def _function_edges(f, refs):
    code = f.__code__
    extra = ',"name":%s' % _js(code.co_qualname if FACTS.code_qualname else f.__qualname__)
    known = {
        id(f.__code__): ".__code__",
        id(f.__globals__): ".__globals__",
    }
    if f.__defaults__ is not None:
        known[id(f.__defaults__)] = ".__defaults__"
    if f.__kwdefaults__ is not None:
        known[id(f.__kwdefaults__)] = ".__kwdefaults__"
    if f.__closure__ is not None:
        known[id(f.__closure__)] = ".__closure__"
    return extra, [known.get(id(r)) for r in refs]


def _type_edges(t, refs):
    extra = ',"name":%s' % _js(_type_name(t))
    known = {}
    try:
        # The mappingproxy's one referent is the type's real namespace dict.
        for d in _get_referents(_t_ns(t)):
            known[id(d)] = ".__dict__"
        known[id(_t_mro_slot(t))] = ".__mro__"
    except Exception:
        pass
    return extra, [known.get(id(r)) for r in refs]


# The objects a code object holds, by label: its member descriptors of the running version
# (plain field reads in C, never a getter that builds an object, such as 3.11+'s co_code or
# co_varnames), in one list so that versions differ only in which members exist.
_CODE_MEMBERS = tuple(
    (name, _codetype.__dict__[name].__get__, "." + name)
    for name in (
        "co_consts",
        "co_names",
        "co_exceptiontable",
        "co_filename",
        "co_name",
        "co_qualname",
        "co_linetable",
        "co_lnotab",
        "co_code",
        "co_varnames",
        "co_freevars",
        "co_cellvars",
    )
    if type(_codetype.__dict__.get(name)) is _member_descriptor
)


def _localsplus_offset():
    """3.11+: offset in a code object of co_localsplusnames (a tuple), followed by
    co_localspluskinds (bytes), which no member exposes: the two words before co_filename,
    found by identity in this function's own code object and checked by type."""
    if not FACTS.code_localsplus:
        return None
    co = _localsplus_offset.__code__
    size = _t_basicsize(_codetype)
    words = _struct.Struct("<%dQ" % (size // 8)).unpack(ctypes.string_at(id(co), size // 8 * 8))
    for i in range(4, len(words) - 1):
        if words[i] == id(co.co_filename) and words[i + 1] == id(co.co_name):
            names, kinds = words[i - 2], words[i - 1]
            if _U64.unpack(ctypes.string_at(names + 8, 8))[0] == id(tuple) and _U64.unpack(ctypes.string_at(kinds + 8, 8))[0] == id(bytes):
                return (i - 2) * 8
    return None


_CO_LOCALSPLUS = _localsplus_offset()
_LOCALSPLUS_LABELS = (".co_localsplusnames", ".co_localspluskinds")


def _code_edges(co):
    """A code object's name, referents and labels (gc.get_referents() gives none: code
    objects are not traversed), so its constants, names, tables and nested code are in the
    snapshot, held by it."""
    extra = ',"name":%s,"at":[%s,%d]' % (
        _js(co.co_qualname if FACTS.code_qualname else co.co_name),
        _js(co.co_filename),
        co.co_firstlineno,
    )
    refs = [get(co) for _n, get, _l in _CODE_MEMBERS]
    labels = [label for _n, _g, label in _CODE_MEMBERS]
    if _CO_LOCALSPLUS is not None:
        # Fields of a live code object, set when it was made and never NULL.
        names, kinds = _U64_U64.unpack(ctypes.string_at(id(co) + _CO_LOCALSPLUS, 16))
        refs.append(ctypes.cast(names, ctypes.py_object).value)
        refs.append(ctypes.cast(kinds, ctypes.py_object).value)
        labels.extend(_LOCALSPLUS_LABELS)
    return extra, refs, labels
