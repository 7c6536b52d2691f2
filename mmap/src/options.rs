//! `MmapOptions`: what to map and how, and the checks and the `mmap` call of a new map. The
//! constructors that wrap the mapping in a map type (`map`, `map_mut`, `map_raw`...) are with the
//! map types, in `map.rs`.

use std::ffi::c_int;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use crate::desc::{borrow, pin, MmapAsRawDesc};
use crate::error::{explain, invalid, raw_os_error};
use crate::flags::{MapFlags, Protection};
#[cfg(mman_huge)]
use crate::huge::sizes::HugePageSize;
use crate::huge::Huge;
use crate::if_safe::MapIfSafeError;
use crate::inner::MmapInner;
#[cfg(mman_huge)]
use crate::inner::Populate;
use crate::range::{check_file_range, check_len, check_within_file};
use crate::sys::{self, FileKind};
use mmap_sys as c;

/// What to map and how: a builder for every kind of map, as in memmap2.
///
/// By default a map covers the whole file from offset 0, shared, with the base page size.
///
/// ```
/// use std::io::Write;
/// use mman::MmapOptions;
///
/// # fn main() -> std::io::Result<()> {
/// let mut file = tempfile::tempfile()?;
/// file.write_all(b"header:payload")?;
///
/// // SAFETY: the temporary file is this process's alone, and nothing truncates it.
/// let payload = unsafe { MmapOptions::new().offset(7).map(&file)? };
/// assert_eq!(&payload[..], b"payload");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct MmapOptions {
    offset: u64,
    len: Option<usize>,
    flags: MapFlags,
    /// Raw `MAP_` bits from [`MmapOptions::flags_unchecked`], which the caller vouched for.
    raw_flags: c_int,
    huge: Huge,
    placement: Placement,
    // Read only where the host has MAP_SYNC.
    #[cfg_attr(not(mman_sync), allow(dead_code))]
    dax_sync: bool,
}

/// Where a new map goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Placement {
    /// Wherever the kernel picks.
    #[default]
    Anywhere,
    /// Near this address if the kernel can: a hint.
    Near(usize),
    /// At exactly this address, or fail: `MAP_FIXED_NOREPLACE`.
    #[cfg(mman_has = "MAP_FIXED_NOREPLACE")]
    At(usize),
}

/// The `MAP_` sharing type of a map.
#[derive(Clone, Copy)]
pub(crate) enum Sharing {
    /// `MAP_SHARED`: writes reach the file and every other map of it.
    Shared,
    /// `MAP_PRIVATE`: copy-on-write, writes stay in this map.
    Private,
}

impl MmapOptions {
    /// Options for a map of the whole file, from offset 0.
    pub fn new() -> MmapOptions {
        MmapOptions::default()
    }

    /// Maps the file from `offset` bytes on. Any offset works: the map starts at the page below it
    /// and the bytes before `offset` are hidden. (With huge pages the offset must be a multiple of
    /// the huge page size.)
    pub fn offset(&mut self, offset: u64) -> &mut Self {
        self.offset = offset;
        self
    }

    /// Maps `len` bytes. Without it a file map covers the file from the offset to its end, and an
    /// anonymous map needs the length given to `map_anon`.
    ///
    /// A length may reach past the end of the file (to map a file about to grow); reading those
    /// bytes before the file covers them raises `SIGBUS`.
    pub fn len(&mut self, len: usize) -> &mut Self {
        self.len = Some(len);
        self
    }

    /// Prefaults the page tables when mapping ([`MAP_POPULATE`](mmap_sys::MAP_POPULATE)): the first
    /// touch of each page then costs no fault.
    ///
    /// Availability: Linux and Android, where the target's headers define `MAP_POPULATE` (Linux's
    /// from 2.5.46).
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    #[cfg(mman_has = "MAP_POPULATE")]
    #[doc(alias = "MAP_POPULATE")]
    #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
    pub fn populate(&mut self) -> &mut Self {
        self.flags |= MapFlags::POPULATE;
        self
    }

    /// Marks the map as a thread stack ([`MAP_STACK`](mmap_sys::MAP_STACK)).
    ///
    /// Availability: where the target's headers define `MAP_STACK`: Linux (from 2.6.27), Android
    /// and the BSDs; not macOS.
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    #[cfg(mman_has = "MAP_STACK")]
    #[doc(alias = "MAP_STACK")]
    pub fn stack(&mut self) -> &mut Self {
        self.flags |= MapFlags::STACK;
        self
    }

    /// Reserves no swap space for the map ([`MAP_NORESERVE`](mmap_sys::MAP_NORESERVE)): when memory
    /// runs out, the kernel's out-of-memory killer then ends a process instead of the map failing.
    ///
    /// Refused (`InvalidInput`) for a map of huge pages: there it means reserving no huge pages,
    /// and the first touch of a page no free huge page can back raises `SIGBUS`.
    ///
    /// Availability: where the target's headers define `MAP_NORESERVE`: Linux, Android, macOS,
    /// NetBSD and OpenBSD; not FreeBSD.
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    #[cfg(mman_has = "MAP_NORESERVE")]
    #[doc(alias = "MAP_NORESERVE")]
    pub fn no_reserve_swap(&mut self) -> &mut Self {
        self.flags |= MapFlags::NO_RESERVE;
        self
    }

    /// Backs the map with huge pages ([`MAP_HUGETLB`](mmap_sys::MAP_HUGETLB)), of the system's
    /// default size (`None`) or of `2^page_bits` bytes (`Some(21)`: 2 MiB), encoded with
    /// [`MAP_HUGE_SHIFT`](mmap_sys::MAP_HUGE_SHIFT) as in memmap2.
    ///
    /// The length is rounded up to a whole number of huge pages, and the map's `len()` is that
    /// rounded length: unmapping, protecting and advising then use a length the kernel accepts
    /// (memmap2 unmaps with the unrounded length, which fails, and leaks the map).
    ///
    /// The kernel needs huge pages reserved (`/proc/sys/vm/nr_hugepages`); without them the map
    /// fails with `ENOMEM`, reported as an error. The pages are reserved when mapping, so no touch
    /// of the map can then fail for lack of a huge page; that is why
    /// [`no_reserve_swap`](MmapOptions::no_reserve_swap) is refused with huge pages. And they are
    /// faulted in when mapping (`MADV_POPULATE_WRITE`, or `_READ` for a read-only map; Linux 5.14):
    /// a hugetlb cgroup's limit, which the kernel charges at the first touch, then fails the map
    /// with `OutOfMemory` instead of raising `SIGBUS` at that touch. (Resizing a map of huge pages
    /// with `remap` is refused: `mremap` cannot grow one, and rounds a shrunk one.)
    ///
    /// For a file map the file decides: a file on hugetlbfs (or a memfd made with `MFD_HUGETLB`) is
    /// always mapped in its own huge pages, and the length rounded up to them, with or without this
    /// option; asking for huge pages of another file, or of another size, is refused.
    ///
    /// Availability: Linux and Android, where the target's headers define `MAP_HUGETLB`,
    /// `MAP_HUGE_SHIFT` and `MAP_HUGE_MASK` (Linux's from 3.8).
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    #[cfg(mman_huge)]
    #[doc(alias = "MAP_HUGETLB")]
    #[doc(alias = "MAP_HUGE_SHIFT")]
    #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
    pub fn huge(&mut self, page_bits: Option<u8>) -> &mut Self {
        self.huge = match page_bits {
            None => Huge::DefaultSize,
            Some(bits) => Huge::Bits(bits),
        };
        self
    }

    /// Backs the map with huge pages of `size`: [`MmapOptions::huge`] with a typed size.
    ///
    /// ```
    /// use mman::{HugePageSize, MmapOptions};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let offered = HugePageSize::available()?;
    /// match offered.iter().find(|pool| pool.size == HugePageSize::HUGE_2MB && pool.free > 0) {
    ///     Some(_) => {
    ///         let map = MmapOptions::new()
    ///             .len(4096)
    ///             .huge_page_size(HugePageSize::HUGE_2MB)
    ///             .map_anon()?;
    ///         assert_eq!(map.len(), 2 << 20); // rounded up to one huge page
    ///     }
    ///     None => println!("no free 2 MiB huge pages here: nr_hugepages is 0"),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// Availability: as `huge`.
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    #[cfg(mman_huge)]
    #[doc(alias = "MAP_HUGETLB")]
    #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
    pub fn huge_page_size(&mut self, size: HugePageSize) -> &mut Self {
        self.huge = Huge::Bits(size.log2());
        self
    }

    /// Asks for the map to start near `addr` (the first argument of `mmap(2)`, without
    /// `MAP_FIXED`): a hint, which the kernel follows if that range is free and may ignore.
    ///
    /// A hint where the main thread's stack may grow (below it by `RLIMIT_STACK` and the kernel's
    /// stack guard gap) or right below any other grows-down mapping is refused with `InvalidInput`
    /// naming the stack: the kernel honours such a hint, and the stack's frames would then land in
    /// the map. The check reads `/proc/self/maps`; where it cannot be read, a hint is refused with
    /// `Unsupported`.
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    pub fn address_hint(&mut self, addr: usize) -> &mut Self {
        self.placement = Placement::Near(addr);
        self
    }

    /// Places the map at exactly `addr`, or fails with
    /// [`ErrorKind::AlreadyExists`](io::ErrorKind::AlreadyExists) if anything is mapped there:
    /// [`MAP_FIXED_NOREPLACE`](c::MAP_FIXED_NOREPLACE) (Linux 4.17). Plain `MAP_FIXED`,
    /// which silently replaces what is there, is never used. With an unaligned offset, `addr` is
    /// where the page holding the offset goes.
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use mman::MmapOptions;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let taken = MmapOptions::new().len(4096).map_anon()?;
    /// let error = MmapOptions::new()
    ///     .len(4096)
    ///     .fixed_no_replace(taken.as_ptr() as usize)
    ///     .map_anon()
    ///     .unwrap_err();
    /// assert_eq!(error.kind(), ErrorKind::AlreadyExists);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// As with [`address_hint`](MmapOptions::address_hint), an address where a stack may grow is
    /// refused with `InvalidInput` naming the stack.
    ///
    /// Availability: Linux and Android, where the target's headers define `MAP_FIXED_NOREPLACE`
    /// (Linux's from 4.17).
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    #[cfg(mman_has = "MAP_FIXED_NOREPLACE")]
    #[doc(alias = "MAP_FIXED_NOREPLACE")]
    #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
    pub fn fixed_no_replace(&mut self, addr: usize) -> &mut Self {
        self.placement = Placement::At(addr);
        self
    }

    /// Does nothing: memmap2's option to skip probing the handle's access on Windows, where it
    /// makes read-only maps of writable handles strictly read-only. On Unix (and here) the
    /// protection is always exactly what the constructor asks for, as memmap2 does there; kept so
    /// that memmap2 code compiles unchanged.
    pub fn no_probe_handle(&mut self) -> &mut Self {
        self
    }

    /// Makes writes through the map durable without `msync`, on a file of a DAX file system
    /// (persistent memory mounted with `-o dax`): [`MAP_SYNC`](mmap_sys::MAP_SYNC) with the sharing
    /// type [`MAP_SHARED_VALIDATE`](mmap_sys::MAP_SHARED_VALIDATE) (Linux 4.15), which makes the
    /// kernel refuse the map rather than ignore the flag. The file's metadata is then kept in sync
    /// by the kernel, and data written is on the medium once the CPU caches are flushed.
    ///
    /// For shared maps of a file (`map`, `map_mut`, `map_raw`...); a private or anonymous map is
    /// refused with `InvalidInput` before the call.
    ///
    /// ```
    /// use std::io::ErrorKind;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let file = tempfile::tempfile()?;
    /// file.set_len(4096)?;
    /// match mman::MmapOptions::new().dax_sync().map_raw(&file) {
    ///     Ok(map) => println!("{} bytes on persistent memory", map.len()),
    ///     Err(error) if error.kind() == ErrorKind::Unsupported => println!("not on DAX: {error}"),
    ///     Err(error) => return Err(error),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// Availability: Linux and Android, where the target's headers define `MAP_SYNC` and
    /// `MAP_SHARED_VALIDATE` (Linux's from 4.15).
    ///
    /// # Errors
    ///
    /// The map fails with `Unsupported` (`EOPNOTSUPP`) for a file not on a DAX file system.
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    #[cfg(mman_sync)]
    #[doc(alias = "MAP_SYNC")]
    #[doc(alias = "MAP_SHARED_VALIDATE")]
    #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
    pub fn dax_sync(&mut self) -> &mut Self {
        self.dax_sync = true;
        self
    }

    /// Adds `flags` to the `mmap` flags: only the flags [`MapFlags`] names, each sound with every
    /// other option (`MAP_HUGETLB` is rounded as [`huge(None)`](MmapOptions::huge) is, and
    /// `MAP_NORESERVE` with huge pages is refused, as for
    /// [`no_reserve_swap`](MmapOptions::no_reserve_swap)). Other bits (raw bits made with
    /// [`MapFlags::from_bits_retain`]) make the map fail with `InvalidInput`: they go through the
    /// unsafe [`MmapOptions::flags_unchecked`].
    pub fn flags(&mut self, flags: MapFlags) -> &mut Self {
        self.flags |= flags;
        self
    }

    /// Adds raw `MAP_` bits to the `mmap` flags, unchecked: for flags [`MapFlags`] does not name
    /// (e.g. `MAP_LOCKED`, `MAP_GROWSDOWN`, `MAP_UNINITIALIZED`). `MAP_FIXED` and the sharing type
    /// (`MAP_SHARED`, `MAP_PRIVATE`) are still refused; the length of a `MAP_HUGETLB` map is still
    /// rounded to its huge pages (the size in the bits' `MAP_HUGE_*` field, or the default size).
    ///
    // The example needs `MAP_LOCKED`, which reduced headers (musl's, the tests' fixture) lack.
    #[cfg_attr(mman_has = "MAP_LOCKED", doc = "```")]
    #[cfg_attr(not(mman_has = "MAP_LOCKED"), doc = "```ignore")]
    /// use mman::{MapFlags, MmapOptions};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let mut options = MmapOptions::new();
    /// // SAFETY: MAP_LOCKED only locks the map's pages in RAM; it changes nothing safe code sees.
    /// unsafe { options.flags_unchecked(MapFlags::from_bits_retain(mmap_sys::MAP_LOCKED)) };
    /// let locked = options.len(8192).map_anon()?;
    /// assert_eq!(locked.resident_pages()?, 2);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Safety
    ///
    /// The caller promises that the bits break none of the safe API's guarantees for any map made
    /// with these options or their clones (see "What the safe API guarantees" in the crate's
    /// documentation): a map
    /// that changes what a sealed file's map reads (`MAP_ANONYMOUS` with
    /// [`map_sealed`](MmapOptions::map_sealed)), that grows down into other memory
    /// (`MAP_GROWSDOWN`), that can raise `SIGBUS` on a touch (`MAP_NORESERVE` with huge pages), or
    /// that leaves memory uninitialised (`MAP_UNINITIALIZED`) is the caller's to make safe.
    pub unsafe fn flags_unchecked(&mut self, flags: MapFlags) -> &mut Self {
        self.raw_flags |= flags.bits();
        self
    }

    /// The body of every constructor of a shared or private map of `file` (`map`, `map_mut`,
    /// `map_raw`...), in `map.rs`: every check, then the map.
    pub(crate) fn map_body(
        &self,
        file: &impl MmapAsRawDesc,
        prot: Protection,
        sharing: Sharing,
    ) -> io::Result<MmapInner> {
        let fd = borrow(file)?;
        self.map_file(fd, prot, sharing)
    }

    /// `map_sealed`'s body: the seals and the range are checked on a
    /// descriptor of the call's own, which is then mapped.
    #[cfg(mman_memfd)]
    pub(crate) fn map_sealed_body(&self, file: &impl MmapAsRawDesc) -> io::Result<MmapInner> {
        let pinned = pin(file)?;
        let fd = pinned.as_fd();
        crate::seals::check_sealed(fd)?;
        if let Some(len) = self.len {
            let size = sys::file_info(fd)?.len;
            // The kernel maps a file of huge pages in whole huge pages: those must be within it.
            let len = match sys::hugetlb_page_size_of_file(fd)? {
                Some(huge) => (len as u64)
                    .checked_next_multiple_of(huge)
                    .unwrap_or(u64::MAX),
                None => len as u64,
            };
            check_within_file(self.offset, Some(len), size, "the sealed file")?;
        }
        let map = self.map_file(fd, Protection::READ, Sharing::Private)?;
        crate::seals::fault_in_holes(fd, map, self.offset)
    }

    /// `map_if_safe`'s body: the file is checked (sealed, or fs-verity),
    /// and so is the range, on a descriptor of the call's own, which is then mapped.
    pub(crate) fn map_if_safe_body(
        &self,
        file: &impl MmapAsRawDesc,
    ) -> Result<MmapInner, MapIfSafeError> {
        let pinned = pin(file).map_err(MapIfSafeError::new_map_failed)?;
        let fd = pinned.as_fd();
        crate::if_safe::check_file(fd)?;
        let size = sys::file_info(fd)
            .map_err(MapIfSafeError::new_map_failed)?
            .len;
        // A range past the end is not safe (the file may grow there); without `len`, an offset
        // past the end fails the map, as in memmap2.
        let len = self.len.map(|len| len as u64);
        check_within_file(self.offset, len, size, "the file").map_err(|error| match len {
            Some(_) => {
                MapIfSafeError::new_not_safe(invalid(format_args!("{error}, which may grow there")))
            }
            None => MapIfSafeError::new_map_failed(error),
        })?;
        let map = self
            .map_file(fd, Protection::READ, Sharing::Shared)
            .map_err(MapIfSafeError::new_map_failed)?;
        // A sealed memfd's holes are allocated at the first read; a file with fs-verity (not
        // sealable) is read from its file system.
        #[cfg(mman_memfd)]
        let map = if sys::get_seals(fd).is_ok() {
            crate::seals::fault_in_holes(fd, map, self.offset)
                .map_err(MapIfSafeError::new_map_failed)?
        } else {
            map
        };
        Ok(map)
    }

    /// `map_anon`'s body: anonymous memory, private to this process.
    pub(crate) fn map_anon_body(&self) -> io::Result<MmapInner> {
        let len = self.len.unwrap_or(0);
        let flags = c::MAP_PRIVATE | c::MAP_ANONYMOUS;
        self.map_checked(len, Protection::READ | Protection::WRITE, flags, None, 0)
    }

    #[inline]
    fn map_file(
        &self,
        fd: BorrowedFd<'_>,
        prot: Protection,
        sharing: Sharing,
    ) -> io::Result<MmapInner> {
        let flags = match sharing {
            Sharing::Shared => c::MAP_SHARED,
            Sharing::Private => c::MAP_PRIVATE,
        };
        let mut file = sys::MapFd { fd, blksize: None };
        let len = match self.len {
            Some(len) => len,
            None => {
                let info = sys::file_info(fd)?;
                file.blksize = Some(info.blksize);
                match info.kind {
                    FileKind::Regular | FileKind::Device => {}
                    FileKind::Directory => {
                        return Err(invalid("the file descriptor is a directory"))
                    }
                    FileKind::Other(what) => {
                        return Err(invalid(format_args!(
                            "the file descriptor is {what}, which cannot be mapped"
                        )))
                    }
                }
                let rest = check_within_file(self.offset, None, info.len, "the file")?;
                // An empty file maps to an empty map, but only if the kernel would map this
                // descriptor at all: files of /proc report size 0 and cannot be mapped. Files of
                // hugetlbfs can, and are not probed (a probe would reserve a huge page).
                if info.len == 0 && file.hugetlb_page_size()?.is_none() {
                    self.probe(fd, prot, flags)?;
                }
                usize::try_from(rest).map_err(|_| {
                    invalid(format_args!(
                        "the file's {} bytes from offset {} do not fit usize",
                        info.len, self.offset
                    ))
                })?
            }
        };
        self.map_checked(len, prot, flags, Some(file), self.offset)
    }

    /// Maps one page of an empty file and unmaps it: only to learn whether the kernel maps `fd`.
    /// A failure is told as what the caller asked, a map of an empty file, not as the probe's map.
    fn probe(&self, fd: BorrowedFd<'_>, prot: Protection, flags: c_int) -> io::Result<()> {
        MmapInner::new(0, 1, prot.bits(), flags, fd.as_raw_fd(), 0)
            .map(drop)
            .map_err(|error| {
                let kind = error.kind();
                let why = if raw_os_error(&error) == Some(libc::ENODEV) {
                    "the file reports a size of 0, and the kernel cannot map this kind of \
                     file (those of /proc and /sys report 0 bytes whatever they hold)"
                } else {
                    "the file is empty, and the kernel refuses to map it"
                };
                explain(error, kind, why)
            })
    }

    /// Every check of a new map, then the map.
    #[inline]
    fn map_checked(
        &self,
        len: usize,
        prot: Protection,
        sharing: c_int,
        fd: Option<sys::MapFd<'_>>,
        offset: u64,
    ) -> io::Result<MmapInner> {
        check_len(len)?;
        check_file_range(offset, len)?;
        self.check_flags()?;
        let huge_page =
            crate::huge::page_size_of_map(self.huge, self.flags, self.raw_flags, offset, fd)?;
        if len == 0 {
            return Ok(MmapInner::empty());
        }
        let (hint, placement_flags) = self.placement()?;
        let raw_fd = fd.map_or(-1, |file| file.fd.as_raw_fd());
        let sharing = self.dax_sharing(sharing, raw_fd >= 0)?;
        let flags = sharing | self.flags.bits() | self.raw_flags | placement_flags;
        let inner = match huge_page {
            None => {
                self.check_placement(hint, len, offset, sys::page_size())?;
                MmapInner::new(hint, len, prot.bits(), flags, raw_fd, offset)
                    .map_err(|error| self.explain_failure(error, hint, len, offset))?
            }
            #[cfg(mman_huge)]
            Some(size) => {
                // A whole number of huge pages, as the kernel maps: the map's `len()` is that, so
                // that `munmap`, `mprotect` and `madvise` later get a length the kernel accepts.
                let len = len
                    .checked_next_multiple_of(size.bytes() as usize)
                    .ok_or_else(|| {
                        invalid(format_args!(
                            "len {len} rounded up to whole {size} pages overflows"
                        ))
                    })?;
                check_len(len)?;
                self.check_placement(hint, len, offset, size.bytes() as usize)?;
                // A file's huge pages are its file system's: the flags would not change them.
                let flags = match fd {
                    None => flags | c::MAP_HUGETLB | size.flag(),
                    Some(_) => flags,
                };
                MmapInner::new(hint, len, prot.bits(), flags, raw_fd, offset)
                    .map_err(|error| self.explain_failure(error, hint, len, offset))
                    .map_err(|error| crate::huge::sizes::explain_map_error(size, error))?
                    .hugetlb()
                    .prefault_huge_pages(if prot.contains(Protection::WRITE) {
                        Populate::Write
                    } else {
                        Populate::Read
                    })?
            }
        };
        if placement_flags != 0 {
            let start = inner.ptr() as usize - (offset % sys::page_size() as u64) as usize;
            if start != hint {
                // A kernel older than 4.17 takes MAP_FIXED_NOREPLACE for a hint: the map went
                // elsewhere.
                return Err(crate::error::other(
                    io::ErrorKind::Unsupported,
                    format_args!(
                        "fixed_no_replace({hint:#x}): the running kernel placed the map at \
                         {start:#x} (MAP_FIXED_NOREPLACE needs Linux 4.17)"
                    ),
                ));
            }
        }
        Ok(inner)
    }

    /// Refuses extra flags that are not sound with every option: `MAP_FIXED` and the sharing type
    /// (raw or not), and, from the safe [`MmapOptions::flags`], any bit [`MapFlags`] does not name.
    fn check_flags(&self) -> io::Result<()> {
        let all = self.flags.bits() | self.raw_flags;
        if all & (c::MAP_FIXED | c::MAP_SHARED | c::MAP_PRIVATE) != 0 {
            return Err(invalid(
                "flags: MAP_FIXED and the sharing type (MAP_SHARED, MAP_PRIVATE) cannot be passed \
                 as extra flags",
            ));
        }
        let unnamed = self.flags.bits() & !MapFlags::all().bits();
        if unnamed != 0 {
            return Err(invalid(format_args!(
                "flags: {unnamed:#x} are bits MapFlags does not name, which could break what \
                     the safe API promises; raw MAP_ bits go through the unsafe \
                     MmapOptions::flags_unchecked"
            )));
        }
        Ok(())
    }

    /// The stack guard check of a map placed by address: the range it may take (the hint rounded
    /// up to the map's page `granule`, as the kernel does, then `len` and the offset's prefix) must
    /// be clear of where a stack may grow. Nothing to check where the kernel picks the address.
    fn check_placement(
        &self,
        hint: usize,
        len: usize,
        offset: u64,
        granule: usize,
    ) -> io::Result<()> {
        let what = match self.placement {
            Placement::Anywhere | Placement::Near(0) => return Ok(()),
            Placement::Near(addr) => format!("address_hint({addr:#x})"),
            #[cfg(mman_has = "MAP_FIXED_NOREPLACE")]
            Placement::At(addr) => format!("fixed_no_replace({addr:#x})"),
        };
        // Stacks on macOS and iOS do not grow: they are mapped whole when a thread starts.
        if cfg!(any(target_os = "macos", target_os = "ios")) {
            return Ok(());
        }
        let prefix = (offset % sys::page_size() as u64) as usize;
        let start = hint - hint % sys::page_size();
        let end = hint
            .checked_next_multiple_of(granule)
            .and_then(|aligned| aligned.checked_add(len)?.checked_add(prefix))
            .unwrap_or(usize::MAX);
        crate::stack_guard::check_stack_guard(&what, start, end)
    }

    /// The address asked for, and the flag that makes it binding.
    #[cfg_attr(not(mman_has = "MAP_FIXED_NOREPLACE"), allow(unused_variables))]
    #[inline]
    fn placement(&self) -> io::Result<(usize, c_int)> {
        match self.placement {
            Placement::Anywhere => Ok((0, 0)),
            Placement::Near(addr) => Ok((addr, 0)),
            #[cfg(mman_has = "MAP_FIXED_NOREPLACE")]
            Placement::At(addr) if addr % sys::page_size() != 0 || addr == 0 => {
                Err(invalid(format_args!(
                    "fixed_no_replace: address {addr:#x} is not a non-null multiple of the page \
                     size"
                )))
            }
            #[cfg(mman_has = "MAP_FIXED_NOREPLACE")]
            Placement::At(addr) => Ok((addr, c::MAP_FIXED_NOREPLACE)),
        }
    }

    /// The sharing type with [`MmapOptions::dax_sync`]: `MAP_SHARED_VALIDATE | MAP_SYNC` in place
    /// of `MAP_SHARED`; refused before the call for a private or anonymous map.
    #[cfg(mman_sync)]
    fn dax_sharing(&self, sharing: c_int, file: bool) -> io::Result<c_int> {
        if !self.dax_sync {
            return Ok(sharing);
        }
        if sharing != c::MAP_SHARED || !file {
            return Err(invalid("dax_sync: MAP_SYNC needs a shared map of a file"));
        }
        Ok(c::MAP_SHARED_VALIDATE | c::MAP_SYNC)
    }

    #[cfg(not(mman_sync))]
    fn dax_sharing(&self, sharing: c_int, _file: bool) -> io::Result<c_int> {
        Ok(sharing)
    }

    /// A failed map, explained where the options say what it means: `EEXIST` at a fixed address
    /// (`hint`, 0 for a map placed anywhere) means something is mapped there; `EOPNOTSUPP` with
    /// `dax_sync`, that the file is not on a DAX file system.
    fn explain_failure(&self, error: io::Error, hint: usize, len: usize, offset: u64) -> io::Error {
        match raw_os_error(&error) {
            Some(libc::EEXIST) if hint != 0 => {
                let end = hint.saturating_add(len + (offset % sys::page_size() as u64) as usize);
                let why = format!(
                    "fixed_no_replace({hint:#x}): something is already mapped in \
                     {hint:#x}..{end:#x}, which MAP_FIXED_NOREPLACE does not replace"
                );
                explain(error, io::ErrorKind::AlreadyExists, why)
            }
            Some(libc::EOPNOTSUPP) if self.dax_sync => {
                let why = "dax_sync: the file is not on a file system mounted with DAX (-o dax), \
                     the only files MAP_SYNC maps";
                explain(error, io::ErrorKind::Unsupported, why)
            }
            _ => error,
        }
    }
}
