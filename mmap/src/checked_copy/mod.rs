//! The checked copy behind `read_at` and [`MmapReader`](crate::MmapReader): a copy out of a map
//! that stops at a page the kernel cannot read (the file was truncated under the map, or the page
//! is `PROT_NONE`) and reports how far it got, where a plain read of the slice would kill the
//! process with `SIGBUS` or `SIGSEGV`.
//!
//! # Two ways
//!
//! - **The fault-fixup copy** (x86-64 and aarch64 Linux and Android, the default there): a copy
//!   routine written in assembly (`x86_64.rs`, `aarch64.rs`), and a process-wide `SIGBUS`/`SIGSEGV` handler, installed with `sigaction` on the
//!   first checked read. The handler acts on a signal only when all of these hold: the kernel
//!   raised it for a fault (`si_code > 0`: not `kill`, `sigqueue` or `tgkill`), the faulting
//!   instruction is inside the routine, and the fault address is inside the *source* range of the
//!   copy (kept in registers by the routine, so the handler reads it from the interrupted
//!   context). Then it moves the instruction pointer to a fixup in the routine, which returns the
//!   bytes not copied, as the kernel's own `copy_from_user` does with its exception table (each
//!   routine finds the first byte that cannot be read, whatever address the processor reports for
//!   a wide load that crosses into its page). Every
//!   other signal goes on to the handler installed before this one (called with the same
//!   arguments, `SA_SIGINFO` or not), or to the default action (the handler restores `SIG_DFL`
//!   and returns, and the faulting instruction faults again), exactly as without it: std's
//!   stack-overflow message still appears, and a plain slice read of a truncated map still dies of
//!   `SIGBUS`. A fault on the destination is never excused. The copy costs what `memcpy` costs:
//!   no system call, one atomic load.
//! - **Through the kernel** (every other target, or by choice): `process_vm_readv` on this
//!   process, which the kernel checks page by page. It needs no handler, and costs a system call
//!   and the pinning of every page: 3 to 30 times a plain copy.
//!
//! Both give the same results: the bytes before the first page that cannot be read, and their
//! count. The fast way is on by default where it exists, because the point of `read_at` is a read
//! that does not crash at the cost of a plain one: at the kernel's price, users keep the plain
//! slice and its crash. A program that wants no signal handler of ours (it owns signal handling,
//! or loads this crate in a library it unloads) builds with `RUSTFLAGS="--cfg
//! mman_no_fault_handler"`, and every checked read goes through the kernel: a `cfg` rather than a
//! feature, so that the final binary decides, not a library that depends on this one.
//!
//! # The handler's limits
//!
//! A later handler that does not chain, `SIGBUS`/`SIGSEGV` blocked in the reading thread, and
//! `dlclose`: documented, with what the caller can do, on
//! [`install_fault_handler`](crate::install_fault_handler). Reads of 1 MiB or more check for the
//! first two with system calls (`sigaction`, `pthread_sigmask`, which shorter reads cannot pay
//! for: 0.2 µs each) and go through the kernel when either holds.
//!
//! The handler is async-signal-safe: it reads registers, atomics, and statics written before it was
//! installed; it calls `sigaction` and `raise` only on its way to the default action.
//!
//! # Details
//!
//! - The routine's symbols carry the crate's version and are hidden: two versions of this crate in
//!   one binary each install their own handler, the later one chaining to the earlier one.
//! - The handler is installed with `SA_SIGINFO | SA_ONSTACK | SA_NODEFER`: on the alternate stack,
//!   which std's stack-overflow handler (chained to) needs.
//! - Under valgrind, which emulates the copy, the registers at a fault can lag behind (on x86-64:
//!   the instruction pointer at the jump to `rep movsb`, `rcx` stale or one byte off): the x86-64
//!   handler takes the count from the fault address, at the page it falls in, and the results stay
//!   the kernel's (the valgrind CI step runs the tests that compare them).

use std::io;

use crate::sys;

// The fault-fixup copy: where the target has it (`fault_fixup_target`, from the build script), and
// the user did not opt out. The opt-out is read here, by rustc, and not by the build script: see
// the capability's comment in build.rs.
#[cfg(all(fault_fixup_target, not(mman_no_fault_handler)))]
#[cfg_attr(target_arch = "x86_64", path = "x86_64.rs")]
#[cfg_attr(target_arch = "aarch64", path = "aarch64.rs")]
mod arch;

#[cfg(all(fault_fixup_target, not(mman_no_fault_handler)))]
mod handler;

/// Which copy to make: the fastest this build has, or the kernel's (for the tests that compare).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    Fastest,
    Kernel,
}

/// Copies `dst.len()` bytes from `src` into `dst`, stopping at the first page that cannot be read.
/// Returns how many bytes were copied: `dst.len()`, or fewer when such a page was reached.
///
/// # Errors
///
/// The error of `process_vm_readv`, on the kernel's way, other than `EFAULT` (a page that cannot
/// be read, which ends the copy).
///
/// # Safety
///
/// `src..src + dst.len()` lies within one live mapping of this process (its pages may be unbacked
/// or unreadable).
#[inline]
pub(crate) unsafe fn copy(src: *const u8, dst: &mut [u8], via: Via) -> io::Result<usize> {
    #[cfg(all(fault_fixup_target, not(mman_no_fault_handler)))]
    if via == Via::Fastest && handler::ready(dst.len()) {
        // SAFETY: `dst` is borrowed mutably, for `dst.len()` bytes of writes; the caller promises
        // the source is mapped; the handler is installed (`ready`), so a fault on the source ends
        // the copy instead of the process. (Only an `MmapRaw`'s pointers could make `dst` overlap
        // the source: the routine then copies some mix of old and new bytes, as the kernel's copy
        // would, and Rust sees none of it but the writes to `dst`.)
        return Ok(unsafe { arch::copy(dst.as_mut_ptr(), src, dst.len()) });
    }
    let _ = via;
    // SAFETY: the caller's promise, passed on.
    unsafe { sys::copy_checked(src, dst) }
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
    if handler::ready(dst.len()) {
        // SAFETY: as in `copy`.
        return unsafe { arch::copy_all(dst.as_mut_ptr(), src, dst.len()) };
    }
    let _ = src;
    false
}

/// Installs the `SIGBUS`/`SIGSEGV` handler that makes the checked reads (`read_at`,
/// [`MmapReader`](crate::MmapReader)) as fast as a plain copy, with `sigaction(2)`, unless it is
/// the process's handler already. The first checked read installs it; call this after installing a
/// signal handler that does not chain to the one it replaces: ours goes back in front, and passes
/// every fault that is not its own to that one.
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
/// inside the routine, at an address of the source being copied; every other signal goes on to
/// the handler installed before it, or to the default action, exactly as without it: std's
/// stack-overflow message still appears, a plain read of a truncated map still dies of `SIGBUS`,
/// a fault on the destination is never excused. It is on by default, because a checked read that
/// costs 3 to 30 plain ones is one users skip, and keep the crash.
///
/// # What breaks it
///
/// - A handler installed later that does not chain to the one it replaced takes the faults of the
///   checked reads too: a read of a truncated file then does what that handler does with a fault
///   (often: the process dies). Handlers that chain (wasmtime's, the JVM's with `libjsig`, std's)
///   work. Call this function after installing one that does not. Do not call it while the later
///   handler chains to ours: each would pass the other's faults back and forth.
/// - `SIGBUS` or `SIGSEGV` blocked in the reading thread (`pthread_sigmask`): the kernel kills the
///   process on a fault it cannot deliver.
/// - `dlclose` of a shared object that holds this crate leaves the handler pointing at unmapped
///   code. Build such an object with `--cfg mman_no_fault_handler`, or do not unload it.
///
/// Checking for the first two costs system calls (0.2 µs each, more than a 64-byte copy), so reads
/// of 1 MiB or more check, and copy through the kernel if the handler is not the process's or a
/// signal is blocked; shorter reads trust the handler.
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
/// The error of `sigaction`; the checked reads then go through the kernel.
///
/// # References
///
/// - [`sigaction(2)`](https://man7.org/linux/man-pages/man2/sigaction.2.html)
#[doc(alias = "sigaction")]
#[doc(alias = "SIGBUS")]
pub fn install_fault_handler() -> io::Result<bool> {
    #[cfg(all(fault_fixup_target, not(mman_no_fault_handler)))]
    return handler::install().map(|()| true);
    #[allow(unreachable_code)]
    Ok(false)
}
