//! The ELF file that holds a process's interpreter — the executable itself (static builds,
//! as Debian's) or a mapped `libpython3.X.so` (shared builds, as pyenv's) — with the symbols
//! pymem needs and the bias between the file's addresses and the process's.

use super::maps::Mapping;
use object::{Object, ObjectSegment, ObjectSymbol};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Symbols looked up in the interpreter's file (dynamic symbols first, then the full table
/// when the file has one).
pub const WANTED: &[&str] = &[
    "_PyRuntime",
    "Py_Version",
    "PyRun_SimpleString",
    "Py_AddPendingCall",
    // Static types the decoder knows by address.
    "PyType_Type",
    "PyBaseObject_Type",
    "PyDict_Type",
    "PyODict_Type",
    "PyList_Type",
    "PyTuple_Type",
    "PySet_Type",
    "PyFrozenSet_Type",
    "PyUnicode_Type",
    "PyBytes_Type",
    "PyByteArray_Type",
    "PyLong_Type",
    "PyBool_Type",
    "PyFloat_Type",
    "PyComplex_Type",
    "PyModule_Type",
    "PyFunction_Type",
    "PyCode_Type",
    "PyCFunction_Type",
    "PyCMethod_Type",
    "PyMethod_Type",
    "PyCell_Type",
    "PyFrame_Type",
    "PyBaseException_Type",
    "_PyWeakref_RefType",
    "_PyWeakref_ProxyType",
    "_PyWeakref_CallableProxyType",
    "_PyNone_Type",
    "PyGen_Type",
    "PyCoro_Type",
    "PyAsyncGen_Type",
    "PyModuleDef_Type",
    "PyFrozenDict_Type",
    "PyCapsule_Type",
    "PyMethodDescr_Type",
    "PyWrapperDescr_Type",
    "PyGetSetDescr_Type",
    "PyMemberDescr_Type",
    "PyClassMethodDescr_Type",
    // Objects.
    "_PySet_Dummy",
    "_Py_NoneStruct",
    // pymalloc's globals (3.8-3.11; local symbols, in the full symbol table).
    "usedpools",
    "arenas",
    "maxarenas",
    // tracemalloc's state (3.9-3.11: its table of traces is a local symbol).
    "_Py_tracemalloc_config",
    "tracemalloc_traces",
    "narenas_currently_allocated",
];

/// The interpreter's file as mapped in one process.
#[derive(Debug)]
pub struct PythonBinary {
    /// The file's path as the process sees it (from its maps).
    pub path: String,
    /// The file pymem read (under `/proc/PID/root`, or a sysroot, when that exists).
    pub opened: PathBuf,
    /// Process address = file address + bias.
    pub bias: u64,
    /// Wanted symbols found, as process addresses.
    pub symbols: HashMap<&'static str, u64>,
    /// `3.X.Y` from the file's read-only data (for versions without `Py_Version`).
    pub version_string: Option<String>,
    /// The GNU build-id note, when present.
    pub build_id: Option<Vec<u8>>,
}

/// Why no interpreter was found.
#[derive(Debug)]
pub enum NotFound {
    /// No mapped file looks like a CPython interpreter.
    NoCandidate,
    /// Candidates were found but none has `_PyRuntime` (path and why).
    NoRuntime(Vec<(String, String)>),
}

/// Find the interpreter among the process's mappings. `exe` is the path of its executable;
/// `open` maps a path as the process sees it to a file pymem can read.
pub fn locate(
    maps: &[Mapping],
    exe: Option<&str>,
    open: &dyn Fn(&str) -> PathBuf,
) -> Result<PythonBinary, NotFound> {
    let mut candidates: Vec<&str> = Vec::new();
    for m in maps {
        let name = Path::new(&m.path)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("");
        if name.starts_with("libpython3.") && !candidates.contains(&m.path.as_str()) {
            candidates.push(&m.path);
        }
    }
    if let Some(exe) = exe {
        if maps.iter().any(|m| m.path == exe) && !candidates.contains(&exe) {
            candidates.push(exe);
        }
    }
    // A python started through the dynamic loader (`ld-linux-x86-64.so.2 python3.12`): the
    // executable is the loader, the interpreter one of the files it mapped.
    for m in maps.iter().filter(|m| m.executable) {
        let name = Path::new(&m.path)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("");
        if name.starts_with("python") && !candidates.contains(&m.path.as_str()) {
            candidates.push(&m.path);
        }
    }
    if candidates.is_empty() {
        return Err(NotFound::NoCandidate);
    }
    let mut why = Vec::new();
    for path in candidates {
        match read_binary(path, maps, open) {
            Ok(b) if b.symbols.contains_key("_PyRuntime") => return Ok(b),
            Ok(_) => why.push((path.to_string(), "no _PyRuntime symbol".to_string())),
            Err(e) => why.push((path.to_string(), e)),
        }
    }
    Err(NotFound::NoRuntime(why))
}

fn read_binary(
    path: &str,
    maps: &[Mapping],
    open: &dyn Fn(&str) -> PathBuf,
) -> Result<PythonBinary, String> {
    let opened = open(path);
    let file = crate::regular_file::open_regular(&opened)
        .map_err(|e| format!("{}: {e}", opened.display()))?;
    // SAFETY: the file is mapped read-only and only read through this slice while the map
    // lives; a file truncated meanwhile could fault, which is the accepted risk of reading
    // an executable that another process is running (it cannot be truncated while mapped
    // for execution: ETXTBSY).
    let data = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| format!("{path}: {e}"))?;
    let elf = object::File::parse(&*data).map_err(|e| format!("{path}: not an ELF file ({e})"))?;
    let first_load = elf
        .segments()
        .map(|s| s.address())
        .min()
        .ok_or_else(|| format!("{path}: no loadable segment"))?;
    let base = maps
        .iter()
        .filter(|m| m.path == path && m.offset == 0)
        .map(|m| m.start)
        .min()
        .ok_or_else(|| format!("{path}: not mapped from its start"))?;
    let bias = base.wrapping_sub(first_load & !0xfff);
    let mut symbols = HashMap::new();
    for sym in elf.dynamic_symbols().chain(elf.symbols()) {
        let Ok(name) = sym.name() else { continue };
        if let Some(&wanted) = WANTED.iter().find(|w| **w == name) {
            if sym.address() != 0 {
                symbols
                    .entry(wanted)
                    .or_insert(sym.address().wrapping_add(bias));
            }
        }
    }
    let build_id = elf.build_id().ok().flatten().map(<[u8]>::to_vec);
    Ok(PythonBinary {
        path: path.to_string(),
        opened,
        bias,
        symbols,
        version_string: version_string(&data),
        build_id,
    })
}

/// The first `\0 3.X.Y \0` string in the file (CPython's PY_VERSION, e.g. "3.8.18").
fn version_string(data: &[u8]) -> Option<String> {
    for at in memchr::memmem::find_iter(data, b"\x003.") {
        let rest = &data[at + 1..data.len().min(at + 16)];
        let Some(end) = rest.iter().position(|&b| b == 0) else {
            continue;
        };
        let Ok(s) = std::str::from_utf8(&rest[..end]) else {
            continue;
        };
        let mut parts = s.split('.');
        let ok = parts.next() == Some("3")
            && parts
                .next()
                .is_some_and(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()))
            && parts.next().is_some_and(|p| {
                !p.is_empty()
                    && p.as_bytes()[0].is_ascii_digit()
                    && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+')
            })
            && parts.next().is_none();
        if ok {
            return Some(s.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_string_takes_the_first_plain_version() {
        assert_eq!(
            version_string(b"junk\x003.x\x003.8.18\x00more\x003.9.1\x00"),
            Some("3.8.18".into())
        );
        assert_eq!(
            version_string(b"\x003.12.0rc1\x00"),
            Some("3.12.0rc1".into())
        );
        assert_eq!(version_string(b"\x003.\x00"), None);
    }
}
