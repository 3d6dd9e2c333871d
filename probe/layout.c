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
    SIZE(PyVarObject); OFF(PyVarObject, ob_size);
    SIZE(PyGC_Head);

    /* Type objects. */
    SIZE(PyTypeObject);
    OFF(PyTypeObject, tp_name); OFF(PyTypeObject, tp_basicsize); OFF(PyTypeObject, tp_itemsize);
    OFF(PyTypeObject, tp_flags); OFF(PyTypeObject, tp_dictoffset); OFF(PyTypeObject, tp_dict);
    OFF(PyTypeObject, tp_mro); OFF(PyTypeObject, tp_base); OFF(PyTypeObject, tp_bases);
    OFF(PyTypeObject, tp_weaklistoffset); OFF(PyTypeObject, tp_members);
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
#if PY_VERSION_HEX >= 0x030B0000
    SIZE(PyDictKeysObject);
    OFF(PyDictKeysObject, dk_refcnt); OFF(PyDictKeysObject, dk_log2_size);
    OFF(PyDictKeysObject, dk_log2_index_bytes); OFF(PyDictKeysObject, dk_kind);
    OFF(PyDictKeysObject, dk_usable); OFF(PyDictKeysObject, dk_nentries);
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
    SIZE(PyCompactUnicodeObject); OFF(PyCompactUnicodeObject, utf8_length);
    OFF(PyCompactUnicodeObject, utf8);
    SIZE(PyBytesObject); OFF(PyBytesObject, ob_shash); OFF(PyBytesObject, ob_sval);
    SIZE(PyByteArrayObject); OFF(PyByteArrayObject, ob_alloc); OFF(PyByteArrayObject, ob_bytes);
    SIZE(PyFloatObject); OFF(PyFloatObject, ob_fval);
#if PY_VERSION_HEX >= 0x030C0000
    OFF_AS("PyLongObject.lv_tag", PyLongObject, long_value.lv_tag);
    OFF_AS("PyLongObject.ob_digit", PyLongObject, long_value.ob_digit);
#else
    OFF(PyLongObject, ob_digit);
#endif

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
    SIZE(PyCodeObject);
    OFF(PyCodeObject, co_consts); OFF(PyCodeObject, co_names); OFF(PyCodeObject, co_filename);
    OFF(PyCodeObject, co_name);
#if PY_VERSION_HEX >= 0x030B0000
    OFF(PyCodeObject, co_qualname); OFF(PyCodeObject, co_linetable);
    OFF(PyCodeObject, co_exceptiontable); OFF(PyCodeObject, co_localsplusnames);
    OFF(PyCodeObject, co_localspluskinds); OFF(PyCodeObject, co_code_adaptive);
#else
    OFF(PyCodeObject, co_code); OFF(PyCodeObject, co_varnames); OFF(PyCodeObject, co_freevars);
    OFF(PyCodeObject, co_cellvars);
#  if PY_VERSION_HEX >= 0x030A0000
    OFF(PyCodeObject, co_linetable);
#  else
    OFF(PyCodeObject, co_lnotab);
#  endif
#endif
    SIZE(PyCellObject); OFF(PyCellObject, ob_ref);
    SIZE(PyMethodObject); OFF(PyMethodObject, im_func); OFF(PyMethodObject, im_self);
    SIZE(PyCFunctionObject); OFF(PyCFunctionObject, m_ml); OFF(PyCFunctionObject, m_self);
    OFF(PyCFunctionObject, m_module); OFF(PyMethodDef, ml_name);

    /* Frames. */
    SIZE(PyFrameObject); OFF(PyFrameObject, f_back);
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
#  else
    OFF(_PyInterpreterFrame, stacktop);
#  endif
#else
    OFF(PyFrameObject, f_code); OFF(PyFrameObject, f_builtins); OFF(PyFrameObject, f_globals);
    OFF(PyFrameObject, f_locals); OFF(PyFrameObject, f_valuestack);
    OFF(PyFrameObject, f_localsplus);
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
