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
Take snapshots with `pymem run` or `pymem attach`, or inside the process with the embedded \
agent (`pymem agent --write .`, then `pymem_agent.dump(\"heap.jsonl\")`), then ask pymem about them.",
    after_help = "Examples:\n  pymem agent --write .            # write the pymem_agent package here\n  \
python -c 'import pymem_agent; pymem_agent.dump(\"heap.jsonl\")'\n  \
pymem summary heap.jsonl\n  pymem top heap.jsonl\n  pymem path heap.jsonl --type shop.Cart\n  pymem show heap.jsonl 0x7f3a2c1b4e80\n  \
pymem run -o snaps --signal USR2 -- app.py  # or: pymem attach <pid>\n  \
pymem leaks a.jsonl b.jsonl c.jsonl\n  pymem gate a.jsonl b.jsonl c.jsonl --format junit\n  \
pymem frag heap.jsonl --svg arenas.svg\n\n\
Exit codes: 0 ok, 1 a gate failed, 2 an error (bad input or arguments)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Neither open nor write a snapshot's index for this command (parse the JSON again).
    #[arg(long, global = true)]
    pub no_index: bool,
    /// Index a snapshot read from standard input too, in the cache folder (its name is
    /// printed on stderr; give it in place of the snapshot later).
    #[arg(long, global = true, conflicts_with = "no_index")]
    pub index: bool,
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
    /// What changed between two snapshots: counts and bytes per type or module, new and gone objects.
    #[command(
        after_help = "Examples:\n  pymem diff before.jsonl after.jsonl\n  pymem diff before.jsonl after.jsonl --by module --limit 10\n  pymem diff before.jsonl after.jsonl --format csv > changes.csv\n\n\
New and gone objects are matched by identity: same address and same type (and for str, bytes\n\
and tuple the same length and content hash). An object freed and replaced by a new one of the\n\
same type at the same address between the captures looks unchanged; snapshots of different\n\
processes are compared by totals only."
    )]
    Diff(DiffArgs),
    /// The containers that grow: leak roots named by their paths, with growth per round.
    #[command(
        after_help = "Examples:\n  pymem leaks baseline.jsonl after-100.jsonl after-200.jsonl\n  pymem leaks a.jsonl b.jsonl --ignore 'myapp.metrics.*' --limit 5\n  pymem leaks a.jsonl b.jsonl c.jsonl --format json | jq '.roots[0].path.expr'\n\n\
Candidates are objects new in B (absent from A) and, with C, still alive in C. Each is charged\n\
to the nearest pre-existing object that dominates it: the container that grows. Take A after a\n\
warm-up, B and C after equal rounds of work. Interpreter noise (import machinery, linecache,\n\
typing/re caches, warning registries, test runners) is suppressed and reported as such."
    )]
    Leaks(LeaksArgs),
    /// CI leak gate: exit 0 pass, 1 fail (leak roots grew beyond the limits), 2 error.
    #[command(
        after_help = "Examples:\n  pymem gate baseline.jsonl after-100.jsonl after-200.jsonl\n  pymem gate a.jsonl b.jsonl c.jsonl --max-growth 256KiB --format junit > pymem.xml\n  pymem gate a.jsonl b.jsonl c.jsonl --max-leaks 0\n  pymem gate a.jsonl b.jsonl c.jsonl --html pymem-report.html\n\n\
A root counts as a leak when it grew (retained bytes or entries) between every pair of\n\
consecutive snapshots, by at least --min-growth per round; bounded caches and rotating buffers\n\
in steady state do not. The gate fails when the leak roots grew by more than --max-growth in\n\
all, or number more than --max-leaks."
    )]
    Gate(GateArgs),
    /// Caches: containers held by modules, classes and long-lived objects, their bounds and growth.
    #[command(
        after_help = "Examples:\n  pymem caches heap.jsonl\n  pymem caches before.jsonl after.jsonl --min-entries 50\n  pymem caches a.jsonl b.jsonl c.jsonl --format json | jq '.caches[] | select(.verdict==\"growing\")'\n\n\
With several snapshots of one process (oldest first), a cache with no bound whose entries grow\n\
in every snapshot is GROWING and comes first. lru_cache bounds and hit counts are read by the\n\
agent through the wrapper's C-level cache_info()."
    )]
    Caches(CachesArgs),
    /// Advice with the bytes at stake: __slots__, duplicate strings, empty and over-allocated containers, number lists, caches.
    #[command(
        after_help = "Examples:\n  pymem advise heap.jsonl\n  pymem advise heap.jsonl --min-instances 1000 --format json\n\n\
Savings are computed from the block sizes measured in the snapshot (for __slots__: the\n\
instances' own blocks, their __dict__ or values array, against a slotted instance)."
    )]
    Advise(AdviseArgs),
    /// Fragmentation: which live blocks pin which pymalloc arenas, so RSS never goes down.
    #[command(
        after_help = "Examples:\n  pymem frag heap.jsonl\n  pymem frag heap.jsonl --threshold 10 --by owner\n  pymem frag heap.jsonl --svg arenas.svg\n  pymem frag before.jsonl after.jsonl\n\n\
An arena (256 KiB up to 3.9, 1 MiB from 3.10) goes back to the OS only when all its pools are\n\
empty. Arenas used below --threshold are pinned; their held-but-unused bytes are charged to the\n\
blocks inside them (objects by type or holder, owned buffers, and blocks the pool headers count\n\
but no object accounts for: free lists and interpreter allocations)."
    )]
    Frag(FragArgs),
    /// Run a Python program with snapshots armed: at exit, on a signal, or periodically.
    #[command(
        after_help = "Examples:\n  pymem run -- app.py --port 8080              # a snapshot when it exits\n  pymem run -o snaps --signal USR2 -- -m myservice\n  kill -USR2 <pid>                              # a snapshot now\n  pymem run --every 10m --tracemalloc 10 -- worker.py\n\n\
Snapshots go to DIR/pymem-PID-NNN-REASON.jsonl, each announced on stderr. The program's\n\
stdin, stdout, stderr and exit code are its own; SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 sent to\n\
pymem are passed on (Ctrl-C reaches the program directly)."
    )]
    Run(RunArgs),
    /// Take a snapshot of a running CPython process, which keeps running.
    #[command(
        after_help = "Examples:\n  pymem attach 4242\n  pymem attach 4242 -o /tmp/before.jsonl --timeout 60\n  pymem attach 4242 --method inject\n\n\
--method read (the default) runs nothing in the target: pymem stops every thread (ptrace\n\
seize and interrupt), copies the memory the heap lives in, resumes the process (stopped\n\
about 0.7 s per GB of heap), then decodes the copy into a snapshot. --method inject queues\n\
the agent in the target, which captures itself at its next safe point between bytecodes:\n\
CPython 3.14+ through the interpreter's remote execution (PEP 768, written by pymem; no\n\
gdb), 3.8-3.13 through gdb (Py_AddPendingCall), after checking once per machine on a\n\
throwaway process that gdb can call functions here (gdb 13 cannot on Intel AMX machines).\n\
Both need permission to trace the process (same user with kernel.yama.ptrace_scope 0, or\n\
CAP_SYS_PTRACE; in a container --cap-add SYS_PTRACE). Ctrl-C, SIGTERM and --timeout leave\n\
the process running in every case."
    )]
    Attach(AttachArgs),
    /// Take a snapshot of the heap in a core file (from the kernel or gcore).
    #[command(
        after_help = "Examples:\n  pymem core core.4242 -o heap.jsonl\n  coredumpctl dump 4242 -o core.4242 && pymem core core.4242\n  pymem core core.4242 --sysroot /srv/container-root\n  pymem core core.4242 --exe ./venv/bin/python3.12\n\n\
The core's memory is read the way `pymem attach` reads a live process, so every analysis\n\
works on the result. The files the process had mapped (its NT_FILE note) provide the pages\n\
the core leaves out, once their build-ids match the ones in the core; --exe and --sysroot\n\
say where they are when the core comes from another machine or a container. A core cut\n\
short, one whose coredump_filter left out the heap, and a core of a process that is not\n\
CPython are refused in one line."
    )]
    Core(CoreArgs),
    /// Take a read-only snapshot when a process's RSS reaches a size (before the OOM killer).
    #[command(
        after_help = "Examples:\n  pymem watch 4242 --rss 3GiB -o /var/tmp/heaps\n  pymem watch 4242 --rss 1GiB --repeat          # at 1, 2, 3 GiB ...\n  pymem watch 4242 --rss 3GiB --step 256MiB     # at 3 GiB, 3.25 GiB ...\n\n\
Each snapshot is taken as `pymem attach` takes one (read from outside, nothing runs in the\n\
process; the same permissions) and named pymem-PID-rss-NMiB.jsonl after the size reached.\n\
Set SIZE below the process's memory limit (a container's memory.max, systemd's MemoryMax)\n\
by more than it grows in one --every. Exit status: 0 once a snapshot was written, 1 if the\n\
process exited before reaching SIZE, 130 if interrupted before any, 2 on errors."
    )]
    Watch(WatchArgs),
    /// Write the capture agent (the pymem_agent package, stdlib only), or print it as one file.
    #[command(
        after_help = "Examples:\n  pymem agent --write .\n  pymem agent --print > pymem_agent.py\n\n\
In Python:\n  import pymem_agent\n  pymem_agent.dump(\"heap.jsonl\")          # private: no string contents\n  \
pymem_agent.dump(\"heap.jsonl\", values=True)  # include contents"
    )]
    Agent(AgentArgs),
    /// Index snapshots ahead of time, so that every later command on them opens at once.
    #[command(
        after_help = "Examples:\n  pymem index heap.jsonl\n  pymem index snaps/*.jsonl.gz\n\n\
The first command on a snapshot indexes it anyway; this does it ahead (a CI job, a post-mortem\n\
bundle). The index goes beside the snapshot (heap.jsonl.pmi), or where that folder is not\n\
writable into $XDG_CACHE_HOME/pymem (~/.cache/pymem). Remove an index with rm; remove them all\n\
with rm -r ~/.cache/pymem and the .pmi files beside the snapshots. An index can be given in\n\
place of its snapshot (pymem top heap.jsonl.pmi), even once the snapshot is gone."
    )]
    Index(IndexArgs),
    /// One self-contained HTML page to explore a snapshot in a browser.
    #[command(
        after_help = "Examples:\n  pymem report heap.jsonl -o report.html\n  pymem report heap.jsonl -o report.html --open\n  pymem report baseline.jsonl after-100.jsonl after-200.jsonl -o leaks.html\n  pymem report heap.jsonl -o report.html --min-share 0.001 --max-nodes 5000\n\n\
The page holds an overview (capture facts, resident memory by part, the biggest retainers),\n\
the dominator tree as an icicle to click through and as an expandable list, an object panel\n\
(path to a root, biggest referrers and referents) and a sortable table of types. Everything is\n\
inline: the file opens from disk with no network. Objects retaining less than --min-share of\n\
the heap are folded into one node per parent, so the page stays small for any heap."
    )]
    Report(ReportArgs),
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

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// One snapshot, or two or three of one process, oldest first (a series: the page adds
    /// what changed and the leak roots; the tree is the last snapshot's).
    #[arg(num_args = 1..=3, required = true, value_name = "SNAPSHOT")]
    pub snapshots: Vec<PathBuf>,
    /// The HTML file to write.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Open the page in the default browser once written (xdg-open).
    #[arg(long)]
    pub open: bool,
    /// Objects retaining less than this share of the heap are folded (0..1).
    #[arg(long, default_value_t = 0.0001)]
    pub min_share: f64,
    /// At most this many objects of the dominator tree in the page (the largest first).
    #[arg(long, default_value_t = 50_000)]
    pub max_nodes: usize,
    #[command(flatten)]
    pub suppress: LeakFilterArgs,
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Snapshot files (JSON Lines, optionally .gz).
    #[arg(required = true)]
    pub snapshots: Vec<PathBuf>,
}

/// Which frames of an allocation traceback name where an object was allocated.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum FramesArg {
    /// The innermost frame in your own code (not the standard library, site-packages or
    /// frozen importlib).
    User,
    /// The whole recorded stack, innermost first.
    All,
}

impl From<FramesArg> for pymem::analysis::sites::Frames {
    fn from(f: FramesArg) -> Self {
        match f {
            FramesArg::User => Self::User,
            FramesArg::All => Self::All,
        }
    }
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
    /// Allocation site (needs snapshots captured with tracemalloc on).
    Traceback,
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
    /// Which frames of an allocation traceback name the site (snapshots taken with tracemalloc).
    #[arg(long, value_enum, default_value_t = FramesArg::User)]
    pub frames: FramesArg,
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

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DiffBy {
    Type,
    Module,
    /// Allocation site (needs snapshots captured with tracemalloc on).
    Traceback,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DiffFormat {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier snapshot.
    pub a: PathBuf,
    /// The later snapshot.
    pub b: PathBuf,
    /// Group by type, by the module that defines the type, or by allocation traceback.
    #[arg(long, value_enum, default_value_t = DiffBy::Type)]
    pub by: DiffBy,
    /// Rows (and new/gone objects) to show.
    #[arg(long, default_value_t = 25)]
    pub limit: usize,
    /// Which frames of an allocation traceback name the site (snapshots taken with tracemalloc).
    #[arg(long, value_enum, default_value_t = FramesArg::User)]
    pub frames: FramesArg,
    /// Load snapshots that have no end record.
    #[arg(long)]
    pub partial: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
    pub format: DiffFormat,
}

/// Which leak roots count and which are ignored, shared by `leaks` and `gate`.
#[derive(Debug, Args)]
pub struct LeakFilterArgs {
    /// A root that grew in every round counts as a leak only if it grew at least this much per round.
    #[arg(long, value_name = "SIZE", default_value = "1KiB", value_parser = size)]
    pub min_growth: u64,
    /// Ignore leak roots whose path matches this wildcard pattern (`*`, `?`); repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub ignore: Vec<String>,
    /// A file of patterns, one per line (`#` starts a comment); repeatable.
    #[arg(long, value_name = "FILE")]
    pub suppressions: Vec<PathBuf>,
    /// Do not suppress the built-in interpreter noise (import machinery, linecache, ...).
    #[arg(long)]
    pub no_builtin_suppressions: bool,
    /// Memory outside Python objects (C heap no object accounts for, other anonymous memory)
    /// that may grow in all, first snapshot to last, before growth in every round is a native leak.
    #[arg(long, value_name = "SIZE", default_value = "4MiB", value_parser = size)]
    pub max_native_growth: u64,
    /// Which frames of an allocation traceback name the site (snapshots taken with tracemalloc).
    #[arg(long, value_enum, default_value_t = FramesArg::User)]
    pub frames: FramesArg,
    /// Load snapshots that have no end record.
    #[arg(long)]
    pub partial: bool,
}

#[derive(Debug, Args)]
pub struct LeaksArgs {
    /// Two or three snapshots of one process, oldest first: baseline, target[, final].
    #[arg(num_args = 2..=3, required = true, value_name = "SNAPSHOT")]
    pub snapshots: Vec<PathBuf>,
    /// Leak roots to show.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    #[command(flatten)]
    pub suppress: LeakFilterArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum GateFormat {
    Table,
    Json,
    Junit,
}

#[derive(Debug, Args)]
pub struct GateArgs {
    /// Two or three snapshots of one process, oldest first: baseline, target[, final].
    #[arg(num_args = 2..=3, required = true, value_name = "SNAPSHOT")]
    pub snapshots: Vec<PathBuf>,
    /// Bytes the leak roots may grow by in all, first snapshot to last (e.g. 65536, 64KiB, 1.5MiB).
    #[arg(long, value_name = "SIZE", default_value = "64KiB", value_parser = size)]
    pub max_growth: u64,
    /// Leak roots allowed (default: any number within --max-growth).
    #[arg(long, value_name = "N")]
    pub max_leaks: Option<u64>,
    /// Leak roots to list.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    #[command(flatten)]
    pub suppress: LeakFilterArgs,
    /// Output format (junit: a JUnit XML report for CI systems).
    #[arg(long, value_enum, default_value_t = GateFormat::Table)]
    pub format: GateFormat,
    /// Also write the HTML report of the series, whatever the verdict (a CI artifact).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

fn size(text: &str) -> Result<u64, String> {
    pymem::analysis::gate::parse_size(text)
        .ok_or_else(|| format!("{text:?} is not a size (e.g. 65536, 64KiB, 1.5MiB)"))
}

#[derive(Debug, Args)]
pub struct AdviseArgs {
    /// Snapshot file (JSON Lines, optionally .gz).
    pub snapshot: PathBuf,
    /// Instances (or containers) a pattern needs before it is worth advice.
    #[arg(long, value_name = "N", default_value_t = pymem::analysis::advise::DEFAULT_MIN_INSTANCES)]
    pub min_instances: u64,
    /// Entries a list of numbers needs before array.array is suggested.
    #[arg(long, value_name = "N", default_value_t = pymem::analysis::advise::DEFAULT_MIN_LIST)]
    pub min_list: u64,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, Args)]
pub struct CachesArgs {
    /// One or more snapshots of one process, oldest first.
    #[arg(num_args = 1.., required = true, value_name = "SNAPSHOT")]
    pub snapshots: Vec<PathBuf>,
    /// Containers with fewer entries are not listed.
    #[arg(long, value_name = "N", default_value_t = pymem::analysis::caches::DEFAULT_MIN_ENTRIES)]
    pub min_entries: u64,
    /// Caches to show.
    #[arg(long, default_value_t = pymem::analysis::caches::DEFAULT_LIMIT)]
    pub limit: usize,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum FragBy {
    /// Objects by type, buffers by their owner's type.
    Type,
    /// Objects by the container holding them, buffers by their owner.
    Owner,
    /// Allocation site (needs snapshots captured with tracemalloc on).
    Traceback,
}

#[derive(Debug, Args)]
pub struct FragArgs {
    /// One snapshot, or two to compare (oldest first).
    #[arg(num_args = 1..=2, required = true, value_name = "SNAPSHOT")]
    pub snapshots: Vec<PathBuf>,
    /// Arenas used below this percentage are pinned.
    #[arg(long, value_name = "PCT", default_value_t = pymem::analysis::frag::DEFAULT_THRESHOLD_PCT)]
    pub threshold: f64,
    /// How blocks in pinned arenas are grouped.
    #[arg(long, value_enum, default_value_t = FragBy::Type)]
    pub by: FragBy,
    /// Also draw the arena map (of the last snapshot) as SVG into FILE.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Groups to show.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// Which frames of an allocation traceback name the site (snapshots taken with tracemalloc).
    #[arg(long, value_enum, default_value_t = FramesArg::User)]
    pub frames: FramesArg,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Directory for the snapshots.
    #[arg(short = 'o', long = "output", value_name = "DIR", default_value = ".")]
    pub out_dir: PathBuf,
    /// A snapshot when the program exits (the default when no other trigger is given).
    #[arg(long)]
    pub at_exit: bool,
    /// A snapshot whenever this signal arrives (name or number: USR2, SIGHUP, 12).
    #[arg(long, value_name = "SIG", value_parser = crate::launch::parse_signal)]
    pub signal: Option<i32>,
    /// A snapshot every DURATION (30s, 10m, 1h).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub every: Option<std::time::Duration>,
    /// Trace allocations with this many frames, so snapshots say where objects were allocated.
    #[arg(long, value_name = "FRAMES", default_value_t = 0)]
    pub tracemalloc: u32,
    /// Record string and bytes contents and every dict key (private data). Without it only
    /// names are recorded: of modules, classes, functions and attributes, and dict keys that
    /// are identifiers of up to 64 characters or ints; other keys as `<str len=N>`.
    #[arg(long)]
    pub values: bool,
    /// Children the program forks (workers, multiprocessing) take snapshots too, each named
    /// by its own pid. Without it only the program's own process does.
    #[arg(long)]
    pub follow_forks: bool,
    /// The Python interpreter to run (default: the one the script's or command's shebang
    /// names, else the active virtual environment's, else python3).
    #[arg(long, value_name = "PY")]
    pub python: Option<String>,
    /// The program: script.py [args...], -m module [args...], or a command on PATH (flask,
    /// gunicorn, celery: run with the interpreter of its shebang).
    #[arg(last = true, required = true, value_name = "PROGRAM")]
    pub program: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CoreArgs {
    /// The core file (ELF, from the kernel, coredumpctl or gcore).
    #[arg(value_name = "CORE")]
    pub core: PathBuf,
    /// The executable the process ran, when it is not where the core says.
    #[arg(long, value_name = "PATH")]
    pub exe: Option<PathBuf>,
    /// Look up the process's files (interpreter, libraries) under this directory.
    #[arg(long, value_name = "DIR")]
    pub sysroot: Option<PathBuf>,
    /// Snapshot file (default: pymem-PID-core.jsonl here).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Record string and bytes contents and every dict key (private data). Without it only
    /// names are recorded: of modules, classes, functions and attributes, and dict keys that
    /// are identifiers of up to 64 characters or ints; other keys as `<str len=N>`.
    #[arg(long)]
    pub values: bool,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Process id of a running CPython 3.8-3.15 process.
    pub pid: u32,
    /// Take a snapshot when the resident set size reaches this (e.g. 512MiB, 3GiB).
    #[arg(long, value_name = "SIZE", value_parser = size)]
    pub rss: u64,
    /// Go on after the first snapshot: another at each further multiple of SIZE.
    #[arg(long)]
    pub repeat: bool,
    /// Go on after the first snapshot: another each time RSS grows by STEP more.
    #[arg(long, value_name = "STEP", value_parser = size, conflicts_with = "repeat")]
    pub step: Option<u64>,
    /// How often to look at the RSS.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = humantime::parse_duration)]
    pub every: std::time::Duration,
    /// Directory for the snapshots (default: here).
    #[arg(short = 'o', long = "output", value_name = "DIR", default_value = ".")]
    pub out_dir: PathBuf,
    /// Record string and bytes contents and every dict key (private data). Without it only
    /// names are recorded: of modules, classes, functions and attributes, and dict keys that
    /// are identifiers of up to 64 characters or ints; other keys as `<str len=N>`.
    #[arg(long)]
    pub values: bool,
}

#[derive(Debug, Args)]
pub struct AttachArgs {
    /// Process id of a running CPython 3.8-3.15 process.
    pub pid: u32,
    /// Snapshot file (default: pymem-PID-attach.jsonl here).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Record string and bytes contents and every dict key (private data). Without it only
    /// names are recorded: of modules, classes, functions and attributes, and dict keys that
    /// are identifiers of up to 64 characters or ints; other keys as `<str len=N>`.
    #[arg(long)]
    pub values: bool,
    /// Give up after this many seconds (the process is left running).
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub timeout: u64,
    /// How: read the process's memory from outside (no code runs in it), or inject the
    /// agent and let the process capture itself.
    #[arg(long, value_enum, default_value_t = AttachMethod::Read)]
    pub method: AttachMethod,
    /// The gdb to inject with (default: gdb on PATH).
    #[arg(long, value_name = "PATH")]
    pub gdb: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AttachMethod {
    Read,
    Inject,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct AgentArgs {
    /// Directory to write the pymem_agent package into (DIR/pymem_agent/).
    #[arg(long, value_name = "DIR")]
    pub write: Option<PathBuf>,
    /// Print the agent on stdout as one file (pymem_agent.py), joined from the package.
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
