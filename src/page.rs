//! The HTML page: `pymem report`, and the page `gate --html` writes: the analyses of the
//! last snapshot (and of the series) gathered and handed to the page writer.

#![allow(clippy::disallowed_macros)] // part of the binary: it writes

use crate::app::{leaks_of, load_series, write_stdout};
use crate::cli::ReportArgs;
use pymem::analysis::advise::{advise_in, AdviseOptions};
use pymem::analysis::caches::{self, caches_in};
use pymem::analysis::diff::{self, diff};
use pymem::analysis::explore::{explore, ExploreOptions};
use pymem::analysis::frag::{self, frag, FragOptions};
use pymem::analysis::retention::Retention;
use pymem::index::Indexed;
use pymem::report::html::{Findings, Series};
use pymem::snapshot::Snapshot;
use pymem::{Error, Result};
use std::path::Path;

/// `report`: the interactive HTML page of one snapshot, or of a series.
pub fn report_command(a: ReportArgs) -> Result<i32> {
    if !(0.0..=1.0).contains(&a.min_share) {
        return Err(Error::Usage(format!(
            "--min-share {} is not a share between 0 and 1",
            a.min_share
        )));
    }
    let opts = ExploreOptions {
        min_share: a.min_share,
        max_nodes: a.max_nodes.max(1),
        ..ExploreOptions::default()
    };
    let snaps = load_series(&a.snapshots, &a.suppress)?;
    let series = match snaps.len() {
        1 => None,
        _ => Some(Series {
            diff: series_diff(&snaps),
            leaks: Some(leaks_of(&snaps, &a.suppress, SERIES_LEAK_ROOTS)?),
            gate: None,
        }),
    };
    write_report(&snaps, series.as_ref(), &opts, &a.output)?;
    if a.open {
        open_in_browser(&a.output);
    }
    Ok(0)
}

/// Leak roots a series report lists.
const SERIES_LEAK_ROOTS: usize = 25;

/// What changed from the first snapshot of a series to the last, by type.
pub fn series_diff(snaps: &[Indexed]) -> pymem::analysis::diff::Diff {
    let (first, last) = (&snaps[0].snap, &snaps[snaps.len() - 1].snap);
    diff(first, last, diff::DiffBy::Type, Default::default(), 100)
}

/// Write the page of `snaps` (the tree of the last) and print its path.
fn write_report(
    snaps: &[Indexed],
    series: Option<&Series>,
    opts: &ExploreOptions,
    output: &Path,
) -> Result<()> {
    write_page(output, &report_page(snaps, series, opts))?;
    write_stdout(&format!("{}\n", output.display()))
}

pub fn write_page(path: &Path, html: &str) -> Result<()> {
    std::fs::write(path, html).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })
}

/// The HTML page of `snaps`: the tree, caches, advice and fragmentation of the last one
/// (with `caches`', `advise`'s and `frag`'s default options).
pub fn report_page(snaps: &[Indexed], series: Option<&Series>, opts: &ExploreOptions) -> String {
    let last = &snaps[snaps.len() - 1].snap;
    let r = Retention::compute(last);
    let refs: Vec<&Snapshot> = snaps.iter().map(|s| &s.snap).collect();
    let advice_opts = AdviseOptions {
        min_instances: pymem::analysis::advise::DEFAULT_MIN_INSTANCES,
        min_list: pymem::analysis::advise::DEFAULT_MIN_LIST,
    };
    let frag_opts = FragOptions {
        by: frag::FragBy::Type,
        frames: Default::default(),
        threshold: frag::DEFAULT_THRESHOLD_PCT / 100.0,
        limit: 10,
    };
    // Independent read-only passes over one heap: fragmentation (the longest) on one core,
    // the rest on the other.
    let (fragmentation, (tree, (caches, advice))) = rayon::join(
        || frag(last, &frag_opts).map_err(|e| e.to_string()),
        || {
            rayon::join(
                || explore(&r, opts),
                || {
                    (
                        caches_in(
                            &r,
                            &refs,
                            caches::DEFAULT_MIN_ENTRIES,
                            caches::DEFAULT_LIMIT,
                        ),
                        advise_in(&r, &advice_opts),
                    )
                },
            )
        },
    );
    let findings = Findings::new(caches, advice, fragmentation);
    pymem::report::html::page(&tree, &findings, series)
}

/// Hand a written page to the desktop's browser, where there is one; a note otherwise.
fn open_in_browser(page: &Path) {
    let opened = std::process::Command::new("xdg-open")
        .arg(page)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !opened {
        note!(
            "pymem: no browser to open {} (xdg-open failed)",
            page.display()
        );
    }
}
