//! `MmapMut`: a writable map.

use std::io;
use std::ops::{Deref, DerefMut};

use crate::flags::Protection;
use crate::inner::MmapInner;
use crate::{Mmap, MmapOptions};

/// A writable memory map, of a file or of anonymous memory, which reads and writes as a
/// `&mut [u8]`. Dropping it unmaps it (`munmap`); flush it first for the writes to be on disk.
///
/// ```
/// use std::io::Read;
///
/// # fn main() -> std::io::Result<()> {
/// let mut file = tempfile::tempfile()?;
/// file.set_len(4)?;
/// // SAFETY: the temporary file is this process's alone, and nothing truncates it.
/// let mut map = unsafe { mmap::MmapMut::map_mut(&file)? };
/// map.copy_from_slice(b"data");
/// map.flush()?;
///
/// let mut read = String::new();
/// file.read_to_string(&mut read)?;
/// assert_eq!(read, "data");
/// # Ok(())
/// # }
/// ```
pub struct MmapMut {
    pub(crate) inner: MmapInner,
}

common_methods!(MmapMut);
writable_methods!(MmapMut);

impl MmapMut {
    pub(crate) fn from_inner(inner: MmapInner) -> Self {
        MmapMut { inner }
    }

    /// A writable shared map of the whole file: `MmapOptions::new().map_mut(file)`.
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map_mut`].
    ///
    /// # Safety
    ///
    /// As [`MmapOptions::map_mut`]: nothing else may write or truncate the file while the map
    /// lives.
    pub unsafe fn map_mut<T: crate::MmapAsRawDesc>(file: T) -> io::Result<MmapMut> {
        // SAFETY: the caller's promise, passed on.
        unsafe { MmapOptions::new().map_mut(file) }
    }

    /// `len` bytes of zero-filled anonymous memory: `MmapOptions::new().len(len).map_anon()`.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let mut memory = mmap::MmapMut::map_anon(4096)?;
    /// assert!(memory.iter().all(|&b| b == 0));
    /// memory[0] = 1;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map_anon`].
    pub fn map_anon(len: usize) -> io::Result<MmapMut> {
        MmapOptions::new().len(len).map_anon()
    }

    /// The address of the map's first byte, for writing.
    #[inline]
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.inner.ptr()
    }

    /// Makes the map read-only (`mprotect(2)` with `PROT_READ`): a later write through a pointer
    /// kept from before faults (`SIGSEGV`).
    ///
    /// # Errors
    ///
    /// The error of `mprotect`. The map is unmapped on error.
    pub fn make_read_only(self) -> io::Result<Mmap> {
        // SAFETY: `self` is consumed, so no `&mut [u8]` into the map is left to write through.
        unsafe {
            self.inner
                .protect_all("make_read_only", Protection::READ.bits())?
        };
        Ok(Mmap::from_inner(self.inner))
    }

    /// Makes the map executable and read-only (`mprotect(2)` with `PROT_READ | PROT_EXEC`).
    ///
    /// # Errors
    ///
    /// The error of `mprotect`, e.g. `PermissionDenied` on a `noexec` file system. The map is
    /// unmapped on error.
    pub fn make_exec(self) -> io::Result<Mmap> {
        // SAFETY: `self` is consumed, so no `&mut [u8]` into the map is left to write through.
        unsafe {
            self.inner
                .protect_all("make_exec", (Protection::READ | Protection::EXEC).bits())?
        };
        Ok(Mmap::from_inner(self.inner))
    }
}

impl Deref for MmapMut {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        // SAFETY: `len` readable bytes are mapped at `ptr` (or `len` is 0 and `ptr` is non-null and
        // page-aligned) while `self` lives; the constructor's caller promised nothing else changes
        // them.
        unsafe { std::slice::from_raw_parts(self.inner.ptr(), self.inner.len()) }
    }
}

impl DerefMut for MmapMut {
    #[inline]
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `deref`, and the bytes are writable; `&mut self` makes this the only
        // reference into them.
        unsafe { std::slice::from_raw_parts_mut(self.inner.ptr(), self.inner.len()) }
    }
}

impl AsRef<[u8]> for MmapMut {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl AsMut<[u8]> for MmapMut {
    #[inline]
    fn as_mut(&mut self) -> &mut [u8] {
        self
    }
}
