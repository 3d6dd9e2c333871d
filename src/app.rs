//! Dispatch: turns parsed arguments into library calls and writes the rendered reports.

#![allow(clippy::disallowed_macros)] // part of the binary: it writes

use crate::cli::{
    AgentArgs, AttachArgs, CachesArgs, Cli, Command, CoreArgs, DiffArgs, DiffBy, DiffFormat,
    FragArgs, FragBy, GateArgs, GateFormat, IndexArgs, LeakFilterArgs, LoadArgs, OutputFormat,
    PathArgs, PathFormat, RunArgs, Shell, SummaryArgs, SummaryBy, TopBy, WatchArgs,
};
use crate::page::{report_command, report_page, series_diff, write_page};
use clap::CommandFactory;
use pymem::analysis::advise::{advise, AdviseOptions};
use pymem::analysis::caches::caches;
use pymem::analysis::diff::{self, diff};
use pymem::analysis::explore::ExploreOptions;
use pymem::analysis::frag::{self, frag, frag_change, FragOptions};
use pymem::analysis::gate::{gate, GateOptions};
use pymem::analysis::leaks::{leaks, LeakOptions, Leaks};
use pymem::analysis::noise::Suppressions;
use pymem::analysis::path::{path_of, paths_of_type, types_named};
use pymem::analysis::retention::Retention;
use pymem::analysis::show::show;
use pymem::analysis::summary::{summary, GroupBy};
use pymem::analysis::top::{self, top};
use pymem::index::{self, Indexed};
use pymem::report::html::Series;
use pymem::report::{paths_dot, render, Format, Report, Style};
use pymem::snapshot::{parse_address, LoadOptions, Loaded, ObjId, Snapshot};
use pymem::{Error, Result};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::OnceLock;

/// Run one command; returns the exit code (0 ok, 1 a gate failed).
pub fn run(cli: Cli) -> Result<i32> {
    let _ = INDEXING.set(index::Options {
        enabled: !cli.no_index,
        index_stdin: cli.index,
    });
    match cli.command {
        Command::Summary(a) => summary_command(a),
        Command::Top(a) => {
            let snap = load_for_graph(&a.snapshot, &a.load)?;
            let r = Retention::compute(&snap);
            let by = match a.by {
                TopBy::Object => top::TopBy::Object,
                TopBy::Type => top::TopBy::Type,
                TopBy::Module => top::TopBy::Module,
            };
            emit(&top(&r, by, a.limit), &a.load)
        }
        Command::Path(a) => path_command(a),
        Command::Show(a) => {
            let snap = load_for_graph(&a.snapshot, &a.load)?;
            let id = find_object(&snap, &a.address)?;
            let r = Retention::compute(&snap);
            emit(&show(&r, id, a.limit), &a.load)
        }
        Command::Diff(a) => diff_command(a),
        Command::Leaks(a) => {
            let found = find_leaks(&a.snapshots, &a.suppress, a.limit)?;
            emit(
                &found,
                &LoadArgs {
                    partial: false,
                    format: a.format,
                },
            )
        }
        Command::Gate(a) => gate_command(a),
        Command::Advise(a) => {
            let snap = load_for_graph(&a.snapshot, &a.load)?;
            let opts = AdviseOptions {
                min_instances: a.min_instances,
                min_list: a.min_list,
            };
            emit(&advise(&snap, &opts), &a.load)
        }
        Command::Caches(a) => caches_command(a),
        Command::Frag(a) => frag_command(a),
        Command::Run(a) => run_command(a),
        Command::Attach(a) => attach_command(a),
        Command::Watch(a) => watch_command(a),
        Command::Core(a) => core_command(a),
        Command::Agent(a) => agent_command(a),
        Command::Index(a) => index_command(a),
        Command::Report(a) => report_command(a),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            completions(shell, &mut out);
            write_stdout(&String::from_utf8_lossy(&out))?;
            Ok(0)
        }
    }
}

/// `summary`: counts and bytes by type, module or allocation site (from the columns it needs).
fn summary_command(a: SummaryArgs) -> Result<i32> {
    let reads = match (a.fold, a.by) {
        (true, _) => Loaded::Everything,
        (false, SummaryBy::Traceback) => Loaded::NoReferences,
        (false, _) => Loaded::TotalsOnly,
    };
    let snap = load_part(&a.snapshot, &a.load, reads)?;
    let by = match a.by {
        SummaryBy::Type => GroupBy::Type,
        SummaryBy::Module => GroupBy::Module,
        SummaryBy::Traceback if !snap.has_tracebacks() => return Err(no_tracebacks(&snap)),
        SummaryBy::Traceback => GroupBy::Traceback,
    };
    emit(
        &summary(&snap, by, a.frames.into(), a.limit, a.fold),
        &a.load,
    )
}

/// `path`: why an object (or every object of a type) is alive, as a table, JSON or DOT.
fn path_command(a: PathArgs) -> Result<i32> {
    let load = LoadArgs {
        partial: a.partial,
        format: OutputFormat::Table,
    };
    let snap = load_for_graph(&a.snapshot, &load)?;
    let target = match &a.address {
        Some(addr) => Some(find_object(&snap, addr)?),
        None => None,
    };
    let r = Retention::compute(&snap);
    let paths = match (target, &a.type_name) {
        (Some(id), _) => path_of(&r, id),
        (None, Some(t)) => paths_of_type(&r, t, &types_named(&snap, t)?, a.limit),
        (None, None) => return Err(Error::Usage("give an address or --type NAME".into())),
    };
    let text = match a.format {
        PathFormat::Table => render(&paths, Format::Table, &style()),
        PathFormat::Json => render(&paths, Format::Json, &style()),
        PathFormat::Dot => paths_dot(&paths),
    };
    write_stdout(&text)?;
    Ok(0)
}

/// `diff`: what changed between two snapshots.
fn diff_command(a: DiffArgs) -> Result<i32> {
    let load = LoadArgs {
        partial: a.partial,
        format: OutputFormat::Table,
    };
    distinct(&[a.a.as_path(), a.b.as_path()])?;
    let sa = load_part(&a.a, &load, Loaded::NoReferences)?;
    let sb = load_part(&a.b, &load, Loaded::NoReferences)?;
    warn_if_mismatched(&a.a, &sa, &a.b, &sb);
    let by = match a.by {
        DiffBy::Type => diff::DiffBy::Type,
        DiffBy::Module => diff::DiffBy::Module,
        DiffBy::Traceback if !sa.has_tracebacks() => return Err(no_tracebacks(&sa)),
        DiffBy::Traceback if !sb.has_tracebacks() => return Err(no_tracebacks(&sb)),
        DiffBy::Traceback => diff::DiffBy::Traceback,
    };
    let d = diff(&sa, &sb, by, a.frames.into(), a.limit);
    let text = match a.format {
        DiffFormat::Table => render(&d, Format::Table, &style()),
        DiffFormat::Json => render(&d, Format::Json, &style()),
        DiffFormat::Csv => d.csv(),
    };
    write_stdout(&text)?;
    Ok(0)
}

/// `gate`: leak roots judged against the limits; exit 1 when they are exceeded.
fn gate_command(a: GateArgs) -> Result<i32> {
    let snaps = load_series(&a.snapshots, &a.suppress)?;
    let found = leaks_of(&snaps, &a.suppress, a.limit)?;
    let verdict = gate(
        found,
        GateOptions {
            max_growth: a.max_growth,
            max_leaks: a.max_leaks,
        },
    );
    let text = match a.format {
        GateFormat::Table => render(&verdict, Format::Table, &style()),
        GateFormat::Json => render(&verdict, Format::Json, &style()),
        GateFormat::Junit => verdict.junit(),
    };
    let passed = verdict.passed;
    if let Some(page) = &a.html {
        let series = Series {
            diff: series_diff(&snaps),
            leaks: None,
            gate: Some(verdict),
        };
        write_page(
            page,
            &report_page(&snaps, Some(&series), &ExploreOptions::default()),
        )?;
    }
    write_stdout(&text)?;
    if let Some(page) = &a.html {
        // The page's path goes to stderr: stdout is the verdict (JUnit XML, JSON).
        note!("report written to {}", page.display());
    }
    Ok(if passed { 0 } else { 1 })
}

/// `caches`: containers that grow across snapshots (the graph of the last one).
fn caches_command(a: CachesArgs) -> Result<i32> {
    distinct(&a.snapshots.iter().map(|p| p.as_path()).collect::<Vec<_>>())?;
    let last = a.snapshots.len().saturating_sub(1);
    let snaps = a
        .snapshots
        .iter()
        .enumerate()
        .map(|(i, p)| match i == last {
            true => load_for_graph(p, &a.load),
            false => load_snapshot(p, &a.load),
        })
        .collect::<Result<Vec<_>>>()?;
    let refs: Vec<&Snapshot> = snaps.iter().map(|s| &s.snap).collect();
    emit(&caches(&refs, a.min_entries, a.limit)?, &a.load)
}

/// `frag`: arenas pinned by few live blocks, for one snapshot or the change between two.
fn frag_command(a: FragArgs) -> Result<i32> {
    if !(0.0..=100.0).contains(&a.threshold) {
        return Err(Error::Usage(format!(
            "--threshold {} is not a percentage (0-100)",
            a.threshold
        )));
    }
    distinct(&a.snapshots.iter().map(|p| p.as_path()).collect::<Vec<_>>())?;
    let snaps = a
        .snapshots
        .iter()
        .map(|p| load_snapshot(p, &a.load))
        .collect::<Result<Vec<_>>>()?;
    let by = match a.by {
        FragBy::Type => frag::FragBy::Type,
        FragBy::Owner => frag::FragBy::Owner,
        FragBy::Traceback => match snaps.iter().find(|s| !s.has_tracebacks()) {
            Some(s) => return Err(no_tracebacks(s)),
            None => frag::FragBy::Traceback,
        },
    };
    let opts = |limit| FragOptions {
        by,
        frames: a.frames.into(),
        threshold: a.threshold / 100.0,
        limit,
    };
    let text = if snaps.len() == 2 {
        warn_if_mismatched(&a.snapshots[0], &snaps[0], &a.snapshots[1], &snaps[1]);
        let fa = frag(&snaps[0], &opts(usize::MAX))?;
        let fb = frag(&snaps[1], &opts(usize::MAX))?;
        write_svg(a.svg.as_deref(), &fb)?;
        render(&frag_change(fa, fb, a.limit), format(&a.load), &style())
    } else {
        let f = frag(&snaps[0], &opts(a.limit))?;
        write_svg(a.svg.as_deref(), &f)?;
        render(&f, format(&a.load), &style())
    };
    write_stdout(&text)?;
    Ok(0)
}

/// `run`: a program under pymem, captured at exit, on a signal or periodically.
fn run_command(a: RunArgs) -> Result<i32> {
    crate::launch::run(crate::launch::RunSpec {
        out_dir: a.out_dir,
        at_exit: a.at_exit,
        signal: a.signal,
        every: a.every,
        tracemalloc: a.tracemalloc,
        values: a.values,
        follow_forks: a.follow_forks,
        python: a.python,
        program: a.program,
    })
}

/// `attach`: one live process, read from outside or captured by an injected agent.
fn attach_command(a: AttachArgs) -> Result<i32> {
    crate::launch::attach(crate::launch::AttachSpec {
        pid: a.pid,
        method: match a.method {
            crate::cli::AttachMethod::Read => crate::launch::Method::Read,
            crate::cli::AttachMethod::Inject => crate::launch::Method::Inject,
        },
        out: a.out,
        values: a.values,
        timeout: std::time::Duration::from_secs(a.timeout),
        gdb: a.gdb,
    })
}

/// `watch`: snapshots of a process as its RSS crosses thresholds.
fn watch_command(a: WatchArgs) -> Result<i32> {
    crate::launch::watch(crate::launch::WatchSpec {
        pid: a.pid,
        rss: a.rss,
        step: a.step.or(a.repeat.then_some(a.rss)),
        every: a.every,
        out_dir: a.out_dir,
        values: a.values,
    })
}

/// `core`: a snapshot from a core file.
fn core_command(a: CoreArgs) -> Result<i32> {
    crate::launch::core_file(crate::launch::CoreSpec {
        core: a.core,
        exe: a.exe,
        sysroot: a.sysroot,
        out: a.out,
        values: a.values,
    })
}

/// `agent`: the capture agent, written as a package or printed as one file.
fn agent_command(a: AgentArgs) -> Result<i32> {
    if let Some(dir) = a.write {
        let path = pymem::agent::write_package(&dir)?;
        note!(
            "wrote {} (import pymem_agent with {} on sys.path)",
            path.display(),
            dir.display()
        );
    } else {
        write_stdout(&pymem::agent::single_file())?;
    }
    Ok(0)
}

/// `index`: build each snapshot's index ahead of time; prints where each went.
fn index_command(a: IndexArgs) -> Result<i32> {
    distinct(&a.snapshots.iter().map(|p| p.as_path()).collect::<Vec<_>>())?;
    for p in &a.snapshots {
        let opts = load_options(p);
        let built = index::build(p, &opts, &|m| note!("{m}"));
        finish_progress();
        let written = built?;
        write_stdout(&format!("{}\n", written.display()))?;
    }
    Ok(0)
}

/// Load two or three snapshots and find their leak roots.
fn find_leaks(paths: &[std::path::PathBuf], s: &LeakFilterArgs, limit: usize) -> Result<Leaks> {
    leaks_of(&load_series(paths, s)?, s, limit)
}

/// Load snapshots of one process for the graph questions, each file once.
pub fn load_series(paths: &[std::path::PathBuf], s: &LeakFilterArgs) -> Result<Vec<Indexed>> {
    let load = LoadArgs {
        partial: s.partial,
        format: OutputFormat::Table,
    };
    distinct(&paths.iter().map(|p| p.as_path()).collect::<Vec<_>>())?;
    paths.iter().map(|p| load_for_graph(p, &load)).collect()
}

/// The leak roots of loaded snapshots, oldest first.
pub fn leaks_of(snaps: &[Indexed], s: &LeakFilterArgs, limit: usize) -> Result<Leaks> {
    let mut suppressions = Suppressions::new(!s.no_builtin_suppressions, &s.ignore);
    for f in &s.suppressions {
        suppressions.add_file(f)?;
    }
    let refs: Vec<&Snapshot> = snaps.iter().map(|s| &s.snap).collect();
    leaks(
        &refs,
        &LeakOptions {
            limit,
            min_growth: s.min_growth,
            suppressions,
            max_native_growth: s.max_native_growth,
            frames: s.frames.into(),
        },
    )
}

/// Refuse one file given twice (compared by device and inode, so `a.jsonl` and `./a.jsonl`
/// are the same file), and standard input given twice.
fn distinct(paths: &[&Path]) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mut seen: Vec<(Option<(u64, u64)>, &Path)> = Vec::new();
    for &p in paths {
        let id = if p.as_os_str() == pymem::snapshot::input::STDIN {
            None
        } else {
            match std::fs::metadata(p) {
                Ok(m) => Some((m.dev(), m.ino())),
                Err(_) => continue, // the loader names the error
            }
        };
        if let Some((_, first)) = seen.iter().find(|(other, _)| *other == id) {
            return Err(Error::Usage(format!(
                "{} and {} are the same {}: give different snapshots",
                p.display(),
                first.display(),
                if id.is_none() {
                    "standard input"
                } else {
                    "file"
                }
            )));
        }
        seen.push((id, p));
    }
    Ok(())
}

/// Warnings (not errors) for two snapshots that compare badly: different interpreters or
/// arena sizes (only what is comparable is), or A taken after B (the change is shown from
/// A to B as given).
fn warn_if_mismatched(pa: &Path, a: &Snapshot, pb: &Path, b: &Snapshot) {
    let (ha, hb) = (&a.header, &b.header);
    if ha.python.version != hb.python.version {
        note!(
            "warning: {} is CPython {} and {} is CPython {}: type layouts and sizes differ between versions",
            pa.display(),
            ha.python.version,
            pb.display(),
            hb.python.version
        );
    }
    if ha.allocator.arena_size != hb.allocator.arena_size {
        note!(
            "warning: the arena sizes differ ({:?} and {:?} bytes): arena counts are not comparable",
            ha.allocator.arena_size,
            hb.allocator.arena_size
        );
    }
    if let (Some(ta), Some(tb), true) = (ha.time, hb.time, ha.pid == hb.pid) {
        if ta > tb {
            note!(
                "warning: {} was captured after {}: the change is shown from the later to the earlier (swap them?)",
                pa.display(),
                pb.display()
            );
        }
    }
}

/// The arena map, when asked for.
fn write_svg(path: Option<&Path>, f: &frag::Frag) -> Result<()> {
    if let Some(path) = path {
        std::fs::write(path, pymem::report::svg::arena_map(f)).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        note!("wrote {}", path.display());
    }
    Ok(())
}

fn format(load: &LoadArgs) -> Format {
    match load.format {
        OutputFormat::Table => Format::Table,
        OutputFormat::Json => Format::Json,
    }
}

/// `--by traceback` on snapshots without allocation tracebacks.
fn no_tracebacks(snap: &Snapshot) -> Error {
    Error::file(
        &snap.path,
        "no allocation tracebacks recorded (capture with tracemalloc tracing to group by traceback)",
    )
}

/// The captured object at a user-typed address.
fn find_object(snap: &Snapshot, text: &str) -> Result<ObjId> {
    let addr = parse_address(text).ok_or_else(|| {
        Error::Usage(format!("{text:?} is not an address (hex 0x... or decimal)"))
    })?;
    snap.objects.find(addr).ok_or_else(|| {
        Error::file(
            &snap.path,
            format!("no object at 0x{addr:x} in this snapshot"),
        )
    })
}

/// Shell completions from the one clap definition.
pub fn completions(shell: Shell, out: &mut Vec<u8>) {
    let mut cmd = Cli::command();
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(shell, &mut cmd, "pymem", out);
}

fn style() -> Style {
    Style {
        color: std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

fn emit<R: Report>(report: &R, load: &LoadArgs) -> Result<i32> {
    write_stdout(&render(report, format(load), &style()))?;
    Ok(0)
}

pub fn write_stdout(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        // A closed pipe (`| head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::System(format!("cannot write output: {e}"))),
        Ok(()) => Ok(()),
    }
}

static PROGRESS: OnceLock<indicatif::ProgressBar> = OnceLock::new();

fn on_stage(stage: &str) {
    if let Some(pb) = PROGRESS.get() {
        pb.set_message(stage.to_string());
    }
}

/// How commands use indexes (set once from the command line).
static INDEXING: OnceLock<index::Options> = OnceLock::new();

/// Loading options, with a spinner on stderr for large files when stderr is a terminal.
fn load_options(path: &Path) -> LoadOptions {
    let big = std::fs::metadata(path)
        .map(|m| m.len() > 32 << 20)
        .unwrap_or(false);
    let mut opts = LoadOptions {
        partial: false,
        on_stage: None,
    };
    if big && std::io::stderr().is_terminal() {
        let pb = PROGRESS.get_or_init(|| {
            let pb = indicatif::ProgressBar::new_spinner();
            pb.enable_steady_tick(std::time::Duration::from_millis(120));
            pb
        });
        pb.set_prefix(path.display().to_string());
        opts.on_stage = Some(on_stage);
    }
    opts
}

fn finish_progress() {
    if let Some(pb) = PROGRESS.get() {
        pb.finish_and_clear();
    }
}

/// Index a snapshot a capture has just written (`attach`, `core`, `watch`), so that the
/// first question about it is answered from the index; not with `--no-index`. The graph
/// searches are left to the first command that needs them. A failure only costs the index.
pub fn index_new_snapshot(path: &Path) {
    let indexing = INDEXING.get().copied().unwrap_or_default();
    if indexing.enabled && path.as_os_str() != pymem::snapshot::input::STDIN {
        let _ = index::open(
            path,
            &LoadOptions::default(),
            &indexing,
            index::Need::Columns(Loaded::TotalsOnly),
            &|m| note!("{m}"),
        );
    }
}

/// Open a snapshot through its index (building the index on first use).
pub fn load_snapshot(path: &Path, args: &LoadArgs) -> Result<Indexed> {
    open(path, args, index::Need::Columns(Loaded::Everything))
}

/// Open a snapshot for a question that reads only some of its columns: from its index,
/// only those are read and checked (a snapshot loaded from JSON has them all).
pub fn load_part(path: &Path, args: &LoadArgs, reads: Loaded) -> Result<Indexed> {
    open(path, args, index::Need::Columns(reads))
}

/// Open a snapshot with its graph searched (from its index, or searched now and indexed).
pub fn load_for_graph(path: &Path, args: &LoadArgs) -> Result<Indexed> {
    open(path, args, index::Need::Searched)
}

fn open(path: &Path, args: &LoadArgs, need: index::Need) -> Result<Indexed> {
    let mut opts = load_options(path);
    opts.partial = args.partial;
    let indexing = INDEXING.get().copied().unwrap_or_default();
    let note = |m: &str| note!("{m}");
    let result = index::open(path, &opts, &indexing, need, &note);
    finish_progress();
    result
}
