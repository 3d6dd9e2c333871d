//! Allocation sites: each object's innermost allocation frame (`file:line`) as tracemalloc
//! recorded it, numbered densely so analyses can group by it like by type.

use crate::snapshot::Snapshot;
use std::collections::HashMap;

/// Label of objects allocated while tracemalloc was not tracing (or from a free list).
pub const NOT_TRACED: &str = "<not traced>";

pub struct Sites {
    /// Site names; index 0 is [`NOT_TRACED`].
    pub names: Vec<String>,
    /// Site index of every object.
    pub of: Vec<u32>,
}

impl Sites {
    pub fn new(snap: &Snapshot) -> Self {
        let mut names = vec![NOT_TRACED.to_string()];
        let mut index: HashMap<String, u32> = HashMap::new();
        let per_traceback: Vec<u32> = snap
            .tracebacks
            .iter()
            .map(|t| {
                let site = t.site();
                *index.entry(site.clone()).or_insert_with(|| {
                    names.push(site);
                    names.len() as u32 - 1
                })
            })
            .collect();
        let mut of = vec![0u32; snap.objects.count()];
        for &(id, t) in &snap.objects.traceback {
            if let Some(&s) = per_traceback.get(t as usize) {
                of[id.index()] = s;
            }
        }
        Sites { names, of }
    }

    pub fn name(&self, object: usize) -> &str {
        &self.names[self.of[object] as usize]
    }
}
