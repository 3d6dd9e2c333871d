//! `pymem report` in a real browser: Debian's chromium, driven headless through its
//! DevTools protocol by tests/py/cdp.py. A real capture on every CPython loads with no
//! console error; the biggest node's path is `pymem path`'s; a search finds the planted
//! objects; a click zooms and the panel lists referrers; a hostile heap's names stay text.
//! Screenshots of each view are kept in target/report-screens/ to be looked at.

use crate::common::{json, pymem_ok, pythons, repo, run_python};
use serde_json::{json as j, Value};
use std::path::{Path, PathBuf};

/// Run `steps` on `page` in chromium: {"results": [...], "errors": [...], "load_ms": ...}.
fn drive(page: &Path, steps: &Value) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let steps_file = dir.path().join("steps.json");
    std::fs::write(&steps_file, steps.to_string()).unwrap();
    let python = &pythons().last().unwrap().1;
    let out = std::process::Command::new(python)
        .arg(repo().join("tests/py/cdp.py"))
        .arg(format!("file://{}", page.display()))
        .arg(&steps_file)
        .output()
        .expect("run cdp.py");
    assert!(
        out.status.success(),
        "cdp.py failed (chromium is needed; .ci/run installs Debian's):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn screens() -> PathBuf {
    let d = repo().join("target/report-screens");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn report(snapshot: &Path, page: &Path) {
    let out = pymem_ok(&[
        "report",
        snapshot.to_str().unwrap(),
        "-o",
        page.to_str().unwrap(),
    ]);
    assert_eq!(String::from_utf8_lossy(&out).trim(), page.to_str().unwrap());
}

/// The views of one report, checked: returns the driver's answer.
fn tour(page: &Path, name: &str, search: &str) -> Value {
    let shot = |v: &str| {
        screens()
            .join(format!("{name}-{v}.png"))
            .display()
            .to_string()
    };
    let steps = j!([
        {"wait": "document.body.dataset.ready === '1'"},
        {"shot": shot("overview")},
        {"click": "#tab-retained"},
        {"eval": "document.querySelector('#panel h3').textContent"},
        {"eval": "document.getElementById('panel-path') && document.getElementById('panel-path').textContent"},
        {"shot": shot("retained")},
        {"click": "#icicle .node[data-node='0']"},
        {"eval": "[document.querySelector('#icicle .node').dataset.node, document.getElementById('crumbs').textContent, document.getElementById('panel').textContent]"},
        {"shot": shot("zoomed")},
        {"click": "#search"},
        {"type": search},
        {"eval": "document.getElementById('results').textContent"},
        {"shot": shot("search")},
        {"click": "#tab-types"},
        {"eval": "document.querySelectorAll('#types-body tr').length"},
        {"shot": shot("types")},
    ]);
    drive(page, &steps)
}

#[test]
fn report_of_a_real_capture_on_every_cpython_works_in_chromium() {
    for (version, python) in pythons() {
        let dir = tempfile::tempdir().unwrap();
        let snap = dir.path().join("heap.jsonl");
        let truth = dir.path().join("truth.json");
        run_python(python, "workload_basic.py", &[&snap, &truth], &[]);
        let page = dir.path().join("report.html");
        report(&snap, &page);
        let got = tour(&page, &format!("basic-{version}"), "planted");
        let r = &got["results"];
        assert_eq!(got["errors"], j!([]), "{version}: console errors");
        // The biggest node is selected first; its path is `pymem path`'s for that object.
        let heading = r[3].as_str().unwrap();
        let addr = heading.rsplit(' ').next().unwrap();
        let path = json(&["path", snap.to_str().unwrap(), addr]);
        let expr = path["paths"][0]["path"]["expr"]
            .as_str()
            .unwrap_or_else(|| panic!("{version}: no path in {path}"));
        assert_eq!(r[4].as_str().unwrap(), expr, "{version}: the panel's path");
        // A click on the biggest node zooms into it (it is drawn first, on top) and the
        // panel lists its referrers.
        let zoomed = r[7].as_array().unwrap();
        assert_eq!(zoomed[0], "0", "{version}: not zoomed");
        assert!(zoomed[1].as_str().unwrap().contains('\u{203a}'));
        assert!(
            zoomed[2].as_str().unwrap().contains("Referrers ("),
            "{version}: {zoomed:?}"
        );
        // The planted objects are found: the list `__main__.planted` and the type.
        let found = r[11].as_str().unwrap();
        assert!(found.contains("planted"), "{version}: search: {found}");
        assert!(
            found.contains("__main__.Planted"),
            "{version}: search: {found}"
        );
        assert!(r[14].as_u64().unwrap() > 10, "{version}: types table");
    }
}

#[test]
fn report_of_a_hostile_heap_runs_none_of_its_names() {
    let (version, python) = pythons().last().unwrap();
    let dir = tempfile::tempdir().unwrap();
    run_python(python, "workload_hostile.py", &[dir.path()], &[]);
    let snap = dir.path().join("s2.jsonl");
    let page = dir.path().join("report.html");
    report(&snap, &page);
    let html = std::fs::read_to_string(&page).unwrap();
    // Every `<` of the data is escaped: the only script elements are the page's two.
    assert_eq!(html.matches("<script").count(), 2, "{version}");
    let got = drive(
        &page,
        &j!([
            {"wait": "document.body.dataset.ready === '1'"},
            {"click": "#tab-types"},
            {"eval": "[document.querySelectorAll('img, iframe, object, embed, a[href]').length, typeof window.pwned, document.getElementById('types-body').textContent.includes('Evil\\\\x1b]0;pwned\\\\x07Q\\\\x1b[2J\\\\x1b[31m\\\\u{202e}'), /[\\u0000-\\u0008\\u000b-\\u001f\\u202e]/.test(document.body.innerText)]"},
            {"shot": screens().join("hostile-types.png").display().to_string()},
            {"click": "#tab-stake"},
            {"eval": "[document.querySelectorAll('img, iframe, object, embed, a[href]').length, typeof window.pwned]"},
            {"shot": screens().join("hostile-stake.png").display().to_string()},
            {"click": "#tab-retained"},
            {"click": "#search"},
            {"type": "</script><img"},
            {"eval": "[document.getElementById('results').textContent.includes('</script><img src=x'), typeof window.pwned]"},
            {"shot": screens().join("hostile-search.png").display().to_string()},
        ]),
    );
    assert_eq!(got["errors"], j!([]), "{version}: console errors");
    assert_eq!(
        got["results"][2],
        j!([0, "undefined", true, false]),
        "{version}: a name's escapes are shown, never live"
    );
    assert_eq!(got["results"][5], j!([0, "undefined"]), "{version}");
    assert_eq!(got["results"][10], j!([true, "undefined"]), "{version}");
}

/// A series of three snapshots of a leaking program (the shipped leak fixtures): the page
/// opens on the leak roots, the planted one first, and a click on it shows it in the tree;
/// `gate --html` writes the page with the failed verdict and still exits 1.
#[test]
fn series_report_names_the_planted_leak_first_and_gate_writes_its_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|x| {
            repo()
                .join(format!("fixtures/leak-{x}.jsonl.gz"))
                .display()
                .to_string()
        })
        .collect();
    let page = dir.path().join("leaks.html");
    let mut args: Vec<&str> = vec!["report"];
    args.extend(fixtures.iter().map(String::as_str));
    args.extend(["-o", page.to_str().unwrap()]);
    pymem_ok(&args);
    let got = drive(
        &page,
        &j!([
            {"wait": "document.body.dataset.ready === '1'"},
            {"eval": "document.getElementById('tab-changes').getAttribute('aria-selected')"},
            {"eval": "document.querySelector('#leaks tbody tr code').textContent"},
            {"shot": screens().join("series-leaks.png").display().to_string()},
            {"click": "#leaks tbody tr button.link"},
            {"eval": "[document.getElementById('retained').hidden, document.querySelector('#panel h3').textContent]"},
        ]),
    );
    assert_eq!(got["errors"], j!([]));
    let r = &got["results"];
    assert_eq!(r[1], "true", "the page opens on the leaks");
    assert_eq!(r[2], "leakshop._carts");
    assert_eq!(r[5][0], false, "the tree is shown");
    assert!(r[5][1].as_str().unwrap().starts_with("dict at 0x"), "{r}");

    let gate_page = dir.path().join("gate.html");
    let out = crate::common::pymem()
        .arg("gate")
        .args(&fixtures)
        .arg("--html")
        .arg(&gate_page)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the gate fails");
    let got = drive(
        &gate_page,
        &j!([
            {"wait": "document.body.dataset.ready === '1'"},
            {"eval": "document.getElementById('verdict-text').textContent"},
            {"shot": screens().join("series-gate.png").display().to_string()},
        ]),
    );
    assert_eq!(got["errors"], j!([]));
    assert!(
        got["results"][1]
            .as_str()
            .unwrap()
            .starts_with("FAIL: 1 leak root, "),
        "{got}"
    );
}
