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
    fn prefix(&self) -> usize {
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
    fn whole(&self) -> Option<(*mut c_void, usize)> {
        (self.len() > 0).then(|| {
            let prefix = self.prefix();
            // SAFETY: the mapping starts `prefix` bytes before `ptr`.
            let start = unsafe { self.ptr.sub(prefix) };
            (start.cast::<c_void>(), self.len() + prefix)
        })
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
    /// the file no longer backs: "a SIGBUS would have been generated") becomes `UnexpectedEof`.
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
    /// `pread`'s rules, with the map's length for the file's. Returns the bytes copied: `buf.len()`,
    /// or fewer at the end of the map or before the first byte that cannot be read, 0 at or past
    /// the end. An error only when nothing was copied: the byte at `offset` cannot be read, or the
    /// offset is past `isize::MAX`.
    #[inline]
    pub(crate) fn read_at(&self, buf: &mut [u8], offset: usize, via: Via) -> io::Result<usize> {
        // The hot path: all of `buf`, where the map has it, copied the fastest way, with `buf`'s
        // own length (a constant where the caller's buffer has one, as a fixed-size record's,
        // which the copy then branches on at compile time), and as few instructions as a slice
        // copy: where every read misses the cache, the processor overlaps the misses of as many
        // reads as its window of instructions holds (see BENCHMARKS.md). Every other case (the
        // end of the map, a page that cannot be read, the kernel's copy) is `read_at_slow`'s, out
        // of line.
        if via == Via::Fastest
            && self.fits(buf.len(), offset)
            // SAFETY: `offset + buf.len() <= self.len()` (`fits`, tested first), so the source is
            // within this mapping.
            && unsafe { checked_copy::copy_all(self.ptr.add(offset), buf) }
        {
            return Ok(buf.len());
        }
        self.read_at_slow(buf, offset, via)
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
    fn read_at_slow(&self, buf: &mut [u8], offset: usize, via: Via) -> io::Result<usize> {
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
    pub(crate) fn read_exact_at(&self, buf: &mut [u8], offset: usize, via: Via) -> io::Result<()> {
        // The hot path of `read_at`, for the same reasons.
        if via == Via::Fastest
            && self.fits(buf.len(), offset)
            // SAFETY: `offset + buf.len() <= self.len()` (`fits`, tested first), so the source is
            // within this mapping.
            && unsafe { checked_copy::copy_all(self.ptr.add(offset), buf) }
        {
            return Ok(());
        }
        self.read_exact_at_slow(buf, offset, via)
    }

    /// `read_exact_at` when its hot path did not copy all of `buf`.
    #[cold]
    #[inline(never)]
    fn read_exact_at_slow(&self, buf: &mut [u8], offset: usize, via: Via) -> io::Result<()> {
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

    /// Resizes the mapping to `new_len` bytes with `mremap`, moving it if `may_move`. A grown map
    /// is then probed at its last byte, through the kernel: if the file ends before it, the map is
    /// shrunk back to its old length and the call fails, where a read would raise `SIGBUS`. A grown
    /// map of a memfd has the holes of its new part faulted in, as `map_sealed` faults in those of
    /// its range (see [`fault_in_grown_holes`]); where they cannot be, it is shrunk back too.
    /// Refused: a map of huge pages (`mremap` cannot grow one and rounds a shrunk one up), and
    /// growing in place where the stack may grow (the stack guard check, after the call: the map
    /// is shrunk back).
    ///
    /// # Safety
    ///
    /// Nothing may use the map's old addresses if it moves, or its cut tail if it shrinks.
    #[cfg(mman_has = "MREMAP_MAYMOVE")]
    pub(crate) unsafe fn remap(&mut self, new_len: usize, may_move: bool) -> io::Result<()> {
        use crate::error::invalid;
        use crate::range::check_len;
        check_len(new_len)?;
        if new_len == 0 {
            return Err(invalid(
                "new_len 0: a map cannot be resized to nothing (drop it instead)",
            ));
        }
        let Some((start, old_whole)) = self.whole() else {
            return Err(invalid("the map is empty: nothing is mapped to resize"));
        };
        if self.is_hugetlb() {
            return Err(error::other(
                io::ErrorKind::Unsupported,
                "the map has huge pages, which mremap cannot grow and rounds up when shrinking; map \
                 anew instead",
            ));
        }
        let (old_len, prefix) = (self.len(), self.prefix());
        if new_len > old_len {
            // The kernel grows a map in place whenever it can (even with MREMAP_MAYMOVE), and
            // without the stack guard gap it keeps for the addresses it picks: the pages in-place
            // growth would take are checked before the call, so that no map ever sits, even for a
            // moment, where a stack may grow. (A range past the end of the address space cannot be
            // taken in place: the kernel moves the map or fails.)
            let (end, grown) = (
                start as usize + old_whole,
                (start as usize).checked_add(new_len + prefix),
            );
            if let Some(grown) = grown {
                let what =
                    format!("growing the map at {start:p} from {old_len} to {new_len} bytes");
                crate::stack_guard::check_stack_guard(&what, end, grown)?;
            }
        }
        let flags = if may_move { c::MREMAP_MAYMOVE } else { 0 };
        // SAFETY: the whole mapping, from its page-aligned start; the old addresses are the
        // caller's.
        let resized = unsafe { sys::mremap(start, old_whole, new_len + prefix, flags) };
        let base = resized.map_err(|error| {
            if raw_os_error(&error) == Some(libc::EFAULT) {
                // The range is more than one VMA: a `*_range` call gave part of it other flags.
                let why = "the map is in pieces the kernel keeps apart (part of it has its own \
                     advice, protection or lock, from a *_range call), and mremap resizes only a \
                     map in one piece";
                error::explain(error, io::ErrorKind::Unsupported, why)
            } else if error.kind() == io::ErrorKind::OutOfMemory && !may_move {
                let why = format!(
                    "no room to grow the map in place to {new_len} bytes \
                     (RemapOptions::may_move(true) lets it move)"
                );
                error::explain(error, io::ErrorKind::OutOfMemory, why)
            } else {
                error
            }
        })?;
        // SAFETY: `prefix < page_size()`, within the mapping.
        self.ptr = unsafe { base.cast::<u8>().add(prefix) };
        self.len = new_len;
        if new_len > old_len {
            // SAFETY: the last byte of the mapping just grown.
            let copied = unsafe { last_byte_backed(self.ptr.add(new_len - 1)) };
            let grown = match copied {
                Ok(1) => fault_in_grown_holes(self, old_len),
                Ok(_) => Err(invalid(format_args!(
                    "new_len {new_len} reaches past the end of the mapped file (extend the file \
                     first), or the map is not readable; the map keeps its {old_len} bytes"
                ))),
                Err(error) => Err(error),
            };
            if let Err(error) = grown {
                // SAFETY: shrinking in place always succeeds, and the cut pages were never handed
                // out.
                let base = unsafe { sys::mremap(base, new_len + prefix, old_whole, 0)? };
                // SAFETY: as above.
                self.ptr = unsafe { base.cast::<u8>().add(prefix) };
                self.len = old_len;
                return Err(error);
            }
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

/// Whether the byte at `ptr` of a map just grown can be read, without reading it: 1 if so, 0 if not
/// (past the end of the file, or not readable). Through the kernel: `process_vm_readv`, or where a
/// seccomp filter denies it (`EPERM`, `ENOSYS`), `MADV_POPULATE_READ` of its page, whose `EFAULT`
/// means a read would raise `SIGBUS`; on a kernel without that (before 5.14), a map that
/// `/proc/self/maps` shows is anonymous (inode 0), which no file end can cut short.
///
/// # Safety
///
/// `ptr` is within a live mapping of this process.
#[cfg(mman_has = "MREMAP_MAYMOVE")]
unsafe fn last_byte_backed(ptr: *const u8) -> io::Result<usize> {
    let mut last = [0u8];
    // SAFETY: the caller's promise.
    let error = match unsafe { checked_copy::copy(ptr, &mut last, Via::Kernel) } {
        Err(error) if matches!(raw_os_error(&error), Some(libc::EPERM | libc::ENOSYS)) => error,
        result => return result,
    };
    #[cfg(mman_has = "MADV_POPULATE_READ")]
    {
        let page = ptr as usize - ptr as usize % sys::page_size();
        // SAFETY: a page of a live mapping (the caller's promise); populating reads it in without
        // changing a byte.
        let populated = unsafe {
            sys::madvise(
                page as *mut c_void,
                sys::page_size(),
                c::MADV_POPULATE_READ,
                "MADV_POPULATE_READ",
            )
        };
        match populated {
            Ok(()) => return Ok(1),
            Err(error) if raw_os_error(&error) == Some(libc::EFAULT) => return Ok(0),
            Err(_) => {}
        }
    }
    if mapped_anonymous(ptr as usize) {
        return Ok(1);
    }
    let why = "the grown map's last byte cannot be checked against the end of the file: \
         process_vm_readv is denied (a seccomp filter?) and MADV_POPULATE_READ (Linux 5.14) is not \
         at hand";
    Err(error::explain(error, io::ErrorKind::Unsupported, why))
}

/// Faults in the pages `map` grew by from `old_len`, if it maps a memfd (or what it maps cannot be
/// told). A memfd allocates a page never written (a hole) at its first read, and where the kernel
/// cannot account for it (strict overcommit at its limit) that read raises `SIGBUS`: `map_sealed`
/// and `map_if_safe` fault in the holes of a sealed memfd's range when mapping, and a range grown
/// into needs the same (the seals forbid punching the pages out again). `MADV_POPULATE_READ`
/// (Linux 5.14; before, or in a build without it, nothing is done), as `map_sealed` does.
#[cfg(mman_has = "MREMAP_MAYMOVE")]
fn fault_in_grown_holes(map: &MmapInner, old_len: usize) -> io::Result<()> {
    #[cfg(mman_populate)]
    if !matches!(
        backing(map.ptr as usize),
        Some(Backing::Anonymous | Backing::Other)
    ) {
        let grown = map.len() - old_len;
        match map.populate(old_len, grown, Populate::Read) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::Unsupported => {}
            Err(error) => {
                let why = format!(
                    "the {grown} bytes the map of a memfd grew by hold pages never written \
                     (holes, which the kernel allocates at the first read) that cannot all be \
                     faulted in (strict overcommit at its limit?), where a read would raise \
                     SIGBUS; the map keeps its {old_len} bytes"
                );
                return Err(error::explain(error, io::ErrorKind::OutOfMemory, why));
            }
        }
    }
    #[cfg(not(mman_populate))]
    let _ = (map, old_len);
    Ok(())
}

/// What backs a mapping, as its line of `/proc/self/maps` says.
#[cfg(mman_has = "MREMAP_MAYMOVE")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backing {
    /// Anonymous memory, private to this process: inode 0 and no file name (an anonymous shared
    /// map shows `/dev/zero`).
    Anonymous,
    /// A memfd: the kernel names it `/memfd:<name> (deleted)`.
    Memfd,
    /// Any other file.
    Other,
}

/// What backs the mapping holding `addr`; `None` when it cannot be told (no `/proc`, or nothing
/// mapped there).
#[cfg(mman_has = "MREMAP_MAYMOVE")]
fn backing(addr: usize) -> Option<Backing> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let (from, to) = fields.next()?.split_once('-')?;
        let range = usize::from_str_radix(from, 16).ok()?..usize::from_str_radix(to, 16).ok()?;
        if !range.contains(&addr) {
            return None;
        }
        let (inode, path) = (fields.nth(3), fields.next());
        Some(match path {
            None if inode == Some("0") => Backing::Anonymous,
            Some(path) if path.starts_with("/memfd:") => Backing::Memfd,
            _ => Backing::Other,
        })
    })
}

/// Whether the mapping holding `addr` is anonymous memory, private to this process. `false` when
/// it cannot be told.
#[cfg(mman_has = "MREMAP_MAYMOVE")]
fn mapped_anonymous(addr: usize) -> bool {
    backing(addr) == Some(Backing::Anonymous)
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
    let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
    let header = format!("{:x}-", start as usize);
    let kib: usize = smaps
        .lines()
        .skip_while(|line| !line.starts_with(&header))
        .skip(1)
        .find_map(|line| line.strip_prefix("KernelPageSize:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    let page = kib.checked_mul(1024)?;
    (page > sys::page_size())
        .then(|| len.checked_next_multiple_of(page))
        .flatten()
}

#[cfg(all(test, mman_has = "MREMAP_MAYMOVE"))]
mod tests {
    use super::{backing, mapped_anonymous, Backing};

    #[test]
    fn mapped_anonymous_tells_anonymous_memory_from_a_file() {
        let anon = crate::MmapOptions::new().len(4096).map_anon().unwrap();
        assert!(mapped_anonymous(anon.as_ptr() as usize + 100));
        let file = tempfile::tempfile().unwrap();
        file.set_len(4096).unwrap();
        let map = crate::MmapOptions::new().map_raw(&file).unwrap();
        assert!(!mapped_anonymous(map.as_ptr() as usize));
        assert_eq!(backing(map.as_ptr() as usize), Some(Backing::Other));
        assert!(!mapped_anonymous(0), "nothing is mapped at 0");
        assert_eq!(backing(0), None);
    }

    #[test]
    #[cfg(mman_memfd)]
    fn backing_tells_a_memfd() {
        let memory = crate::SharedMemory::create("a name with spaces", 4096).unwrap();
        let map = memory.map_raw().unwrap();
        assert_eq!(backing(map.as_ptr() as usize + 100), Some(Backing::Memfd));
    }
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
