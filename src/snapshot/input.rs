//! Getting a snapshot's bytes: a regular file is memory-mapped; gzip, standard input (`-`),
//! pipes and other streams are read into memory as they come, with bounds. A stream may be
//! hostile (a decompression bomb: a few MiB of gzip holding gigabytes of blanks), so while it
//! is read pymem checks that it still looks like snapshot lines, and refuses it at once when
//! it does not; memory is reserved fallibly, so running out of it is reported as such.

use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

/// The path that means standard input.
pub const STDIN: &str = "-";

/// Blank bytes in a row (spaces, tabs, carriage returns, empty lines) that no snapshot
/// writer produces; more is refused as not snapshot lines.
const MAX_BLANK_RUN: usize = 64 << 10;
/// The longest line accepted from a stream (a list of tens of millions of references).
const MAX_LINE: usize = 1 << 30;
/// The longest header line accepted (it holds the allocator's tables, a few KiB).
const MAX_HEADER: usize = 16 << 20;
/// Bytes read from a stream at a time.
const BLOCK: usize = 1 << 20;

/// The file's bytes: mapped, or read into memory.
pub enum Bytes {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

/// Mapped files at least this big are released as they are read (see [`Bytes::release`]).
pub const RELEASE_ABOVE: u64 = 4 << 30;

impl Bytes {
    /// Let the kernel drop the resident pages inside `range` (offsets into these bytes) of a
    /// mapped file of [`RELEASE_ABOVE`] bytes or more once they are read, so that loading a
    /// file as big as memory does not keep it all resident (a 10 GiB snapshot: 17 GiB peak
    /// otherwise). Touched again, the pages are read again from the page cache or the file,
    /// which costs a smaller file more time than it saves. Only whole 64 KiB blocks inside
    /// the range are released (a multiple of every page size). Bytes read into memory are
    /// kept.
    pub fn release(&self, range: std::ops::Range<usize>) {
        const BLOCK: usize = 64 << 10;
        let Bytes::Mapped(map) = self else {
            return;
        };
        if (map.len() as u64) < RELEASE_ABOVE {
            return;
        }
        let start = range.start.next_multiple_of(BLOCK);
        let end = range.end.min(map.len()) / BLOCK * BLOCK;
        if end > start {
            // SAFETY: the map is private, read-only and never written, so its pages are clean
            // copies of the file: dropping them loses nothing, and a later read faults them in
            // again from the same file (as eviction under memory pressure would). The range
            // lies inside the map.
            let _ = unsafe {
                map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start)
            };
        }
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Read `path` (or standard input for `-`).
pub fn read(path: &Path) -> Result<Bytes> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    if path.as_os_str() == STDIN {
        return read_stream(path, std::io::stdin().lock(), None);
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if meta.is_dir() {
        return Err(Error::file(path, "is a directory, not a snapshot file"));
    }
    if !meta.is_file() {
        // A pipe, a FIFO, /dev/stdin, <(zcat x.gz): read as it comes.
        return read_stream(path, file, None);
    }
    if meta.len() == 0 {
        return Err(Error::file(path, "empty file (not a pymem snapshot)"));
    }
    // SAFETY: the map is read-only and private to this process. A file that another process
    // truncates while it is mapped makes reading the lost pages raise SIGBUS, which
    // `guard_against_shrinking` turns into a one-line error naming the file.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
    if map.starts_with(&GZIP_MAGIC) {
        let len = map.len();
        return read_stream(path, &map[..], Some(len));
    }
    super::shrink::watch(path);
    Ok(Bytes::Mapped(map))
}

/// What the stream checks have seen so far.
#[derive(Default)]
struct Shape {
    /// Lines completed so far (for the error's line number).
    lines: u64,
    /// Blank bytes in a row at the end of what was read.
    blank_run: usize,
    /// Bytes of the current line so far.
    line_len: usize,
    /// The next non-blank byte starts a line.
    at_line_start: bool,
    /// Nothing non-blank seen yet.
    at_start: bool,
}

impl Shape {
    /// Check `block` (the next bytes of the stream); an error message when it is not
    /// snapshot lines.
    fn check(&mut self, block: &[u8]) -> std::result::Result<(), String> {
        for &b in block {
            match b {
                b'\n' => {
                    self.lines += 1;
                    self.line_len = 0;
                    self.at_line_start = true;
                    self.blank_run += 1;
                }
                b' ' | b'\t' | b'\r' => {
                    self.blank_run += 1;
                    self.line_len += 1;
                }
                _ => {
                    if (self.at_line_start || self.at_start) && b != b'{' {
                        // A UTF-8 byte-order mark before the first record is accepted.
                        let bom =
                            self.at_start && self.line_len < 3 && matches!(b, 0xEF | 0xBB | 0xBF);
                        if !bom {
                            return Err(format!(
                                "line {}: not a pymem snapshot line (it starts with {})",
                                self.lines + 1,
                                describe(b)
                            ));
                        }
                        self.line_len += 1;
                        continue;
                    }
                    self.at_line_start = false;
                    self.at_start = false;
                    self.blank_run = 0;
                    self.line_len += 1;
                }
            }
            if self.blank_run > MAX_BLANK_RUN {
                return Err(format!(
                    "line {}: more than {} KiB of blank space in a row: not snapshot lines",
                    self.lines + 1,
                    MAX_BLANK_RUN >> 10
                ));
            }
            if self.line_len > MAX_LINE {
                return Err(format!(
                    "line {}: longer than {} MiB: not a snapshot line",
                    self.lines + 1,
                    MAX_LINE >> 20
                ));
            }
        }
        Ok(())
    }
}

fn describe(b: u8) -> String {
    match b {
        0 => "a NUL byte (binary data)".into(),
        b if b.is_ascii_graphic() => format!("{:?}", b as char),
        b => format!("byte 0x{b:02x}"),
    }
}

/// Read a stream, gunzipping it when it starts with gzip's magic; `hint` is the compressed
/// size when known.
fn read_stream(path: &Path, mut raw: impl Read, hint: Option<usize>) -> Result<Bytes> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    // Peek at the first bytes to see whether it is gzip.
    let mut head = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match raw.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    let chained = std::io::Cursor::new(head[..got].to_vec()).chain(raw);
    let gzip = got == 2 && head == GZIP_MAGIC;
    let out = if gzip {
        collect(
            path,
            flate2::read::MultiGzDecoder::new(chained),
            hint.map_or(BLOCK, |n| n.saturating_mul(6)),
            true,
        )?
    } else {
        collect(path, chained, BLOCK, false)?
    };
    if out.is_empty() {
        return Err(Error::file(
            path,
            if gzip {
                "empty file after decompression"
            } else {
                "empty input (not a pymem snapshot)"
            },
        ));
    }
    Ok(Bytes::Owned(out))
}

fn collect(path: &Path, mut r: impl Read, capacity: usize, gzip: bool) -> Result<Vec<u8>> {
    let mut out: Vec<u8> = Vec::new();
    let oom = |have: usize| {
        Error::file(
            path,
            format!(
                "out of memory after reading {} MiB of snapshot{}",
                have >> 20,
                if gzip { " (decompressed)" } else { "" }
            ),
        )
    };
    out.try_reserve(capacity.min(1 << 30)).map_err(|_| oom(0))?;
    let mut shape = Shape {
        at_start: true,
        ..Shape::default()
    };
    let mut header_seen = false;
    loop {
        if out.capacity() - out.len() < BLOCK {
            // Grow by half again (at least a block), fallibly.
            let more = (out.capacity() / 2).max(BLOCK);
            if out.try_reserve(more).is_err() && out.try_reserve(BLOCK).is_err() {
                return Err(oom(out.len()));
            }
        }
        let start = out.len();
        out.resize(start + BLOCK, 0);
        let n = loop {
            match r.read(&mut out[start..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    out.truncate(start);
                    let what = if gzip {
                        format!("gzip data is corrupt: {e}")
                    } else {
                        format!("cannot read: {e}")
                    };
                    return Err(Error::file(path, what));
                }
            }
        };
        out.truncate(start + n);
        if n == 0 {
            break;
        }
        shape
            .check(&out[start..])
            .map_err(|why| Error::file(path, why))?;
        if !header_seen {
            // The first line must be the header record; known as soon as it is complete.
            let first = match memchr::memchr(b'\n', &out) {
                Some(i) => Some(&out[..i]),
                None if out.len() > MAX_HEADER => Some(&out[..]),
                None => None,
            };
            if let Some(line) = first {
                if memchr::memmem::find(line, br#""header""#).is_none() {
                    return Err(Error::line(
                        path,
                        1,
                        "not a pymem snapshot: the first line is not a header record",
                    ));
                }
                header_seen = true;
            }
        }
    }
    out.shrink_to_fit();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(data: &[u8]) -> std::result::Result<(), String> {
        let mut s = Shape {
            at_start: true,
            ..Shape::default()
        };
        data.chunks(7).try_for_each(|b| s.check(b))
    }

    #[test]
    fn snapshot_lines_pass_and_blanks_and_junk_do_not() {
        assert!(shape(b"{\"k\":\"header\"}\n{\"k\":\"o\"}\r\n\n{\"k\":\"end\"}\n").is_ok());
        assert!(shape(b"\xEF\xBB\xBF{\"k\":\"header\"}\n").is_ok());
        let mut bomb = b"{\"k\":\"header\"}\n".to_vec();
        bomb.extend(std::iter::repeat_n(b' ', MAX_BLANK_RUN + 1));
        assert!(shape(&bomb).unwrap_err().contains("blank space"));
        let mut lines = b"{\"k\":\"header\"}\n".to_vec();
        lines.extend(std::iter::repeat_n(b'\n', MAX_BLANK_RUN + 1));
        assert!(shape(&lines).unwrap_err().contains("line "));
        assert!(shape(b"{\"k\":1}\nhello\n")
            .unwrap_err()
            .starts_with("line 2: not a pymem snapshot line"));
        assert!(shape(b"\0\0\0").unwrap_err().contains("NUL"));
    }
}
