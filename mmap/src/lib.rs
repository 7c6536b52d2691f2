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
//! use mman::Mmap;
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
//! use mman::MmapMut;
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
//! use mman::{Advice, MmapOptions};
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
//!   [`Mmap::reader`] ([`MmapReader`]), with no system call on x86-64 and aarch64 Linux (with a
//!   signal handler: see [`install_fault_handler`]; as fast as a slice copy, measured on x86-64),
//!   through `process_vm_readv` elsewhere.
//! - Residency: [`Mmap::resident_pages`] and [`Mmap::residency`] (`mincore`).
//! - Huge pages: [`HugePageSize`] (one constant per `MAP_HUGE_*`), [`HugePageSize::available`],
//!   [`MmapOptions::huge_page_size`], and transparent huge pages through [`Advice::HugePage`].
//! - Shared memory between processes: [`SharedMemory`] (`memfd_create`), with [`Seals`], and a safe
//!   read-only map of sealed memory, [`MmapOptions::map_sealed`].
//! - Placement: [`MmapOptions::address_hint`], [`MmapOptions::fixed_no_replace`]
//!   (`MAP_FIXED_NOREPLACE`).
//! - Locking: [`Mmap::lock`], [`Mmap::lock_on_fault`] and [`Mmap::lock_range_on_fault`] (`mlock2`),
//!   [`lock_all`] / [`unlock_all`] (`mlockall`).
//! - Safe maps of files nothing can change, as memmap2's: [`Mmap::map_if_safe`] (sealed memfds and
//!   fs-verity files).
//! - Durability: [`MmapOptions::dax_sync`] (`MAP_SYNC`, for persistent memory),
//!   [`MmapMut::flush_invalidate`] (`MS_INVALIDATE`).
//!
//! Each exists where the host's headers define its constants; where the running kernel refuses one,
//! the call fails with [`ErrorKind::Unsupported`](std::io::ErrorKind::Unsupported).
//!
//! # Other systems
//!
//! On macOS and the BSDs this crate has what their headers define: maps, flush, advice (their own
//! `MADV_*`), protection, locking, residency, and the checked copy [`Mmap::read_at`], which copies
//! through the kernel everywhere (`process_vm_readv` on Linux; elsewhere `write(2)` of the range
//! into a pipe, which fails with `EFAULT` on a page the kernel cannot read). Their headers lack the
//! constants of remap, populate, huge pages, `fixed_no_replace` and `lock_on_fault`, so those are
//! not there. The Linux kernel's own calls are compiled only for Linux and Android
//! (`cfg(linux_kernel)`, set by the build script): `SharedMemory` and `Seals` (`memfd_create`,
//! `fcntl(F_ADD_SEALS)`) and `MmapOptions::map_sealed`. [`Advice::is_supported`] relies on Linux
//! checking the advice before the range; elsewhere it says what `madvise(NULL, 0, advice)` returns.
//!
//! # Safety of file maps
//!
//! A map of a file gives out `&[u8]` (or `&mut [u8]`) over memory another process can change or
//! cut short by writing or truncating the file: the constructors that do so are `unsafe`, and their
//! caller promises it will not happen. [`MmapRaw`] gives out raw pointers only, so making it is
//! safe.
//!
//! # What the safe API guarantees
//!
//! Code without `unsafe` of its own (and maps from the safe constructors:
//! [`MmapOptions::map_anon`], [`MmapOptions::map_sealed`], [`MmapOptions::map_raw`]) can rely on
//! the following. Each promise names the tests (in `mmap/tests/`) that hold it; the `soundness`
//! ones run the safe code in a child process and check that no signal ended it and that
//! `/proc/self/maps` keeps nothing of the map.
//!
//! - **No signal from a safe call, nor from touching a map made safely.** Anonymous maps are backed
//!   by memory (running out of it is the out-of-memory killer's business, not a fault of the map).
//!   A sealed file cannot shrink under a [`map_sealed`](MmapOptions::map_sealed) map. Huge pages
//!   are reserved when mapping: [`no_reserve_swap`](MmapOptions::no_reserve_swap)
//!   (`MAP_NORESERVE`), which would reserve none, is refused with them, and every huge page of a
//!   new map is faulted in at once (Linux 5.14), so a hugetlb cgroup limit fails the map instead of
//!   a later touch. `remap` grows a file map only as far as the file, also where a seccomp filter
//!   denies `process_vm_readv`; `read_at` and `populate` report bytes past a truncated end as
//!   errors. Tests: `soundness_huge::hugetlb_without_reserve_is_refused`,
//!   `soundness_huge::a_hugetlb_cgroup_limit_fails_the_map_not_a_touch`,
//!   `soundness_huge::a_sealed_hugetlb_memfd_maps_without_sigbus`,
//!   `soundness::remap_grows_where_process_vm_readv_is_denied`,
//!   `remap::a_file_map_grows_only_as_far_as_the_file`, `truncation`.
//! - **No raw value reaches the kernel unchecked from safe code.** [`MmapOptions::flags`] takes
//!   only the flags [`MapFlags`] names, each sound with every other option; raw `MAP_` bits go
//!   through the `unsafe` [`MmapOptions::flags_unchecked`]. [`MmapRaw::protect_range`] takes only
//!   the bits [`Protection`] names. Advice that can change what a map reads is [`UncheckedAdvice`],
//!   given through `unsafe` methods only. Tests:
//!   `soundness::map_sealed_is_private_and_refuses_raw_flags`,
//!   `lock::map_locked_through_raw_extra_flags_locks_at_once`, `advice`.
//! - **No map where a stack grows.** The kernel keeps its stack guard gap only for the addresses it
//!   picks; the crate refuses, with `InvalidInput` naming the stack, a map placed by address
//!   ([`address_hint`](MmapOptions::address_hint), `fixed_no_replace`) or grown in place by `remap`
//!   into the main thread's stack's reach (below `[stack]` by `RLIMIT_STACK` and the guard gap,
//!   `stack_guard_gap`, 256 pages by default) or within the guard gap below any other grows-down
//!   mapping. Tests: `soundness::fixed_no_replace_right_below_the_stack_is_refused`,
//!   `soundness::address_hint_within_the_stack_limit_is_refused`,
//!   `soundness::remap_does_not_grow_a_map_into_the_stack_limit`,
//!   `soundness::a_map_right_below_a_grows_down_mapping_is_refused`.
//! - **No leaked map.** Every length the crate records is the one the kernel mapped: rounded up to
//!   whole huge pages of the size asked for (with `huge`, or `MAP_HUGETLB` in the flags) or of the
//!   file's own (a file on hugetlbfs, or a memfd made with `MFD_HUGETLB`), on every path; an empty
//!   hugetlbfs file is not probed; `remap` of a map of huge pages is refused (`Unsupported`). So
//!   dropping a map unmaps all of it (a debug assertion checks `munmap`'s result). Tests:
//!   `soundness_huge::hugetlb_through_flags_records_the_rounded_length`,
//!   `soundness_huge::remap_of_a_hugetlb_map_is_refused_and_leaks_nothing`,
//!   `soundness_huge::map_sealed_of_part_of_a_hugetlb_memfd_records_the_rounded_length`,
//!   `soundness_huge::an_empty_hugetlb_memfd_maps_empty_and_leaks_nothing`,
//!   `leaks::dropping_a_map_unmaps_exactly_what_was_mapped`, `leaks`.
//! - **A sealed map never changes, and maps on every kernel that can seal.** `map_sealed` needs
//!   the `SHRINK` and `WRITE` seals, which are never removed, and maps privately and read-only (a
//!   shared map of a write-sealed memfd is refused before Linux 6.7); [`Mmap::make_mut`] of it is
//!   copy-on-write. The file checked is the file mapped: `map_sealed` and `map_if_safe` check and
//!   map a descriptor of their own (`fcntl(F_DUPFD_CLOEXEC)`), so a `RawFd` whose number another
//!   thread closes and reuses for another file between the two cannot map that file. (The other
//!   constructors map the caller's descriptor; should a swapped number slip a file of huge pages in
//!   with another's length, dropping the map still unmaps all the kernel mapped:
//!   `review::map_raw_of_a_number_swapped_for_huge_pages_leaks_nothing`.) Tests:
//!   `soundness::map_sealed_is_private_and_refuses_raw_flags`, `shared_memory`,
//!   `review::map_sealed_of_a_number_swapped_after_the_check_is_never_made`,
//!   `review::map_if_safe_of_a_number_swapped_after_the_check_is_never_made`.
//! - **A map covers what the file holds.** Block devices map at their size (`BLKGETSIZE64`; `fstat`
//!   says 0). Test: `soundness::a_block_device_maps_at_its_size`.
//! - **Bad input is an error, never a panic**, naming the public call: `bad_input`. Every error
//!   names the public method that failed, once and first, whether it failed before any system
//!   call or after one: `errors::each_method_names_itself_once_before_any_call`,
//!   `errors::each_method_names_itself_once_after_a_call`.
//!
//! What it does not cover:
//!
//! - Maps from the `unsafe` constructors ([`Mmap::map`], [`MmapMut::map_mut`], ...): that no one
//!   writes or truncates the file is their caller's promise.
//! - A child made with `fork` (which is `unsafe`): it shares private huge pages copy-on-write and
//!   may get `SIGBUS` when none is free; `Advice::DontFork` leaves it no map at all.
//! - A process at `vm.max_map_count` mappings (safe code gets there by splitting a map with
//!   `MmapRaw::protect_range` or `*_range` calls): the kernel merges adjacent maps of the same
//!   kind into one mapping, and unmapping one from the middle of such a mapping needs one more,
//!   which the limit refuses (`ENOMEM`): the dropped map stays mapped (nothing refers to it).
//! - Changes after the check: `RLIMIT_STACK` raised later, or a grows-down mapping made later (only
//!   `unsafe` code can make one), widen the stack's reach past a map placed before.
//! - With `RLIMIT_STACK` unlimited the stack may reach any address below it: every placement below
//!   it is refused. Where `/proc/self/maps` cannot be read (no `/proc`), placement by address and
//!   growing in place with `remap` are refused with `Unsupported`. On Linux before 5.14, and in a
//!   build whose headers lack `MADV_POPULATE_READ` and `MADV_POPULATE_WRITE` (musl's), the huge
//!   pages of a new map are not faulted in (a hugetlb cgroup limit can then raise `SIGBUS` at a
//!   touch), and `remap` cannot grow a file map where `process_vm_readv` is denied (`Unsupported`;
//!   anonymous maps grow). A build whose headers lack `MAP_HUGE_SHIFT` and `MAP_HUGE_MASK` (musl's)
//!   refuses huge pages (`MAP_HUGETLB`, files of hugetlbfs) with `Unsupported`: it cannot tell the
//!   length the kernel would map.
//!
//! # Errors
//!
//! Every call returns [`std::io::Result`]. Bad arguments are refused before any system call with
//! [`ErrorKind::InvalidInput`](std::io::ErrorKind::InvalidInput) and a message naming the public
//! method and the argument (`"flush_range: range 8..12 (offset 8, len 4) is outside the map of 10
//! bytes"`). A failed system call keeps the OS error's kind, and its message names the public
//! method, then the system call and its arguments, then the OS error (`"lock: mlock of 4096 bytes
//! at 0x7f3a2c000000 (RLIMIT_MEMLOCK: 8388608 bytes) failed: Cannot allocate memory (os error
//! 12)"`). Where the crate explains a failure (an `EFAULT` that means "past the end of the file",
//! an `EEXIST` that means "something is mapped there"), the error has its own kind and message.
//!
//! The OS error's number (`errno`) is [`raw_os_error(&error)`](raw_os_error): std's
//! `error.raw_os_error()`, which memmap2's users call, is `None` for an error with a message.
//! A descriptor that is not open (`EBADF`) is `InvalidInput` too, and a file the kernel cannot map
//! (`ENODEV`) `Unsupported`.
//!
//! An error's `Display` includes the OS error's text, and its
//! [`source`](std::error::Error::source) is `None`: reporters that print the chain of sources
//! (anyhow's `{:#}`) print the OS error once.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! let map = mman::MmapMut::map_anon(4096)?;
//! match map.lock() {
//!     Ok(()) => map.unlock()?,
//!     // Past RLIMIT_MEMLOCK (memmap2 code matched on `error.raw_os_error()`).
//!     Err(error) if matches!(mman::raw_os_error(&error), Some(libc::ENOMEM | libc::EPERM)) => {
//!         println!("not locked: {error}")
//!     }
//!     Err(error) => return Err(error),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Features
//!
//! - `bytes`: `From<Mmap> for bytes::Bytes`, without a copy.
//! - `stable_deref_trait`: `StableDeref` for `Mmap` and `MmapMut`.
//!
//! And one `cfg`, for the final binary to set (`RUSTFLAGS="--cfg mman_no_fault_handler"`): no
//! signal handler of this crate; the checked reads copy through the kernel (`process_vm_readv`),
//! 3 to 30 times slower, with the same results. See [`install_fault_handler`] for what the handler
//! does and what it needs.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod advice;
mod checked_copy;
mod desc;
mod error;
mod flags;
#[cfg(mman_huge)]
mod huge;
mod if_safe;
mod inner;
mod lock_all;
mod map;
mod options;
mod range;
mod reader;
#[cfg(mman_has = "MREMAP_MAYMOVE")]
mod remap;
#[cfg(mman_memfd)]
mod seals;
#[cfg(mman_memfd)]
mod shared_memory;
mod stack_guard;
mod sys;

#[cfg(feature = "bytes")]
mod bytes;
#[cfg(feature = "stable_deref_trait")]
mod stable_deref;

pub use advice::{Advice, UncheckedAdvice};
pub use checked_copy::install_fault_handler;
pub use desc::{MmapAsRawDesc, MmapRawDescriptor};
pub use error::raw_os_error;
pub use flags::{MapFlags, Protection};
#[cfg(mman_huge)]
pub use huge::{HugePagePool, HugePageSize};
pub use if_safe::MapIfSafeError;
pub use lock_all::{lock_all, unlock_all, LockAll};
pub use map::{Mmap, MmapMut, MmapRaw};
pub use options::MmapOptions;
pub use reader::MmapReader;
#[cfg(mman_has = "MREMAP_MAYMOVE")]
pub use remap::RemapOptions;
#[cfg(mman_memfd)]
pub use seals::Seals;
#[cfg(mman_memfd)]
pub use shared_memory::SharedMemory;

/// The constants this crate can use that the host's headers do not define, such as
/// `"MADV_POPULATE_READ"` with musl's headers: the features built on them are not in this build
/// (each such item's documentation names the constant it needs). Empty on a host with current glibc
/// and Linux headers.
///
/// ```
/// for name in mman::missing_constants() {
///     println!("not supported by this build: {name} (the host's headers lack it)");
/// }
/// ```
pub fn missing_constants() -> &'static [&'static str] {
    include!(concat!(env!("OUT_DIR"), "/missing.rs"))
}

/// The size of a memory page in bytes: `sysconf(_SC_PAGESIZE)`, read once.
///
/// ```
/// assert!(mman::page_size().is_power_of_two());
/// ```
///
/// # References
///
/// - [`sysconf(3)`](https://man7.org/linux/man-pages/man3/sysconf.3.html)
#[inline]
#[doc(alias = "sysconf")]
#[doc(alias = "_SC_PAGESIZE")]
#[doc(alias = "getpagesize")]
pub fn page_size() -> usize {
    sys::page_size()
}
