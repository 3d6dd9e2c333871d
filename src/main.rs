//! pymem's entry point: parse arguments, dispatch, map the outcome to an exit code.

// A binary: writing to the terminal is its job (see clippy.toml).
#![allow(clippy::disallowed_macros)]

mod app;
mod cli;
mod launch;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    let code = match app::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("pymem: {e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}
