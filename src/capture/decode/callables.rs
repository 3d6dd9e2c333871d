//! Modules, functions, code objects, classes and C functions: their fields, labelled as
//! the agent labels them.

use super::{dict_label, Decoded, Decoder, MAX_SCAN, MRO_LABEL};
use crate::capture::facts::flags;
use crate::capture::types::{Kind, TypeInfo};
use crate::capture::{dicts, strings};
use std::rc::Rc;

impl Decoder<'_, '_> {
    pub(super) fn module(&mut self, addr: u64, out: &mut Decoded) {
        let h = self.heap;
        let o = h.off;
        let d = h.word(addr + o.module_dict).unwrap_or(0);
        // Extension modules' state (m_traverse): scanned.
        let state = h.word(addr + o.module_state).unwrap_or(0);
        let state_size = match (o.module_def, o.module_state_size) {
            (_, Some(s)) => h.i64(addr + s).unwrap_or(0),
            (Some(def), None) => h
                .word(addr + def)
                .filter(|&d| d != 0)
                .and_then(|d| h.i64(d + o.moduledef_size_field))
                .unwrap_or(0),
            _ => 0,
        };
        if d != 0 {
            out.name = dicts::get_str_item(h, &self.types.builtins, d, "__name__")
                .and_then(|n| strings::exact_str(h, &self.types.builtins, n));
        }
        if state != 0 && h.facts.atexit_in_module_state && out.name.as_deref() == Some("atexit") {
            self.atexit_callbacks(state, &mut out.refs);
        } else if state != 0 && state_size > 0 {
            let n = (state_size as u64).min(MAX_SCAN) / 8;
            for i in 0..n {
                if let Some(p) = h.word(state + i * 8) {
                    if p != 0 && p != addr && self.scanned_object(p).is_some() {
                        out.refs.push(p);
                        out.scanned = true;
                    }
                }
            }
        }
        if d != 0 {
            out.refs.push(d);
        }
        out.labels = out
            .refs
            .iter()
            .map(|&r| (r == d).then(dict_label))
            .collect();
    }

    /// 3.8, 3.9: the callbacks `atexit.register` keeps in the module's state, each its
    /// function, arguments and keyword arguments, as the module's traversal visits them.
    pub(super) fn atexit_callbacks(&mut self, state: u64, refs: &mut Vec<u64>) {
        use crate::capture::facts::source as src;
        let h = self.heap;
        let array = h.word(state + src::ATEXIT_CALLBACKS).unwrap_or(0);
        let n = h
            .u32(state + src::ATEXIT_NCALLBACKS)
            .unwrap_or(0)
            .min(1 << 20) as u64;
        for i in 0..n {
            let Some(cb) = h.word(array + i * 8).filter(|&c| c != 0) else {
                continue;
            };
            for f in src::ATEXIT_CALLBACK_FIELDS {
                if let Some(p) = h.word(cb + f).filter(|&p| p != 0) {
                    if self.scanned_object(p).is_some() {
                        refs.push(p);
                    }
                }
            }
        }
    }

    pub(super) fn function(&mut self, addr: u64, out: &mut Decoded) {
        let h = self.heap;
        let o = h.off;
        let mut offs = vec![
            o.func_code,
            o.func_globals,
            o.func_module,
            o.func_defaults,
            o.func_kwdefaults,
            o.func_doc,
            o.func_name,
            o.func_dict,
            o.func_closure,
            o.func_annotations,
            o.func_qualname,
        ];
        offs.extend(o.func_builtins);
        offs.extend(o.func_typeparams);
        offs.extend(o.func_annotate);
        self.fields(addr, &offs, &mut out.refs);
        let at = |off: u64| h.word(addr + off).unwrap_or(0);
        thread_local! {
            static NAMES: [Rc<str>; 5] = [
                Rc::from(".__code__"),
                Rc::from(".__globals__"),
                Rc::from(".__defaults__"),
                Rc::from(".__kwdefaults__"),
                Rc::from(".__closure__"),
            ];
        }
        let fields = [
            at(o.func_code),
            at(o.func_globals),
            at(o.func_defaults),
            at(o.func_kwdefaults),
            at(o.func_closure),
        ];
        out.labels = NAMES.with(|names| {
            out.refs
                .iter()
                .map(|r| {
                    fields
                        .iter()
                        .position(|f| *f != 0 && f == r)
                        .map(|i| Rc::clone(&names[i]))
                })
                .collect()
        });
        out.name = if o.co_qualname.is_some() {
            self.code_name(at(o.func_code))
        } else {
            strings::exact_str(h, &self.types.builtins, at(o.func_qualname))
        };
    }

    /// A code object's fields, labelled: each one the version's layout has (the agent reads
    /// the same fields through the code type's members, and 3.11+'s localsplus pair from
    /// memory). Code objects are not traversed, so this is the only way to their contents.
    pub(super) fn code(&mut self, addr: u64, out: &mut Decoded) {
        let o = self.heap.off;
        const NAMES: [&str; 14] = [
            ".co_consts",
            ".co_names",
            ".co_exceptiontable",
            ".co_filename",
            ".co_name",
            ".co_qualname",
            ".co_linetable",
            ".co_lnotab",
            ".co_code",
            ".co_varnames",
            ".co_freevars",
            ".co_cellvars",
            ".co_localsplusnames",
            ".co_localspluskinds",
        ];
        thread_local! {
            static LABELS: Vec<Rc<str>> = NAMES.iter().map(|n| Rc::from(*n)).collect();
        }
        let fields = [
            Some(o.co_consts),
            Some(o.co_names),
            o.co_exceptiontable,
            Some(o.co_filename),
            Some(o.co_name),
            o.co_qualname,
            o.co_linetable,
            o.co_lnotab,
            o.co_code,
            o.co_varnames,
            o.co_freevars,
            o.co_cellvars,
            o.co_localsplusnames,
            o.co_localspluskinds,
        ];
        LABELS.with(|labels| {
            for (field, label) in fields.iter().zip(labels) {
                let Some(off) = field else { continue };
                if let Some(p) = self.heap.word(addr.wrapping_add(*off)) {
                    if p != 0 {
                        out.refs.push(p);
                        out.labels.push(Some(Rc::clone(label)));
                    }
                }
            }
        });
    }

    /// Where a code object's function or class body begins: `co_filename`, `co_firstlineno`.
    pub(super) fn code_place(&self, code: u64) -> Option<(String, u32)> {
        let h = self.heap;
        let file = strings::exact_str(h, &self.types.builtins, h.word(code + h.off.co_filename)?)?;
        let line = h.u32(code + h.off.co_firstlineno)?;
        // An int field; a negative or absurd line is memory that contradicts itself.
        (line as i32 >= 0).then_some((file, line))
    }

    pub(super) fn code_name(&self, code: u64) -> Option<String> {
        let h = self.heap;
        let off = h.off.co_qualname.unwrap_or(h.off.co_name);
        strings::exact_str(h, &self.types.builtins, h.word(code + off)?)
    }

    pub(super) fn type_object(&mut self, addr: u64, info: &TypeInfo, out: &mut Decoded) {
        let h = self.heap;
        let o = h.off;
        let tflags = h.word(addr + o.tp_flags).unwrap_or(0);
        if tflags & flags::HEAPTYPE == 0 {
            return; // static types are not traversed
        }
        // A Python metaclass is traversed first (its slots), then its C base's traversal:
        // a C metaclass (ctypes') its per-class data, then every heap metaclass, itself.
        if info.heap {
            for s in info.slots.clone() {
                if let Some(p) = h.word(addr + s.offset).filter(|&p| p != 0) {
                    out.refs.push(p);
                }
            }
        }
        let c_meta = self.c_base(info.addr);
        if c_meta != self.types.builtins.type_ {
            let size = h.word(c_meta + o.tp_basicsize).unwrap_or(0);
            if size > o.heaptype_size {
                self.scan(addr, info, o.heaptype_size, size, &mut out.refs);
            }
            // Before 3.13 ctypes kept it in the class's tp_dict, a C subclass of dict whose
            // extra fields the metaclass traverses as the class's own.
            self.class_data_in_dict(addr, &mut out.refs);
        }
        if info.heap {
            out.refs.push(info.addr);
        }
        let mut offs = vec![o.tp_dict, o.tp_mro, o.tp_bases, o.tp_base];
        offs.extend(o.ht_module);
        self.fields(addr, &offs, &mut out.refs);
        let d = h.word(addr + o.tp_dict).unwrap_or(0);
        let mro = h.word(addr + o.tp_mro).unwrap_or(0);
        out.labels = out
            .refs
            .iter()
            .map(|&r| {
                if r == d {
                    Some(dict_label())
                } else if r == mro {
                    Some(MRO_LABEL.with(Rc::clone))
                } else {
                    None
                }
            })
            .collect();
    }

    /// The first type in `t`'s chain of bases that is not a Python class.
    pub(super) fn c_base(&self, t: u64) -> u64 {
        let h = self.heap;
        let mut t = t;
        for _ in 0..64 {
            if !self.types.python_class(h, t) {
                return t;
            }
            match h.word(t + h.off.tp_base) {
                Some(b) if b != 0 => t = b,
                _ => break,
            }
        }
        t
    }

    /// The words after the dict part of a class's tp_dict when that is an instance of a C
    /// subclass of dict (ctypes' StgDict): data a C metaclass keeps per class.
    pub(super) fn class_data_in_dict(&mut self, addr: u64, refs: &mut Vec<u64>) {
        let h = self.heap;
        let Some(d) = h.word(addr + h.off.tp_dict).filter(|&d| d != 0) else {
            return;
        };
        let Some(dict_type) = h.header(d).map(|(_, t)| t) else {
            return;
        };
        if dict_type == self.types.builtins.dict {
            return;
        }
        let (Some(id), Some(plain)) = (
            self.types.get(h, dict_type),
            self.types.get(h, self.types.builtins.dict),
        ) else {
            return;
        };
        let (info, dict_size) = (self.types.shared(id), self.types.info(plain).basicsize);
        if !info.heap && info.kind == Kind::Dict && info.basicsize > dict_size {
            self.scan(d, &info, dict_size, info.basicsize, refs);
        }
    }

    pub(super) fn cfunction(&mut self, addr: u64, out: &mut Decoded) {
        let h = self.heap;
        let o = h.off;
        self.fields(addr, &[o.cfunc_self, o.cfunc_module], &mut out.refs);
        let ml = h.word(addr + o.cfunc_ml).unwrap_or(0);
        if let (Some(class_at), Some(meth_method)) = (o.cmethod_class, o.meth_method) {
            let fl = h.u32(ml + o.methoddef_flags).unwrap_or(0) as u64;
            if ml != 0 && fl & meth_method != 0 {
                self.fields(addr, &[class_at], &mut out.refs);
            }
        }
        out.name = h.word(ml + o.methoddef_name).and_then(|p| h.cstr(p, 1024));
    }
}
