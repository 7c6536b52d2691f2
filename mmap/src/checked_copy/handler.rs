//! The `SIGBUS`/`SIGSEGV` handler of the fault-fixup copy: when a copy may rely on it, its
//! installation and removal, and the handler itself, which fixes the routine's faults and passes
//! every other signal on as the kernel would have delivered it to the action ours replaced.
//!
//! # When a copy may rely on it
//!
//! One atomic, [`STATE`], says whether the handler is installed; a copy reads it once, and uses
//! the routine only if it says `INSTALLED`. It stops saying so when the application disables or
//! removes the handler, and when the handler sees that a handler it passed a signal to changed the
//! process's action for `SIGBUS` or `SIGSEGV` (std's, after a `kill -SEGV`, resets it to the
//! default): the next checked read then installs ours again, in front of what the call left,
//! but not in front of another handler of a signal whose action that call did not change: that one
//! was installed after ours, and may pass faults on to ours (see [`install_both`]). (Copying
//! through the kernel instead would make one `kill` cost every later read 3 to 30 times more, for
//! no difference a program could see: ours passes on every signal that is not its own.)
//!
//! A copy that read `INSTALLED` relies on the handler until it returns, so [`uninstall`] must not
//! restore the replaced actions while such a copy runs: each thread counts its copies in progress
//! ([`Held`]), with plain stores to memory of its own, and `uninstall` waits until no thread counts
//! a copy after storing `DISABLED`. The store of a count must be visible to `uninstall` before the
//! copy reads the state, which on its own would take a fence in every copy; `uninstall` makes it
//! so instead, with `membarrier(2)`, which runs a full memory barrier on every thread of the
//! process (the asymmetric fence of userspace RCU).
//!
//! # Passing a signal on
//!
//! The kernel delivers `SIGBUS` and `SIGSEGV` to our handler, not to the action it replaced; for a
//! signal that is not the routine's own, [`chain`] does what the kernel would have done for that
//! action: the default action for `SIG_DFL` (and for `SIG_IGN` on a fault, which the kernel does
//! not let a process ignore); otherwise it calls the handler (with `siginfo` and context for
//! `SA_SIGINFO`, with the signal number alone for a plain one), having first reset the action to
//! `SIG_DFL` if it has `SA_RESETHAND`, and having blocked what the kernel blocks while a handler
//! runs: the interrupted code's mask, plus the action's `sa_mask`, plus the signal itself unless
//! the action has `SA_NODEFER`. The mask is restored when it returns. (HotSpot calls the handlers
//! it chains to much the same way, but sets the action's mask in place of the interrupted code's,
//! and, being the process's action itself, resets only its own record for `SA_RESETHAND`, which
//! ours does too when it was called by a handler in front of it.) `errno` is the interrupted
//! code's when the handler runs, and what the handler left when ours returns.
//!
//! Our handler is installed with the replaced action's `sa_mask`, `SA_NODEFER`, `SA_ONSTACK` and
//! `SA_RESTART` (and `SA_SIGINFO`, which it needs): so the kernel sets up, atomically at delivery,
//! the mask, stack and system call restart it would have set up for that action. With an empty
//! mask and `SA_NODEFER`, a signal of the replaced action's mask could run its handler before the
//! replaced handler starts; without `SA_ONSTACK` std's handler could not report a stack overflow,
//! and with it a handler that did not ask for the alternate stack would run on it (often small).
//! [`chain`] still sets the mask itself, because ours is also called by handlers installed after
//! it, with whatever mask they set.
//!
//! # Async-signal safety
//!
//! The handler reads registers, atomics, and records written before they are published; on its
//! way to another action it calls `sigaction`, `pthread_sigmask`, the `sigset_t` functions and
//! `raise`, all async-signal-safe. It takes no lock and allocates nothing.

use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::io;
use std::mem::MaybeUninit;
use std::ptr;
use std::sync::atomic::{
    compiler_fence, fence, AtomicBool, AtomicI32, AtomicU64, AtomicU8, AtomicUsize, Ordering,
};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::arch;
use crate::error::{last_error, other};

/// The two signals a fault on a map raises: `SIGBUS` past the end of a file, `SIGSEGV` on a page
/// that cannot be read.
const SIGNALS: [c_int; 2] = [libc::SIGBUS, libc::SIGSEGV];

/// Copies of this many bytes or more check first (with system calls) that the handler is the
/// process's and that the thread does not block the signals; if not, they go through the kernel.
const CHECK_LEN: usize = 1 << 20;

/// Not installed: the next checked read installs it.
const UNSET: u8 = 0;
/// Installed: copies may use the routine.
const INSTALLED: u8 = 1;
/// A checked read failed to install it: checked reads go through the kernel, and do not try again.
const FAILED: u8 = 2;
/// Disabled or removed by the application: checked reads go through the kernel, and install
/// nothing until [`install`] is called.
const DISABLED: u8 = 3;
/// [`install`] is at work (under [`INSTALLER`]); copies go through the kernel meanwhile.
const INSTALLING: u8 = 4;

/// One of the states above. Read once by every copy; written under [`INSTALLER`], except by the
/// handler, which turns `INSTALLED` or `INSTALLING` into `UNSET` when a handler it called changed
/// the process's actions.
static STATE: AtomicU8 = AtomicU8::new(UNSET);

/// The signals (bit `i` for `SIGNALS[i]`) whose action a handler ours passed a signal to changed
/// (set by the handler, with `STATE` turned `UNSET`); [`install_both`] clears a signal's bit when
/// it looks at its action.
static CHANGED: AtomicU8 = AtomicU8::new(0);

/// Held by whoever installs, removes or disables the handler; holds the actions ours replaced,
/// exactly as `sigaction` returned them, which [`uninstall`] restores (`None`: ours is not known
/// to be installed for that signal).
static INSTALLER: Mutex<[Option<libc::sigaction>; 2]> = Mutex::new([None, None]);

/// `mutex`, locked; a panic while it was held left nothing half-written that matters here.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---- The actions ours replaced, for the handler -------------------------------------------------

/// What the handler needs of an action to pass a signal on to it.
#[derive(Clone, Copy)]
struct Action {
    handler: libc::sighandler_t,
    flags: c_int,
    /// `sa_mask`: bit `n - 1` for signal `n`.
    mask: u64,
}

impl Action {
    const DEFAULT: Action = Action {
        handler: libc::SIG_DFL,
        flags: 0,
        mask: 0,
    };

    fn of(action: &libc::sigaction) -> Action {
        Action {
            handler: action.sa_sigaction,
            flags: action.sa_flags,
            mask: bits(&action.sa_mask),
        }
    }

    /// The action for `sigaction`, with `handler` in place of its own.
    fn with_handler(&self, handler: libc::sighandler_t) -> libc::sigaction {
        // SAFETY: all zeros is a valid sigaction (no flags, no restorer), completed below.
        let mut action = unsafe { MaybeUninit::<libc::sigaction>::zeroed().assume_init() };
        action.sa_sigaction = handler;
        action.sa_flags = self.flags;
        action.sa_mask = set_of(self.mask);
        action
    }
}

/// The signals a mask can hold: Linux's, 1 to 64 on the targets that have the handler.
const MAX_SIGNAL: c_int = 64;

/// The members of `set`, as bits. Async-signal-safe.
fn bits(set: &libc::sigset_t) -> u64 {
    (1..=MAX_SIGNAL)
        // SAFETY: `set` is a valid set.
        .filter(|&sig| unsafe { libc::sigismember(set, sig) } == 1)
        .fold(0, |bits, sig| bits | 1 << (sig - 1))
}

/// The set of the signals in `bits`. Async-signal-safe (glibc refuses to add the two signals it
/// keeps for itself, which the kernel would not block for a process either).
fn set_of(bits: u64) -> libc::sigset_t {
    let mut set = MaybeUninit::<libc::sigset_t>::zeroed();
    // SAFETY: sigemptyset initializes the set it is given.
    unsafe { libc::sigemptyset(set.as_mut_ptr()) };
    // SAFETY: initialized above.
    let mut set = unsafe { set.assume_init() };
    for sig in (1..=MAX_SIGNAL).filter(|&sig| bits & 1 << (sig - 1) != 0) {
        // SAFETY: `set` is a valid set.
        unsafe { libc::sigaddset(&mut set, sig) };
    }
    set
}

/// The action ours replaced for one signal, as the handler reads it: written by [`install`] only
/// (under [`INSTALLER`]), read by the handler without a lock, in any thread, at any time. Two
/// slots, so that a new record goes into the slot the last one is not in; a handler that read a
/// record while it was being overwritten (two records later) sees `recorded` changed and reads
/// again (a sequence lock).
struct Previous {
    slots: [Slot; 2],
    /// How many actions were recorded: the last one is in `slots[recorded % 2]`; 0 for none.
    recorded: AtomicUsize,
    /// The value of `recorded` whose action has `SA_RESETHAND` and was passed a signal while ours
    /// was not the process's action (called by a handler installed after it): the kernel would
    /// have reset that action to `SIG_DFL`, so the handler treats it as `SIG_DFL` from then on.
    reset: AtomicUsize,
}

struct Slot {
    handler: AtomicUsize,
    flags: AtomicI32,
    mask: AtomicU64,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            handler: AtomicUsize::new(0),
            flags: AtomicI32::new(0),
            mask: AtomicU64::new(0),
        }
    }
}

impl Previous {
    const fn new() -> Previous {
        Previous {
            slots: [Slot::new(), Slot::new()],
            recorded: AtomicUsize::new(0),
            reset: AtomicUsize::new(0),
        }
    }

    /// Records `action` as the one to pass signals on to. Only under [`INSTALLER`].
    fn record(&self, action: &Action) {
        let recorded = self.recorded.load(Ordering::Relaxed) + 1;
        let slot = &self.slots[recorded % 2];
        // The last store of `recorded` before the stores below: a reader that sees one of them
        // sees `recorded` moved past the record it started reading.
        fence(Ordering::Release);
        slot.handler.store(action.handler, Ordering::Relaxed);
        slot.flags.store(action.flags, Ordering::Relaxed);
        slot.mask.store(action.mask, Ordering::Relaxed);
        self.recorded.store(recorded, Ordering::Release);
    }

    /// The last action recorded and its number, if one was. Async-signal-safe (it reads again
    /// only while [`record`](Previous::record) runs in another thread).
    fn read(&self) -> Option<(usize, Action)> {
        loop {
            let recorded = self.recorded.load(Ordering::Acquire);
            if recorded == 0 {
                return None;
            }
            let slot = &self.slots[recorded % 2];
            let action = Action {
                handler: slot.handler.load(Ordering::Relaxed),
                flags: slot.flags.load(Ordering::Relaxed),
                mask: slot.mask.load(Ordering::Relaxed),
            };
            fence(Ordering::Acquire);
            if self.recorded.load(Ordering::Relaxed) == recorded {
                return Some((recorded, action));
            }
        }
    }
}

/// The actions ours replaced for `SIGNALS[0]` and `SIGNALS[1]`.
static PREVIOUS: [Previous; 2] = [Previous::new(), Previous::new()];

// ---- Copies in progress -------------------------------------------------------------------------

/// A thread's count of its copies in progress with the routine: more than one when a signal
/// handler copies while the thread it interrupted was copying. Never freed: a thread that ends
/// gives it back for another one to take.
struct Copies {
    /// The copies in progress, in units of [`ONE_COPY`], and the [`BLOCKS_FAULTS`] bit: one word,
    /// so that a copy reads both with one load. Written by its thread only (a signal handler that
    /// copies on that thread leaves no copy of its own counted), read by [`uninstall`].
    count: AtomicUsize,
    /// The process its thread belongs to: after `fork`, the child holds copies of the counts of
    /// the parent's other threads, which no thread of the child lowers; the thread that forked
    /// takes its count into the child ([`after_fork_in_the_child`]).
    pid: AtomicI32,
    taken: AtomicBool,
}

/// Set in a count while its thread blocked `SIGBUS` or `SIGSEGV` when last asked: when it took
/// the count (its first checked read), then at each of its reads while it did. A fault the kernel
/// cannot deliver kills the process, so such a thread's copies go through the kernel.
const BLOCKS_FAULTS: usize = 1;

/// A copy in progress, in a count.
const ONE_COPY: usize = 2;

/// Every thread's [`Copies`], taken or free; a thread takes one (or adds one) under this lock,
/// and [`uninstall`] reads them under it.
static COUNTS: Mutex<Vec<&'static Copies>> = Mutex::new(Vec::new());

thread_local! {
    /// This thread's count, once it has one.
    static COPIES: Cell<Option<&'static Copies>> = const { Cell::new(None) };
    /// Gives this thread's count back when the thread ends.
    static GIVE_BACK: GiveBack = const { GiveBack };
}

struct GiveBack;

impl Drop for GiveBack {
    fn drop(&mut self) {
        if let Ok(Some(copies)) = COPIES.try_with(|copies| copies.take()) {
            copies.taken.store(false, Ordering::Release);
        }
    }
}

/// Takes a count for this thread; `None` when it cannot: its thread-local storage is being torn
/// down, or another thread holds [`COUNTS`] (the copy then goes through the kernel; the next one
/// tries again).
#[cold]
fn take_copies() -> Option<&'static Copies> {
    // A count taken must be given back: not once this thread's destructors have run.
    GIVE_BACK.try_with(|_| ()).ok()?;
    let mut counts = match COUNTS.try_lock() {
        Ok(counts) => counts,
        Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        Err(std::sync::TryLockError::WouldBlock) => return None,
    };
    if !AT_FORK.load(Ordering::Relaxed) {
        let child = Some(after_fork_in_the_child as unsafe extern "C" fn());
        // SAFETY: registers a function that takes no argument and is async-signal-safe.
        if unsafe { libc::pthread_atfork(None, None, child) } != 0 {
            // Without it, `uninstall` in a child of `fork` would not wait for the copies of the
            // thread that forked: the copies go through the kernel.
            return None;
        }
        AT_FORK.store(true, Ordering::Relaxed);
    }
    let free = counts.iter().copied().find(|copies| {
        copies
            .taken
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    });
    let copies = free.unwrap_or_else(|| {
        let copies: &'static Copies = Box::leak(Box::new(Copies {
            count: AtomicUsize::new(0),
            pid: AtomicI32::new(0),
            taken: AtomicBool::new(true),
        }));
        counts.push(copies);
        copies
    });
    // No copy in progress (a thread that ended inside a copy, `pthread_exit` from a signal handler,
    // left its count). Whether the thread blocks the signals is checked once here, at the
    // thread's first checked read, where a thread that blocks them from its start (a program that
    // blocks every signal before starting its threads, and takes them with `sigwait` in one) is
    // found: checking at every read would cost each a system call.
    let blocks = if blocks_faults() { BLOCKS_FAULTS } else { 0 };
    copies.count.store(blocks, Ordering::Relaxed);
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() };
    copies.pid.store(pid, Ordering::Relaxed);
    COPIES.with(|cell| cell.set(Some(copies)));
    Some(copies)
}

/// Whether [`after_fork_in_the_child`] is registered (under [`COUNTS`]).
static AT_FORK: AtomicBool = AtomicBool::new(false);

/// Run by `fork` in the child, on the thread that forked (the child's only thread): its count,
/// if it has one, is the child's from now on, so that `uninstall` in the child waits for its
/// copies. (The counts of the parent's other threads keep the parent's pid.) Async-signal-safe.
extern "C" fn after_fork_in_the_child() {
    if let Ok(Some(copies)) = COPIES.try_with(Cell::get) {
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        copies.pid.store(pid, Ordering::Relaxed);
    }
}

/// A copy in progress that may rely on the handler: while one is alive, the handler stays
/// installed. Dropped when the copy returns, on the thread that made it.
pub(super) struct Held {
    copies: &'static Copies,
    count: usize,
}

impl Drop for Held {
    #[inline(always)]
    fn drop(&mut self) {
        // After every access of the copy: `uninstall` may restore the replaced actions once it
        // reads this.
        self.copies.count.store(self.count, Ordering::Release);
    }
}

/// Whether a copy of `len` bytes may use the routine, and if so, the proof that the handler stays
/// installed until it is dropped. The first call installs the handler; for a long copy, it also
/// checks that the handler is still the process's and not blocked in this thread.
#[inline(always)]
pub(super) fn hold(len: usize) -> Option<Held> {
    if len < CHECK_LEN {
        if let Some(held) = COPIES.with(Cell::get).and_then(try_hold) {
            return Some(held);
        }
    }
    hold_slow(len)
}

/// Counts a copy in progress, then reads the state: held if the handler is installed (and the
/// thread was not found blocking the signals).
#[inline(always)]
fn try_hold(copies: &'static Copies) -> Option<Held> {
    let count = copies.count.load(Ordering::Relaxed);
    if count & BLOCKS_FAULTS != 0 {
        return None;
    }
    copies.count.store(count + ONE_COPY, Ordering::Relaxed);
    // The count is stored before the state is read: the compiler keeps the order, and `uninstall`
    // makes the processor keep it (membarrier) between its store of the state and its reading of
    // the counts. (Dropped without use, `held` lowers the count again.)
    compiler_fence(Ordering::SeqCst);
    let held = Held { copies, count };
    (STATE.load(Ordering::Acquire) == INSTALLED).then_some(held)
}

#[cold]
#[inline(never)]
fn hold_slow(len: usize) -> Option<Held> {
    let copies = COPIES.with(Cell::get).or_else(take_copies)?;
    let count = copies.count.load(Ordering::Relaxed);
    if count & BLOCKS_FAULTS != 0 {
        // Found blocking them: asked again at each read (which goes through the kernel, at the
        // cost of a system call already) until it does not.
        if blocks_faults() {
            return None;
        }
        // A signal handler that copied since the load above left no copy of its own counted (and
        // the bit cleared, if it came this way too).
        copies
            .count
            .store(count & !BLOCKS_FAULTS, Ordering::Relaxed);
    }
    if STATE.load(Ordering::Acquire) == UNSET {
        // A failure leaves FAILED: the checked reads go through the kernel.
        let _ = install(Asked::Lazily);
    }
    if len >= CHECK_LEN && !in_place() {
        return None;
    }
    try_hold(copies)
}

/// Whether our handler is the process's for both signals and this thread blocks neither: three
/// system calls.
fn in_place() -> bool {
    let ours = ours();
    let current = SIGNALS
        .iter()
        .all(|&sig| current_handler(sig) == Some(ours));
    current && !blocks_faults()
}

/// Whether this thread blocks `SIGBUS` or `SIGSEGV` (or its mask cannot be read): one system call.
fn blocks_faults() -> bool {
    let mut mask = MaybeUninit::<libc::sigset_t>::zeroed();
    let (unchanged, into) = (ptr::null(), mask.as_mut_ptr());
    // SAFETY: a null set only reads this thread's mask into `mask`.
    let ret = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, unchanged, into) };
    // SAFETY: filled by pthread_sigmask (and all zeros, an empty set, anyway).
    let mask = unsafe { mask.assume_init() };
    ret != 0
        || SIGNALS.iter().any(|&sig| {
            // SAFETY: `mask` is a valid set.
            unsafe { libc::sigismember(&mask, sig) == 1 }
        })
}

// ---- Installing, removing, disabling ------------------------------------------------------------

/// Who asked for the installation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Asked {
    /// The first checked read: only if nothing was decided meanwhile (installed, disabled, failed).
    Lazily,
    /// `install_fault_handler`: whatever the state, also after `disable` or `uninstall`.
    Explicitly,
}

/// Installs the handler for both signals, unless it is the current one already, recording each
/// action it replaces. On failure the state is `FAILED`, and ours is in place for neither signal
/// where this call installed it.
pub(super) fn install(asked: Asked) -> io::Result<()> {
    let mut replaced = lock(&INSTALLER);
    if asked == Asked::Lazily && STATE.load(Ordering::Acquire) != UNSET {
        return Ok(());
    }
    // Read now, so that the handler finds it in its atomic and makes no call.
    crate::sys::page_size();
    loop {
        STATE.store(INSTALLING, Ordering::SeqCst);
        if let Err(error) = install_both(&mut replaced, asked) {
            STATE.store(FAILED, Ordering::Release);
            return Err(error);
        }
        // A handler ours called while this ran changed the process's actions (and turned the
        // state to UNSET): install again, on top of what is there now.
        let installed =
            STATE.compare_exchange(INSTALLING, INSTALLED, Ordering::AcqRel, Ordering::Acquire);
        if installed.is_ok() {
            return Ok(());
        }
    }
}

/// Installs ours for both signals; on failure, puts back what it replaced.
///
/// Installed lazily again (a handler ours called changed the action of a signal), ours goes in
/// front of what that handler left (the default action after std's reset; the handler itself,
/// installed again by code written for `sysv_signal`), but not in front of another handler of a
/// signal ours was installed for and that no call of ours changed: that handler was installed
/// after ours, and may pass faults on to ours, which would pass them back to it, each calling the
/// other until the stack overflows. It stays in front, as before; [`install`] called explicitly
/// goes in front of it (its documentation warns).
fn install_both(replaced: &mut [Option<libc::sigaction>; 2], asked: Asked) -> io::Result<()> {
    let ours = ours();
    let mut newly = [false; 2];
    for index in 0..SIGNALS.len() {
        let sig = SIGNALS[index];
        let bit = 1 << index;
        let changed_by_a_call = CHANGED.fetch_and(!bit, Ordering::AcqRel) & bit != 0;
        let installed_after_ours = replaced[index].is_some() && !changed_by_a_call;
        let installed = current_action(sig).and_then(|current| {
            let handler = !matches!(current.sa_sigaction, libc::SIG_DFL | libc::SIG_IGN);
            let keep_in_front = asked == Asked::Lazily && installed_after_ours && handler;
            if current.sa_sigaction == ours || keep_in_front {
                return Ok(None);
            }
            install_one(sig, index, &current).map(Some)
        });
        match installed {
            Ok(Some(action)) => (replaced[index], newly[index]) = (Some(action), true),
            Ok(None) => {}
            Err(error) => {
                // Back to what was there before this call, where this call changed it (where ours
                // was in place before, copies in progress may rely on it: it stays).
                for (index, &sig) in SIGNALS.iter().enumerate().filter(|&(i, _)| newly[i]) {
                    if let Some(action) = replaced[index].take() {
                        // SAFETY: an action sigaction returned.
                        unsafe { libc::sigaction(sig, &action, ptr::null_mut()) };
                    }
                }
                return Err(error);
            }
        }
    }
    Ok(())
}

/// Installs ours for `sig` in place of `current`; returns the action it replaced.
fn install_one(sig: c_int, index: usize, current: &libc::sigaction) -> io::Result<libc::sigaction> {
    // Recorded before ours is in place: the handler always finds what to pass signals on to.
    PREVIOUS[index].record(&Action::of(current));
    let mut replaced = MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: `handler` is an SA_SIGINFO handler that stays valid for the process's life (unless
    // the object holding it is unloaded: see install_fault_handler's limits).
    if unsafe { libc::sigaction(sig, &ours_in_place_of(current), replaced.as_mut_ptr()) } != 0 {
        return Err(last_error(|| format!("sigaction({})", name(sig))));
    }
    // SAFETY: filled by sigaction.
    let replaced = unsafe { replaced.assume_init() };
    if replaced.sa_sigaction != current.sa_sigaction || replaced.sa_flags != current.sa_flags {
        // Changed by another thread between the two calls: pass signals on to what was replaced.
        PREVIOUS[index].record(&Action::of(&replaced));
        // SAFETY: as above.
        unsafe { libc::sigaction(sig, &ours_in_place_of(&replaced), ptr::null_mut()) };
    }
    // A sanitizer's `sigaction` can refuse a handler and still return 0 (AddressSanitizer with
    // `handle_segv=2`, `handle_sigbus=2` or `allow_user_segv_handler=0`): only the action read
    // back says whether ours is in place.
    if current_action(sig)?.sa_sigaction != ours() {
        // SAFETY: the action sigaction returned, put back where it was.
        unsafe { libc::sigaction(sig, &replaced, ptr::null_mut()) };
        return Err(other(
            io::ErrorKind::Unsupported,
            format!(
                "sigaction({}) returned success, but the action is not ours (a sanitizer keeps \
                 the signal to itself: AddressSanitizer does with handle_segv=2, \
                 handle_sigbus=2 or allow_user_segv_handler=0 in ASAN_OPTIONS)",
                name(sig)
            ),
        ));
    }
    Ok(replaced)
}

/// Our action, to replace `previous`: its mask and its `SA_NODEFER`, `SA_ONSTACK` and `SA_RESTART`
/// (so the kernel blocks, stacks and restarts as it would have for it), and `SA_SIGINFO`. Never
/// `SA_RESETHAND`, which [`chain`] does for it.
fn ours_in_place_of(previous: &libc::sigaction) -> libc::sigaction {
    let kept = libc::SA_NODEFER | libc::SA_ONSTACK | libc::SA_RESTART;
    let mut action = *previous;
    action.sa_sigaction = ours();
    action.sa_flags = libc::SA_SIGINFO | (previous.sa_flags & kept);
    action
}

/// Removes ours, restoring the actions it replaced, exactly; then the checked reads go through
/// the kernel (until [`install`]). Returns whether ours was installed.
pub(super) fn uninstall() -> io::Result<bool> {
    let mut replaced = lock(&INSTALLER);
    let ours = ours();
    let mut installed = [false; 2];
    for (index, &sig) in SIGNALS.iter().enumerate() {
        let current = current_action(sig)?.sa_sigaction;
        installed[index] = current == ours;
        let foreign = !matches!(current, libc::SIG_DFL | libc::SIG_IGN) && current != ours;
        if replaced[index].is_some() && foreign {
            // Installed after ours: it may pass signals on to ours, and putting back what ours
            // replaced would remove it.
            return Err(other(
                io::ErrorKind::Other,
                format!(
                    "the action of {} is another handler ({current:#x}), installed after ours: \
                     restoring the one ours replaced would remove it (remove it first)",
                    name(sig)
                ),
            ));
        }
    }
    STATE.store(DISABLED, Ordering::SeqCst);
    for (index, installed) in installed.iter().enumerate() {
        if !installed {
            // Not ours any more (reset by a handler ours passed a signal to): nothing to restore.
            replaced[index] = None;
        }
    }
    if installed == [false, false] {
        return Ok(false);
    }
    wait_for_copies()?;
    for (index, &sig) in SIGNALS.iter().enumerate() {
        let Some(action) = replaced[index] else {
            continue;
        };
        let previous = &PREVIOUS[index];
        let action = match previous.read() {
            // The kernel would have reset it: `SIG_DFL`, with its flags and mask.
            Some((recorded, _)) if previous.reset.load(Ordering::Acquire) == recorded => {
                Action::of(&action).with_handler(libc::SIG_DFL)
            }
            _ => action,
        };
        let mut was = MaybeUninit::<libc::sigaction>::zeroed();
        // SAFETY: an action sigaction returned, or made from one.
        if unsafe { libc::sigaction(sig, &action, was.as_mut_ptr()) } != 0 {
            return Err(last_error(|| format!("sigaction({})", name(sig))));
        }
        // SAFETY: filled by sigaction.
        let was = unsafe { was.assume_init() };
        if was.sa_sigaction != ours {
            // SAFETY: as above.
            // Installed by another thread since the check: put it back.
            unsafe { libc::sigaction(sig, &was, ptr::null_mut()) };
            return Err(other(
                io::ErrorKind::Other,
                format!(
                    "the action of {} became another handler ({:#x}) while ours was being \
                     removed: it is kept",
                    name(sig),
                    was.sa_sigaction
                ),
            ));
        }
        replaced[index] = None;
    }
    Ok(true)
}

/// Keeps the handler from being installed by checked reads, which go through the kernel from now
/// on; leaves an installed handler in place.
pub(super) fn disable() {
    let _installer = lock(&INSTALLER);
    STATE.store(DISABLED, Ordering::SeqCst);
}

/// Waits until no copy that read `INSTALLED` before the state became `DISABLED` is in progress.
fn wait_for_copies() -> io::Result<()> {
    // Every thread's count stored before this returns is visible below; every copy counted after
    // it reads DISABLED.
    barrier()?;
    let counts = lock(&COUNTS);
    let own = COPIES.with(Cell::get);
    let in_progress = |copies: &Copies, order| copies.count.load(order) & !BLOCKS_FAULTS != 0;
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() };
    for &copies in counts.iter() {
        if own.is_some_and(|own| ptr::eq(own, copies)) {
            if in_progress(copies, Ordering::Relaxed) {
                return Err(other(
                    io::ErrorKind::WouldBlock,
                    "called inside a checked read of this thread (from a signal handler): \
                     the handler it relies on cannot be removed",
                ));
            }
        } else if copies.taken.load(Ordering::Acquire) && copies.pid.load(Ordering::Relaxed) == pid
        {
            while in_progress(copies, Ordering::Acquire) {
                std::thread::yield_now();
            }
        }
    }
    Ok(())
}

/// A full memory barrier on every running thread of the process: `membarrier(2)`, expedited
/// (Linux 4.14), or through the scheduler where it is not (Linux 4.3, milliseconds).
fn barrier() -> io::Result<()> {
    let register_expedited = cmd::REGISTER_PRIVATE_EXPEDITED;
    // SAFETY: membarrier takes two integers.
    let register = unsafe { libc::syscall(libc::SYS_membarrier, register_expedited, 0) };
    let (cmd, name) = match register {
        0 => (cmd::PRIVATE_EXPEDITED, "MEMBARRIER_CMD_PRIVATE_EXPEDITED"),
        _ => (cmd::GLOBAL, "MEMBARRIER_CMD_GLOBAL"),
    };
    // SAFETY: as above.
    if unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0) } != 0 {
        return Err(last_error(|| format!("membarrier({name})")));
    }
    Ok(())
}

/// `membarrier(2)`'s commands: the libc crate's, which it defines for Linux's headers but not for
/// Android's (whose kernel is Linux, with the same values).
mod cmd {
    #[cfg(target_os = "linux")]
    pub(super) use libc::{
        MEMBARRIER_CMD_GLOBAL as GLOBAL, MEMBARRIER_CMD_PRIVATE_EXPEDITED as PRIVATE_EXPEDITED,
        MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED as REGISTER_PRIVATE_EXPEDITED,
    };
    #[cfg(target_os = "android")]
    pub(super) const GLOBAL: std::ffi::c_int = 1 << 0;
    #[cfg(target_os = "android")]
    pub(super) const PRIVATE_EXPEDITED: std::ffi::c_int = 1 << 3;
    #[cfg(target_os = "android")]
    pub(super) const REGISTER_PRIVATE_EXPEDITED: std::ffi::c_int = 1 << 4;
}

/// The action of `sig` now.
fn current_action(sig: c_int) -> io::Result<libc::sigaction> {
    let mut action = MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: a null new action only reads the current one into `action`.
    if unsafe { libc::sigaction(sig, ptr::null(), action.as_mut_ptr()) } != 0 {
        return Err(last_error(|| format!("sigaction({}) (reading)", name(sig))));
    }
    // SAFETY: filled by sigaction.
    Ok(unsafe { action.assume_init() })
}

/// The handler of `sig`'s action now, if `sigaction` can say. Async-signal-safe.
fn current_handler(sig: c_int) -> Option<libc::sighandler_t> {
    let mut action = MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: a null new action only reads the current one into `action`.
    let ret = unsafe { libc::sigaction(sig, ptr::null(), action.as_mut_ptr()) };
    // SAFETY: filled by sigaction (and all zeros is a valid sigaction anyway).
    (ret == 0).then(|| unsafe { action.assume_init() }.sa_sigaction)
}

/// `SIGBUS` or `SIGSEGV`, for messages.
fn name(sig: c_int) -> &'static str {
    if sig == libc::SIGBUS {
        "SIGBUS"
    } else {
        "SIGSEGV"
    }
}

/// The handler's address, as `sigaction` holds it.
fn ours() -> libc::sighandler_t {
    handler as unsafe extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) as usize
}

// ---- The handler --------------------------------------------------------------------------------

/// The handler: fixes a fault of the routine on its source, and passes every other signal on.
unsafe extern "C" fn handler(sig: c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler; for SIGBUS and SIGSEGV
    // raised by a fault, `si_addr` is the fault address.
    let (code, fault) = unsafe { ((*info).si_code, (*info).si_addr() as usize) };
    // SI_USER, SI_QUEUE, SI_TKILL and the like are 0 or below: a process sent it, not a fault.
    let raised_by_a_fault = code > 0;
    // SAFETY: `context` is the handler's ucontext. The page size was read (into an atomic) before
    // the handler was installed.
    if raised_by_a_fault && unsafe { arch::fixup(fault, context, crate::sys::page_size()) } {
        return;
    }
    // SAFETY: the arguments the kernel passed to this handler, passed on.
    unsafe { chain(sig, info, context, code) }
}

/// Passes a signal that is not the routine's on, as the kernel would have delivered it to the
/// action ours replaced (see the module's documentation); then, if the process's actions changed
/// meanwhile, stops the copies from relying on ours until it is installed again.
///
/// # Safety
///
/// The arguments the kernel passed to the handler.
unsafe fn chain(sig: c_int, info: *mut libc::siginfo_t, context: *mut c_void, code: c_int) {
    let errno = Errno::get();
    let Some(index) = SIGNALS.iter().position(|&s| s == sig) else {
        return;
    };
    let before = SIGNALS.map(current_handler);
    let previous = &PREVIOUS[index];
    let (recorded, action) = match previous.read() {
        Some((recorded, _)) if previous.reset.load(Ordering::Acquire) == recorded => {
            (recorded, Action::DEFAULT)
        }
        Some(found) => found,
        None => (0, Action::DEFAULT),
    };
    let errno = match action.handler {
        // The kernel does not let a process ignore a fault: it resets the action and kills.
        libc::SIG_DFL => default(sig, code, &action, errno),
        libc::SIG_IGN if code > 0 => default(sig, code, &action, errno),
        libc::SIG_IGN => errno,
        _ => {
            if action.flags & libc::SA_RESETHAND != 0 {
                previous.reset.store(recorded, Ordering::Release);
                if before[index] == Some(ours()) {
                    let reset = action.with_handler(libc::SIG_DFL);
                    // SAFETY: an action made of a recorded one; sigaction is async-signal-safe.
                    unsafe { libc::sigaction(sig, &reset, ptr::null_mut()) };
                }
            }
            // SAFETY: the caller's arguments; `action` is the handler's own action.
            unsafe { call(sig, info, context, &action, errno) }
        }
    };
    let after = SIGNALS.map(current_handler);
    if after != before {
        let changed = (0..SIGNALS.len())
            .filter(|&i| after[i] != before[i])
            .fold(0, |bits, i| bits | 1 << i);
        CHANGED.fetch_or(changed, Ordering::AcqRel);
        // Ours may be gone (std's handler resets the action to the default): no copy relies on
        // it until it is installed again, by the next checked read.
        let _ = STATE.fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
            matches!(state, INSTALLED | INSTALLING).then_some(UNSET)
        });
    }
    errno.set();
}

/// Calls `action`'s handler with the mask the kernel would have set for it, and returns `errno`
/// as the handler left it.
///
/// # Safety
///
/// The caller's arguments are the kernel's; `action.handler` is a function of the kind its
/// `SA_SIGINFO` flag says.
unsafe fn call(
    sig: c_int,
    info: *mut libc::siginfo_t,
    context: *mut c_void,
    action: &Action,
    errno: Errno,
) -> Errno {
    // The interrupted code's mask, which the kernel restores when ours returns.
    let interrupted = if context.is_null() {
        None
    } else {
        // SAFETY: the kernel's ucontext.
        Some(bits(unsafe {
            &(*context.cast::<libc::ucontext_t>()).uc_sigmask
        }))
    };
    let mut mask = action.mask | interrupted.unwrap_or(0);
    if action.flags & libc::SA_NODEFER == 0 {
        mask |= 1 << (sig - 1);
    }
    let mut old = MaybeUninit::<libc::sigset_t>::zeroed();
    let how = if interrupted.is_some() {
        libc::SIG_SETMASK
    } else {
        libc::SIG_BLOCK
    };
    // SAFETY: valid sets; pthread_sigmask is async-signal-safe.
    let set = unsafe { libc::pthread_sigmask(how, &set_of(mask), old.as_mut_ptr()) } == 0;
    errno.set();
    if action.flags & libc::SA_SIGINFO != 0 {
        type Handler = extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void);
        // SAFETY: an SA_SIGINFO action's `sa_sigaction` is such a function.
        let f = unsafe { std::mem::transmute::<libc::sighandler_t, Handler>(action.handler) };
        f(sig, info, context);
    } else {
        // SAFETY: an action without SA_SIGINFO holds a plain `sa_handler`.
        let f: extern "C" fn(c_int) = unsafe { std::mem::transmute(action.handler) };
        f(sig);
    }
    let errno = Errno::get();
    if set {
        // SAFETY: the mask pthread_sigmask returned.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, old.as_ptr(), ptr::null_mut()) };
    }
    errno
}

/// The default action for `sig`: the action becomes `SIG_DFL` (with `action`'s flags and mask, as
/// the kernel leaves them); then a fault's instruction runs again on return and faults again (the
/// process dies of the signal, with its core dump), and a signal a process sent is raised again.
fn default(sig: c_int, code: c_int, action: &Action, errno: Errno) -> Errno {
    // SAFETY: a valid action; sigaction is async-signal-safe.
    unsafe { libc::sigaction(sig, &action.with_handler(libc::SIG_DFL), ptr::null_mut()) };
    if code <= 0 {
        // SAFETY: raise is async-signal-safe.
        unsafe { libc::raise(sig) };
    }
    errno
}

/// A value of `errno`, kept across the calls the handler makes on its own account.
#[derive(Clone, Copy)]
struct Errno(c_int);

impl Errno {
    fn get() -> Errno {
        // SAFETY: this thread's errno; reading it is async-signal-safe.
        Errno(unsafe { *errno_location() })
    }

    fn set(self) {
        // SAFETY: as above.
        unsafe { *errno_location() = self.0 };
    }
}

/// This thread's `errno`.
fn errno_location() -> *mut c_int {
    #[cfg(target_os = "android")]
    // SAFETY: bionic's errno accessor.
    return unsafe { libc::__errno() };
    #[cfg(not(target_os = "android"))]
    // SAFETY: glibc's and musl's errno accessor.
    return unsafe { libc::__errno_location() };
}
