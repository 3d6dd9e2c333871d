//! A column of fixed-width values: built in memory by the loader, or a range of a mapped
//! index file (little-endian, aligned), read in place without parsing. Either way it reads
//! as a slice, so analyses never know where their data came from.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A read-only column of `T`, owned or mapped.
pub struct Column<T: bytemuck::Pod> {
    repr: Repr<T>,
}

enum Repr<T> {
    Owned(Vec<T>),
    /// `len` values at byte `start` of `map`; the index opener checked alignment and bounds.
    Mapped {
        map: Arc<memmap2::Mmap>,
        start: usize,
        len: usize,
    },
}

impl<T: bytemuck::Pod> Column<T> {
    /// `len` values of `T` at byte `start` of `map`, or `None` when that range is not inside
    /// the map or not aligned for `T`.
    pub fn mapped(map: Arc<memmap2::Mmap>, start: usize, len: usize) -> Option<Self> {
        let bytes = len.checked_mul(std::mem::size_of::<T>())?;
        let end = start.checked_add(bytes)?;
        let slice = map.get(start..end)?;
        bytemuck::try_cast_slice::<u8, T>(slice).ok()?;
        Some(Column {
            repr: Repr::Mapped { map, start, len },
        })
    }

    /// The values as bytes (what an index stores).
    pub fn as_bytes(&self) -> &[u8] {
        bytemuck::cast_slice(self)
    }
}

impl<T: bytemuck::Pod> Deref for Column<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match &self.repr {
            Repr::Owned(v) => v,
            Repr::Mapped { map, start, len } => {
                let bytes = &map[*start..*start + *len * std::mem::size_of::<T>()];
                // Checked when the column was made; the map never changes.
                bytemuck::cast_slice(bytes)
            }
        }
    }
}

impl<T: bytemuck::Pod> From<Vec<T>> for Column<T> {
    fn from(v: Vec<T>) -> Self {
        Column {
            repr: Repr::Owned(v),
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
        let kind = match self.repr {
            Repr::Owned(_) => "owned",
            Repr::Mapped { .. } => "mapped",
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
        assert!(Column::<u32>::mapped(map.clone(), 0, 3).is_none(), "past the end");
        assert!(Column::<u32>::mapped(map.clone(), 1, 1).is_none(), "misaligned");
        assert!(Column::<u32>::mapped(map, usize::MAX - 2, 1).is_none(), "overflow");
    }
}
