//! The checked copy of `read_at` and `MmapReader`: on x86-64 and aarch64 Linux a fault-fixup copy
//! with a `SIGBUS`/`SIGSEGV` handler, elsewhere `process_vm_readv`. It gives the same results as
//! the kernel's copy at every edge, and survives a file truncated and extended under it while
//! threads copy. How the handler lives with the process's other signal handlers is
//! `fault_handler.rs`'s.

mod common;

use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::pattern_byte as pattern;
use common::{failed_byte, pattern_file, truncated_map};
use mman::{page_size, Mmap, MmapOptions, Protection};

/// The lengths the copy routine treats differently (0..16 in 8-, 4- and 1-byte moves, 16..=64 in
/// overlapping 16-byte moves, up to 2 KiB in a loop, then `rep movsb`), each side of every limit.
/// The tests add the page's edges, whatever the page size.
const LENS: &[usize] = &[
    0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000, 2047, 2048,
    2049,
];

/// The handler is installed exactly where the build has the fault-fixup copy: x86-64 and aarch64
/// Linux and Android (64-bit pointers), unless built with `--cfg mman_no_fault_handler`, the
/// user's opt-out. The opt-out must hold however the build was reached: `.ci/run` also runs this
/// test after adding the `cfg` to a `--target` build that Cargo 1.77 already made without it
/// (whose build script Cargo does not run again: a capability the build script derives from the
/// `cfg` would stay as it was).
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
    common::run_the_rest_in_a_child!();
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
        common::not_run!("this build copies through the kernel");
        return;
    }
    for &len in LENS.iter().filter(|&&len| len > 0) {
        for offset in [2 * page - len / 2, 2 * page + 1 - len] {
            buf.fill(0);
            let copied = 2 * page - offset;
            let at = format!("len {len} at {offset}");
            match map.read_at(&mut buf[..len], offset) {
                Ok(n) => assert_eq!(n, copied, "{at}: up to the cut"),
                Err(error) => {
                    assert_eq!(copied, 0, "{at}: {error}");
                    assert_eq!(failed_byte(&error), Some(2 * page), "{at}: {error}");
                }
            }
            assert!(
                buf[..copied].iter().enumerate().all(|(i, &b)| b
                    == if offset + i < page + 10 {
                        pattern(offset + i)
                    } else {
                        0
                    }),
                "{at}: the bytes before the cut"
            );
            let error = map.read_exact_at(&mut buf[..len], offset).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::UnexpectedEof, "{at}: {error}");
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
        .chain([page - 1, page, page + 1, 3 * page, 6 * page]);
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

    // The edges, spelled out: a short count up to the PROT_NONE page, then the error.
    let mut buf = vec![0u8; 2 * page];
    assert_eq!(map.read_at(&mut buf, page + 10).unwrap(), page - 10);
    assert!(buf[..page - 10]
        .iter()
        .enumerate()
        .all(|(i, &b)| b == pattern(page + 10 + i)));
    let error = map.read_at(&mut buf, 2 * page).unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::UnexpectedEof,
        "the PROT_NONE page: {error}"
    );
    assert_eq!(failed_byte(&error), Some(2 * page));
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
    assert_eq!(
        map.read_at(&mut buf, 4 * page + 1).unwrap(),
        page - 1,
        "up to the end of the file's last page"
    );
    let error = map.read_at(&mut buf, 5 * page).unwrap_err();
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
    assert_eq!(map.read_at(&mut buf, 6 * page + 1).unwrap(), 0, "past it");
}

/// Reads `len` bytes at `offset` of `map` with `read_at` and through the kernel, and asserts the
/// same result and the same bytes, and that `read_exact_at` fills the buffer exactly where
/// `read_at` copies all of it. The destination starts 0 to 15 bytes into a buffer (which changes
/// with the offset and the length), and nothing of the buffer around it is written.
fn assert_same_as_the_kernels(map: &mman::MmapRaw, offset: usize, len: usize) {
    let shift = (offset / 16 + len) % 16;
    let (mut fast, mut kernel) = (vec![0xaa; len + 16], vec![0xaa; len + 16]);
    let got = map.read_at(&mut fast[shift..shift + len], offset);
    let want = map.read_at_via_kernel(&mut kernel[shift..shift + len], offset);
    let at = format!("offset {offset}, len {len}");
    match (&got, &want) {
        (Ok(got), Ok(want)) => assert_eq!(got, want, "{at}"),
        (Err(got), Err(want)) => {
            assert_eq!(
                (got.kind(), got.to_string()),
                (want.kind(), want.to_string()),
                "{at}"
            );
            assert_eq!(failed_byte(got), Some(offset), "{at}: nothing copied");
        }
        _ => panic!("{at}: {got:?} where the kernel's copy gives {want:?}"),
    }
    assert_eq!(fast, kernel, "{at}: the bytes, and nothing past them");
    let mut exact = vec![0xaa; len + 16];
    let full = matches!(got, Ok(n) if n == len);
    match map.read_exact_at(&mut exact[shift..shift + len], offset) {
        Ok(()) => assert!(
            full,
            "{at}: read_exact_at filled where read_at gave {got:?}"
        ),
        Err(error) => {
            assert!(!full, "{at}: {error}");
            assert_eq!(error.kind(), ErrorKind::UnexpectedEof, "{at}: {error}");
        }
    }
    if full {
        assert_eq!(exact, kernel, "{at}: read_exact_at's bytes");
    }
}

/// Every length the copy treats differently, from every offset of the 130 bytes before a page that
/// cannot be read (and the first bytes of it): each wide load that straddles the edge, at every
/// alignment. Where the processor reports such a load's fault at an address other than the first
/// byte that cannot be read (aarch64 may give the first byte of the access, in the page before),
/// the count still ends at that first byte.
#[test]
fn read_at_stops_at_the_first_unreadable_byte_from_every_offset_before_it() {
    let page = page_size();
    // Six pages: page 2 PROT_NONE (SIGSEGV), the file cut at page 4 (SIGBUS from there).
    let file = pattern_file(6 * page);
    let map = MmapOptions::new().map_raw(file.as_file()).unwrap();
    map.protect_range(2 * page, page, Protection::empty())
        .unwrap();
    file.as_file().set_len((4 * page) as u64).unwrap();
    let lens = LENS
        .iter()
        .copied()
        .chain([page - 1, page, page + 1, 2 * page + 100]);
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
            assert_eq!(map.read_at(&mut buf, 0).unwrap(), pages / 2 * page);
            assert!(buf[..pages / 2 * page]
                .iter()
                .enumerate()
                .all(|(i, &b)| b == pattern(i)));
            // 1 MiB from the cut: a fault at the first byte, also checked through the kernel.
            let error = map.read_at(&mut buf, pages / 2 * page).unwrap_err();
            assert_eq!(failed_byte(&error), Some(pages / 2 * page), "{error}");
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
    // Valgrind's lock between threads is not fair either: a copier, which makes no system call,
    // takes it back as soon as it gives it up, and the cutter could wait a minute for a cut; there
    // the copiers yield after each copy.
    let valgrind = common::under_valgrind();
    let least = if valgrind { 10 } else { 100 };
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
                    if valgrind {
                        std::thread::yield_now();
                    }
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
                                assert_eq!(failed_byte(&error), Some(offset), "{error}");
                                failed.fetch_add(1, Ordering::Relaxed);
                                0
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
