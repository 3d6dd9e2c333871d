//! Values of int objects read from the heap: their bit length, their value when it fits in
//! 128 bits, their decimal digits.

use super::heap::Heap;

/// The number of digits and sign of an int: (ndigits, negative).
pub fn int_digits(h: &Heap, addr: u64) -> Option<(u64, bool)> {
    let o = h.off;
    match (o.long_tag, o.long_non_size_bits) {
        (Some(tag_at), Some(bits)) => {
            let tag = h.word(addr + tag_at)?;
            Some((tag >> bits, tag & 3 == 2))
        }
        _ => {
            let size = h.ob_size(addr)?;
            Some((size.unsigned_abs(), size < 0))
        }
    }
}

/// Ints longer than this are labelled by their size (`[<int bits=N>]`), not their value, as
/// the agent does: a decimal conversion is quadratic in the number of digits.
pub const KEY_INT_BITS_MAX: u64 = 4096;

/// The bit length of an int (`int.bit_length()`), from its top digit: constant time.
pub fn int_bits(h: &Heap, addr: u64) -> Option<u64> {
    let (n, _) = int_digits(h, addr)?;
    if n == 0 {
        return Some(0);
    }
    let shift = h.off.long_shift;
    let top = h.u32(addr + h.off.long_digits + (n - 1).checked_mul(h.off.digit_size)?)?;
    Some((n - 1).saturating_mul(shift) + u64::from(32 - top.leading_zeros()))
}

/// An int's value when it fits in 128 bits.
pub fn small_int(h: &Heap, addr: u64) -> Option<i128> {
    let (n, neg) = int_digits(h, addr)?;
    let shift = h.off.long_shift as u32;
    if n as u32 * shift > 126 {
        return None;
    }
    let mut v: i128 = 0;
    for i in (0..n).rev() {
        let d = h.u32(addr + h.off.long_digits + i * h.off.digit_size)? as i128;
        v = (v << shift) | d;
    }
    Some(if neg { -v } else { v })
}

/// An int in decimal, whatever its size.
pub fn int_decimal(h: &Heap, addr: u64) -> Option<String> {
    if let Some(v) = small_int(h, addr) {
        return Some(v.to_string());
    }
    let (n, neg) = int_digits(h, addr)?;
    // Decimal conversion is quadratic in the digits: beyond this, the label gives the size.
    if int_bits(h, addr)? > KEY_INT_BITS_MAX {
        return None;
    }
    let shift = h.off.long_shift as u32;
    // Base 10^9 limbs, least significant first.
    let mut limbs: Vec<u32> = vec![0];
    for i in (0..n).rev() {
        let d = h.u32(addr + h.off.long_digits + i * h.off.digit_size)? as u64;
        let mut carry = d;
        for l in limbs.iter_mut() {
            let x = ((*l as u64) << shift) + carry;
            *l = (x % 1_000_000_000) as u32;
            carry = x / 1_000_000_000;
        }
        while carry > 0 {
            limbs.push((carry % 1_000_000_000) as u32);
            carry /= 1_000_000_000;
        }
    }
    let mut s = if neg { "-".to_string() } else { String::new() };
    let mut it = limbs.iter().rev();
    if let Some(first) = it.next() {
        s.push_str(&first.to_string());
    }
    for l in it {
        s.push_str(&format!("{l:09}"));
    }
    Some(s)
}
