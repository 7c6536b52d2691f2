//! Memory-mapped files and anonymous memory, with the host's exact flags and checked ranges.
//!
//! Built on [`mmap_sys`], whose constants are generated from the host's headers: every flag and
//! advice here is the host's own value, and exists only where the host defines it. The API follows
//! memmap2's, so a memmap2 user switches by changing the dependency's name; it checks more before
//! calling the kernel, and names the call and its arguments in every error.
//!
//! # A tour
//!
//! Read a file:
//!
//! ```
//! use std::io::Write;
//! use mmap::Mmap;
//!
//! # fn main() -> std::io::Result<()> {
//! let mut file = tempfile::tempfile()?;
//! file.write_all(b"hello, map")?;
//! // SAFETY: the temporary file is this process's alone: nothing writes or truncates it.
//! let map = unsafe { Mmap::map(&file)? };
//! assert_eq!(&map[..5], b"hello");
//! # Ok(())
//! # }
//! ```
//!
//! Write a file and flush the writes to it:
//!
//! ```
//! use mmap::MmapMut;
//!
//! # fn main() -> std::io::Result<()> {
//! let file = tempfile::tempfile()?;
//! file.set_len(4096)?;
//! // SAFETY: as above.
//! let mut map = unsafe { MmapMut::map_mut(&file)? };
//! map[..5].copy_from_slice(b"saved");
//! map.flush()?; // msync(MS_SYNC): on disk when this returns
//! # Ok(())
//! # }
//! ```
//!
//! Anonymous memory, with advice for the kernel:
//!
//! ```
//! use mmap::{Advice, MmapOptions};
//!
//! # fn main() -> std::io::Result<()> {
//! let mut memory = MmapOptions::new().len(1 << 20).map_anon()?;
//! memory.advise(Advice::Sequential)?;
//! memory.fill(1);
//! assert_eq!(memory.iter().map(|&b| usize::from(b)).sum::<usize>(), 1 << 20);
//! # Ok(())
//! # }
//! ```
//!
//! # Linux features
//!
//! - Resize: [`MmapMut::remap`] (`mremap`), which refuses to grow a file map past the file's end.
//! - Prefault without `SIGBUS`: [`MmapMut::populate`], [`MmapMut::populate_write`]
//!   (`MADV_POPULATE_READ` / `_WRITE`, Linux 5.14), and a checked copy, [`Mmap::read_at`] and
//!   [`Mmap::reader`] ([`MmapReader`]), as fast as a slice copy on x86-64 (with a signal handler:
//!   see [`install_fault_handler`]), through `process_vm_readv` elsewhere.
//! - Residency: [`Mmap::resident_pages`] and [`Mmap::residency`] (`mincore`).
//! - Huge pages: [`HugePageSize`] (one constant per `MAP_HUGE_*`), [`HugePageSize::available`],
//!   [`MmapOptions::huge_page_size`], and transparent huge pages through [`Advice::HugePage`].
//! - Shared memory between processes: [`SharedMemory`] (`memfd_create`), with [`Seals`], and a safe
//!   read-only map of sealed memory, [`MmapOptions::map_sealed`].
//! - Placement: [`MmapOptions::address_hint`], [`MmapOptions::fixed_no_replace`]
//!   (`MAP_FIXED_NOREPLACE`).
//! - Locking: [`Mmap::lock`], [`Mmap::lock_on_fault`] (`mlock2`), [`lock_all`] / [`unlock_all`]
//!   (`mlockall`).
//!
//! Each exists where the host's headers define its constants; where the running kernel refuses one,
//! the call fails with [`ErrorKind::Unsupported`](std::io::ErrorKind::Unsupported).
//!
//! # Safety of file maps
//!
//! A map of a file gives out `&[u8]` (or `&mut [u8]`) over memory another process can change or
//! cut short by writing or truncating the file: the constructors that do so are `unsafe`, and their
//! caller promises it will not happen. [`MmapRaw`] gives out raw pointers only, so making it is
//! safe.
//!
//! # Errors
//!
//! Every call returns [`std::io::Result`]. Bad arguments are refused before any system call with
//! [`ErrorKind::InvalidInput`](std::io::ErrorKind::InvalidInput) and a message naming the call and the
//! argument (`"flush_range: range 8..12 (offset 8, len 4) is outside the map of 10 bytes"`). A failed
//! system call keeps the OS error's kind and names the call (`"map_mut: mmap of 4096 bytes at offset 0
//! failed: Permission denied (os error 13)"`); the OS error itself is the error's
//! [`source`](std::error::Error::source). Where the crate explains a failure (an `EFAULT` that means
//! "past the end of the file", an `EINVAL` that means "this kernel is too old"), the error has its
//! own kind and message, and the call's error, with the OS error below it, stays its source. A descriptor that is not open (`EBADF`) is `InvalidInput`
//! too.
//!
//! # Features
//!
//! - `bytes`: `From<Mmap> for bytes::Bytes`, without a copy.
//! - `stable_deref_trait`: `StableDeref` for `Mmap` and `MmapMut`.
//!
//! And one `cfg`, for the final binary to set (`RUSTFLAGS="--cfg mmap_no_fault_handler"`): no
//! signal handler of this crate; the checked reads copy through the kernel (`process_vm_readv`),
//! 3 to 30 times slower, with the same results. See [`install_fault_handler`] for what the handler
//! does and what it needs.

#![cfg_attr(docsrs, feature(doc_cfg))]

#[macro_use]
mod common;

mod advice;
mod checked_copy;
mod flags;
#[cfg(all(mman_has = "MAP_HUGETLB", mman_has = "MAP_HUGE_SHIFT", mman_has = "MAP_HUGE_MASK"))]
mod huge;
mod inner;
mod lock_all;
mod map;
mod map_mut;
mod options;
mod range;
mod raw;
mod reader;
#[cfg(mman_has = "MREMAP_MAYMOVE")]
mod remap;
#[cfg(all(
    mman_has = "MFD_CLOEXEC",
    mman_has = "MFD_ALLOW_SEALING",
    any(target_os = "linux", target_os = "android")
))]
mod shared_memory;
mod sys;

#[cfg(feature = "bytes")]
mod bytes;
#[cfg(feature = "stable_deref_trait")]
mod stable_deref;

pub use advice::{Advice, UncheckedAdvice};
pub use checked_copy::install_fault_handler;
pub use flags::{MapFlags, Protection};
#[cfg(all(mman_has = "MAP_HUGETLB", mman_has = "MAP_HUGE_SHIFT", mman_has = "MAP_HUGE_MASK"))]
pub use huge::{HugePagePool, HugePageSize};
pub use lock_all::{lock_all, unlock_all, LockAll};
pub use map::Mmap;
pub use map_mut::MmapMut;
pub use options::MmapOptions;
pub use raw::MmapRaw;
pub use reader::MmapReader;
#[cfg(mman_has = "MREMAP_MAYMOVE")]
pub use remap::RemapOptions;
#[cfg(all(
    mman_has = "MFD_CLOEXEC",
    mman_has = "MFD_ALLOW_SEALING",
    any(target_os = "linux", target_os = "android")
))]
pub use shared_memory::{Seals, SharedMemory};

/// The constants this crate can use that the host's headers do not define, such as
/// `"MADV_POPULATE_READ"` with musl's headers: the features built on them are not in this build
/// (each such item's documentation names the constant it needs). Empty on a host with current glibc
/// and Linux headers.
///
/// ```
/// for name in mmap::missing_constants() {
///     println!("not supported by this build: {name} (the host's headers lack it)");
/// }
/// ```
pub fn missing_constants() -> &'static [&'static str] {
    include!(concat!(env!("OUT_DIR"), "/missing.rs"))
}

/// The size of a memory page in bytes: `sysconf(_SC_PAGESIZE)`, read once.
///
/// ```
/// assert!(mmap::page_size().is_power_of_two());
/// ```
#[inline]
pub fn page_size() -> usize {
    sys::page_size()
}
