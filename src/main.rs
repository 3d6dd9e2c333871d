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

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
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
