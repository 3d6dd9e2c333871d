//! `gate`: the CI verdict on a `leaks` result. Fails when the roots that grew in every round
//! grew by more than the allowed bytes in all, when there are more such roots than allowed,
//! or when memory outside Python objects grew in every round by more than allowed in all.

use super::leaks::Leaks;
use serde::Serialize;

#[derive(Debug, Clone, Copy)]
pub struct GateOptions {
    /// Bytes the growing roots may grow by in all, first snapshot to last.
    pub max_growth: u64,
    /// Growing roots allowed (`None`: any number, within `max_growth`).
    pub max_leaks: Option<u64>,
}

/// The default allowance: a few thousand iterations of any unbounded container exceed it
/// (a dict entry with a small key and value is about 100 bytes), while a bounded cache or a
/// rotating buffer in steady state does not grow in every round at all.
pub const DEFAULT_MAX_GROWTH: u64 = 64 * 1024;

/// A limit the leak roots broke.
#[derive(Debug, Clone, Serialize)]
pub struct Breach {
    /// `max_growth` (bytes), `max_native_growth` (bytes outside Python objects) or
    /// `max_leaks` (roots).
    pub limit: &'static str,
    pub value: u64,
    pub allowed: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    pub passed: bool,
    /// The limits broken (empty when it passed).
    pub breaches: Vec<Breach>,
    pub max_growth: u64,
    pub max_leaks: Option<u64>,
    /// Growth of the roots counted as leaks, in all.
    pub growth: u64,
    pub leak_roots: u64,
    pub leaks: Leaks,
}

pub fn gate(leaks: Leaks, opts: GateOptions) -> Gate {
    let growth: u64 = leaks
        .counted
        .iter()
        .map(|c| c.growth_bytes.max(0) as u64)
        .sum();
    let leak_roots = leaks.counted.len() as u64;
    let mut breaches = Vec::new();
    if growth > opts.max_growth {
        breaches.push(Breach {
            limit: "max_growth",
            value: growth,
            allowed: opts.max_growth,
        });
    }
    if let Some(n) = leaks.native.as_ref().filter(|n| n.leak) {
        breaches.push(Breach {
            limit: "max_native_growth",
            value: n.growth_bytes.max(0) as u64,
            allowed: n.max_growth,
        });
    }
    if let Some(max) = opts.max_leaks {
        if leak_roots > max {
            breaches.push(Breach {
                limit: "max_leaks",
                value: leak_roots,
                allowed: max,
            });
        }
    }
    Gate {
        passed: breaches.is_empty(),
        breaches,
        max_growth: opts.max_growth,
        max_leaks: opts.max_leaks,
        growth,
        leak_roots,
        leaks,
    }
}

/// Parse a size: `65536`, `64KiB`, `64K`, `1.5MiB`, `2MB` (K/M/G are binary multiples).
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return None,
    };
    (value >= 0.0 && value.is_finite()).then(|| (value * mult as f64).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("65536"), Some(65536));
        assert_eq!(parse_size("64KiB"), Some(65536));
        assert_eq!(parse_size("64k"), Some(65536));
        assert_eq!(parse_size("1.5MiB"), Some(1_572_864));
        assert_eq!(parse_size("2 MB"), Some(2 << 20));
        assert_eq!(parse_size("abc"), None);
        assert_eq!(parse_size("12XB"), None);
        assert_eq!(parse_size(""), None);
    }
}
