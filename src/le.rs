//! Little-endian numbers at byte offsets of a buffer: the one spelling of the reads the
//! capture, the core reader and the index make of copied memory and of files.

/// The `u64` at byte `at` of `b`. Like slicing, panics when `b` is shorter than `at + 8`:
/// callers check the length first.
#[inline]
pub fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(word)
}

/// The `u32` at byte `at` of `b` (panics like slicing when `b` is shorter than `at + 4`).
#[inline]
pub fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_at_an_offset() {
        let b = [0xff, 1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(u64_at(&b, 1), 0x0807_0605_0403_0201);
        assert_eq!(u32_at(&b, 1), 0x0403_0201);
        assert_eq!(u32_at(&b, 5), 0x0807_0605);
    }

    #[test]
    #[should_panic]
    fn a_short_buffer_is_a_bug_of_the_caller() {
        u64_at(&[1, 2, 3], 0);
    }
}
