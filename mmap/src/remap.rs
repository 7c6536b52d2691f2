//! Resizing a map in place or by moving it: `mremap(2)` (Linux). The options, the `remap` method of
//! each map type, and what they all do ([`MmapInner::remap`]): the checks before the call, and
//! after it, for a grown map, the check of its last byte against the end of the file and the
//! faulting in of a memfd's holes.

use std::io;

use crate::checked_copy::{self, Via};
use crate::error::{self, invalid, raw_os_error};
use crate::inner::MmapInner;
#[cfg(mman_populate)]
use crate::inner::Populate;
use crate::map::{Mmap, MmapMut, MmapRaw};
use crate::proc_maps::{backing, Backing};
use crate::range::check_len;
use crate::sys;
use mmap_sys as c;

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
    /// `InvalidInput` before the call when growing the map in place (which the kernel does wherever
    /// it can, also when the map may move) would take addresses where the main thread's stack may
    /// grow (below it by `RLIMIT_STACK` and the stack guard gap) or right below another grows-down
    /// mapping (see "What the safe API guarantees" in the crate documentation); otherwise the error
    /// of `mremap`. The grown map's last byte is checked with `process_vm_readv`, or where a
    /// seccomp filter denies it, with `MADV_POPULATE_READ` (Linux 5.14) or, for anonymous memory,
    /// not at all.
    ///
    /// # References
    ///
    /// - [`mremap(2)`](https://man7.org/linux/man-pages/man2/mremap.2.html)
    #[doc(alias = "mremap")]
    #[doc(alias = "MREMAP_MAYMOVE")]
    #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
    pub fn remap(&mut self, new_len: usize, options: RemapOptions) -> io::Result<()> {
        error::in_call("remap", || {
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
        error::in_call("remap", || {
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
        error::in_call("remap", || {
            // SAFETY: the caller's promise above.
            unsafe { self.inner.remap(new_len, options.may_move) }
        })
    }
}

impl MmapInner {
    /// Resizes the mapping to `new_len` bytes with `mremap`, moving it if `may_move`. A grown map
    /// is then probed at its last byte, through the kernel: if the file ends before it, the map is
    /// shrunk back to its old length and the call fails, where a read would raise `SIGBUS`. A grown
    /// map of a memfd has the holes of its new part faulted in, as `map_sealed` faults in those of
    /// its range (see [`fault_in_grown_holes`]); where they cannot be, it is shrunk back too.
    /// Refused before the call: a map of huge pages (`mremap` cannot grow one and rounds a shrunk
    /// one up), and growing in place where a stack may grow (the stack guard check).
    ///
    /// # Safety
    ///
    /// Nothing may use the map's old addresses if it moves, or its cut tail if it shrinks.
    pub(crate) unsafe fn remap(&mut self, new_len: usize, may_move: bool) -> io::Result<()> {
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
        // SAFETY: `mremap` resized this mapping, of base pages, to `new_len` bytes past its prefix.
        unsafe { self.resized(base, new_len) };
        if new_len > old_len {
            // SAFETY: the last byte of the mapping just grown.
            let copied = unsafe { last_byte_backed(self.ptr().add(new_len - 1)) };
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
                // SAFETY: as above: back to `old_len` bytes past its prefix.
                unsafe { self.resized(base, old_len) };
                return Err(error);
            }
        }
        Ok(())
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
                page as *mut std::ffi::c_void,
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
fn fault_in_grown_holes(map: &MmapInner, old_len: usize) -> io::Result<()> {
    #[cfg(mman_populate)]
    if !matches!(
        backing(map.ptr() as usize),
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

/// Whether the mapping holding `addr` is anonymous memory, private to this process. `false` when
/// it cannot be told.
fn mapped_anonymous(addr: usize) -> bool {
    backing(addr) == Some(Backing::Anonymous)
}

#[cfg(test)]
mod tests {
    use super::mapped_anonymous;
    use crate::proc_maps::{backing, Backing};

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
}
