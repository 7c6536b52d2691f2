//! Shared memory between processes: a `memfd_create(2)` file, optionally sealed, and its maps.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

use crate::desc::{MmapAsRawDesc, MmapRawDescriptor};
use crate::error::{self, invalid};
use crate::map::{Mmap, MmapMut, MmapRaw};
use crate::options::MmapOptions;
use crate::seals::Seals;
use crate::sys;
use mmap_sys as c;

/// Memory that processes share: an anonymous file made by `memfd_create(2)` (Linux 3.17), which
/// lives in RAM (or swap) and has no name in any file system. Its descriptor is handed to another
/// process, which maps the same pages: to a child started with `std::process::Command` by
/// [`SharedMemory::share_with`] (the child takes it with [`SharedMemory::from_inherited`]; the
/// example `shared_memory_child` does both), or to any process over a Unix socket.
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
    /// hand it to a child with [`SharedMemory::share_with`].
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
        error::in_call("SharedMemory::create", || {
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
            memory.set_len_body(len)?;
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
        error::in_call("SharedMemory::len", || self.len_body())
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
        error::in_call("SharedMemory::is_empty", || Ok(self.len_body()? == 0))
    }

    /// `len`'s body, for it and `is_empty`.
    fn len_body(&self) -> io::Result<u64> {
        match self.file.metadata() {
            Ok(metadata) => Ok(metadata.len()),
            Err(error) => Err(error::failed("fstat", error)),
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
        error::in_call("SharedMemory::set_len", || self.set_len_body(len))
    }

    /// `set_len`'s body, for it and `create`.
    fn set_len_body(&self, len: u64) -> io::Result<()> {
        self.file
            .set_len(len)
            .map_err(|error| error::failed(format_args!("ftruncate to {len} bytes"), error))
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
        error::in_call("SharedMemory::add_seals", || {
            sys::add_seals(self.file.as_fd(), seals.bits())
        })
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
        error::in_call("SharedMemory::seals", || sys::get_seals(self.file.as_fd()))
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

    /// Hands the memory to the processes `command` starts: each gets it at the descriptor number
    /// returned, which it is told in an argument or the environment, and takes with
    /// [`SharedMemory::from_inherited`]. In this process the memory stays close-on-exec
    /// (`MFD_CLOEXEC`): `command` keeps a descriptor of its own (`fcntl(F_DUPFD_CLOEXEC, 3)`,
    /// numbered above the standard streams, closed when `command` is dropped), which a
    /// [`pre_exec`](std::os::unix::process::CommandExt::pre_exec) hook makes inheritable in the
    /// child alone, between its `fork` and `exec` (`fcntl(F_SETFD, 0)`).
    ///
    /// Why a hook: the usual way, a duplicate without `FD_CLOEXEC` kept open until the child is
    /// spawned, reaches every child that any thread of the process starts meanwhile, which can
    /// then read and write the memory and keep it alive; here only `command`'s children get it.
    /// The price is std's: a `Command` with a `pre_exec` hook is started with `fork` and `exec`
    /// rather than `posix_spawn`, which costs more in a process with much memory mapped (the
    /// kernel copies its page tables). Another hook that puts a descriptor at the same number
    /// replaces this one.
    ///
    /// ```
    /// use std::io::Write;
    /// use std::process::Command;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let memory = mman::SharedMemory::create("greeting", 4096)?;
    /// memory.as_file().write_all(b"hello")?;
    /// let mut command = Command::new("sh");
    /// let fd = memory.share_with(&mut command)?;
    /// // The child reads the memory at the number it inherited (a Rust child would map it: see
    /// // `SharedMemory::from_inherited`).
    /// let output = command.arg("-c").arg(format!("head -c 5 /proc/self/fd/{fd}")).output()?;
    /// assert_eq!(output.stdout, b"hello");
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// The error of `fcntl(F_DUPFD_CLOEXEC)`, e.g. `EMFILE` at `RLIMIT_NOFILE`. The hook's own
    /// error, in the child, comes back from `Command::spawn`.
    ///
    /// # References
    ///
    /// - [`fcntl(2)`](https://man7.org/linux/man-pages/man2/fcntl.2.html)
    /// - [`execve(2)`](https://man7.org/linux/man-pages/man2/execve.2.html) ("File descriptors
    ///   open in the calling process image remain open in the new process image, except for those
    ///   for which the close-on-exec flag is set")
    #[doc(alias = "FD_CLOEXEC")]
    #[doc(alias = "F_SETFD")]
    #[doc(alias = "pre_exec")]
    pub fn share_with(&self, command: &mut Command) -> io::Result<RawFd> {
        let fd = error::in_call("SharedMemory::share_with", || {
            sys::dup_above_stdio(self.file.as_fd())
        })?;
        let number = fd.as_raw_fd();
        // SAFETY: between `fork` and `exec` the hook makes one async-signal-safe call (`fcntl`), no
        // allocation, no lock; it owns `fd`, so the number names this memory while `command` lives.
        unsafe {
            command.pre_exec(move || sys::keep_open_across_exec(fd.as_fd()));
        }
        Ok(number)
    }

    /// Takes the memory a parent process handed to this one with [`SharedMemory::share_with`], at
    /// descriptor `fd` (the number `share_with` returned, passed in an argument or the
    /// environment), and makes it close-on-exec again (`fcntl(fd, F_SETFD, FD_CLOEXEC)`), so that
    /// this process's own children do not inherit it. Any file works, as with `From<OwnedFd>`;
    /// only a memfd can be sealed.
    ///
    /// ```no_run
    /// # fn main() -> std::io::Result<()> {
    /// // In the child: the number its parent passed as the first argument.
    /// let fd = std::env::args().nth(1).and_then(|n| n.parse().ok()).expect("a descriptor");
    /// // SAFETY: the parent handed this descriptor to this process (`share_with`), and nothing
    /// // else here owns it.
    /// let memory = unsafe { mman::SharedMemory::from_inherited(fd)? };
    /// let map = memory.map_raw()?;
    /// println!("{} bytes shared", map.len());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// `InvalidInput` before any call for a negative `fd`, and (`EBADF`) when `fd` is not open:
    /// the parent did not hand it on, or an `exec` since closed it.
    ///
    /// # Safety
    ///
    /// `fd` was handed to this process for it to own, as [`FromRawFd::from_raw_fd`] requires:
    /// nothing else in the process uses or closes it. The memory then closes it when dropped.
    ///
    /// # References
    ///
    /// - [`fcntl(2)`](https://man7.org/linux/man-pages/man2/fcntl.2.html)
    #[doc(alias = "FD_CLOEXEC")]
    pub unsafe fn from_inherited(fd: RawFd) -> io::Result<SharedMemory> {
        error::in_call("SharedMemory::from_inherited", || {
            if fd < 0 {
                return Err(invalid(format_args!(
                    "file descriptor {fd} is not a descriptor (negative)"
                )));
            }
            sys::close_on_exec(fd)?;
            // SAFETY: `fd` is open (`fcntl` succeeded), and the caller hands it to this function
            // to own.
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            Ok(SharedMemory::from(fd))
        })
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
