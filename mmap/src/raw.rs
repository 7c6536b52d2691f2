//! `MmapRaw`: a map used through raw pointers.

use std::io;

use crate::flags::Protection;
use crate::inner::MmapInner;
use crate::{Mmap, MmapMut, MmapOptions};

/// A memory map used only through raw pointers: making it is safe, and the reads and writes through
/// [`MmapRaw::as_mut_ptr`] are the caller's `unsafe` code, which carries the promises (another
/// process may change the file under it). Dropping it unmaps it (`munmap`).
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// let file = tempfile::tempfile()?;
/// file.set_len(4096)?;
/// let map = mmap::MmapRaw::map_raw(&file)?;
/// // SAFETY: the map is 4096 bytes long and nothing else writes the temporary file.
/// unsafe { map.as_mut_ptr().write(42) };
/// map.flush()?;
/// # Ok(())
/// # }
/// ```
pub struct MmapRaw {
    pub(crate) inner: MmapInner,
}

common_methods!(MmapRaw);
writable_methods!(MmapRaw);

impl MmapRaw {
    pub(crate) fn from_inner(inner: MmapInner) -> Self {
        MmapRaw { inner }
    }

    /// A writable shared map of the whole file: `MmapOptions::new().map_raw(file)`.
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map_raw`].
    pub fn map_raw<T: crate::MmapAsRawDesc>(file: T) -> io::Result<MmapRaw> {
        MmapOptions::new().map_raw(file)
    }

    /// The address of the map's first byte, for writing.
    #[inline]
    pub fn as_mut_ptr(&self) -> *mut u8 {
        self.inner.ptr()
    }

    /// Changes the access the whole map allows: `mprotect(2)`.
    ///
    /// # Errors
    ///
    /// The error of `mprotect`, e.g. `PermissionDenied` for `WRITE` on a file open read-only.
    pub fn protect(&self, protection: Protection) -> io::Result<()> {
        self.protect_range(0, self.len(), protection)
    }

    /// Changes the access the `len` bytes from `offset` allow, widened to whole pages:
    /// `mprotect(2)`.
    ///
    /// ```
    /// use mmap::{MmapOptions, Protection};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let map = mmap::MmapRaw::from(MmapOptions::new().len(8192).map_anon()?);
    /// map.protect_range(4096, 4096, Protection::READ)?;
    /// assert!(map.protect_range(4096, 8192, Protection::READ).is_err()); // outside the map
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// Only the bits [`Protection`] names reach `mprotect`: raw bits (made with
    /// `Protection::from_bits_retain`, such as `PROT_GROWSDOWN`) are refused.
    ///
    /// # Errors
    ///
    /// `InvalidInput` before any call if the range is not within the map, or for bits `Protection`
    /// does not name; otherwise as `protect`.
    pub fn protect_range(
        &self,
        offset: usize,
        len: usize,
        protection: Protection,
    ) -> io::Result<()> {
        let unnamed = protection.bits() & !Protection::all().bits();
        if unnamed != 0 {
            return Err(crate::range::invalid(
                "protect_range",
                format_args!("protection: {unnamed:#x} are bits Protection does not name"),
            ));
        }
        // SAFETY: an `MmapRaw` hands out no references, only raw pointers, and every access through
        // them is the caller's unsafe code, which must respect the protection in force.
        unsafe {
            self.inner
                .protect("protect_range", offset, len, protection.bits())
        }
    }
}

impl From<Mmap> for MmapRaw {
    fn from(map: Mmap) -> MmapRaw {
        MmapRaw { inner: map.inner }
    }
}

impl From<MmapMut> for MmapRaw {
    fn from(map: MmapMut) -> MmapRaw {
        MmapRaw { inner: map.inner }
    }
}
