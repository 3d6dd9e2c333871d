//! `pymem core CORE`: a snapshot of the heap in a core file, decoded exactly as a live read
//! is (the same capture, with the core's memory instead of a copy of a stopped process).
//!
//! Every way a core can be unusable is one line naming the file: not a core, a core of a
//! process that is not CPython, a build-id mismatch between the interpreter the process ran
//! and the file pymem found (with both ids), a core cut short or one whose `coredump_filter`
//! left out the heap. Memory missing here and there (a truncated core whose cut spares the
//! collector's lists) is counted in the snapshot's `missing` and on stderr.

#![allow(clippy::disallowed_macros)] // part of the binary: it writes

use pymem::capture::{self, CaptureError, Options, ProcessInfo};
use pymem::remote::binary::{self, NotFound, PythonBinary};
use pymem::remote::core::{build_id_hex, Core, FileRoots, ImageNotes};
use pymem::remote::image::Image;
use pymem::remote::memory::Memory;
use pymem::remote::runtime::Runtime;
use pymem::{Error, Result};
use std::path::PathBuf;
use std::time::Instant;

/// What `pymem core` was asked.
pub struct CoreSpec {
    pub core: PathBuf,
    pub exe: Option<PathBuf>,
    pub sysroot: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub values: bool,
}

/// `pymem core CORE [--exe PATH] [--sysroot DIR] [-o FILE] [--values]`.
pub fn core_file(spec: CoreSpec) -> Result<i32> {
    let started = Instant::now();
    let name = spec.core.display().to_string();
    let bad = |why: String| Error::Target(format!("{name}: {why}"));
    let core = Core::open(&spec.core).map_err(&bad)?;
    let roots = FileRoots {
        exe: spec.exe.clone(),
        sysroot: spec.sysroot.clone(),
    };
    let what = || {
        core.command
            .clone()
            .or_else(|| core.executable())
            .map(|c| format!(" ({c})"))
            .unwrap_or_default()
    };
    if core.files.is_empty() {
        return Err(bad(
            "the core names no mapped files (no NT_FILE note): pymem cannot find the interpreter"
                .into(),
        ));
    }
    let maps = core.maps();
    let (image, notes) = core.image(&roots);
    let exe = core.executable();
    let binary = binary::locate(&maps, exe.as_deref(), &|p| core.locate_file(p, &roots))
        .map_err(|e| match e {
            NotFound::NoCandidate => bad(format!(
                "a core of a process that is not CPython{} (no interpreter is among its mapped files)",
                what()
            )),
            NotFound::NoRuntime(why) => bad(format!(
                "a core of a process that is not CPython{}, or whose interpreter file is not here: {}",
                what(),
                why.iter()
                    .map(|(p, w)| format!("{p}: {w}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
        })?;
    // The heap is anonymous private memory: a core without any was made with a
    // coredump_filter that leaves it out.
    if core.anonymous_dumped() == 0 && core.truncated == 0 {
        return Err(bad("the core holds none of the process's anonymous memory, where the heap lives: its coredump_filter left it out (bit 0; the default 0x33 keeps it)".into()));
    }
    let in_core = check_interpreter_file(&core, &image, &binary).map_err(&bad)?;
    let runtime = Runtime::locate(&image, &binary)
        .map_err(|e| bad(format!("cannot read the interpreter: {e}")))?;
    super::read::check_supported(&format!("the process of core file {name}"), &runtime)?;

    let missing = missing_from(&core, &notes, &binary.path, in_core.is_some());
    let pid = core.pid.unwrap_or(0);
    let info = ProcessInfo {
        pid,
        rss: None,
        pythonmalloc: None,
        method: capture::Method::Core,
        stopped_ms: None,
        missing: missing.clone(),
        memory: None,
    };
    let out = spec
        .out
        .unwrap_or_else(|| PathBuf::from(format!("pymem-{pid}-core.jsonl")));
    let stats = capture::capture(
        &image,
        &binary,
        &runtime,
        &info,
        &Options {
            values: spec.values,
            deadline: None,
        },
        &out,
    )
    .map_err(|e| match e {
        CaptureError::Collecting => bad("the garbage collector was running when the core was made: its lists were being rearranged, so no snapshot of it would be right".into()),
        CaptureError::Incomplete(s) => bad(cut_or_filtered(&core, &s)),
        CaptureError::Failed(s) => bad(s),
    })?;
    for m in &missing {
        note!("{name}: {m}");
    }
    if stats.invalid > 0 && core.truncated > 0 {
        note!(
            "{name}: {} references point into memory the core does not hold (left out)",
            stats.invalid
        );
    }
    note!(
        "wrote {} ({} objects, CPython {}, pid {pid}, from core file {name}: {}, {:.1} MiB of memory; {:.2} s)",
        out.display(),
        stats.objects,
        stats.version,
        pymem::report::fmt::plural(core.threads as u64, "thread"),
        image.len() as f64 / (1 << 20) as f64,
        started.elapsed().as_secs_f64()
    );
    crate::app::index_new_snapshot(&out);
    Ok(0)
}

/// The interpreter file pymem reads symbols from must be the one the process ran: the same
/// build-id where the core keeps one, else the same version in its name; and its
/// `_PyRuntime` must be in the core. Returns the build-id the core keeps, if any.
fn check_interpreter_file(
    core: &Core,
    image: &Image,
    binary: &PythonBinary,
) -> std::result::Result<Option<String>, String> {
    let in_core = core.build_id_of(image, &binary.path);
    let on_disk = binary.build_id.as_deref().map(build_id_hex);
    if let (Some(a), Some(b)) = (&in_core, &on_disk) {
        if a != b {
            return Err(format!(
                "{} has build-id {b}, but the process ran a {} with build-id {a}: give the right file with --exe or --sysroot",
                binary.opened.display(),
                binary.path
            ));
        }
    }
    // Without a build-id in the core, file names still tell two versions apart.
    let (ran, given) = (
        python_version_in(&binary.path),
        python_version_in(&binary.opened.display().to_string()),
    );
    if let (Some(ran), Some(given)) = (&ran, &given) {
        if ran != given {
            return Err(format!(
                "the process ran {} (CPython {ran}), but {} is CPython {given}: give the right file with --exe or --sysroot",
                binary.path,
                binary.opened.display()
            ));
        }
    }
    let runtime_at = binary.symbols.get("_PyRuntime").copied().unwrap_or(0);
    if image.read_u64(runtime_at).is_err() {
        let mut why = cut_or_filtered(core, "the interpreter's state (_PyRuntime)");
        if in_core.is_none() && binary.opened.display().to_string() != binary.path {
            why.push_str(&format!(
                "; or {} is not the interpreter the process ran (the core keeps no build-id to check)",
                binary.opened.display()
            ));
        }
        return Err(why);
    }
    Ok(in_core)
}

/// What the snapshot of `core` will lack, for its header and the user: memory the core cut
/// or filtered, files that were not the ones mapped or could not be opened, an interpreter
/// file that could not be checked.
fn missing_from(
    core: &Core,
    notes: &ImageNotes,
    interpreter: &str,
    build_id_checked: bool,
) -> Vec<String> {
    let mut missing = Vec::new();
    if core.truncated > 0 {
        missing.push(format!(
            "memory: the core is truncated, {:.1} MiB of the process's memory are not in it",
            core.truncated as f64 / (1 << 20) as f64
        ));
    }
    if notes.missing_bytes > 0 {
        missing.push(format!(
            "memory: {:.1} MiB of mappings are neither in the core nor in a file pymem could read",
            notes.missing_bytes as f64 / (1 << 20) as f64
        ));
    }
    for (path, a, b) in &notes.mismatched {
        missing.push(format!(
            "files: {path} differs from the file the process mapped (build-id {b}, the core's {a}): its pages were not used"
        ));
    }
    for (path, why) in &notes.unopened {
        missing.push(format!("files: {path} could not be opened ({why})"));
    }
    if !build_id_checked {
        missing.push(format!(
            "files: the core does not keep {}'s build-id: the file read could not be checked",
            interpreter
        ));
    }
    missing
}

/// Why something the walk needs is not in the core.
/// The `3.X` a file name says (`python3.12`, `libpython3.14.so.1.0`), if any.
fn python_version_in(path: &str) -> Option<String> {
    let name = std::path::Path::new(path).file_name()?.to_str()?;
    let at = name.find("python3.")? + "python".len();
    let digits = name[at + 2..]
        .chars()
        .take_while(char::is_ascii_digit)
        .count();
    (digits > 0).then(|| name[at..at + 2 + digits].to_string())
}

fn cut_or_filtered(core: &Core, what: &str) -> String {
    if core.truncated > 0 {
        format!(
            "a truncated core ({:.1} MiB of memory cut off): {what}; pymem refuses rather than give answers about part of the heap",
            core.truncated as f64 / (1 << 20) as f64
        )
    } else {
        format!("{what}: the core does not hold that memory (its coredump_filter?)")
    }
}
