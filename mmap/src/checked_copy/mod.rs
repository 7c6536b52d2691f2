//! The checked copy behind `read_at` and [`MmapReader`](crate::MmapReader): a copy out of a map
//! that stops at a page the kernel cannot read (the file was truncated under the map, or the page
//! is `PROT_NONE`) and reports how far it got, where a plain read of the slice would kill the
//! process with `SIGBUS` or `SIGSEGV`.
//!
//! # Two ways
//!
//! - **The fault-fixup copy** (x86-64 Linux, the default there): a copy routine written in
//!   assembly, and a process-wide `SIGBUS`/`SIGSEGV` handler, installed with `sigaction` on the
//!   first checked read. The handler acts on a signal only when all of these hold: the kernel
//!   raised it for a fault (`si_code > 0`: not `kill`, `sigqueue` or `tgkill`), the faulting
//!   instruction is inside the routine, and the fault address is inside the *source* range of the
//!   copy (kept in registers by the routine, so the handler reads it from the interrupted
//!   context). Then it moves the instruction pointer to a fixup in the routine, which returns the
//!   bytes not copied, as the kernel's own `copy_from_user` does with its exception table. Every
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
//! mmap_no_fault_handler"`, and every checked read goes through the kernel: a `cfg` rather than a
//! feature, so that the final binary decides, not a library that depends on this one.
//!
//! # The handler's limits
//!
//! It handles a fault only while it is the process's handler for the signal, and only if the
//! signal can be delivered:
//!
//! - **A handler installed later that does not chain** to the one it replaced takes the signal
//!   first: a checked read of a truncated file then does whatever that handler does with a fault
//!   (often: the process dies). Handlers that chain (wasmtime's, the JVM's with `libjsig`, std's
//!   own) work. Call [`install_fault_handler`](crate::install_fault_handler) after installing
//!   such a handler: ours goes back in front of it, and chains to it.
//! - **`SIGBUS` or `SIGSEGV` blocked** in the reading thread (`pthread_sigmask`): the kernel cannot
//!   deliver a fault it raises there, so it kills the process.
//! - **`dlclose`** of a shared object holding this crate leaves the handler pointing at unmapped
//!   code: the next `SIGBUS`/`SIGSEGV` of the process crashes it. Build such a library with
//!   `--cfg mmap_no_fault_handler`, or never unload it.
//!
//! Checking these costs system calls (`sigaction`, `pthread_sigmask`: about 0.2 µs each, which a
//! 64-byte copy of 10 ns cannot pay), so they are checked where it is cheap: on copies of
//! [`CHECK_LEN`] bytes or more (which take tens of µs), which go through the kernel when the handler
//! is not in place or a signal is blocked.
//!
//! The handler is async-signal-safe: it reads registers, atomics, and statics written before it was
//! installed; it calls `sigaction` and `raise` only on its way to the default action.

use std::io;

use crate::sys;

#[cfg(all(
    target_arch = "x86_64",
    any(target_os = "linux", target_os = "android"),
    not(mmap_no_fault_handler)
))]
#[path = "x86_64.rs"]
mod arch;

#[cfg(all(
    target_arch = "x86_64",
    any(target_os = "linux", target_os = "android"),
    not(mmap_no_fault_handler)
))]
mod handler;

/// Copies of this many bytes or more check first (with system calls) that the handler is the
/// process's and that the thread does not block the signals; if not, they go through the kernel.
pub(crate) const CHECK_LEN: usize = 1 << 20;

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
    #[cfg(all(
        target_arch = "x86_64",
        any(target_os = "linux", target_os = "android"),
        not(mmap_no_fault_handler)
    ))]
    if via == Via::Fastest && handler::ready(dst.len()) {
        // SAFETY: `dst` is borrowed mutably, so it does not overlap the source, which the
        // caller promises is mapped; the handler is installed (`ready`), so a fault on the source
        // ends the copy instead of the process.
        return Ok(unsafe { arch::copy(dst.as_mut_ptr(), src, dst.len()) });
    }
    let _ = via;
    // SAFETY: the caller's promise, passed on.
    unsafe { sys::copy_checked(src, dst) }
}

/// Installs the `SIGBUS`/`SIGSEGV` handler that makes `read_at` and [`MmapReader`](crate::MmapReader)
/// as fast as a plain copy (with `sigaction(2)`), unless it is the process's handler already.
/// The first checked read installs it anyway; call this after installing a signal handler that
/// does not chain to the one it replaces (which would take the faults of a checked read, see the
/// limits above): ours goes back in front, and passes every fault that is not its own to that one.
///
/// Returns whether the fast copy is in use: `false` in builds without it (other than x86-64
/// Linux, or built with `--cfg mmap_no_fault_handler`), where the checked reads go through the
/// kernel (`process_vm_readv`) and need no handler.
///
/// Do not call it while the handler installed after ours chains to ours: each would then pass
/// the other's faults back and forth.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// let fast = mmap::install_fault_handler()?;
/// println!("checked reads copy {}", if fast { "with the fault handler" } else { "through the kernel" });
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// The error of `sigaction`; the checked reads then go through the kernel.
pub fn install_fault_handler() -> io::Result<bool> {
    #[cfg(all(
        target_arch = "x86_64",
        any(target_os = "linux", target_os = "android"),
        not(mmap_no_fault_handler)
    ))]
    return handler::install().map(|()| true);
    #[allow(unreachable_code)]
    Ok(false)
}
