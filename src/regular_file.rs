//! Opening a file that untrusted input names (a core's file list, an index, `--exe`): a
//! regular file only, opened without blocking, so that a FIFO never hangs pymem and a
//! device node an attacker names is never read.

use std::fs::File;
use std::io;
use std::path::Path;

/// Open `path` for reading if it is a regular file; a FIFO, socket, device or directory is
/// an `InvalidInput` error saying so. The open itself never blocks (`O_NONBLOCK`; the flag
/// is meaningless for the regular file that is then read).
pub fn open_regular(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY)
        .open(path)?;
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("is not a regular file (a {})", kind_name(kind)),
        ));
    }
    Ok(file)
}

fn kind_name(kind: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "directory"
    } else if kind.is_fifo() {
        "FIFO"
    } else if kind.is_socket() {
        "socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "device"
    } else {
        "special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_open() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let e = open_regular(&fifo).unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
        assert!(open_regular(Path::new("/dev/zero"))
            .unwrap_err()
            .to_string()
            .contains("device"));
        assert!(open_regular(dir.path()).is_err());
        let f = dir.path().join("f");
        std::fs::write(&f, b"x").unwrap();
        assert!(open_regular(&f).is_ok());
    }
}
