//! memmap2's `map_if_safe`: a read-only map made without `unsafe`, of a file whose contents nothing
//! can change: a memfd sealed against writing and shrinking, or a file with fs-verity.

use std::fmt;
use std::io;
use std::os::fd::BorrowedFd;

use crate::error::Named;

/// The error of [`MmapOptions::map_if_safe`](crate::MmapOptions::map_if_safe) and
/// [`Mmap::map_if_safe`](crate::Mmap::map_if_safe), as in memmap2: it says which of three things
/// happened, and converts into the [`io::Error`] it holds (`?` in a function returning
/// `io::Result`).
///
/// - [`not_supported`](MapIfSafeError::not_supported): this platform cannot tell a file that
///   cannot change (here: any but Linux and Android).
/// - [`not_safe`](MapIfSafeError::not_safe): the file, or the range asked for, may change under the
///   map; the error (`InvalidInput`) says why.
/// - [`map_failed`](MapIfSafeError::map_failed): the file is safe to map, but the map failed.
pub struct MapIfSafeError {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    NotSupported(io::Error),
    NotSafe(io::Error),
    MapFailed(io::Error),
}

impl MapIfSafeError {
    #[cfg_attr(mman_memfd, allow(dead_code))]
    pub(crate) fn new_not_supported() -> Self {
        let error = crate::error::other(
            io::ErrorKind::Unsupported,
            "this platform cannot tell a file that cannot change",
        );
        MapIfSafeError {
            inner: Inner::NotSupported(error),
        }
    }

    pub(crate) fn new_not_safe(error: io::Error) -> Self {
        MapIfSafeError {
            inner: Inner::NotSafe(error),
        }
    }

    pub(crate) fn new_map_failed(error: io::Error) -> Self {
        MapIfSafeError {
            inner: Inner::MapFailed(error),
        }
    }

    /// Whether this platform cannot tell a file that cannot change, so that no file is mapped.
    pub fn not_supported(&self) -> bool {
        matches!(self.inner, Inner::NotSupported(_))
    }

    /// Whether the map was refused because the file, or the range asked for, may change.
    pub fn not_safe(&self) -> bool {
        matches!(self.inner, Inner::NotSafe(_))
    }

    /// Whether the file was safe to map but the map itself failed.
    pub fn map_failed(&self) -> bool {
        matches!(self.inner, Inner::MapFailed(_))
    }

    fn io_error(&self) -> &io::Error {
        match &self.inner {
            Inner::NotSupported(error) | Inner::NotSafe(error) | Inner::MapFailed(error) => error,
        }
    }
}

impl fmt::Display for MapIfSafeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.io_error(), f)
    }
}

impl fmt::Debug for MapIfSafeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

/// The error held takes the public method's name.
impl Named for MapIfSafeError {
    fn named(self, call: &'static str) -> Self {
        let inner = match self.inner {
            Inner::NotSupported(error) => Inner::NotSupported(error.named(call)),
            Inner::NotSafe(error) => Inner::NotSafe(error.named(call)),
            Inner::MapFailed(error) => Inner::MapFailed(error.named(call)),
        };
        MapIfSafeError { inner }
    }
}

/// The message is the held error's, so it is not a source too.
impl std::error::Error for MapIfSafeError {}

impl From<MapIfSafeError> for io::Error {
    fn from(error: MapIfSafeError) -> io::Error {
        match error.inner {
            Inner::NotSupported(error) | Inner::NotSafe(error) | Inner::MapFailed(error) => error,
        }
    }
}

/// Checks that nothing can change `fd`'s contents: it is a memfd sealed against writing and
/// shrinking (`fcntl(F_GET_SEALS)`), or, not being sealable, has fs-verity (`statx`).
#[cfg(mman_memfd)]
pub(crate) fn check_file(fd: BorrowedFd<'_>) -> Result<(), MapIfSafeError> {
    use crate::seals::{sealing, Sealing};

    match sealing(fd) {
        Ok(Sealing::Fixed) => Ok(()),
        Ok(Sealing::Lacking(error)) => Err(MapIfSafeError::new_not_safe(error)),
        Ok(Sealing::Unsealable) => {
            #[cfg(libc_statx)]
            let verity = crate::sys::has_fs_verity(fd);
            // Without `statx`, no file is known to have fs-verity.
            #[cfg(not(libc_statx))]
            let verity = false;
            if verity {
                Ok(())
            } else {
                Err(MapIfSafeError::new_not_safe(crate::error::invalid(
                    "the file is neither a memfd sealed against writing and shrinking nor a file \
                     with fs-verity: its contents may change",
                )))
            }
        }
        Err(error) => Err(MapIfSafeError::new_map_failed(error)),
    }
}

/// Without memfd seals, this platform cannot tell a file that cannot change.
#[cfg(not(mman_memfd))]
pub(crate) fn check_file(_fd: BorrowedFd<'_>) -> Result<(), MapIfSafeError> {
    Err(MapIfSafeError::new_not_supported())
}
