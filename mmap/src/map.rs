//! `Mmap`: a read-only map.

use std::io;
use std::ops::Deref;

use crate::flags::Protection;
use crate::inner::MmapInner;
use crate::{MmapMut, MmapOptions};

/// A read-only memory map of a file, which reads as a `&[u8]`. Dropping it unmaps it (`munmap`).
///
/// ```
/// use std::io::Write;
///
/// # fn main() -> std::io::Result<()> {
/// let mut file = tempfile::tempfile()?;
/// file.write_all(b"hello")?;
/// // SAFETY: the temporary file is this process's alone, and nothing truncates it.
/// let map = unsafe { mmap::Mmap::map(&file)? };
/// assert_eq!(&map[..], b"hello");
/// # Ok(())
/// # }
/// ```
pub struct Mmap {
    pub(crate) inner: MmapInner,
}

common_methods!(Mmap);

impl Mmap {
    pub(crate) fn from_inner(inner: MmapInner) -> Self {
        Mmap { inner }
    }

    /// A read-only shared map of the whole file: `MmapOptions::new().map(file)`.
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map`].
    ///
    /// # Safety
    ///
    /// As [`MmapOptions::map`]: nothing may write or truncate the file while the map lives.
    pub unsafe fn map<T: crate::MmapAsRawDesc>(file: T) -> io::Result<Mmap> {
        // SAFETY: the caller's promise, passed on.
        unsafe { MmapOptions::new().map(file) }
    }

    /// A read-only shared map of the whole file, made without `unsafe` after checking that nothing
    /// can change the file: `MmapOptions::new().map_if_safe(file)`, as in memmap2.
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map_if_safe`].
    pub fn map_if_safe<T: crate::MmapAsRawDesc>(file: T) -> Result<Mmap, crate::MapIfSafeError> {
        MmapOptions::new().map_if_safe(file)
    }

    /// Makes the map writable (`mprotect(2)` with `PROT_READ | PROT_WRITE`). A shared map needs a
    /// file open for writing; a private one (from `map_copy_read_only`) becomes copy-on-write.
    ///
    /// # Errors
    ///
    /// `PermissionDenied` for a shared map of a file open read-only; otherwise the error of
    /// `mprotect`. The map is unmapped on error.
    pub fn make_mut(self) -> io::Result<MmapMut> {
        // SAFETY: adding write access takes nothing away from the reads of the map.
        unsafe {
            self.inner
                .protect_all("make_mut", (Protection::READ | Protection::WRITE).bits())?
        };
        Ok(MmapMut::from_inner(self.inner))
    }

    /// Makes the map executable (`mprotect(2)` with `PROT_READ | PROT_EXEC`).
    ///
    /// # Errors
    ///
    /// The error of `mprotect`, e.g. `PermissionDenied` on a `noexec` file system. The map is
    /// unmapped on error.
    pub fn make_exec(self) -> io::Result<Mmap> {
        // SAFETY: reads stay allowed.
        unsafe {
            self.inner
                .protect_all("make_exec", (Protection::READ | Protection::EXEC).bits())?
        };
        Ok(self)
    }
}

impl Deref for Mmap {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        // SAFETY: `len` readable bytes are mapped at `ptr` (or `len` is 0 and `ptr` is non-null and
        // page-aligned), for as long as `self` lives; the constructor's caller promised they do not
        // change.
        unsafe { std::slice::from_raw_parts(self.inner.ptr(), self.inner.len()) }
    }
}

impl AsRef<[u8]> for Mmap {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self
    }
}
