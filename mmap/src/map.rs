//! The three map types: [`Mmap`] (read-only, a `&[u8]`), [`MmapMut`] (writable, a `&mut [u8]`)
//! and [`MmapRaw`] (raw pointers), with their methods, the conversions between them (`make_*`,
//! `From`), and the constructors of [`MmapOptions`] that make them. In one file, as memmap2 keeps
//! them, since each converts into the others. The mapping itself is [`MmapInner`]'s; the checks of
//! a new map are [`MmapOptions`]' (in `options.rs`).

use std::io;
use std::ops::{Deref, DerefMut};

use crate::advice::{Advice, UncheckedAdvice};
use crate::checked_copy::Via;
use crate::desc::MmapAsRawDesc;
use crate::error;
use crate::flags::Protection;
use crate::if_safe::MapIfSafeError;
#[cfg(mman_populate)]
use crate::inner::Populate;
use crate::inner::{Flush, Locking, MmapInner};
use crate::options::{MmapOptions, Sharing};
use crate::reader::MmapReader;

/// The methods every map type has, on a type whose field `inner` is an `MmapInner`: its length and
/// address, advice (`madvise`), prefaulting (`MADV_POPULATE_READ`), the checked copy (`read_at`,
/// `read_exact_at`, `reader`), residency (`mincore`) and locking (`mlock`, `munlock`), and
/// `Debug`. A macro, as the three types have the same methods with the same documentation.
macro_rules! impl_methods_of_every_map {
    ($ty:ident) => {
        impl $ty {
            /// The map's length in bytes.
            #[inline]
            pub fn len(&self) -> usize {
                self.inner.len()
            }

            /// Whether the map is empty (a length of 0, or an empty file: nothing is mapped then).
            #[inline]
            pub fn is_empty(&self) -> bool {
                self.inner.len() == 0
            }

            /// The address of the map's first byte.
            #[inline]
            pub fn as_ptr(&self) -> *const u8 {
                self.inner.ptr()
            }

            /// Advises the kernel how the whole map will be used: `madvise(2)` with `advice`'s
            /// `MADV_` constant.
            ///
            /// # Errors
            ///
            /// `Unsupported` when the running kernel does not know the advice; otherwise the error
            /// of `madvise`.
            ///
            /// # References
            ///
            /// - [`madvise(2)`](https://man7.org/linux/man-pages/man2/madvise.2.html)
            #[doc(alias = "madvise")]
            pub fn advise(&self, advice: Advice) -> io::Result<()> {
                error::in_call("advise", || {
                    // SAFETY: an `Advice` never changes what the map reads.
                    unsafe { self.inner.advise(0, self.len(), advice.raw()) }
                })
            }

            /// As `advise`, for the `len` bytes from `offset`, widened to whole pages.
            ///
            /// # Errors
            ///
            /// `InvalidInput` before any call if the range is not within the map; otherwise as
            /// `advise`.
            ///
            /// # References
            ///
            /// - [`madvise(2)`](https://man7.org/linux/man-pages/man2/madvise.2.html)
            #[doc(alias = "madvise")]
            pub fn advise_range(
                &self,
                advice: Advice,
                offset: usize,
                len: usize,
            ) -> io::Result<()> {
                error::in_call("advise_range", || {
                    // SAFETY: an `Advice` never changes what the map reads.
                    unsafe { self.inner.advise(offset, len, advice.raw()) }
                })
            }

            /// Gives the kernel advice that can change what the map reads (`madvise(2)`), for the
            /// whole map.
            ///
            /// # Errors
            ///
            /// As `advise`.
            ///
            /// # Safety
            ///
            /// The caller accepts what the advice does to the contents (see each
            /// [`UncheckedAdvice`](crate::UncheckedAdvice)) and holds no reference into the map
            /// that relies on them staying as they are.
            ///
            /// # References
            ///
            /// - [`madvise(2)`](https://man7.org/linux/man-pages/man2/madvise.2.html)
            #[doc(alias = "madvise")]
            #[doc(alias = "MADV_DONTNEED")]
            pub unsafe fn unchecked_advise(&self, advice: UncheckedAdvice) -> io::Result<()> {
                error::in_call("unchecked_advise", || {
                    // SAFETY: the caller's promise above.
                    unsafe { self.inner.advise(0, self.len(), advice.raw()) }
                })
            }

            /// As `unchecked_advise`, for the `len` bytes from `offset`, widened to whole pages.
            ///
            /// # Errors
            ///
            /// `InvalidInput` before any call if the range is not within the map; otherwise as
            /// `advise`.
            ///
            /// # Safety
            ///
            /// As `unchecked_advise`, for the pages the range touches.
            ///
            /// # References
            ///
            /// - [`madvise(2)`](https://man7.org/linux/man-pages/man2/madvise.2.html)
            #[doc(alias = "madvise")]
            #[doc(alias = "MADV_DONTNEED")]
            pub unsafe fn unchecked_advise_range(
                &self,
                advice: UncheckedAdvice,
                offset: usize,
                len: usize,
            ) -> io::Result<()> {
                error::in_call("unchecked_advise_range", || {
                    // SAFETY: the caller's promise above.
                    unsafe { self.inner.advise(offset, len, advice.raw()) }
                })
            }

            /// Prefaults the whole map, reading every page in now: `madvise(2)` with
            /// [`MADV_POPULATE_READ`](mmap_sys::MADV_POPULATE_READ) (Linux 5.14). Unlike touching
            /// the bytes, it fails with an error where a page lies past the end of the file (it
            /// was truncated under the map), instead of killing the process with `SIGBUS`.
            ///
            /// ```
            /// # fn main() -> std::io::Result<()> {
            /// let file = tempfile::tempfile()?;
            /// file.set_len(8 * mman::page_size() as u64)?;
            /// // SAFETY: the temporary file is this process's alone, and nothing truncates it.
            /// let map = unsafe { mman::Mmap::map(&file)? };
            /// map.populate()?;
            /// assert_eq!(map.resident_pages()?, 8);
            /// # Ok(())
            /// # }
            /// ```
            ///
            /// Availability: Linux and Android, where the target's headers define
            /// `MADV_POPULATE_READ` and `MADV_POPULATE_WRITE` (Linux's from 5.14; musl's lack
            /// them).
            ///
            /// # Errors
            ///
            /// `UnexpectedEof` when part of the map is past the end of the file; `Unsupported` on a
            /// kernel older than 5.14; otherwise the error of `madvise`.
            ///
            /// # References
            ///
            /// - [`madvise(2)`](https://man7.org/linux/man-pages/man2/madvise.2.html)
            #[cfg(mman_populate)]
            #[doc(alias = "madvise")]
            #[doc(alias = "MADV_POPULATE_READ")]
            #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
            pub fn populate(&self) -> io::Result<()> {
                error::in_call("populate", || {
                    self.inner.populate(0, self.len(), Populate::Read)
                })
            }

            /// As `populate`, for the `len` bytes from `offset`, widened to whole pages.
            ///
            /// Availability: as `populate`.
            ///
            /// # Errors
            ///
            /// `InvalidInput` before any call if the range is not within the map; otherwise as
            /// `populate`.
            ///
            /// # References
            ///
            /// - [`madvise(2)`](https://man7.org/linux/man-pages/man2/madvise.2.html)
            #[cfg(mman_populate)]
            #[doc(alias = "madvise")]
            #[doc(alias = "MADV_POPULATE_READ")]
            #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
            pub fn populate_range(&self, offset: usize, len: usize) -> io::Result<()> {
                error::in_call("populate_range", || {
                    self.inner.populate(offset, len, Populate::Read)
                })
            }

            /// Copies the map's bytes from `offset` into `buf`, as `FileExt::read_at` (`pread(2)`)
            /// reads a file, but checked: a page past the end of the file (it was truncated under
            /// the map), or that cannot be read, ends the copy, where reading the slice would kill
            /// the process with `SIGBUS`. Returns the number of bytes copied, by `pread`'s rules,
            /// the map's length standing for the file's:
            ///
            /// - `buf.len()` where the map holds them;
            /// - fewer at the end of the map, or before the first byte that cannot be read: a
            ///   short count (the next read, from that byte, is the error);
            /// - 0 at the end of the map (`offset == len()`) or past it, and for an empty `buf`.
            ///
            /// An error only when nothing was copied. At a byte that cannot be read, `pread` of a
            /// file cut short would say 0 (its new end); `read_at` says `UnexpectedEof`, since the
            /// map's end is its length, and a page before it that cannot be read is the file
            /// ending early, a page protected against reading, or a page whose reading in failed
            /// (an I/O error), which the copy cannot tell apart: a 0 would end a read loop early,
            /// silently, with bytes missing. (From a truncated end to the end of its page, the map
            /// reads zeros, as every map does, where `pread` says 0.)
            /// [`read_exact_at`](Self::read_exact_at) fills the buffer or fails.
            ///
            /// On x86-64 and aarch64 Linux it makes no system call (on x86-64, measured, it costs
            /// what a plain copy costs): the copy is made by a routine that a `SIGBUS`/`SIGSEGV`
            /// handler of this crate stops at such a page (installed with `sigaction(2)` on the
            /// first call; every other fault goes on to the handler before it). Elsewhere, or built
            /// with `--cfg mman_no_fault_handler`, the kernel makes the copy: `process_vm_readv(2)`
            /// on this process (off Linux, `write(2)` of the range into a pipe, read back). The
            /// results are the same; see [`install_fault_handler`](crate::install_fault_handler)
            /// for what the handler needs.
            ///
            /// ```
            /// use std::io::Write;
            ///
            /// # fn main() -> std::io::Result<()> {
            /// let mut file = tempfile::tempfile()?;
            /// file.write_all(b"header:payload")?;
            /// // SAFETY: the temporary file is this process's alone.
            /// let map = unsafe { mman::Mmap::map(&file)? };
            /// let mut buf = [0u8; 16];
            /// let n = map.read_at(&mut buf, 7)?;
            /// assert_eq!(&buf[..n], b"payload"); // short: the map ends there
            /// assert_eq!(map.read_at(&mut buf, map.len())?, 0); // the end, as for a file
            /// # Ok(())
            /// # }
            /// ```
            ///
            /// # Errors
            ///
            /// `InvalidInput` before any call for an `offset` past `isize::MAX`, which no map
            /// reaches (as `pread`'s `EINVAL` for an offset past the largest `off_t`: most likely
            /// a subtraction that wrapped); `UnexpectedEof` when the byte at `offset` cannot be
            /// read (past the end of a truncated file, or protected against reading); otherwise,
            /// where the kernel makes the copy and fails before copying a byte, the error of
            /// `process_vm_readv` (off Linux: of `pipe`, `write` or `read`).
            ///
            /// # References
            ///
            /// - [`pread(2)`](https://man7.org/linux/man-pages/man2/pread.2.html)
            /// - [`process_vm_readv(2)`](https://man7.org/linux/man-pages/man2/process_vm_readv.2.html)
            /// - [`sigaction(2)`](https://man7.org/linux/man-pages/man2/sigaction.2.html)
            #[inline]
            #[doc(alias = "process_vm_readv")]
            #[doc(alias = "pread")]
            pub fn read_at(&self, buf: &mut [u8], offset: usize) -> io::Result<usize> {
                self.inner.read_at(buf, offset, Via::Fastest, "read_at")
            }

            /// Fills `buf` with the map's bytes from `offset`, as `FileExt::read_exact_at`, by
            /// the checked copy of [`read_at`](Self::read_at): never `SIGBUS`. Fails with
            /// `UnexpectedEof` where `read_at` would come back short: the range ends past the end
            /// of the map (found before copying), or a byte in it cannot be read (a file
            /// truncated under the map). `buf`'s contents are then unspecified. An empty `buf` is
            /// filled at any offset up to `isize::MAX`, as `FileExt::read_exact_at` fills it.
            ///
            /// ```
            /// use std::io::{ErrorKind, Write};
            ///
            /// # fn main() -> std::io::Result<()> {
            /// let mut file = tempfile::tempfile()?;
            /// file.write_all(b"magic:v2")?;
            /// // SAFETY: the temporary file is this process's alone.
            /// let map = unsafe { mman::Mmap::map(&file)? };
            /// let mut version = [0u8; 2];
            /// map.read_exact_at(&mut version, 6)?;
            /// assert_eq!(&version, b"v2");
            /// let error = map.read_exact_at(&mut version, 7).unwrap_err();
            /// assert_eq!(error.kind(), ErrorKind::UnexpectedEof); // one byte short
            /// # Ok(())
            /// # }
            /// ```
            ///
            /// # Errors
            ///
            /// `InvalidInput` before any call for an `offset` past `isize::MAX` (as `read_at`);
            /// `UnexpectedEof` when the range ends past the end of the map (before any call) or a
            /// byte of it cannot be read; otherwise as `read_at`.
            ///
            /// # References
            ///
            /// - [`pread(2)`](https://man7.org/linux/man-pages/man2/pread.2.html)
            /// - [`process_vm_readv(2)`](https://man7.org/linux/man-pages/man2/process_vm_readv.2.html)
            #[inline]
            #[doc(alias = "process_vm_readv")]
            #[doc(alias = "pread")]
            pub fn read_exact_at(&self, buf: &mut [u8], offset: usize) -> io::Result<()> {
                self.inner
                    .read_exact_at(buf, offset, Via::Fastest, "read_exact_at")
            }

            /// `read_at` through the kernel in every build (`process_vm_readv(2)`; off Linux, a
            /// pipe), whatever way `read_at` copies: for the tests that compare the two ways.
            ///
            /// # Errors
            ///
            /// As `read_at`.
            #[doc(hidden)]
            pub fn read_at_via_kernel(&self, buf: &mut [u8], offset: usize) -> io::Result<usize> {
                self.inner.read_at(buf, offset, Via::Kernel, "read_at")
            }

            /// A reader of the map's bytes, from its start: `io::Read` and `io::Seek` over
            /// checked copies (as `read_at`'s), so that a file truncated under the map ends a
            /// read short, or with an error, and never kills the process.
            ///
            /// ```
            /// use std::io::{Read, Seek, SeekFrom, Write};
            ///
            /// # fn main() -> std::io::Result<()> {
            /// let mut file = tempfile::tempfile()?;
            /// file.write_all(b"line 1\nline 2\n")?;
            /// // SAFETY: the temporary file is this process's alone.
            /// let map = unsafe { mman::Mmap::map(&file)? };
            /// let mut reader = map.reader();
            /// reader.seek(SeekFrom::Start(7))?;
            /// let mut text = String::new();
            /// reader.read_to_string(&mut text)?;
            /// assert_eq!(text, "line 2\n");
            /// # Ok(())
            /// # }
            /// ```
            pub fn reader(&self) -> MmapReader<'_> {
                MmapReader::new(&self.inner)
            }

            /// How many of the map's pages are in RAM now: `mincore(2)`, like `fincore` or
            /// `vmtouch` report for a file.
            ///
            /// ```
            /// # fn main() -> std::io::Result<()> {
            /// let mut memory = mman::MmapMut::map_anon(4 * mman::page_size())?;
            /// assert_eq!(memory.resident_pages()?, 0); // nothing touched yet
            /// memory[0] = 1;
            /// assert_eq!(memory.resident_pages()?, 1);
            /// # Ok(())
            /// # }
            /// ```
            ///
            /// # Errors
            ///
            /// The error of `mincore`.
            ///
            /// # References
            ///
            /// - [`mincore(2)`](https://man7.org/linux/man-pages/man2/mincore.2.html)
            #[doc(alias = "mincore")]
            pub fn resident_pages(&self) -> io::Result<usize> {
                error::in_call("resident_pages", || {
                    let pages = self.inner.residency(0, self.len())?;
                    Ok(pages.into_iter().filter(|&resident| resident).count())
                })
            }

            /// Which pages of the `len` bytes from `offset` are in RAM: one `bool` per page the
            /// range touches, from `mincore(2)`.
            ///
            /// # Errors
            ///
            /// `InvalidInput` before any call if the range is not within the map; otherwise the
            /// error of `mincore`.
            ///
            /// # References
            ///
            /// - [`mincore(2)`](https://man7.org/linux/man-pages/man2/mincore.2.html)
            #[doc(alias = "mincore")]
            pub fn residency(&self, offset: usize, len: usize) -> io::Result<Vec<bool>> {
                error::in_call("residency", || self.inner.residency(offset, len))
            }

            /// Locks the whole map in RAM, faulting every page in now: `mlock(2)`.
            ///
            /// # Errors
            ///
            /// `OutOfMemory` (`ENOMEM`) or `PermissionDenied` (`EPERM`) past `RLIMIT_MEMLOCK`;
            /// otherwise the error of `mlock`.
            ///
            /// # References
            ///
            /// - [`mlock(2)`](https://man7.org/linux/man-pages/man2/mlock.2.html)
            #[doc(alias = "mlock")]
            pub fn lock(&self) -> io::Result<()> {
                error::in_call("lock", || {
                    self.inner.set_locking(0, self.len(), Locking::Locked)
                })
            }

            /// As `lock`, for the `len` bytes from `offset`.
            ///
            /// # Errors
            ///
            /// `InvalidInput` before any call if the range is not within the map; otherwise as
            /// `lock`.
            ///
            /// # References
            ///
            /// - [`mlock(2)`](https://man7.org/linux/man-pages/man2/mlock.2.html)
            #[doc(alias = "mlock")]
            pub fn lock_range(&self, offset: usize, len: usize) -> io::Result<()> {
                error::in_call("lock_range", || {
                    self.inner.set_locking(offset, len, Locking::Locked)
                })
            }

            /// Locks the whole map in RAM as its pages are first touched, not now:
            /// `mlock2(2)` with [`MLOCK_ONFAULT`](mmap_sys::MLOCK_ONFAULT) (Linux 4.4).
            ///
            /// Availability: Linux and Android, where the target's headers define `MLOCK_ONFAULT`
            /// (Linux's from 4.4).
            ///
            /// # Errors
            ///
            /// As `lock`; `Unsupported` on a kernel without `mlock2`.
            ///
            /// # References
            ///
            /// - [`mlock2(2)`](https://man7.org/linux/man-pages/man2/mlock2.2.html)
            #[cfg(mman_has = "MLOCK_ONFAULT")]
            #[doc(alias = "mlock2")]
            #[doc(alias = "MLOCK_ONFAULT")]
            #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
            pub fn lock_on_fault(&self) -> io::Result<()> {
                error::in_call("lock_on_fault", || {
                    self.inner
                        .set_locking(0, self.len(), Locking::LockedOnFault)
                })
            }

            /// As `lock_on_fault`, for the `len` bytes from `offset`: `mlock2(2)` with
            /// [`MLOCK_ONFAULT`](mmap_sys::MLOCK_ONFAULT) on the pages the range touches.
            ///
            /// ```
            /// # fn main() -> std::io::Result<()> {
            /// let page = mman::page_size();
            /// let mut memory = mman::MmapMut::map_anon(4 * page)?;
            /// memory.lock_range_on_fault(page, 2 * page)?;
            /// assert_eq!(memory.resident_pages()?, 0); // locked, but nothing faulted in
            /// memory[page] = 1;
            /// assert_eq!(memory.residency(0, memory.len())?, [false, true, false, false]);
            /// memory.unlock()?;
            /// # Ok(())
            /// # }
            /// ```
            ///
            /// Availability: as `lock_on_fault`.
            ///
            /// # Errors
            ///
            /// `InvalidInput` before any call if the range is not within the map; otherwise as
            /// `lock_on_fault`.
            ///
            /// # References
            ///
            /// - [`mlock2(2)`](https://man7.org/linux/man-pages/man2/mlock2.2.html)
            #[cfg(mman_has = "MLOCK_ONFAULT")]
            #[doc(alias = "mlock2")]
            #[doc(alias = "MLOCK_ONFAULT")]
            #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
            pub fn lock_range_on_fault(&self, offset: usize, len: usize) -> io::Result<()> {
                error::in_call("lock_range_on_fault", || {
                    self.inner.set_locking(offset, len, Locking::LockedOnFault)
                })
            }

            /// Unlocks the whole map: `munlock(2)`.
            ///
            /// # Errors
            ///
            /// The error of `munlock`.
            ///
            /// # References
            ///
            /// - [`munlock(2)`](https://man7.org/linux/man-pages/man2/munlock.2.html)
            #[doc(alias = "munlock")]
            pub fn unlock(&self) -> io::Result<()> {
                error::in_call("unlock", || {
                    self.inner.set_locking(0, self.len(), Locking::Unlocked)
                })
            }

            /// As `unlock`, for the `len` bytes from `offset`.
            ///
            /// # Errors
            ///
            /// `InvalidInput` before any call if the range is not within the map; otherwise as
            /// `unlock`.
            ///
            /// # References
            ///
            /// - [`munlock(2)`](https://man7.org/linux/man-pages/man2/munlock.2.html)
            #[doc(alias = "munlock")]
            pub fn unlock_range(&self, offset: usize, len: usize) -> io::Result<()> {
                error::in_call("unlock_range", || {
                    self.inner.set_locking(offset, len, Locking::Unlocked)
                })
            }
        }

        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("ptr", &self.as_ptr())
                    .field("len", &self.len())
                    .finish()
            }
        }
    };
}

/// The methods of a writable map type (`MmapMut`, `MmapRaw`): `flush`, `flush_async`,
/// `flush_range`, `flush_async_range`, `flush_invalidate`, `flush_invalidate_range` (`msync`) and
/// `populate_write` (`MADV_POPULATE_WRITE`).
macro_rules! impl_methods_of_writable_maps {
    ($ty:ident) => {
        impl $ty {
            /// Writes the map's changes to the file and waits until they are there:
            /// `msync(2)` with [`MS_SYNC`](mmap_sys::MS_SYNC). (An anonymous map has nothing to
            /// write.)
            ///
            /// ```
            /// use std::os::unix::fs::FileExt;
            ///
            /// # fn main() -> std::io::Result<()> {
            /// let file = tempfile::tempfile()?;
            /// file.set_len(4096)?;
            /// // SAFETY: the temporary file is this process's alone.
            /// let mut map = unsafe { mman::MmapMut::map_mut(&file)? };
            /// map[..5].copy_from_slice(b"saved");
            /// map.flush()?; // written to the file's storage when this returns
            /// let mut on_disk = [0u8; 5];
            /// file.read_exact_at(&mut on_disk, 0)?;
            /// assert_eq!(&on_disk, b"saved");
            /// # Ok(())
            /// # }
            /// ```
            ///
            /// # Errors
            ///
            /// The error of `msync`, e.g. `EIO` when the disk fails.
            ///
            /// # References
            ///
            /// - [`msync(2)`](https://man7.org/linux/man-pages/man2/msync.2.html)
            #[doc(alias = "msync")]
            #[doc(alias = "MS_SYNC")]
            pub fn flush(&self) -> io::Result<()> {
                error::in_call("flush", || self.inner.flush(0, self.len(), Flush::Sync))
            }

            /// Starts writing the map's changes to the file and returns:
            /// `msync(2)` with [`MS_ASYNC`](mmap_sys::MS_ASYNC).
            ///
            /// ```
            /// # fn main() -> std::io::Result<()> {
            /// let file = tempfile::tempfile()?;
            /// file.set_len(1 << 20)?;
            /// // SAFETY: the temporary file is this process's alone.
            /// let mut map = unsafe { mman::MmapMut::map_mut(&file)? };
            /// map.fill(b'x');
            /// map.flush_async()?; // the kernel writes the pages back while this process goes on
            /// // ... later, where the bytes must be on disk:
            /// map.flush()?;
            /// # Ok(())
            /// # }
            /// ```
            ///
            /// # Errors
            ///
            /// The error of `msync`.
            ///
            /// # References
            ///
            /// - [`msync(2)`](https://man7.org/linux/man-pages/man2/msync.2.html)
            #[doc(alias = "msync")]
            #[doc(alias = "MS_ASYNC")]
            pub fn flush_async(&self) -> io::Result<()> {
                error::in_call("flush_async", || {
                    self.inner.flush(0, self.len(), Flush::Async)
                })
            }

            /// As `flush`, for the `len` bytes from `offset`, widened to whole pages.
            ///
            /// ```
            /// use std::io::ErrorKind;
            ///
            /// # fn main() -> std::io::Result<()> {
            /// let page = mman::page_size();
            /// let file = tempfile::tempfile()?;
            /// file.set_len(16 * page as u64)?;
            /// // SAFETY: the temporary file is this process's alone.
            /// let mut map = unsafe { mman::MmapMut::map_mut(&file)? };
            /// map[3 * page + 10] = 1;
            /// map.flush_range(3 * page + 10, 1)?; // writes back the one page that changed
            /// let error = map.flush_range(16 * page, 1).unwrap_err(); // outside the map
            /// assert_eq!(error.kind(), ErrorKind::InvalidInput);
            /// # Ok(())
            /// # }
            /// ```
            ///
            /// # Errors
            ///
            /// `InvalidInput` before any call if the range is not within the map; otherwise as
            /// `flush`.
            ///
            /// # References
            ///
            /// - [`msync(2)`](https://man7.org/linux/man-pages/man2/msync.2.html)
            #[doc(alias = "msync")]
            #[doc(alias = "MS_SYNC")]
            pub fn flush_range(&self, offset: usize, len: usize) -> io::Result<()> {
                error::in_call("flush_range", || self.inner.flush(offset, len, Flush::Sync))
            }

            /// Prefaults the whole map for writing: `madvise(2)` with
            /// [`MADV_POPULATE_WRITE`](mmap_sys::MADV_POPULATE_WRITE) (Linux 5.14). An anonymous
            /// map gets all its memory now; a file map's pages are read in and made writable (and
            /// marked dirty: a flush writes them back). Fails with an error, not `SIGBUS`, where
            /// a page lies past the end of the file.
            ///
            /// ```
            /// # fn main() -> std::io::Result<()> {
            /// let memory = mman::MmapMut::map_anon(4 * mman::page_size())?;
            /// memory.populate_write()?;
            /// assert_eq!(memory.resident_pages()?, 4);
            /// # Ok(())
            /// # }
            /// ```
            ///
            /// Availability: as `populate`.
            ///
            /// # Errors
            ///
            /// As `populate`; `OutOfMemory` when memory runs out.
            ///
            /// # References
            ///
            /// - [`madvise(2)`](https://man7.org/linux/man-pages/man2/madvise.2.html)
            #[cfg(mman_populate)]
            #[doc(alias = "madvise")]
            #[doc(alias = "MADV_POPULATE_WRITE")]
            #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
            pub fn populate_write(&self) -> io::Result<()> {
                error::in_call("populate_write", || {
                    self.inner.populate(0, self.len(), Populate::Write)
                })
            }

            /// As `flush`, and asks the kernel to drop other maps' cached copies of the file's
            /// pages, so that they read what was just written: `msync(2)` with
            /// [`MS_SYNC`](mmap_sys::MS_SYNC) `|` [`MS_INVALIDATE`](mmap_sys::MS_INVALIDATE).
            /// (Linux keeps one page cache for every map, so there the invalidation has nothing to
            /// do: it only refuses locked pages.)
            ///
            /// # Errors
            ///
            /// As `flush`; `ResourceBusy` (`EBUSY`) where part of the map is locked (`lock`).
            ///
            /// # References
            ///
            /// - [`msync(2)`](https://man7.org/linux/man-pages/man2/msync.2.html)
            #[doc(alias = "msync")]
            #[doc(alias = "MS_INVALIDATE")]
            pub fn flush_invalidate(&self) -> io::Result<()> {
                error::in_call("flush_invalidate", || {
                    self.inner.flush(0, self.len(), Flush::SyncInvalidate)
                })
            }

            /// As `flush_invalidate`, for the `len` bytes from `offset`, widened to whole pages.
            ///
            /// # Errors
            ///
            /// `InvalidInput` before any call if the range is not within the map; otherwise as
            /// `flush_invalidate`.
            ///
            /// # References
            ///
            /// - [`msync(2)`](https://man7.org/linux/man-pages/man2/msync.2.html)
            #[doc(alias = "msync")]
            #[doc(alias = "MS_INVALIDATE")]
            pub fn flush_invalidate_range(&self, offset: usize, len: usize) -> io::Result<()> {
                error::in_call("flush_invalidate_range", || {
                    self.inner.flush(offset, len, Flush::SyncInvalidate)
                })
            }

            /// As `flush_async`, for the `len` bytes from `offset`, widened to whole pages.
            ///
            /// # Errors
            ///
            /// `InvalidInput` before any call if the range is not within the map; otherwise as
            /// `flush_async`.
            ///
            /// # References
            ///
            /// - [`msync(2)`](https://man7.org/linux/man-pages/man2/msync.2.html)
            #[doc(alias = "msync")]
            #[doc(alias = "MS_ASYNC")]
            pub fn flush_async_range(&self, offset: usize, len: usize) -> io::Result<()> {
                error::in_call("flush_async_range", || {
                    self.inner.flush(offset, len, Flush::Async)
                })
            }
        }
    };
}

/// A read-only memory map of a file, which reads as a `&[u8]`. Dropping it unmaps it (`munmap`).
///
/// ```
/// use std::io::Write;
///
/// # fn main() -> std::io::Result<()> {
/// let mut file = tempfile::tempfile()?;
/// file.write_all(b"hello")?;
/// // SAFETY: the temporary file is this process's alone, and nothing truncates it.
/// let map = unsafe { mman::Mmap::map(&file)? };
/// assert_eq!(&map[..], b"hello");
/// # Ok(())
/// # }
/// ```
///
/// # References
///
/// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
/// - [`munmap(2)`](https://man7.org/linux/man-pages/man2/munmap.2.html)
#[doc(alias = "mmap")]
#[doc(alias = "munmap")]
pub struct Mmap {
    pub(crate) inner: MmapInner,
}

impl_methods_of_every_map!(Mmap);

impl Mmap {
    pub(crate) fn from_inner(inner: MmapInner) -> Self {
        Mmap { inner }
    }

    /// A read-only shared map of the whole file: `MmapOptions::new().map(file)`.
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map`].
    ///
    /// # Safety
    ///
    /// As [`MmapOptions::map`]: nothing may write or truncate the file while the map lives.
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    #[doc(alias = "mmap")]
    pub unsafe fn map<T: MmapAsRawDesc>(file: T) -> io::Result<Mmap> {
        // SAFETY: the caller's promise, passed on.
        unsafe { MmapOptions::new().map(file) }
    }

    /// A read-only shared map of the whole file, made without `unsafe` after checking that nothing
    /// can change the file: `MmapOptions::new().map_if_safe(file)`, as in memmap2.
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map_if_safe`].
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    /// - [`fcntl(2)`](https://man7.org/linux/man-pages/man2/fcntl.2.html)
    /// - [`statx(2)`](https://man7.org/linux/man-pages/man2/statx.2.html)
    #[doc(alias = "mmap")]
    #[doc(alias = "F_GET_SEALS")]
    pub fn map_if_safe<T: MmapAsRawDesc>(file: T) -> Result<Mmap, MapIfSafeError> {
        MmapOptions::new().map_if_safe(file)
    }

    /// Makes the map writable (`mprotect(2)` with `PROT_READ | PROT_WRITE`). A shared map needs a
    /// file open for writing; a private one (from `map_copy_read_only` or `map_sealed`) becomes
    /// copy-on-write.
    ///
    /// A map of huge pages then has every page faulted in for writing (`MADV_POPULATE_WRITE`,
    /// Linux 5.14), as a new one has: a private map's first write to a page copies it into a new
    /// huge page, which a hugetlb cgroup's limit refuses with `SIGBUS`; this call fails instead.
    ///
    /// # Errors
    ///
    /// `PermissionDenied` for a shared map of a file open read-only; `OutOfMemory` when the huge
    /// pages cannot all be faulted in; otherwise the error of `mprotect`. The map is unmapped on
    /// error.
    ///
    /// # References
    ///
    /// - [`mprotect(2)`](https://man7.org/linux/man-pages/man2/mprotect.2.html)
    /// - [`madvise(2)`](https://man7.org/linux/man-pages/man2/madvise.2.html)
    #[doc(alias = "mprotect")]
    pub fn make_mut(self) -> io::Result<MmapMut> {
        error::in_call("make_mut", || {
            // SAFETY: adding write access takes nothing away from the reads of the map.
            unsafe {
                self.inner
                    .protect_all((Protection::READ | Protection::WRITE).bits())?
            };
            #[cfg(mman_huge)]
            if self.inner.is_hugetlb() {
                let inner = self
                    .inner
                    .prefault_huge_pages(crate::inner::Populate::Write)?;
                return Ok(MmapMut::from_inner(inner));
            }
            Ok(MmapMut::from_inner(self.inner))
        })
    }

    /// Makes the map executable (`mprotect(2)` with `PROT_READ | PROT_EXEC`).
    ///
    /// # Errors
    ///
    /// The error of `mprotect`, e.g. `PermissionDenied` on a `noexec` file system. The map is
    /// unmapped on error.
    ///
    /// # References
    ///
    /// - [`mprotect(2)`](https://man7.org/linux/man-pages/man2/mprotect.2.html)
    #[doc(alias = "mprotect")]
    pub fn make_exec(self) -> io::Result<Mmap> {
        error::in_call("make_exec", || {
            // SAFETY: reads stay allowed.
            unsafe {
                self.inner
                    .protect_all((Protection::READ | Protection::EXEC).bits())
            }
        })?;
        Ok(self)
    }
}

impl Deref for Mmap {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        // SAFETY: `len` readable bytes are mapped at `ptr` (non-null, page-aligned if `len` is 0)
        // while `self` lives; the constructor's caller promised they do not change.
        unsafe { std::slice::from_raw_parts(self.inner.ptr(), self.inner.len()) }
    }
}

impl AsRef<[u8]> for Mmap {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self
    }
}

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
/// let mut map = unsafe { mman::MmapMut::map_mut(&file)? };
/// map.copy_from_slice(b"data");
/// map.flush()?;
///
/// let mut read = String::new();
/// file.read_to_string(&mut read)?;
/// assert_eq!(read, "data");
/// # Ok(())
/// # }
/// ```
///
/// # References
///
/// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
/// - [`munmap(2)`](https://man7.org/linux/man-pages/man2/munmap.2.html)
#[doc(alias = "mmap")]
#[doc(alias = "munmap")]
pub struct MmapMut {
    pub(crate) inner: MmapInner,
}

impl_methods_of_every_map!(MmapMut);
impl_methods_of_writable_maps!(MmapMut);

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
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    #[doc(alias = "mmap")]
    pub unsafe fn map_mut<T: MmapAsRawDesc>(file: T) -> io::Result<MmapMut> {
        // SAFETY: the caller's promise, passed on.
        unsafe { MmapOptions::new().map_mut(file) }
    }

    /// `len` bytes of zero-filled anonymous memory: `MmapOptions::new().len(len).map_anon()`.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let mut memory = mman::MmapMut::map_anon(4096)?;
    /// assert!(memory.iter().all(|&b| b == 0));
    /// memory[0] = 1;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map_anon`].
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    #[doc(alias = "mmap")]
    #[doc(alias = "MAP_ANONYMOUS")]
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
    ///
    /// # References
    ///
    /// - [`mprotect(2)`](https://man7.org/linux/man-pages/man2/mprotect.2.html)
    #[doc(alias = "mprotect")]
    pub fn make_read_only(self) -> io::Result<Mmap> {
        error::in_call("make_read_only", || {
            // SAFETY: `self` is consumed, so no `&mut [u8]` into the map is left to write through.
            unsafe { self.inner.protect_all(Protection::READ.bits()) }
        })?;
        Ok(Mmap::from_inner(self.inner))
    }

    /// Makes the map executable and read-only (`mprotect(2)` with `PROT_READ | PROT_EXEC`).
    ///
    /// # Errors
    ///
    /// The error of `mprotect`, e.g. `PermissionDenied` on a `noexec` file system. The map is
    /// unmapped on error.
    ///
    /// # References
    ///
    /// - [`mprotect(2)`](https://man7.org/linux/man-pages/man2/mprotect.2.html)
    #[doc(alias = "mprotect")]
    pub fn make_exec(self) -> io::Result<Mmap> {
        error::in_call("make_exec", || {
            // SAFETY: `self` is consumed, so no `&mut [u8]` into the map is left to write through.
            unsafe {
                self.inner
                    .protect_all((Protection::READ | Protection::EXEC).bits())
            }
        })?;
        Ok(Mmap::from_inner(self.inner))
    }
}

impl Deref for MmapMut {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        // SAFETY: `len` readable bytes are mapped at `ptr` (non-null, page-aligned if `len` is 0)
        // while `self` lives; the constructor's caller promised nothing else changes them.
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

/// A memory map used only through raw pointers: making it is safe, and the reads and writes through
/// [`MmapRaw::as_mut_ptr`] are the caller's `unsafe` code, which carries the promises (another
/// process may change the file under it). Dropping it unmaps it (`munmap`).
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// let file = tempfile::tempfile()?;
/// file.set_len(4096)?;
/// let map = mman::MmapRaw::map_raw(&file)?;
/// // SAFETY: the map is 4096 bytes long and nothing else writes the temporary file.
/// unsafe { map.as_mut_ptr().write(42) };
/// map.flush()?;
/// # Ok(())
/// # }
/// ```
///
/// # References
///
/// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
/// - [`munmap(2)`](https://man7.org/linux/man-pages/man2/munmap.2.html)
#[doc(alias = "mmap")]
#[doc(alias = "munmap")]
pub struct MmapRaw {
    pub(crate) inner: MmapInner,
}

impl_methods_of_every_map!(MmapRaw);
impl_methods_of_writable_maps!(MmapRaw);

impl MmapRaw {
    pub(crate) fn from_inner(inner: MmapInner) -> Self {
        MmapRaw { inner }
    }

    /// A writable shared map of the whole file: `MmapOptions::new().map_raw(file)`.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let file = tempfile::tempfile()?;
    /// file.set_len(4096)?;
    /// let map = mman::MmapRaw::map_raw(&file)?; // safe to make: it gives out raw pointers only
    /// assert_eq!(map.len(), 4096);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map_raw`].
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    #[doc(alias = "mmap")]
    pub fn map_raw<T: MmapAsRawDesc>(file: T) -> io::Result<MmapRaw> {
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
    /// `InvalidInput` before any call for bits [`Protection`] does not name (as `protect_range`);
    /// otherwise the error of `mprotect`, e.g. `PermissionDenied` for `WRITE` on a file open
    /// read-only.
    ///
    /// # References
    ///
    /// - [`mprotect(2)`](https://man7.org/linux/man-pages/man2/mprotect.2.html)
    #[doc(alias = "mprotect")]
    pub fn protect(&self, protection: Protection) -> io::Result<()> {
        error::in_call("protect", || {
            self.protect_range_body(0, self.len(), protection)
        })
    }

    /// Changes the access the `len` bytes from `offset` allow, widened to whole pages:
    /// `mprotect(2)`.
    ///
    /// ```
    /// use mman::{MmapOptions, Protection};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let map = mman::MmapRaw::from(MmapOptions::new().len(8192).map_anon()?);
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
    ///
    /// # References
    ///
    /// - [`mprotect(2)`](https://man7.org/linux/man-pages/man2/mprotect.2.html)
    #[doc(alias = "mprotect")]
    pub fn protect_range(
        &self,
        offset: usize,
        len: usize,
        protection: Protection,
    ) -> io::Result<()> {
        error::in_call("protect_range", || {
            self.protect_range_body(offset, len, protection)
        })
    }

    /// `protect_range`'s body, for it and `protect`.
    fn protect_range_body(
        &self,
        offset: usize,
        len: usize,
        protection: Protection,
    ) -> io::Result<()> {
        let unnamed = protection.bits() & !Protection::all().bits();
        if unnamed != 0 {
            return Err(error::invalid(format_args!(
                "protection: {unnamed:#x} are bits Protection does not name"
            )));
        }
        // SAFETY: an `MmapRaw` hands out no references, only raw pointers, and every access
        // through them is the caller's unsafe code, which must respect the protection in force.
        unsafe { self.inner.protect(offset, len, protection.bits()) }
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

/// The constructors: a map of each type from the options.
impl MmapOptions {
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
    /// mapped part of the file or truncates the file below it: the map gives out `&[u8]`, which
    /// must not change under it, and a read past a truncated end kills the process with `SIGBUS`.
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    #[doc(alias = "mmap")]
    pub unsafe fn map<T: MmapAsRawDesc>(&self, file: T) -> io::Result<Mmap> {
        error::in_call("map", || {
            self.map_body(&file, Protection::READ, Sharing::Shared)
        })
        .map(Mmap::from_inner)
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
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    #[doc(alias = "mmap")]
    #[doc(alias = "PROT_EXEC")]
    pub unsafe fn map_exec<T: MmapAsRawDesc>(&self, file: T) -> io::Result<Mmap> {
        error::in_call("map_exec", || {
            self.map_body(&file, Protection::READ | Protection::EXEC, Sharing::Shared)
        })
        .map(Mmap::from_inner)
    }

    /// A writable shared map of the file ([`PROT_READ`](mmap_sys::PROT_READ) `|`
    /// [`PROT_WRITE`](mmap_sys::PROT_WRITE), [`MAP_SHARED`](mmap_sys::MAP_SHARED)): writes reach
    /// the file, at the latest when flushed.
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map`]; `PermissionDenied` for a file not open for reading and writing.
    ///
    /// # Safety
    ///
    /// The caller promises that, while the map lives, no one else writes or truncates the mapped
    /// part of the file: the map gives out `&mut [u8]`, which nothing else may change, and an
    /// access past a truncated end kills the process with `SIGBUS`.
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    #[doc(alias = "mmap")]
    pub unsafe fn map_mut<T: MmapAsRawDesc>(&self, file: T) -> io::Result<MmapMut> {
        error::in_call("map_mut", || {
            self.map_body(&file, Protection::READ | Protection::WRITE, Sharing::Shared)
        })
        .map(MmapMut::from_inner)
    }

    /// A private copy-on-write map of the file ([`MAP_PRIVATE`](mmap_sys::MAP_PRIVATE)): writable,
    /// and writes never reach the file. The file needs only to be open for reading.
    ///
    /// ```
    /// use std::io::Write;
    /// use std::os::unix::fs::FileExt;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let mut file = tempfile::tempfile()?;
    /// file.write_all(b"original")?;
    /// // SAFETY: nothing else writes or truncates the temporary file.
    /// let mut copy = unsafe { mman::MmapOptions::new().map_copy(&file)? };
    /// copy[..3].copy_from_slice(b"new");
    /// assert_eq!(&copy[..], b"newginal");
    /// let mut on_disk = [0u8; 8];
    /// file.read_exact_at(&mut on_disk, 0)?;
    /// assert_eq!(&on_disk, b"original"); // the writes stay in this map
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map`].
    ///
    /// # Safety
    ///
    /// As [`MmapOptions::map`]: pages not yet written still show the file, so others must not
    /// change or truncate it.
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    #[doc(alias = "mmap")]
    #[doc(alias = "MAP_PRIVATE")]
    pub unsafe fn map_copy<T: MmapAsRawDesc>(&self, file: T) -> io::Result<MmapMut> {
        error::in_call("map_copy", || {
            self.map_body(
                &file,
                Protection::READ | Protection::WRITE,
                Sharing::Private,
            )
        })
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
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    #[doc(alias = "mmap")]
    #[doc(alias = "MAP_PRIVATE")]
    pub unsafe fn map_copy_read_only<T: MmapAsRawDesc>(&self, file: T) -> io::Result<Mmap> {
        error::in_call("map_copy_read_only", || {
            self.map_body(&file, Protection::READ, Sharing::Private)
        })
        .map(Mmap::from_inner)
    }

    /// A read-only shared map that needs no `unsafe`, of a file whose contents can never change: a
    /// memfd (see [`SharedMemory`](crate::SharedMemory)) sealed against shrinking and writing
    /// ([`Seals::SHRINK`](crate::Seals::SHRINK) and [`Seals::WRITE`](crate::Seals::WRITE), checked
    /// with `fcntl(F_GET_SEALS)`). Seals are never removed, so nothing, in any process, can write
    /// the mapped bytes or cut the file short under the map. The seals are checked, and the file
    /// mapped, through a descriptor of the call's own (`fcntl(F_DUPFD_CLOEXEC)`): a `RawFd` reused
    /// by another thread for another file meanwhile cannot get that file mapped.
    ///
    /// The map is private ([`MAP_PRIVATE`](mmap_sys::MAP_PRIVATE)) and read-only: Linux before 6.7
    /// refuses a shared map of a write-sealed memfd even read-only, and a private one shows the
    /// same, unchangeable bytes. [`Mmap::make_mut`] then makes a copy-on-write map, whose writes
    /// never reach the memory. A memfd of huge pages (`MFD_HUGETLB`) is mapped in whole huge pages,
    /// which the kernel reserves when mapping (`OutOfMemory` when too few are free).
    ///
    /// The kernel allocates a page the memfd never had written (a hole) at its first read, and
    /// where it cannot account for it (strict overcommit, `vm.overcommit_memory=2`, at its limit)
    /// that read raises `SIGBUS`. So when the range has holes (`lseek(SEEK_HOLE)`), they are
    /// faulted in when mapping (`MADV_POPULATE_READ`, Linux 5.14; before, they are not), and stay:
    /// the seals forbid punching them out again. A sparse memfd takes the memory of the whole
    /// range at once.
    ///
    /// Availability: Linux and Android (memfd seals, Linux 3.17).
    ///
    /// # Errors
    ///
    /// `InvalidInput` before the map when the file lacks either seal (or cannot be sealed: not a
    /// memfd), or when `offset + len` (rounded up to the file's huge pages) reaches past its end;
    /// `OutOfMemory` when the holes of the range cannot be faulted in (the map is undone);
    /// otherwise as [`MmapOptions::map`].
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    /// - [`fcntl(2)`](https://man7.org/linux/man-pages/man2/fcntl.2.html)
    #[cfg(mman_memfd)]
    #[doc(alias = "mmap")]
    #[doc(alias = "F_GET_SEALS")]
    #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
    pub fn map_sealed<T: MmapAsRawDesc>(&self, file: T) -> io::Result<Mmap> {
        error::in_call("map_sealed", || self.map_sealed_body(&file)).map(Mmap::from_inner)
    }

    /// A read-only shared map made without `unsafe`, after checking that nothing can change the
    /// file, as memmap2's `map_if_safe`: the file must be a memfd sealed against writing and
    /// shrinking ([`Seals::WRITE`](crate::Seals::WRITE) and
    /// [`Seals::SHRINK`](crate::Seals::SHRINK), read with `fcntl(F_GET_SEALS)`), or a file with
    /// fs-verity (`STATX_ATTR_VERITY` from `statx`, Linux 5.5), and the range mapped must lie
    /// within the file. As with `map_sealed`, the file is checked and mapped through a descriptor
    /// of the call's own (`fcntl(F_DUPFD_CLOEXEC)`), and a sealed memfd's holes in the range are
    /// faulted in when mapping (a read of one could otherwise raise `SIGBUS`).
    ///
    /// Beyond memmap2's checks, the map gets every check of [`MmapOptions::map`] (a directory, a
    /// pipe, a length over `isize::MAX` are refused before the call), and the reason a file is not
    /// safe is in the error: the seals it lacks, or that it is neither sealed nor verity-protected.
    /// [`MmapOptions::map_sealed`] is the same map for sealed memfds only, with an `io::Error`.
    ///
    /// ```
    /// use mman::{MmapOptions, Seals, SharedMemory};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let memory = SharedMemory::create("constants", 4096)?;
    /// assert!(MmapOptions::new().map_if_safe(&memory).unwrap_err().not_safe()); // not sealed yet
    /// memory.add_seals(Seals::SHRINK | Seals::WRITE)?;
    /// let map = MmapOptions::new().map_if_safe(&memory)?;
    /// assert_eq!(map.len(), 4096);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`MapIfSafeError`](crate::MapIfSafeError): `not_safe()` when the file may change or the
    /// range reaches past its end; `map_failed()` when the map fails (or, without `len`, the offset
    /// is past the end of the file, as in memmap2); `not_supported()` off Linux and Android.
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    /// - [`fcntl(2)`](https://man7.org/linux/man-pages/man2/fcntl.2.html)
    /// - [`statx(2)`](https://man7.org/linux/man-pages/man2/statx.2.html)
    #[doc(alias = "mmap")]
    #[doc(alias = "F_GET_SEALS")]
    pub fn map_if_safe<T: MmapAsRawDesc>(&self, file: T) -> Result<Mmap, MapIfSafeError> {
        error::in_call("map_if_safe", || self.map_if_safe_body(&file)).map(Mmap::from_inner)
    }

    /// A writable shared map of the file that gives out raw pointers only, so making it is safe:
    /// the caller's `unsafe` blocks that read or write through the pointers carry the promises.
    /// Its checked reads ([`MmapRaw::read_at`], [`MmapRaw::read_exact_at`]) need no `unsafe`.
    ///
    /// ```
    /// use std::os::unix::fs::FileExt;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let file = tempfile::tempfile()?;
    /// file.set_len(8192)?;
    /// let map = mman::MmapOptions::new().offset(4096).len(4096).map_raw(&file)?;
    /// // SAFETY: the map is 4096 bytes long, and nothing else uses the temporary file.
    /// unsafe { map.as_mut_ptr().copy_from(b"raw".as_ptr(), 3) };
    /// let mut bytes = [0u8; 3];
    /// map.read_exact_at(&mut bytes, 0)?;
    /// assert_eq!(&bytes, b"raw");
    /// file.read_exact_at(&mut bytes, 4096)?; // shared: the file holds them
    /// assert_eq!(&bytes, b"raw");
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map_mut`].
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    #[doc(alias = "mmap")]
    pub fn map_raw<T: MmapAsRawDesc>(&self, file: T) -> io::Result<MmapRaw> {
        error::in_call("map_raw", || {
            self.map_body(&file, Protection::READ | Protection::WRITE, Sharing::Shared)
        })
        .map(MmapRaw::from_inner)
    }

    /// As [`MmapOptions::map_raw`], read-only: for a file open for reading only.
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map`].
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    #[doc(alias = "mmap")]
    pub fn map_raw_read_only<T: MmapAsRawDesc>(&self, file: T) -> io::Result<MmapRaw> {
        error::in_call("map_raw_read_only", || {
            self.map_body(&file, Protection::READ, Sharing::Shared)
        })
        .map(MmapRaw::from_inner)
    }

    /// Anonymous memory of the `len` set with [`MmapOptions::len`] (0 without it), zero-filled and
    /// private to this process and its children ([`MAP_ANONYMOUS`](mmap_sys::MAP_ANONYMOUS) `|`
    /// [`MAP_PRIVATE`](mmap_sys::MAP_PRIVATE)).
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let mut memory = mman::MmapOptions::new().len(1 << 20).map_anon()?;
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
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    #[doc(alias = "mmap")]
    #[doc(alias = "MAP_ANONYMOUS")]
    pub fn map_anon(&self) -> io::Result<MmapMut> {
        error::in_call("map_anon", || self.map_anon_body()).map(MmapMut::from_inner)
    }
}
