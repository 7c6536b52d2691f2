//! The mapping itself, shared by every public map type: where it starts, how long it is, and the
//! calls on a range of it. Two words, so that `size_of::<Mmap>() == 16`.

use std::ffi::c_void;
use std::io;
use std::ptr::NonNull;

use crate::checked_copy::{self, Via};
use crate::range::check_range;
use crate::sys::{self, c_int};

/// A live mapping of `len` bytes at `ptr`, or an empty one (`len == 0`, a dangling `ptr`, nothing
/// mapped). `ptr` may sit past the start of the pages mapped: by `ptr % page_size()` bytes when the
/// file offset was not page-aligned. That prefix is mapped but hidden, and is unmapped with the rest.
pub(crate) struct MmapInner {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the inner owns its mapping, which any thread may use or unmap; the public types add the
// borrow rules that make shared access sound.
unsafe impl Send for MmapInner {}
// SAFETY: as above: `&MmapInner` allows only reads of the mapping's address and length, and calls
// (msync, madvise, mlock) that the kernel serialises.
unsafe impl Sync for MmapInner {}

impl MmapInner {
    /// An empty map: no system call, nothing to unmap.
    pub(crate) fn empty() -> Self {
        MmapInner { ptr: NonNull::dangling().as_ptr(), len: 0 }
    }

    /// Maps `len` bytes of `fd` from `offset` (any offset: the mapping starts at the page below it),
    /// or anonymous memory when `fd` is -1; `call` names the public call, for errors. Checks are done
    /// by the caller: `len` is not 0 and fits `isize`, `offset + len` fits `off_t`, and for huge pages
    /// the offset is a multiple of their size and `len` a whole number of them. `hint` is the address
    /// asked for (0: any); with `MAP_FIXED_NOREPLACE` in `flags` the kernel places the map there or
    /// fails.
    #[inline(always)]
    pub(crate) fn new(
        call: &str,
        hint: usize,
        len: usize,
        prot: c_int,
        flags: c_int,
        fd: c_int,
        offset: u64,
    ) -> io::Result<Self> {
        debug_assert!(len > 0);
        debug_assert_eq!(flags & mmap_sys::MAP_FIXED, 0);
        let prefix = (offset % sys::page_size() as u64) as usize;
        let (hint, page_offset) = (hint as *mut c_void, offset - prefix as u64);
        // SAFETY: no MAP_FIXED (callers refuse it): the kernel takes `hint` as a hint, or with
        // MAP_FIXED_NOREPLACE fails rather than replace a mapping, so nothing existing is touched.
        let base = unsafe { sys::mmap(call, hint, len + prefix, prot, flags, fd, page_offset)? };
        // SAFETY: `prefix < page_size() <= len + prefix`, so `ptr` stays within the mapping.
        let ptr = unsafe { base.cast::<u8>().add(prefix) };
        Ok(MmapInner { ptr, len })
    }

    #[inline]
    pub(crate) fn ptr(&self) -> *mut u8 {
        self.ptr
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The bytes before `ptr` that were mapped with it.
    #[inline]
    fn prefix(&self) -> usize {
        self.ptr as usize % sys::page_size()
    }

    /// Checks `offset..offset + len` against the map, then widens it to whole pages: the page-aligned
    /// start and length that `msync`, `madvise`, `mprotect` and `mlock` take. `None` for an empty
    /// range, which needs no call.
    pub(crate) fn pages(
        &self,
        call: &str,
        offset: usize,
        len: usize,
    ) -> io::Result<Option<(*mut c_void, usize)>> {
        check_range(call, offset, len, self.len)?;
        if len == 0 {
            return Ok(None);
        }
        let start = self.ptr as usize + offset;
        let slack = start % sys::page_size();
        Ok(Some(((start - slack) as *mut c_void, len + slack)))
    }

    /// The whole mapping, hidden prefix included. `None` for an empty map.
    #[inline]
    fn whole(&self) -> Option<(*mut c_void, usize)> {
        (self.len > 0).then(|| {
            let prefix = self.prefix();
            // SAFETY: the mapping starts `prefix` bytes before `ptr`.
            (unsafe { self.ptr.sub(prefix) }.cast::<c_void>(), self.len + prefix)
        })
    }

    /// `msync` of a range, with `MS_SYNC` or `MS_ASYNC`.
    pub(crate) fn flush(&self, call: &str, offset: usize, len: usize, wait: bool) -> io::Result<()> {
        let flags = if wait { mmap_sys::MS_SYNC } else { mmap_sys::MS_ASYNC };
        match self.pages(call, offset, len)? {
            // SAFETY: `pages` checked the range is within this mapping and page-aligned it.
            Some((start, len)) => unsafe { sys::msync(start, len, flags) },
            None => Ok(()),
        }
    }

    /// `madvise` of a range.
    ///
    /// # Safety
    ///
    /// The advice must not change what live references to the map read, or the caller accepts it.
    pub(crate) unsafe fn advise(
        &self,
        call: &str,
        offset: usize,
        len: usize,
        advice: (c_int, &str),
    ) -> io::Result<()> {
        match self.pages(call, offset, len)? {
            // SAFETY: a checked, page-aligned range of this mapping; the advice is the caller's.
            Some((start, len)) => unsafe { sys::madvise(start, len, advice.0, advice.1) },
            None => Ok(()),
        }
    }

    /// Which pages of a range are in RAM: `mincore`, one `bool` per page the range touches.
    pub(crate) fn residency(&self, call: &str, offset: usize, len: usize) -> io::Result<Vec<bool>> {
        let Some((start, len)) = self.pages(call, offset, len)? else {
            return Ok(Vec::new());
        };
        // SAFETY: a checked, page-aligned range of this mapping.
        let pages = unsafe { sys::mincore(start, len)? };
        Ok(pages.iter().map(|&b| b & 1 == 1).collect())
    }

    /// `mlock` (or `mlock2` with `MLOCK_ONFAULT`) of a range; `munlock` when `lock` is `None`.
    pub(crate) fn lock(&self, call: &str, offset: usize, len: usize, lock: Option<Lock>) -> io::Result<()> {
        let Some((start, len)) = self.pages(call, offset, len)? else {
            return Ok(());
        };
        // SAFETY: a checked range of this mapping; locking never changes its contents.
        unsafe {
            match lock {
                Some(Lock::Now) => sys::mlock(start, len),
                #[cfg(mman_has = "MLOCK_ONFAULT")]
                Some(Lock::OnFault) => sys::mlock_on_fault(start, len),
                None => sys::munlock(start, len),
            }
        }
    }

    /// Prefaults a range: `madvise` with `MADV_POPULATE_READ` (or `_WRITE`), whose `EFAULT` (a page
    /// the file no longer backs: "a SIGBUS would have been generated") becomes `UnexpectedEof`.
    #[cfg(all(mman_has = "MADV_POPULATE_READ", mman_has = "MADV_POPULATE_WRITE"))]
    pub(crate) fn populate(&self, call: &str, offset: usize, len: usize, write: bool) -> io::Result<()> {
        let advice = if write {
            (mmap_sys::MADV_POPULATE_WRITE, "MADV_POPULATE_WRITE")
        } else {
            (mmap_sys::MADV_POPULATE_READ, "MADV_POPULATE_READ")
        };
        // SAFETY: populating reads (or, for a writable map, write-faults without writing) the
        // pages: it changes no byte any reference sees.
        unsafe { self.advise(call, offset, len, advice) }.map_err(|error| {
            if sys::errno(&error) == Some(libc::EFAULT) {
                let why = format!(
                    "{call}: part of the range (offset {offset}, len {len}) is past the end of the file \
                     (truncated under the map?), where a read would raise SIGBUS"
                );
                sys::explain(error, io::ErrorKind::UnexpectedEof, why)
            } else {
                error
            }
        })
    }

    /// Copies the bytes from `offset` into `buf`, checked (`checked_copy`: a fault-fixup copy, or
    /// `process_vm_readv`), so that a page gone from under the map is an error and not `SIGBUS`.
    /// Returns the bytes copied: `buf.len()`, or fewer at the end of the map.
    #[inline]
    pub(crate) fn read_at(&self, call: &str, buf: &mut [u8], offset: usize, via: Via) -> io::Result<usize> {
        // The check fails exactly when `offset > self.len`: tested first, so that the copy's hot
        // path makes no call but the copy.
        if offset > self.len {
            check_range(call, offset, 0, self.len)?;
        }
        let len = buf.len().min(self.len - offset);
        // SAFETY: `offset + len <= self.len`, so the source is within this mapping.
        let copied = unsafe { checked_copy::copy(self.ptr.add(offset), &mut buf[..len], via)? };
        if copied < len {
            return Err(unreadable(call, offset, len, copied));
        }
        Ok(len)
    }

    /// Resizes the mapping to `new_len` bytes with `mremap`, moving it if `may_move`. A grown map
    /// is then probed at its last byte, through the kernel: if the file ends before it, the map is
    /// shrunk back to its old length and the call fails, where a read would raise `SIGBUS`.
    ///
    /// # Safety
    ///
    /// Nothing may use the map's old addresses if it moves, or its cut tail if it shrinks.
    #[cfg(mman_has = "MREMAP_MAYMOVE")]
    pub(crate) unsafe fn remap(&mut self, new_len: usize, may_move: bool) -> io::Result<()> {
        use crate::range::{check_len, invalid};
        const CALL: &str = "remap";
        check_len(CALL, new_len)?;
        if new_len == 0 {
            return Err(invalid(CALL, "new_len 0: a map cannot be resized to nothing (drop it instead)"));
        }
        let Some((start, old_whole)) = self.whole() else {
            return Err(invalid(CALL, "the map is empty: nothing is mapped to resize"));
        };
        let (old_len, prefix) = (self.len, self.prefix());
        let flags = if may_move { mmap_sys::MREMAP_MAYMOVE } else { 0 };
        // SAFETY: the whole mapping, from its page-aligned start; the old addresses are the caller's.
        let base = unsafe { sys::mremap(start, old_whole, new_len + prefix, flags) }.map_err(|error| {
            if sys::errno(&error) == Some(libc::EFAULT) {
                // The range is more than one VMA: a `*_range` call gave part of it other flags.
                let why = format!(
                    "{CALL}: the map is in pieces the kernel keeps apart (part of it has its own advice, \
                     protection or lock, from a *_range call), and mremap resizes only a map in one piece"
                );
                sys::explain(error, io::ErrorKind::Unsupported, why)
            } else if error.kind() == io::ErrorKind::OutOfMemory && !may_move {
                let why = format!(
                    "{CALL}: no room to grow the map in place to {new_len} bytes \
                     (RemapOptions::may_move(true) lets it move)"
                );
                sys::explain(error, io::ErrorKind::OutOfMemory, why)
            } else {
                error
            }
        })?;
        // SAFETY: `prefix < page_size()`, within the mapping.
        self.ptr = unsafe { base.cast::<u8>().add(prefix) };
        self.len = new_len;
        if new_len > old_len {
            let mut last = [0u8];
            // SAFETY: the last byte of the mapping just grown.
            let copied = unsafe { sys::copy_checked(self.ptr.add(new_len - 1), &mut last) };
            if !matches!(copied, Ok(1)) {
                // SAFETY: shrinking in place always succeeds, and the cut pages were never handed out.
                let base = unsafe { sys::mremap(base, new_len + prefix, old_whole, 0)? };
                // SAFETY: as above.
                self.ptr = unsafe { base.cast::<u8>().add(prefix) };
                self.len = old_len;
                return Err(match copied {
                    Err(error) => error,
                    Ok(_) => invalid(
                        CALL,
                        format_args!(
                            "new_len {new_len} reaches past the end of the mapped file (extend the file \
                             first), or the map is not readable; the map keeps its {old_len} bytes"
                        ),
                    ),
                });
            }
        }
        Ok(())
    }

    /// `mprotect` of a range.
    ///
    /// # Safety
    ///
    /// No live reference to the map may rely on an access the new protection takes away.
    pub(crate) unsafe fn protect(
        &self,
        call: &str,
        offset: usize,
        len: usize,
        prot: c_int,
    ) -> io::Result<()> {
        match self.pages(call, offset, len)? {
            // SAFETY: a checked, page-aligned range of this mapping; references are the caller's.
            Some((start, len)) => unsafe { sys::mprotect(start, len, prot) },
            None => Ok(()),
        }
    }

    /// `mprotect` of the whole mapping, hidden prefix included.
    ///
    /// # Safety
    ///
    /// As [`MmapInner::protect`].
    pub(crate) unsafe fn protect_all(&self, prot: c_int) -> io::Result<()> {
        match self.whole() {
            // SAFETY: the whole mapping, from its page-aligned start; references are the caller's.
            Some((start, len)) => unsafe { sys::mprotect(start, len, prot) },
            None => Ok(()),
        }
    }
}

/// How `MmapInner::lock` locks.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Lock {
    /// `mlock`: fault in and lock every page now.
    Now,
    /// `mlock2(MLOCK_ONFAULT)`: lock pages as they are first touched.
    #[cfg(mman_has = "MLOCK_ONFAULT")]
    OnFault,
}

impl Drop for MmapInner {
    #[inline]
    fn drop(&mut self) {
        if let Some((start, len)) = self.whole() {
            // SAFETY: this is the whole mapping `new` made, and its owner is going away. An error
            // here could only come from a bug: there is nothing to do with it in a destructor.
            let _ = unsafe { sys::munmap(start, len) };
        }
    }
}

/// The error of a checked read of `len` bytes from `offset` that copied only `copied`: out of the
/// hot path of `read_at`.
#[cold]
fn unreadable(call: &str, offset: usize, len: usize, copied: usize) -> io::Error {
    let at = offset + copied;
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!(
            "{call}: byte {at} of the map cannot be read (offset {offset}, len {len}): the file ends \
             before it (truncated under the map?) or the page is not readable"
        ),
    )
}
