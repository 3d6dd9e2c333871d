//! `pymem watch PID --rss SIZE`: polls a process's resident set size and, when it first
//! reaches SIZE, takes a read-only snapshot (as `pymem attach` does), so that the heap of a
//! process about to be OOM-killed is on disk before it dies. With `--repeat` (or `--step`)
//! it goes on and takes another at each further step. The target is only ever stopped for
//! the copy of a read; nothing runs in it. A failed snapshot (a stop that timed out, the
//! collector running at every try, the program re-executing itself) is retried with backoff
//! against the process as it is then; no snapshot is ever overwritten.

#![allow(clippy::disallowed_macros)] // part of the binary: it writes

use super::read::{self, rss_of};
use super::signals::StopOnSignals;
use pymem::report::fmt::bytes;
use pymem::{Error, Result};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

pub struct WatchSpec {
    pub pid: u32,
    /// The first threshold, in bytes.
    pub rss: u64,
    /// After the first snapshot, another each time RSS grows by this much (None: stop there).
    pub step: Option<u64>,
    pub every: Duration,
    pub out_dir: PathBuf,
    pub values: bool,
}

/// The shortest poll interval (`--every 0s` would spin a core).
const MIN_EVERY: Duration = Duration::from_millis(10);
/// Snapshots that fail in a row before the watch gives up.
const MAX_FAILURES: u32 = 8;

/// The wait before the next try after `failures` failures in a row: 1 s, 2 s, 4 s, ... 60 s.
fn backoff(failures: u32) -> Duration {
    Duration::from_secs((1u64 << failures.saturating_sub(1).min(6)).min(60))
}

/// `pymem-PID-rss-SIZE.jsonl` in `dir` for a threshold, SIZE in whole MiB where it is one,
/// else in bytes; `-2`, `-3`... after it when that file exists (never overwritten).
fn unused_name(dir: &std::path::Path, pid: u32, threshold: u64) -> PathBuf {
    let size = if threshold % (1 << 20) == 0 {
        format!("{}MiB", threshold >> 20)
    } else {
        format!("{threshold}B")
    };
    let stem = format!("pymem-{pid}-rss-{size}");
    let mut path = dir.join(format!("{stem}.jsonl"));
    let mut n = 1;
    while std::fs::symlink_metadata(&path).is_ok() {
        n += 1;
        path = dir.join(format!("{stem}-{n}.jsonl"));
    }
    path
}

/// The threshold after a snapshot taken at `rss`: the next multiple of `step` above the
/// first threshold that `rss` has not reached.
fn next_threshold(first: u64, step: u64, rss: u64) -> u64 {
    let above = rss.saturating_sub(first) / step + 1;
    first.saturating_add(above.saturating_mul(step))
}

/// Exit codes: 0 once at least one snapshot was written and the watch ended (no more steps,
/// the process exited, or Ctrl-C); 1 when the process exited before reaching SIZE; 130 when
/// interrupted before any snapshot; 2 for errors.
pub fn watch(spec: WatchSpec) -> Result<i32> {
    if spec.rss == 0 || spec.step == Some(0) {
        return Err(Error::Usage(
            "--rss and --step must be more than 0 B".into(),
        ));
    }
    if spec.every < MIN_EVERY {
        return Err(Error::Usage(
            "--every must be at least 10ms (it is how often RSS is polled)".into(),
        ));
    }
    let pid = spec.pid;
    // Refuse what cannot be read now, not when the threshold is reached.
    let mut target = read::inspect(pid)?;
    std::fs::create_dir_all(&spec.out_dir)
        .map_err(|e| Error::System(format!("cannot create {}: {e}", spec.out_dir.display())))?;
    let signals = StopOnSignals::install()?;
    let mut threshold = spec.rss;
    let mut taken = 0u32;
    let mut peak = 0u64;
    let mut failures = 0u32;
    let mut retry_at: Option<Instant> = None;
    note!(
        "watching process {pid} (CPython {}, RSS {}): a snapshot when RSS reaches {}{}",
        target.runtime.version,
        rss_of(pid).map(bytes).unwrap_or_else(|| "unknown".into()),
        bytes(spec.rss),
        match spec.step {
            Some(s) => format!(", then every {} more", bytes(s)),
            None => String::new(),
        }
    );
    loop {
        if signals.flag.load(Ordering::SeqCst) {
            note!("stopped watching process {pid} ({taken} snapshot(s) taken)");
            return Ok(if taken > 0 { 0 } else { 130 });
        }
        let Some(rss) = rss_of(pid).filter(|_| super::target::alive(pid)) else {
            note!(
                "process {pid} exited (RSS peaked at {} as polled); {taken} snapshot(s) taken",
                bytes(peak)
            );
            return Ok(if taken > 0 { 0 } else { 1 });
        };
        peak = peak.max(rss);
        if rss >= threshold && retry_at.is_none_or(|t| Instant::now() >= t) {
            let out = unused_name(&spec.out_dir, pid, threshold);
            let started = Instant::now();
            let shot = match read::snapshot(&target, &out, spec.values, None) {
                Ok(shot) => shot,
                Err(e) if !super::target::alive(pid) => {
                    note!(
                        "process {pid} exited during a snapshot ({e}); {taken} snapshot(s) taken"
                    );
                    return Ok(if taken > 0 { 0 } else { 1 });
                }
                Err(e) => {
                    failures += 1;
                    if failures >= MAX_FAILURES {
                        return Err(e);
                    }
                    let wait = backoff(failures);
                    note!(
                        "snapshot at RSS {} failed ({e}); trying again in {} s ({failures} of {MAX_FAILURES})",
                        bytes(rss),
                        wait.as_secs()
                    );
                    retry_at = Some(Instant::now() + wait);
                    // The program may have re-executed itself: read it afresh.
                    if let Ok(t) = read::inspect(pid) {
                        target = t;
                    }
                    continue;
                }
            };
            failures = 0;
            retry_at = None;
            taken += 1;
            note!(
                "RSS {} reached {}: {}",
                bytes(shot.rss.unwrap_or(rss)),
                bytes(threshold),
                shot.describe(pid, &out, started.elapsed())
            );
            crate::app::index_new_snapshot(&out);
            match spec.step {
                None => return Ok(0),
                Some(step) => {
                    let now = shot.rss.unwrap_or(rss).max(rss);
                    threshold = next_threshold(spec.rss, step, now);
                }
            }
        }
        // Sleep in short slices, so that Ctrl-C ends the watch at once.
        let until = Instant::now() + spec.every;
        while Instant::now() < until && !signals.flag.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(25).min(spec.every));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{backoff, next_threshold, unused_name};
    use std::time::Duration;

    #[test]
    fn snapshot_names_never_collide() {
        let dir = tempfile::tempdir().unwrap();
        let a = unused_name(dir.path(), 7, 256 << 10);
        assert!(a.ends_with("pymem-7-rss-262144B.jsonl"), "{a:?}");
        let b = unused_name(dir.path(), 7, 2 << 20);
        assert!(b.ends_with("pymem-7-rss-2MiB.jsonl"), "{b:?}");
        std::fs::write(&b, "").unwrap();
        let c = unused_name(dir.path(), 7, 2 << 20);
        assert!(c.ends_with("pymem-7-rss-2MiB-2.jsonl"), "{c:?}");
    }

    #[test]
    fn retries_back_off_to_a_minute() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(4));
        assert_eq!(backoff(30), Duration::from_secs(60));
    }

    #[test]
    fn the_next_threshold_is_the_first_step_not_yet_reached() {
        const M: u64 = 1 << 20;
        assert_eq!(next_threshold(100 * M, 100 * M, 100 * M), 200 * M);
        assert_eq!(next_threshold(100 * M, 100 * M, 150 * M), 200 * M);
        // A jump past several steps takes one snapshot, not one per step.
        assert_eq!(next_threshold(100 * M, 100 * M, 450 * M), 500 * M);
        assert_eq!(next_threshold(512 * M, 64 * M, 600 * M), 640 * M);
        assert_eq!(next_threshold(u64::MAX - 1, 10, u64::MAX), u64::MAX);
    }
}
