//! Table and DOT rendering of `top`, `path` and `show`.

use super::fmt::{bytes, count, pct};
use super::visible::{cell, visible};
use super::{align_right, finish, new_table, overview, Report, Style};
use crate::analysis::path::Paths;
use crate::analysis::python_path::PyPath;
use crate::analysis::show::{Inspect, Neighbour};
use crate::analysis::sites::is_library_file;
use crate::analysis::top::{Top, TopBy};
use std::fmt::Write;

fn path_expr(p: &Option<PyPath>) -> String {
    p.as_ref()
        .map_or_else(|| "-".to_string(), |p| cell(&p.expr))
}

impl Report for Top {
    const COMMAND: &'static str = "top";

    fn table(&self, style: &Style) -> String {
        let mut out = String::new();
        overview::render(&self.snapshot, &mut out);
        let _ = writeln!(
            out,
            "Retained   {} in all; unreachable (garbage awaiting collection): {} objects, {}",
            bytes(self.total_bytes),
            count(self.unreachable_objects),
            bytes(self.unreachable_bytes)
        );
        out.push('\n');
        match self.by {
            TopBy::Object => {
                let mut t = new_table(style, &["retained", "share", "own", "type", "path"]);
                for o in &self.objects {
                    t.add_row(vec![
                        bytes(o.retained),
                        pct(o.share),
                        bytes(o.own),
                        cell(&o.type_name),
                        path_expr(&o.path),
                    ]);
                }
                align_right(&mut t, &[0, 1, 2]);
                out.push_str(&finish(&t));
                out.push_str("(objects that one child almost wholly accounts for are skipped in favour of that child)\n");
                if !self.joint.is_empty() {
                    out.push_str(
                        "\nHeld jointly (no single object keeps these alive: each holder would have to let go):\n",
                    );
                    let mut t = new_table(
                        style,
                        &["retained", "share", "objects", "held by", "largest"],
                    );
                    for j in &self.joint {
                        let holders: Vec<String> = j
                            .holders
                            .iter()
                            .zip(&j.holder_addrs)
                            .map(|(p, a)| p.as_ref().map_or_else(|| a.clone(), |p| p.expr.clone()))
                            .collect();
                        t.add_row(vec![
                            bytes(j.retained),
                            pct(j.share),
                            count(j.objects),
                            cell(&holders.join(" and ")),
                            cell(&format!(
                                "{} {}",
                                j.sample_type,
                                j.sample.as_ref().map_or("", |p| p.expr.as_str())
                            )),
                        ]);
                    }
                    align_right(&mut t, &[0, 1, 2]);
                    out.push_str(&finish(&t));
                }
            }
            TopBy::Type | TopBy::Module => {
                let key = if self.by == TopBy::Type {
                    "type"
                } else {
                    "module"
                };
                let mut t = new_table(style, &["retained", "share", "count", key]);
                for g in &self.groups {
                    t.add_row(vec![
                        bytes(g.retained),
                        pct(g.share),
                        count(g.count),
                        cell(&g.key),
                    ]);
                }
                align_right(&mut t, &[0, 1, 2]);
                out.push_str(&finish(&t));
                out.push_str("(retained: everything the instances keep alive, each byte counted once per row)\n");
            }
        }
        out
    }
}

impl Report for Paths {
    const COMMAND: &'static str = "path";

    fn table(&self, _style: &Style) -> String {
        let mut out = String::new();
        if self.matched as usize > self.paths.len() {
            let _ = writeln!(
                out,
                "{} objects match {}; showing the {} that retain most (--limit)\n",
                count(self.matched),
                visible(&self.target),
                self.paths.len()
            );
        } else if self.paths.is_empty() {
            let _ = writeln!(out, "no object matches {}", visible(&self.target));
        }
        for row in &self.paths {
            let _ = writeln!(
                out,
                "{} {} (retains {})",
                visible(&row.type_name),
                row.addr,
                bytes(row.retained)
            );
            match &row.path {
                Some(p) => {
                    let _ = writeln!(out, "  {}", visible(&p.expr));
                    let _ = writeln!(out, "  root: {}", root_text(&p.root));
                    for s in &p.steps {
                        let _ = writeln!(
                            out,
                            "    {:<18} {:<28} {}",
                            s.addr,
                            visible(&s.type_name),
                            visible(s.edge.as_deref().unwrap_or("(root)"))
                        );
                    }
                }
                None => {
                    let _ = writeln!(out, "  no path from any root");
                }
            }
            out.push('\n');
        }
        out
    }
}

/// The retainer graph of `path` results for graphviz.
pub fn paths_dot(p: &Paths) -> String {
    let mut out = String::from(
        "digraph retainers {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
    );
    let mut seen = std::collections::HashSet::new();
    for row in &p.paths {
        let Some(path) = &row.path else { continue };
        let mut prev: Option<&str> = None;
        for s in &path.steps {
            if seen.insert(s.addr.clone()) {
                let _ = writeln!(
                    out,
                    "  \"{}\" [label=\"{}\\n{}\"];",
                    s.addr,
                    esc(&s.type_name),
                    s.addr
                );
            }
            if let Some(pa) = prev {
                let key = format!("{pa}->{}", s.addr);
                if seen.insert(key) {
                    let _ = writeln!(
                        out,
                        "  \"{pa}\" -> \"{}\" [label=\"{}\"];",
                        s.addr,
                        esc(s.edge.as_deref().unwrap_or(""))
                    );
                }
            }
            prev = Some(&s.addr);
        }
        if let Some(first) = path.steps.first() {
            let key = format!("root:{}", first.addr);
            if seen.insert(key) {
                let _ = writeln!(
                    out,
                    "  \"root:{}\" [shape=plaintext, label=\"{} {}\"];",
                    first.addr,
                    esc(&path.root.kind),
                    esc(&path.root.name)
                );
                let _ = writeln!(out, "  \"root:{}\" -> \"{}\";", first.addr, first.addr);
            }
        }
    }
    out.push_str("}\n");
    out
}

/// `module shop`, `local keep in thread MainThread: main (app.py:12)`, ...
fn root_text(r: &crate::analysis::python_path::RootInfo) -> String {
    match &r.frame {
        Some(f) => format!(
            "{} {} in {}",
            visible(&r.kind),
            visible(&r.name),
            visible(f)
        ),
        None => format!("{} {}", visible(&r.kind), visible(&r.name)),
    }
}

/// A DOT string's contents: the name made visible (so no raw control characters and every
/// backslash doubled), then its quotes escaped.
fn esc(s: &str) -> String {
    visible(s).replace('"', "\\\"")
}

impl Report for Inspect {
    const COMMAND: &'static str = "show";

    fn table(&self, style: &Style) -> String {
        let mut out = String::new();
        let mut what = cell(&self.type_name);
        if let Some(n) = &self.name {
            let _ = write!(what, " {}", visible(n));
        }
        if let Some(l) = self.len {
            let _ = write!(what, " (len {l})");
        }
        let _ = writeln!(out, "Object     {} {what}", self.addr);
        let _ = writeln!(
            out,
            "Size       {} own + {} owned buffers; retains {} ({})",
            bytes(self.size),
            bytes(self.buffers),
            bytes(self.retained),
            pct(self.share)
        );
        let outside = self.refcnt.saturating_sub(self.referrers_found);
        let _ = writeln!(
            out,
            "Refcount   {} ({} references found in the snapshot{})",
            self.refcnt,
            self.referrers_found,
            if outside > 0 {
                format!(", {outside} from outside it")
            } else {
                String::new()
            }
        );
        if self.unreachable {
            out.push_str("Status     unreachable from every root: garbage awaiting collection\n");
        }
        if let Some(p) = &self.path {
            let _ = writeln!(
                out,
                "Path       {}  (root: {} {})",
                visible(&p.expr),
                visible(&p.root.kind),
                visible(&p.root.name)
            );
        }
        if let Some(place) = &self.defined_at {
            let _ = writeln!(out, "Defined    {}", visible(place));
        }
        if let Some(a) = &self.allocated_at {
            let _ = writeln!(out, "Allocated  {}", visible(&a.site));
            if a.stack.len() > 1 {
                for frame in &a.stack {
                    let own = frame
                        .rsplit_once(':')
                        .is_some_and(|(f, _)| !is_library_file(f));
                    let mark = if *frame == a.site && own {
                        "  <- your code"
                    } else {
                        ""
                    };
                    let _ = writeln!(out, "             at {}{mark}", visible(frame));
                }
            }
        }
        if let Some(d) = &self.dominator {
            let _ = writeln!(
                out,
                "Dominator  {} {} (retains {})",
                d.addr,
                visible(&d.type_name),
                bytes(d.retained)
            );
        }
        let section = |out: &mut String, title: &str, rows: &[Neighbour], total: u64| {
            let _ = writeln!(out, "\n{title} ({}):", count(total));
            let mut t = new_table(style, &["address", "type", "edge", "own", "retained"]);
            for n in rows {
                t.add_row(vec![
                    n.addr.clone(),
                    cell(&n.type_name),
                    cell(n.edge.trim()),
                    bytes(n.own),
                    bytes(n.retained),
                ]);
            }
            align_right(&mut t, &[3, 4]);
            out.push_str(&finish(&t));
            if total as usize > rows.len() {
                let _ = writeln!(
                    out,
                    "... {} more (--limit)",
                    count(total - rows.len() as u64)
                );
            }
        };
        section(&mut out, "Referrers", &self.referrers, self.referrers_total);
        section(&mut out, "Referents", &self.referents, self.referents_total);
        out
    }
}
