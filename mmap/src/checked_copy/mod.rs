//! The checked copy behind `read_at` and [`MmapReader`](crate::MmapReader): a copy out of a map
//! that stops at a page the kernel cannot read (the file was truncated under the map, or the page
//! is `PROT_NONE`) and reports how far it got, where a plain read of the slice would kill the
//! process with `SIGBUS` or `SIGSEGV`.
//!
//! # Two ways
//!
//! - **The fault-fixup copy** (x86-64 and aarch64 Linux and Android, the default there): a copy
//!   routine written in assembly (`x86_64.rs`, `aarch64.rs`), and a process-wide `SIGBUS`/`SIGSEGV`
//!   handler, installed with `sigaction` on the first checked read. The handler acts on a signal
//!   only when all of these hold: the kernel raised it for a fault (`si_code > 0`: not `kill`,
//!   `sigqueue` or `tgkill`), the faulting instruction is a load of the routine from the *source*
//!   range of the copy (kept in registers by the routine, so the handler reads it from the
//!   interrupted context), or on x86-64 a load of one of the inline copies of 8 to 64 bytes, which
//!   a table of their sites records (they load nothing but the source). Then it moves the
//!   instruction pointer to a fixup (an inline copy's goes on to the routine, which copies again),
//!   which returns the bytes not copied, as the kernel's own `copy_from_user` does with its
//!   exception table (each routine finds the first byte that cannot be read, whatever address the
//!   processor reports for a wide load that crosses into its page). Every other signal goes on to
//!   the action the handler replaced, as the kernel would have delivered it (`handler.rs` says
//!   how): std's stack-overflow message still appears, a plain slice read of a truncated map still
//!   dies of `SIGBUS`, a crash reporter installed before runs once with its mask. A fault on the
//!   destination is never excused. The copy costs what `memcpy` costs: no system call, one atomic
//!   load (and a count of the thread's copies in progress, in memory of its own, which lets the
//!   handler be removed safely).
//! - **Through the kernel** (every other target, or by choice; `kernel.rs`): `process_vm_readv`
//!   on this process, which the kernel checks page by page (off Linux, `write(2)` of the source
//!   into a pipe, read back). It needs no handler, and costs a system call and the pinning of
//!   every page: 3 to 30 times a plain copy.
//!
//! Both give the same results: the bytes before the first page that cannot be read, and their
//! count. The fast way is on by default where it exists, because the point of `read_at` is a read
//! that does not crash at the cost of a plain one: at the kernel's price, users keep the plain
//! slice and its crash. A program that wants no signal handler of ours (it owns signal handling,
//! or loads this crate in a library it unloads) decides at run time
//! ([`disable_fault_handler`](crate::disable_fault_handler),
//! [`uninstall_fault_handler`](crate::uninstall_fault_handler)), or at build time with
//! `RUSTFLAGS="--cfg mman_no_fault_handler"`, and every checked read goes through the kernel: a
//! `cfg` rather than a feature, so that the final binary decides, not a library that depends on
//! this one.
//!
//! # The handler's limits
//!
//! A later handler that does not pass faults on, `SIGBUS`/`SIGSEGV` blocked in the reading thread,
//! and `dlclose`: documented, with what the caller can do, on
//! [`install_fault_handler`](crate::install_fault_handler). Reads of 1 MiB or more check for the
//! first two with system calls (`sigaction`, `pthread_sigmask`, which shorter reads cannot pay
//! for: 0.2 µs each) and go through the kernel when either holds; a thread's mask is also read at
//! its first checked read, and its reads go through the kernel while it blocks either signal.
//!
//! # Details
//!
//! - The routine's symbols carry the crate's version and are hidden: two versions of this crate in
//!   one binary each install their own handler, the later one passing signals on to the earlier.
//! - Under valgrind, which emulates the copy, the registers at a fault can lag behind (on x86-64:
//!   the instruction pointer at the jump to `rep movsb`, `rcx` stale or one byte off): the x86-64
//!   handler takes the count from the fault address, at the page it falls in, and the results stay
//!   the kernel's (the valgrind CI step runs the tests that compare them).

use std::io;

/// A symbol of the routine (either architecture's), with the crate's version in its name: two
/// versions of this crate in one binary each keep their own routine (the symbols are also hidden:
/// not exported from a shared object).
#[cfg(all(fault_fixup_target, not(mman_no_fault_handler)))]
macro_rules! versioned {
    ($name:literal) => {
        concat!(
            "mman_checked_copy_",
            $name,
            "_v",
            env!("CARGO_PKG_VERSION_MAJOR"),
            "_",
            env!("CARGO_PKG_VERSION_MINOR"),
            "_",
            env!("CARGO_PKG_VERSION_PATCH")
        )
    };
}

/// `.globl` and `.hidden` for a symbol, then its label.
#[cfg(all(fault_fixup_target, not(mman_no_fault_handler)))]
macro_rules! label {
    ($name:literal) => {
        concat!(
            ".globl ",
            versioned!($name),
            "\n.hidden ",
            versioned!($name),
            "\n",
            versioned!($name),
            ":\n"
        )
    };
}

// The fault-fixup copy: where the target has it (`fault_fixup_target`, from the build script), and
// the user did not opt out. The opt-out is read here, by rustc, and not by the build script: see
// the capability's comment in build.rs.
#[cfg(all(fault_fixup_target, not(mman_no_fault_handler)))]
#[cfg_attr(target_arch = "x86_64", path = "x86_64.rs")]
#[cfg_attr(target_arch = "aarch64", path = "aarch64.rs")]
mod arch;

#[cfg(all(fault_fixup_target, not(mman_no_fault_handler)))]
mod handler;

mod kernel;

/// Which copy to make: the fastest this build has, or the kernel's (for the tests that compare).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    Fastest,
    Kernel,
}

/// Copies `dst.len()` bytes from `src` into `dst`, stopping at the first page that cannot be read.
/// Returns how many bytes were copied: `dst.len()`, or fewer when such a page was reached (or, on
/// the kernel's way, when a call failed after some were copied).
///
/// # Errors
///
/// The error of `process_vm_readv`, on the kernel's way, when no byte was copied, other than
/// `EFAULT` (a page that cannot be read, which ends the copy).
///
/// # Safety
///
/// `src..src + dst.len()` lies within one live mapping of this process (its pages may be unbacked
/// or unreadable).
#[inline]
pub(crate) unsafe fn copy(src: *const u8, dst: &mut [u8], via: Via) -> io::Result<usize> {
    // Only an `MmapRaw`'s pointers could make `dst` overlap the source: the routine then copies
    // some mix of old and new bytes, as the kernel's copy would, and Rust sees none of it but the
    // writes to `dst`.
    #[cfg(all(fault_fixup_target, not(mman_no_fault_handler)))]
    if via == Via::Fastest {
        if let Some(_held) = handler::hold(dst.len()) {
            // SAFETY: `dst` is ours to write; the caller promises the source is mapped; `_held`
            // keeps the handler installed, so a fault on the source ends the copy, not the process.
            return Ok(unsafe { arch::copy(dst.as_mut_ptr(), src, dst.len()) });
        }
    }
    let _ = via;
    // SAFETY: the caller's promise, passed on.
    unsafe { kernel::copy(src, dst) }
}

/// Copies all of `dst` from `src` the fastest way, if that way makes no system call and no page
/// of the source faults: returns whether it did. When not, `dst` holds some of the bytes, and
/// [`copy`] makes the copy (again).
///
/// # Safety
///
/// As [`copy`].
#[inline(always)]
pub(crate) unsafe fn copy_all(src: *const u8, dst: &mut [u8]) -> bool {
    #[cfg(all(fault_fixup_target, not(mman_no_fault_handler)))]
    if let Some(_held) = handler::hold(dst.len()) {
        // SAFETY: as in `copy`, the handler held installed by `_held` until the copy returns.
        return unsafe { arch::copy_all(dst.as_mut_ptr(), src, dst.len()) };
    }
    let _ = (src, dst);
    false
}

/// Installs the `SIGBUS`/`SIGSEGV` handler that makes the checked reads (`read_at`,
/// [`MmapReader`](crate::MmapReader)) as fast as a plain copy, with `sigaction(2)`, unless it is
/// the process's handler already. The first checked read installs it (unless
/// [`disable_fault_handler`] or [`uninstall_fault_handler`] was called: this function installs it
/// again after those); call this after installing a signal handler that does not pass faults on
/// to the one it replaces: ours goes back in front, and passes every fault that is not its own
/// to that one.
///
/// Returns whether the checked reads use the handler: `false` in builds without it (other than
/// x86-64 and aarch64 Linux and Android, or built with `--cfg mman_no_fault_handler`), where they
/// copy through the kernel (`process_vm_readv(2)`), 3 to 30 times slower, and need no handler.
///
/// # How it works
///
/// The copy is made by a routine of this crate; a fault in it on the source (a page the file no
/// longer backs, or one that cannot be read) reaches the handler, which moves the routine to its
/// exit, and `read_at` reports the bytes copied before that page, as the kernel's copy would.
/// The handler acts only on a fault that the kernel raised (not a signal sent with `kill`),
/// inside the routine, at an address of the source being copied. Every other signal goes to the
/// action it replaced, as the kernel would have delivered it there: the default action for
/// `SIG_DFL`; the handler, with the arguments its `SA_SIGINFO` says, run with the mask the kernel
/// would have set (the interrupted code's, plus its `sa_mask`, plus the signal unless it has
/// `SA_NODEFER`), after its action was reset to `SIG_DFL` if it has `SA_RESETHAND`. Ours is
/// installed with that action's mask and its `SA_NODEFER`, `SA_ONSTACK` and `SA_RESTART`, so
/// the kernel blocks, stacks and restarts system calls as it would have for it. So std's
/// stack-overflow message still appears, a plain read of a truncated map still dies of `SIGBUS`,
/// a crash reporter installed with `SA_RESETHAND` runs once and the process dies, and a fault on
/// the destination is never excused. If the handler it called changed the process's action
/// (std's resets it to `SIG_DFL` after a `kill -SEGV`; code written for `sysv_signal` installs
/// itself again), the next checked read installs ours again in front of what it left; a handler
/// installed after ours that the call did not touch stays in front (it may pass faults on to
/// ours: each would pass the other's faults back and forth until the stack overflowed). It is on
/// by default, because a checked read that costs 3 to 30 plain ones is one users skip, and keep
/// the crash.
///
/// # What breaks it
///
/// - A handler installed later that does not pass faults on to the one it replaced takes the
///   faults of the checked reads too, and disables what `read_at` promises: a read of a
///   truncated file then does what that handler does with a fault (often: the process dies).
///   Handlers that pass faults on (wasmtime's, the JVM's with `libjsig`) work. Call this
///   function after installing one that does not. Do not call it while the later handler passes
///   faults on to ours: each would pass the other's faults back and forth.
/// - `SIGBUS` or `SIGSEGV` blocked in the reading thread (`pthread_sigmask`): the kernel kills the
///   process on a fault it cannot deliver. The thread's mask is read at its first checked read:
///   a thread that blocks them from its start (a program that blocks every signal before it
///   starts its threads, and takes them with `sigwait` in one) copies through the kernel, and
///   asks again at each read, until it unblocks them. A thread that blocks them after its first
///   checked read, and a checked read in a handler of `SIGBUS` or `SIGSEGV` (which runs with its
///   signal blocked, unless `SA_NODEFER`), are trusted by reads shorter than 1 MiB.
/// - `dlclose` of a shared object that holds this crate leaves the handler pointing at unmapped
///   code: call [`uninstall_fault_handler`] first, or build such an object with `--cfg
///   mman_no_fault_handler`.
///
/// Checking for the first two costs system calls (0.2 µs each, more than a 64-byte copy), so reads
/// of 1 MiB or more check, and copy through the kernel if the handler is not the process's or a
/// signal is blocked; shorter reads trust the handler, and the mask read as above.
///
/// Under AddressSanitizer (with its default `ASAN_OPTIONS`), ours goes in front of ASan's
/// handler and passes it every fault that is not the routine's: ASan still reports them. With
/// `handle_segv=2` or `handle_sigbus=2` (or the older `allow_user_segv_handler=0`), ASan keeps
/// the signal to itself and drops our `sigaction` while returning success: this function reads
/// the action back, returns an `Unsupported` error, and the checked reads go through the kernel.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// let fast = mman::install_fault_handler()?;
/// let how = if fast { "with the fault handler" } else { "through the kernel" };
/// println!("checked reads copy {how}");
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// The error of `sigaction`, or `Unsupported` when `sigaction` returned success but did not
/// install it (a sanitizer that keeps the signal to itself); the checked reads then go through
/// the kernel, and ours is installed for neither signal where this call installed it.
///
/// # References
///
/// - [`sigaction(2)`](https://man7.org/linux/man-pages/man2/sigaction.2.html)
/// - [`signal(7)`](https://man7.org/linux/man-pages/man7/signal.7.html)
#[doc(alias = "sigaction")]
#[doc(alias = "SIGBUS")]
#[doc(alias = "SIGSEGV")]
pub fn install_fault_handler() -> io::Result<bool> {
    #[cfg(all(fault_fixup_target, not(mman_no_fault_handler)))]
    return crate::error::in_call("install_fault_handler", || {
        handler::install(handler::Asked::Explicitly)
    })
    .map(|()| true);
    #[allow(unreachable_code)]
    Ok(false)
}

/// Keeps the fault handler from being installed: from this call on, the checked reads
/// (`read_at`, [`MmapReader`](crate::MmapReader)) copy through the kernel
/// (`process_vm_readv(2)`: 3 to 30 times slower, with the same results) and install nothing.
/// The run-time form of `--cfg mman_no_fault_handler`, for a program that owns signal handling:
/// call it before the first checked read. A handler already installed stays where it is, unused;
/// [`uninstall_fault_handler`] removes it. [`install_fault_handler`] installs it again.
///
/// Makes no system call.
///
/// ```
/// mman::disable_fault_handler();
/// // SAFETY: the temporary file is this process's alone.
/// let map = unsafe { mman::Mmap::map(&tempfile::tempfile().unwrap()).unwrap() };
/// assert_eq!(map.read_at(&mut [0u8; 16], 0).unwrap(), 0); // through the kernel
/// ```
#[doc(alias = "mman_no_fault_handler")]
pub fn disable_fault_handler() {
    #[cfg(all(fault_fixup_target, not(mman_no_fault_handler)))]
    handler::disable();
}

/// Removes the fault handler, restoring exactly the `SIGBUS` and `SIGSEGV` actions it replaced
/// (handler, flags and mask) with `sigaction(2)`; from then on the checked reads copy through the
/// kernel, as after [`disable_fault_handler`], until [`install_fault_handler`]. Call it before
/// `dlclose` of a shared object that holds this crate, or to give a signal handler back its place.
///
/// Checked reads in progress in other threads finish first: this call waits for them (each thread
/// counts its copies in progress, and `membarrier(2)` makes every count visible here), so none of
/// them meets a fault without the handler. It waits however long they take: a read of a page that
/// does not come (one a `userfaultfd` holds, a file system that does not answer), or one that a
/// signal handler interrupted and does not return to, keeps it waiting. It does not remove ours
/// from under a handler installed after it, which may pass faults on to ours, and which restoring
/// the replaced action would remove: remove that one first.
///
/// Returns whether the handler was installed: `false` if it never was (the call then only keeps it
/// from being installed), if a handler it passed a signal to had reset the action (std's does after
/// `kill -SEGV`), and in builds without the handler.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// let installed = mman::install_fault_handler()?;
/// assert_eq!(mman::uninstall_fault_handler()?, installed);
/// assert!(!mman::uninstall_fault_handler()?, "removed already");
/// # mman::install_fault_handler()?;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// - [`Other`](io::ErrorKind::Other) when the action of `SIGBUS` or `SIGSEGV` is another handler,
///   installed after ours: nothing changes.
/// - [`WouldBlock`](io::ErrorKind::WouldBlock) when called from a signal handler that interrupted
///   a checked read of the same thread, which relies on the handler.
/// - The error of `sigaction`, or of `membarrier` (Linux before 4.3, or a seccomp filter that
///   denies it): the handler stays installed, unused, and the checked reads go through the kernel.
///
/// # References
///
/// - [`sigaction(2)`](https://man7.org/linux/man-pages/man2/sigaction.2.html)
/// - [`membarrier(2)`](https://man7.org/linux/man-pages/man2/membarrier.2.html)
#[doc(alias = "sigaction")]
#[doc(alias = "SIG_DFL")]
#[doc(alias = "remove_fault_handler")]
pub fn uninstall_fault_handler() -> io::Result<bool> {
    #[cfg(all(fault_fixup_target, not(mman_no_fault_handler)))]
    return crate::error::in_call("uninstall_fault_handler", handler::uninstall);
    #[allow(unreachable_code)]
    Ok(false)
}
