//! The layering of capture/ holds: no module names one of its own layer or above (the
//! layers are listed in mod.rs's header).

/// Each module of capture/ and the layer it sits in (see the module header).
const LAYERS: &[(&str, u32)] = &[
    ("offsets", 1),
    ("facts", 1),
    ("builtins", 1),
    ("heap", 2),
    ("ints", 3),
    ("strings", 3),
    ("pools", 3),
    ("dicts", 4),
    ("traces", 4),
    ("types", 5),
    ("decode", 6),
    ("write", 7),
    ("partial", 7),
];

fn layer(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|l| l.1)
}

/// The capture modules a source file names (`super::x` at the top level,
/// `crate::capture::x` anywhere).
fn named(source: &str, top_level: bool) -> Vec<String> {
    let mut out = Vec::new();
    let prefixes: &[&str] = match top_level {
        true => &["super::", "crate::capture::"],
        false => &["crate::capture::"],
    };
    for prefix in prefixes {
        for (i, _) in source.match_indices(prefix) {
            let rest = &source[i + prefix.len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if layer(&name).is_some() {
                out.push(name);
            }
        }
    }
    out
}

#[test]
fn capture_modules_import_only_the_layers_below_them() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/capture");
    let mut files: Vec<(String, std::path::PathBuf, bool)> = Vec::new();
    for (sub, top) in [("", true), ("decode", false)] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            let path = e.unwrap().path();
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let module = if sub.is_empty() {
                stem
            } else {
                sub.to_string()
            };
            // mod.rs is the top, layering.rs this test.
            if path.extension().is_some_and(|x| x == "rs")
                && module != "mod"
                && module != "layering"
            {
                files.push((module, path, top));
            }
        }
    }
    files.sort();
    assert!(files.len() >= LAYERS.len());
    for (module, path, top) in files {
        let own = layer(&module).unwrap_or_else(|| panic!("{}: give it a layer", path.display()));
        let source = std::fs::read_to_string(&path).unwrap();
        for used in named(&source, top) {
            if used == module {
                continue;
            }
            assert!(
                layer(&used).unwrap() < own,
                "{} (layer {own}) uses {used} (layer {})",
                path.display(),
                layer(&used).unwrap()
            );
        }
    }
}
