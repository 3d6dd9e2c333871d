//! A mapped snapshot file that shrinks while pymem reads it (another process truncates or
//! rewrites it in place) makes the kernel raise SIGBUS on the lost pages; by default that
//! kills pymem with no message. Once a file is mapped, a SIGBUS handler is in place that
//! writes one line naming the mapped files and what happened, and exits with status 2.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

const CAP: usize = 4096;
const PREFIX: &[u8] = b"pymem: ";
const SUFFIX: &[u8] =
    b": the file shrank while it was read (truncated or rewritten by another process); read a copy, or wait until its writer is done\n";

/// The message's file names, written before `LEN` publishes them to the handler.
struct Names(std::cell::UnsafeCell<[u8; CAP]>);
// SAFETY: written only under `WRITER`, and only past `LEN`, which the handler reads with
// Acquire after the writer's Release store; the handler never writes.
unsafe impl Sync for Names {}

static NAMES: Names = Names(std::cell::UnsafeCell::new([0; CAP]));
static LEN: AtomicUsize = AtomicUsize::new(0);
static WRITER: Mutex<()> = Mutex::new(());
static INSTALL: Once = Once::new();

extern "C" fn on_sigbus(_: nix::libc::c_int) {
    let len = LEN.load(Ordering::Acquire);
    // SAFETY: bytes up to `len` were written before `len` was published and never change
    // afterwards; write(2) and _exit(2) are async-signal-safe.
    unsafe {
        let all: &[u8; CAP] = &*NAMES.0.get();
        let names = &all[..len];
        for part in [PREFIX, names, SUFFIX] {
            nix::libc::write(2, part.as_ptr().cast(), part.len());
        }
        nix::libc::_exit(2);
    }
}

/// Note that `path` is mapped, and make sure the handler is installed.
pub fn watch(path: &std::path::Path) {
    let shown = crate::report::visible::visible(&path.display().to_string()).into_owned();
    {
        let _guard = WRITER.lock().unwrap_or_else(|e| e.into_inner());
        let len = LEN.load(Ordering::Relaxed);
        let sep: &[u8] = if len == 0 { b"" } else { b", " };
        let add = [sep, shown.as_bytes()].concat();
        if len + add.len() <= CAP {
            // SAFETY: only this writer (under the lock) touches bytes past `len`, and the
            // handler reads only up to `len`.
            unsafe {
                let all: &mut [u8; CAP] = &mut *NAMES.0.get();
                all[len..len + add.len()].copy_from_slice(&add);
            }
            LEN.store(len + add.len(), Ordering::Release);
        }
    }
    INSTALL.call_once(|| {
        use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
        let action = SigAction::new(
            SigHandler::Handler(on_sigbus),
            SaFlags::empty(),
            SigSet::empty(),
        );
        // SAFETY: the handler only reads published bytes and calls async-signal-safe
        // functions (write, _exit).
        let _ = unsafe { sigaction(Signal::SIGBUS, &action) };
    });
}
