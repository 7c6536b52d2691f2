//! The checked copy of `read_at` and `MmapReader`: on x86-64 and aarch64 Linux a fault-fixup copy
//! with a `SIGBUS`/`SIGSEGV` handler, elsewhere `process_vm_readv`. It gives the same results as the
//! kernel's copy at every edge, survives a file truncated and extended under it while threads
//! copy, and leaves every other fault as it was: handlers installed before or after it still get
//! theirs, std's stack-overflow message still appears, and a plain read of a truncated map still
//! dies of `SIGBUS`. The tests that install handlers or die run in a child process.

mod common;

use std::hint::black_box;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::os::unix::process::ExitStatusExt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mman::{page_size, Mmap, MmapOptions, Protection};

/// The byte at `index` of the test files: never 0, so a 0 read is a page the file no longer
/// backs (zeros after a truncation and an extension), never a pattern byte.
fn pattern(index: usize) -> u8 {
    (index % 251) as u8 + 1
}

/// A temporary file of `len` pattern bytes.
fn pattern_file(len: usize) -> tempfile::NamedTempFile {
    common::named_file_of(&(0..len).map(pattern).collect::<Vec<u8>>())
}

/// A map of `pages` pattern pages, every page read in, then the file truncated to `keep` bytes
/// from another handle. Not kept past a test; the bytes past `keep` are read only by checked
/// copies (or, in the tests that die of it, on purpose).
fn truncated_map(pages: usize, keep: usize) -> (tempfile::NamedTempFile, Mmap) {
    let file = pattern_file(pages * page_size());
    // SAFETY: truncated below on purpose; see above.
    let map = unsafe { Mmap::map(file.as_file()).unwrap() };
    assert_eq!(
        map[pages * page_size() - 1],
        pattern(pages * page_size() - 1)
    );
    std::fs::OpenOptions::new()
        .write(true)
        .open(file.path())
        .unwrap()
        .set_len(keep as u64)
        .unwrap();
    (file, map)
}

/// The lengths the copy routine treats differently (0..16 in 8-, 4- and 1-byte moves, 16..=64 in
/// overlapping 16-byte moves, up to 2 KiB in a loop, then `rep movsb`), each side of every limit.
const LENS: &[usize] = &[
    0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000, 2047, 2048,
    2049, 4095, 4096, 4097,
];

/// The handler is installed exactly where the build has the fault-fixup copy: x86-64 and aarch64
/// Linux and Android (64-bit pointers), unless built with `--cfg mman_no_fault_handler`, the
/// user's opt-out. The opt-out must
/// hold however the build was reached: `.ci/run` also runs this test after adding the `cfg` to a
/// `--target` build that Cargo 1.77 already made without it (whose build script Cargo does not
/// run again: a capability the build script derives from the `cfg` would stay as it was).
#[test]
fn the_fault_handler_is_installed_exactly_where_the_build_has_it() {
    let expected = cfg!(all(
        any(target_arch = "x86_64", target_arch = "aarch64"),
        target_pointer_width = "64",
        any(target_os = "linux", target_os = "android"),
        not(mman_no_fault_handler)
    ));
    assert_eq!(mman::install_fault_handler().unwrap(), expected);
}

/// Where the build has the fault-fixup copy, a checked read makes no system call: with
/// `process_vm_readv` denied (a seccomp filter, as a container's profile may set), a read across
/// the cut of a truncated file still copies every byte before it, at each length the routine
/// treats differently. Where the build has no routine, the read reports the denial.
#[test]
#[cfg(target_os = "linux")]
fn checked_reads_make_no_system_call_where_the_build_has_the_routine() {
    const TEST: &str = "checked_reads_make_no_system_call_where_the_build_has_the_routine";
    if !common::in_child(TEST) {
        common::assert_success(&mut common::child(TEST));
        return;
    }
    let page = page_size();
    let (_file, map) = truncated_map(4, page + 10);
    let fast = mman::install_fault_handler().unwrap();
    common::deny_syscalls(&[libc::SYS_process_vm_readv], libc::EPERM as u32);
    let mut buf = vec![0u8; 3 * page];
    let denied = map.read_at_via_kernel(&mut buf, 0).unwrap_err();
    assert_eq!(mman::raw_os_error(&denied), Some(libc::EPERM), "{denied}");
    if !fast {
        let denied = map.read_at(&mut buf, 0).unwrap_err();
        assert_eq!(mman::raw_os_error(&denied), Some(libc::EPERM), "{denied}");
        println!("not run: this build copies through the kernel");
        return;
    }
    for &len in LENS.iter().filter(|&&len| len > 0) {
        for offset in [2 * page - len / 2, 2 * page + 1 - len] {
            buf.fill(0);
            let error = map.read_at(&mut buf[..len], offset).unwrap_err();
            assert_eq!(failed_byte(&error), Some(2 * page), "len {len}: {error}");
            let copied = 2 * page - offset;
            assert!(
                buf[..copied].iter().enumerate().all(|(i, &b)| b
                    == if offset + i < page + 10 {
                        pattern(offset + i)
                    } else {
                        0
                    }),
                "len {len} at {offset}: the bytes before the cut"
            );
        }
    }
    let mut reader = map.reader();
    let mut bytes = Vec::new();
    let error = reader.read_to_end(&mut bytes).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::UnexpectedEof, "{error}");
    assert_eq!(bytes.len(), 2 * page);
}

#[test]
fn read_at_gives_the_kernel_copys_results_at_every_edge() {
    let page = page_size();
    // Six pages: page 2 PROT_NONE, the file cut 100 bytes into page 4 (the rest of page 4 reads
    // as zeros, page 5 raises SIGBUS).
    let file = pattern_file(6 * page);
    let map = MmapOptions::new().map_raw(file.as_file()).unwrap();
    map.protect_range(2 * page, page, Protection::empty())
        .unwrap();
    file.as_file().set_len((4 * page + 100) as u64).unwrap();

    let lens = LENS
        .iter()
        .copied()
        .chain([page - 1, page + 1, 3 * page, 6 * page]);
    let mut checked = 0;
    for len in lens {
        for edge in [
            0,
            page,
            2 * page,
            3 * page,
            4 * page,
            4 * page + 100,
            5 * page,
            6 * page,
        ] {
            for delta in [-70isize, -17, -1, 0, 1, 17] {
                let Some(offset) = edge
                    .checked_add_signed(delta)
                    .filter(|&o| o <= 6 * page + 1)
                else {
                    continue;
                };
                assert_same_as_the_kernels(&map, offset, len);
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "{checked} cases");

    // The edges, spelled out.
    let mut buf = vec![0u8; 2 * page];
    let error = map.read_at(&mut buf, page + 10).unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::UnexpectedEof,
        "the PROT_NONE page: {error}"
    );
    assert_eq!(failed_byte(&error), Some(2 * page));
    assert!(buf[..page - 10]
        .iter()
        .enumerate()
        .all(|(i, &b)| b == pattern(page + 10 + i)));
    assert_eq!(
        map.read_at(&mut buf[..200], 4 * page).unwrap(),
        200,
        "the file's last page is mapped whole"
    );
    assert!(buf[..100]
        .iter()
        .enumerate()
        .all(|(i, &b)| b == pattern(4 * page + i)));
    assert!(
        buf[100..200].iter().all(|&b| b == 0),
        "past the end of the file, in its last page: zeros"
    );
    let error = map.read_at(&mut buf, 4 * page + 1).unwrap_err();
    assert_eq!(
        failed_byte(&error),
        Some(5 * page),
        "past the file's last page: {error}"
    );
    assert_eq!(
        map.read_at(&mut buf, 6 * page).unwrap(),
        0,
        "at the end of the map"
    );
    assert_eq!(
        map.read_at(&mut buf, 6 * page + 1).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

/// Reads `len` bytes at `offset` of `map` with `read_at` and through the kernel, and asserts the
/// same result, and the same bytes before the first that cannot be read. The destination starts
/// 0 to 15 bytes into a buffer (which changes with the offset and the length), and nothing of the
/// buffer around it is written.
fn assert_same_as_the_kernels(map: &mman::MmapRaw, offset: usize, len: usize) {
    let shift = (offset / 16 + len) % 16;
    let (mut fast, mut kernel) = (vec![0xaa; len + 16], vec![0xaa; len + 16]);
    let got = map.read_at(&mut fast[shift..shift + len], offset);
    let want = map.read_at_via_kernel(&mut kernel[shift..shift + len], offset);
    let at = format!("offset {offset}, len {len}");
    match (&got, &want) {
        (Ok(got), Ok(want)) => {
            assert_eq!(got, want, "{at}");
            assert_eq!(fast, kernel, "{at}: the bytes, and nothing past them");
        }
        (Err(got), Err(want)) => {
            assert_eq!(
                (got.kind(), got.to_string()),
                (want.kind(), want.to_string()),
                "{at}"
            );
            // "byte N of the map cannot be read": the bytes before N were copied.
            let copied = failed_byte(got).map_or(0, |byte| byte - offset);
            assert_eq!(
                fast[..shift + copied],
                kernel[..shift + copied],
                "{at}: the bytes before the fault"
            );
        }
        _ => panic!("{at}: {got:?} where the kernel's copy gives {want:?}"),
    }
}

/// Every length the routine treats differently, from every offset of the 130 bytes before a page
/// that cannot be read (and the first bytes of it): each wide load that straddles the edge, at
/// every alignment. Where the processor reports such a load's fault at an address other than the
/// first byte that cannot be read (aarch64 may give any byte of the access in that page), the
/// count still ends at that first byte.
#[test]
fn read_at_stops_at_the_first_unreadable_byte_from_every_offset_before_it() {
    let page = page_size();
    // Six pages: page 2 PROT_NONE (SIGSEGV), the file cut at page 4 (SIGBUS from there).
    let file = pattern_file(6 * page);
    let map = MmapOptions::new().map_raw(file.as_file()).unwrap();
    map.protect_range(2 * page, page, Protection::empty())
        .unwrap();
    file.as_file().set_len((4 * page) as u64).unwrap();
    let lens = LENS.iter().copied().chain([page + 1, 2 * page + 100]);
    let mut checked = 0;
    for len in lens {
        for edge in [2 * page, 4 * page] {
            for offset in edge - 130..edge + 2 {
                assert_same_as_the_kernels(&map, offset, len);
                checked += 1;
            }
        }
    }
    assert!(checked > 7000, "{checked} cases");
}

/// The byte a failed `read_at` names: "read_at: byte N of the map cannot be read".
fn failed_byte(error: &std::io::Error) -> Option<usize> {
    let text = error.to_string();
    text.strip_prefix("read_at: byte ")?
        .split(' ')
        .next()?
        .parse()
        .ok()
}

#[test]
fn the_reader_reads_up_to_the_cut_then_fails() {
    let page = page_size();
    let (_file, map) = truncated_map(4, page + 10);
    let mut reader = map.reader();
    let mut bytes = Vec::new();
    let error = reader.read_to_end(&mut bytes).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::UnexpectedEof, "{error}");
    assert!(
        error
            .to_string()
            .starts_with(&format!("MmapReader::read: byte {}", 2 * page)),
        "{error}"
    );
    assert_eq!(
        bytes.len(),
        2 * page,
        "every byte of the pages the file still backs"
    );
    assert!(bytes[..page + 10]
        .iter()
        .enumerate()
        .all(|(i, &b)| b == pattern(i)));
    assert!(bytes[page + 10..].iter().all(|&b| b == 0));
    assert_eq!(reader.position(), 2 * page as u64);

    // A short read at the cut, then the error.
    reader.seek(SeekFrom::Start(2 * page as u64 - 5)).unwrap();
    let mut buf = [1u8; 64];
    assert_eq!(reader.read(&mut buf).unwrap(), 5);
    assert_eq!(
        reader.read(&mut buf).unwrap_err().kind(),
        ErrorKind::UnexpectedEof
    );

    // Seeking: from the end, from here, before the start; past the end reads nothing.
    assert_eq!(reader.seek(SeekFrom::End(-3)).unwrap(), 4 * page as u64 - 3);
    assert_eq!(
        reader
            .seek(SeekFrom::Current(-(4 * page as i64 - 10)))
            .unwrap(),
        7
    );
    assert_eq!(reader.read(&mut buf[..3]).unwrap(), 3);
    assert_eq!(buf[..3], [pattern(7), pattern(8), pattern(9)]);
    let error = reader.seek(SeekFrom::Current(-11)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(
        error
            .to_string()
            .starts_with("MmapReader::seek: Current(-11) from 10"),
        "{error}"
    );
    assert_eq!(
        reader.stream_position().unwrap(),
        10,
        "a failed seek does not move"
    );
    reader.seek(SeekFrom::Start(u64::MAX)).unwrap();
    assert_eq!(reader.read(&mut buf).unwrap(), 0);
}

#[test]
fn a_long_read_in_a_thread_that_blocks_sigbus_goes_through_the_kernel() {
    // A fault the kernel cannot deliver kills the process; a read of 1 MiB or more checks the
    // signal mask first (a system call it can afford) and lets the kernel copy.
    let page = page_size();
    let pages = (2 << 20) / page;
    let (_file, map) = truncated_map(pages, pages / 2 * page);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            // SAFETY: an empty set, then SIGBUS added: valid sigset_t operations on a local.
            let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
            // SAFETY: as above; this thread's own mask.
            unsafe {
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, libc::SIGBUS);
                assert_eq!(
                    libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()),
                    0
                );
            }
            let mut buf = vec![0u8; pages * page];
            let error = map.read_at(&mut buf, 0).unwrap_err();
            assert_eq!(failed_byte(&error), Some(pages / 2 * page), "{error}");
            assert!(buf[..pages / 2 * page]
                .iter()
                .enumerate()
                .all(|(i, &b)| b == pattern(i)));
        });
    });
}

#[test]
fn copies_survive_a_file_truncated_and_extended_under_them() {
    // One thread cuts the file to a random length and extends it back every 1-2 ms; two threads
    // copy from the map meanwhile, through `read_at` and the reader, at random offsets and
    // lengths. Every byte copied is the file's (its pattern, or 0 where it was cut and extended),
    // and the process lives.
    let page = page_size();
    let len = 64 * page;
    let file = pattern_file(len);
    // SAFETY: the file is truncated under the map on purpose; only checked copies read it.
    let map = unsafe { Mmap::map(file.as_file()).unwrap() };
    let done = AtomicBool::new(false);
    let (short, failed, full) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let started = Instant::now();
    // Valgrind runs one thread at a time, slowly: fewer cuts there. The cuts go on past 3 s until
    // there are that many and the copies have met every outcome (up to a minute: a machine that
    // slow fails the assertions below), so that a loaded machine only makes the test longer.
    let least = if common::under_valgrind() { 10 } else { 100 };
    let cuts = std::thread::scope(|scope| {
        let cutter = scope.spawn(|| {
            let mut rng = fastrand::Rng::with_seed(1);
            let handle = std::fs::OpenOptions::new()
                .write(true)
                .open(file.path())
                .unwrap();
            let mut cuts = 0;
            let met_all = || {
                [&short, &failed, &full]
                    .iter()
                    .all(|count| count.load(Ordering::Relaxed) > 0)
            };
            let enough = |cuts: usize| {
                cuts >= least && met_all() && started.elapsed() >= Duration::from_secs(3)
            };
            while cuts < 600 && !enough(cuts) && started.elapsed() < Duration::from_secs(60) {
                handle.set_len(rng.usize(0..len) as u64).unwrap();
                std::thread::sleep(Duration::from_micros(rng.u64(500..1000)));
                handle.set_len(len as u64).unwrap();
                std::thread::sleep(Duration::from_micros(rng.u64(500..1000)));
                cuts += 1;
            }
            done.store(true, Ordering::Relaxed);
            cuts
        });
        for seed in [2, 3] {
            let (map, done, short, failed, full) = (&map, &done, &short, &failed, &full);
            scope.spawn(move || {
                let mut rng = fastrand::Rng::with_seed(seed);
                let mut buf = vec![0u8; 3 * page];
                let mut reader = map.reader();
                while !done.load(Ordering::Relaxed) {
                    let want = match rng.u8(0..4) {
                        0 => rng.usize(0..64),
                        1 => rng.usize(64..2 * 1024),
                        _ => rng.usize(2 * 1024..=3 * page),
                    };
                    let offset = rng.usize(0..len);
                    let buf = &mut buf[..want];
                    buf.fill(0xee);
                    let copied = if rng.bool() {
                        match map.read_at(buf, offset) {
                            Ok(n) => n,
                            Err(error) => {
                                assert_eq!(error.kind(), ErrorKind::UnexpectedEof, "{error}");
                                failed.fetch_add(1, Ordering::Relaxed);
                                failed_byte(&error).unwrap() - offset
                            }
                        }
                    } else {
                        reader.seek(SeekFrom::Start(offset as u64)).unwrap();
                        match reader.read(buf) {
                            Ok(n) => n,
                            Err(error) => {
                                assert_eq!(error.kind(), ErrorKind::UnexpectedEof, "{error}");
                                failed.fetch_add(1, Ordering::Relaxed);
                                0
                            }
                        }
                    };
                    let expected = want.min(len - offset);
                    if copied == expected {
                        full.fetch_add(1, Ordering::Relaxed);
                    } else {
                        short.fetch_add(1, Ordering::Relaxed);
                    }
                    for (i, &b) in buf[..copied].iter().enumerate() {
                        assert!(
                            b == pattern(offset + i) || b == 0,
                            "byte {} read as {b}",
                            offset + i
                        );
                    }
                }
            });
        }
        cutter.join().unwrap()
    });
    let (full, short, failed) = (full.into_inner(), short.into_inner(), failed.into_inner());
    let seconds = started.elapsed().as_secs_f64();
    println!("{cuts} cuts in {seconds:.1} s: {full} full copies, {short} short, {failed} failed");
    assert!(cuts >= least, "{cuts} cuts");
    assert!(
        short > 0 && failed > 0 && full > 0,
        "the copies met the cuts, and copied between them"
    );
}

// The tests below run in a child process: they install signal handlers or die of a signal.

/// Faults seen by the test's own handlers, and the address they make readable again.
static HITS: AtomicUsize = AtomicUsize::new(0);
static SENT: AtomicUsize = AtomicUsize::new(0);
static GUARD: AtomicUsize = AtomicUsize::new(0);
/// The previous action that `chaining` passes faults to.
static mut CHAINED: Option<libc::sigaction> = None;

/// A page of PROT_NONE anonymous memory (libc's mmap, not this crate's): a fault outside the
/// copy routine. `recovering` makes it readable again.
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
    GUARD.store(ptr as usize, Ordering::SeqCst);
    ptr.cast()
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
    let guard = GUARD.load(Ordering::SeqCst);
    if code <= 0 {
        SENT.fetch_add(1, Ordering::SeqCst);
    } else if guard != 0 && (guard..guard + page_size()).contains(&addr) {
        HITS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: the guard page, mapped by `guard_page`.
        unsafe { libc::mprotect(guard as *mut libc::c_void, page_size(), libc::PROT_READ) };
    } else {
        // SAFETY: ends the process, as a handler may.
        unsafe { libc::_exit(3) };
    }
}

/// A plain handler (no `SA_SIGINFO`) for `SIGBUS` that extends the file whose descriptor is in
/// `HITS`'s neighbour `FD` back to `FD_LEN`, so the faulting read succeeds when it runs again.
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

/// A `SA_SIGINFO` handler installed after ours that counts and chains to the one it replaced.
extern "C" fn chaining(sig: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    HITS.fetch_add(1, Ordering::SeqCst);
    // SAFETY: written before this handler was installed, never after.
    let previous = unsafe { (*std::ptr::addr_of!(CHAINED)).unwrap() };
    assert_ne!(previous.sa_flags & libc::SA_SIGINFO, 0);
    type Action = extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void);
    // SAFETY: an SA_SIGINFO action's handler, called with the kernel's arguments.
    let f = unsafe { std::mem::transmute::<libc::sighandler_t, Action>(previous.sa_sigaction) };
    f(sig, info, context);
}

/// Installs `handler` for `sig` (`SA_SIGINFO` when `siginfo`), returning the action it replaced.
fn install(sig: libc::c_int, handler: usize, siginfo: bool) -> libc::sigaction {
    // SAFETY: all zeros is a valid sigaction; the handlers above have the signatures the flags say.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler;
        action.sa_flags = if siginfo { libc::SA_SIGINFO } else { 0 };
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(sig, &action, &mut old), 0);
        old
    }
}

/// A checked read that fails at the cut of a truncated map: the fault the routine handles.
fn checked_read_of_a_cut(map: &Mmap) {
    let mut buf = vec![0u8; 3 * page_size()];
    let error = map.read_at(&mut buf, 10).unwrap_err();
    assert_eq!(failed_byte(&error), Some(page_size()), "{error}");
    let mut reader = map.reader();
    assert_eq!(reader.read(&mut buf[..100]).unwrap(), 100);
    assert_eq!(buf[..100], (0..100).map(pattern).collect::<Vec<_>>()[..]);
}

#[test]
fn handlers_installed_before_ours_still_get_their_faults() {
    let test = "handlers_installed_before_ours_still_get_their_faults";
    if common::in_child(test) {
        install(libc::SIGSEGV, recovering as *const () as usize, true);
        install(libc::SIGBUS, extending as *const () as usize, false);
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
        // SAFETY: the guard page is mapped; its fault is recovered by `recovering`.
        assert_eq!(unsafe { guard.read_volatile() }, 0);
        assert_eq!(HITS.load(Ordering::SeqCst), 1);
        // A signal a process sends, even with an address-like payload, goes to it too.
        // SAFETY: raise has no memory preconditions; `recovering` counts it.
        unsafe { libc::raise(libc::SIGSEGV) };
        assert_eq!(SENT.load(Ordering::SeqCst), 1);

        // A SIGBUS of a plain slice read reaches the plain handler, which extends the file.
        let handle = std::fs::OpenOptions::new()
            .write(true)
            .open(file.path())
            .unwrap();
        FD.store(
            std::os::fd::AsRawFd::as_raw_fd(&handle) as usize,
            Ordering::SeqCst,
        );
        FD_LEN.store(4 * page_size(), Ordering::SeqCst);
        assert_eq!(
            black_box(&map[..])[3 * page_size()],
            0,
            "extended by the handler: zeros"
        );
        assert_eq!(HITS.load(Ordering::SeqCst), 2);
        println!("fast copy: {fast}");
        return;
    }
    common::assert_success(&mut common::child(test));
}

#[test]
fn a_handler_installed_after_ours_that_chains_works() {
    let test = "a_handler_installed_after_ours_that_chains_works";
    if common::in_child(test) {
        let (_file, map) = truncated_map(4, page_size());
        checked_read_of_a_cut(&map);
        for sig in [libc::SIGBUS, libc::SIGSEGV] {
            let old = install(sig, chaining as *const () as usize, true);
            // SAFETY: before any fault reaches `chaining`; both signals had the same action.
            unsafe { *std::ptr::addr_of_mut!(CHAINED) = Some(old) };
        }
        checked_read_of_a_cut(&map);
        let hits = HITS.load(Ordering::SeqCst);
        if mman::install_fault_handler().unwrap() {
            assert!(hits >= 1, "the fault went through the later handler first");
        }
        return;
    }
    common::assert_success(&mut common::child(test));
}

#[test]
fn install_fault_handler_goes_back_in_front_of_a_handler_that_does_not_chain() {
    let test = "install_fault_handler_goes_back_in_front_of_a_handler_that_does_not_chain";
    if common::in_child(test) {
        let (_file, map) = truncated_map(4, page_size());
        checked_read_of_a_cut(&map);
        install(libc::SIGSEGV, recovering as *const () as usize, true);
        install(libc::SIGBUS, recovering as *const () as usize, true);
        // `recovering` would exit with 3 on a fault of the routine: ours goes back in front.
        mman::install_fault_handler().unwrap();
        checked_read_of_a_cut(&map);
        let guard = guard_page();
        // SAFETY: as in the test before.
        assert_eq!(unsafe { guard.read_volatile() }, 0);
        assert_eq!(HITS.load(Ordering::SeqCst), 1, "and chains to it");
        return;
    }
    common::assert_success(&mut common::child(test));
}

/// Runs `test`'s child part, which must die of `signal`, and returns its stderr.
fn assert_dies_of(test: &str, signal: libc::c_int) -> String {
    let output = common::child(test).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.signal(),
        Some(signal),
        "{}\n{}\n{stderr}",
        output.status,
        String::from_utf8_lossy(&output.stdout)
    );
    stderr
}

#[test]
fn a_plain_slice_read_of_a_truncated_map_still_dies_of_sigbus() {
    let test = "a_plain_slice_read_of_a_truncated_map_still_dies_of_sigbus";
    if common::in_child(test) {
        let (_file, map) = truncated_map(4, page_size());
        checked_read_of_a_cut(&map);
        black_box(black_box(&map[..])[2 * page_size()]);
        unreachable!("SIGBUS");
    }
    assert_dies_of(test, libc::SIGBUS);
}

#[test]
fn a_fault_on_the_destination_is_not_turned_into_a_short_read() {
    // The destination is `&mut [u8]`: only a broken promise (a truncated `MmapMut`) makes it
    // fault. That is the caller's bug, and dies as a plain write would (the kernel's copy would
    // report a short read).
    let test = "a_fault_on_the_destination_is_not_turned_into_a_short_read";
    if common::in_child(test) {
        let source = pattern_file(4 * page_size());
        // SAFETY: the source is not truncated.
        let source = unsafe { Mmap::map(source.as_file()).unwrap() };
        let target = pattern_file(4 * page_size());
        // SAFETY: truncated below on purpose: the test is that writing into it kills the process.
        let mut dst = unsafe { MmapOptions::new().map_mut(target.as_file()).unwrap() };
        target.as_file().set_len(page_size() as u64).unwrap();
        let result = source.read_at(&mut dst[..], 0);
        println!("read_at returned {result:?}");
        return;
    }
    if !mman::install_fault_handler().unwrap() {
        println!("not run: this build copies through the kernel, which reports a short read");
        return;
    }
    assert_dies_of(test, libc::SIGBUS);
}

#[test]
fn a_signal_another_process_sends_is_handled_as_before() {
    // std's own handler, the one before ours, takes a SIGSEGV that a process sends (here `raise`,
    // to this thread): it restores the default action and returns, so the first one is survived
    // and the second kills. The same, with ours in front.
    let test = "a_signal_another_process_sends_is_handled_as_before";
    if common::in_child(test) {
        let (_file, map) = truncated_map(4, page_size());
        if std::env::var_os("MMAP_TEST_WITHOUT_CHECKED_READ").is_none() {
            checked_read_of_a_cut(&map);
        }
        for round in 0..2 {
            // SAFETY: sends a signal to this thread, delivered before raise returns.
            unsafe { libc::raise(libc::SIGSEGV) };
            println!("survived SIGSEGV {round}");
        }
        return;
    }
    let before = common::child(test)
        .env("MMAP_TEST_WITHOUT_CHECKED_READ", "1")
        .output()
        .unwrap();
    let after = common::child(test).output().unwrap();
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
}

#[test]
fn std_still_reports_a_stack_overflow() {
    let test = "std_still_reports_a_stack_overflow";
    if common::in_child(test) {
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
    let stderr = assert_dies_of(test, libc::SIGABRT);
    assert!(stderr.contains("has overflowed its stack"), "{stderr}");
}
