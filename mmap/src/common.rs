//! The methods every map type shares, written once: length, address, advice and locking.

/// Implements the shared methods on a map type whose field `inner` is an `MmapInner`.
macro_rules! common_methods {
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
            pub fn advise(&self, advice: crate::Advice) -> std::io::Result<()> {
                // SAFETY: an `Advice` never changes what the map reads.
                unsafe { self.inner.advise("advise", 0, self.len(), advice.raw()) }
            }

            /// As `advise`, for the `len` bytes from `offset`, widened to whole pages.
            ///
            /// # Errors
            ///
            /// `InvalidInput` before any call if the range is not within the map; otherwise as
            /// `advise`.
            pub fn advise_range(
                &self,
                advice: crate::Advice,
                offset: usize,
                len: usize,
            ) -> std::io::Result<()> {
                // SAFETY: an `Advice` never changes what the map reads.
                unsafe { self.inner.advise("advise_range", offset, len, advice.raw()) }
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
            pub unsafe fn unchecked_advise(
                &self,
                advice: crate::UncheckedAdvice,
            ) -> std::io::Result<()> {
                // SAFETY: the caller's promise above.
                unsafe {
                    self.inner
                        .advise("unchecked_advise", 0, self.len(), advice.raw())
                }
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
            pub unsafe fn unchecked_advise_range(
                &self,
                advice: crate::UncheckedAdvice,
                offset: usize,
                len: usize,
            ) -> std::io::Result<()> {
                // SAFETY: the caller's promise above.
                unsafe {
                    self.inner
                        .advise("unchecked_advise_range", offset, len, advice.raw())
                }
            }

            /// Prefaults the whole map, reading every page in now: `madvise(2)` with
            /// [`MADV_POPULATE_READ`](mmap_sys::MADV_POPULATE_READ) (Linux 5.14). Unlike touching
            /// the bytes, it fails with an error where the file no longer backs a page (it was
            /// truncated under the map), instead of killing the process with `SIGBUS`.
            ///
            /// ```
            /// # fn main() -> std::io::Result<()> {
            /// let file = tempfile::tempfile()?;
            /// file.set_len(8 * mmap::page_size() as u64)?;
            /// // SAFETY: the temporary file is this process's alone, and nothing truncates it.
            /// let map = unsafe { mmap::Mmap::map(&file)? };
            /// map.populate()?;
            /// assert_eq!(map.resident_pages()?, 8);
            /// # Ok(())
            /// # }
            /// ```
            ///
            /// # Errors
            ///
            /// `UnexpectedEof` when part of the map is past the end of the file; `Unsupported` on a
            /// kernel older than 5.14; otherwise the error of `madvise`.
            #[cfg(mman_populate)]
            pub fn populate(&self) -> std::io::Result<()> {
                self.inner.populate("populate", 0, self.len(), false)
            }

            /// As `populate`, for the `len` bytes from `offset`, widened to whole pages.
            ///
            /// # Errors
            ///
            /// `InvalidInput` before any call if the range is not within the map; otherwise as
            /// `populate`.
            #[cfg(mman_populate)]
            pub fn populate_range(&self, offset: usize, len: usize) -> std::io::Result<()> {
                self.inner.populate("populate_range", offset, len, false)
            }

            /// Copies the map's bytes from `offset` into `buf`, as `FileExt::read_at` reads a file,
            /// but checked: a page the file no longer backs (it was truncated under the map), or
            /// that cannot be read, ends the copy with an error, where reading the slice would kill
            /// the process with `SIGBUS`. Returns the number of bytes copied: `buf.len()`, or fewer
            /// at the end of the map (0 at `offset == len()`).
            ///
            /// On x86-64 Linux it costs what a plain copy costs: the copy is made by a routine that
            /// a `SIGBUS`/`SIGSEGV` handler of this crate stops at such a page (installed with
            /// `sigaction(2)` on the first call; every other fault goes on to the handler before
            /// it). Elsewhere, or built with `--cfg mmap_no_fault_handler`, the kernel makes the
            /// copy: `process_vm_readv(2)` on this process (off Linux, `write(2)` of the range into
            /// a pipe, read back). The results are the same; see
            /// [`install_fault_handler`](crate::install_fault_handler) for what the handler needs.
            ///
            /// ```
            /// use std::io::Write;
            ///
            /// # fn main() -> std::io::Result<()> {
            /// let mut file = tempfile::tempfile()?;
            /// file.write_all(b"header:payload")?;
            /// // SAFETY: the temporary file is this process's alone.
            /// let map = unsafe { mmap::Mmap::map(&file)? };
            /// let mut buf = [0u8; 16];
            /// let n = map.read_at(&mut buf, 7)?;
            /// assert_eq!(&buf[..n], b"payload");
            /// # Ok(())
            /// # }
            /// ```
            ///
            /// # Errors
            ///
            /// `InvalidInput` before any call for an `offset` past the end of the map;
            /// `UnexpectedEof` when a page of the range cannot be read (past the end of a truncated
            /// file, or protected against reading); otherwise, where the kernel makes the copy, the
            /// error of `process_vm_readv` (off Linux: of `pipe`, `write` or `read`).
            #[inline]
            pub fn read_at(&self, buf: &mut [u8], offset: usize) -> std::io::Result<usize> {
                self.inner
                    .read_at("read_at", buf, offset, crate::checked_copy::Via::Fastest)
            }

            /// `read_at` through the kernel (`process_vm_readv(2)`) in every build: the copy
            /// `read_at` made before the fault-fixup copy, kept for the tests that compare the two.
            ///
            /// # Errors
            ///
            /// As `read_at`.
            #[doc(hidden)]
            pub fn read_at_via_kernel(
                &self,
                buf: &mut [u8],
                offset: usize,
            ) -> std::io::Result<usize> {
                self.inner
                    .read_at("read_at", buf, offset, crate::checked_copy::Via::Kernel)
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
            /// let map = unsafe { mmap::Mmap::map(&file)? };
            /// let mut reader = map.reader();
            /// reader.seek(SeekFrom::Start(7))?;
            /// let mut text = String::new();
            /// reader.read_to_string(&mut text)?;
            /// assert_eq!(text, "line 2\n");
            /// # Ok(())
            /// # }
            /// ```
            pub fn reader(&self) -> crate::MmapReader<'_> {
                crate::MmapReader::new(&self.inner)
            }

            /// How many of the map's pages are in RAM now: `mincore(2)`, like `fincore` or
            /// `vmtouch` report for a file.
            ///
            /// ```
            /// # fn main() -> std::io::Result<()> {
            /// let mut memory = mmap::MmapMut::map_anon(4 * mmap::page_size())?;
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
            pub fn resident_pages(&self) -> std::io::Result<usize> {
                let pages = self.inner.residency("resident_pages", 0, self.len())?;
                Ok(pages.into_iter().filter(|&resident| resident).count())
            }

            /// Which pages of the `len` bytes from `offset` are in RAM: one `bool` per page the
            /// range touches, from `mincore(2)`.
            ///
            /// # Errors
            ///
            /// `InvalidInput` before any call if the range is not within the map; otherwise the
            /// error of `mincore`.
            pub fn residency(&self, offset: usize, len: usize) -> std::io::Result<Vec<bool>> {
                self.inner.residency("residency", offset, len)
            }

            /// Locks the whole map in RAM, faulting every page in now: `mlock(2)`.
            ///
            /// # Errors
            ///
            /// `OutOfMemory` (`ENOMEM`) or `PermissionDenied` (`EPERM`) past `RLIMIT_MEMLOCK`;
            /// otherwise the error of `mlock`.
            pub fn lock(&self) -> std::io::Result<()> {
                self.inner
                    .lock("lock", 0, self.len(), Some(crate::inner::Lock::Now))
            }

            /// As `lock`, for the `len` bytes from `offset`.
            ///
            /// # Errors
            ///
            /// `InvalidInput` before any call if the range is not within the map; otherwise as
            /// `lock`.
            pub fn lock_range(&self, offset: usize, len: usize) -> std::io::Result<()> {
                self.inner
                    .lock("lock_range", offset, len, Some(crate::inner::Lock::Now))
            }

            /// Locks the whole map in RAM as its pages are first touched, not now:
            /// `mlock2(2)` with [`MLOCK_ONFAULT`](mmap_sys::MLOCK_ONFAULT) (Linux 4.4).
            ///
            /// # Errors
            ///
            /// As `lock`; `Unsupported` on a kernel without `mlock2`.
            #[cfg(mman_has = "MLOCK_ONFAULT")]
            pub fn lock_on_fault(&self) -> std::io::Result<()> {
                self.inner.lock(
                    "lock_on_fault",
                    0,
                    self.len(),
                    Some(crate::inner::Lock::OnFault),
                )
            }

            /// As `lock_on_fault`, for the `len` bytes from `offset`: `mlock2(2)` with
            /// [`MLOCK_ONFAULT`](mmap_sys::MLOCK_ONFAULT) on the pages the range touches.
            ///
            /// ```
            /// # fn main() -> std::io::Result<()> {
            /// let page = mmap::page_size();
            /// let mut memory = mmap::MmapMut::map_anon(4 * page)?;
            /// memory.lock_range_on_fault(page, 2 * page)?;
            /// assert_eq!(memory.resident_pages()?, 0); // locked, but nothing faulted in
            /// memory[page] = 1;
            /// assert_eq!(memory.residency(0, memory.len())?, [false, true, false, false]);
            /// memory.unlock()?;
            /// # Ok(())
            /// # }
            /// ```
            ///
            /// # Errors
            ///
            /// `InvalidInput` before any call if the range is not within the map; otherwise as
            /// `lock_on_fault`.
            #[cfg(mman_has = "MLOCK_ONFAULT")]
            pub fn lock_range_on_fault(&self, offset: usize, len: usize) -> std::io::Result<()> {
                self.inner.lock(
                    "lock_range_on_fault",
                    offset,
                    len,
                    Some(crate::inner::Lock::OnFault),
                )
            }

            /// Unlocks the whole map: `munlock(2)`.
            ///
            /// # Errors
            ///
            /// The error of `munlock`.
            pub fn unlock(&self) -> std::io::Result<()> {
                self.inner.lock("unlock", 0, self.len(), None)
            }

            /// As `unlock`, for the `len` bytes from `offset`.
            ///
            /// # Errors
            ///
            /// `InvalidInput` before any call if the range is not within the map; otherwise as
            /// `unlock`.
            pub fn unlock_range(&self, offset: usize, len: usize) -> std::io::Result<()> {
                self.inner.lock("unlock_range", offset, len, None)
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

/// Implements `flush`, `flush_async`, `flush_range`, `flush_async_range`, `flush_invalidate`,
/// `flush_invalidate_range` and `populate_write` on a writable map type.
macro_rules! writable_methods {
    ($ty:ident) => {
        impl $ty {
            /// Writes the map's changes to the file and waits until they are there:
            /// `msync(2)` with [`MS_SYNC`](mmap_sys::MS_SYNC). (An anonymous map has nothing to
            /// write.)
            ///
            /// # Errors
            ///
            /// The error of `msync`, e.g. `EIO` when the disk fails.
            pub fn flush(&self) -> std::io::Result<()> {
                self.inner.flush("flush", 0, self.len(), true)
            }

            /// Starts writing the map's changes to the file and returns:
            /// `msync(2)` with [`MS_ASYNC`](mmap_sys::MS_ASYNC).
            ///
            /// # Errors
            ///
            /// The error of `msync`.
            pub fn flush_async(&self) -> std::io::Result<()> {
                self.inner.flush("flush_async", 0, self.len(), false)
            }

            /// As `flush`, for the `len` bytes from `offset`, widened to whole pages.
            ///
            /// # Errors
            ///
            /// `InvalidInput` before any call if the range is not within the map; otherwise as
            /// `flush`.
            pub fn flush_range(&self, offset: usize, len: usize) -> std::io::Result<()> {
                self.inner.flush("flush_range", offset, len, true)
            }

            /// Prefaults the whole map for writing: `madvise(2)` with
            /// [`MADV_POPULATE_WRITE`](mmap_sys::MADV_POPULATE_WRITE) (Linux 5.14). An anonymous
            /// map gets all its memory now; a file map's pages are read in and made writable (and
            /// marked dirty: a flush writes them back). Fails with an error, not `SIGBUS`, where
            /// the file no longer backs a page.
            ///
            /// ```
            /// # fn main() -> std::io::Result<()> {
            /// let memory = mmap::MmapMut::map_anon(4 * mmap::page_size())?;
            /// memory.populate_write()?;
            /// assert_eq!(memory.resident_pages()?, 4);
            /// # Ok(())
            /// # }
            /// ```
            ///
            /// # Errors
            ///
            /// As `populate`; `OutOfMemory` when memory runs out.
            #[cfg(mman_populate)]
            pub fn populate_write(&self) -> std::io::Result<()> {
                self.inner.populate("populate_write", 0, self.len(), true)
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
            pub fn flush_invalidate(&self) -> std::io::Result<()> {
                let flags = mmap_sys::MS_SYNC | mmap_sys::MS_INVALIDATE;
                self.inner.msync("flush_invalidate", 0, self.len(), flags)
            }

            /// As `flush_invalidate`, for the `len` bytes from `offset`, widened to whole pages.
            ///
            /// # Errors
            ///
            /// `InvalidInput` before any call if the range is not within the map; otherwise as
            /// `flush_invalidate`.
            pub fn flush_invalidate_range(&self, offset: usize, len: usize) -> std::io::Result<()> {
                let flags = mmap_sys::MS_SYNC | mmap_sys::MS_INVALIDATE;
                self.inner
                    .msync("flush_invalidate_range", offset, len, flags)
            }

            /// As `flush_async`, for the `len` bytes from `offset`, widened to whole pages.
            ///
            /// # Errors
            ///
            /// `InvalidInput` before any call if the range is not within the map; otherwise as
            /// `flush_async`.
            pub fn flush_async_range(&self, offset: usize, len: usize) -> std::io::Result<()> {
                self.inner.flush("flush_async_range", offset, len, false)
            }
        }
    };
}
