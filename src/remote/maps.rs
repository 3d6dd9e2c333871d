//! The memory mappings of a process, from `/proc/PID/maps`.

use std::path::Path;

/// One mapping: `[start, end)` with its permissions, file offset and backing path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub start: u64,
    pub end: u64,
    pub readable: bool,
    pub writable: bool,
    pub executable: bool,
    pub offset: u64,
    /// The backing file, or a pseudo-name (`[heap]`, `[stack]`), or empty.
    pub path: String,
}

impl Mapping {
    pub fn contains(&self, addr: u64) -> bool {
        self.start <= addr && addr < self.end
    }
}

/// Parse the text of a maps file; malformed lines are skipped.
pub fn parse(text: &str) -> Vec<Mapping> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Mapping> {
    let mut parts = line.splitn(6, ' ');
    let range = parts.next()?;
    let perms = parts.next()?.as_bytes();
    let offset = u64::from_str_radix(parts.next()?, 16).ok()?;
    let _dev = parts.next()?;
    let _inode = parts.next()?;
    let path = parts.next().unwrap_or("").trim_start().to_string();
    let (lo, hi) = range.split_once('-')?;
    if perms.len() < 3 {
        return None;
    }
    Some(Mapping {
        start: u64::from_str_radix(lo, 16).ok()?,
        end: u64::from_str_radix(hi, 16).ok()?,
        readable: perms[0] == b'r',
        writable: perms[1] == b'w',
        executable: perms[2] == b'x',
        offset,
        path,
    })
}

/// The mappings of a live process.
pub fn of_process(pid: u32) -> std::io::Result<Vec<Mapping>> {
    Ok(parse(&std::fs::read_to_string(Path::new(&format!(
        "/proc/{pid}/maps"
    )))?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_file_and_anonymous_mappings() {
        let text = "00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/python3.14\n\
7f0000000000-7f0000021000 rw-p 00000000 00:00 0 \n\
7ffc1000-7ffc2000 rw-p 00000000 00:00 0                          [stack]\n\
garbage\n";
        let m = parse(text);
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].path, "/usr/bin/python3.14");
        assert!(m[0].executable && !m[0].writable);
        assert_eq!(m[1].path, "");
        assert!(m[1].writable);
        assert_eq!(m[2].path, "[stack]");
        assert!(m[2].contains(0x7ffc1800));
    }
}
