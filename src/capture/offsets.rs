//! The offsets the decoder reads, resolved once from the version's layout table into plain
//! fields (no lookups on the hot path). A field every version has is a `u64`; one that only
//! some versions have is an `Option<u64>`, and its presence is how the decoder tells the
//! layouts apart — never a version number.

use crate::remote::layout::Layout;

macro_rules! offsets {
    (required { $($r:ident: $rk:literal,)* } optional { $($o:ident: $ok:literal,)* }) => {
        /// Resolved offsets, sizes and constants of one CPython version.
        #[derive(Debug, Clone)]
        pub struct Offsets {
            $(pub $r: u64,)*
            $(pub $o: Option<u64>,)*
        }

        impl Offsets {
            /// Resolve from a layout table; the first required key it lacks is the error.
            pub fn resolve(layout: &Layout) -> Result<Offsets, String> {
                Ok(Offsets {
                    $($r: layout.get($rk).ok_or_else(|| format!(
                        "the layout table of CPython {} has no {}", layout.python, $rk))?,)*
                    $($o: layout.get($ok),)*
                })
            }
        }
    };
}

offsets! {
    required {
        ob_refcnt_size: "size.PyObject.ob_refcnt",
        ob_type: "PyObject.ob_type",
        ob_size: "PyVarObject.ob_size",
        gc_head: "sizeof.PyGC_Head",
        tp_name: "PyTypeObject.tp_name",
        tp_basicsize: "PyTypeObject.tp_basicsize",
        tp_itemsize: "PyTypeObject.tp_itemsize",
        tp_flags: "PyTypeObject.tp_flags",
        tp_dictoffset: "PyTypeObject.tp_dictoffset",
        tp_weaklistoffset: "PyTypeObject.tp_weaklistoffset",
        tp_traverse: "PyTypeObject.tp_traverse",
        tp_dict: "PyTypeObject.tp_dict",
        tp_mro: "PyTypeObject.tp_mro",
        tp_base: "PyTypeObject.tp_base",
        tp_bases: "PyTypeObject.tp_bases",
        type_size: "sizeof.PyTypeObject",
        heaptype_size: "sizeof.PyHeapTypeObject",
        ht_name: "PyHeapTypeObject.ht_name",
        ht_qualname: "PyHeapTypeObject.ht_qualname",
        ht_slots: "PyHeapTypeObject.ht_slots",
        ht_cached_keys: "PyHeapTypeObject.ht_cached_keys",
        member_size: "sizeof.PyMemberDef",
        member_name: "PyMemberDef.name",
        member_type: "PyMemberDef.type",
        member_offset: "PyMemberDef.offset",
        tuple_items: "PyTupleObject.ob_item",
        list_items: "PyListObject.ob_item",
        list_allocated: "PyListObject.allocated",
        dict_size: "sizeof.PyDictObject",
        dict_used: "PyDictObject.ma_used",
        dict_keys: "PyDictObject.ma_keys",
        dict_values: "PyDictObject.ma_values",
        entry_size: "sizeof.PyDictKeyEntry",
        entry_key: "PyDictKeyEntry.me_key",
        entry_value: "PyDictKeyEntry.me_value",
        set_size: "sizeof.PySetObject",
        set_used: "PySetObject.used",
        set_mask: "PySetObject.mask",
        set_table: "PySetObject.table",
        set_smalltable: "PySetObject.smalltable",
        setentry_size: "sizeof.setentry",
        setentry_key: "setentry.key",
        ascii_size: "sizeof.PyASCIIObject",
        str_length: "PyASCIIObject.length",
        str_state: "PyASCIIObject.state",
        str_kind_bits: "bits.PyASCIIObject.state.kind",
        str_compact_bit: "bits.PyASCIIObject.state.compact",
        str_ascii_bit: "bits.PyASCIIObject.state.ascii",
        compact_size: "sizeof.PyCompactUnicodeObject",
        str_utf8_length: "PyCompactUnicodeObject.utf8_length",
        str_utf8: "PyCompactUnicodeObject.utf8",
        unicode_size: "sizeof.PyUnicodeObject",
        str_data: "PyUnicodeObject.data",
        bytes_size: "sizeof.PyBytesObject",
        bytes_sval: "PyBytesObject.ob_sval",
        bytearray_size: "sizeof.PyByteArrayObject",
        bytearray_alloc: "PyByteArrayObject.ob_alloc",
        bytearray_bytes: "PyByteArrayObject.ob_bytes",
        float_value: "PyFloatObject.ob_fval",
        long_digits: "PyLongObject.ob_digit",
        long_shift: "const.PyLong_SHIFT",
        digit_size: "size.digit",
        module_dict: "PyModuleObject.md_dict",
        module_state: "PyModuleObject.md_state",
        moduledef_size_field: "PyModuleDef.m_size",
        func_code: "PyFunctionObject.func_code",
        func_globals: "PyFunctionObject.func_globals",
        func_defaults: "PyFunctionObject.func_defaults",
        func_kwdefaults: "PyFunctionObject.func_kwdefaults",
        func_closure: "PyFunctionObject.func_closure",
        func_doc: "PyFunctionObject.func_doc",
        func_name: "PyFunctionObject.func_name",
        func_dict: "PyFunctionObject.func_dict",
        func_module: "PyFunctionObject.func_module",
        func_annotations: "PyFunctionObject.func_annotations",
        func_qualname: "PyFunctionObject.func_qualname",
        code_size: "sizeof.PyCodeObject",
        co_consts: "PyCodeObject.co_consts",
        co_names: "PyCodeObject.co_names",
        co_filename: "PyCodeObject.co_filename",
        co_name: "PyCodeObject.co_name",
        co_flags: "PyCodeObject.co_flags",
        co_firstlineno: "PyCodeObject.co_firstlineno",
        co_stacksize: "PyCodeObject.co_stacksize",
        co_nlocals: "PyCodeObject.co_nlocals",
        co_extra: "PyCodeObject.co_extra",
        cell_ref: "PyCellObject.ob_ref",
        method_func: "PyMethodObject.im_func",
        method_self: "PyMethodObject.im_self",
        cfunc_ml: "PyCFunctionObject.m_ml",
        cfunc_self: "PyCFunctionObject.m_self",
        cfunc_module: "PyCFunctionObject.m_module",
        methoddef_name: "PyMethodDef.ml_name",
        methoddef_flags: "PyMethodDef.ml_flags",
        weakref_callback: "PyWeakReference.wr_callback",
        descr_type: "PyDescrObject.d_type",
        gen_name: "PyGenObject.gi_name",
        gen_qualname: "PyGenObject.gi_qualname",
        gen_exc_state: "PyGenObject.gi_exc_state",
        exc_value: "_PyErr_StackItem.exc_value",
        frame_size: "sizeof.PyFrameObject",
        frame_back: "PyFrameObject.f_back",
        frame_trace: "PyFrameObject.f_trace",
        frame_lineno: "PyFrameObject.f_lineno",
        gen_head: "gc_generation.head",
        gen_struct_size: "sizeof.gc_generation",
        gc_generations: "_gc_runtime_state.generations",
        gc_permanent: "_gc_runtime_state.permanent_generation",
        gc_collecting: "_gc_runtime_state.collecting",
        runtime_interpreters: "_PyRuntimeState.interpreters_head",
        interp_next: "PyInterpreterState.next",
        interp_id: "PyInterpreterState.id",
        interp_threads: "PyInterpreterState.threads_head",
        interp_modules: "PyInterpreterState.modules",
        interp_sysdict: "PyInterpreterState.sysdict",
        interp_builtins: "PyInterpreterState.builtins",
        tstate_next: "PyThreadState.next",
        tstate_thread_id: "PyThreadState.thread_id",
        pool_header_size: "sizeof.pool_header",
        pool_count: "pool_header.count",
        pool_freeblock: "pool_header.freeblock",
        pool_arenaindex: "pool_header.arenaindex",
        pool_szidx: "pool_header.szidx",
        pool_nextoffset: "pool_header.nextoffset",
        pool_maxnextoffset: "pool_header.maxnextoffset",
        arena_object_size: "sizeof.arena_object",
        arena_address: "arena_object.address",
        arena_pool_address: "arena_object.pool_address",
        arena_nfreepools: "arena_object.nfreepools",
        arena_ntotalpools: "arena_object.ntotalpools",
        arena_size: "const.ARENA_SIZE",
        pool_size: "const.POOL_SIZE",
    }
    optional {
        // 3.8-3.10 dict keys
        keys_size_legacy: "_dictkeysobject.dk_size",
        keys_lookup: "_dictkeysobject.dk_lookup",
        keys_nentries_legacy: "_dictkeysobject.dk_nentries",
        keys_indices_legacy: "_dictkeysobject.dk_indices",
        keys_struct_legacy: "sizeof._dictkeysobject",
        // 3.11+ dict keys
        keys_log2_size: "PyDictKeysObject.dk_log2_size",
        keys_log2_index_bytes: "PyDictKeysObject.dk_log2_index_bytes",
        keys_kind: "PyDictKeysObject.dk_kind",
        keys_nentries: "PyDictKeysObject.dk_nentries",
        keys_indices: "PyDictKeysObject.dk_indices",
        keys_struct: "sizeof.PyDictKeysObject",
        keys_refcnt: "PyDictKeysObject.dk_refcnt",
        keys_usable: "PyDictKeysObject.dk_usable",
        unicode_entry_size: "sizeof.PyDictUnicodeEntry",
        unicode_entry_key: "PyDictUnicodeEntry.me_key",
        unicode_entry_value: "PyDictUnicodeEntry.me_value",
        values_items: "PyDictValues.values",
        // 3.15+: a bytearray's storage is a bytes object
        bytearray_bytes_object: "PyByteArrayObject.ob_bytes_object",
        // generators, coroutines, async generators
        exc_type: "_PyErr_StackItem.exc_type",
        exc_traceback: "_PyErr_StackItem.exc_traceback",
        gen_code: "PyGenObject.gi_code",
        gen_frame: "PyGenObject.gi_frame",
        gen_iframe: "PyGenObject.gi_iframe",
        gen_frame_state: "PyGenObject.gi_frame_state",
        frame_cleared: "const.FRAME_CLEARED",
        gen_origin_or_finalizer: "PyGenObject.gi_origin_or_finalizer",
        agen_finalizer: "PyAsyncGenObject.ag_finalizer",
        // ints
        long_tag: "PyLongObject.lv_tag",
        long_non_size_bits: "const._PyLong_NON_SIZE_BITS",
        // functions
        func_builtins: "PyFunctionObject.func_builtins",
        func_typeparams: "PyFunctionObject.func_typeparams",
        func_annotate: "PyFunctionObject.func_annotate",
        cmethod_class: "PyCMethodObject.mm_class",
        meth_method: "const.METH_METHOD",
        ht_module: "PyHeapTypeObject.ht_module",
        module_def: "PyModuleObject.md_def",
        module_state_size: "PyModuleObject.md_state_size",
        // code
        co_qualname: "PyCodeObject.co_qualname",
        co_linetable: "PyCodeObject.co_linetable",
        co_exceptiontable: "PyCodeObject.co_exceptiontable",
        co_lnotab: "PyCodeObject.co_lnotab",
        co_localsplusnames: "PyCodeObject.co_localsplusnames",
        co_localspluskinds: "PyCodeObject.co_localspluskinds",
        co_nlocalsplus: "PyCodeObject.co_nlocalsplus",
        co_code_adaptive: "PyCodeObject.co_code_adaptive",
        co_varnames: "PyCodeObject.co_varnames",
        co_cellvars: "PyCodeObject.co_cellvars",
        co_freevars: "PyCodeObject.co_freevars",
        co_cell2arg: "PyCodeObject.co_cell2arg",
        co_code: "PyCodeObject.co_code",
        co_flags_size: "size.PyCodeObject.co_flags",
        fast_cell: "const.CO_FAST_CELL",
        fast_free: "const.CO_FAST_FREE",
        // frames, 3.8-3.10
        frame_code: "PyFrameObject.f_code",
        frame_builtins: "PyFrameObject.f_builtins",
        frame_globals: "PyFrameObject.f_globals",
        frame_locals: "PyFrameObject.f_locals",
        frame_valuestack: "PyFrameObject.f_valuestack",
        frame_localsplus: "PyFrameObject.f_localsplus",
        frame_stacktop: "PyFrameObject.f_stacktop",
        frame_stackdepth: "PyFrameObject.f_stackdepth",
        frame_lasti: "PyFrameObject.f_lasti",
        // frames, 3.11+
        frame_frame: "PyFrameObject.f_frame",
        frame_extra_locals: "PyFrameObject.f_extra_locals",
        frame_locals_cache: "PyFrameObject.f_locals_cache",
        frame_data: "PyFrameObject._f_frame_data",
        co_firsttraceable: "PyCodeObject._co_firsttraceable",
        fast_hidden: "const.CO_FAST_HIDDEN",
        iframe_size: "sizeof._PyInterpreterFrame",
        iframe_previous: "_PyInterpreterFrame.previous",
        iframe_code: "_PyInterpreterFrame.f_code",
        iframe_executable: "_PyInterpreterFrame.f_executable",
        iframe_func: "_PyInterpreterFrame.f_func",
        iframe_funcobj: "_PyInterpreterFrame.f_funcobj",
        iframe_globals: "_PyInterpreterFrame.f_globals",
        iframe_builtins: "_PyInterpreterFrame.f_builtins",
        iframe_locals: "_PyInterpreterFrame.f_locals",
        iframe_frame_obj: "_PyInterpreterFrame.frame_obj",
        iframe_localsplus: "_PyInterpreterFrame.localsplus",
        iframe_stacktop: "_PyInterpreterFrame.stacktop",
        iframe_stackpointer: "_PyInterpreterFrame.stackpointer",
        iframe_owner: "_PyInterpreterFrame.owner",
        iframe_prev_instr: "_PyInterpreterFrame.prev_instr",
        iframe_instr_ptr: "_PyInterpreterFrame.instr_ptr",
        iframe_is_entry: "_PyInterpreterFrame.is_entry",
        owned_by_thread: "const.FRAME_OWNED_BY_THREAD",
        owned_by_generator: "const.FRAME_OWNED_BY_GENERATOR",
        owned_by_frame_object: "const.FRAME_OWNED_BY_FRAME_OBJECT",
        owned_by_cstack: "const.FRAME_OWNED_BY_CSTACK",
        owned_by_interpreter: "const.FRAME_OWNED_BY_INTERPRETER",
        stackref_tag_bits: "const.Py_TAG_BITS",
        // runtime and threads
        runtime_gc: "_PyRuntimeState.gc",
        hashtable_nentries: "_Py_hashtable_t.nentries",
        hashtable_nbuckets: "_Py_hashtable_t.nbuckets",
        hashtable_buckets: "_Py_hashtable_t.buckets",
        hashtable_entry_key_hash: "_Py_hashtable_entry_t.key_hash",
        hashtable_entry_key: "_Py_hashtable_entry_t.key",
        hashtable_entry_value: "_Py_hashtable_entry_t.value",
        runtime_tracemalloc: "_PyRuntimeState.tracemalloc",
        tracemalloc_tracing: "_tracemalloc_runtime_state.tracing",
        tracemalloc_traces: "_tracemalloc_runtime_state.traces",
        traceback_nframe: "tracemalloc_traceback.nframe",
        traceback_frames: "tracemalloc_traceback.frames",
        tm_frame_size: "sizeof.tracemalloc_frame",
        tm_frame_filename: "tracemalloc_frame.filename",
        tm_frame_lineno: "tracemalloc_frame.lineno",
        tm_filename_is_cstr: "const.tracemalloc_frame_filename_is_cstr",
        interp_gc: "PyInterpreterState.gc",
        interp_interned: "PyInterpreterState.interned_strings",
        tstate_frame: "PyThreadState.frame",
        tstate_cframe: "PyThreadState.cframe",
        cframe_current: "_PyCFrame.current_frame",
        tstate_current_frame: "PyThreadState.current_frame",
        tstate_native_thread_id: "PyThreadState.native_thread_id",
        // pymalloc state, 3.12+
        interp_obmalloc: "PyInterpreterState.obmalloc",
        interp_obmalloc_pointer: "PyInterpreterState.obmalloc_pointer",
        obmalloc_used: "_obmalloc_state.pools_used",
        obmalloc_arenas: "_obmalloc_state.arenas",
        obmalloc_maxarenas: "_obmalloc_state.maxarenas",
    }
}

impl Offsets {
    /// The size of a dict key entry of combined tables whose keys are all strings (3.11+:
    /// key and value; before: the general 24-byte entry).
    pub fn unicode_entry(&self) -> (u64, u64, u64) {
        match (
            self.unicode_entry_size,
            self.unicode_entry_key,
            self.unicode_entry_value,
        ) {
            (Some(s), Some(k), Some(v)) => (s, k, v),
            _ => (self.entry_size, self.entry_key, self.entry_value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::layout;

    #[test]
    fn every_version_resolves() {
        for m in layout::minors() {
            let o = Offsets::resolve(layout::for_minor(m).unwrap()).unwrap();
            assert_eq!(o.ob_type, 8);
            assert_eq!(o.keys_lookup.is_some(), m <= 10, "3.{m}");
            assert_eq!(o.long_tag.is_some(), m >= 12, "3.{m}");
            assert_eq!(o.frame_frame.is_some(), m >= 11, "3.{m}");
        }
    }
}
