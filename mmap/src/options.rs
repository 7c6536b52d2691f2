//! `MmapOptions`: what to map and how, and the constructors of every map type.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use crate::flags::{MapFlags, Protection};
#[cfg(all(mman_has = "MAP_HUGETLB", mman_has = "MAP_HUGE_SHIFT", mman_has = "MAP_HUGE_MASK"))]
use crate::huge::HugePageSize;
use crate::inner::MmapInner;
use crate::range::{check_file_range, check_len, invalid};
use crate::sys::{self, c_int, FileKind};
use crate::{Mmap, MmapMut, MmapRaw};

/// What to map and how: a builder for every kind of map, as in memmap2.
///
/// By default a map covers the whole file from offset 0, shared, with the base page size.
///
/// ```
/// use std::io::Write;
/// use mmap::MmapOptions;
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
    // Read only where the host can map huge pages.
    #[cfg_attr(
        not(all(mman_has = "MAP_HUGETLB", mman_has = "MAP_HUGE_SHIFT", mman_has = "MAP_HUGE_MASK")),
        allow(dead_code)
    )]
    huge: Option<Option<u8>>,
    placement: Placement,
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
enum Sharing {
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
    #[cfg(mman_has = "MAP_POPULATE")]
    pub fn populate(&mut self) -> &mut Self {
        self.flags |= MapFlags::POPULATE;
        self
    }

    /// Marks the map as a thread stack ([`MAP_STACK`](mmap_sys::MAP_STACK)).
    #[cfg(mman_has = "MAP_STACK")]
    pub fn stack(&mut self) -> &mut Self {
        self.flags |= MapFlags::STACK;
        self
    }

    /// Reserves no swap space for the map ([`MAP_NORESERVE`](mmap_sys::MAP_NORESERVE)): writing
    /// may then fail with `SIGSEGV` when memory runs out.
    #[cfg(mman_has = "MAP_NORESERVE")]
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
    /// fails with `ENOMEM`, reported as an error.
    #[cfg(all(mman_has = "MAP_HUGETLB", mman_has = "MAP_HUGE_SHIFT", mman_has = "MAP_HUGE_MASK"))]
    pub fn huge(&mut self, page_bits: Option<u8>) -> &mut Self {
        self.huge = Some(page_bits);
        self
    }

    /// Backs the map with huge pages of `size`: [`MmapOptions::huge`] with a typed size.
    ///
    /// ```
    /// use mmap::{HugePageSize, MmapOptions};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let offered = HugePageSize::available()?;
    /// match offered.iter().find(|pool| pool.size == HugePageSize::HUGE_2MB && pool.free > 0) {
    ///     Some(_) => {
    ///         let map = MmapOptions::new().len(4096).huge_page_size(HugePageSize::HUGE_2MB).map_anon()?;
    ///         assert_eq!(map.len(), 2 << 20); // rounded up to one huge page
    ///     }
    ///     None => println!("no free 2 MiB huge pages here: nr_hugepages is 0"),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(all(mman_has = "MAP_HUGETLB", mman_has = "MAP_HUGE_SHIFT", mman_has = "MAP_HUGE_MASK"))]
    pub fn huge_page_size(&mut self, size: HugePageSize) -> &mut Self {
        self.huge = Some(Some(size.log2()));
        self
    }

    /// Asks for the map to start near `addr` (the first argument of `mmap(2)`, without `MAP_FIXED`):
    /// a hint, which the kernel follows if that range is free and may ignore.
    pub fn address_hint(&mut self, addr: usize) -> &mut Self {
        self.placement = Placement::Near(addr);
        self
    }

    /// Places the map at exactly `addr`, or fails with
    /// [`ErrorKind::AlreadyExists`](io::ErrorKind::AlreadyExists) if anything is mapped there:
    /// [`MAP_FIXED_NOREPLACE`](mmap_sys::MAP_FIXED_NOREPLACE) (Linux 4.17). Plain `MAP_FIXED`,
    /// which silently replaces what is there, is never used. With an unaligned offset, `addr` is
    /// where the page holding the offset goes.
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use mmap::MmapOptions;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let taken = MmapOptions::new().len(4096).map_anon()?;
    /// let error = MmapOptions::new().len(4096).fixed_no_replace(taken.as_ptr() as usize).map_anon().unwrap_err();
    /// assert_eq!(error.kind(), ErrorKind::AlreadyExists);
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(mman_has = "MAP_FIXED_NOREPLACE")]
    pub fn fixed_no_replace(&mut self, addr: usize) -> &mut Self {
        self.placement = Placement::At(addr);
        self
    }

    /// Adds `flags` to the `mmap` flags. [`MapFlags::from_bits_retain`] passes raw `MAP_` bits that
    /// [`MapFlags`] does not name; the sharing type (`MAP_SHARED`, `MAP_PRIVATE`) is the
    /// constructor's and `MAP_FIXED` is refused.
    pub fn flags(&mut self, flags: MapFlags) -> &mut Self {
        self.flags |= flags;
        self
    }

    /// A read-only shared map of the file ([`PROT_READ`](mmap_sys::PROT_READ),
    /// [`MAP_SHARED`](mmap_sys::MAP_SHARED)).
    ///
    /// # Errors
    ///
    /// `InvalidInput` before any call for: an offset past the end of the file (without `len`), an
    /// `offset + len` that overflows, a length over `isize::MAX`, a descriptor that is a directory,
    /// a pipe or a socket. Otherwise the error of `fstat` or `mmap`, e.g. `PermissionDenied` for a
    /// file not open for reading.
    ///
    /// # Safety
    ///
    /// The caller promises that, while the map lives, no one (this process or another) writes the
    /// mapped part of the file or truncates the file below it: the map gives out `&[u8]`, which must
    /// not change under it, and a read past a truncated end kills the process with `SIGBUS`.
    pub unsafe fn map<T: AsFd>(&self, file: T) -> io::Result<Mmap> {
        self.map_file("map", file.as_fd(), Protection::READ, Sharing::Shared).map(Mmap::from_inner)
    }

    /// A read-only shared map that may be executed ([`PROT_READ`](mmap_sys::PROT_READ) `|`
    /// [`PROT_EXEC`](mmap_sys::PROT_EXEC)).
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map`]; `PermissionDenied` where the file system is mounted `noexec`.
    ///
    /// # Safety
    ///
    /// As [`MmapOptions::map`].
    pub unsafe fn map_exec<T: AsFd>(&self, file: T) -> io::Result<Mmap> {
        self.map_file("map_exec", file.as_fd(), Protection::READ | Protection::EXEC, Sharing::Shared)
            .map(Mmap::from_inner)
    }

    /// A writable shared map of the file ([`PROT_READ`](mmap_sys::PROT_READ) `|`
    /// [`PROT_WRITE`](mmap_sys::PROT_WRITE), [`MAP_SHARED`](mmap_sys::MAP_SHARED)): writes reach the
    /// file, at the latest when flushed.
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map`]; `PermissionDenied` for a file not open for reading and writing.
    ///
    /// # Safety
    ///
    /// The caller promises that, while the map lives, no one else writes or truncates the mapped part
    /// of the file: the map gives out `&mut [u8]`, which nothing else may change, and an access past
    /// a truncated end kills the process with `SIGBUS`.
    pub unsafe fn map_mut<T: AsFd>(&self, file: T) -> io::Result<MmapMut> {
        self.map_file("map_mut", file.as_fd(), Protection::READ | Protection::WRITE, Sharing::Shared)
            .map(MmapMut::from_inner)
    }

    /// A private copy-on-write map of the file ([`MAP_PRIVATE`](mmap_sys::MAP_PRIVATE)): writable,
    /// and writes never reach the file. The file needs only to be open for reading.
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map`].
    ///
    /// # Safety
    ///
    /// As [`MmapOptions::map`]: pages not yet written still show the file, so others must not
    /// change or truncate it.
    pub unsafe fn map_copy<T: AsFd>(&self, file: T) -> io::Result<MmapMut> {
        self.map_file("map_copy", file.as_fd(), Protection::READ | Protection::WRITE, Sharing::Private)
            .map(MmapMut::from_inner)
    }

    /// A private read-only map of the file ([`MAP_PRIVATE`](mmap_sys::MAP_PRIVATE)), which
    /// [`Mmap::make_mut`] can later make writable without the writes reaching the file.
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map`].
    ///
    /// # Safety
    ///
    /// As [`MmapOptions::map`].
    pub unsafe fn map_copy_read_only<T: AsFd>(&self, file: T) -> io::Result<Mmap> {
        self.map_file("map_copy_read_only", file.as_fd(), Protection::READ, Sharing::Private)
            .map(Mmap::from_inner)
    }

    /// A read-only shared map that needs no `unsafe`, of a file whose contents can never change: a
    /// memfd (see [`SharedMemory`](crate::SharedMemory)) sealed against shrinking and writing
    /// ([`Seals::SHRINK`](crate::Seals::SHRINK) and [`Seals::WRITE`](crate::Seals::WRITE), checked
    /// with `fcntl(F_GET_SEALS)`). Seals are never removed, so nothing, in any process, can write
    /// the mapped bytes or cut the file short under the map.
    ///
    /// # Errors
    ///
    /// `InvalidInput` before the map when the file lacks either seal (or cannot be sealed: not a
    /// memfd), or when `offset + len` reaches past its end; otherwise as [`MmapOptions::map`].
    #[cfg(all(mman_has = "MFD_CLOEXEC", mman_has = "MFD_ALLOW_SEALING", linux_kernel))]
    pub fn map_sealed<T: AsFd>(&self, file: T) -> io::Result<Mmap> {
        const CALL: &str = "map_sealed";
        let fd = file.as_fd();
        crate::shared_memory::check_sealed(CALL, fd)?;
        if let Some(len) = self.len {
            let size = sys::file_info(CALL, fd)?.len;
            if self.offset.checked_add(len as u64).map_or(true, |end| end > size) {
                return Err(invalid(
                    CALL,
                    format_args!(
                        "offset {} + len {len} reaches past the end of the sealed file ({size} bytes)",
                        self.offset
                    ),
                ));
            }
        }
        self.map_file(CALL, fd, Protection::READ, Sharing::Shared).map(Mmap::from_inner)
    }

    /// A writable shared map of the file that gives out raw pointers only, so making it is safe: the
    /// caller's `unsafe` blocks that read or write through the pointers carry the promises.
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map_mut`].
    pub fn map_raw<T: AsFd>(&self, file: T) -> io::Result<MmapRaw> {
        self.map_file("map_raw", file.as_fd(), Protection::READ | Protection::WRITE, Sharing::Shared)
            .map(MmapRaw::from_inner)
    }

    /// As [`MmapOptions::map_raw`], read-only: for a file open for reading only.
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map`].
    pub fn map_raw_read_only<T: AsFd>(&self, file: T) -> io::Result<MmapRaw> {
        self.map_file("map_raw_read_only", file.as_fd(), Protection::READ, Sharing::Shared)
            .map(MmapRaw::from_inner)
    }

    /// Anonymous memory of the `len` set with [`MmapOptions::len`] (0 without it), zero-filled and
    /// private to this process and its children ([`MAP_ANONYMOUS`](mmap_sys::MAP_ANONYMOUS) `|`
    /// [`MAP_PRIVATE`](mmap_sys::MAP_PRIVATE)).
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let mut memory = mmap::MmapOptions::new().len(1 << 20).map_anon()?;
    /// memory[4096] = 7;
    /// assert_eq!(memory.iter().map(|&b| u32::from(b)).sum::<u32>(), 7);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a length over `isize::MAX`; otherwise the error of `mmap`, e.g.
    /// `OutOfMemory`.
    pub fn map_anon(&self) -> io::Result<MmapMut> {
        let len = self.len.unwrap_or(0);
        let flags = mmap_sys::MAP_PRIVATE | mmap_sys::MAP_ANONYMOUS;
        self.map_checked("map_anon", len, Protection::READ | Protection::WRITE, flags, None, 0)
            .map(MmapMut::from_inner)
    }

    #[inline]
    fn map_file(
        &self,
        call: &str,
        fd: BorrowedFd<'_>,
        prot: Protection,
        sharing: Sharing,
    ) -> io::Result<MmapInner> {
        let flags = match sharing {
            Sharing::Shared => mmap_sys::MAP_SHARED,
            Sharing::Private => mmap_sys::MAP_PRIVATE,
        };
        let len = match self.len {
            Some(len) => len,
            None => {
                let info = sys::file_info(call, fd)?;
                match info.kind {
                    FileKind::Regular | FileKind::Device => {}
                    FileKind::Directory => return Err(invalid(call, "the file descriptor is a directory")),
                    FileKind::Other(what) => {
                        return Err(invalid(
                            call,
                            format_args!("the file descriptor is {what}, which cannot be mapped"),
                        ))
                    }
                }
                if self.offset > info.len {
                    return Err(invalid(
                        call,
                        format_args!(
                            "offset {} is past the end of the file ({} bytes)",
                            self.offset, info.len
                        ),
                    ));
                }
                if info.len == 0 {
                    // An empty file maps to an empty map, but only if the kernel would map this
                    // descriptor at all: files of /proc report size 0 and cannot be mapped.
                    self.probe(call, fd, prot, flags)?;
                }
                usize::try_from(info.len - self.offset).map_err(|_| {
                    invalid(
                        call,
                        format_args!(
                            "the file's {} bytes from offset {} do not fit usize",
                            info.len, self.offset
                        ),
                    )
                })?
            }
        };
        self.map_checked(call, len, prot, flags, Some(fd), self.offset)
    }

    /// Maps one page of an empty file and unmaps it: only to learn whether the kernel maps `fd`.
    fn probe(&self, call: &str, fd: BorrowedFd<'_>, prot: Protection, flags: c_int) -> io::Result<()> {
        MmapInner::new(call, 0, 1, prot.bits(), flags, fd.as_raw_fd(), 0).map(drop)
    }

    /// Every check of a new map, then the map.
    #[inline]
    fn map_checked(
        &self,
        call: &str,
        len: usize,
        prot: Protection,
        sharing: c_int,
        fd: Option<BorrowedFd<'_>>,
        offset: u64,
    ) -> io::Result<MmapInner> {
        check_len(call, len)?;
        check_file_range(call, offset, len)?;
        if self.flags.bits() & (mmap_sys::MAP_FIXED | mmap_sys::MAP_SHARED | mmap_sys::MAP_PRIVATE) != 0 {
            return Err(invalid(
                call,
                "flags: MAP_FIXED and the sharing type (MAP_SHARED, MAP_PRIVATE) cannot be passed as extra flags",
            ));
        }
        let huge_page = self.huge_page(call, offset)?;
        if len == 0 {
            return Ok(MmapInner::empty());
        }
        let (hint, placement_flags) = self.placement(call)?;
        let fd = fd.map_or(-1, |fd| fd.as_raw_fd());
        let flags = sharing | self.flags.bits() | placement_flags;
        let inner = match huge_page {
            None => MmapInner::new(call, hint, len, prot.bits(), flags, fd, offset)?,
            #[cfg(all(mman_has = "MAP_HUGETLB", mman_has = "MAP_HUGE_SHIFT", mman_has = "MAP_HUGE_MASK"))]
            Some(size) => {
                // A whole number of huge pages: the map's `len()` is that, so that `munmap`,
                // `mprotect` and `madvise` later get a length the kernel accepts.
                let len = crate::huge::round_up(len, size.bytes() as usize).ok_or_else(|| {
                    invalid(call, format_args!("len {len} rounded up to whole {size} pages overflows"))
                })?;
                check_len(call, len)?;
                let flags = flags | mmap_sys::MAP_HUGETLB | size.flag();
                MmapInner::new(call, hint, len, prot.bits(), flags, fd, offset)
                    .map_err(|error| crate::huge::explain_map_error(call, size, error))?
            }
        };
        if placement_flags != 0 {
            let start = inner.ptr() as usize - (offset % sys::page_size() as u64) as usize;
            if start != hint {
                // A kernel older than 4.17 takes MAP_FIXED_NOREPLACE for a hint: the map went
                // elsewhere.
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    format!("{call}: fixed_no_replace({hint:#x}): the running kernel placed the map at {start:#x} (MAP_FIXED_NOREPLACE needs Linux 4.17)"),
                ));
            }
        }
        Ok(inner)
    }

    /// The address asked for, and the flag that makes it binding.
    #[cfg_attr(not(mman_has = "MAP_FIXED_NOREPLACE"), allow(unused_variables))]
    #[inline]
    fn placement(&self, call: &str) -> io::Result<(usize, c_int)> {
        match self.placement {
            Placement::Anywhere => Ok((0, 0)),
            Placement::Near(addr) => Ok((addr, 0)),
            #[cfg(mman_has = "MAP_FIXED_NOREPLACE")]
            Placement::At(addr) if addr % sys::page_size() != 0 || addr == 0 => Err(invalid(
                call,
                format_args!(
                    "fixed_no_replace: address {addr:#x} is not a non-null multiple of the page size"
                ),
            )),
            #[cfg(mman_has = "MAP_FIXED_NOREPLACE")]
            Placement::At(addr) => Ok((addr, mmap_sys::MAP_FIXED_NOREPLACE)),
        }
    }

    /// The huge page size asked for, checked: one the system offers, with the offset a multiple of
    /// it. Its `MAP_HUGETLB | MAP_HUGE_*` flags go to `mmap`.
    #[cfg(all(mman_has = "MAP_HUGETLB", mman_has = "MAP_HUGE_SHIFT", mman_has = "MAP_HUGE_MASK"))]
    fn huge_page(&self, call: &str, offset: u64) -> io::Result<Option<HugePageSize>> {
        let Some(bits) = self.huge else {
            return Ok(None);
        };
        let size = match bits {
            None => HugePageSize::system_default()?,
            Some(bits) => {
                1u64.checked_shl(u32::from(bits)).and_then(HugePageSize::from_bytes).ok_or_else(|| {
                    invalid(
                        call,
                        format_args!("huge page size 2^{bits} cannot be encoded in the flags of mmap"),
                    )
                })?
            }
        };
        size.pool(call)?;
        if usize::try_from(size.bytes()).is_err() || offset % size.bytes() != 0 {
            return Err(invalid(
                call,
                format_args!("offset {offset} is not a multiple of the huge page size {size}"),
            ));
        }
        Ok(Some(size))
    }

    #[cfg(not(all(mman_has = "MAP_HUGETLB", mman_has = "MAP_HUGE_SHIFT", mman_has = "MAP_HUGE_MASK")))]
    fn huge_page(&self, _call: &str, _offset: u64) -> io::Result<Option<std::convert::Infallible>> {
        Ok(None)
    }
}
