//! `_PyRuntime` of a process: where it is, which exact CPython it belongs to, and (3.13+) the
//! `_Py_DebugOffsets` table CPython keeps at its start for debuggers.

use super::binary::PythonBinary;
use super::layout::{self, Layout};
use super::memory::Memory;

/// A CPython version, as `PY_VERSION_HEX` encodes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub micro: u32,
    /// 0xA alpha, 0xB beta, 0xC release candidate, 0xF final.
    pub level: u32,
    pub serial: u32,
}

impl Version {
    pub fn from_hex(hex: u64) -> Version {
        Version {
            major: ((hex >> 24) & 0xff) as u32,
            minor: ((hex >> 16) & 0xff) as u32,
            micro: ((hex >> 8) & 0xff) as u32,
            level: ((hex >> 4) & 0xf) as u32,
            serial: (hex & 0xf) as u32,
        }
    }

    /// `PY_VERSION_HEX`.
    pub fn hex(&self) -> u64 {
        ((self.major as u64) << 24)
            | ((self.minor as u64) << 16)
            | ((self.micro as u64) << 8)
            | ((self.level as u64) << 4)
            | self.serial as u64
    }

    /// `3.8.18`, `3.12.0rc1`.
    pub fn parse(s: &str) -> Option<Version> {
        let mut parts = s.splitn(3, '.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let rest = parts.next()?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let micro = digits.parse().ok()?;
        let tail = &rest[digits.len()..];
        let (level, serial) = match tail.trim_end_matches('+') {
            "" => (0xF, 0),
            t => {
                let (kind, n) = t.split_at(t.find(|c: char| c.is_ascii_digit()).unwrap_or(t.len()));
                let level = match kind {
                    "a" => 0xA,
                    "b" => 0xB,
                    "rc" => 0xC,
                    _ => return None,
                };
                (level, n.parse().unwrap_or(0))
            }
        };
        Some(Version {
            major,
            minor,
            micro,
            level,
            serial,
        })
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.micro)?;
        match self.level {
            0xA => write!(f, "a{}", self.serial),
            0xB => write!(f, "b{}", self.serial),
            0xC => write!(f, "rc{}", self.serial),
            _ => Ok(()),
        }
    }
}

/// The interpreter runtime of one process.
pub struct Runtime {
    /// Address of `_PyRuntime`.
    pub addr: u64,
    pub version: Version,
    /// Whether `version` is exact (else only its minor is known: 3.8-3.10 before the heap
    /// is read, where `sys.version` says the rest).
    pub exact: bool,
    /// pymem's table for this minor version, when it has one.
    pub layout: Option<&'static Layout>,
    /// The target's own `_Py_DebugOffsets` bytes (3.13+).
    debug: Option<Vec<u8>>,
}

/// `8` from `libpython3.8.so.1.0` or `python3.8`.
fn minor_from_name(path: &str) -> Option<u32> {
    let name = path.rsplit('/').next()?;
    let at = name.find("python3.")? + "python3.".len();
    let digits: String = name[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The debugger cookie at the start of `_PyRuntime` (3.13+).
const COOKIE: &[u8; 8] = b"xdebugpy";

impl Runtime {
    /// Locate the runtime of the process whose interpreter file is `binary`.
    pub fn locate(mem: &dyn Memory, binary: &PythonBinary) -> Result<Runtime, String> {
        let addr = *binary
            .symbols
            .get("_PyRuntime")
            .ok_or("the interpreter has no _PyRuntime symbol")?;
        let mut cookie = [0u8; 8];
        mem.read(addr, &mut cookie)
            .map_err(|e| format!("_PyRuntime is unreadable ({e})"))?;
        let from_symbol = match binary.symbols.get("Py_Version") {
            Some(&a) => mem.read_u64(a).ok().map(|v| v & 0xffff_ffff),
            None => None,
        };
        let mut exact = true;
        let version = if &cookie == COOKIE {
            Version::from_hex(mem.read_u64(addr + 8).map_err(|e| e.to_string())?)
        } else if let Some(hex) = from_symbol {
            Version::from_hex(hex)
        } else if let Some(v) = binary
            .version_string
            .as_deref()
            .and_then(Version::parse)
            .filter(|v| Some(v.minor) == minor_from_name(&binary.path))
        {
            v
        } else {
            // 3.8-3.10 keep no version word: the minor from the file's name; the rest is
            // read from sys.version once the heap is read.
            exact = false;
            let minor = minor_from_name(&binary.path)
                .ok_or("the interpreter's version could not be read")?;
            Version {
                major: 3,
                minor,
                micro: 0,
                level: 0xF,
                serial: 0,
            }
        };
        let layout = (version.major == 3)
            .then(|| layout::for_minor(version.minor))
            .flatten();
        let debug = match (
            layout.and_then(|l| l.get("sizeof._Py_DebugOffsets")),
            &cookie == COOKIE,
        ) {
            (Some(size), true) => Some(
                mem.read_vec(addr, size as usize)
                    .map_err(|e| format!("the debug offsets are unreadable ({e})"))?,
            ),
            _ => None,
        };
        Ok(Runtime {
            addr,
            version,
            exact,
            layout,
            debug,
        })
    }

    /// A value of the target's own `_Py_DebugOffsets` (key as in the layout tables, without
    /// the `_Py_DebugOffsets.` prefix: `runtime_state.interpreters_head`).
    pub fn debug(&self, key: &str) -> Option<u64> {
        let table = self.debug.as_ref()?;
        let at = self.layout?.get(&format!("_Py_DebugOffsets.{key}"))? as usize;
        let bytes = table.get(at..at + 8)?;
        Some(u64::from_le_bytes(bytes.try_into().ok()?))
    }

    /// Whether the target is a free-threaded build (known from the debug table, 3.13+).
    pub fn free_threaded(&self) -> Option<bool> {
        self.debug("free_threaded").map(|v| v != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_print() {
        let v = Version::from_hex(0x030E0AF0);
        assert_eq!(v.to_string(), "3.14.10");
        assert_eq!(Version::parse("3.14.10"), Some(v));
        assert_eq!(
            Version::parse("3.12.0rc1").unwrap().to_string(),
            "3.12.0rc1"
        );
        assert_eq!(Version::parse("3.8.18+").unwrap().micro, 18);
        assert!(Version::parse("x.y").is_none());
    }
}
