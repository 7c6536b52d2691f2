//! Resizing a map in place or by moving it: `mremap(2)` (Linux).

use std::io;

use crate::map::{Mmap, MmapMut, MmapRaw};

/// How [`MmapMut::remap`] (and [`Mmap::remap`], [`MmapRaw::remap`]) may resize a map.
///
/// By default the map must stay where it is: growing fails with `OutOfMemory` when the addresses
/// after it are taken. [`RemapOptions::may_move`] lets the kernel move it
/// ([`MREMAP_MAYMOVE`](mmap_sys::MREMAP_MAYMOVE)).
///
/// Availability: Linux and Android, where the target's headers define `MREMAP_MAYMOVE`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[doc(alias = "mremap")]
#[doc(alias = "MREMAP_MAYMOVE")]
pub struct RemapOptions {
    may_move: bool,
}

impl RemapOptions {
    /// Options that keep the map in place.
    pub fn new() -> RemapOptions {
        RemapOptions::default()
    }

    /// Lets the kernel move the map to grow it ([`MREMAP_MAYMOVE`](mmap_sys::MREMAP_MAYMOVE)): its
    /// address may change, and its bytes move with it.
    pub fn may_move(mut self, may_move: bool) -> RemapOptions {
        self.may_move = may_move;
        self
    }
}

impl MmapMut {
    /// Resizes the map to `new_len` bytes: `mremap(2)` (Linux 2.4). Shrinking cuts the tail;
    /// growing a file map covers more of the file, and growing an anonymous map adds zeroed bytes.
    ///
    /// Growing a file map past the end of the file is refused: extend the file first (with
    /// `File::set_len`). The grown map's last byte is checked through the kernel, and when it lies
    /// on a page the file does not reach, the map is shrunk back and the call fails, where a read
    /// would have killed the process with `SIGBUS`. (Like any map, one may end within the file's
    /// last page, past its last byte: those bytes read as zeros and are not part of the file.)
    ///
    /// A grown map of a memfd ([`SharedMemory`](crate::SharedMemory), as `/proc/self/maps` names
    /// it) has the pages it grew by faulted in (`MADV_POPULATE_READ`, Linux 5.14), as
    /// [`MmapOptions::map_sealed`](crate::MmapOptions::map_sealed) faults in its range: a page
    /// never written (a hole) is allocated at its first read, which strict overcommit at its limit
    /// refuses with `SIGBUS`. Where they cannot all be, the map is shrunk back and the call fails
    /// with `OutOfMemory`.
    ///
    /// This is safe, even when the map moves: `&mut self` means no reference into the map is left.
    /// A slice kept across the call does not compile:
    ///
    /// ```compile_fail
    /// # fn main() -> std::io::Result<()> {
    /// let mut memory = mman::MmapMut::map_anon(4096)?;
    /// let bytes = &memory[..];
    /// // error: `memory` is borrowed
    /// memory.remap(8192, mman::RemapOptions::new().may_move(true))?;
    /// println!("{}", bytes[0]);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// ```
    /// use mman::{MmapMut, RemapOptions};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let page = mman::page_size();
    /// let mut memory = MmapMut::map_anon(page)?;
    /// memory[0] = 1;
    /// memory.remap(4 * page, RemapOptions::new().may_move(true))?;
    /// assert_eq!((memory.len(), memory[0], memory[4 * page - 1]), (4 * page, 1, 0));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// Availability: Linux and Android, where the target's headers define `MREMAP_MAYMOVE`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` before any call for a `new_len` of 0 or over `isize::MAX`, or an empty map;
    /// `InvalidInput` after the call when the file ends before `new_len` (the map is unchanged,
    /// though it may have moved); `OutOfMemory` when the map cannot grow in place and may not move,
    /// or when the holes of a memfd it grew over cannot be faulted in (unchanged, as above);
    /// `Unsupported` when part of the map was given its own advice, protection or lock by a
    /// `*_range` call (the kernel then keeps it in pieces, and `mremap` resizes one piece only), or
    /// for a map of huge pages (`mremap` cannot grow one, and rounds a shrunk one up);
    /// `InvalidInput` when the map grew in place where the main thread's stack may grow (below it
    /// by `RLIMIT_STACK` and the stack guard gap) or right below another grows-down mapping: the
    /// map is shrunk back (see "What the safe API guarantees" in the crate documentation);
    /// otherwise the error of `mremap`. The grown map's last byte is checked with
    /// `process_vm_readv`, or where a seccomp filter denies it, with `MADV_POPULATE_READ` (Linux
    /// 5.14) or, for anonymous memory, not at all.
    ///
    /// # References
    ///
    /// - [`mremap(2)`](https://man7.org/linux/man-pages/man2/mremap.2.html)
    #[doc(alias = "mremap")]
    #[doc(alias = "MREMAP_MAYMOVE")]
    #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
    pub fn remap(&mut self, new_len: usize, options: RemapOptions) -> io::Result<()> {
        crate::error::in_call("remap", || {
            // SAFETY: `&mut self`: no reference into the map outlives this call.
            unsafe { self.inner.remap(new_len, options.may_move) }
        })
    }
}

impl Mmap {
    /// Resizes the map to `new_len` bytes: `mremap(2)`, as [`MmapMut::remap`], whose checks it
    /// makes (growing past the end of the file is refused).
    ///
    /// A map that follows a growing file, such as a log:
    ///
    /// ```
    /// use std::io::Write;
    /// use mman::{Mmap, RemapOptions};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let mut log = tempfile::tempfile()?;
    /// log.write_all(b"first line\n")?;
    /// // SAFETY: the temporary file is this process's alone, and only grows: nothing writes the
    /// // bytes mapped or truncates them.
    /// let mut map = unsafe { Mmap::map(&log)? };
    /// log.write_all(b"second line\n")?;
    /// let grow = RemapOptions::new().may_move(true);
    /// map.remap(log.metadata()?.len() as usize, grow)?;
    /// assert_eq!(&map[..], b"first line\nsecond line\n");
    /// // Past the file's last page: refused, where a read would kill the process with SIGBUS.
    /// assert!(map.remap(2 * mman::page_size(), grow).is_err());
    /// assert_eq!(map.len(), 23); // unchanged
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// Availability: Linux and Android, where the target's headers define `MREMAP_MAYMOVE`.
    ///
    /// # Errors
    ///
    /// As [`MmapMut::remap`].
    ///
    /// # References
    ///
    /// - [`mremap(2)`](https://man7.org/linux/man-pages/man2/mremap.2.html)
    #[doc(alias = "mremap")]
    #[doc(alias = "MREMAP_MAYMOVE")]
    #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
    pub fn remap(&mut self, new_len: usize, options: RemapOptions) -> io::Result<()> {
        crate::error::in_call("remap", || {
            // SAFETY: `&mut self`: no reference into the map outlives this call.
            unsafe { self.inner.remap(new_len, options.may_move) }
        })
    }
}

impl MmapRaw {
    /// Resizes the map to `new_len` bytes: `mremap(2)`, as [`MmapMut::remap`], whose checks it
    /// makes. A map protected so that it cannot be read cannot be grown (the check reads it).
    ///
    /// Availability: Linux and Android, where the target's headers define `MREMAP_MAYMOVE`.
    ///
    /// # Errors
    ///
    /// As [`MmapMut::remap`].
    ///
    /// # Safety
    ///
    /// The borrow checker does not follow raw pointers: the caller promises that no pointer into
    /// the map taken before the call is used after it, since the map may move (with
    /// [`RemapOptions::may_move`]) or lose its tail, and that no other thread uses the map
    /// meanwhile.
    ///
    /// # References
    ///
    /// - [`mremap(2)`](https://man7.org/linux/man-pages/man2/mremap.2.html)
    #[doc(alias = "mremap")]
    #[doc(alias = "MREMAP_MAYMOVE")]
    #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
    pub unsafe fn remap(&mut self, new_len: usize, options: RemapOptions) -> io::Result<()> {
        crate::error::in_call("remap", || {
            // SAFETY: the caller's promise above.
            unsafe { self.inner.remap(new_len, options.may_move) }
        })
    }
}
