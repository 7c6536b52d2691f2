//! The seals of a memfd (`fcntl(2)`, `F_ADD_SEALS`), the check that a file's are those that fix
//! its contents for good, which `map_sealed` relies on, and the faulting in of a sealed file's
//! holes, which keeps its maps from raising `SIGBUS`.

use std::io;
use std::os::fd::BorrowedFd;

use crate::error::{invalid, raw_os_error};
use crate::inner::MmapInner;
use crate::sys;

bitflags::bitflags! {
    /// The seals of a [`SharedMemory`](crate::SharedMemory) (`fcntl(2)`, `F_ADD_SEALS`): what no
    /// one, in any process, may do to the memory any more. A seal is never removed.
    ///
    /// Availability: Linux and Android (memfd seals, Linux 3.17).
    ///
    /// ```
    /// use mman::Seals;
    ///
    /// assert_eq!(Seals::WRITE.bits(), libc::F_SEAL_WRITE);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    #[doc(alias = "F_ADD_SEALS")]
    #[doc(alias = "F_GET_SEALS")]
    pub struct Seals: std::ffi::c_int {
        /// No more seals may be added: `F_SEAL_SEAL`.
        const SEAL = libc::F_SEAL_SEAL;
        /// The size may not shrink: `F_SEAL_SHRINK`.
        const SHRINK = libc::F_SEAL_SHRINK;
        /// The size may not grow: `F_SEAL_GROW`.
        const GROW = libc::F_SEAL_GROW;
        /// The contents may not change: no `write(2)`, no writable shared map: `F_SEAL_WRITE`.
        /// Adding it fails with `EBUSY` while a writable shared map exists.
        const WRITE = libc::F_SEAL_WRITE;
        /// No new write access, while existing writable maps keep theirs: `F_SEAL_FUTURE_WRITE`
        /// (Linux 5.1).
        const FUTURE_WRITE = libc::F_SEAL_FUTURE_WRITE;
    }
}

/// What the seals of a file say of its contents.
pub(crate) enum Sealing {
    /// Sealed against shrinking and writing: its contents are fixed for good.
    Fixed,
    /// Its seals lack `SHRINK` or `WRITE`: the error (`InvalidInput`) says which.
    Lacking(io::Error),
    /// The file cannot be sealed: not a memfd (`F_GET_SEALS` fails with `EINVAL`).
    Unsealable,
}

/// Whether `fd` is sealed against shrinking and writing, the seals that fix its contents for good:
/// the one check of a file's seals, for `map_sealed` and `map_if_safe`.
pub(crate) fn sealing(fd: BorrowedFd<'_>) -> io::Result<Sealing> {
    let needed = Seals::SHRINK | Seals::WRITE;
    let seals = match sys::get_seals(fd) {
        Ok(seals) => Seals::from_bits_retain(seals),
        Err(error) if raw_os_error(&error) == Some(libc::EINVAL) => return Ok(Sealing::Unsealable),
        Err(error) => return Err(error),
    };
    if !seals.contains(needed) {
        return Ok(Sealing::Lacking(invalid(format_args!(
            "the file's seals {seals:?} lack {:?}: its contents may change",
            needed - seals
        ))));
    }
    Ok(Sealing::Fixed)
}

/// Checks that `fd` is sealed against shrinking and writing: its contents are fixed for good.
pub(crate) fn check_sealed(fd: BorrowedFd<'_>) -> io::Result<()> {
    match sealing(fd)? {
        Sealing::Fixed => Ok(()),
        Sealing::Lacking(error) => Err(error),
        Sealing::Unsealable => Err(invalid(
            "the file cannot be sealed (not a memfd): its contents may change",
        )),
    }
}

/// Faults in every page of `map`, a new read-only map of the sealed memfd `fd` from `offset`, if
/// that range of the file has a hole (a page never written). The kernel allocates such a page at
/// its first read, and where it cannot account for it (strict overcommit, `vm.overcommit_memory=2`,
/// at its limit), that read raises `SIGBUS`: so the map fails now instead, and is undone. A page,
/// once allocated, stays: the seals forbid punching holes and shrinking. A range without holes
/// (a memfd of huge pages has none: those are faulted in when mapped) is left as it is. Needs
/// `MADV_POPULATE_READ` (Linux 5.14); before, nothing is done.
pub(crate) fn fault_in_holes(
    fd: BorrowedFd<'_>,
    map: MmapInner,
    offset: u64,
) -> io::Result<MmapInner> {
    let end = offset.saturating_add(map.len() as u64);
    // Where the holes cannot be found, every page is faulted in.
    if map.len() == 0 || sys::seek_hole(fd, offset).is_ok_and(|hole| hole >= end) {
        return Ok(map);
    }
    #[cfg(mman_populate)]
    match map.populate(0, map.len(), crate::inner::Populate::Read) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::Unsupported => {}
        Err(error) => {
            let why = format!(
                "the sealed file has holes in {offset}..{end} (pages never written, which the \
                 kernel allocates at the first read) that cannot all be faulted in (strict \
                 overcommit at its limit?), where a read would raise SIGBUS; the map is undone"
            );
            return Err(crate::error::explain(
                error,
                io::ErrorKind::OutOfMemory,
                why,
            ));
        }
    }
    Ok(map)
}
