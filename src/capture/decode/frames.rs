//! Frames: the referents of frame objects, their sizes, and each thread's running frames with
//! their line numbers and local variables (the snapshot's `frame` and `local` roots).
//!
//! Three layouts: 3.8–3.10 frame objects linked by `f_back`; 3.11+ interpreter frames linked
//! by `previous` (3.14+ holding tagged stack references), reached from the thread state;
//! line numbers from `co_lnotab` (3.8, 3.9), the 3.10 line table, or the 3.11+ location table.

use super::Decoder;
use crate::capture::facts::LineTable;
use crate::capture::heap::Heap;
use crate::capture::strings;

/// A thread's running frame, for the roots.
pub struct RunningFrame {
    /// The frame object if there is one, else the interpreter frame.
    pub addr: u64,
    pub function: String,
    pub file: String,
    pub line: i64,
    /// Local variables (name, value); None for module-level code (its locals are globals).
    pub locals: Option<Vec<(String, u64)>>,
}

const CO_OPTIMIZED: u64 = 0x1;
const MAX_FRAMES: usize = 100_000;

fn stackref(h: &Heap, w: u64) -> u64 {
    match h.off.stackref_tag_bits {
        Some(bits) => w & !bits,
        None => w,
    }
}

/// The code object of an interpreter frame (3.11+).
fn iframe_code(h: &Heap, f: u64) -> Option<u64> {
    let o = h.off;
    let at = o.iframe_code.or(o.iframe_executable)?;
    Some(stackref(h, h.word(f + at)?))
}

/// How many localsplus slots of an interpreter frame are in use (locals and stack).
fn iframe_used_slots(h: &Heap, f: u64) -> Option<u64> {
    let o = h.off;
    let base = f + o.iframe_localsplus?;
    if let Some(sp) = o.iframe_stackpointer {
        let p = h.word(f + sp)?;
        return (p >= base).then(|| (p - base) / 8).filter(|&n| n < 1 << 20);
    }
    let top = h.u32(f + o.iframe_stacktop?)? as i32;
    (top >= 0).then_some(top as u64)
}

/// The referents of a frame object (frame_traverse).
pub fn frame_object_refs(dec: &mut Decoder, addr: u64, refs: &mut Vec<u64>) {
    let h = dec.heap;
    let o = h.off;
    let push = |refs: &mut Vec<u64>, at: u64| {
        if let Some(p) = h.word(at).filter(|&p| p != 0) {
            refs.push(stackref(h, p));
        }
    };
    push(refs, addr + o.frame_back);
    if let Some(frame_at) = o.frame_frame {
        // 3.11+
        push(refs, addr + o.frame_trace);
        if let Some(x) = o.frame_extra_locals {
            push(refs, addr + x);
        }
        if let Some(x) = o.frame_locals_cache {
            push(refs, addr + x);
        }
        let Some(f) = h.word(addr + frame_at) else {
            return;
        };
        let owner = o.iframe_owner.and_then(|w| h.u8(f + w)).unwrap_or(0) as u64;
        if Some(owner) != o.owned_by_frame_object {
            return;
        }
        iframe_refs(h, f, refs);
        return;
    }
    for off in [
        o.frame_code,
        o.frame_builtins,
        o.frame_globals,
        o.frame_locals,
    ]
    .into_iter()
    .flatten()
    {
        push(refs, addr + off);
    }
    push(refs, addr + o.frame_trace);
    let Some(code) = o.frame_code.and_then(|c| h.word(addr + c)) else {
        return;
    };
    let slots = legacy_slots(h, code).unwrap_or(0);
    let Some(lp) = o.frame_localsplus else { return };
    for i in 0..slots {
        push(refs, addr + lp + i * 8);
    }
    let Some(vs) = o.frame_valuestack.and_then(|v| h.word(addr + v)) else {
        return;
    };
    let depth = if let Some(top) = o.frame_stacktop.and_then(|t| h.word(addr + t)) {
        if top >= vs {
            (top - vs) / 8
        } else {
            0
        }
    } else if let Some(d) = o.frame_stackdepth.and_then(|d| h.u32(addr + d)) {
        d as i32 as i64 as u64
    } else {
        0
    };
    for i in 0..depth.min(1 << 16) {
        push(refs, vs + i * 8);
    }
}

/// _PyFrame_Traverse: the frame object, locals mapping, function, code, then the used slots.
pub fn iframe_refs(h: &Heap, f: u64, refs: &mut Vec<u64>) {
    let o = h.off;
    for off in [
        o.iframe_frame_obj,
        o.iframe_locals,
        o.iframe_func.or(o.iframe_funcobj),
        o.iframe_code.or(o.iframe_executable),
    ]
    .into_iter()
    .flatten()
    {
        if let Some(p) = h.word(f + off).filter(|&p| p != 0) {
            let p = stackref(h, p);
            if p != 0 {
                refs.push(p);
            }
        }
    }
    let n = iframe_used_slots(h, f).unwrap_or(0);
    let Some(lp) = o.iframe_localsplus else {
        return;
    };
    for i in 0..n {
        if let Some(p) = h.word(f + lp + i * 8) {
            let p = stackref(h, p);
            if p != 0 {
                refs.push(p);
            }
        }
    }
}

/// 3.8-3.10: locals + cells + free variables of a code object.
fn legacy_slots(h: &Heap, code: u64) -> Option<u64> {
    let o = h.off;
    let nlocals = h.u32(code + o.co_nlocals)? as u64;
    let cells = h.word(code + o.co_cellvars?)?;
    let frees = h.word(code + o.co_freevars?)?;
    Some(nlocals + h.ob_size(cells)?.max(0) as u64 + h.ob_size(frees)?.max(0) as u64)
}

/// `frame.__sizeof__`.
pub fn frame_sizeof(h: &Heap, addr: u64) -> Option<u64> {
    let o = h.off;
    if let (Some(frame_at), Some(data), Some(lp)) =
        (o.frame_frame, o.frame_data, o.iframe_localsplus)
    {
        let f = h.word(addr + frame_at)?;
        let code = iframe_code(h, f)?;
        let n = h.u32(code + o.co_nlocalsplus?)? as u64;
        let stack = h.u32(code + o.co_stacksize)? as u64;
        return Some(data + lp + (n + stack) * 8);
    }
    let code = h.word(addr + o.frame_code?)?;
    let stack = h.u32(code + o.co_stacksize)? as u64;
    let extras = stack + legacy_slots(h, code)?;
    Some(o.frame_size + extras.saturating_sub(1) * 8)
}

/// The line a code object is at for a bytecode offset in bytes (`PyCode_Addr2Line`).
pub fn addr2line(h: &Heap, code: u64, addrq: i64) -> i64 {
    let o = h.off;
    let first = h.u32(code + o.co_firstlineno).unwrap_or(0) as i32 as i64;
    if addrq < 0 {
        return first;
    }
    let table_at = match h.facts.line_table {
        LineTable::Lnotab => o.co_lnotab,
        _ => o.co_linetable,
    };
    let Some(table) = table_at
        .and_then(|t| h.word(code + t))
        .and_then(|b| strings::bytes_of(h, b))
    else {
        return first;
    };
    match h.facts.line_table {
        LineTable::Lnotab => {
            let mut line = first;
            let mut addr = 0i64;
            for pair in table.chunks_exact(2) {
                addr += pair[0] as i64;
                if addr > addrq {
                    break;
                }
                line += pair[1] as i8 as i64;
            }
            line
        }
        LineTable::Linetable310 => {
            let (mut start, mut end, mut line, mut computed) = (-1i64, 0i64, -1i64, first);
            let mut i = 0;
            while end <= addrq {
                // Advance to the next non-empty range.
                loop {
                    if i + 1 >= table.len() {
                        return line;
                    }
                    start = end;
                    end += table[i] as i64;
                    let ldelta = table[i + 1] as i8;
                    i += 2;
                    if ldelta == -128 {
                        line = -1;
                    } else {
                        computed += ldelta as i64;
                        line = computed;
                    }
                    if start != end {
                        break;
                    }
                }
            }
            let _ = start;
            line
        }
        LineTable::Locations => {
            let (mut end, mut line, mut computed) = (0i64, -1i64, first);
            let mut i = 0;
            while end <= addrq {
                if i >= table.len() {
                    return line;
                }
                let b = table[i];
                let code_kind = (b >> 3) & 15;
                let delta = match code_kind {
                    13 | 14 => signed_varint(&table[i + 1..]),
                    11 => 1,
                    12 => 2,
                    _ => 0,
                };
                computed += delta;
                line = if b >> 3 == 0x1f { -1 } else { computed };
                end += ((b & 7) as i64 + 1) * 2;
                i += 1;
                while i < table.len() && table[i] & 128 == 0 {
                    i += 1;
                }
            }
            line
        }
    }
}

fn signed_varint(p: &[u8]) -> i64 {
    let mut val: u64 = 0;
    let mut shift = 0;
    for &b in p {
        val |= ((b & 63) as u64) << shift;
        shift += 6;
        if b & 64 == 0 {
            break;
        }
    }
    if val & 1 != 0 {
        -((val >> 1) as i64)
    } else {
        (val >> 1) as i64
    }
}

/// The running frames of a thread, innermost first.
pub fn thread_frames(dec: &mut Decoder, tstate: u64) -> Vec<RunningFrame> {
    let h = dec.heap;
    let o = h.off;
    let mut out = Vec::new();
    if let Some(fa) = o.tstate_frame {
        // 3.8-3.10: frame objects.
        let mut f = h.word(tstate + fa).unwrap_or(0);
        while f != 0 && out.len() < MAX_FRAMES {
            if let Some(rf) = legacy_frame(dec, f) {
                out.push(rf);
            }
            f = h.word(f + o.frame_back).unwrap_or(0);
        }
        return out;
    }
    let mut f = match (o.tstate_current_frame, o.tstate_cframe, o.cframe_current) {
        (Some(cf), _, _) => h.word(tstate + cf).unwrap_or(0),
        (None, Some(c), Some(cur)) => h
            .word(tstate + c)
            .and_then(|cframe| h.word(cframe + cur))
            .unwrap_or(0),
        _ => 0,
    };
    let mut seen = 0;
    while f != 0 && seen < MAX_FRAMES {
        seen += 1;
        if let Some(rf) = iframe(dec, f) {
            out.push(rf);
        }
        f = o.iframe_previous.and_then(|p| h.word(f + p)).unwrap_or(0);
    }
    out
}

fn code_strings(dec: &Decoder, code: u64) -> (String, String) {
    let h = dec.heap;
    let b = &dec.types.builtins;
    let get = |off: u64| {
        h.word(code + off)
            .and_then(|s| strings::exact_str(h, b, s))
            .unwrap_or_else(|| "?".into())
    };
    (get(h.off.co_name), get(h.off.co_filename))
}

fn co_flags(h: &Heap, code: u64) -> u64 {
    h.u32(code + h.off.co_flags).unwrap_or(0) as u64
}

fn legacy_frame(dec: &mut Decoder, f: u64) -> Option<RunningFrame> {
    let h = dec.heap;
    let o = h.off;
    let code = h.word(f + o.frame_code?)?;
    if h.type_of(code)? != dec.types.builtins.code {
        return None;
    }
    let (function, file) = code_strings(dec, code);
    let trace = h.word(f + o.frame_trace).unwrap_or(0);
    let line = if trace != 0 {
        h.u32(f + o.frame_lineno).unwrap_or(0) as i32 as i64
    } else {
        let lasti = h.u32(f + o.frame_lasti?)? as i32 as i64;
        let addrq = match h.facts.line_table {
            LineTable::Linetable310 if lasti >= 0 => lasti * 2,
            _ => lasti,
        };
        addr2line(h, code, addrq)
    };
    let globals = h.word(f + o.frame_globals?)?;
    let locals_dict = h.word(f + o.frame_locals?).unwrap_or(0);
    let locals = if co_flags(h, code) & CO_OPTIMIZED != 0 {
        let mut v = Vec::new();
        let b = &dec.types.builtins;
        let nlocals = h.u32(code + o.co_nlocals)? as u64;
        let names_of = |t: Option<u64>| -> Vec<u64> {
            let Some(t) = t.and_then(|t| h.word(code + t)) else {
                return Vec::new();
            };
            let n = h.ob_size(t).unwrap_or(0).clamp(0, 1 << 16) as u64;
            (0..n)
                .filter_map(|i| h.word(t + o.tuple_items + i * 8))
                .collect()
        };
        let mut names = names_of(o.co_varnames);
        names.truncate(nlocals as usize);
        let cells = names_of(o.co_cellvars);
        let frees = names_of(o.co_freevars);
        let lp = o.frame_localsplus?;
        for (i, &name) in names.iter().chain(&cells).chain(&frees).enumerate() {
            let mut value = h.word(f + lp + i as u64 * 8).unwrap_or(0);
            if i as u64 >= nlocals && value != 0 && h.type_of(value) == Some(b.cell) {
                value = h.word(value + o.cell_ref).unwrap_or(0);
            }
            if value != 0 {
                if let Some(n) = strings::exact_str(h, b, name) {
                    v.push((n, value));
                }
            }
        }
        Some(v)
    } else if locals_dict == globals || locals_dict == 0 {
        None
    } else {
        Some(dict_items(dec, locals_dict))
    };
    Some(RunningFrame {
        addr: f,
        function,
        file,
        line,
        locals,
    })
}

fn dict_items(dec: &Decoder, d: u64) -> Vec<(String, u64)> {
    let h = dec.heap;
    let b = &dec.types.builtins;
    crate::capture::dicts::table(h, d, None)
        .map(|t| {
            t.entries
                .iter()
                .filter_map(|&(k, v)| strings::exact_str(h, b, k).map(|k| (k, v)))
                .collect()
        })
        .unwrap_or_default()
}

/// A 3.11+ interpreter frame, unless it is a shim or has not started (`_PyFrame_IsIncomplete`).
fn iframe(dec: &mut Decoder, f: u64) -> Option<RunningFrame> {
    let h = dec.heap;
    let o = h.off;
    let owner = h.u8(f + o.iframe_owner?)? as u64;
    if Some(owner) == o.owned_by_cstack || Some(owner) == o.owned_by_interpreter {
        return None;
    }
    if o.owned_by_interpreter.is_some_and(|i| owner > i) {
        return None;
    }
    let code = iframe_code(h, f)?;
    if h.type_of(code)? != dec.types.builtins.code {
        return None;
    }
    let code_start = code + o.co_code_adaptive?;
    let (instr, current) = match (o.iframe_instr_ptr, o.iframe_prev_instr) {
        (Some(ip), _) => (h.word(f + ip)?, true),
        (None, Some(pi)) => (h.word(f + pi)?, false),
        _ => return None,
    };
    let first = h.u32(code + o.co_firsttraceable?)? as u64;
    let incomplete = Some(owner) != o.owned_by_generator && instr < code_start + first * 2;
    if incomplete {
        return None;
    }
    let lasti = (instr as i64 - code_start as i64) / 2;
    let _ = current;
    let frame_obj = o.iframe_frame_obj.and_then(|x| h.word(f + x)).unwrap_or(0);
    let traced_line = if frame_obj != 0 {
        h.u32(frame_obj + o.frame_lineno).unwrap_or(0) as i32 as i64
    } else {
        0
    };
    let line = if traced_line != 0 {
        traced_line
    } else {
        addr2line(h, code, lasti * 2)
    };
    let (function, file) = code_strings(dec, code);
    let globals = o.iframe_globals.and_then(|g| h.word(f + g)).unwrap_or(0);
    let locals_map = o.iframe_locals.and_then(|l| h.word(f + l)).unwrap_or(0);
    let locals = if co_flags(h, code) & CO_OPTIMIZED != 0 {
        Some(fast_locals(dec, f, code, frame_obj))
    } else if locals_map == globals || locals_map == 0 {
        None
    } else {
        Some(dict_items(dec, locals_map))
    };
    Some(RunningFrame {
        addr: if frame_obj != 0 { frame_obj } else { f },
        function,
        file,
        line,
        locals,
    })
}

/// 3.11+: an optimized frame's fast locals by name (cells dereferenced, unbound left out),
/// and (3.13+) its extra locals.
fn fast_locals(dec: &Decoder, f: u64, code: u64, frame_obj: u64) -> Vec<(String, u64)> {
    let h = dec.heap;
    let o = h.off;
    let b = &dec.types.builtins;
    let mut out = Vec::new();
    let (Some(names_at), Some(kinds_at), Some(lp)) = (
        o.co_localsplusnames,
        o.co_localspluskinds,
        o.iframe_localsplus,
    ) else {
        return out;
    };
    let names = h.word(code + names_at).unwrap_or(0);
    let kinds = h
        .word(code + kinds_at)
        .and_then(|k| strings::bytes_of(h, k))
        .unwrap_or(&[]);
    let n = h.ob_size(names).unwrap_or(0).clamp(0, 1 << 16) as usize;
    let cellish = o.fast_cell.unwrap_or(0x40) | o.fast_free.unwrap_or(0x80);
    for (i, &kind) in kinds.iter().enumerate().take(n) {
        let kind = kind as u64;
        if o.fast_hidden.is_some_and(|hb| kind & hb != 0) {
            continue;
        }
        let mut value = stackref(h, h.word(f + lp + i as u64 * 8).unwrap_or(0));
        if kind & cellish != 0 && value != 0 && h.type_of(value) == Some(b.cell) {
            value = h.word(value + o.cell_ref).unwrap_or(0);
        }
        if value == 0 {
            continue;
        }
        let Some(name) = h
            .word(names + o.tuple_items + i as u64 * 8)
            .and_then(|s| strings::exact_str(h, b, s))
        else {
            continue;
        };
        out.push((name, value));
    }
    if let (Some(x), true) = (o.frame_extra_locals, frame_obj != 0) {
        if let Some(d) = h.word(frame_obj + x).filter(|&d| d != 0) {
            out.extend(dict_items(dec, d));
        }
    }
    out
}
