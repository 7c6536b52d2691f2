//! The mapping itself, shared by every public map type: where it starts, how long it is, and the
//! calls on a range of it. Two words, so that `size_of::<Mmap>() == 16`.

use std::ffi::{c_int, c_void};
use std::io;

use crate::checked_copy::{self, Via};
use crate::error::{self, raw_os_error};
use crate::range::{check_range, check_read_offset};
use crate::sys;
use mmap_sys as c;

/// A live mapping of `len` bytes at `ptr`, or an empty one (`len == 0`, `ptr` the page size,
/// nothing mapped). `ptr` may sit past the start of the pages mapped: by `ptr % page_size()` bytes
/// when the file offset was not page-aligned. That prefix is mapped but hidden, and is unmapped
/// with the rest.
///
/// The top bit of `len`, never part of a length (lengths fit `isize`), is [`HUGETLB`]: set for a
/// map of huge pages, whose length the kernel rounds in its own way. Read the length with `len()`.
pub(crate) struct MmapInner {
    ptr: *mut u8,
    len: usize,
}

/// The bit of `MmapInner::len` that marks a map of huge pages (`MAP_HUGETLB`, or a hugetlbfs file).
const HUGETLB: usize = !(usize::MAX >> 1);

// SAFETY: the inner owns its mapping, which any thread may use or unmap; the public types add the
// borrow rules that make shared access sound.
unsafe impl Send for MmapInner {}
// SAFETY: as above: `&MmapInner` allows only reads of the mapping's address and length, and calls
// (msync, madvise, mlock) that the kernel serialises.
unsafe impl Sync for MmapInner {}

impl MmapInner {
    /// An empty map: no system call, nothing to unmap. Its address is the page size's: aligned as
    /// a page is, as memmap2's empty maps are (code that casts the bytes to wider types relies on
    /// it), not null, and with no memory behind it (none is read from an empty slice).
    pub(crate) fn empty() -> Self {
        MmapInner {
            ptr: std::ptr::null_mut::<u8>().wrapping_add(sys::page_size()),
            len: 0,
        }
    }

    /// Maps `len` bytes of `fd` from `offset` (any offset: the mapping starts at the page below
    /// it), or anonymous memory when `fd` is -1. Checks
    /// are done by the caller: `len` is not 0 and fits `isize`, `offset + len` fits `off_t`, and
    /// for huge pages the offset is a multiple of their size and `len` a whole number of them.
    /// `hint` is the address asked for (0: any); with `MAP_FIXED_NOREPLACE` in `flags` the kernel
    /// places the map there or fails.
    #[inline(always)]
    pub(crate) fn new(
        hint: usize,
        len: usize,
        prot: c_int,
        flags: c_int,
        fd: c_int,
        offset: u64,
    ) -> io::Result<Self> {
        debug_assert!(len > 0);
        debug_assert_eq!(flags & c::MAP_FIXED, 0);
        let prefix = (offset % sys::page_size() as u64) as usize;
        let (hint, page_offset) = (hint as *mut c_void, offset - prefix as u64);
        // SAFETY: no MAP_FIXED (callers refuse it): the kernel takes `hint` as a hint, or with
        // MAP_FIXED_NOREPLACE fails rather than replace a mapping, so nothing existing is touched.
        let base = unsafe { sys::mmap(hint, len + prefix, prot, flags, fd, page_offset)? };
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
        self.len & !HUGETLB
    }

    /// Marks the map as one of huge pages, made with a length that is a whole number of them.
    #[cfg(mman_huge)]
    pub(crate) fn hugetlb(mut self) -> Self {
        self.len |= HUGETLB;
        self
    }

    /// Faults in every huge page of a map just made (or just made writable: a private map's first
    /// write to a page copies it into a new one), so that a page the kernel cannot give (over a
    /// hugetlb cgroup's fault limit, which is charged at the first touch and not when mapping) is
    /// an error now instead of a `SIGBUS` at that touch: `MADV_POPULATE_WRITE` for a writable map,
    /// `MADV_POPULATE_READ` otherwise (Linux 5.14; on an older kernel nothing is done).
    #[cfg(mman_huge)]
    pub(crate) fn prefault_huge_pages(self, populate: Populate) -> io::Result<Self> {
        #[cfg(mman_populate)]
        if let Some((start, len)) = self.whole() {
            let advice = populate.advice();
            // SAFETY: the whole of this new mapping; populating changes no byte anyone reads.
            match unsafe { sys::madvise(start, len, advice.0, advice.1) } {
                Ok(()) => {}
                Err(error) if error.kind() == io::ErrorKind::Unsupported => {}
                Err(error) => {
                    let why = "the huge pages of the map cannot all be faulted in (over a \
                         hugetlb cgroup limit, or past the end of the file), where a touch would \
                         raise SIGBUS; the map is undone";
                    return Err(error::explain(error, io::ErrorKind::OutOfMemory, why));
                }
            }
        }
        #[cfg(not(mman_populate))]
        let _ = populate;
        Ok(self)
    }

    /// Whether the map is one of huge pages.
    #[cfg_attr(not(any(mman_huge, mman_has = "MREMAP_MAYMOVE")), allow(dead_code))]
    #[inline]
    pub(crate) fn is_hugetlb(&self) -> bool {
        self.len & HUGETLB != 0
    }

    /// The bytes before `ptr` that were mapped with it.
    #[inline]
    pub(crate) fn prefix(&self) -> usize {
        self.ptr as usize % sys::page_size()
    }

    /// Checks `offset..offset + len` against the map, then widens it to whole pages: the
    /// page-aligned start and length that `msync`, `madvise`, `mprotect` and `mlock` take. `None`
    /// for an empty range, which needs no call.
    pub(crate) fn pages(
        &self,
        offset: usize,
        len: usize,
    ) -> io::Result<Option<(*mut c_void, usize)>> {
        check_range(offset, len, self.len())?;
        if len == 0 {
            return Ok(None);
        }
        let start = self.ptr as usize + offset;
        let slack = start % sys::page_size();
        Ok(Some(((start - slack) as *mut c_void, len + slack)))
    }

    /// The whole mapping, hidden prefix included. `None` for an empty map.
    #[inline]
    pub(crate) fn whole(&self) -> Option<(*mut c_void, usize)> {
        (self.len() > 0).then(|| {
            let prefix = self.prefix();
            // SAFETY: the mapping starts `prefix` bytes before `ptr`.
            let start = unsafe { self.ptr.sub(prefix) };
            (start.cast::<c_void>(), self.len() + prefix)
        })
    }

    /// Records the mapping as `mremap` left it: it starts at `base` (the hidden prefix, as before,
    /// then `len` bytes).
    ///
    /// # Safety
    ///
    /// `mremap` resized (or moved) this mapping, of base pages, to `base..base + prefix + len`.
    #[cfg(mman_has = "MREMAP_MAYMOVE")]
    pub(crate) unsafe fn resized(&mut self, base: *mut c_void, len: usize) {
        let prefix = self.prefix();
        // SAFETY: `prefix < page_size() <= prefix + len`, within the mapping (the caller's
        // promise).
        self.ptr = unsafe { base.cast::<u8>().add(prefix) };
        self.len = len;
    }

    /// `msync` of a range, as `how` says.
    pub(crate) fn flush(&self, offset: usize, len: usize, how: Flush) -> io::Result<()> {
        match self.pages(offset, len)? {
            // SAFETY: `pages` checked the range is within this mapping and page-aligned it.
            Some((start, len)) => unsafe { sys::msync(start, len, how.flags()) },
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
        offset: usize,
        len: usize,
        advice: (c_int, &str),
    ) -> io::Result<()> {
        match self.pages(offset, len)? {
            // SAFETY: a checked, page-aligned range of this mapping; the advice is the caller's.
            Some((start, len)) => unsafe { sys::madvise(start, len, advice.0, advice.1) },
            None => Ok(()),
        }
    }

    /// Which pages of a range are in RAM: `mincore`, one `bool` per page the range touches.
    pub(crate) fn residency(&self, offset: usize, len: usize) -> io::Result<Vec<bool>> {
        let Some((start, len)) = self.pages(offset, len)? else {
            return Ok(Vec::new());
        };
        // SAFETY: a checked, page-aligned range of this mapping.
        let pages = unsafe { sys::mincore(start, len)? };
        Ok(pages.iter().map(|&b| b & 1 == 1).collect())
    }

    /// `mlock` (or `mlock2` with `MLOCK_ONFAULT`) or `munlock` of a range, as `locking` says.
    pub(crate) fn set_locking(
        &self,
        offset: usize,
        len: usize,
        locking: Locking,
    ) -> io::Result<()> {
        let Some((start, len)) = self.pages(offset, len)? else {
            return Ok(());
        };
        // SAFETY: a checked range of this mapping; locking never changes its contents.
        unsafe {
            match locking {
                Locking::Locked => sys::mlock(start, len),
                #[cfg(mman_has = "MLOCK_ONFAULT")]
                Locking::LockedOnFault => sys::mlock_on_fault(start, len),
                Locking::Unlocked => sys::munlock(start, len),
            }
        }
    }

    /// Prefaults a range: `madvise` with `MADV_POPULATE_READ` (or `_WRITE`), whose `EFAULT` (a page
    /// past the end of the file: "a SIGBUS would have been generated") becomes `UnexpectedEof`.
    #[cfg(mman_populate)]
    pub(crate) fn populate(&self, offset: usize, len: usize, populate: Populate) -> io::Result<()> {
        let advice = populate.advice();
        // SAFETY: populating reads (or, for a writable map, write-faults without writing) the
        // pages: it changes no byte any reference sees.
        unsafe { self.advise(offset, len, advice) }.map_err(|error| {
            if raw_os_error(&error) == Some(libc::EFAULT) {
                let why = format!(
                    "part of the range (offset {offset}, len {len}) is past the end of the \
                     file (truncated under the map?), where a read would raise SIGBUS"
                );
                error::explain(error, io::ErrorKind::UnexpectedEof, why)
            } else {
                error
            }
        })
    }

    /// Copies the bytes from `offset` into `buf`, checked (`checked_copy`: a fault-fixup copy, or
    /// `process_vm_readv`), so that a page gone from under the map is an error and not `SIGBUS`:
    /// `pread`'s rules, with the map's length for the file's. Returns the bytes copied:
    /// `buf.len()`, or fewer at the end of the map or before the first byte that cannot be read, 0
    /// at or past the end. An error only when nothing was copied: the byte at `offset` cannot be
    /// read, or the offset is past `isize::MAX`. Its errors name `call`, the public method (named
    /// out of line, with the error, as `error::in_call` would).
    #[inline]
    pub(crate) fn read_at(
        &self,
        buf: &mut [u8],
        offset: usize,
        via: Via,
        call: &'static str,
    ) -> io::Result<usize> {
        // The hot path: all of `buf`, where the map has it, copied the fastest way, with `buf`'s
        // own length (a constant where the caller's buffer has one, as a fixed-size record's,
        // which the copy then branches on at compile time), and as few instructions as a slice
        // copy: where every read misses the cache, the processor overlaps the misses of as many
        // reads as its window of instructions holds (see BENCHMARKS.md). Every other case (the
        // end of the map, a page that cannot be read, the kernel's copy) is `read_at_slow`'s, out
        // of line.
        let (copied, error) = if self.hot_path(buf, offset, via) {
            (buf.len(), None)
        } else {
            self.read_at_slow(buf, offset, via, call)
        };
        // Rebuilt from two scalars, so that the compiler sees the hot path's `Ok(buf.len())` in
        // the caller (its `?` or `unwrap` then costs nothing there): merged as one `Result`, the
        // two paths' values hide it.
        match error {
            None => Ok(copied),
            Some(error) => Err(error),
        }
    }

    /// The hot path of `read_at` and `read_exact_at`: copies all of `buf` from `offset` the fastest
    /// way, if the map has all of it there and no page faults, and returns whether it did. When
    /// not, `buf` may hold some of the bytes (a fault ended the copy), which the cold path copies
    /// again.
    #[inline(always)]
    fn hot_path(&self, buf: &mut [u8], offset: usize, via: Via) -> bool {
        via == Via::Fastest
            && self.fits(buf.len(), offset)
            // SAFETY: `offset + buf.len() <= self.len()` (`fits`, tested first), so the source is
            // within this mapping.
            && unsafe { checked_copy::copy_all(self.ptr.add(offset), buf) }
    }

    /// Whether `len` bytes from `offset` are within the map: `offset` compared with the last
    /// offset where they fit, which a loop of reads of one length computes once.
    #[inline(always)]
    fn fits(&self, len: usize, offset: usize) -> bool {
        self.len()
            .checked_sub(len)
            .is_some_and(|last| offset <= last)
    }

    /// `read_at` when its hot path did not copy all of `buf`.
    #[cold]
    #[inline(never)]
    fn read_at_slow(
        &self,
        buf: &mut [u8],
        offset: usize,
        via: Via,
        call: &'static str,
    ) -> (usize, Option<io::Error>) {
        match error::in_call(call, || self.read_at_rest(buf, offset, via)) {
            Ok(copied) => (copied, None),
            Err(error) => (0, Some(error)),
        }
    }

    /// The body of `read_at_slow`.
    #[inline(always)]
    fn read_at_rest(&self, buf: &mut [u8], offset: usize, via: Via) -> io::Result<usize> {
        if offset >= self.len() {
            return check_read_offset(offset).map(|()| 0);
        }
        let len = buf.len().min(self.len() - offset);
        // SAFETY: `offset + len <= self.len()`, so the source is within this mapping.
        let copied = unsafe { checked_copy::copy(self.ptr.add(offset), &mut buf[..len], via)? };
        if copied == 0 && len > 0 {
            return Err(unreadable(offset, len, offset));
        }
        Ok(copied)
    }

    /// Fills `buf` with the bytes from `offset`, checked as `read_at`, or fails with
    /// `UnexpectedEof` where `read_at` would come back short: the range ends past the end of the
    /// map (checked before the copy), or a byte of it cannot be read. `buf`'s contents are then
    /// unspecified, as with `FileExt::read_exact_at`.
    #[inline]
    pub(crate) fn read_exact_at(
        &self,
        buf: &mut [u8],
        offset: usize,
        via: Via,
        call: &'static str,
    ) -> io::Result<()> {
        // The hot path of `read_at`, for the same reasons.
        if self.hot_path(buf, offset, via) {
            return Ok(());
        }
        self.read_exact_at_slow(buf, offset, via, call)
    }

    /// `read_exact_at` when its hot path did not copy all of `buf`.
    #[cold]
    #[inline(never)]
    fn read_exact_at_slow(
        &self,
        buf: &mut [u8],
        offset: usize,
        via: Via,
        call: &'static str,
    ) -> io::Result<()> {
        error::in_call(call, || self.read_exact_at_rest(buf, offset, via))
    }

    /// The body of `read_exact_at_slow`.
    #[inline(always)]
    fn read_exact_at_rest(&self, buf: &mut [u8], offset: usize, via: Via) -> io::Result<()> {
        check_read_offset(offset)?;
        if buf.is_empty() {
            return Ok(());
        }
        // No overflow: both are at most `isize::MAX`.
        let end = offset + buf.len();
        if end > self.len() {
            return Err(past_the_end(offset, end, self.len()));
        }
        // SAFETY: `offset + buf.len() <= self.len()`, so the source is within this mapping.
        let copied = unsafe { checked_copy::copy(self.ptr.add(offset), buf, via)? };
        if copied < buf.len() {
            return Err(unreadable(offset, buf.len(), offset + copied));
        }
        Ok(())
    }

    /// `mprotect` of a range.
    ///
    /// # Safety
    ///
    /// No live reference to the map may rely on an access the new protection takes away.
    pub(crate) unsafe fn protect(&self, offset: usize, len: usize, prot: c_int) -> io::Result<()> {
        match self.pages(offset, len)? {
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

/// How [`MmapInner::flush`] calls `msync`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Flush {
    /// `MS_SYNC`: write the changes, and wait until they are written.
    Sync,
    /// `MS_ASYNC`: start writing the changes, and return.
    Async,
    /// `MS_SYNC | MS_INVALIDATE`: as `Sync`, and drop other maps' cached copies of the pages.
    SyncInvalidate,
}

impl Flush {
    fn flags(self) -> c_int {
        match self {
            Flush::Sync => c::MS_SYNC,
            Flush::Async => c::MS_ASYNC,
            Flush::SyncInvalidate => c::MS_SYNC | c::MS_INVALIDATE,
        }
    }
}

/// How [`MmapInner::set_locking`] leaves a range.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Locking {
    /// `mlock`: fault in and lock every page now.
    Locked,
    /// `mlock2(MLOCK_ONFAULT)`: lock pages as they are first touched.
    #[cfg(mman_has = "MLOCK_ONFAULT")]
    LockedOnFault,
    /// `munlock`.
    Unlocked,
}

/// What [`MmapInner::populate`] faults pages in for.
#[cfg(any(mman_huge, mman_populate))]
#[derive(Debug, Clone, Copy)]
pub(crate) enum Populate {
    /// `MADV_POPULATE_READ`: reading.
    Read,
    /// `MADV_POPULATE_WRITE`: writing (the pages are made writable and marked dirty).
    Write,
}

#[cfg(mman_populate)]
impl Populate {
    /// The advice, and its C name.
    fn advice(self) -> (c_int, &'static str) {
        match self {
            Populate::Read => (c::MADV_POPULATE_READ, "MADV_POPULATE_READ"),
            Populate::Write => (c::MADV_POPULATE_WRITE, "MADV_POPULATE_WRITE"),
        }
    }
}

impl Drop for MmapInner {
    #[inline]
    fn drop(&mut self) {
        if let Some((start, len)) = self.whole() {
            // SAFETY: this is the whole mapping `new` made, and its owner is going away.
            let mut result = unsafe { sys::munmap(start, len) };
            if result
                .as_ref()
                .is_err_and(|error| raw_os_error(error) == Some(libc::EINVAL))
            {
                if let Some(whole) = huge_page_extent(start, len) {
                    // SAFETY: as above: the kernel mapped `whole` bytes here for this map.
                    result = unsafe { sys::munmap(start, whole) };
                }
            }
            // The length is the one the kernel mapped (rounded to huge pages where it rounds, and
            // found again above if a descriptor number named another file by the time of the map),
            // so `EINVAL` here is a bug of this crate, and the map would stay: tests must see it.
            // (`ENOMEM`, splitting a mapping past `vm.max_map_count`, is the system's limit.)
            debug_assert!(
                result
                    .as_ref()
                    .map_or_else(|error| raw_os_error(error) != Some(libc::EINVAL), |()| true),
                "munmap of a map this crate made failed: {result:?}"
            );
        }
    }
}

/// The length the kernel mapped at `start` for a map recorded as `len` bytes, where its pages are
/// huge (`KernelPageSize` in `/proc/self/smaps`): `len` rounded up to them. Only for a map whose
/// `munmap` failed with `EINVAL`: a `map_raw` of a descriptor number that another thread closed and
/// reused for a file of huge pages between the checks and the map.
#[cold]
fn huge_page_extent(start: *mut c_void, len: usize) -> Option<usize> {
    let kib = crate::proc_maps::with_smaps_field(start as usize, "KernelPageSize", |value| {
        value?.strip_suffix("kB")?.trim().parse::<usize>().ok()
    });
    let page = kib.ok().flatten().flatten()?.checked_mul(1024)?;
    (page > sys::page_size())
        .then(|| len.checked_next_multiple_of(page))
        .flatten()
}

/// The error of a checked read of `len` bytes from `offset` that stopped at byte `at` of the map,
/// which cannot be read: out of the hot path of `read_at`.
#[cold]
fn unreadable(offset: usize, len: usize, at: usize) -> io::Error {
    error::other(
        io::ErrorKind::UnexpectedEof,
        format_args!(
            "byte {at} of the map cannot be read (reading {len} bytes from offset {offset}): the \
             file ends before it (truncated under the map?), its page is not readable, or reading \
             the page in failed"
        ),
    )
}

/// The error of `read_exact_at` for a range that ends past the end of the map.
#[cold]
fn past_the_end(offset: usize, end: usize, map_len: usize) -> io::Error {
    error::other(
        io::ErrorKind::UnexpectedEof,
        format_args!(
            "bytes {offset}..{end} reach past the end of the map ({map_len} bytes): the buffer \
             cannot be filled"
        ),
    )
}
