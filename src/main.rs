//! pymem's entry point: parse arguments, dispatch, map the outcome to an exit code.

// A binary: writing to the terminal is its job (see clippy.toml).
#![allow(clippy::disallowed_macros)]

/// One line on stderr: `pymem: ` and the message, with whatever a file name or a snapshot
/// brought in written visibly (see `pymem::report::visible`).
macro_rules! note {
    ($($arg:tt)*) => {
        eprintln!("pymem: {}", pymem::report::visible::visible(&format!($($arg)*)))
    };
}

mod app;
mod cli;
mod launch;
mod page;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    if !matches!(args.command, cli::Command::Run(_)) {
        // Not for `run`: an ignored signal stays ignored across exec, in the user's program.
        ignore_file_size_signal();
    }
    let code = match app::run(args) {
        Ok(code) => code,
        Err(e) => {
            // One line, with whatever a file name or a snapshot brought in written visibly.
            eprintln!("pymem: {}", pymem::report::visible::visible(&e.to_string()));
            e.exit_code()
        }
    };
    std::process::exit(code);
}

/// A write past the file-size limit (`ulimit -f`) then fails with EFBIG, which the writer
/// reports as one line naming the file, instead of SIGXFSZ killing pymem with its partial
/// file left behind (and a stopped target waiting on a dead tracer).
fn ignore_file_size_signal() {
    use nix::sys::signal::{signal, SigHandler, Signal};
    // SAFETY: SIG_IGN installs no handler code, so nothing runs in signal context; this
    // happens before any other thread exists. (gdb, which some capture methods start,
    // inherits it and gets EFBIG too.)
    let _ = unsafe { signal(Signal::SIGXFSZ, SigHandler::SigIgn) };
}
