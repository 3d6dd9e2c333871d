//! The per-version layout tables in `src/remote/layouts/` are what `probe/generate.sh`
//! produces from the installed CPython builds' own headers: regenerated here and compared.

use crate::common::repo;
use std::process::Command;

#[test]
fn committed_layout_tables_match_the_probe() {
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(repo().join("probe/generate.sh"))
        .arg(out.path())
        .output()
        .expect("run probe/generate.sh");
    assert!(
        run.status.success(),
        "probe/generate.sh failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    for minor in pymem::capture::facts::SUPPORTED_MINORS {
        let name = format!("cpython-3.{minor}.json");
        let fresh = std::fs::read_to_string(out.path().join(&name)).unwrap();
        let committed = std::fs::read_to_string(repo().join("src/remote/layouts").join(&name))
            .unwrap_or_else(|_| panic!("src/remote/layouts/{name} is missing"));
        assert!(
            fresh == committed,
            "src/remote/layouts/{name} is stale: run probe/generate.sh"
        );
    }
}
