//! Locking all of the process's memory: `mlockall(2)` and `munlockall(2)`.

use std::io;

use crate::range::invalid;
use crate::sys::{self, c_int};
use mmap_sys as c;

bitflags::bitflags! {
    /// What [`lock_all`] locks: the `flags` of `mlockall(2)`.
    ///
    /// ```
    /// use mman::LockAll;
    ///
    /// let both = LockAll::CURRENT | LockAll::FUTURE;
    /// assert_eq!(both.bits(), mmap_sys::MCL_CURRENT | mmap_sys::MCL_FUTURE);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    #[doc(alias = "mlockall")]
    #[doc(alias = "MCL_CURRENT")]
    #[doc(alias = "MCL_FUTURE")]
    pub struct LockAll: c_int {
        /// Every page mapped now: [`MCL_CURRENT`](mmap_sys::MCL_CURRENT).
        const CURRENT = c::MCL_CURRENT;
        /// Every page mapped from now on: [`MCL_FUTURE`](mmap_sys::MCL_FUTURE).
        const FUTURE = c::MCL_FUTURE;
        /// With `CURRENT` or `FUTURE`: lock pages as they are first touched, not all at once:
        /// [`MCL_ONFAULT`](mmap_sys::MCL_ONFAULT) (Linux 4.4). Availability: Linux and Android,
        /// where the target's headers define it.
        #[cfg(mman_has = "MCL_ONFAULT")]
        const ON_FAULT = c::MCL_ONFAULT;
    }
}

/// Locks all of the process's memory in RAM, now (`CURRENT`), from now on (`FUTURE`), or both:
/// `mlockall(2)`. Nothing locked is swapped out, until [`unlock_all`].
///
/// Locked memory counts against `RLIMIT_MEMLOCK` (8 MiB by default) unless the process has
/// `CAP_IPC_LOCK`: most processes cannot lock all their memory. With `FUTURE`, a later map that
/// would go past the limit fails.
///
/// ```no_run
/// use mman::LockAll;
///
/// # fn main() -> std::io::Result<()> {
/// mman::lock_all(LockAll::CURRENT | LockAll::FUTURE)?;
/// // ... work that must never wait for the disk ...
/// mman::unlock_all()?;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// `InvalidInput` before the call when `flags` holds neither `CURRENT` nor `FUTURE`; `Unsupported`
/// for `ON_FAULT` on a kernel older than 4.4.
/// `OutOfMemory` (`ENOMEM`) past `RLIMIT_MEMLOCK`, and `PermissionDenied` (`EPERM`) when the limit
/// is 0, both with the limit in the message; otherwise the error of `mlockall`.
///
/// # References
///
/// - [`mlockall(2)`](https://man7.org/linux/man-pages/man2/mlockall.2.html)
#[doc(alias = "mlockall")]
#[doc(alias = "MCL_CURRENT")]
#[doc(alias = "MCL_FUTURE")]
pub fn lock_all(flags: LockAll) -> io::Result<()> {
    crate::error::in_call("lock_all", || lock_all_flags(flags))
}

fn lock_all_flags(flags: LockAll) -> io::Result<()> {
    if !flags.intersects(LockAll::CURRENT | LockAll::FUTURE) {
        return Err(invalid(format_args!(
            "flags {flags:?} hold neither LockAll::CURRENT nor LockAll::FUTURE"
        )));
    }
    let names: Vec<&str> = [
        (LockAll::CURRENT, "MCL_CURRENT"),
        (LockAll::FUTURE, "MCL_FUTURE"),
        #[cfg(mman_has = "MCL_ONFAULT")]
        (LockAll::ON_FAULT, "MCL_ONFAULT"),
    ]
    .into_iter()
    .filter_map(|(flag, name)| flags.contains(flag).then_some(name))
    .collect();
    let locked = sys::mlockall(flags.bits(), &names.join(" | "));
    // A kernel older than 4.4 refuses MCL_ONFAULT with EINVAL.
    #[cfg(mman_has = "MCL_ONFAULT")]
    let locked = locked.map_err(|error| {
        if flags.contains(LockAll::ON_FAULT) && sys::errno(&error) == Some(libc::EINVAL) {
            let why = "the running kernel does not support MCL_ONFAULT (Linux 4.4)";
            return sys::explain(error, io::ErrorKind::Unsupported, why);
        }
        error
    });
    locked
}

/// Unlocks all of the process's memory, and stops locking future maps: `munlockall(2)`.
///
/// # Errors
///
/// The error of `munlockall` (it has none on Linux).
///
/// # References
///
/// - [`munlockall(2)`](https://man7.org/linux/man-pages/man2/munlockall.2.html)
#[doc(alias = "munlockall")]
pub fn unlock_all() -> io::Result<()> {
    sys::munlockall().map_err(crate::error::named("unlock_all"))
}
