//! The crate's one error: every `io::Error` this crate makes (rather than passes on from std) holds
//! an [`Error`], made here and only here. Its message names the public method and the argument or
//! the call that failed; the OS error below it keeps its number, which [`raw_os_error`] returns.
//!
//! A public method names itself once, around its body: `error::in_call("flush", || body)`. Where
//! a body is needed without that name (by another public method, or by the crate's own calls, which
//! name themselves), it is a function of its own, named for the method: `set_len_body` is the body
//! of `set_len`. The checked reads (`read_at`, `read_exact_at`, `MmapReader::read`) pass their
//! name down instead, to the cold path that makes their errors (`MmapInner::read_at_slow`), so that
//! their hot path has no error to name.

use std::ffi::c_int;
use std::fmt;
use std::io;

/// What this crate adds to an `io::Error`: a message that says what was asked and what went wrong,
/// and the error below it (the OS error of the system call that failed), if any.
///
/// `Display` writes the message, then the cause's text; `source()` is `None`, so reporters that
/// walk the chain of sources (anyhow's `{:#}`, eyre) print the OS error once, as `{}` does.
#[derive(Debug)]
struct Error {
    message: String,
    cause: Option<io::Error>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            Some(cause) => write!(f, "{}: {cause}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {}

/// An error of `kind` that says `message`, above `cause`.
fn new(kind: io::ErrorKind, message: String, cause: Option<io::Error>) -> io::Error {
    io::Error::new(kind, Error { message, cause })
}

/// An error of `kind` without an OS error below it: what the crate found wrong itself.
pub(crate) fn other(kind: io::ErrorKind, message: impl fmt::Display) -> io::Error {
    new(kind, message.to_string(), None)
}

/// An `InvalidInput` error naming the argument, for input refused before any call.
pub(crate) fn invalid(message: impl fmt::Display) -> io::Error {
    new(io::ErrorKind::InvalidInput, message.to_string(), None)
}

/// Adds the public method's name to the errors of its body: `body`'s errors made by this crate
/// say `"{call}: {what}"` (then the OS error's text, if any). The one place a public method's
/// name enters an error; the functions below say only what failed.
#[inline]
pub(crate) fn in_call<T, E: Named>(
    call: &'static str,
    body: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    body().map_err(|error| error.named(call))
}

/// An error that [`in_call`] names: `io::Error`, and `MapIfSafeError`, which holds one.
pub(crate) trait Named {
    /// The error, its message prefixed with the public method's name, `call`.
    fn named(self, call: &'static str) -> Self;
}

impl Named for io::Error {
    fn named(self, call: &'static str) -> io::Error {
        name(call, self)
    }
}

/// `error`, its message prefixed with `call`. An error this crate did not make (a bare OS error
/// passed on from std) is left as it is.
#[cold]
fn name(call: &str, error: io::Error) -> io::Error {
    if !error.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        return error;
    }
    let kind = error.kind();
    match error.into_inner().map(|inner| inner.downcast::<Error>()) {
        Some(Ok(inner)) => new(kind, format!("{call}: {}", inner.message), inner.cause),
        // Not reached: the check above saw an `Error`.
        Some(Err(inner)) => io::Error::new(kind, inner),
        None => io::Error::from(kind),
    }
}

/// The error of the system call just made: `what` (the system call and its arguments:
/// `"mmap of 4096 bytes at offset 0"`) failed with `errno`.
pub(crate) fn last_error(what: impl FnOnce() -> String) -> io::Error {
    failed(what(), io::Error::last_os_error())
}

/// `what` failed with the OS error `cause`, whose kind the error takes, except for two numbers
/// std does not sort: `EBADF` (a descriptor that is not open, or not open for what the call needs)
/// is [`InvalidInput`](io::ErrorKind::InvalidInput), a wrong argument like every other bad input;
/// `ENODEV` (a file the kernel cannot map, such as those of `/proc`) is
/// [`Unsupported`](io::ErrorKind::Unsupported).
pub(crate) fn failed(what: impl fmt::Display, cause: io::Error) -> io::Error {
    let kind = match cause.raw_os_error() {
        Some(libc::EBADF) => io::ErrorKind::InvalidInput,
        Some(libc::ENODEV) => io::ErrorKind::Unsupported,
        _ => cause.kind(),
    };
    new(kind, format!("{what} failed"), Some(cause))
}

/// `error`, of a failed call, as an error of `kind` that says `why` in
/// place of the call's own message. The OS error stays below it: [`raw_os_error`] still returns its
/// number.
pub(crate) fn explain(error: io::Error, kind: io::ErrorKind, why: impl fmt::Display) -> io::Error {
    let cause = if error.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        let inner = error
            .into_inner()
            .and_then(|inner| inner.downcast::<Error>().ok());
        inner.and_then(|inner| inner.cause)
    } else {
        Some(error)
    };
    new(kind, why.to_string(), cause)
}

/// The OS error number (`errno`) behind an error of this crate, if a system call failed: the one
/// way to reach it.
///
/// memmap2 returns the OS error itself, so its users write `error.raw_os_error()`. This crate's
/// errors carry a message naming the public method and its arguments, and std keeps
/// `raw_os_error()` only for an `io::Error` without a message: for those errors it is `None`.
/// Write `mman::raw_os_error(&error)` instead; it also returns the number of a bare OS error, so
/// it works on every `io::Error`. The error's [`kind`](io::Error::kind) is the OS error's (with
/// `EBADF` as `InvalidInput` and `ENODEV` as `Unsupported`), or the crate's own where it explains
/// a failure (an `EFAULT` of `populate` is `UnexpectedEof`).
///
/// ```
/// use std::io::ErrorKind;
///
/// # fn main() -> std::io::Result<()> {
/// let path = tempfile::NamedTempFile::new()?;
/// path.as_file().set_len(4096)?;
/// let read_only = std::fs::File::open(path.path())?;
/// // SAFETY: the kernel refuses the map: nothing is mapped.
/// let error = unsafe { mman::MmapMut::map_mut(&read_only) }.unwrap_err();
/// // "map_mut: mmap of 4096 bytes at offset 0 failed: Permission denied (os error 13)"
/// assert_eq!(error.kind(), ErrorKind::PermissionDenied);
/// assert_eq!(mman::raw_os_error(&error), Some(libc::EACCES));
/// assert_eq!(error.raw_os_error(), None); // std's method sees the message, not the number
/// # Ok(())
/// # }
/// ```
#[doc(alias = "errno")]
pub fn raw_os_error(error: &io::Error) -> Option<c_int> {
    error.raw_os_error().or_else(|| {
        error
            .get_ref()?
            .downcast_ref::<Error>()?
            .cause
            .as_ref()
            .and_then(raw_os_error)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_call_names_it_and_keeps_the_number_and_its_text_once() {
        let error = failed(
            "lock: mlock of 4096 bytes",
            io::Error::from_raw_os_error(libc::ENOMEM),
        );
        assert_eq!(error.kind(), io::ErrorKind::OutOfMemory);
        assert_eq!(raw_os_error(&error), Some(libc::ENOMEM));
        let os = io::Error::from_raw_os_error(libc::ENOMEM).to_string();
        assert_eq!(
            error.to_string(),
            format!("lock: mlock of 4096 bytes failed: {os}")
        );
        assert!(std::error::Error::source(&error).is_none());
    }

    #[test]
    fn an_explanation_replaces_the_message_and_keeps_the_number() {
        let error = failed(
            "populate: madvise",
            io::Error::from_raw_os_error(libc::EFAULT),
        );
        let error = explain(
            error,
            io::ErrorKind::UnexpectedEof,
            "populate: past the end of the file",
        );
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
        assert_eq!(raw_os_error(&error), Some(libc::EFAULT));
        let os = io::Error::from_raw_os_error(libc::EFAULT).to_string();
        assert_eq!(
            error.to_string(),
            format!("populate: past the end of the file: {os}")
        );
        // A bare OS error, explained, is the cause itself.
        let error = explain(
            io::Error::from_raw_os_error(libc::EPERM),
            io::ErrorKind::PermissionDenied,
            "why",
        );
        assert_eq!(raw_os_error(&error), Some(libc::EPERM));
    }

    #[test]
    fn the_public_method_is_named_once_in_front_and_a_bare_os_error_is_left_alone() {
        let error = failed(
            "mlock of 4096 bytes",
            io::Error::from_raw_os_error(libc::ENOMEM),
        );
        let error = error.named("lock");
        let os = io::Error::from_raw_os_error(libc::ENOMEM).to_string();
        assert_eq!(
            error.to_string(),
            format!("lock: mlock of 4096 bytes failed: {os}")
        );
        assert_eq!(error.kind(), io::ErrorKind::OutOfMemory);
        assert_eq!(raw_os_error(&error), Some(libc::ENOMEM));
        let bare = io::Error::from_raw_os_error(libc::ENOMEM).named("lock");
        assert_eq!(bare.raw_os_error(), Some(libc::ENOMEM));
        assert_eq!(bare.to_string(), os);
    }

    #[test]
    fn bad_descriptors_are_invalid_input_and_unmappable_files_unsupported() {
        let error = failed("map", io::Error::from_raw_os_error(libc::EBADF));
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        let error = failed("map", io::Error::from_raw_os_error(libc::ENODEV));
        assert_eq!(error.kind(), io::ErrorKind::Unsupported);
        assert_eq!(raw_os_error(&invalid("len")), None);
    }
}
