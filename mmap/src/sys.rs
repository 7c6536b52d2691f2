//! The operating system's calls, wrapped: the only module that calls `mmap-sys`, and the one that
//! calls `libc` for everything but the checked copy, which makes its own calls in `checked_copy/`
//! (`kernel.rs`: `process_vm_readv` and `getpid`, and a pipe of its own: `pipe2` or `pipe` and
//! `fcntl`, `write`, `read`; `handler.rs`: signal handling, `sigaction`, `pthread_sigmask`, the
//! `sigset` functions, `raise`, `getpid` and `errno`, and `membarrier`, some of them from the
//! signal handler itself, where only async-signal-safe calls may be made). Each wrapper turns a
//! failure into an `io::Error` (made by `crate::error`) that names the system call and its
//! arguments, and keeps the OS error; the public method adds its own name in front
//! (`crate::error::in_call`).

use std::ffi::{c_int, c_void};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicUsize, Ordering};

// The C side: `c::mmap` is the C function, `sys::mmap` (as the rest of the crate calls this
// module) its wrapper.
use mmap_sys as c;

use crate::error::{explain, last_error};

/// The size of a page, from `sysconf(_SC_PAGESIZE)`, read once.
#[inline]
pub(crate) fn page_size() -> usize {
    static PAGE_SIZE: AtomicUsize = AtomicUsize::new(0);
    match PAGE_SIZE.load(Ordering::Relaxed) {
        0 => {
            // SAFETY: sysconf has no preconditions.
            let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
            PAGE_SIZE.store(size, Ordering::Relaxed);
            size
        }
        size => size,
    }
}

/// What `fstat` says of a file: its length and whether it is a regular file or a device, the kinds
/// of file the kernel may map.
pub(crate) struct FileInfo {
    pub(crate) len: u64,
    pub(crate) kind: FileKind,
    /// `st_blksize`: on hugetlbfs, the huge page size.
    pub(crate) blksize: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    Regular,
    Device,
    Directory,
    Other(&'static str),
}

/// `fstat(fd)`, with 64-bit sizes on every target: glibc's `fstat64` (its 32-bit targets' `fstat`
/// fails with `EOVERFLOW` on a file over 2 GiB); elsewhere `fstat` is 64-bit already (musl, macOS,
/// the BSDs). (Not `File::metadata`, which asks `statx` for more than a map needs, and is slower.)
#[inline]
pub(crate) fn file_info(fd: BorrowedFd<'_>) -> io::Result<FileInfo> {
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    use libc::{fstat, stat};
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    use libc::{fstat64 as fstat, stat64 as stat};
    let mut stat = std::mem::MaybeUninit::<stat>::uninit();
    // SAFETY: `stat` is a buffer of the size fstat fills; `fd` is open for the call.
    if unsafe { fstat(fd.as_raw_fd(), stat.as_mut_ptr()) } != 0 {
        return Err(last_error(|| {
            format!("fstat of file descriptor {}", fd.as_raw_fd())
        }));
    }
    // SAFETY: fstat succeeded, so it filled `stat`.
    let stat = unsafe { stat.assume_init() };
    let kind = match stat.st_mode & libc::S_IFMT {
        libc::S_IFREG => FileKind::Regular,
        libc::S_IFBLK | libc::S_IFCHR => FileKind::Device,
        libc::S_IFDIR => FileKind::Directory,
        libc::S_IFIFO => FileKind::Other("a pipe"),
        libc::S_IFSOCK => FileKind::Other("a socket"),
        _ => FileKind::Other("neither a file nor a device"),
    };
    let len = match stat.st_mode & libc::S_IFMT {
        // fstat reports 0 bytes for a block device: its size is the device's.
        #[cfg(linux_kernel)]
        libc::S_IFBLK => block_device_size(fd)?,
        _ => stat.st_size as u64,
    };
    Ok(FileInfo {
        len,
        kind,
        blksize: stat.st_blksize as u64,
    })
}

/// The size of a block device in bytes: `ioctl(fd, BLKGETSIZE64)`.
#[cfg(linux_kernel)]
pub(crate) fn block_device_size(fd: BorrowedFd<'_>) -> io::Result<u64> {
    // <linux/fs.h>: `#define BLKGETSIZE64 _IOR(0x12,114,size_t)` (libc does not define it); the
    // kernel writes a u64 whatever size_t is.
    let blkgetsize64 = libc::_IOR::<libc::size_t>(0x12, 114);
    let mut size = 0u64;
    // SAFETY: BLKGETSIZE64 writes one u64 to the pointer, which points at `size`.
    if unsafe { libc::ioctl(fd.as_raw_fd(), blkgetsize64, &mut size as *mut u64) } != 0 {
        return Err(last_error(|| {
            format!("ioctl(BLKGETSIZE64) of block device {}", fd.as_raw_fd())
        }));
    }
    Ok(size)
}

/// The huge page size of a file on hugetlbfs (a file there, or a memfd made with `MFD_HUGETLB`):
/// `fstatfs(fd)`, whose `f_type` is `HUGETLBFS_MAGIC` and whose `f_bsize` is the page size there.
/// `None` for a file anywhere else, whose pages are the base page size. The kernel maps such a
/// file in whole huge pages, whatever the `MAP_HUGE_*` flags say.
#[cfg(linux_kernel)]
pub(crate) fn hugetlb_page_size_of_file(fd: BorrowedFd<'_>) -> io::Result<Option<u64>> {
    let mut stat = std::mem::MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: `stat` is a buffer of the size fstatfs fills; `fd` is open for the call.
    if unsafe { libc::fstatfs(fd.as_raw_fd(), stat.as_mut_ptr()) } != 0 {
        return Err(last_error(|| {
            format!("fstatfs of file descriptor {}", fd.as_raw_fd())
        }));
    }
    // SAFETY: fstatfs succeeded, so it filled `stat`.
    let stat = unsafe { stat.assume_init() };
    // The field's type differs between targets (i64, u32, ...): compare as the constant's type.
    #[allow(clippy::unnecessary_cast)]
    let hugetlbfs = stat.f_type as u32 == libc::HUGETLBFS_MAGIC as u32;
    #[allow(clippy::unnecessary_cast)]
    Ok(hugetlbfs.then_some(stat.f_bsize as u64))
}

/// A descriptor to map, with its block size where `fstat` was asked already (`None` where it was
/// not): a file whose blocks are no larger than a page is not on hugetlbfs, whose `st_blksize` is
/// its huge page size, so its map needs no `fstatfs`.
#[derive(Clone, Copy)]
pub(crate) struct MapFd<'a> {
    pub(crate) fd: BorrowedFd<'a>,
    pub(crate) blksize: Option<u64>,
}

impl MapFd<'_> {
    /// [`hugetlb_page_size_of_file`], without the call where the block size rules hugetlbfs out.
    pub(crate) fn hugetlb_page_size(self) -> io::Result<Option<u64>> {
        match self.blksize {
            Some(blksize) if blksize <= page_size() as u64 => Ok(None),
            _ => hugetlb_page_size_of_file(self.fd),
        }
    }
}

/// Elsewhere there is no hugetlbfs: every file is mapped in base pages.
#[cfg(not(linux_kernel))]
#[inline]
pub(crate) fn hugetlb_page_size_of_file(_fd: BorrowedFd<'_>) -> io::Result<Option<u64>> {
    Ok(None)
}

/// `mmap(hint, len, prot, flags, fd, offset)`.
///
/// # Safety
///
/// Without `MAP_FIXED` the kernel picks free addresses, so nothing existing is touched. With
/// `MAP_FIXED`, the caller promises that `hint..hint + len` holds nothing still in use.
#[inline]
pub(crate) unsafe fn mmap(
    hint: *mut c_void,
    len: usize,
    prot: c_int,
    flags: c_int,
    fd: c_int,
    offset: u64,
) -> io::Result<*mut c_void> {
    // SAFETY: the caller upholds the contract above; `offset` fits `off_t`, checked by the callers.
    let ptr = unsafe { c::mmap(hint, len, prot, flags, fd, offset as i64) };
    if ptr == c::MAP_FAILED {
        Err(last_error(|| {
            format!("mmap of {len} bytes at offset {offset}")
        }))
    } else {
        Ok(ptr)
    }
}

/// Checks the return value of a call that returns 0 or -1.
#[inline]
fn check(ret: c_int, what: impl FnOnce() -> String) -> io::Result<()> {
    if ret == 0 {
        Ok(())
    } else {
        Err(last_error(what))
    }
}

/// `munmap(ptr, len)`.
///
/// # Safety
///
/// `ptr..ptr + len` is a mapping this process made, and nothing refers to it any more.
#[inline]
pub(crate) unsafe fn munmap(ptr: *mut c_void, len: usize) -> io::Result<()> {
    // SAFETY: the caller upholds the contract above.
    check(unsafe { c::munmap(ptr, len) }, || {
        format!("munmap of {len} bytes at {ptr:p}")
    })
}

/// `mprotect(ptr, len, prot)`.
///
/// # Safety
///
/// `ptr` is page-aligned, `ptr..ptr + len` is mapped, and no reference to it relies on an access
/// the new protection takes away.
pub(crate) unsafe fn mprotect(ptr: *mut c_void, len: usize, prot: c_int) -> io::Result<()> {
    // SAFETY: the caller upholds the contract above.
    check(unsafe { c::mprotect(ptr, len, prot) }, || {
        format!("mprotect of {len} bytes at {ptr:p}")
    })
}

/// `msync(ptr, len, flags)`.
///
/// # Safety
///
/// `ptr` is page-aligned and `ptr..ptr + len` is mapped.
pub(crate) unsafe fn msync(ptr: *mut c_void, len: usize, flags: c_int) -> io::Result<()> {
    // SAFETY: msync reads the mapping's state only; the range is mapped (caller).
    check(unsafe { c::msync(ptr, len, flags) }, || {
        format!("msync of {len} bytes at {ptr:p}")
    })
}

/// `madvise(ptr, len, advice)`; `name` is the advice's C name, for the message.
///
/// # Safety
///
/// `ptr` is page-aligned, `ptr..ptr + len` is mapped, and the advice does not change what any live
/// reference reads (or the caller accepts that it does).
pub(crate) unsafe fn madvise(
    ptr: *mut c_void,
    len: usize,
    advice: c_int,
    name: &str,
) -> io::Result<()> {
    // SAFETY: the caller upholds the contract above.
    let ret = unsafe { c::madvise(ptr, len, advice) };
    if ret == 0 {
        return Ok(());
    }
    let error = last_error(|| format!("madvise({name}) of {len} bytes at {ptr:p}"));
    if error.kind() == io::ErrorKind::InvalidInput && !madvise_supported(advice) {
        let why = format!("the running kernel does not support {name}");
        return Err(explain(error, io::ErrorKind::Unsupported, why));
    }
    Err(error)
}

/// Whether the running kernel knows `advice`: Linux checks the advice before anything else, so
/// `madvise(NULL, 0, advice)` fails with `EINVAL` exactly when it does not, and changes nothing.
pub(crate) fn madvise_supported(advice: c_int) -> bool {
    // SAFETY: a zero-length range touches no memory.
    unsafe { c::madvise(std::ptr::null_mut(), 0, advice) == 0 }
}

/// `mlock(ptr, len)`.
///
/// # Safety
///
/// `ptr..ptr + len` is mapped.
pub(crate) unsafe fn mlock(ptr: *mut c_void, len: usize) -> io::Result<()> {
    // SAFETY: locking does not change memory contents; the range is mapped (caller).
    let ret = unsafe { c::mlock(ptr, len) };
    check(ret, || {
        format!(
            "mlock of {len} bytes at {ptr:p} (RLIMIT_MEMLOCK: {})",
            soft_limit_text(Limit::MemLock)
        )
    })
}

/// `mlock2(ptr, len, MLOCK_ONFAULT)`. Where the kernel has no `mlock2` (Linux before 4.4, or a
/// seccomp filter that answers `ENOSYS`), the error is the kernel's `ENOSYS` (`Unsupported`), not
/// the `EINVAL` glibc's wrapper makes of it.
///
/// # Safety
///
/// `ptr..ptr + len` is mapped.
#[cfg(mman_has = "MLOCK_ONFAULT")]
pub(crate) unsafe fn mlock_on_fault(ptr: *mut c_void, len: usize) -> io::Result<()> {
    let what = || {
        format!(
            "mlock2(MLOCK_ONFAULT) of {len} bytes at {ptr:p} (RLIMIT_MEMLOCK: {})",
            soft_limit_text(Limit::MemLock)
        )
    };
    // SAFETY: locking does not change memory contents; the range is mapped (caller).
    let ret = unsafe { c::mlock2(ptr, len, c::MLOCK_ONFAULT) };
    check(ret, what).map_err(|error| {
        // musl passes the kernel's `ENOSYS` on. The range is checked and the flag known since
        // `mlock2` itself, so glibc's `EINVAL` here is its word for `ENOSYS`: the kernel, asked
        // directly to lock nothing, tells which.
        #[cfg(target_os = "linux")]
        {
            let errno = crate::error::raw_os_error(&error);
            if errno == Some(libc::ENOSYS) || errno == Some(libc::EINVAL) && !kernel_has_mlock2(ptr)
            {
                let why = format!(
                    "mlock2(MLOCK_ONFAULT) of {len} bytes at {ptr:p}: the kernel has no mlock2 \
                     (Linux 4.4), or a seccomp filter denies it"
                );
                let enosys = io::Error::from_raw_os_error(libc::ENOSYS);
                return explain(enosys, io::ErrorKind::Unsupported, why);
            }
        }
        error
    })
}

/// Whether the kernel has the `mlock2` system call: the call itself (not glibc's wrapper), locking
/// 0 bytes at `ptr`, fails with `ENOSYS` where it has not.
#[cfg(all(mman_has = "MLOCK_ONFAULT", target_os = "linux"))]
fn kernel_has_mlock2(ptr: *mut c_void) -> bool {
    // SAFETY: locking 0 bytes changes nothing; the arguments are plain values.
    let ret = unsafe { libc::syscall(libc::SYS_mlock2, ptr, 0usize, 0 as c_int) };
    ret == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ENOSYS)
}

/// `munlock(ptr, len)`.
///
/// # Safety
///
/// `ptr..ptr + len` is mapped.
pub(crate) unsafe fn munlock(ptr: *mut c_void, len: usize) -> io::Result<()> {
    // SAFETY: unlocking does not change memory contents; the range is mapped (caller).
    check(unsafe { c::munlock(ptr, len) }, || {
        format!("munlock of {len} bytes at {ptr:p}")
    })
}

/// `mincore(ptr, len, vec)`: one byte per page of the range, whose low bit says it is in RAM.
///
/// # Safety
///
/// `ptr` is page-aligned and `ptr..ptr + len` is mapped.
pub(crate) unsafe fn mincore(ptr: *mut c_void, len: usize) -> io::Result<Vec<u8>> {
    let pages = len.div_ceil(page_size());
    let mut vec = vec![0u8; pages];
    // The vector is `unsigned char *` in glibc's and musl's headers, `char *` in macOS's and
    // FreeBSD's.
    let bytes = vec.as_mut_ptr().cast();
    // SAFETY: `vec` holds one byte per page of the range; the range is mapped (caller).
    let ret = unsafe { c::mincore(ptr, len, bytes) };
    check(ret, || format!("mincore of {len} bytes at {ptr:p}"))?;
    Ok(vec)
}

/// `mremap(ptr, old_len, new_len, flags)`: the new address of the mapping.
///
/// # Safety
///
/// `ptr..ptr + old_len` is a whole mapping this process made; with `MREMAP_MAYMOVE` in `flags`,
/// nothing may use its old addresses afterwards, and when shrinking nothing may use the cut tail.
#[cfg(mman_has = "MREMAP_MAYMOVE")]
pub(crate) unsafe fn mremap(
    ptr: *mut c_void,
    old_len: usize,
    new_len: usize,
    flags: c_int,
) -> io::Result<*mut c_void> {
    // SAFETY: the caller upholds the contract above; without MREMAP_FIXED no fifth argument is
    // read.
    let new = unsafe { c::mremap(ptr, old_len, new_len, flags) };
    if new == c::MAP_FAILED {
        Err(last_error(|| {
            format!("mremap of {old_len} bytes at {ptr:p} to {new_len} bytes")
        }))
    } else {
        Ok(new)
    }
}

/// A resource limit the crate reads.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Limit {
    /// `RLIMIT_MEMLOCK`: the bytes a process may lock.
    MemLock,
    /// `RLIMIT_STACK`: the size the main thread's stack may grow to.
    Stack,
}

/// The soft limit in bytes, read at each call (`setrlimit` may change it): `getrlimit`; `None`
/// when unlimited.
pub(crate) fn soft_limit(which: Limit) -> io::Result<Option<u64>> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit for getrlimit to fill.
    let ret = unsafe {
        match which {
            Limit::MemLock => libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut limit),
            Limit::Stack => libc::getrlimit(libc::RLIMIT_STACK, &mut limit),
        }
    };
    check(ret, || format!("getrlimit({which:?})"))?;
    #[allow(clippy::unnecessary_cast)] // `rlim_t` is 32 bits on some targets
    Ok((limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur as u64))
}

/// The soft limit as messages give it: `"8388608 bytes"`, `"unlimited"`, or `"unknown"` where it
/// cannot be read. (The messages of failed locks give `RLIMIT_MEMLOCK`: `ENOMEM` and `EPERM` there
/// mean the limit was reached.)
pub(crate) fn soft_limit_text(which: Limit) -> String {
    match soft_limit(which) {
        Ok(None) => "unlimited".to_owned(),
        Ok(Some(bytes)) => format!("{bytes} bytes"),
        Err(_) => "unknown".to_owned(),
    }
}

/// Whether the kernel lets this process lock memory past `RLIMIT_MEMLOCK` (`limit` bytes): whether
/// it has `CAP_IPC_LOCK` as the kernel counts it (in the initial user namespace: a process that is
/// root in a user namespace of its own shows the capability in `CapEff` of `/proc/self/status`,
/// and the kernel still holds it to the limit). Asked of the kernel itself, by locking an
/// inaccessible reservation one page larger than the limit, then unmapping it: with `mlock2`
/// and `MLOCK_ONFAULT`, which faults nothing in; where that is missing (before Linux 4.4, or
/// headers without it), with `mlock` of it made readable, which maps the shared zero page (page
/// tables only, so only up to [`MLOCK_PROBE_MAX`]). `false` where it cannot be asked.
pub(crate) fn may_lock_past(limit: u64) -> bool {
    let Some(len) = usize::try_from(limit)
        .ok()
        .and_then(|limit| limit.checked_add(page_size()))
    else {
        return false;
    };
    let flags = c::MAP_PRIVATE | c::MAP_ANONYMOUS;
    // SAFETY: a new mapping where the kernel picks: no memory in use changes.
    let ptr = unsafe { c::mmap(std::ptr::null_mut(), len, c::PROT_NONE, flags, -1, 0) };
    if ptr == c::MAP_FAILED {
        return false;
    }
    // SAFETY: the reservation just made, to which nothing refers.
    let locked = unsafe { lock_on_fault(ptr, len) };
    let locked = locked.unwrap_or_else(|| {
        len <= MLOCK_PROBE_MAX
            // SAFETY: the reservation just made, to which nothing refers; reading it reads zeros.
            && unsafe { c::mprotect(ptr, len, c::PROT_READ) } == 0
            // SAFETY: the reservation just made; locking it maps the zero page.
            && unsafe { c::mlock(ptr, len) } == 0
    });
    // SAFETY: the reservation just made, to which nothing refers.
    unsafe { c::munmap(ptr, len) };
    locked
}

/// `mlock2(ptr, len, MLOCK_ONFAULT)`, for [`may_lock_past`]: whether it locked (`false` when the
/// limit refused it), or `None` where `mlock2` cannot answer (a kernel before 4.4, or headers
/// without `MLOCK_ONFAULT`).
///
/// # Safety
///
/// `ptr..ptr + len` is a mapping of the caller's, to which nothing else refers.
unsafe fn lock_on_fault(ptr: *mut c_void, len: usize) -> Option<bool> {
    #[cfg(mman_has = "MLOCK_ONFAULT")]
    {
        // SAFETY: the caller's mapping; locking on fault faults nothing in.
        match unsafe { c::mlock2(ptr, len, c::MLOCK_ONFAULT) } {
            0 => Some(true),
            _ => match io::Error::last_os_error().raw_os_error() {
                Some(libc::ENOMEM | libc::EPERM) => Some(false),
                _ => None,
            },
        }
    }
    #[cfg(not(mman_has = "MLOCK_ONFAULT"))]
    {
        let _ = (ptr, len);
        None
    }
}

/// The largest reservation [`may_lock_past`] locks with `mlock`: 1 GiB, 2 MiB of page tables.
const MLOCK_PROBE_MAX: usize = 1 << 30;

/// `mlockall(flags)`; `names` spells the flags, for the message.
pub(crate) fn mlockall(flags: c_int, names: &str) -> io::Result<()> {
    // SAFETY: locking changes no memory contents.
    let ret = unsafe { c::mlockall(flags) };
    check(ret, || {
        format!(
            "mlockall({names}) (RLIMIT_MEMLOCK: {})",
            soft_limit_text(Limit::MemLock)
        )
    })
}

/// `munlockall()`.
pub(crate) fn munlockall() -> io::Result<()> {
    // SAFETY: unlocking changes no memory contents.
    check(unsafe { c::munlockall() }, || "munlockall".to_owned())
}

/// `memfd_create(name, flags)`.
#[cfg(mman_memfd)]
pub(crate) fn memfd_create(
    name: &std::ffi::CStr,
    flags: std::ffi::c_uint,
) -> io::Result<std::os::fd::OwnedFd> {
    // SAFETY: `name` is a NUL-terminated string that lives through the call.
    let fd = unsafe { c::memfd_create(name.as_ptr(), flags) };
    if fd < 0 {
        return Err(last_error(|| format!("memfd_create({name:?})")));
    }
    // SAFETY: the kernel just returned this descriptor, and nothing else owns it.
    Ok(unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) })
}

/// `fcntl(fd, F_GET_SEALS)`: the seals of a memfd.
#[cfg(mman_memfd)]
pub(crate) fn get_seals(fd: BorrowedFd<'_>) -> io::Result<c_int> {
    // SAFETY: F_GET_SEALS reads the seals of an open descriptor, borrowed for the call.
    let seals = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) };
    if seals < 0 {
        return Err(last_error(|| {
            format!("fcntl(F_GET_SEALS) of file descriptor {}", fd.as_raw_fd())
        }));
    }
    Ok(seals)
}

/// `lseek(fd, offset, SEEK_HOLE)`: where the first hole at or after `offset` starts (the file's
/// end where it has none; files that do not track holes have none). `lseek64` on glibc, whose
/// 32-bit targets' `lseek` takes a 32-bit offset.
#[cfg(mman_memfd)]
pub(crate) fn seek_hole(fd: BorrowedFd<'_>, offset: u64) -> io::Result<u64> {
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    use libc::{lseek, off_t};
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    use libc::{lseek64 as lseek, off64_t as off_t};
    let at = off_t::try_from(offset)
        .map_err(|_| crate::error::invalid(format_args!("offset {offset} is past off_t")))?;
    // SAFETY: SEEK_HOLE moves the borrowed descriptor's offset, which no map depends on.
    let hole = unsafe { lseek(fd.as_raw_fd(), at, libc::SEEK_HOLE) };
    if hole < 0 {
        return Err(last_error(|| {
            format!(
                "lseek(SEEK_HOLE) at offset {offset} of file descriptor {}",
                fd.as_raw_fd()
            )
        }));
    }
    Ok(hole as u64)
}

/// `fcntl(fd, F_ADD_SEALS, seals)`.
#[cfg(mman_memfd)]
pub(crate) fn add_seals(fd: BorrowedFd<'_>, seals: c_int) -> io::Result<()> {
    // SAFETY: F_ADD_SEALS changes what later calls on the file may do, not memory of this process.
    let ret = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, seals) };
    if ret < 0 {
        return Err(last_error(|| {
            format!(
                "fcntl(F_ADD_SEALS, {seals:#x}) of file descriptor {}",
                fd.as_raw_fd()
            )
        }));
    }
    Ok(())
}

/// `fcntl(fd, F_DUPFD_CLOEXEC, 3)`: a descriptor of the same file, close-on-exec, numbered 3 or
/// above, so that it is none of the standard streams a child's `stdin`, `stdout` or `stderr` may
/// be put on.
#[cfg(mman_memfd)]
pub(crate) fn dup_above_stdio(fd: BorrowedFd<'_>) -> io::Result<std::os::fd::OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC makes a new descriptor of an open one, borrowed for the call; it
    // changes no memory.
    let new = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) };
    if new < 0 {
        return Err(last_error(|| {
            format!(
                "fcntl(F_DUPFD_CLOEXEC, 3) of file descriptor {}",
                fd.as_raw_fd()
            )
        }));
    }
    // SAFETY: the kernel just returned this descriptor, and nothing else owns it.
    Ok(unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(new) })
}

/// `fcntl(fd, F_SETFD, 0)`: `fd` stays open across `exec`. For a child between `fork` and `exec`,
/// where only async-signal-safe calls may be made: it makes one, allocates nothing, and its error
/// is the bare OS error (no message, which would allocate), which `Command::spawn` returns.
#[cfg(mman_memfd)]
pub(crate) fn keep_open_across_exec(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: F_SETFD changes a flag of an open descriptor, borrowed for the call; no memory.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `fcntl(fd, F_SETFD, FD_CLOEXEC)`: `fd` is closed on `exec`. `EBADF` when it is not open.
#[cfg(mman_memfd)]
pub(crate) fn close_on_exec(fd: std::os::fd::RawFd) -> io::Result<()> {
    // SAFETY: F_SETFD changes a flag of a descriptor, or fails with EBADF; no memory.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } != 0 {
        return Err(last_error(|| {
            format!("fcntl(F_SETFD, FD_CLOEXEC) of file descriptor {fd}")
        }));
    }
    Ok(())
}

/// Whether the file has fs-verity on (Linux 5.4): its contents are fixed, checked against a hash
/// on every read, and no one can open it for writing or truncate it. Asked with
/// `statx(fd, "", AT_EMPTY_PATH)`, whose `STATX_ATTR_VERITY` attribute Linux 5.5 reports; an older
/// kernel (or a failed call) answers `false`. Through `syscall`, so that no libc newer than the
/// program's own (glibc 2.28 has `statx`) is needed.
#[cfg(libc_statx)]
pub(crate) fn has_fs_verity(fd: BorrowedFd<'_>) -> bool {
    let mut stat = std::mem::MaybeUninit::<libc::statx>::zeroed();
    // SAFETY: statx fills the buffer given, of the size it expects, and reads the empty path, a
    // NUL-terminated string; `fd` is open for the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_statx,
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            0 as std::ffi::c_uint,
            stat.as_mut_ptr(),
        )
    };
    if ret != 0 {
        return false;
    }
    // SAFETY: statx succeeded, so it filled `stat` (and it was zeroed before).
    let stat = unsafe { stat.assume_init() };
    let verity = libc::STATX_ATTR_VERITY as u64;
    stat.stx_attributes_mask & verity != 0 && stat.stx_attributes & verity != 0
}
