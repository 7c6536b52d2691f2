//! Shared memory between processes: a `memfd_create(2)` file, optionally sealed, and its maps.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use crate::desc::{MmapAsRawDesc, MmapRawDescriptor};
use crate::map::{Mmap, MmapMut, MmapRaw};
use crate::options::MmapOptions;
use crate::range::invalid;
use crate::seals::Seals;
use crate::sys;
use mmap_sys as c;

/// Memory that processes share: an anonymous file made by `memfd_create(2)` (Linux 3.17), which
/// lives in RAM (or swap) and has no name in any file system. Its descriptor is handed to another
/// process (inherited by a child, or sent over a Unix socket), which maps the same pages.
///
/// It can be sealed ([`SharedMemory::add_seals`]): once sealed against shrinking and writing, its
/// contents can never change, and [`SharedMemory::map_sealed`] maps it read-only without `unsafe`.
///
/// ```
/// use mman::{Seals, SharedMemory};
///
/// # fn main() -> std::io::Result<()> {
/// let shared = SharedMemory::create("table", 4096)?;
/// {
///     let map = shared.map_raw()?;
///     // SAFETY: the memory is 4096 bytes long, and no other process has its descriptor yet.
///     unsafe { map.as_mut_ptr().copy_from(b"frozen".as_ptr(), 6) };
/// } // the writable map is gone: the memory can be sealed against writing
/// shared.add_seals(Seals::SHRINK | Seals::GROW | Seals::WRITE)?;
/// let frozen = shared.map_sealed()?; // safe: no one can change these bytes any more
/// assert_eq!(&frozen[..6], b"frozen");
/// # Ok(())
/// # }
/// ```
///
/// Availability: Linux and Android (`memfd_create`, Linux 3.17; seals from 3.17,
/// `Seals::FUTURE_WRITE` from 5.1).
#[derive(Debug)]
#[doc(alias = "memfd_create")]
#[doc(alias = "memfd")]
pub struct SharedMemory {
    file: File,
}

impl SharedMemory {
    /// Makes `len` bytes of zeroed shared memory: `memfd_create(name, MFD_CLOEXEC |
    /// MFD_ALLOW_SEALING)`, then `ftruncate(len)`. `name` is shown in `/proc/<pid>/fd` as
    /// `memfd:<name>`; it need not be unique. The descriptor is closed on `exec` (`MFD_CLOEXEC`):
    /// pass it to a child explicitly.
    ///
    /// # Errors
    ///
    /// `InvalidInput` before any call for a name with a NUL byte or longer than 249 bytes;
    /// otherwise the error of `memfd_create` or `ftruncate`.
    ///
    /// # References
    ///
    /// - [`memfd_create(2)`](https://man7.org/linux/man-pages/man2/memfd_create.2.html)
    /// - [`ftruncate(2)`](https://man7.org/linux/man-pages/man2/ftruncate.2.html)
    #[doc(alias = "memfd_create")]
    #[doc(alias = "MFD_ALLOW_SEALING")]
    pub fn create(name: &str, len: u64) -> io::Result<SharedMemory> {
        crate::error::in_call("SharedMemory::create", || {
            if name.len() > 249 {
                return Err(invalid(format_args!(
                    "name is {} bytes long, over 249",
                    name.len()
                )));
            }
            let c_name = CString::new(name)
                .map_err(|_| invalid(format_args!("name {name:?} holds a NUL byte")))?;
            let fd = sys::memfd_create(&c_name, c::MFD_CLOEXEC | c::MFD_ALLOW_SEALING)?;
            let memory = SharedMemory {
                file: File::from(fd),
            };
            memory.resize(len)?;
            Ok(memory)
        })
    }

    /// The memory's size in bytes: `fstat(2)`.
    ///
    /// # Errors
    ///
    /// The error of `fstat`.
    ///
    /// # References
    ///
    /// - [`fstat(2)`](https://man7.org/linux/man-pages/man2/fstat.2.html)
    #[doc(alias = "fstat")]
    pub fn len(&self) -> io::Result<u64> {
        self.size()
            .map_err(crate::error::named("SharedMemory::len"))
    }

    /// Whether the memory's size is 0: `fstat(2)`.
    ///
    /// # Errors
    ///
    /// The error of `fstat`.
    ///
    /// # References
    ///
    /// - [`fstat(2)`](https://man7.org/linux/man-pages/man2/fstat.2.html)
    #[doc(alias = "fstat")]
    pub fn is_empty(&self) -> io::Result<bool> {
        self.size()
            .map(|size| size == 0)
            .map_err(crate::error::named("SharedMemory::is_empty"))
    }

    /// `fstat(2)`'s size, for `len` and `is_empty`, which add their names to its error.
    fn size(&self) -> io::Result<u64> {
        match self.file.metadata() {
            Ok(metadata) => Ok(metadata.len()),
            Err(error) => Err(crate::error::failed("fstat", error)),
        }
    }

    /// Resizes the memory: `ftruncate(2)`. Bytes added read as zeros.
    ///
    /// # Errors
    ///
    /// `PermissionDenied` (`EPERM`) when a seal forbids the change; otherwise the error of
    /// `ftruncate`.
    ///
    /// # References
    ///
    /// - [`ftruncate(2)`](https://man7.org/linux/man-pages/man2/ftruncate.2.html)
    #[doc(alias = "ftruncate")]
    pub fn set_len(&self, len: u64) -> io::Result<()> {
        self.resize(len)
            .map_err(crate::error::named("SharedMemory::set_len"))
    }

    /// `ftruncate(2)` to `len` bytes, for `set_len` and `create`, which add their names to its
    /// error.
    fn resize(&self, len: u64) -> io::Result<()> {
        self.file
            .set_len(len)
            .map_err(|error| crate::error::failed(format_args!("ftruncate to {len} bytes"), error))
    }

    /// Adds seals: `fcntl(2)` with `F_ADD_SEALS`. Seals are never removed.
    ///
    /// # Errors
    ///
    /// `PermissionDenied` (`EPERM`) once [`Seals::SEAL`] is set; `ResourceBusy` (`EBUSY`) when
    /// adding [`Seals::WRITE`] while a writable shared map of the memory exists, in any process.
    ///
    /// # References
    ///
    /// - [`fcntl(2)`](https://man7.org/linux/man-pages/man2/fcntl.2.html)
    #[doc(alias = "fcntl")]
    #[doc(alias = "F_ADD_SEALS")]
    pub fn add_seals(&self, seals: Seals) -> io::Result<()> {
        sys::add_seals(self.file.as_fd(), seals.bits())
            .map_err(crate::error::named("SharedMemory::add_seals"))
    }

    /// The seals set: `fcntl(2)` with `F_GET_SEALS`.
    ///
    /// # Errors
    ///
    /// The error of `fcntl`.
    ///
    /// # References
    ///
    /// - [`fcntl(2)`](https://man7.org/linux/man-pages/man2/fcntl.2.html)
    #[doc(alias = "fcntl")]
    #[doc(alias = "F_GET_SEALS")]
    pub fn seals(&self) -> io::Result<Seals> {
        sys::get_seals(self.file.as_fd())
            .map_err(crate::error::named("SharedMemory::seals"))
            .map(Seals::from_bits_retain)
    }

    /// A writable shared map of all the memory, used through raw pointers: see
    /// [`MmapOptions::map_raw`].
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map_raw`]; `PermissionDenied` once sealed against writing.
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    #[doc(alias = "mmap")]
    pub fn map_raw(&self) -> io::Result<MmapRaw> {
        MmapOptions::new().map_raw(&self.file)
    }

    /// A writable shared map of all the memory, as a `&mut [u8]`: see [`MmapOptions::map_mut`].
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map_mut`]; `PermissionDenied` once sealed against writing.
    ///
    /// # Safety
    ///
    /// No one else, in this process or another, writes the memory or shrinks it while the map
    /// lives.
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    #[doc(alias = "mmap")]
    pub unsafe fn map_mut(&self) -> io::Result<MmapMut> {
        // SAFETY: the caller's promise, passed on.
        unsafe { MmapOptions::new().map_mut(&self.file) }
    }

    /// A read-only map of all the memory, which needs no `unsafe`: the memory must be sealed
    /// against shrinking and writing ([`Seals::SHRINK`] and [`Seals::WRITE`]), so no one can change
    /// it under the map. See [`MmapOptions::map_sealed`].
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map_sealed`].
    ///
    /// # References
    ///
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    /// - [`fcntl(2)`](https://man7.org/linux/man-pages/man2/fcntl.2.html)
    #[doc(alias = "mmap")]
    pub fn map_sealed(&self) -> io::Result<Mmap> {
        MmapOptions::new().map_sealed(&self.file)
    }

    /// The memory as a `File`, to read or write it with `std::io` or hand its descriptor on.
    pub fn as_file(&self) -> &File {
        &self.file
    }
}

impl AsFd for SharedMemory {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

impl AsRawFd for SharedMemory {
    fn as_raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

impl MmapAsRawDesc for SharedMemory {
    fn as_raw_desc(&self) -> MmapRawDescriptor {
        self.file.as_raw_desc()
    }
}

impl From<SharedMemory> for OwnedFd {
    fn from(memory: SharedMemory) -> OwnedFd {
        memory.file.into()
    }
}

impl From<OwnedFd> for SharedMemory {
    /// Takes a memfd's descriptor, e.g. one a parent process handed over. Any file works; only a
    /// memfd can be sealed.
    fn from(fd: OwnedFd) -> SharedMemory {
        SharedMemory {
            file: File::from(fd),
        }
    }
}
