//! The command line, as one clap definition (help, completions and docs all come from it).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "pymem",
    version,
    about = "Fast, trustworthy heap-snapshot analyser for CPython",
    long_about = "pymem answers \"where did my Python process's memory go, and what holds it?\" \
from heap snapshots, offline, at any heap size.\n\n\
Take a snapshot inside the process with the embedded agent (`pymem agent --write .`, then \
`pymem_agent.dump(\"heap.jsonl\")`), then ask pymem about it.",
    after_help = "Examples:\n  pymem agent --write .            # write pymem_agent.py here\n  \
python -c 'import pymem_agent; pymem_agent.dump(\"heap.jsonl\")'\n  \
pymem summary heap.jsonl\n  pymem top heap.jsonl\n  pymem path heap.jsonl --type shop.Cart\n  pymem show heap.jsonl 0x7f3a2c1b4e80\n\n\
Exit codes: 0 ok, 1 a gate failed, 2 an error (bad input or arguments)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// What is in the heap: capture facts and objects by type or module.
    #[command(
        after_help = "Examples:\n  pymem summary heap.jsonl\n  pymem summary heap.jsonl.gz --by module --limit 10\n  pymem summary heap.jsonl --format json | jq '.rows[0]'"
    )]
    Summary(SummaryArgs),
    /// The biggest retainers (dominator tree) with their paths, or retained bytes by type/module.
    #[command(
        after_help = "Examples:\n  pymem top heap.jsonl\n  pymem top heap.jsonl --by type --limit 20\n  pymem top heap.jsonl --by module --format json\n\n\
Retained size: the bytes that would be freed if the object went away (everything it dominates).\n\
Objects no root reaches (garbage awaiting collection) are counted and reported separately."
    )]
    Top(TopArgs),
    /// Why objects are alive: shortest labelled paths from a root, e.g. shop._carts['u42'].payload[3].
    #[command(
        after_help = "Examples:\n  pymem path heap.jsonl 0x7f3a2c1b4e80\n  pymem path heap.jsonl --type shop.models.Token --limit 5\n  pymem path heap.jsonl --type Token --format dot | dot -Tsvg > why.svg\n\n\
Paths start from a module, a thread frame or the interpreter when one reaches the object;\n\
else from an object held from outside the snapshot (C code, an extension)."
    )]
    Path(PathArgs),
    /// One object: sizes, retained size, referrers and referents with labels, path to a root.
    #[command(
        after_help = "Examples:\n  pymem show heap.jsonl 0x7f3a2c1b4e80\n  pymem show heap.jsonl 139887123456 --limit 50 --format json"
    )]
    Show(ShowArgs),
    /// Write or print the capture agent (pymem_agent.py, stdlib only).
    #[command(
        after_help = "Examples:\n  pymem agent --write .\n  pymem agent --print > pymem_agent.py\n\n\
In Python:\n  import pymem_agent\n  pymem_agent.dump(\"heap.jsonl\")          # private: no string contents\n  \
pymem_agent.dump(\"heap.jsonl\", values=True)  # include contents"
    )]
    Agent(AgentArgs),
    /// Print shell completions.
    #[command(
        after_help = "Examples:\n  pymem completions bash > /etc/bash_completion.d/pymem\n  pymem completions zsh > ~/.zfunc/_pymem\n  pymem completions fish > ~/.config/fish/completions/pymem.fish"
    )]
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Json,
}

/// Options every snapshot-reading command shares.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Load a snapshot that has no end record (a capture that was cut short).
    #[arg(long)]
    pub partial: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SummaryBy {
    Type,
    Module,
}

#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// Snapshot file (JSON Lines, optionally .gz).
    pub snapshot: PathBuf,
    /// Group objects by type or by the module that defines their type.
    #[arg(long, value_enum, default_value_t = SummaryBy::Type)]
    pub by: SummaryBy,
    /// Rows to show.
    #[arg(long, default_value_t = 25)]
    pub limit: usize,
    /// Count each instance's own __dict__ in its class's row (heapy's "dict of class").
    #[arg(long)]
    pub fold: bool,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum TopBy {
    Object,
    Type,
    Module,
}

#[derive(Debug, Args)]
pub struct TopArgs {
    /// Snapshot file (JSON Lines, optionally .gz).
    pub snapshot: PathBuf,
    /// Rank objects, or types/modules by the bytes their instances retain.
    #[arg(long, value_enum, default_value_t = TopBy::Object)]
    pub by: TopBy,
    /// Rows to show.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum PathFormat {
    Table,
    Json,
    Dot,
}

#[derive(Debug, Args)]
pub struct PathArgs {
    /// Snapshot file (JSON Lines, optionally .gz).
    pub snapshot: PathBuf,
    /// Object address, hex (0x...) or decimal.
    #[arg(required_unless_present = "type_name", conflicts_with = "type_name")]
    pub address: Option<String>,
    /// Paths to the instances of this type (module.Qualname or Qualname), biggest first.
    #[arg(long = "type", value_name = "NAME")]
    pub type_name: Option<String>,
    /// Instances to show with --type.
    #[arg(long, default_value_t = 5)]
    pub limit: usize,
    /// Load a snapshot that has no end record.
    #[arg(long)]
    pub partial: bool,
    /// Output format (dot: the retainer graph for graphviz).
    #[arg(long, value_enum, default_value_t = PathFormat::Table)]
    pub format: PathFormat,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Snapshot file (JSON Lines, optionally .gz).
    pub snapshot: PathBuf,
    /// Object address, hex (0x...) or decimal.
    pub address: String,
    /// Referrers and referents to list.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct AgentArgs {
    /// Directory to write pymem_agent.py into.
    #[arg(long, value_name = "DIR")]
    pub write: Option<PathBuf>,
    /// Print the agent's source on stdout.
    #[arg(long)]
    pub print: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }
}
