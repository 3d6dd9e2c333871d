//! Inputs people really give, and inputs made to hurt: standard input, pipes and process
//! substitution (gzip or not); a gzip bomb (refused at once, in bounded memory); a file cut
//! in the middle of a line (`--partial`); a file that shrinks while it is mapped; sizes that
//! would overflow, negative counts, a byte-order mark, JSON that is not a snapshot, the same
//! file twice. Bad input is one line on stderr naming the file, and exit 2.

use crate::common::{json, pymem, repo};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn fixture() -> String {
    repo()
        .join("fixtures/shop-3.12.jsonl.gz")
        .display()
        .to_string()
}

fn plain(dir: &Path) -> std::path::PathBuf {
    let out = Command::new("zcat").arg(fixture()).output().unwrap();
    let p = dir.join("shop.jsonl");
    std::fs::write(&p, out.stdout).unwrap();
    p
}

/// `pymem ARGS`: exit code and stderr; a refusal must be one line.
fn refused(args: &[&str]) -> String {
    let out = pymem().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    err
}

fn rows_of(v: &serde_json::Value) -> &serde_json::Value {
    &v["rows"]
}

#[test]
fn standard_input_pipes_and_process_substitution_read_like_files() {
    let dir = tempfile::tempdir().unwrap();
    let plain = plain(dir.path());
    let want = json(&["summary", &fixture()]);
    let p = assert_cmd::cargo::cargo_bin("pymem");
    for (how, script) in [
        (
            "stdin, gzip",
            format!("{} summary - --format json < {}", p.display(), fixture()),
        ),
        (
            "stdin, plain",
            format!(
                "cat {} | {} summary - --format json",
                plain.display(),
                p.display()
            ),
        ),
        (
            "/dev/stdin",
            format!(
                "cat {} | {} summary /dev/stdin --format json",
                fixture(),
                p.display()
            ),
        ),
        (
            "<(zcat)",
            format!(
                "{} summary <(zcat {}) --format json",
                p.display(),
                fixture()
            ),
        ),
    ] {
        let out = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{how}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(rows_of(&got), rows_of(&want), "{how}");
        assert_eq!(
            got["snapshot"]["objects"], want["snapshot"]["objects"],
            "{how}"
        );
    }
    // Standard input cannot be read twice.
    let err = refused(&["diff", "-", "-"]);
    assert!(err.contains("same standard input"), "{err}");
}

#[test]
fn a_gzip_bomb_is_refused_at_once_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bomb.jsonl.gz");
    {
        let f = std::fs::File::create(&bomb).unwrap();
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        gz.write_all(br#"{"k":"header","format":"pymem-snapshot","version":1}"#)
            .unwrap();
        gz.write_all(b"\n").unwrap();
        let blanks = vec![b' '; 1 << 20];
        for _ in 0..1024 {
            gz.write_all(&blanks).unwrap(); // 1 GiB of blanks
        }
        gz.write_all(b"\n{\"k\":\"end\"}\n").unwrap();
        gz.finish().unwrap();
    }
    for source in ["file", "stdin"] {
        let b = bomb.display().to_string();
        let p = assert_cmd::cargo::cargo_bin("pymem").display().to_string();
        let cmd = match source {
            "file" => format!("/usr/bin/time -f '%M' {p} summary {b}"),
            _ => format!("/usr/bin/time -f '%M' {p} summary - < {b}"),
        };
        let out = Command::new("bash").arg("-c").arg(&cmd).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let mut lines: Vec<&str> = err.lines().collect();
        let peak_kib: u64 = lines.pop().unwrap().trim().parse().unwrap();
        let lines: Vec<&str> = lines
            .into_iter()
            .filter(|l| !l.starts_with("Command exited"))
            .collect();
        assert_eq!(lines.len(), 1, "{source}: {err}");
        assert!(
            lines[0].contains("blank space in a row: not snapshot lines"),
            "{err}"
        );
        assert!(!lines[0].contains("corrupt"), "{err}");
        assert!(
            peak_kib < 64 << 10,
            "{source}: peak RSS {peak_kib} KiB for a refused bomb"
        );
    }
    // Lines that are not snapshot lines at all, and a stream whose first line is no header.
    let junk = dir.path().join("junk.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&junk).unwrap(),
        flate2::Compression::fast(),
    );
    gz.write_all(b"{\"k\":\"header\"}\nhello\n").unwrap();
    gz.finish().unwrap();
    let err = refused(&["summary", junk.to_str().unwrap()]);
    assert!(err.contains("line 2: not a pymem snapshot line"), "{err}");
}

#[test]
fn a_file_cut_mid_line_loads_with_partial_and_says_what_was_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let full = std::fs::read(plain(dir.path())).unwrap();
    let cut_at = full.len() / 2;
    // Cut where a line is half written.
    let cut_at = cut_at + full[cut_at..].iter().position(|&b| b == b'\n').unwrap() - 5;
    let cut = dir.path().join("cut.jsonl");
    std::fs::write(&cut, &full[..cut_at]).unwrap();
    let c = cut.to_str().unwrap();
    let err = refused(&["summary", c]);
    assert!(
        err.contains("cut short") && err.contains("--partial"),
        "{err}"
    );
    let out = pymem().args(["summary", c, "--partial"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let last_whole = full[..cut_at].iter().rposition(|&b| b == b'\n').unwrap() + 1;
    assert!(
        text.lines().next().unwrap().contains(&format!(
            "an incomplete last line of {} B left out",
            cut_at - last_whole
        )),
        "{text}"
    );
    let got = json(&["summary", c, "--partial"]);
    let all = json(&["summary", &fixture()]);
    assert!(got["snapshot"]["objects"].as_u64() < all["snapshot"]["objects"].as_u64());
    assert_eq!(
        got["snapshot"]["dropped_tail_bytes"],
        (cut_at - last_whole) as u64
    );
}

#[test]
fn a_file_that_shrinks_while_mapped_is_one_line_not_sigbus() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.jsonl");
    let gen = Command::new(assert_cmd::cargo::cargo_bin("pymem-gen"))
        .args(["--objects", "3000000", "-o"])
        .arg(&big)
        .output()
        .unwrap();
    assert!(gen.status.success());
    let child = Command::new(assert_cmd::cargo::cargo_bin("pymem"))
        .arg("summary")
        .arg(&big)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once pymem has the file mapped, another process cuts it down.
    let maps = format!("/proc/{}/maps", child.id());
    let name = big.display().to_string();
    let start = std::time::Instant::now();
    while !std::fs::read_to_string(&maps)
        .unwrap_or_default()
        .contains(&name)
    {
        assert!(
            start.elapsed().as_secs() < 30,
            "pymem never mapped the file"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    std::fs::OpenOptions::new()
        .write(true)
        .open(&big)
        .unwrap()
        .set_len(4096)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&name) && err.contains("shrank while it was read"),
        "{err}"
    );
}

#[test]
fn numbers_no_heap_has_and_files_that_are_not_snapshots_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let header = r#"{"k":"header","format":"pymem-snapshot","version":1,"python":{"version":"3.11.7","implementation":"cpython"},"allocator":{"name":"malloc"},"pid":1,"argv":["x.py"],"time":0,"recorded":{"pools":false}}"#;
    let ty =
        r#"{"k":"type","id":0,"a":100,"name":"dict","module":"builtins","flags":0,"basicsize":64}"#;
    let snap = |name: &str, objs: &[&str]| {
        let p = d.join(name);
        let end = format!(
            r#"{{"k":"end","objects":{},"refs":0,"types":1}}"#,
            objs.len()
        );
        std::fs::write(&p, format!("{header}\n{ty}\n{}\n{end}\n", objs.join("\n"))).unwrap();
        p.display().to_string()
    };
    let huge = snap(
        "huge.jsonl",
        &[
            r#"{"k":"o","a":4096,"t":0,"s":9223372036854775808,"rc":1,"r":[]}"#,
            r#"{"k":"o","a":8192,"t":0,"s":9223372036854775808,"rc":1,"r":[]}"#,
        ],
    );
    let err = refused(&["summary", &huge]);
    assert!(
        err.contains("line 3") && err.contains("larger than any heap"),
        "{err}"
    );
    let many = snap(
        "many.jsonl",
        &(0..300)
            .map(|i| {
                format!(
                    r#"{{"k":"o","a":{},"t":0,"s":281474976710656,"rc":1,"r":[]}}"#,
                    4096 + 64 * i
                )
            })
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let err = refused(&["summary", &many]);
    assert!(err.contains("add up to"), "{err}");
    let negative = snap(
        "negative.jsonl",
        &[r#"{"k":"o","a":4096,"t":0,"s":64,"rc":-3,"r":[]}"#],
    );
    let err = refused(&["summary", &negative]);
    assert!(
        err.contains("line 3") && err.contains("reference count -3 is negative"),
        "{err}"
    );
    // A byte-order mark is accepted.
    let ok = snap(
        "ok.jsonl",
        &[r#"{"k":"o","a":4096,"t":0,"s":64,"rc":1,"r":[]}"#],
    );
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(std::fs::read(&ok).unwrap());
    std::fs::write(d.join("bom.jsonl"), bom).unwrap();
    let s = json(&["summary", d.join("bom.jsonl").to_str().unwrap()]);
    assert_eq!(s["snapshot"]["objects"], 1);
    // JSON that is not a snapshot says so first.
    std::fs::write(d.join("other.json"), "{\"a\": 1}\n").unwrap();
    let err = refused(&["summary", d.join("other.json").to_str().unwrap()]);
    assert!(err.contains("line 1: not a pymem snapshot"), "{err}");
    // The same file twice, under two names.
    let err = refused(&["diff", &ok, &format!("{}/./ok.jsonl", d.display())]);
    assert!(err.contains("are the same file"), "{err}");
    let err = refused(&["leaks", &ok, &hard_link(&ok), &ok]);
    assert!(err.contains("are the same file"), "{err}");
}

/// Another name for the same file (a hard link).
fn hard_link(p: &str) -> String {
    let link = format!("{p}.link");
    let _ = std::fs::remove_file(&link);
    std::fs::hard_link(p, &link).unwrap();
    link
}

/// `path --type`: a bare name of two types is refused with both full names; a name of none
/// with the closest ones; each in one line, exit 2. A full name picks its type alone.
#[test]
fn a_type_name_of_several_types_or_none_is_refused_with_the_names() {
    let snap = r#"{"k":"header","format":"pymem-snapshot","version":1,"python":{"version":"3.12.1","implementation":"cpython"},"allocator":{"name":"malloc"},"pid":1,"argv":["x.py"],"time":0,"recorded":{"pools":false}}
{"k":"type","id":0,"a":100,"name":"module","module":"builtins","flags":0,"basicsize":64}
{"k":"type","id":1,"a":200,"name":"threading.Event","module":"threading","flags":0,"basicsize":16}
{"k":"type","id":2,"a":300,"name":"__main__.Event","module":"__main__","flags":0,"basicsize":16}
{"k":"o","a":4096,"t":0,"s":64,"rc":1,"r":[4160,4224],"l":[".a",".b"]}
{"k":"o","a":4160,"t":1,"s":48,"rc":1,"r":[]}
{"k":"o","a":4224,"t":2,"s":48,"rc":1,"r":[]}
{"k":"root","a":4096,"kind":"module","name":"__main__"}
{"k":"end","objects":3,"refs":2,"types":3}
"#;
    let dir = tempfile::tempdir().unwrap();
    let p = crate::common::write_tmp(dir.path(), "t.jsonl", snap.as_bytes());
    let p = p.to_str().unwrap();
    let refused = |name: &str| {
        let out = crate::common::pymem()
            .args(["path", p, "--type", name])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        err
    };
    let err = refused("Event");
    assert!(
        err.contains("names 2 types: __main__.Event, threading.Event"),
        "{err}"
    );
    let err = refused("Evnet");
    assert!(
        err.contains("the closest: ") && err.contains("Event"),
        "{err}"
    );
    let found = crate::common::json(&["path", p, "--type", "threading.Event"]);
    assert_eq!(found["matched"], 1, "{found:#}");
    assert_eq!(found["paths"][0]["path"]["expr"], "__main__.a", "{found:#}");
}
