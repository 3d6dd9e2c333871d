//! The HTML report: one self-contained page (style, script and data inline, nothing
//! fetched) that draws [`Explore`]. The data goes in as JSON inside a non-executable script
//! element with `<`, `>` and `&` escaped, the page's own script reads it and sets every name
//! as text, and a Content-Security-Policy allows only the page's own script and style (by
//! their hashes): a snapshot's names can never become markup or code.

use crate::analysis::diff::Diff;
use crate::analysis::explore::Explore;
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

#[derive(serde::Serialize)]
struct PageData<'a> {
    #[serde(flatten)]
    explore: &'a Explore,
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

/// JSON safe inside a `<script>` element: no `<`, `>` or `&` can end it or open a comment.
fn embeddable_json(data: &PageData) -> String {
    let json = serde_json::to_string(data).unwrap_or_else(|_| "{}".into());
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
pub fn page(explore: &Explore, series: Option<&Series>) -> String {
    let csp = format!(
        "default-src 'none'; script-src {}; style-src {}; img-src data:; base-uri 'none'; form-action 'none'",
        csp_hash(SCRIPT),
        csp_hash(STYLE)
    );
    let json = embeddable_json(&PageData { explore, series });
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
        // echo -n "" | openssl dgst -sha256 -binary | base64
        assert_eq!(
            csp_hash(""),
            "'sha256-47DEQpj8HBSa+/TjejMDLbOkmzxQa0kIUZZo1OIJSU0='"
        );
    }
}
