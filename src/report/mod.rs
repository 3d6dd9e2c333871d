//! Reports: the only code that writes. Every command's findings render through one trait,
//! as a human table or as a versioned JSON envelope.

mod advise;
mod caches;
mod diff;
pub mod fmt;
mod frag;
pub mod html;
mod leaks;
mod overview;
mod retention;
mod summary;
pub mod svg;
pub mod visible;

pub use retention::paths_dot;

use serde::Serialize;

/// Version of the JSON envelope (`"schema"`); bumped on any incompatible change.
pub const JSON_SCHEMA: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
}

/// Presentation choices that do not change the data.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// ANSI styling allowed (a terminal, and NO_COLOR unset).
    pub color: bool,
}

/// A command's findings, renderable as a table and as JSON.
pub trait Report: Serialize {
    /// The command name in the JSON envelope.
    const COMMAND: &'static str;
    /// Human-readable rendering.
    fn table(&self, style: &Style) -> String;
}

/// Render findings in the requested format.
pub fn render<R: Report>(report: &R, format: Format, style: &Style) -> String {
    match format {
        Format::Table => visible::for_terminal(&report.table(style), style.color),
        Format::Json => json_envelope(R::COMMAND, report),
    }
}

/// `{"command": ..., "schema": 1, ...fields of the report}` on one line.
pub fn json_envelope<R: Serialize>(command: &str, report: &R) -> String {
    let mut obj = serde_json::Map::new();
    obj.insert("command".into(), command.into());
    obj.insert("schema".into(), JSON_SCHEMA.into());
    match serde_json::to_value(report) {
        Ok(serde_json::Value::Object(fields)) => obj.extend(fields),
        Ok(other) => {
            obj.insert("data".into(), other);
        }
        Err(e) => {
            obj.insert("error".into(), e.to_string().into());
        }
    }
    let mut s = serde_json::Value::Object(obj).to_string();
    s.push('\n');
    s
}

pub(crate) fn new_table(_style: &Style, header: &[&str]) -> comfy_table::Table {
    use comfy_table::{presets, Cell, ContentArrangement, Table};
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .force_no_tty();
    t.set_header(header.iter().map(Cell::new));
    t
}

/// Right-align the given columns.
pub(crate) fn align_right(t: &mut comfy_table::Table, cols: &[usize]) {
    for &c in cols {
        if let Some(col) = t.column_mut(c) {
            col.set_cell_alignment(comfy_table::CellAlignment::Right);
        }
    }
}

/// Trim the trailing spaces comfy-table leaves with the borderless preset, and mark the
/// header line, which `visible::for_terminal` makes bold when styling is allowed (after the
/// net that escapes every control character a name could have brought in).
pub(crate) fn finish(t: &comfy_table::Table) -> String {
    let mut out = String::new();
    for (i, line) in t.to_string().lines().enumerate() {
        if i == 0 {
            out.push(visible::HEADER_ON);
            out.push_str(line.trim_end());
            out.push(visible::HEADER_OFF);
        } else {
            out.push_str(line.trim_end());
        }
        out.push('\n');
    }
    out
}
