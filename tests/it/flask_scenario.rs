//! Issue 30's scenario, end to end, on a real Flask service (Flask from PyPI, pinned): a
//! suspected leak goes to the source line of the leaking cache in under a minute, with the
//! service paused for less than a second in all. The service is read three times from
//! outside (`pymem attach`, nothing run in it) between rounds of requests from 127.0.0.1;
//! `pymem leaks` names the method's lru_cache, where it is defined, B019, and the line of the
//! service's own code that made what accumulates (tracemalloc's table, read from outside).

#![allow(clippy::disallowed_macros)] // the measured figures are printed for the record

use crate::common::{json, pydeps, pymem, repo, Reaper};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FLASK: &[&str] = &[
    "flask==3.0.3",
    "werkzeug==3.0.6",
    "jinja2==3.1.4",
    "markupsafe==2.1.5",
    "itsdangerous==2.2.0",
    "click==8.1.7",
    "blinker==1.8.2",
];

fn get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: it\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    reply
}

#[test]
fn a_flask_leak_goes_to_its_source_line_in_under_a_minute() {
    let Some((version, python)) = crate::common::pythons()
        .iter()
        .find(|(v, _)| v.starts_with("3.12"))
    else {
        eprintln!("note: no CPython 3.12: the Flask scenario is not run");
        return;
    };
    let deps = pydeps("flask", version, python, &["flask", "werkzeug"], FLASK)
        .expect("Flask from PyPI (tests/py/install-deps.sh)");
    let dir = tempfile::tempdir().unwrap();
    let app = repo().join("tests/py/workload_flask.py");
    let mut service = Reaper::spawn(
        Command::new(python)
            .arg(&app)
            .env("PYTHONPATH", &deps)
            .env_remove("PYTHONMALLOC")
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    let first = BufReader::new(service.0.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    let (port, pid) = first.split_once(' ').unwrap();
    let port: u16 = port.parse().unwrap();

    // From here, the user's clock: three reads between rounds of requests, then leaks.
    let started = Instant::now();
    let mut paused_ms = 0.0;
    let mut snaps = Vec::new();
    for round in 0..3 {
        for n in 0..150 {
            assert!(get(port, &format!("/quote/{}", round * 1000 + n)).contains("200 OK"));
        }
        let snap = dir.path().join(format!("{round}.jsonl"));
        let out = pymem()
            .args(["attach", pid, "-o", snap.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let said = String::from_utf8_lossy(&out.stderr);
        let stopped: f64 = said
            .split("stopped ")
            .nth(1)
            .and_then(|s| s.split(" ms").next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{said}"));
        paused_ms += stopped;
        assert!(get(port, "/health").contains("ok"));
        snaps.push(snap.display().to_string());
    }
    let l = json(&["leaks", &snaps[0], &snaps[1], &snaps[2]]);
    let took = started.elapsed();
    drop(service);

    let root = &l["roots"][0];
    let source = std::fs::read_to_string(&app).unwrap();
    let line_of = |text: &str| source.lines().position(|l| l.contains(text)).unwrap() + 1;
    let file = app.display().to_string();
    assert_eq!(root["path"]["expr"], "__main__.Pricing.quote", "{l:#}");
    assert_eq!(root["leak"], true, "{root:#}");
    // co_firstlineno of a decorated function: its first decorator's line.
    assert_eq!(
        root["defined_at"],
        format!("{file}:{}", line_of("@functools.lru_cache(maxsize=None)")),
        "{root:#}"
    );
    assert_eq!(root["keeps_instances_of"], "__main__.Pricing", "{root:#}");
    let made_here = format!("{file}:{}", line_of("pricing = Pricing("));
    assert!(
        root["allocated_at"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["site"] == made_here.as_str()),
        "{root:#}"
    );
    assert!(took < Duration::from_secs(60), "{took:?}");
    assert!(paused_ms < 1000.0, "paused {paused_ms} ms in all");
    eprintln!("flask scenario: {took:?} in all, the service paused {paused_ms:.0} ms");
}
