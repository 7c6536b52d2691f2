//! The `SIGBUS`/`SIGSEGV` handler of the fault-fixup copy: its installation, once per process
//! (and again on request), and the chaining of every fault that is not the routine's to the
//! handler it replaced.

use std::cell::UnsafeCell;
use std::ffi::{c_int, c_void};
use std::io;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Mutex;

use super::arch;
use crate::sys::last_error;

/// The two signals a fault on a map raises: `SIGBUS` past the end of a file, `SIGSEGV` on a page
/// that cannot be read.
const SIGNALS: [c_int; 2] = [libc::SIGBUS, libc::SIGSEGV];

/// Copies of this many bytes or more check first (with system calls) that the handler is the
/// process's and that the thread does not block the signals; if not, they go through the kernel.
const CHECK_LEN: usize = 1 << 20;

const NOT_INSTALLED: u8 = 0;
const INSTALLED: u8 = 1;
const FAILED: u8 = 2;

/// Whether the first checked read installed the handler (or failed to: `sigaction` is then not
/// tried again, and the checked reads go through the kernel).
static STATE: AtomicU8 = AtomicU8::new(NOT_INSTALLED);

/// Held by whoever installs: one installation at a time.
static INSTALLING: Mutex<()> = Mutex::new(());

/// The action a signal had before ours, which ours chains to. Written by [`install`] only, under
/// [`INSTALLING`], before ours is installed; read by the handler. Two slots, so that a
/// re-installation writes the slot the handler does not read, then switches `current`.
struct Previous {
    slots: [UnsafeCell<MaybeUninit<libc::sigaction>>; 2],
    /// The slot in use, or `NONE` before the first installation.
    current: AtomicUsize,
}

const NONE: usize = usize::MAX;

// SAFETY: a slot is written only under `INSTALLING` while it is not `current`, then published by
// a release store of `current`; the handler reads only the `current` slot, after an acquire load.
unsafe impl Sync for Previous {}

impl Previous {
    const fn new() -> Previous {
        Previous {
            slots: [
                UnsafeCell::new(MaybeUninit::uninit()),
                UnsafeCell::new(MaybeUninit::uninit()),
            ],
            current: AtomicUsize::new(NONE),
        }
    }

    /// Publishes `action` as the one to chain to. Only under `INSTALLING`.
    fn set(&self, action: &libc::sigaction) {
        let slot = match self.current.load(Ordering::Relaxed) {
            0 => 1,
            _ => 0,
        };
        // SAFETY: `slot` is not `current`, so no handler reads it (see `impl Sync`), and only the
        // holder of `INSTALLING` writes.
        unsafe { (*self.slots[slot].get()).write(*action) };
        self.current.store(slot, Ordering::Release);
    }

    /// The action to chain to, if one was recorded.
    fn get(&self) -> Option<&libc::sigaction> {
        match self.current.load(Ordering::Acquire) {
            NONE => None,
            // SAFETY: `current` names a slot written before it was published.
            slot => Some(unsafe { (*self.slots[slot].get()).assume_init_ref() }),
        }
    }
}

/// The previous actions of `SIGNALS[0]` and `SIGNALS[1]`.
static PREVIOUS: [Previous; 2] = [Previous::new(), Previous::new()];

/// Whether a copy of `len` bytes may use the routine: the handler is installed (installing it
/// on the first call), and for a long copy, still the process's and not blocked in this thread.
#[inline(always)]
pub(super) fn ready(len: usize) -> bool {
    if STATE.load(Ordering::Acquire) == INSTALLED && len < CHECK_LEN {
        return true;
    }
    ready_slow(len)
}

#[cold]
#[inline(never)]
fn ready_slow(len: usize) -> bool {
    match STATE.load(Ordering::Acquire) {
        NOT_INSTALLED => {
            if install().is_err() {
                // Only if no other thread installed it meanwhile.
                let _ = STATE.compare_exchange(
                    NOT_INSTALLED,
                    FAILED,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                );
                return false;
            }
        }
        INSTALLED => {}
        _ => return false,
    }
    len < CHECK_LEN || in_place()
}

/// Whether our handler is the process's for both signals and this thread blocks neither: three
/// system calls.
fn in_place() -> bool {
    let ours = ours();
    let current = SIGNALS.iter().all(|&sig| {
        let mut action = MaybeUninit::<libc::sigaction>::zeroed();
        // SAFETY: a null new action only reads the current one into `action`.
        let ret = unsafe { libc::sigaction(sig, std::ptr::null(), action.as_mut_ptr()) };
        // SAFETY: sigaction filled it (and `zeroed` is a valid sigaction anyway).
        ret == 0 && unsafe { action.assume_init() }.sa_sigaction == ours
    });
    let mut mask = MaybeUninit::<libc::sigset_t>::zeroed();
    let (unchanged, into) = (std::ptr::null(), mask.as_mut_ptr());
    // SAFETY: a null set only reads this thread's mask into `mask`.
    let ret = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, unchanged, into) };
    // SAFETY: filled by pthread_sigmask (and all zeros, an empty set, anyway).
    let mask = unsafe { mask.assume_init() };
    let blocked = SIGNALS.iter().any(|&sig| {
        // SAFETY: `mask` is a valid set.
        unsafe { libc::sigismember(&mask, sig) == 1 }
    });
    current && ret == 0 && !blocked
}

/// Installs the handler for both signals, unless it is the current one already, recording the
/// current one to chain to.
pub(super) fn install() -> io::Result<()> {
    let _installing = INSTALLING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // Read now, so that the handler finds it in its atomic and makes no call.
    crate::sys::page_size();
    let ours = ours();
    for (sig, previous) in SIGNALS.into_iter().zip(&PREVIOUS) {
        let mut current = MaybeUninit::<libc::sigaction>::zeroed();
        // SAFETY: a null new action only reads the current one.
        if unsafe { libc::sigaction(sig, std::ptr::null(), current.as_mut_ptr()) } != 0 {
            return Err(last_error(|| {
                format!("install_fault_handler: sigaction({sig}) (reading)")
            }));
        }
        // SAFETY: filled by sigaction.
        let current = unsafe { current.assume_init() };
        if current.sa_sigaction == ours {
            continue;
        }
        // Published before ours is in place: the handler always finds what to chain to.
        previous.set(&current);
        // SAFETY: all zeros is a valid sigaction (an empty mask, no flags), completed below.
        let mut action = unsafe { MaybeUninit::<libc::sigaction>::zeroed().assume_init() };
        action.sa_sigaction = ours;
        // SA_ONSTACK: a stack overflow's fault comes through here on the way to std's handler,
        // which needs the alternate stack. SA_NODEFER: the handler we chain to gets the signal
        // unblocked, as a fault inside it would need to kill the process rather than hang.
        action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
        let mut replaced = MaybeUninit::<libc::sigaction>::zeroed();
        // SAFETY: `handler` is an SA_SIGINFO handler that stays valid for the process's life
        // (unless the object holding it is unloaded: see the module's limits).
        if unsafe { libc::sigaction(sig, &action, replaced.as_mut_ptr()) } != 0 {
            return Err(last_error(|| {
                format!("install_fault_handler: sigaction({sig})")
            }));
        }
        // SAFETY: filled by sigaction.
        let replaced = unsafe { replaced.assume_init() };
        if replaced.sa_sigaction != current.sa_sigaction || replaced.sa_flags != current.sa_flags {
            // Changed by another thread between the two calls: chain to what was replaced.
            previous.set(&replaced);
        }
    }
    STATE.store(INSTALLED, Ordering::Release);
    Ok(())
}

/// The handler's address, as `sigaction` holds it.
fn ours() -> usize {
    handler as unsafe extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) as usize
}

/// The handler. Async-signal-safe: it reads the signal's information, the interrupted registers,
/// atomics and the statics written before it was installed.
unsafe extern "C" fn handler(sig: c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler; for SIGBUS and SIGSEGV
    // raised by a fault, `si_addr` is the fault address.
    let (code, fault) = unsafe { ((*info).si_code, (*info).si_addr() as usize) };
    // SI_USER, SI_QUEUE, SI_TKILL and the like are 0 or below: a process sent it, not a fault.
    // SAFETY: `context` is the handler's ucontext.
    // The page size was read (into an atomic) before the handler was installed.
    if code > 0 && unsafe { arch::fixup(fault, context, crate::sys::page_size()) } {
        return;
    }
    // SAFETY: the arguments the kernel passed to this handler, passed on.
    unsafe { chain(sig, info, context, code) }
}

/// Passes a signal that is not the routine's on as if our handler were not there: to the
/// previous handler, or to the default action.
///
/// # Safety
///
/// The arguments the kernel passed to the handler.
unsafe fn chain(sig: c_int, info: *mut libc::siginfo_t, context: *mut c_void, code: c_int) {
    let previous = SIGNALS
        .iter()
        .position(|&s| s == sig)
        .and_then(|i| PREVIOUS[i].get());
    let (handler, flags) = previous.map_or((libc::SIG_DFL, 0), |p| (p.sa_sigaction, p.sa_flags));
    match handler {
        // A fault cannot be ignored: the kernel would kill the process (it resets the action).
        libc::SIG_DFL => default(sig, code),
        libc::SIG_IGN if code > 0 => default(sig, code),
        libc::SIG_IGN => {}
        _ if flags & libc::SA_SIGINFO != 0 => {
            type Action = extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void);
            // SAFETY: an SA_SIGINFO action's `sa_sigaction` is such a function.
            let f = unsafe { std::mem::transmute::<libc::sighandler_t, Action>(handler) };
            f(sig, info, context);
        }
        _ => {
            // SAFETY: an action without SA_SIGINFO holds a plain `sa_handler`.
            let f: extern "C" fn(c_int) = unsafe { std::mem::transmute(handler) };
            f(sig);
        }
    }
}

/// The default action for `sig`: restored, then the faulting instruction runs again on return
/// and faults again (the process dies of the signal, with its core dump); a signal a process
/// sent is raised again.
fn default(sig: c_int, code: c_int) {
    // SAFETY: all zeros is a valid sigaction.
    let mut action = unsafe { MaybeUninit::<libc::sigaction>::zeroed().assume_init() };
    action.sa_sigaction = libc::SIG_DFL;
    // SAFETY: restoring the default action; sigaction is async-signal-safe.
    unsafe { libc::sigaction(sig, &action, std::ptr::null_mut()) };
    if code <= 0 {
        // SAFETY: raise is async-signal-safe.
        unsafe { libc::raise(sig) };
    }
}
