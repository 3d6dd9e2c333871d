//! Reading CPython objects out of a copied memory image: words, C strings, object headers,
//! and the validation every address gets before it is followed.

use super::facts::Facts;
use super::offsets::Offsets;
use crate::remote::image::Image;

/// A reference count no real object reaches (a torn or wild read otherwise).
const MAX_REFCNT: u64 = 1 << 48;

/// The decoding context: the memory, its layout and the version's facts.
pub struct Heap<'a> {
    pub mem: &'a Image,
    pub off: &'a Offsets,
    pub facts: Facts,
}

impl<'a> Heap<'a> {
    #[inline]
    pub fn word(&self, addr: u64) -> Option<u64> {
        let s = self.mem.slice(addr, 8)?;
        Some(u64::from_le_bytes(s.try_into().ok()?))
    }

    #[inline]
    pub fn i64(&self, addr: u64) -> Option<i64> {
        self.word(addr).map(|w| w as i64)
    }

    #[inline]
    pub fn u32(&self, addr: u64) -> Option<u32> {
        let s = self.mem.slice(addr, 4)?;
        Some(u32::from_le_bytes(s.try_into().ok()?))
    }

    #[inline]
    pub fn u8(&self, addr: u64) -> Option<u8> {
        self.mem.slice(addr, 1).map(|s| s[0])
    }

    pub fn bytes(&self, addr: u64, len: usize) -> Option<&'a [u8]> {
        self.mem.slice(addr, len)
    }

    /// A NUL-terminated C string of at most `max` bytes, as UTF-8 (lossy).
    pub fn cstr(&self, addr: u64, max: usize) -> Option<String> {
        if addr == 0 {
            return None;
        }
        let mut out = Vec::new();
        let mut at = addr;
        while out.len() < max {
            let chunk = (4096 - (at % 4096)) as usize;
            let s = self.mem.slice(at, chunk.min(max - out.len()))?;
            if let Some(end) = s.iter().position(|&b| b == 0) {
                out.extend_from_slice(&s[..end]);
                return Some(String::from_utf8_lossy(&out).into_owned());
            }
            out.extend_from_slice(s);
            at += s.len() as u64;
        }
        None
    }

    /// The raw reference count of the object at `addr` (32 bits on 3.14+, where the word's
    /// upper half holds flags).
    #[inline]
    pub fn refcnt(&self, addr: u64) -> Option<u64> {
        if self.off.ob_refcnt_size == 4 {
            self.u32(addr).map(u64::from)
        } else {
            self.word(addr)
        }
    }

    /// Whether a reference count says the object is immortal (3.12+).
    pub fn immortal(&self, rc: u64) -> bool {
        self.facts.immortal_refcounts && (rc as u32 as i32) < 0
    }

    #[inline]
    pub fn type_of(&self, addr: u64) -> Option<u64> {
        self.word(addr + self.off.ob_type)
    }

    /// `ob_size` of a variable-size object.
    #[inline]
    pub fn ob_size(&self, addr: u64) -> Option<i64> {
        self.i64(addr + self.off.ob_size)
    }

    /// A plausible object header at `addr`: aligned, readable, with a sane reference count
    /// and a non-null type pointer (which the caller still validates as a type).
    pub fn header(&self, addr: u64) -> Option<(u64, u64)> {
        if addr == 0 || addr % 8 != 0 {
            return None;
        }
        let s = self.mem.slice(addr, 16)?;
        let word0 = u64::from_le_bytes(s[0..8].try_into().ok()?);
        let rc = if self.off.ob_refcnt_size == 4 {
            word0 & 0xffff_ffff
        } else {
            word0
        };
        let tp = u64::from_le_bytes(s[8..16].try_into().ok()?);
        if tp == 0 || tp % 8 != 0 {
            return None;
        }
        // A small negative count is a corrupt but real object (an extension's refcounting
        // bug): kept, and recorded with a count of 0.
        let negative = (-(1i64 << 31)..0).contains(&(rc as i64));
        if rc == 0 || (rc > MAX_REFCNT && !self.immortal(rc) && !negative) {
            return None;
        }
        Some((rc, tp))
    }
}
