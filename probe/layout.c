/* pymem's layout probe: prints, as JSON, the sizes and field offsets of the CPython structures
 * that pymem reads from another process or a core file, as the headers of one CPython build
 * lay them out. Compiled once per installed CPython by probe/generate.sh against that
 * build's own headers (Py_BUILD_CORE, for the internal ones); its output is committed as
 * src/remote/layouts/cpython-X.Y.json, and a test regenerates and compares it.
 *
 * Structures that no header declares (a deque's blocks, an lru_cache's wrapper) are not
 * here: pymem declares those itself (src/remote/layout.rs), from CPython's sources.
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <frameobject.h>
#if PY_VERSION_HEX < 0x030C0000
#  include <structmember.h>
#endif

#if PY_VERSION_HEX < 0x03090000
#  include "internal/pycore_pystate.h"
#else
#  include "internal/pycore_interp.h"
#  include "internal/pycore_runtime.h"
#endif
#if __has_include("internal/pycore_gc.h")
#  include "internal/pycore_gc.h"
#endif
#if PY_VERSION_HEX >= 0x030B0000
#  include "internal/pycore_frame.h"
#  include "internal/pycore_dict.h"
#  include "internal/pycore_code.h"
#endif
#if PY_VERSION_HEX >= 0x030C0000
#  include "internal/pycore_obmalloc.h"
#endif
#if PY_VERSION_HEX >= 0x030E0000
#  include "internal/pycore_ceval.h"
#endif
#if __has_include("internal/pycore_debug_offsets.h")
#  include "internal/pycore_debug_offsets.h"
#endif
#if PY_VERSION_HEX >= 0x03090000
#  include "internal/pycore_hashtable.h"
#endif
#if PY_VERSION_HEX >= 0x030C0000
#  include "internal/pycore_tracemalloc.h"
#endif
#if PY_VERSION_HEX < 0x030B0000
/* 3.8-3.10 declare the dict keys object only in Objects/dict-common.h, not installed. */
typedef struct {
    Py_hash_t me_hash;
    PyObject *me_key;
    PyObject *me_value;
} PyDictKeyEntry;
struct _dictkeysobject {
    Py_ssize_t dk_refcnt;
    Py_ssize_t dk_size;
    void *dk_lookup;
    Py_ssize_t dk_usable;
    Py_ssize_t dk_nentries;
    char dk_indices[];
};
#endif
#if PY_VERSION_HEX >= 0x030E0000
#  include "internal/pycore_stackref.h"
#endif
#if PY_VERSION_HEX < 0x030C0000
/* 3.8-3.11 declare pymalloc's structures only in Objects/obmalloc.c (identical in all of
 * them), with arenas of 256 KiB and pools of 4 KiB up to 3.9, 1 MiB and 16 KiB from 3.10. */
struct pool_header {
    union { void *_padding; unsigned int count; } ref;
    void *freeblock;
    struct pool_header *nextpool;
    struct pool_header *prevpool;
    unsigned int arenaindex;
    unsigned int szidx;
    unsigned int nextoffset;
    unsigned int maxnextoffset;
};
struct arena_object {
    uintptr_t address;
    void *pool_address;
    unsigned int nfreepools;
    unsigned int ntotalpools;
    struct pool_header *freepools;
    struct arena_object *nextarena;
    struct arena_object *prevarena;
};
#  if PY_VERSION_HEX >= 0x030A0000
#    define ARENA_SIZE (1 << 20)
#    define POOL_SIZE (1 << 14)
#  else
#    define ARENA_SIZE (1 << 18)
#    define POOL_SIZE (1 << 12)
#  endif
#endif
#if __has_include("internal/pycore_moduleobject.h")
#  include "internal/pycore_moduleobject.h"
#else
/* 3.8 and 3.9 declare the module object only in Objects/moduleobject.c. */
typedef struct {
    PyObject_HEAD
    PyObject *md_dict;
    struct PyModuleDef *md_def;
    void *md_state;
    PyObject *md_weaklist;
    PyObject *md_name;
} PyModuleObject;
#endif

static int first = 1;
static void emit(const char *key, unsigned long long value) {
    printf("%s\n    \"%s\": %llu", first ? "" : ",", key, value);
    first = 0;
}
#define SIZE(T) emit("sizeof." #T, (unsigned long long)sizeof(T))
#define OFF(T, F) emit(#T "." #F, (unsigned long long)offsetof(T, F))
#define OFF_AS(name, T, F) emit(name, (unsigned long long)offsetof(T, F))
/* For `struct T` types, named without the keyword. */
#define SSIZE(T) emit("sizeof." #T, (unsigned long long)sizeof(struct T))
#define SOFF(T, F) emit(#T "." #F, (unsigned long long)offsetof(struct T, F))

int main(void) {
    printf("{\n  \"python\": \"%s\",\n  \"hexversion\": %lu,\n  \"fields\": {",
           PY_VERSION, (unsigned long)PY_VERSION_HEX);

    /* Objects every decoder needs. */
    SIZE(PyObject); OFF(PyObject, ob_refcnt); OFF(PyObject, ob_type);
    emit("size.PyObject.ob_refcnt", (unsigned long long)sizeof(((PyObject *)0)->ob_refcnt));
    SIZE(PyVarObject); OFF(PyVarObject, ob_size);
    SIZE(PyGC_Head);

    /* Type objects. */
    SIZE(PyTypeObject);
    OFF(PyTypeObject, tp_name); OFF(PyTypeObject, tp_basicsize); OFF(PyTypeObject, tp_itemsize);
    OFF(PyTypeObject, tp_flags); OFF(PyTypeObject, tp_dictoffset); OFF(PyTypeObject, tp_dict);
    OFF(PyTypeObject, tp_mro); OFF(PyTypeObject, tp_base); OFF(PyTypeObject, tp_bases);
    OFF(PyTypeObject, tp_weaklistoffset); OFF(PyTypeObject, tp_members);
    OFF(PyTypeObject, tp_dealloc); OFF(PyTypeObject, tp_traverse);
    SIZE(PyHeapTypeObject);
    OFF(PyHeapTypeObject, ht_name); OFF(PyHeapTypeObject, ht_qualname);
    OFF(PyHeapTypeObject, ht_slots);
#if PY_VERSION_HEX >= 0x03090000
    OFF(PyHeapTypeObject, ht_module);
#endif
    OFF(PyHeapTypeObject, ht_cached_keys);
    SIZE(PyMemberDef); OFF(PyMemberDef, name); OFF(PyMemberDef, type); OFF(PyMemberDef, offset);

    /* Containers. */
    OFF(PyTupleObject, ob_item);
    OFF(PyListObject, ob_item); OFF(PyListObject, allocated);
    SIZE(PyDictObject); OFF(PyDictObject, ma_used); OFF(PyDictObject, ma_keys);
    OFF(PyDictObject, ma_values);
#if PY_VERSION_HEX < 0x030B0000
    SSIZE(_dictkeysobject);
    SOFF(_dictkeysobject, dk_refcnt); SOFF(_dictkeysobject, dk_size);
    SOFF(_dictkeysobject, dk_lookup); SOFF(_dictkeysobject, dk_usable);
    SOFF(_dictkeysobject, dk_nentries); SOFF(_dictkeysobject, dk_indices);
    SIZE(PyDictKeyEntry); OFF(PyDictKeyEntry, me_hash); OFF(PyDictKeyEntry, me_key);
    OFF(PyDictKeyEntry, me_value);
#endif
#if PY_VERSION_HEX >= 0x030B0000
    SIZE(PyDictKeysObject);
    OFF(PyDictKeysObject, dk_refcnt); OFF(PyDictKeysObject, dk_log2_size);
    OFF(PyDictKeysObject, dk_log2_index_bytes); OFF(PyDictKeysObject, dk_kind);
    OFF(PyDictKeysObject, dk_usable); OFF(PyDictKeysObject, dk_nentries);
    OFF(PyTypeObject, tp_is_gc);
    OFF(PyDictKeysObject, dk_indices);
    SIZE(PyDictKeyEntry); OFF(PyDictKeyEntry, me_hash); OFF(PyDictKeyEntry, me_key);
    OFF(PyDictKeyEntry, me_value);
    SIZE(PyDictUnicodeEntry); OFF(PyDictUnicodeEntry, me_key); OFF(PyDictUnicodeEntry, me_value);
    OFF(PyDictValues, values);
#endif
    SIZE(PySetObject); OFF(PySetObject, fill); OFF(PySetObject, used); OFF(PySetObject, mask);
    OFF(PySetObject, table); OFF(PySetObject, smalltable);
    SIZE(setentry); OFF(setentry, key); OFF(setentry, hash);

    /* Leaves. */
    SIZE(PyASCIIObject); OFF(PyASCIIObject, length); OFF(PyASCIIObject, hash);
    OFF(PyASCIIObject, state);
    {   /* Where the compiler put the state bit fields. */
        PyASCIIObject o;
        unsigned int word;
        memset(&o, 0, sizeof o); o.state.kind = 7;
        memcpy(&word, &o.state, sizeof word); emit("bits.PyASCIIObject.state.kind", word);
        memset(&o, 0, sizeof o); o.state.compact = 1;
        memcpy(&word, &o.state, sizeof word); emit("bits.PyASCIIObject.state.compact", word);
        memset(&o, 0, sizeof o); o.state.ascii = 1;
        memcpy(&word, &o.state, sizeof word); emit("bits.PyASCIIObject.state.ascii", word);
        memset(&o, 0, sizeof o); o.state.interned = 3;
        memcpy(&word, &o.state, sizeof word); emit("bits.PyASCIIObject.state.interned", word);
    }
    SIZE(PyUnicodeObject); OFF(PyUnicodeObject, data);
    SIZE(PyCompactUnicodeObject); OFF(PyCompactUnicodeObject, utf8_length);
    OFF(PyCompactUnicodeObject, utf8);
    SIZE(PyBytesObject); OFF(PyBytesObject, ob_shash); OFF(PyBytesObject, ob_sval);
    SIZE(PyByteArrayObject); OFF(PyByteArrayObject, ob_alloc); OFF(PyByteArrayObject, ob_bytes);
#if PY_VERSION_HEX >= 0x030F0000
    /* 3.15: the storage is a bytes object (ob_bytes points into it). */
    OFF(PyByteArrayObject, ob_bytes_object);
#endif
    SIZE(PyFloatObject); OFF(PyFloatObject, ob_fval);
#if PY_VERSION_HEX >= 0x030C0000
    OFF_AS("PyLongObject.lv_tag", PyLongObject, long_value.lv_tag);
    OFF_AS("PyLongObject.ob_digit", PyLongObject, long_value.ob_digit);
    emit("const._PyLong_NON_SIZE_BITS", _PyLong_NON_SIZE_BITS);
#else
    OFF(PyLongObject, ob_digit);
#endif
    emit("const.PyLong_SHIFT", PyLong_SHIFT);
    emit("size.digit", sizeof(digit));
    SIZE(PyComplexObject);

    /* Namespaces and code. */
    SIZE(PyModuleObject); OFF(PyModuleObject, md_dict);
    SIZE(PyFunctionObject);
    OFF(PyFunctionObject, func_code); OFF(PyFunctionObject, func_globals);
    OFF(PyFunctionObject, func_defaults); OFF(PyFunctionObject, func_kwdefaults);
    OFF(PyFunctionObject, func_closure); OFF(PyFunctionObject, func_doc);
    OFF(PyFunctionObject, func_name); OFF(PyFunctionObject, func_dict);
    OFF(PyFunctionObject, func_module); OFF(PyFunctionObject, func_annotations);
    OFF(PyFunctionObject, func_qualname);
#if PY_VERSION_HEX >= 0x030A0000
    OFF(PyFunctionObject, func_builtins);
#endif
#if PY_VERSION_HEX >= 0x030C0000
    OFF(PyFunctionObject, func_typeparams);
#endif
#if PY_VERSION_HEX >= 0x030E0000
    OFF(PyFunctionObject, func_annotate);
#endif
    OFF(PyFunctionObject, func_weakreflist);
    SIZE(PyCodeObject);
    OFF(PyCodeObject, co_consts); OFF(PyCodeObject, co_names); OFF(PyCodeObject, co_filename);
    OFF(PyCodeObject, co_name); OFF(PyCodeObject, co_flags); OFF(PyCodeObject, co_nlocals);
    OFF(PyCodeObject, co_stacksize); OFF(PyCodeObject, co_firstlineno);
    OFF(PyCodeObject, co_argcount); OFF(PyCodeObject, co_extra); OFF(PyCodeObject, co_weakreflist);
    emit("size.PyCodeObject.co_flags", sizeof(((PyCodeObject *)0)->co_flags));
#if PY_VERSION_HEX >= 0x030B0000
    OFF(PyCodeObject, co_qualname); OFF(PyCodeObject, co_linetable);
    OFF(PyCodeObject, co_exceptiontable); OFF(PyCodeObject, co_localsplusnames);
    OFF(PyCodeObject, co_localspluskinds); OFF(PyCodeObject, co_code_adaptive);
    OFF(PyCodeObject, co_nlocalsplus); OFF(PyCodeObject, co_ncellvars); OFF(PyCodeObject, co_nfreevars);
    emit("const.CO_FAST_LOCAL", CO_FAST_LOCAL); emit("const.CO_FAST_CELL", CO_FAST_CELL);
    emit("const.CO_FAST_FREE", CO_FAST_FREE);
#else
    OFF(PyCodeObject, co_code); OFF(PyCodeObject, co_varnames); OFF(PyCodeObject, co_freevars);
    OFF(PyCodeObject, co_cellvars); OFF(PyCodeObject, co_cell2arg);
    OFF(PyCodeObject, co_zombieframe);
#  if PY_VERSION_HEX >= 0x030A0000
    OFF(PyCodeObject, co_linetable);
#  else
    OFF(PyCodeObject, co_lnotab);
#  endif
#endif
    SIZE(PyCellObject); OFF(PyCellObject, ob_ref);
    SIZE(PyMethodObject); OFF(PyMethodObject, im_func); OFF(PyMethodObject, im_self);
    SIZE(PyCFunctionObject); OFF(PyCFunctionObject, m_ml); OFF(PyCFunctionObject, m_self);
    OFF(PyCFunctionObject, m_module); OFF(PyMethodDef, ml_name); OFF(PyMethodDef, ml_flags);
#if PY_VERSION_HEX >= 0x03090000
    SIZE(PyCMethodObject); OFF(PyCMethodObject, mm_class);
    emit("const.METH_METHOD", METH_METHOD);
#endif
    SIZE(PyWeakReference); OFF(PyWeakReference, wr_object); OFF(PyWeakReference, wr_callback);
    SIZE(PyDescrObject); OFF(PyDescrObject, d_type); OFF(PyDescrObject, d_name);
    SIZE(PyModuleDef); OFF(PyModuleDef, m_name); OFF(PyModuleDef, m_size);
    OFF(PyModuleObject, md_state);
#if PY_VERSION_HEX >= 0x030F0000
    OFF(PyModuleObject, md_state_size);
#else
    OFF(PyModuleObject, md_def);
#endif

    /* Generators, coroutines and async generators (one head, gi_ prefix). */
    SIZE(PyGenObject); OFF(PyGenObject, gi_name); OFF(PyGenObject, gi_qualname);
    OFF(PyGenObject, gi_exc_state); OFF(PyGenObject, gi_weakreflist);
    OFF(_PyErr_StackItem, exc_value);
#if PY_VERSION_HEX < 0x030B0000
    OFF(_PyErr_StackItem, exc_type); OFF(_PyErr_StackItem, exc_traceback);
#endif
#if PY_VERSION_HEX < 0x030C0000
    OFF(PyGenObject, gi_code);
#endif
#if PY_VERSION_HEX >= 0x030B0000
    OFF(PyGenObject, gi_iframe); OFF(PyGenObject, gi_frame_state);
    emit("const.FRAME_CLEARED", FRAME_CLEARED);
#else
    OFF(PyGenObject, gi_frame);
#endif
#if PY_VERSION_HEX >= 0x030B0000
    OFF(PyGenObject, gi_origin_or_finalizer);
#else
    OFF(PyAsyncGenObject, ag_finalizer);
#endif

    /* Frames. */
    SIZE(PyFrameObject); OFF(PyFrameObject, f_back); OFF(PyFrameObject, f_trace);
    OFF(PyFrameObject, f_lineno);
#if PY_VERSION_HEX >= 0x030B0000
    OFF(PyFrameObject, f_frame);
    SIZE(_PyInterpreterFrame); OFF(_PyInterpreterFrame, previous);
    OFF(_PyInterpreterFrame, f_globals); OFF(_PyInterpreterFrame, f_builtins);
    OFF(_PyInterpreterFrame, f_locals); OFF(_PyInterpreterFrame, frame_obj);
    OFF(_PyInterpreterFrame, localsplus); OFF(_PyInterpreterFrame, owner);
#  if PY_VERSION_HEX >= 0x030D0000
    OFF(_PyInterpreterFrame, f_executable);
#  else
    OFF(_PyInterpreterFrame, f_code);
#  endif
#  if PY_VERSION_HEX >= 0x030E0000
    OFF(_PyInterpreterFrame, stackpointer);
    emit("const.Py_TAG_BITS", Py_TAG_BITS);
#  else
    OFF(_PyInterpreterFrame, stacktop);
#  endif
#  if PY_VERSION_HEX >= 0x030D0000
    OFF(_PyInterpreterFrame, instr_ptr);
#  else
    OFF(_PyInterpreterFrame, prev_instr);
#  endif
#  if PY_VERSION_HEX >= 0x030C0000
    OFF(_PyInterpreterFrame, f_funcobj);
#    if PY_VERSION_HEX < 0x030F0000
    emit("const.FRAME_OWNED_BY_CSTACK", FRAME_OWNED_BY_CSTACK);
#    endif
#    if PY_VERSION_HEX >= 0x030E0000
    emit("const.FRAME_OWNED_BY_INTERPRETER", FRAME_OWNED_BY_INTERPRETER);
#    endif
#  else
    OFF(_PyInterpreterFrame, f_func); OFF(_PyInterpreterFrame, is_entry);
#  endif
    emit("const.FRAME_OWNED_BY_THREAD", FRAME_OWNED_BY_THREAD);
    emit("const.FRAME_OWNED_BY_GENERATOR", FRAME_OWNED_BY_GENERATOR);
    emit("const.FRAME_OWNED_BY_FRAME_OBJECT", FRAME_OWNED_BY_FRAME_OBJECT);
#  if PY_VERSION_HEX >= 0x030D0000
    OFF(PyFrameObject, f_extra_locals); OFF(PyFrameObject, f_locals_cache);
#  endif
    OFF(PyCodeObject, _co_firsttraceable);
#  if PY_VERSION_HEX >= 0x030C0000
    emit("const.CO_FAST_HIDDEN", CO_FAST_HIDDEN);
#  endif
    OFF(PyFrameObject, _f_frame_data);
#else
    OFF(PyFrameObject, f_code); OFF(PyFrameObject, f_builtins); OFF(PyFrameObject, f_globals);
    OFF(PyFrameObject, f_locals); OFF(PyFrameObject, f_valuestack);
    OFF(PyFrameObject, f_localsplus); OFF(PyFrameObject, f_lasti);
    OFF(PyFrameObject, f_gen);
#  if PY_VERSION_HEX >= 0x030A0000
    OFF(PyFrameObject, f_stackdepth);
#  else
    OFF(PyFrameObject, f_stacktop);
#  endif
#endif

    /* The collector. */
    SSIZE(gc_generation); SOFF(gc_generation, head); SOFF(gc_generation, count);
    SOFF(_gc_runtime_state, generations); SOFF(_gc_runtime_state, permanent_generation);
    SOFF(_gc_runtime_state, collecting); SOFF(_gc_runtime_state, enabled);

    /* pymalloc: arenas and pools (3.12+: state in the interpreter; before: globals). */
    SSIZE(pool_header); OFF_AS("pool_header.count", struct pool_header, ref.count);
    SOFF(pool_header, freeblock); SOFF(pool_header, nextpool); SOFF(pool_header, prevpool);
    SOFF(pool_header, arenaindex); SOFF(pool_header, szidx); SOFF(pool_header, nextoffset);
    SOFF(pool_header, maxnextoffset);
    SSIZE(arena_object); SOFF(arena_object, address); SOFF(arena_object, pool_address);
    SOFF(arena_object, nfreepools); SOFF(arena_object, ntotalpools);
    emit("const.ARENA_SIZE", ARENA_SIZE); emit("const.POOL_SIZE", POOL_SIZE);
#if PY_VERSION_HEX >= 0x030C0000
    OFF_AS("_obmalloc_state.pools_used", struct _obmalloc_state, pools.used);
    OFF_AS("_obmalloc_state.arenas", struct _obmalloc_state, mgmt.arenas);
    OFF_AS("_obmalloc_state.maxarenas", struct _obmalloc_state, mgmt.maxarenas);
    OFF_AS("_obmalloc_state.narenas_currently_allocated", struct _obmalloc_state, mgmt.narenas_currently_allocated);
#  if PY_VERSION_HEX >= 0x030D0000
    OFF_AS("PyInterpreterState.obmalloc_pointer", PyInterpreterState, obmalloc);
#  else
    OFF(PyInterpreterState, obmalloc);
#  endif
#endif

    /* Runtime, interpreters, threads. */
    SIZE(_PyRuntimeState); OFF_AS("_PyRuntimeState.interpreters_head", _PyRuntimeState, interpreters.head);
#if PY_VERSION_HEX < 0x03090000
    OFF(_PyRuntimeState, gc);
#endif
    SIZE(PyInterpreterState); OFF(PyInterpreterState, next); OFF(PyInterpreterState, id);
#if PY_VERSION_HEX >= 0x030B0000
    OFF_AS("PyInterpreterState.threads_head", PyInterpreterState, threads.head);
#else
    OFF_AS("PyInterpreterState.threads_head", PyInterpreterState, tstate_head);
#endif
#if PY_VERSION_HEX >= 0x030D0000
    OFF_AS("PyInterpreterState.threads_main", PyInterpreterState, threads.main);
#endif
#if PY_VERSION_HEX >= 0x03090000
    OFF(PyInterpreterState, gc);
#endif
#if PY_VERSION_HEX >= 0x030C0000
    OFF_AS("PyInterpreterState.modules", PyInterpreterState, imports.modules);
#else
    OFF(PyInterpreterState, modules);
#endif
    OFF(PyInterpreterState, sysdict); OFF(PyInterpreterState, builtins);
#if PY_VERSION_HEX >= 0x030E0000
    OFF_AS("PyInterpreterState.interned_strings", PyInterpreterState, cached_objects.interned_strings);
#endif
    SIZE(PyThreadState); OFF(PyThreadState, next); OFF(PyThreadState, interp);
    OFF(PyThreadState, thread_id);
#if PY_VERSION_HEX >= 0x030B0000
    OFF(PyThreadState, native_thread_id);
#endif
#if PY_VERSION_HEX >= 0x030D0000
    OFF(PyThreadState, current_frame);
#elif PY_VERSION_HEX >= 0x030B0000
    OFF(PyThreadState, cframe); OFF(_PyCFrame, current_frame);
#else
    OFF(PyThreadState, frame);
#endif

    /* tracemalloc's tables (3.9+ hash tables; 3.12+ its state in _PyRuntime; before, the
     * state is static variables and its records are declared in Modules/_tracemalloc.c
     * only: src/remote/layout.rs has those). */
#if PY_VERSION_HEX >= 0x03090000
    SIZE(_Py_hashtable_t); OFF(_Py_hashtable_t, nentries); OFF(_Py_hashtable_t, nbuckets);
    OFF(_Py_hashtable_t, buckets);
    SIZE(_Py_hashtable_entry_t); OFF(_Py_hashtable_entry_t, key_hash);
    OFF(_Py_hashtable_entry_t, key); OFF(_Py_hashtable_entry_t, value);
#endif
#if PY_VERSION_HEX >= 0x030C0000
    OFF(_PyRuntimeState, tracemalloc);
    OFF_AS("_tracemalloc_runtime_state.tracing", struct _tracemalloc_runtime_state, config.tracing);
    SOFF(_tracemalloc_runtime_state, traces);
    SOFF(tracemalloc_traceback, nframe); SOFF(tracemalloc_traceback, frames);
    SSIZE(tracemalloc_frame); SOFF(tracemalloc_frame, filename); SOFF(tracemalloc_frame, lineno);
    /* A frame's file name: a str object up to 3.14, a C string from 3.15. */
    if (_Generic(((struct tracemalloc_frame *)0)->filename, const char *: 1, default: 0))
        emit("const.tracemalloc_frame_filename_is_cstr", 1);
#endif

    /* The remote-debugging table at the start of _PyRuntime (3.13+): where each of its
     * fields sits, to read the target's own values. */
#if PY_VERSION_HEX >= 0x030D0000
    SIZE(_Py_DebugOffsets);
    OFF(_Py_DebugOffsets, version); OFF(_Py_DebugOffsets, free_threaded);
    OFF_AS("_Py_DebugOffsets.runtime_state.interpreters_head", _Py_DebugOffsets, runtime_state.interpreters_head);
    OFF_AS("_Py_DebugOffsets.interpreter_state.size", _Py_DebugOffsets, interpreter_state.size);
    OFF_AS("_Py_DebugOffsets.interpreter_state.id", _Py_DebugOffsets, interpreter_state.id);
    OFF_AS("_Py_DebugOffsets.interpreter_state.next", _Py_DebugOffsets, interpreter_state.next);
    OFF_AS("_Py_DebugOffsets.interpreter_state.threads_head", _Py_DebugOffsets, interpreter_state.threads_head);
    OFF_AS("_Py_DebugOffsets.interpreter_state.gc", _Py_DebugOffsets, interpreter_state.gc);
    OFF_AS("_Py_DebugOffsets.thread_state.size", _Py_DebugOffsets, thread_state.size);
    OFF_AS("_Py_DebugOffsets.thread_state.next", _Py_DebugOffsets, thread_state.next);
    OFF_AS("_Py_DebugOffsets.thread_state.native_thread_id", _Py_DebugOffsets, thread_state.native_thread_id);
    OFF_AS("_Py_DebugOffsets.gc.collecting", _Py_DebugOffsets, gc.collecting);
#endif
#if PY_VERSION_HEX >= 0x030E0000
    OFF_AS("_Py_DebugOffsets.debugger_support.eval_breaker", _Py_DebugOffsets, debugger_support.eval_breaker);
    OFF_AS("_Py_DebugOffsets.debugger_support.remote_debugger_support", _Py_DebugOffsets, debugger_support.remote_debugger_support);
    OFF_AS("_Py_DebugOffsets.debugger_support.remote_debugging_enabled", _Py_DebugOffsets, debugger_support.remote_debugging_enabled);
    OFF_AS("_Py_DebugOffsets.debugger_support.debugger_pending_call", _Py_DebugOffsets, debugger_support.debugger_pending_call);
    OFF_AS("_Py_DebugOffsets.debugger_support.debugger_script_path", _Py_DebugOffsets, debugger_support.debugger_script_path);
    OFF_AS("_Py_DebugOffsets.debugger_support.debugger_script_path_size", _Py_DebugOffsets, debugger_support.debugger_script_path_size);
    emit("const._PY_EVAL_PLEASE_STOP_BIT", _PY_EVAL_PLEASE_STOP_BIT);
    emit("const._Py_MAX_SCRIPT_PATH_SIZE", _Py_MAX_SCRIPT_PATH_SIZE);
#endif
    printf("\n  }\n}\n");
    return 0;
}
