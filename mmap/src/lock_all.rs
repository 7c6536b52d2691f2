//! Locking all of the process's memory: `mlockall(2)` and `munlockall(2)`, and the check that
//! keeps a locked main thread's stack able to grow.

use std::io::{self, Read};

use crate::error::{invalid, other};
use crate::stack_guard::{parse_line, with_smaps};
use crate::sys::{self, c_int, Limit};
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
/// `SIGSEGV`, however far the stack is from `RLIMIT_STACK`. So, where the limit applies (it is not
/// unlimited, and the process lacks `CAP_IPC_LOCK`), `lock_all` refuses, before any call:
///
/// - `CURRENT` when the limit cannot hold what is mapped now (all of which the call locks) plus
///   what the stack may still grow by, up to `RLIMIT_STACK` (so always when that is unlimited);
/// - `CURRENT | FUTURE`, and `FUTURE` while the stack is locked: every later map would be locked
///   against the same limit, leaving the stack no room that can be kept.
///
/// `FUTURE` alone locks later maps and leaves the stack there is unlocked, free to grow.
/// [`lock_all_unchecked`] locks without this check.
///
/// The check reads `/proc/self/smaps` (the stack's size, and whether it is locked) and
/// `/proc/self/statm` (what is mapped), and asks the kernel whether the process may lock past the
/// limit (by locking a reservation one page past it, which faults nothing in): root of a user
/// namespace shows `CAP_IPC_LOCK` in `CapEff`, and the kernel still holds its stack to the limit.
/// It holds for the memory locked by this call: memory locked later
/// ([`Mmap::lock`](crate::Mmap::lock), another library's `mlock`) and maps other threads make
/// during the call count against the same limit, and take from the stack's room.
///
/// ```no_run
/// use mman::LockAll;
///
/// # fn main() -> std::io::Result<()> {
/// // Needs CAP_IPC_LOCK or an unlimited RLIMIT_MEMLOCK: see "The main thread's stack".
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
/// `OutOfMemory` before the call when the limit could stop the locked stack from growing, as
/// above (`PermissionDenied` when the limit is 0), with `RLIMIT_MEMLOCK`, `RLIMIT_STACK` and the
/// bytes counted in the message: the kind `mlockall` itself gives past the limit, which the check
/// counts the stack's growth in. `Unsupported` where the check is needed and `/proc` cannot be
/// read (a sandbox without it, a system other than Linux). Then `OutOfMemory` (`ENOMEM`) past
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
        check_stack_room(flags, &names)?;
        lock_all_flags(flags, &names)
    })
}

/// [`lock_all`] without its check of the main thread's stack: `mlockall(2)`.
///
/// For a process that knows its stack will not grow past what `RLIMIT_MEMLOCK` leaves it (it has
/// grown it already, runs its work on threads of its own, or locks only on a fixed budget).
///
/// # Safety
///
/// Where the stack is locked (`CURRENT`, or `FUTURE` while it is locked) and `RLIMIT_MEMLOCK`
/// applies (it is not unlimited, and the process lacks `CAP_IPC_LOCK`), the kernel refuses to
/// grow the main thread's stack past the limit, and the frame that needs the page ends the process
/// with `SIGSEGV`. The caller promises the stack will not need to: that the limit holds the
/// memory locked, now and later, plus the stack's growth.
///
/// # Errors
///
/// As [`lock_all`], without the refusals for the stack.
///
/// # References
///
/// - [`mlockall(2)`](https://man7.org/linux/man-pages/man2/mlockall.2.html)
#[doc(alias = "mlockall")]
pub unsafe fn lock_all_unchecked(flags: LockAll) -> io::Result<()> {
    crate::error::in_call("lock_all_unchecked", || {
        lock_all_flags(flags, &names(flags)?)
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

fn lock_all_flags(flags: LockAll, names: &str) -> io::Result<()> {
    let locked = sys::mlockall(flags.bits(), names);
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

/// Refuses `flags` (spelt `names`) where they would leave the main thread's stack locked under a
/// `RLIMIT_MEMLOCK` that could stop it from growing to `RLIMIT_STACK` (see [`lock_all`]).
fn check_stack_room(flags: LockAll, names: &str) -> io::Result<()> {
    let memlock = match sys::soft_limit(Limit::MemLock) {
        Ok(None) => return Ok(()),
        Ok(Some(memlock)) => memlock,
        // Unknown (a seccomp filter may deny getrlimit): held to the smallest, unless the kernel
        // lets the process past any limit.
        Err(_) => 0,
    };
    match stack_refusal(flags, names, memlock) {
        Some(refusal) if !sys::may_lock_past(memlock) => Err(refusal),
        _ => Ok(()),
    }
}

/// Why `flags` (spelt `names`) could leave the main thread's stack locked and unable to grow under
/// `RLIMIT_MEMLOCK` `memlock` bytes, were the limit to apply; `None` if they cannot.
fn stack_refusal(flags: LockAll, names: &str, memlock: u64) -> Option<io::Error> {
    let unreadable = |error: io::Error| {
        sys::explain(
            error,
            io::ErrorKind::Unsupported,
            format_args!(
                "{names} under RLIMIT_MEMLOCK {memlock} bytes: whether the main thread's stack \
                 could still grow once locked cannot be checked without /proc"
            ),
        )
    };
    let stack = match main_stack() {
        Ok(Some(stack)) => stack,
        // No stack to lock (not a process the kernel started with one).
        Ok(None) => return None,
        Err(error) => return Some(unreadable(error)),
    };
    let current = flags.contains(LockAll::CURRENT);
    if !current && !stack.locked {
        // FUTURE alone: later maps are locked, the stack there is is not.
        return None;
    }
    let kind = if memlock == 0 {
        io::ErrorKind::PermissionDenied
    } else {
        io::ErrorKind::OutOfMemory
    };
    let stack_limit = sys::soft_limit(Limit::Stack).ok().flatten();
    let stack_limit_text =
        stack_limit.map_or_else(|| "unlimited".to_owned(), |bytes| format!("{bytes} bytes"));
    let remedy = "raise RLIMIT_MEMLOCK (or give the process CAP_IPC_LOCK), lock with \
                  LockAll::FUTURE alone, or see lock_all_unchecked";
    if flags.contains(LockAll::FUTURE) {
        let what = if current {
            "locks the main thread's stack and every later map"
        } else {
            "locks every later map, with the main thread's stack locked,"
        };
        return Some(other(
            kind,
            format_args!(
                "{names} {what} under RLIMIT_MEMLOCK {memlock} bytes: the later maps would take \
                 the room the stack needs to grow to RLIMIT_STACK {stack_limit_text}, and past \
                 the limit the kernel ends the process with SIGSEGV at the stack's next page; \
                 {remedy}"
            ),
        ));
    }
    let Some(stack_limit) = stack_limit else {
        return Some(other(
            kind,
            format_args!(
                "{names} locks the main thread's stack, which may grow without bound \
                 (RLIMIT_STACK unlimited), under RLIMIT_MEMLOCK {memlock} bytes: past the limit \
                 the kernel ends the process with SIGSEGV at the stack's next page; {remedy}"
            ),
        ));
    };
    let mapped = match mapped_bytes() {
        Ok(mapped) => mapped,
        Err(error) => return Some(unreadable(error)),
    };
    let room = stack_limit.saturating_sub(stack.size);
    let need = mapped.saturating_add(room);
    (need > memlock).then(|| {
        other(
            kind,
            format_args!(
                "{names} would lock {mapped} bytes mapped now, and the main thread's stack ({} \
                 bytes) may grow by {room} bytes more to RLIMIT_STACK {stack_limit_text}: {need} \
                 bytes, over RLIMIT_MEMLOCK {memlock} bytes, past which the kernel ends the \
                 process with SIGSEGV at the stack's next page; {remedy}",
                stack.size
            ),
        )
    })
}

/// The main thread's stack, as `/proc/self/smaps` shows its mapping (`[stack]`).
struct MainStack {
    /// Its size in bytes.
    size: u64,
    /// Whether it is locked: `lo` in its `VmFlags`.
    locked: bool,
}

/// The main thread's stack; `None` if the process has none (no `[stack]` line).
fn main_stack() -> io::Result<Option<MainStack>> {
    with_smaps(|smaps| {
        let mut lines = smaps
            .lines()
            .skip_while(|line| parse_line(line).map_or(true, |(_, _, path)| path != "[stack]"));
        let (from, to, _) = parse_line(lines.next()?)?;
        let locked = lines
            .take_while(|line| parse_line(line).is_none())
            .find_map(|line| line.strip_prefix("VmFlags:"))
            .is_some_and(|flags| flags.split_whitespace().any(|flag| flag == "lo"));
        Some(MainStack {
            size: (to - from) as u64,
            locked,
        })
    })
}

/// The bytes this process has mapped (the kernel's `total_vm`, which bounds what
/// `mlockall(MCL_CURRENT)` locks): the first field of `/proc/self/statm`, in pages. Read into a
/// buffer on the stack, so that reading it maps nothing more.
fn mapped_bytes() -> io::Result<u64> {
    let mut buffer = [0u8; 128];
    let read = std::fs::File::open("/proc/self/statm")?.read(&mut buffer)?;
    std::str::from_utf8(&buffer[..read])
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<u64>().ok())
        .map(|pages| pages * sys::page_size() as u64)
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidData))
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
