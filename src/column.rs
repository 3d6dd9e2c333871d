//! A column of fixed-width values: built in memory by the loader, or a range of a mapped
//! index file (little-endian, aligned), read in place without parsing. Either way it reads
//! as a slice, so analyses never know where their data came from.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A read-only column of `T`, owned or mapped.
///
/// It keeps the slice's address and length beside what owns the memory, so reading it
/// costs what reading a slice costs (analyses index columns in their innermost loops).
pub struct Column<T: bytemuck::Pod> {
    ptr: *const T,
    len: usize,
    keep: Keep<T>,
}

/// What owns a column's memory. Neither is ever written to or resized while the column
/// lives, so the address taken from it stays valid.
enum Keep<T> {
    Owned(#[allow(dead_code)] Vec<T>),
    /// A range of a mapped index file; the opener checked alignment and bounds.
    Mapped(#[allow(dead_code)] Arc<memmap2::Mmap>),
}

// SAFETY: a column is an immutable slice of plain data whose memory it owns (a vector or a
// shared read-only mapping); sharing or sending it is sharing or sending `&[T]`.
unsafe impl<T: bytemuck::Pod + Sync> Sync for Column<T> {}
// SAFETY: as above; the owner moves with the column and the address does not change.
unsafe impl<T: bytemuck::Pod + Send + Sync> Send for Column<T> {}

impl<T: bytemuck::Pod> Column<T> {
    /// `len` values of `T` at byte `start` of `map`, or `None` when that range is not inside
    /// the map or not aligned for `T`.
    pub fn mapped(map: Arc<memmap2::Mmap>, start: usize, len: usize) -> Option<Self> {
        let bytes = len.checked_mul(std::mem::size_of::<T>())?;
        let end = start.checked_add(bytes)?;
        let slice = map.get(start..end)?;
        let values: &[T] = bytemuck::try_cast_slice(slice).ok()?;
        Some(Column {
            ptr: values.as_ptr(),
            len,
            keep: Keep::Mapped(map),
        })
    }
}

impl<T: bytemuck::Pod> Deref for Column<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        // SAFETY: `ptr` and `len` describe an aligned, initialised slice inside the memory
        // `keep` owns (a vector's buffer or a read-only mapping), which lives as long as the
        // column and is never written, resized or unmapped meanwhile.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl<T: bytemuck::Pod> From<Vec<T>> for Column<T> {
    fn from(v: Vec<T>) -> Self {
        Column {
            ptr: v.as_ptr(),
            len: v.len(),
            keep: Keep::Owned(v),
        }
    }
}

impl<T: bytemuck::Pod> Default for Column<T> {
    fn default() -> Self {
        Vec::new().into()
    }
}

impl<T: bytemuck::Pod> fmt::Debug for Column<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.keep {
            Keep::Owned(_) => "owned",
            Keep::Mapped(_) => "mapped",
        };
        write!(f, "Column({kind}, {} values)", self.len())
    }
}

impl<'a, T: bytemuck::Pod> IntoIterator for &'a Column<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_columns_check_bounds_and_alignment() {
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, &[1, 0, 0, 0, 2, 0, 0, 0, 3]).unwrap();
        // SAFETY: a private temporary file nobody else holds.
        let map = Arc::new(unsafe { memmap2::Mmap::map(&file) }.unwrap());
        let c = Column::<u32>::mapped(map.clone(), 0, 2).unwrap();
        assert_eq!(&*c, &[1, 2]);
        assert!(
            Column::<u32>::mapped(map.clone(), 0, 3).is_none(),
            "past the end"
        );
        assert!(
            Column::<u32>::mapped(map.clone(), 1, 1).is_none(),
            "misaligned"
        );
        assert!(
            Column::<u32>::mapped(map, usize::MAX - 2, 1).is_none(),
            "overflow"
        );
    }
}
