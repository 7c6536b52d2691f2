//! What the `map*` constructors take: memmap2's `MmapAsRawDesc`, so that memmap2's callers compile
//! unchanged (`&File`, a `RawFd`, `&T` of any `AsRawFd`), and descriptors by value (`File`,
//! `OwnedFd`, `BorrowedFd`, `SharedMemory`, and `Box`, `Rc` or `Arc` of a descriptor); and how a
//! constructor takes the descriptor, borrowed or its own.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::rc::Rc;
use std::sync::Arc;

use crate::error::invalid;

/// A file descriptor given to a `map*` constructor: made by [`MmapAsRawDesc::as_raw_desc`].
#[derive(Debug, Clone, Copy)]
pub struct MmapRawDescriptor(RawFd);

/// What the `map*` constructors of [`MmapOptions`](crate::MmapOptions), [`Mmap`](crate::Mmap),
/// [`MmapMut`](crate::MmapMut) and [`MmapRaw`](crate::MmapRaw) take: memmap2's trait, with its
/// name and its implementations, `RawFd` and `&T` for every `T: AsRawFd` (`&File`, `&OwnedFd`,
/// `&BorrowedFd`, `&UnixStream`...), plus `&mut T`, and by value `File`, `OwnedFd`, `BorrowedFd`,
/// [`SharedMemory`](crate::SharedMemory) and `Box`, `Rc` and `Arc` of an `AsRawFd`.
///
/// A `RawFd` is used as it is, as in memmap2: the caller keeps it open through the call. A negative
/// number is refused with `InvalidInput` before any system call; a number that is not open fails
/// with `InvalidInput` (`EBADF`). `map_sealed` and `map_if_safe`, whose maps are safe on the
/// strength of their checks alone, first take a descriptor of their own for the file
/// (`fcntl(F_DUPFD_CLOEXEC)`), and check and map that one: another thread that closes the number
/// and opens another file under it cannot slip that file in between the checks (its seals, its
/// size) and the map.
///
/// ```
/// use std::os::fd::{AsFd, AsRawFd};
/// use mman::MmapOptions;
///
/// # fn main() -> std::io::Result<()> {
/// let file = tempfile::tempfile()?;
/// file.set_len(4096)?;
/// let by_reference = MmapOptions::new().map_raw(&file)?;
/// let by_number = MmapOptions::new().map_raw(file.as_raw_fd())?;
/// let borrowed = MmapOptions::new().map_raw(file.as_fd())?;
/// assert_eq!((by_reference.len(), by_number.len(), borrowed.len()), (4096, 4096, 4096));
/// # Ok(())
/// # }
/// ```
pub trait MmapAsRawDesc {
    /// The descriptor to map.
    fn as_raw_desc(&self) -> MmapRawDescriptor;
}

impl MmapAsRawDesc for RawFd {
    fn as_raw_desc(&self) -> MmapRawDescriptor {
        MmapRawDescriptor(*self)
    }
}

impl<T: AsRawFd + ?Sized> MmapAsRawDesc for &T {
    fn as_raw_desc(&self) -> MmapRawDescriptor {
        MmapRawDescriptor(self.as_raw_fd())
    }
}

impl<T: AsRawFd + ?Sized> MmapAsRawDesc for &mut T {
    fn as_raw_desc(&self) -> MmapRawDescriptor {
        MmapRawDescriptor(self.as_raw_fd())
    }
}

/// `MmapAsRawDesc` by value, for types that own or borrow a descriptor.
macro_rules! by_value {
    ($($ty:ty),* $(,)?) => {
        $(
            impl MmapAsRawDesc for $ty {
                fn as_raw_desc(&self) -> MmapRawDescriptor {
                    MmapRawDescriptor(self.as_raw_fd())
                }
            }
        )*
    };
}

by_value!(File, OwnedFd, BorrowedFd<'_>);

impl<T: AsRawFd + ?Sized> MmapAsRawDesc for Box<T> {
    fn as_raw_desc(&self) -> MmapRawDescriptor {
        MmapRawDescriptor((**self).as_raw_fd())
    }
}

impl<T: AsRawFd + ?Sized> MmapAsRawDesc for Rc<T> {
    fn as_raw_desc(&self) -> MmapRawDescriptor {
        MmapRawDescriptor((**self).as_raw_fd())
    }
}

impl<T: AsRawFd + ?Sized> MmapAsRawDesc for Arc<T> {
    fn as_raw_desc(&self) -> MmapRawDescriptor {
        MmapRawDescriptor((**self).as_raw_fd())
    }
}

/// The descriptor `file` gives, borrowed for the call: a negative number is refused before any
/// call. The constructors whose maps give out `&[u8]` with no promise of the caller's ([`pin`]'s
/// users) take a descriptor of their own instead; for the others a number another thread swaps for
/// another file between the checks and the map is that caller's to avoid (a `RawFd` is open, and
/// the same file, through the call, as in memmap2), and if it happens anyway, dropping the map
/// still unmaps all the kernel mapped. A number that names no open file makes the calls fail with
/// `EBADF`, an error, and never touches memory.
pub(crate) fn borrow<'a>(file: &'a impl MmapAsRawDesc) -> io::Result<BorrowedFd<'a>> {
    let MmapRawDescriptor(fd) = file.as_raw_desc();
    if fd < 0 {
        return Err(invalid(format_args!(
            "file descriptor {fd} is not a descriptor (negative)"
        )));
    }
    // SAFETY: `fd` is not -1 (which `BorrowedFd` cannot hold); `file` keeps it open while borrowed,
    // and a `RawFd` is open as long as its caller says, as in memmap2.
    Ok(unsafe { BorrowedFd::borrow_raw(fd) })
}

/// A descriptor of this call's own for the file `file` names now (`fcntl(F_DUPFD_CLOEXEC)`), which
/// `map_sealed` and `map_if_safe` check (seals, size, huge pages) and map: a `RawFd` is only a
/// number, which another thread may close and reuse for another file between two system calls, and
/// the file checked must be the file mapped, since those maps give out `&[u8]` on the strength of
/// the checks alone. A negative number is refused before any call.
pub(crate) fn pin(file: &impl MmapAsRawDesc) -> io::Result<OwnedFd> {
    borrow(file)?.try_clone_to_owned().map_err(|error| {
        let fd = file.as_raw_desc().0;
        crate::error::failed(
            format_args!("fcntl(F_DUPFD_CLOEXEC) of file descriptor {fd}"),
            error,
        )
    })
}
