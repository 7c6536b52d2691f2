//! Locking all of the process's memory: `mlockall(2)` and `munlockall(2)`, and the refusal to
//! lock the main thread's stack under a `RLIMIT_MEMLOCK` the process is held to.

use std::ffi::c_int;
use std::io;

use crate::error::{explain, invalid, other};
use crate::sys::{self, Limit};
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
/// would go past the limit fails (a thread's stack: the thread is not made; the allocator's
/// memory: the allocation fails, which std's allocation functions report by aborting).
///
/// # The main thread's stack
///
/// `CURRENT` locks the main thread's stack too, and the kernel grows a locked stack only while the
/// locked memory stays within `RLIMIT_MEMLOCK`: past it, the next frame ends the process with
/// `SIGSEGV`, however far the stack is from `RLIMIT_STACK`. No check made when locking can keep
/// that room for the stack, since whatever is locked later takes from it: the lock methods of the
/// maps ([`Mmap::lock`](crate::Mmap::lock), ...), another library's `mlock`, and safe code that
/// locks nothing itself: glibc's `realloc` grows a block of 128 KiB or more (a growing `Vec` or
/// `String`) with `mremap`, which keeps a locked block locked. So, where the limit applies (it is
/// finite, and the kernel does not let the process past it), `lock_all` refuses `CURRENT`, with
/// `FUTURE` or `ON_FAULT` or without, before any call, however large the limit.
///
/// `FUTURE` alone locks later maps and leaves the stack there is unlocked, free to grow to
/// `RLIMIT_STACK`; a later map past the limit fails, as above. On systems other than Linux,
/// where the kernel may count the stack's growth under `MCL_FUTURE` against the limit (FreeBSD
/// does), `FUTURE` is refused as `CURRENT` is. An unlimited `RLIMIT_MEMLOCK`, or `CAP_IPC_LOCK`,
/// lets every call through; [`lock_all_unchecked`] locks without the refusal.
///
/// Whether the kernel lets the process past the limit is asked of the kernel itself, by locking
/// a reservation one page past it (which faults nothing in), not read from `CapEff`: root of a
/// user namespace shows `CAP_IPC_LOCK` there, and the kernel still holds it to the limit.
///
/// Locking what is mapped from now on where `CURRENT` is refused, or reporting why:
///
/// ```
/// use std::io::ErrorKind;
///
/// use mman::LockAll;
///
/// # fn main() -> std::io::Result<()> {
/// match mman::lock_all(LockAll::CURRENT | LockAll::FUTURE) {
///     Ok(()) => {}
///     // Held to RLIMIT_MEMLOCK: the message says why, and what else to do.
///     Err(error) if error.kind() == ErrorKind::OutOfMemory => {
///         eprintln!("{error}; locking later maps only");
///         mman::lock_all(LockAll::FUTURE)?;
///     }
///     Err(error) => return Err(error),
/// }
/// // ... work that must never wait for the disk ...
/// mman::unlock_all()?;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// `InvalidInput` before the call when `flags` holds neither `CURRENT` nor `FUTURE`.
/// `OutOfMemory` before the call for `CURRENT` (off Linux, `FUTURE` too) where `RLIMIT_MEMLOCK`
/// applies (`PermissionDenied` when the limit is 0: the kinds `mlockall` itself gives), with
/// `RLIMIT_MEMLOCK` and `RLIMIT_STACK` in the message, why, and what to do instead; where the
/// limit cannot be read (a seccomp filter denies `getrlimit`), the error of `getrlimit`. Then
/// `Unsupported` for `ON_FAULT` on a kernel older than 4.4; `OutOfMemory` (`ENOMEM`) past
/// `RLIMIT_MEMLOCK`, and `PermissionDenied` (`EPERM`) when the limit is 0, both with the limit in
/// the message; otherwise the error of `mlockall`.
///
/// # References
///
/// - [`mlockall(2)`](https://man7.org/linux/man-pages/man2/mlockall.2.html)
/// - [`getrlimit(2)`](https://man7.org/linux/man-pages/man2/getrlimit.2.html) (`RLIMIT_MEMLOCK`,
///   `RLIMIT_STACK`)
#[doc(alias = "mlockall")]
#[doc(alias = "MCL_CURRENT")]
#[doc(alias = "MCL_FUTURE")]
pub fn lock_all(flags: LockAll) -> io::Result<()> {
    crate::error::in_call("lock_all", || {
        let names = names(flags)?;
        refuse_to_lock_the_stack(flags, &names)?;
        lock_all_unchecked_body(flags, &names)
    })
}

/// [`lock_all`] without its refusal to lock the main thread's stack: `mlockall(2)`.
///
/// For a process that keeps the stack's room itself: one that holds all it locks to a fixed
/// budget under `RLIMIT_MEMLOCK`, or runs its deep work on threads of its own (whose stacks are
/// mapped whole when the thread is made, and never grow).
///
/// # Safety
///
/// Where the call locks the main thread's stack (`CURRENT`; on systems other than Linux,
/// `FUTURE` too) and `RLIMIT_MEMLOCK` applies (it is finite, and the process lacks `CAP_IPC_LOCK`
/// in the initial user namespace), the kernel grows the stack only while the locked memory stays
/// within the limit, and the frame that needs a page past it ends the process with `SIGSEGV`.
/// Until [`unlock_all`], the caller keeps room under the limit for the stack's growth to
/// `RLIMIT_STACK` (or to the deepest it will reach) against everything locked after this call,
/// which counts against the same limit and is not checked: the maps' safe lock methods
/// ([`Mmap::lock`](crate::Mmap::lock), `lock_range`, `lock_on_fault`, `lock_range_on_fault`) and
/// `remap` of a locked map; every map made under `FUTURE` (the allocator's, threads' stacks), also
/// by a later [`lock_all`]`(LockAll::FUTURE)`; the allocator growing a locked block with `mremap`
/// (glibc's `realloc` of a block of 128 KiB or more, as a growing `Vec` or `String` asks); and
/// other libraries' `mlock`.
///
/// # Errors
///
/// As [`lock_all`], without the refusal for the stack.
///
/// # References
///
/// - [`mlockall(2)`](https://man7.org/linux/man-pages/man2/mlockall.2.html)
#[doc(alias = "mlockall")]
pub unsafe fn lock_all_unchecked(flags: LockAll) -> io::Result<()> {
    crate::error::in_call("lock_all_unchecked", || {
        lock_all_unchecked_body(flags, &names(flags)?)
    })
}

/// The names of `flags`, for messages (`"MCL_CURRENT | MCL_FUTURE"`); `flags` must hold `CURRENT`
/// or `FUTURE`.
fn names(flags: LockAll) -> io::Result<String> {
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
    Ok(names.join(" | "))
}

/// `lock_all_unchecked`'s body (`flags` spelt `names`), for it and `lock_all`.
fn lock_all_unchecked_body(flags: LockAll, names: &str) -> io::Result<()> {
    let locked = sys::mlockall(flags.bits(), names);
    // A kernel older than 4.4 refuses MCL_ONFAULT with EINVAL.
    #[cfg(mman_has = "MCL_ONFAULT")]
    let locked = locked.map_err(|error| {
        if flags.contains(LockAll::ON_FAULT)
            && crate::error::raw_os_error(&error) == Some(libc::EINVAL)
        {
            let why = "the running kernel does not support MCL_ONFAULT (Linux 4.4)";
            return explain(error, io::ErrorKind::Unsupported, why);
        }
        error
    });
    locked
}

/// Refuses `flags` (spelt `names`) where they would lock the main thread's stack, or its growth,
/// under a `RLIMIT_MEMLOCK` the process is held to (see [`lock_all`]).
///
/// A stack locked already is not looked for: under a limit that applies, only `unsafe` code
/// locks it (`lock_all_unchecked`, whose caller keeps its room against the maps a later `FUTURE`
/// locks as against every other lock), and a stack locked while the limit did not apply (it was
/// lowered since, by `setrlimit` or another process's `prlimit`) has its room taken by any lock,
/// which no check here could keep.
fn refuse_to_lock_the_stack(flags: LockAll, names: &str) -> io::Result<()> {
    // Linux locks the stack for CURRENT only: MCL_FUTURE marks later maps, and the stack's growth
    // is not one. FreeBSD counts a stack's growth under MCL_FUTURE against the limit.
    if cfg!(linux_kernel) && !flags.contains(LockAll::CURRENT) {
        return Ok(());
    }
    let memlock = match sys::soft_limit(Limit::MemLock) {
        Ok(None) => return Ok(()),
        Ok(Some(memlock)) => memlock,
        Err(error) => {
            let kind = error.kind();
            return Err(explain(
                error,
                kind,
                format_args!(
                    "{names} would lock the main thread's stack, and whether RLIMIT_MEMLOCK lets \
                     it grow cannot be told: getrlimit(RLIMIT_MEMLOCK) failed"
                ),
            ));
        }
    };
    if sys::may_lock_past(memlock) {
        return Ok(());
    }
    let kind = if memlock == 0 {
        io::ErrorKind::PermissionDenied
    } else {
        io::ErrorKind::OutOfMemory
    };
    let stack_limit = sys::soft_limit_text(Limit::Stack);
    let what = if flags.contains(LockAll::CURRENT) {
        "the main thread's stack"
    } else {
        "the main thread's stack's growth (this kernel counts it under MCL_FUTURE)"
    };
    let future_alone = if cfg!(linux_kernel) {
        "lock with LockAll::FUTURE alone (later maps, not the stack), "
    } else {
        ""
    };
    Err(other(
        kind,
        format_args!(
            "{names} would lock {what} under RLIMIT_MEMLOCK {memlock} bytes, which this process \
             is held to (RLIMIT_STACK {stack_limit}): a locked stack grows only while locked \
             memory stays within RLIMIT_MEMLOCK, every later lock (the maps' lock methods, \
             another library's mlock, the allocator growing a locked block with mremap) takes \
             from its room, and past it the kernel ends the process with SIGSEGV at the stack's \
             next page; {future_alone}raise RLIMIT_MEMLOCK (or give the process CAP_IPC_LOCK), \
             or see lock_all_unchecked"
        ),
    ))
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
    crate::error::in_call("unlock_all", sys::munlockall)
}
