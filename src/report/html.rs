//! The HTML report: one self-contained page (style, script and data inline, nothing
//! fetched) that draws [`Explore`]. The data goes in as JSON inside a non-executable script
//! element with `<`, `>` and `&` escaped, the page's own script reads it and sets every name
//! as text, and a Content-Security-Policy allows only the page's own script and style (by
//! their hashes): a snapshot's names can never become markup or code. Names are written in
//! their visible form, as in every other report (`\x1b`, `\u{202e}`): a direction override
//! cannot reorder the page's text.

use super::visible::visible;
use crate::analysis::advise::Advice;
use crate::analysis::caches::Caches;
use crate::analysis::diff::Diff;
use crate::analysis::explore::Explore;
use crate::analysis::frag::Frag;
use crate::analysis::gate::Gate;
use crate::analysis::leaks::Leaks;
use base64::Engine;
use sha2::{Digest, Sha256};

const SCRIPT: &str = include_str!("page/report.js");
const STYLE: &str = include_str!("page/report.css");

/// What a page of two or three snapshots adds: the change from the first to the last, and
/// the leak roots (with the verdict, when `gate` writes the page).
#[derive(Debug, serde::Serialize)]
pub struct Series {
    pub diff: Diff,
    pub leaks: Option<Leaks>,
    pub gate: Option<Gate>,
}

/// The bytes at stake beyond the tree: caches, advice, fragmentation (of the last snapshot).
#[derive(Debug, serde::Serialize)]
pub struct Findings {
    pub caches: Caches,
    pub advice: Advice,
    /// `None` when the snapshot has no pools (`frag_missing` says why).
    pub frag: Option<Frag>,
    pub frag_missing: Option<String>,
    pub arena_map: Option<ArenaMap>,
}

/// The arena map as compact data for the page to draw (the picture `frag --svg` writes
/// would be megabytes for a big heap): one row per arena in address order, one character
/// per pool slot (`-` empty, else `a` + its fill level in twentieths), and the colours.
#[derive(Debug, serde::Serialize)]
pub struct ArenaMap {
    /// Colour of each fill level, 0 to 20 twentieths (the SVG's scale).
    pub palette: Vec<String>,
    pub empty: &'static str,
    pub pinned_colour: &'static str,
    pub rows: Vec<String>,
    /// Per row: pinned, and its share used.
    pub pinned: Vec<bool>,
    pub used: Vec<f64>,
    /// Arenas not drawn (past the row limit).
    pub more: usize,
}

/// Rows of the arena map a page draws at most.
const MAP_ROWS: usize = 4000;

impl ArenaMap {
    fn of(f: &Frag) -> Self {
        let level = |u: f32| -> char {
            if u < 0.0 {
                '-'
            } else {
                char::from(b'a' + (u.clamp(0.0, 1.0) * 20.0).round() as u8)
            }
        };
        let shown = &f.map[..f.map.len().min(MAP_ROWS)];
        ArenaMap {
            palette: (0..=20)
                .map(|i| super::svg::fill(i as f32 / 20.0))
                .collect(),
            empty: super::svg::EMPTY,
            pinned_colour: super::svg::PINNED,
            rows: shown
                .iter()
                .map(|a| a.pools.iter().map(|&u| level(u)).collect())
                .collect(),
            pinned: shown.iter().map(|a| a.pinned).collect(),
            used: shown.iter().map(|a| a.utilisation).collect(),
            more: f.map.len() - shown.len(),
        }
    }
}

impl Findings {
    pub fn new(caches: Caches, advice: Advice, frag: Result<Frag, String>) -> Self {
        let (frag, frag_missing) = match frag {
            Ok(f) => (Some(f), None),
            Err(why) => (None, Some(why)),
        };
        let arena_map = frag
            .as_ref()
            .filter(|f| !f.map.is_empty())
            .map(ArenaMap::of);
        Findings {
            caches,
            advice,
            frag,
            frag_missing,
            arena_map,
        }
    }
}

#[derive(serde::Serialize)]
struct PageData<'a> {
    #[serde(flatten)]
    explore: &'a Explore,
    findings: &'a Findings,
    series: Option<&'a Series>,
}

/// `'sha256-…'` of an inline element's text, as a CSP source.
fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Every string of `v` (keys too) in its visible form (`visible`: control, direction and
/// invisible characters as escapes), as every other report writes names. An explicit stack:
/// the depth is the page data's own nesting, but nothing here recurses.
fn make_visible(v: &mut serde_json::Value) {
    use serde_json::Value;
    let mut stack: Vec<&mut Value> = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => {
                if let std::borrow::Cow::Owned(o) = visible(s) {
                    *s = o;
                }
            }
            Value::Array(a) => stack.extend(a.iter_mut()),
            Value::Object(m) => {
                if m.keys()
                    .any(|k| matches!(visible(k), std::borrow::Cow::Owned(_)))
                {
                    let old = std::mem::take(m);
                    *m = old
                        .into_iter()
                        .map(|(k, v)| (visible(&k).into_owned(), v))
                        .collect();
                }
                stack.extend(m.values_mut());
            }
            _ => {}
        }
    }
}

/// JSON safe inside a `<script>` element: no `<`, `>` or `&` can end it or open a comment.
fn embeddable_json(data: &PageData) -> String {
    let json = match serde_json::to_value(data) {
        Ok(mut v) => {
            make_visible(&mut v);
            v.to_string()
        }
        Err(_) => "{}".into(),
    };
    script_safe(&json)
}

/// `json` with `<`, `>`, `&` and the two JavaScript line terminators as `\u` escapes (the
/// same value to `JSON.parse`).
fn script_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 64);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The whole page.
pub fn page(explore: &Explore, findings: &Findings, series: Option<&Series>) -> String {
    let csp = format!(
        "default-src 'none'; script-src {}; style-src {}; img-src data:; base-uri 'none'; form-action 'none'",
        csp_hash(SCRIPT),
        csp_hash(STYLE)
    );
    let json = embeddable_json(&PageData {
        explore,
        findings,
        series,
    });
    let mut html = String::with_capacity(json.len() + SCRIPT.len() + STYLE.len() + 4096);
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"");
    html.push_str(&csp);
    html.push_str(
        "\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
    );
    html.push_str("<title>pymem report</title>\n<style>");
    html.push_str(STYLE);
    html.push_str("</style>\n</head>\n<body>\n");
    html.push_str(BODY);
    html.push_str("<script type=\"application/json\" id=\"pymem-data\">");
    html.push_str(&json);
    html.push_str("</script>\n<script>");
    html.push_str(SCRIPT);
    html.push_str("</script>\n</body>\n</html>\n");
    html
}

/// The page's fixed markup; the script fills it.
const BODY: &str = r#"<header><h1>pymem report</h1><span class="sub" id="sub"></span><nav id="tabs" role="tablist"></nav></header>
<main>
<section id="overview" role="tabpanel">
<h2>Capture</h2><dl class="facts" id="facts"></dl>
<h2>Resident memory</h2><div id="memory"></div>
<h2>Biggest retainers</h2><table id="biggest"></table>
</section>
<section id="retained" role="tabpanel" hidden>
<div class="explore"><div>
<div class="tools"><input type="search" id="search" placeholder="Search type, module, address or path" aria-label="search objects"><span class="muted" id="bounds"></span></div>
<div class="results" id="results" hidden></div>
<div class="crumbs" id="crumbs"></div>
<div class="icicle" id="icicle" aria-label="dominator tree: click an object to zoom in, click the top bar to zoom out"></div>
<h2>The same tree as a list</h2><ul class="tree" id="tree" role="tree"></ul>
</div><aside class="panel" id="panel" aria-live="polite"></aside></div>
</section>
<section id="changes" role="tabpanel" hidden>
<div id="verdict"></div>
<h2>Leak roots</h2><p class="muted" id="leak-rule"></p><table id="leaks"></table>
<h2>What changed, first snapshot to last, by type</h2><p class="muted" id="diff-note"></p><table id="diff"></table>
</section>
<section id="stake" role="tabpanel" hidden>
<h2>Caches</h2><p class="muted" id="caches-note"></p><table id="caches"></table>
<h2>Advice</h2><div id="advice"></div>
<h2>Fragmentation</h2><div id="frag"></div>
</section>
<section id="types" role="tabpanel" hidden>
<div class="tools"><input type="search" id="types-filter" placeholder="Filter types or modules" aria-label="filter types"><span class="muted" id="types-note"></span></div>
<table><thead><tr><th><button data-key="name">Type</button></th><th><button data-key="module">Module</button></th><th class="num"><button data-key="count">Count</button></th><th class="num"><button data-key="own">Own</button></th><th class="num"><button data-key="retained">Retained</button></th><th class="num">Share</th></tr></thead><tbody id="types-body"></tbody></table>
</section>
</main>
<footer><span id="privacy"></span> Written by pymem.</footer>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csp_hash_is_of_the_exact_text() {
        // printf abc | openssl dgst -sha256 -binary | base64
        assert_eq!(
            csp_hash("abc"),
            "'sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0='"
        );
    }

    #[test]
    fn embedded_names_cannot_close_the_script_or_act() {
        let mut v = serde_json::json!({"</script><b>": ["a\u{202e}b", "x&y\u{2028}"]});
        make_visible(&mut v);
        let text = script_safe(&v.to_string());
        assert!(
            !text.contains(['<', '>', '&', '\u{2028}', '\u{202e}']),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["</script><b>"][0], "a\\u{202e}b");
        assert_eq!(back["</script><b>"][1], "x&y\\u{2028}");
    }
}
