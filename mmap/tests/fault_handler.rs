//! The checked copy's `SIGBUS`/`SIGSEGV` handler (x86-64 and aarch64 Linux) among the process's
//! other signal handlers: every signal that is not a fault of the copy routine reaches the action
//! it replaced as the kernel would have delivered it (once for `SA_RESETHAND`, with its `sa_mask`
//! blocked, std's stack-overflow message, a plain read's `SIGBUS`, AddressSanitizer's reports); the
//! checked reads stay errors, never deaths, after a `kill` of the process and under a later handler
//! that passes faults on to it; the application keeps it out or removes it at run time, exactly,
//! while other threads copy.
//!
//! Each test runs its part in a child process: it installs signal handlers, or dies of a signal.
//! Where the build has no handler (other targets, `--cfg mman_no_fault_handler`) the same steps run
//! and check what the kernel does; the assertions about our handler are skipped there. Linux only
//! (the handler's systems; the tests send signals to a thread by its id).
#![cfg(any(target_os = "linux", target_os = "android"))]

mod common;

use std::hint::black_box;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::Output;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::{failed_byte, pattern_byte, pattern_file, truncated_map};
use mman::{page_size, Mmap, MmapOptions, MmapRaw, Protection};

// ---- Signal handlers of other components, and what they saw ------------------------------------

/// Faults the test's own handlers recovered, and signals a process sent them.
static HITS: AtomicUsize = AtomicUsize::new(0);
static SENT: AtomicUsize = AtomicUsize::new(0);
/// The address of the guard page (see [`guard_page`]).
static GUARD: AtomicUsize = AtomicUsize::new(0);

/// A page of PROT_NONE anonymous memory (libc's mmap, not this crate's): a fault outside the
/// copy routine. [`recovering`] makes it readable; [`protect_guard`] unreadable again.
fn guard_page() -> *const u8 {
    // SAFETY: a new anonymous mapping, placed by the kernel.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            page_size(),
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(ptr, libc::MAP_FAILED);
    GUARD.store(ptr as *const () as usize, Ordering::SeqCst);
    ptr.cast()
}

/// Makes the guard page unreadable again.
fn protect_guard() {
    let guard = GUARD.load(Ordering::SeqCst) as *mut libc::c_void;
    // SAFETY: the guard page, mapped by `guard_page`.
    let ret = unsafe { libc::mprotect(guard, page_size(), libc::PROT_NONE) };
    assert_eq!(ret, 0);
}

/// Reads the guard page: a `SIGSEGV` that the handler of the test recovers.
fn touch_guard(guard: *const u8) -> u8 {
    // SAFETY: mapped; its fault is recovered by the test's handler, which makes it readable.
    unsafe { guard.read_volatile() }
}

/// Whether the guard page holds `addr`.
fn on_guard(addr: usize) -> bool {
    let guard = GUARD.load(Ordering::SeqCst);
    guard != 0 && (guard..guard + page_size()).contains(&addr)
}

/// Makes the guard page readable: the fault's instruction then reads it when the handler returns.
fn recover_guard() {
    let guard = GUARD.load(Ordering::SeqCst) as *mut libc::c_void;
    // SAFETY: the guard page, mapped by `guard_page`.
    unsafe { libc::mprotect(guard, page_size(), libc::PROT_READ) };
}

/// Writes `text` to stderr with `write(2)`, which a signal handler may call.
fn say(text: &str) {
    // SAFETY: writes `text`'s bytes.
    unsafe { libc::write(2, text.as_ptr().cast(), text.len()) };
}

/// A `SA_SIGINFO` handler that recovers the faults on the guard page (counting them) by making
/// it readable, counts the signals a process sent, and exits with 3 for anything else.
extern "C" fn recovering(
    _sig: libc::c_int,
    info: *mut libc::siginfo_t,
    _context: *mut libc::c_void,
) {
    // SAFETY: the kernel's siginfo.
    let (code, addr) = unsafe { ((*info).si_code, (*info).si_addr() as usize) };
    if code <= 0 {
        SENT.fetch_add(1, Ordering::SeqCst);
    } else if on_guard(addr) {
        HITS.fetch_add(1, Ordering::SeqCst);
        recover_guard();
    } else {
        // SAFETY: ends the process, as a handler may.
        unsafe { libc::_exit(3) };
    }
}

/// Installs [`recovering`] for `sig`, blocking no other signal while it runs.
fn install_recovering(sig: libc::c_int) {
    install(sig, recovering as *const () as usize, libc::SA_SIGINFO, &[]);
}

/// A plain handler (no `SA_SIGINFO`) for `SIGBUS` that extends the file whose descriptor is in
/// `FD` back to `FD_LEN`, so the faulting read succeeds when it runs again.
static FD: AtomicUsize = AtomicUsize::new(0);
static FD_LEN: AtomicUsize = AtomicUsize::new(0);
extern "C" fn extending(_sig: libc::c_int) {
    HITS.fetch_add(1, Ordering::SeqCst);
    // SAFETY: a descriptor the test keeps open.
    unsafe {
        libc::ftruncate(
            FD.load(Ordering::SeqCst) as i32,
            FD_LEN.load(Ordering::SeqCst) as libc::off_t,
        )
    };
}

/// Opens the file at `path` for writing, for [`extending`] to extend back to `len` bytes; returns
/// the handle, which the test keeps open while the handler may run.
fn open_for_extending(path: &std::path::Path, len: usize) -> std::fs::File {
    let handle = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    FD.store(
        std::os::fd::AsRawFd::as_raw_fd(&handle) as usize,
        Ordering::SeqCst,
    );
    FD_LEN.store(len, Ordering::SeqCst);
    handle
}

/// The handlers `passing_on` passes each signal on to (the ones it replaced), by `index`.
static PASSED_TO: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];
static PASSED: AtomicUsize = AtomicUsize::new(0);

/// The index of `SIGBUS` (0) or `SIGSEGV` (1) in the tables above.
fn index(sig: libc::c_int) -> usize {
    usize::from(sig == libc::SIGSEGV)
}

/// A `SA_SIGINFO` handler installed after ours that counts and passes every signal on to the one
/// it replaced (a `SA_SIGINFO` handler), as wasmtime's does.
extern "C" fn passing_on(sig: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    PASSED.fetch_add(1, Ordering::SeqCst);
    type Handler = extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void);
    let previous = PASSED_TO[index(sig)].load(Ordering::SeqCst);
    // SAFETY: an SA_SIGINFO action's handler (checked when installed), called with the kernel's
    // arguments.
    let f = unsafe { std::mem::transmute::<usize, Handler>(previous) };
    f(sig, info, context);
}

/// Installs `passing_on` for both signals, in front of what is there (which must be a
/// `SA_SIGINFO` handler).
fn install_passing_on() {
    for sig in [libc::SIGBUS, libc::SIGSEGV] {
        let replaced = install(sig, passing_on as *const () as usize, libc::SA_SIGINFO, &[]);
        assert_ne!(replaced.sa_flags & libc::SA_SIGINFO, 0);
        PASSED_TO[index(sig)].store(replaced.sa_sigaction, Ordering::SeqCst);
    }
}

/// The handlers of the tests of a handler installed after ours: [`recovering`] for `SIGSEGV`, ours
/// in front of it (installed by a checked read of the map returned, then by
/// `install_fault_handler`, whose result comes back), and [`passing_on`] in front of ours.
fn install_ours_between_recovering_and_passing_on() -> (tempfile::NamedTempFile, Mmap, bool) {
    install_recovering(libc::SIGSEGV);
    let (file, map) = truncated_map(4, page_size());
    checked_read_of_a_cut(&map);
    let fast = mman::install_fault_handler().unwrap();
    install_passing_on();
    (file, map, fast)
}

/// Installs `handler` for `sig` with `flags` and the signals of `mask` in its `sa_mask`; returns
/// the action it replaced.
fn install(
    sig: libc::c_int,
    handler: usize,
    flags: libc::c_int,
    mask: &[libc::c_int],
) -> libc::sigaction {
    // SAFETY: all zeros is a valid sigaction; the test's handlers have the signatures their
    // flags say; the sets are valid.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler;
        action.sa_flags = flags;
        libc::sigemptyset(&mut action.sa_mask);
        for &blocked in mask {
            libc::sigaddset(&mut action.sa_mask, blocked);
        }
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(sig, &action, &mut old), 0);
        old
    }
}

/// The action of `sig` now.
fn action_of(sig: libc::c_int) -> libc::sigaction {
    // SAFETY: a null new action only reads the current one.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(sig, std::ptr::null(), &mut action), 0);
        action
    }
}

/// Whether this thread blocks `sig`. Async-signal-safe.
fn blocked(sig: libc::c_int) -> bool {
    // SAFETY: a null set only reads this thread's mask; `mask` is filled by it.
    unsafe {
        let mut mask: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut mask);
        libc::sigismember(&mask, sig) == 1
    }
}

/// Sends `sig` to this process with `kill(2)`, as `kill -BUS <pid>` does, naming this thread's id:
/// the kernel then delivers it to this thread, before `kill` returns.
fn kill_this_process(sig: libc::c_int) {
    // SAFETY: gettid and kill take integers.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::pid_t;
        assert_eq!(libc::kill(tid, sig), 0);
    }
}

// ---- Reads and deaths --------------------------------------------------------------------------

/// Checked reads of a `truncated_map(4, page)`: past the cut, an error (a fault of the routine,
/// which the handler fixes), where a slice read dies of `SIGBUS`; a read across it, the bytes
/// before it (a short count); before it, the file's bytes.
fn checked_read_of_a_cut(map: &Mmap) {
    let page = page_size();
    let mut buf = vec![0u8; 2 * page];
    assert_eq!(
        map.read_at(&mut buf, 10).unwrap(),
        page - 10,
        "a short count"
    );
    let error = map.read_at(&mut buf, page).unwrap_err();
    assert_eq!(failed_byte(&error), Some(page), "{error}");
    let mut reader = map.reader();
    assert_eq!(reader.read(&mut buf[..100]).unwrap(), 100);
    assert!(buf[..100]
        .iter()
        .enumerate()
        .all(|(i, &b)| b == pattern_byte(i)));
}

/// A map of two pages whose second one is `PROT_NONE`.
fn map_with_an_unreadable_page() -> (tempfile::NamedTempFile, MmapRaw) {
    let file = pattern_file(2 * page_size());
    let map = MmapOptions::new().map_raw(file.as_file()).unwrap();
    map.protect_range(page_size(), page_size(), Protection::empty())
        .unwrap();
    (file, map)
}

/// A checked read of the unreadable page of `map_with_an_unreadable_page`: an error (a `SIGSEGV`
/// of the routine, which the handler fixes).
fn checked_read_of_an_unreadable_page(map: &MmapRaw) {
    let mut buf = vec![0u8; 64];
    let error = map.read_at(&mut buf, page_size()).unwrap_err();
    assert_eq!(failed_byte(&error), Some(page_size()), "{error}");
}

/// Set for the control run of a child: the same steps without the checked read, so without our
/// handler.
const WITHOUT_CHECKED_READ: &str = "MMAP_TEST_WITHOUT_CHECKED_READ";

/// Makes a checked read (which installs the handler), unless this is the control run.
fn checked_read_unless_control() -> Option<(tempfile::NamedTempFile, Mmap)> {
    if std::env::var_os(WITHOUT_CHECKED_READ).is_some() {
        return None;
    }
    let (file, map) = truncated_map(4, page_size());
    checked_read_of_a_cut(&map);
    Some((file, map))
}

/// Starts `child` with and without the checked read; returns both outputs (control first).
fn with_and_without_the_handler(child: &common::ChildProcess) -> (Output, Output) {
    let control = child
        .command()
        .env(WITHOUT_CHECKED_READ, "1")
        .output()
        .unwrap();
    let with = child.command().output().unwrap();
    (control, with)
}

// ---- Handlers installed before ours ------------------------------------------------------------

#[test]
fn handlers_installed_before_ours_still_get_their_faults() {
    common::run_the_rest_in_a_child!();
    install_recovering(libc::SIGSEGV);
    install(libc::SIGBUS, extending as *const () as usize, 0, &[]);
    let (file, map) = truncated_map(4, page_size());
    checked_read_of_a_cut(&map);
    assert_eq!(
        HITS.load(Ordering::SeqCst),
        0,
        "the routine's faults stay ours"
    );
    let fast = mman::install_fault_handler().unwrap();

    // A fault outside the routine reaches the SA_SIGINFO handler, which recovers it.
    let guard = guard_page();
    assert_eq!(touch_guard(guard), 0);
    assert_eq!(HITS.load(Ordering::SeqCst), 1);
    // SAFETY: raise has no memory preconditions; `recovering` counts it.
    // A signal a process sends, even with an address-like payload, goes to it too.
    unsafe { libc::raise(libc::SIGSEGV) };
    assert_eq!(SENT.load(Ordering::SeqCst), 1);

    // A SIGBUS of a plain slice read reaches the plain handler, which extends the file.
    let _handle = open_for_extending(file.path(), 4 * page_size());
    assert_eq!(
        black_box(&map[..])[3 * page_size()],
        0,
        "extended by the handler: zeros"
    );
    assert_eq!(HITS.load(Ordering::SeqCst), 2);
    println!("fast copy: {fast}");
}

/// A crash reporter installed with `SA_RESETHAND`: it counts its calls (and exits with 3 on a
/// second one, which would otherwise loop), says so, and, if `REPORTER_RAISES`, raises the signal
/// again before it returns.
static REPORTED: AtomicUsize = AtomicUsize::new(0);
static REPORTER_RAISES: AtomicUsize = AtomicUsize::new(0);
extern "C" fn reporter(sig: libc::c_int, _info: *mut libc::siginfo_t, _context: *mut libc::c_void) {
    say("reporter ran\n");
    if REPORTED.fetch_add(1, Ordering::SeqCst) > 0 {
        say("reporter ran again\n");
        // SAFETY: ends the process, as a handler may.
        unsafe { libc::_exit(3) };
    }
    if REPORTER_RAISES.load(Ordering::SeqCst) != 0 {
        // SAFETY: raise is async-signal-safe.
        unsafe { libc::raise(sig) };
    }
}

/// The child part of the two reporter tests: installs the reporter, then our handler (a checked
/// read), then a fault outside the routine. The kernel resets the reporter's action to `SIG_DFL`
/// when it delivers the fault, so the fault, run again when the reporter returns (or the signal it
/// raised, blocked while it runs), kills the process: the reporter runs once.
fn install_a_reporter_with_sa_resethand_and_fault(raises: bool) {
    REPORTER_RAISES.store(usize::from(raises), Ordering::SeqCst);
    let flags = libc::SA_SIGINFO | libc::SA_RESETHAND | libc::SA_ONSTACK;
    install(libc::SIGSEGV, reporter as *const () as usize, flags, &[]);
    let _read = checked_read_unless_control();
    touch_guard(guard_page());
    unreachable!("the fault kills the process");
}

/// Starts `child` with and without our handler: both die of `SIGSEGV`, the reporter having run
/// once.
fn assert_the_reporter_runs_once(child: &common::ChildProcess) {
    let (control, with) = with_and_without_the_handler(child);
    for output in [&control, &with] {
        common::assert_died_of(output, libc::SIGSEGV);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.matches("reporter ran").count(), 1, "{stderr}");
    }
}

#[test]
fn a_reporter_with_sa_resethand_that_returns_runs_once_and_the_process_dies() {
    common::run_the_rest_in_a_child!(assert_the_reporter_runs_once);
    install_a_reporter_with_sa_resethand_and_fault(false);
}

#[test]
fn a_reporter_with_sa_resethand_that_raises_runs_once_and_the_process_dies() {
    common::run_the_rest_in_a_child!(assert_the_reporter_runs_once);
    install_a_reporter_with_sa_resethand_and_fault(true);
}

/// What the handlers of the mask test saw blocked while they ran: bit 0 the other signal of their
/// `sa_mask`, bit 1 their own signal; one report per call.
static SEEN_SEGV: AtomicUsize = AtomicUsize::new(0);
static SEEN_BUS: AtomicUsize = AtomicUsize::new(0);

/// A `SIGSEGV` handler installed with `sa_mask = {SIGUSR1}`, without `SA_NODEFER`.
extern "C" fn masked_segv(_sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    let seen = usize::from(blocked(libc::SIGUSR1)) | usize::from(blocked(libc::SIGSEGV)) << 1;
    SEEN_SEGV.store(seen | 4, Ordering::SeqCst);
    // SAFETY: the kernel's siginfo.
    if on_guard(unsafe { (*info).si_addr() } as usize) {
        recover_guard();
    } else {
        // SAFETY: ends the process, as a handler may.
        unsafe { libc::_exit(3) };
    }
}

/// A plain `SIGBUS` handler installed with `sa_mask = {SIGUSR2}` and `SA_NODEFER`: it extends the
/// file (see `extending`).
extern "C" fn masked_bus(sig: libc::c_int) {
    let seen = usize::from(blocked(libc::SIGUSR2)) | usize::from(blocked(libc::SIGBUS)) << 1;
    SEEN_BUS.store(seen | 4, Ordering::SeqCst);
    extending(sig);
}

#[test]
fn a_handler_before_ours_runs_with_the_mask_the_kernel_gives_it() {
    // A component's SIGSEGV handler with `sa_mask = {SIGUSR1}` (and not SA_NODEFER) runs with
    // SIGUSR1 and SIGSEGV blocked; a plain SIGBUS handler with `{SIGUSR2}` and SA_NODEFER with
    // SIGUSR2 blocked and SIGBUS not. The same when our handler passes their faults on, and the
    // thread's mask is as it was when they return.
    common::run_the_rest_in_a_child!();
    install(
        libc::SIGSEGV,
        masked_segv as *const () as usize,
        libc::SA_SIGINFO,
        &[libc::SIGUSR1],
    );
    install(
        libc::SIGBUS,
        masked_bus as *const () as usize,
        libc::SA_NODEFER,
        &[libc::SIGUSR2],
    );
    let page = page_size();
    let (file, map) = truncated_map(4, page);
    let handle = open_for_extending(file.path(), 4 * page);
    let guard = guard_page();
    // Each handler once delivered by the kernel, then (after a checked read) through ours.
    let mut seen = Vec::new();
    for round in ["the kernel's", "through ours"] {
        if round == "through ours" {
            handle.set_len(page as u64).unwrap();
            protect_guard();
            checked_read_of_a_cut(&map);
        }
        touch_guard(guard);
        assert_eq!(black_box(&map[..])[2 * page], 0, "extended by the handler");
        let (segv, bus) = (
            SEEN_SEGV.swap(0, Ordering::SeqCst),
            SEEN_BUS.swap(0, Ordering::SeqCst),
        );
        println!("{round}: SIGSEGV handler saw {segv:#b}, SIGBUS handler {bus:#b}");
        assert!(
            !blocked(libc::SIGUSR1) && !blocked(libc::SIGUSR2),
            "the mask, restored"
        );
        seen.push((segv, bus));
    }
    assert_eq!(
        seen,
        [(0b111, 0b101), (0b111, 0b101)],
        "(SIGSEGV handler: SIGUSR1 and SIGSEGV blocked; SIGBUS handler: SIGUSR2 only)"
    );
}

// ---- Signals a process sends -------------------------------------------------------------------

#[test]
fn checked_reads_after_a_kill_of_the_process_are_errors_not_deaths() {
    // `kill -BUS <pid>`, then `kill -SEGV`: std's handler (behind ours) resets the action to the
    // default and returns, and the process lives; the checked reads of a truncated page and of a
    // PROT_NONE page still return errors.
    common::run_the_rest_in_a_child!();
    let (_file, map) = truncated_map(4, page_size());
    let (_unreadable_file, unreadable) = map_with_an_unreadable_page();
    checked_read_of_a_cut(&map);
    checked_read_of_an_unreadable_page(&unreadable);
    for sig in [libc::SIGBUS, libc::SIGSEGV] {
        kill_this_process(sig);
        assert_eq!(
            action_of(sig).sa_sigaction,
            libc::SIG_DFL,
            "std's handler reset the action of {sig}"
        );
        checked_read_of_a_cut(&map);
        checked_read_of_an_unreadable_page(&unreadable);
        println!("survived signal {sig} and read on");
    }
}

#[test]
fn a_signal_another_process_sends_is_handled_as_without_our_handler() {
    // std's own handler, the one before ours, takes a SIGSEGV that a process sends (here `raise`,
    // to this thread): it restores the default action and returns, so the first one is survived
    // and the second kills. The same, with ours in front.
    common::run_the_rest_in_a_child!(|child| {
        let (before, after) = with_and_without_the_handler(child);
        assert_eq!(
            after.status.signal(),
            before.status.signal(),
            "{before:?}\n{after:?}"
        );
        assert_eq!(after.stdout, before.stdout, "{before:?}\n{after:?}");
        println!(
            "without the fault handler: {}; with it: {}",
            before.status, after.status
        );
    });
    let _read = checked_read_unless_control();
    for round in 0..2 {
        // SAFETY: sends a signal to this thread, delivered before raise returns.
        unsafe { libc::raise(libc::SIGSEGV) };
        println!("survived SIGSEGV {round}");
    }
}

// ---- Handlers installed after ours -------------------------------------------------------------

#[test]
fn a_handler_installed_after_ours_that_passes_faults_on_keeps_them_fixed() {
    // A handler installed after ours that passes every signal on to ours: the routine's faults
    // are still fixed, other faults reach the handler before ours, ours is not put back in front
    // of it (each would pass the other's faults back and forth), and after a `kill -BUS` (std's
    // handler, behind ours, resets the action of SIGBUS, removing the later handler too) the
    // checked reads are still errors.
    common::run_the_rest_in_a_child!();
    let (_file, map, fast) = install_ours_between_recovering_and_passing_on();
    checked_read_of_a_cut(&map);
    if fast {
        assert!(
            PASSED.load(Ordering::SeqCst) >= 1,
            "the fault went through the later handler first"
        );
    }
    let guard = guard_page();
    assert_eq!(touch_guard(guard), 0);
    assert_eq!(
        HITS.load(Ordering::SeqCst),
        1,
        "recovered by the first handler"
    );
    checked_read_of_a_cut(&map);
    assert_eq!(
        action_of(libc::SIGSEGV).sa_sigaction,
        passing_on as *const () as usize,
        "the later handler stays in front"
    );

    kill_this_process(libc::SIGBUS);
    assert_eq!(action_of(libc::SIGBUS).sa_sigaction, libc::SIG_DFL);
    checked_read_of_a_cut(&map);
    checked_read_of_a_cut(&map);
}

#[test]
fn a_reset_of_one_signal_leaves_a_later_handler_of_the_other_in_front() {
    // A handler installed after ours passes both signals on to ours. A `kill -BUS` resets the
    // action of SIGBUS (std's handler, behind ours, does): the next checked read installs ours
    // again for SIGBUS, and must not go in front of the later handler of SIGSEGV, which passes
    // faults on to ours: ours would pass them back to it, and each call the other until the
    // stack overflows. A fault neither's (the first handler's guard page) still reaches the
    // first handler, once.
    common::run_the_rest_in_a_child!();
    install_recovering(libc::SIGSEGV);
    let (_file, map) = truncated_map(4, page_size());
    checked_read_of_a_cut(&map);
    install_passing_on();
    kill_this_process(libc::SIGBUS);
    assert_eq!(action_of(libc::SIGBUS).sa_sigaction, libc::SIG_DFL);
    checked_read_of_a_cut(&map);
    let guard = guard_page();
    assert_eq!(touch_guard(guard), 0);
    assert_eq!(
        HITS.load(Ordering::SeqCst),
        1,
        "recovered by the first handler"
    );
    assert_eq!(
        action_of(libc::SIGSEGV).sa_sigaction,
        passing_on as *const () as usize,
        "the later handler stays in front"
    );
    checked_read_of_a_cut(&map);
    checked_read_of_an_unreadable_page(&map_with_an_unreadable_page().1);
}

/// A `SA_SIGINFO` handler that installs itself again when called (as code written for
/// `sysv_signal` does, first thing), counts the signals a process sent, and exits with 3 on a
/// fault: it knows nothing of ours.
extern "C" fn rearming(sig: libc::c_int, info: *mut libc::siginfo_t, _context: *mut libc::c_void) {
    install(sig, rearming as *const () as usize, libc::SA_SIGINFO, &[]);
    // SAFETY: the kernel's siginfo.
    if unsafe { (*info).si_code } > 0 {
        // SAFETY: ends the process, as a handler may.
        unsafe { libc::_exit(3) };
    }
    SENT.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn a_handler_before_ours_that_installs_itself_again_goes_behind_ours_again() {
    // The handler ours replaced installs itself again when ours passes it a `kill -SEGV`: it then
    // stands in front of ours, knowing nothing of it. The next checked read puts ours back in
    // front, so that the routine's faults stay ours.
    common::run_the_rest_in_a_child!();
    install(
        libc::SIGSEGV,
        rearming as *const () as usize,
        libc::SA_SIGINFO,
        &[],
    );
    let (_file, unreadable) = map_with_an_unreadable_page();
    checked_read_of_an_unreadable_page(&unreadable);
    let fast = mman::install_fault_handler().unwrap();
    kill_this_process(libc::SIGSEGV);
    assert_eq!(SENT.load(Ordering::SeqCst), 1);
    checked_read_of_an_unreadable_page(&unreadable);
    if fast {
        assert_ne!(
            action_of(libc::SIGSEGV).sa_sigaction,
            rearming as *const () as usize,
            "ours, in front again"
        );
    }
    kill_this_process(libc::SIGSEGV);
    assert_eq!(SENT.load(Ordering::SeqCst), 2, "passed on, once");
    checked_read_of_an_unreadable_page(&unreadable);
}

#[test]
fn install_fault_handler_goes_back_in_front_of_a_handler_that_does_not_chain() {
    common::run_the_rest_in_a_child!();
    let (_file, map) = truncated_map(4, page_size());
    checked_read_of_a_cut(&map);
    install_recovering(libc::SIGSEGV);
    install_recovering(libc::SIGBUS);
    // `recovering` would exit with 3 on a fault of the routine: ours goes back in front.
    mman::install_fault_handler().unwrap();
    checked_read_of_a_cut(&map);
    let guard = guard_page();
    assert_eq!(touch_guard(guard), 0);
    assert_eq!(HITS.load(Ordering::SeqCst), 1, "and chains to it");
}

// ---- Deaths that stay deaths -------------------------------------------------------------------

#[test]
fn a_plain_slice_read_of_a_truncated_map_still_dies_of_sigbus() {
    common::run_the_rest_in_a_child!(|child| child.assert_dies_of(libc::SIGBUS));
    let (_file, map) = truncated_map(4, page_size());
    checked_read_of_a_cut(&map);
    black_box(black_box(&map[..])[2 * page_size()]);
    unreachable!("SIGBUS");
}

#[test]
fn a_fault_on_the_destination_is_not_turned_into_a_short_read() {
    // The destination is `&mut [u8]`: only a broken promise (a truncated `MmapMut`) makes it
    // fault. That is the caller's bug, and dies as a plain write would (the kernel's copy would
    // report a short read).
    common::run_the_rest_in_a_child!(|child| {
        if !mman::install_fault_handler().unwrap() {
            common::not_run!("this build copies through the kernel, which reports a short read");
            return;
        }
        child.assert_dies_of(libc::SIGBUS);
    });
    let source = pattern_file(4 * page_size());
    // SAFETY: the source is not truncated.
    let source = unsafe { Mmap::map(source.as_file()).unwrap() };
    let target = pattern_file(4 * page_size());
    // SAFETY: truncated below on purpose: the test is that writing into it kills the process.
    let mut dst = unsafe { MmapOptions::new().map_mut(target.as_file()).unwrap() };
    target.as_file().set_len(page_size() as u64).unwrap();
    let result = source.read_at(&mut dst[..], 0);
    println!("read_at returned {result:?}");
}

/// Blocks (`how` = `SIG_BLOCK`) or unblocks (`SIG_UNBLOCK`) `SIGBUS` and `SIGSEGV` in this thread.
fn mask_faults(how: libc::c_int) {
    // SAFETY: valid set operations on a local set; this thread's own mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGBUS);
        libc::sigaddset(&mut set, libc::SIGSEGV);
        assert_eq!(libc::pthread_sigmask(how, &set, std::ptr::null_mut()), 0);
    }
}

#[test]
fn short_reads_in_a_thread_started_with_the_faults_blocked_go_through_the_kernel() {
    // A program that blocks every signal before starting its threads (one thread then takes them
    // with `sigwait`): its threads block SIGBUS and SIGSEGV from their start, and a fault the
    // kernel cannot deliver kills the process. Their checked reads, short ones included, copy
    // through the kernel; once a thread unblocks them, its reads are the routine's again.
    common::run_the_rest_in_a_child!();
    let (_file, map) = truncated_map(4, page_size());
    let (_unreadable_file, unreadable) = map_with_an_unreadable_page();
    mask_faults(libc::SIG_BLOCK);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            assert!(blocked(libc::SIGBUS) && blocked(libc::SIGSEGV));
            for _ in 0..2 {
                checked_read_of_a_cut(&map);
                checked_read_of_an_unreadable_page(&unreadable);
            }
            mask_faults(libc::SIG_UNBLOCK);
            checked_read_of_a_cut(&map);
            checked_read_of_an_unreadable_page(&unreadable);
        });
    });
}

/// The maps [`on_a_small_c_thread`] reads, set before the thread starts.
static SMALL_THREAD_MAPS: std::sync::OnceLock<(Mmap, MmapRaw)> = std::sync::OnceLock::new();

/// A thread's start routine: checked reads of [`SMALL_THREAD_MAPS`], which fault.
extern "C" fn on_a_small_c_thread(_: *mut libc::c_void) -> *mut libc::c_void {
    let (cut, unreadable) = SMALL_THREAD_MAPS.get().unwrap();
    for _ in 0..3 {
        checked_read_of_a_cut(cut);
        checked_read_of_an_unreadable_page(unreadable);
    }
    std::ptr::null_mut()
}

#[test]
fn checked_reads_on_a_small_thread_without_an_alternate_stack_are_errors_not_deaths() {
    // A thread made by C code (`pthread_create`), with a small stack (16 KiB, or the C library's
    // least if more) and no alternate signal stack (std gives its own threads one): the handler
    // runs on the thread's stack, and the faults of the routine are still errors.
    common::run_the_rest_in_a_child!();
    let (_file, cut) = truncated_map(4, page_size());
    let (_unreadable_file, unreadable) = map_with_an_unreadable_page();
    checked_read_of_a_cut(&cut);
    assert!(SMALL_THREAD_MAPS.set((cut, unreadable)).is_ok());
    // SAFETY: the attributes are initialized before use and destroyed after; the start
    // routine has the signature pthread_create wants, and reads statics set above.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        assert_eq!(libc::pthread_attr_init(&mut attr), 0);
        // The C library's least (glibc's leaves room for a signal frame; musl's is 2 KiB,
        // which no Rust code fits in), and no less than 16 KiB.
        let least = usize::try_from(libc::sysconf(libc::_SC_THREAD_STACK_MIN)).unwrap_or(0);
        let size = least
            .max(libc::PTHREAD_STACK_MIN)
            .max(16 << 10)
            .next_multiple_of(page_size());
        assert_eq!(libc::pthread_attr_setstacksize(&mut attr, size), 0);
        let mut thread: libc::pthread_t = std::mem::zeroed();
        let started = libc::pthread_create(
            &mut thread,
            &attr,
            on_a_small_c_thread,
            std::ptr::null_mut(),
        );
        assert_eq!(started, 0);
        assert_eq!(libc::pthread_join(thread, std::ptr::null_mut()), 0);
        libc::pthread_attr_destroy(&mut attr);
        println!("a thread of {size} bytes of stack");
    }
}

#[test]
fn std_still_reports_a_stack_overflow() {
    common::run_the_rest_in_a_child!(|child| {
        let output = child.assert_dies_of(libc::SIGABRT);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("has overflowed its stack"), "{stderr}");
    });
    let (_file, map) = truncated_map(4, page_size());
    checked_read_of_a_cut(&map);
    #[allow(unconditional_recursion)]
    fn recurse(depth: u64) -> u64 {
        let frame = black_box([depth as u8; 256]);
        recurse(black_box(depth + 1)) + u64::from(frame[0])
    }
    // On a thread of std's, which has its guard page and alternate signal stack.
    std::thread::spawn(|| recurse(0)).join().unwrap();
    unreachable!("stack overflow");
}

// ---- The application's decision, at run time ---------------------------------------------------

/// Asserts that `got` is `want`, field by field: handler, flags, mask (every signal), restorer
/// (where the kernel uses it).
fn assert_same_action(got: &libc::sigaction, want: &libc::sigaction, what: &str) {
    let members = |action: &libc::sigaction| -> Vec<libc::c_int> {
        (1..=libc::SIGRTMAX())
            // SAFETY: a valid set.
            .filter(|&sig| unsafe { libc::sigismember(&action.sa_mask, sig) } == 1)
            .collect()
    };
    // The restorer counts where the kernel returns through it: on x86-64, where the C library
    // installs its own (with `SA_RESTORER`). On aarch64 the kernel returns through its vDSO, and
    // `sigaction` reads back whatever the field was left holding (glibc passes it uninitialized).
    let restorer = |action: &libc::sigaction| {
        action
            .sa_restorer
            .filter(|_| cfg!(target_arch = "x86_64"))
            .map(|f| f as usize)
    };
    assert_eq!(
        (got.sa_sigaction, got.sa_flags, members(got), restorer(got)),
        (
            want.sa_sigaction,
            want.sa_flags,
            members(want),
            restorer(want)
        ),
        "{what}: (handler, flags, mask, restorer)"
    );
}

/// The actions of `SIGBUS` and `SIGSEGV` now.
fn actions() -> [libc::sigaction; 2] {
    [action_of(libc::SIGBUS), action_of(libc::SIGSEGV)]
}

/// A component's `SIGSEGV` action with every flag our handler takes from the one it replaces, and
/// a mask with a real-time signal (past the first 32).
fn install_a_component_for_sigsegv() {
    let flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_RESTART | libc::SA_NODEFER;
    let mask = [libc::SIGUSR1, libc::SIGUSR2, libc::SIGRTMIN() + 3];
    install(
        libc::SIGSEGV,
        recovering as *const () as usize,
        flags,
        &mask,
    );
}

#[test]
fn disable_fault_handler_keeps_it_from_being_installed() {
    common::run_the_rest_in_a_child!();
    let before = actions();
    mman::disable_fault_handler();
    let (_file, map) = truncated_map(4, page_size());
    let (_unreadable_file, unreadable) = map_with_an_unreadable_page();
    checked_read_of_a_cut(&map);
    checked_read_of_an_unreadable_page(&unreadable);
    for (got, want) in actions().iter().zip(&before) {
        assert_same_action(got, want, "after checked reads, disabled");
    }
    // Asked for, it is installed again.
    let fast = mman::install_fault_handler().unwrap();
    assert_eq!(
        action_of(libc::SIGSEGV).sa_sigaction != before[1].sa_sigaction,
        fast
    );
    checked_read_of_a_cut(&map);
    checked_read_of_an_unreadable_page(&unreadable);
}

#[test]
fn uninstall_fault_handler_restores_exactly_the_actions_it_replaced() {
    common::run_the_rest_in_a_child!();
    install_a_component_for_sigsegv();
    let before = actions();
    let (_file, map) = truncated_map(4, page_size());
    let (_unreadable_file, unreadable) = map_with_an_unreadable_page();
    let guard = guard_page();
    for round in 0..2 {
        // The first checked read installs ours, then an explicit call does.
        checked_read_of_a_cut(&map);
        let fast = mman::install_fault_handler().unwrap();
        if fast {
            // Ours, with the flags and mask of the component's action (but SA_SIGINFO).
            let ours = action_of(libc::SIGSEGV);
            assert_ne!(ours.sa_sigaction, before[1].sa_sigaction);
            let mut like_it = before[1];
            like_it.sa_sigaction = ours.sa_sigaction;
            assert_same_action(&ours, &like_it, "ours, in place of the component's");
        }
        checked_read_of_an_unreadable_page(&unreadable);
        assert_eq!(touch_guard(guard), 0, "the component recovers the fault");
        protect_guard();

        assert_eq!(
            mman::uninstall_fault_handler().unwrap(),
            fast,
            "round {round}"
        );
        for (got, want) in actions().iter().zip(&before) {
            assert_same_action(got, want, "restored");
        }
        // Removed, it stays so: the checked reads go through the kernel.
        checked_read_of_a_cut(&map);
        checked_read_of_an_unreadable_page(&unreadable);
        for (got, want) in actions().iter().zip(&before) {
            assert_same_action(got, want, "after checked reads, removed");
        }
        assert!(!mman::uninstall_fault_handler().unwrap(), "removed already");
        mman::install_fault_handler().unwrap();
    }
}

#[test]
fn uninstall_fault_handler_leaves_a_later_handler_in_place() {
    // A handler installed after ours may pass faults on to ours: removing ours would remove it
    // (restoring what ours replaced). The call refuses, and changes nothing.
    common::run_the_rest_in_a_child!();
    let (_file, map, fast) = install_ours_between_recovering_and_passing_on();
    match mman::uninstall_fault_handler() {
        Err(error) => {
            assert!(fast, "{error}");
            assert_eq!(error.kind(), std::io::ErrorKind::Other);
            let text = error.to_string();
            assert!(
                text.starts_with(
                    "uninstall_fault_handler: the action of SIGBUS is another handler"
                ) && text.contains("installed after ours"),
                "{text}"
            );
        }
        Ok(installed) => assert!(!fast && !installed),
    }
    for sig in [libc::SIGBUS, libc::SIGSEGV] {
        assert_eq!(
            action_of(sig).sa_sigaction,
            passing_on as *const () as usize
        );
    }
    let passed = PASSED.load(Ordering::SeqCst);
    checked_read_of_a_cut(&map);
    if fast {
        assert!(
            PASSED.load(Ordering::SeqCst) > passed,
            "still fixed, through it"
        );
    }
}

#[test]
#[cfg(target_os = "linux")]
fn uninstall_fault_handler_where_membarrier_is_denied_fails_and_keeps_it() {
    // A seccomp filter (a container's profile) denies membarrier, which the removal needs to see
    // every thread's copies in progress: the call fails, and the handler stays installed, unused;
    // the checked reads go through the kernel, and asked for, it is used again.
    common::run_the_rest_in_a_child!();
    let (_file, map) = truncated_map(4, page_size());
    let (_unreadable_file, unreadable) = map_with_an_unreadable_page();
    checked_read_of_a_cut(&map);
    let fast = mman::install_fault_handler().unwrap();
    let installed = actions();
    common::deny_syscalls(&[libc::SYS_membarrier], libc::EPERM as u32);
    match mman::uninstall_fault_handler() {
        Err(error) => {
            assert!(fast, "{error}");
            assert_eq!(error.kind(), std::io::ErrorKind::PermissionDenied);
            let text = error.to_string();
            assert!(
                text.starts_with("uninstall_fault_handler: membarrier"),
                "{text}"
            );
        }
        Ok(removed) => assert!(!fast && !removed),
    }
    for (got, want) in actions().iter().zip(&installed) {
        assert_same_action(got, want, "kept");
    }
    checked_read_of_a_cut(&map);
    checked_read_of_an_unreadable_page(&unreadable);
    assert_eq!(mman::install_fault_handler().unwrap(), fast);
    checked_read_of_a_cut(&map);
    checked_read_of_an_unreadable_page(&unreadable);
}

/// Sets its flag when dropped: a thread that stops (also by a failed assertion) says so.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Removes the handler and installs it again, 50 times, each time after the readers made two more
/// checked reads (`reads` counts them); `fast` is what both calls must return. Fails, rather than
/// waits forever, once a reader stopped (`stopped`).
fn remove_and_install_between_reads(fast: bool, reads: &AtomicUsize, stopped: &AtomicBool) {
    let two_more_reads = || {
        let start = reads.load(Ordering::SeqCst);
        while reads.load(Ordering::SeqCst) < start + 2 {
            assert!(!stopped.load(Ordering::SeqCst), "a reader stopped");
            std::thread::yield_now();
        }
    };
    for round in 0..50 {
        two_more_reads();
        assert_eq!(mman::uninstall_fault_handler().unwrap(), fast, "{round}");
        two_more_reads();
        assert_eq!(mman::install_fault_handler().unwrap(), fast);
    }
}

#[test]
fn removing_the_handler_while_threads_copy_kills_none() {
    // Two threads make checked reads that copy a little under 1 MiB and fault at its end, without
    // pause; meanwhile the handler is removed and installed again, 50 times, each time after the
    // readers have made two more reads. A copy that read "installed" and faults after the replaced
    // action is back (std's, which resets to the default and lets the fault run again) would die
    // of SIGBUS: the removal waits for the copies in progress.
    common::run_the_rest_in_a_child!(|child| {
        let output = child.assert_passes();
        print!("{}", String::from_utf8_lossy(&output.stdout));
    });
    let page = page_size();
    let pages = (1 << 20) / page;
    let (_file, map) = truncated_map(pages, (pages - 8) * page);
    let done = AtomicBool::new(false);
    let reads = AtomicUsize::new(0);
    let fast = mman::install_fault_handler().unwrap();
    let stopped = AtomicBool::new(false);
    std::thread::scope(|scope| {
        // The readers stop when this ends, also by a failed assertion (or a failed spawn).
        let _done = SetOnDrop(&done);
        for _ in 0..2 {
            scope.spawn(|| {
                let _stopped = SetOnDrop(&stopped);
                let mut buf = vec![0u8; (pages - 1) * page];
                while !done.load(Ordering::SeqCst) {
                    // The bytes before the cut: a short count, after a fault on the cut.
                    let copied = map.read_at(&mut buf, 0).unwrap();
                    assert_eq!(copied, (pages - 8) * page);
                    reads.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
        remove_and_install_between_reads(fast, &reads, &stopped);
    });
    let reads = reads.into_inner();
    println!("{reads} checked reads while the handler was removed and installed 50 times");
}

#[test]
fn removing_the_handler_in_a_forked_child_waits_for_the_copies_of_the_thread_that_forked() {
    // After `fork`, the child's one thread is the one that forked, with the count of copies it
    // took in the parent; the counts of the parent's other threads are copies no thread of the
    // child lowers. In the child, the forking thread makes checked reads that fault at their end,
    // without pause, while a thread started in the child removes the handler and installs it
    // again, 50 times: the removal must wait for the forking thread's copies (a copy that faults
    // after std's action is back dies of SIGBUS).
    common::run_the_rest_in_a_child!();
    let page = page_size();
    let pages = (1 << 20) / page;
    let (_file, map) = truncated_map(pages, (pages - 8) * page);
    let fast = mman::install_fault_handler().unwrap();
    let mut buf = vec![0u8; (pages - 1) * page];
    // This thread's count is taken here, in the parent.
    assert_eq!(map.read_at(&mut buf, 0).unwrap(), (pages - 8) * page);
    // SAFETY: the child runs the code below, then `_exit`; no other thread here can hold a lock the
    // child takes (the test harness's main thread waits for this test).
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let passed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let done = AtomicBool::new(false);
            let reads = AtomicUsize::new(0);
            let stopped = AtomicBool::new(false);
            std::thread::scope(|scope| {
                scope.spawn(|| {
                    // The reader stops when this ends, also by a failed assertion.
                    let _done = SetOnDrop(&done);
                    remove_and_install_between_reads(fast, &reads, &stopped);
                });
                let _stopped = SetOnDrop(&stopped);
                while !done.load(Ordering::SeqCst) {
                    let copied = map.read_at(&mut buf, 0).unwrap();
                    assert_eq!(copied, (pages - 8) * page);
                    reads.fetch_add(1, Ordering::SeqCst);
                }
            });
        }));
        // SAFETY: leaves the child without running the parent's test harness any further.
        unsafe { libc::_exit(if passed.is_ok() { 0 } else { 1 }) };
    }
    let mut status = 0;
    // SAFETY: waits for the child forked above.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    let status = std::process::ExitStatus::from_raw(status);
    assert_eq!(status.code(), Some(0), "the forked child: {status}");
}

// ---- A sanitizer in the process ----------------------------------------------------------------

/// Set (to 1) by `.ci/run`'s AddressSanitizer step, whose build has ASan: the test below expects
/// ASan's reports.
const UNDER_ASAN: &str = "MMAN_TEST_ASAN";

#[test]
fn address_sanitizer_still_reports_after_a_checked_read() {
    // AddressSanitizer installs its SIGSEGV/SIGBUS handler at start-up; the first checked read
    // installs ours in front of it. ASan still reports an out-of-bounds read (which it finds
    // without a signal), and a fault that is not the routine's (passed on by ours). With
    // `handle_segv=2` (or `allow_user_segv_handler=0`) ASan keeps SIGSEGV to itself and drops our
    // `sigaction`: `install_fault_handler` says so, and the checked reads go through the kernel.
    common::run_the_rest_in_a_child!(|child| {
        if std::env::var_os(UNDER_ASAN).is_none() {
            common::not_run!(
                "set {UNDER_ASAN}=1 in a build with -Zsanitizer=address (.ci/run does)"
            );
            return;
        }
        for (wild, report) in [
            (false, "ERROR: AddressSanitizer: heap-buffer-overflow"),
            (true, "ERROR: AddressSanitizer: SEGV on unknown address"),
        ] {
            let mut command = child.command();
            if wild {
                command.env("MMAN_TEST_WILD_READ", "1");
            }
            let output = command.output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                !output.status.success() && stderr.contains(report),
                "{}\n{}\n{stderr}",
                output.status,
                String::from_utf8_lossy(&output.stdout)
            );
        }
        let options = std::env::var("ASAN_OPTIONS").unwrap_or_default();
        for exclusive in ["handle_segv=2", "allow_user_segv_handler=0"] {
            common::assert_passes(
                child
                    .command()
                    .env("ASAN_OPTIONS", format!("{options}:{exclusive}")),
            );
        }
    });
    let asan = action_of(libc::SIGSEGV).sa_sigaction;
    assert!(
        asan != libc::SIG_DFL && asan != libc::SIG_IGN,
        "ASan's handler"
    );
    let (_file, map) = truncated_map(4, page_size());
    checked_read_of_a_cut(&map);
    // ASan's options that keep SIGSEGV or SIGBUS to itself.
    let exclusive = std::env::var("ASAN_OPTIONS").is_ok_and(|options| {
        [
            "handle_segv=2",
            "handle_sigbus=2",
            "allow_user_segv_handler=0",
        ]
        .iter()
        .any(|exclusive| options.contains(exclusive))
    });
    let installed = mman::install_fault_handler();
    if exclusive {
        let error = installed.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::Unsupported, "{error}");
        println!("refused: {error}");
        assert_eq!(action_of(libc::SIGSEGV).sa_sigaction, asan, "ASan's, still");
        checked_read_of_a_cut(&map);
        return;
    }
    assert!(installed.unwrap());
    assert_ne!(
        action_of(libc::SIGSEGV).sa_sigaction,
        asan,
        "ours, in front"
    );
    if std::env::var_os("MMAN_TEST_WILD_READ").is_some() {
        touch_guard(guard_page());
    } else {
        let bytes = black_box(vec![1u8; 16]);
        // SAFETY: none: the out-of-bounds read ASan must report.
        let byte = unsafe { *bytes.as_ptr().add(black_box(24)) };
        println!("read {byte} out of bounds, unreported");
    }
    unreachable!("ASan ends the process");
}
