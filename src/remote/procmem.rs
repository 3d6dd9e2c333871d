//! What a live process's resident memory is made of, read from outside: `/proc/PID/smaps`
//! by kind of mapping and the resident pages of given ranges from `/proc/PID/pagemap`. The
//! same rules as the agent's `_process.py`, so the two captures of one process agree; the C
//! allocator's own figures need a call inside the process and are not read.

use crate::snapshot::{CAllocator, ProcessMemory};
use std::os::unix::fs::FileExt;

/// glibc's non-main heaps are reserved aligned to HEAP_MAX_SIZE (64 MiB on 64-bit).
const HEAP_ALIGN: u64 = 64 << 20;
/// A thread's stack is an anonymous mapping just above a small PROT_NONE guard.
const GUARD_MAX: u64 = 64 << 10;

struct Vma {
    start: u64,
    end: u64,
    perms: String,
    path: String,
    rss: u64,
}

fn parse_smaps(text: &str) -> Vec<Vma> {
    let mut out: Vec<Vma> = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let Some(first) = words.next() else { continue };
        if first == "Rss:" {
            if let (Some(v), Some(kb)) = (out.last_mut(), words.next()) {
                v.rss = kb.parse::<u64>().unwrap_or(0).saturating_mul(1024);
            }
            continue;
        }
        let Some((lo, hi)) = first.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (u64::from_str_radix(lo, 16), u64::from_str_radix(hi, 16))
        else {
            continue;
        };
        let perms = words.next().unwrap_or("").to_string();
        // offset, device, inode, then the path (which may hold spaces)
        let path = line.splitn(6, ' ').nth(5).unwrap_or("").trim().to_string();
        out.push(Vma {
            start,
            end,
            perms,
            path,
            rss: 0,
        });
    }
    out
}

/// Classify the mappings of `smaps` text for a process with `threads` threads.
pub fn classify(text: &str, threads: u64) -> ProcessMemory {
    let maps = parse_smaps(text);
    let mut m = ProcessMemory {
        threads,
        ..Default::default()
    };
    let mut stacks = 0u64;
    for (i, v) in maps.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| &maps[p]);
        let after = maps.get(i + 1);
        m.rss = m.rss.saturating_add(v.rss);
        let rw = v.perms.starts_with("rw");
        let slot = if v.path == "[stack]" {
            &mut m.stacks
        } else if v.path.starts_with('/') {
            &mut m.files
        } else if v.path == "[heap]" {
            m.malloc_heap_count += 1;
            &mut m.malloc_heaps
        } else if v.path.starts_with('[') {
            &mut m.kernel
        } else if rw
            && stacks + 1 < threads
            && prev.is_some_and(|p| {
                p.end == v.start
                    && p.perms.starts_with("---")
                    && p.path.is_empty()
                    && p.end - p.start <= GUARD_MAX
            })
        {
            stacks += 1;
            &mut m.stacks
        } else if rw
            && v.path.is_empty()
            && v.start % HEAP_ALIGN == 0
            && (v.end - v.start == HEAP_ALIGN
                || after.is_some_and(|a| {
                    a.start == v.end
                        && a.perms.starts_with("---")
                        && a.end.saturating_sub(v.start) <= HEAP_ALIGN
                }))
        {
            m.malloc_heap_count += 1;
            &mut m.malloc_heaps
        } else {
            &mut m.anonymous
        };
        *slot = slot.saturating_add(v.rss);
    }
    m.thread_stacks_found = stacks;
    m
}

/// The memory of process `pid` by kind of mapping, or `None` when /proc does not say.
pub fn of_process(pid: u32) -> Option<ProcessMemory> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps")).ok()?;
    let threads = std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|d| d.count() as u64)
        .unwrap_or(1);
    let mut m = classify(&text, threads);
    m.c_allocator = Some(CAllocator {
        name: "unknown".into(),
        why: Some(
            "the C allocator's figures (glibc's mallinfo2) are only read by the in-process agent"
                .into(),
        ),
        ..Default::default()
    });
    Some(m)
}

/// Resident bytes of the `(address, size)` ranges of process `pid` (bit 63 of each page's
/// pagemap entry), or `None` when its pagemap cannot be read.
pub fn resident(pid: u32, ranges: &[(u64, u64)]) -> Option<u64> {
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .unwrap_or(4096) as u64;
    let f = std::fs::File::open(format!("/proc/{pid}/pagemap")).ok()?;
    let mut total = 0u64;
    let mut buf = Vec::new();
    for &(addr, size) in ranges {
        let n = size.div_ceil(page) as usize;
        buf.resize(n * 8, 0);
        f.read_exact_at(&mut buf, addr / page * 8).ok()?;
        total += buf.chunks_exact(8).filter(|e| e[7] & 0x80 != 0).count() as u64;
    }
    Some(total * page)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
55d0a0000000-55d0a0001000 r--p 00000000 08:01 123 /usr/bin/python3.12
Rss:                   4 kB
55d0a1000000-55d0a1400000 rw-p 00000000 00:00 0 [heap]
Rss:                2048 kB
7f0000000000-7f0000800000 rw-p 00000000 00:00 0
Rss:                 512 kB
7f0000800000-7f0004000000 ---p 00000000 00:00 0
Rss:                   0 kB
7f1000000000-7f1000001000 ---p 00000000 00:00 0
Rss:                   0 kB
7f1000001000-7f1000801000 rw-p 00000000 00:00 0
Rss:                  64 kB
7f2000000000-7f2000100000 rw-p 00000000 00:00 0
Rss:                1024 kB
7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0 [stack]
Rss:                  32 kB
7ffc10000000-7ffc10002000 r-xp 00000000 00:00 0 [vdso]
Rss:                   8 kB
";

    #[test]
    fn mappings_are_told_apart_by_kind() {
        let m = classify(SMAPS, 2);
        assert_eq!(m.files, 4 << 10);
        assert_eq!(
            m.malloc_heaps,
            (2048 + 512) << 10,
            "brk heap and one 64 MiB heap"
        );
        assert_eq!(m.malloc_heap_count, 2);
        assert_eq!(
            m.stacks,
            (64 + 32) << 10,
            "a thread's stack above its guard, and main's"
        );
        assert_eq!(m.thread_stacks_found, 1);
        assert_eq!(m.anonymous, 1024 << 10);
        assert_eq!(m.kernel, 8 << 10);
        assert_eq!(m.rss, (4 + 2048 + 512 + 64 + 1024 + 32 + 8) << 10);
    }

    #[test]
    fn no_more_stacks_than_threads() {
        let m = classify(SMAPS, 1);
        assert_eq!(m.thread_stacks_found, 0);
        assert_eq!(m.stacks, 32 << 10);
    }
}
