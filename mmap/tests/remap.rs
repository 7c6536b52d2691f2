//! Resizing maps with `remap` (`mremap`): anonymous and file maps, in place and moved, and growth
//! past the end of a file refused, also where `process_vm_readv` is denied; sealed maps grown over
//! holes have them faulted in.

#![cfg(mman_has = "MREMAP_MAYMOVE")]

mod common;

use std::io::ErrorKind;

use common::file_of;
use mman::{page_size, Mmap, MmapMut, MmapOptions, MmapRaw, RemapOptions};

#[test]
fn an_anonymous_map_grows_keeping_its_bytes_and_shrinks() {
    let page = page_size();
    let mut map = MmapMut::map_anon(2 * page).unwrap();
    map[..page].fill(3);
    map[2 * page - 1] = 4;
    map.remap(16 * page, RemapOptions::new().may_move(true))
        .unwrap();
    assert_eq!(map.len(), 16 * page);
    assert!(map[..page].iter().all(|&b| b == 3));
    assert_eq!(map[2 * page - 1], 4);
    assert!(
        map[2 * page..].iter().all(|&b| b == 0),
        "grown bytes of an anonymous map are zeroes"
    );
    map[16 * page - 1] = 5;

    let before = map.as_ptr();
    map.remap(page, RemapOptions::new()).unwrap();
    assert_eq!(
        (map.len(), map.as_ptr()),
        (page, before),
        "shrinking happens in place"
    );
    assert!(map.iter().all(|&b| b == 3));
}

/// A one-page map and a page of the test's own right after it, which no other test can free: two
/// pages are mapped, the map shrunk in place to its first page, and the page it freed taken back at
/// once with `fixed_no_replace`. Tests run in parallel and map too: in the rare case one took the
/// page in between, this starts again elsewhere.
#[cfg(mman_has = "MAP_FIXED_NOREPLACE")]
fn a_page_and_the_next_one(page: usize) -> (MmapMut, MmapMut) {
    for _ in 0..100 {
        let mut map = MmapMut::map_anon(2 * page).unwrap();
        map.remap(page, RemapOptions::new()).unwrap();
        let next = map.as_ptr() as usize + page;
        match MmapOptions::new()
            .len(page)
            .fixed_no_replace(next)
            .map_anon()
        {
            Ok(blocker) => return (map, blocker),
            Err(error) if error.kind() == ErrorKind::AlreadyExists => continue,
            Err(error) => panic!("the page after the map: {error}"),
        }
    }
    panic!("another test took the page right after the map 100 times in a row");
}

#[test]
#[cfg(mman_has = "MAP_FIXED_NOREPLACE")]
fn growing_in_place_fails_when_the_next_pages_are_taken() {
    if common::skip_under_valgrind("MAP_FIXED_NOREPLACE, which valgrind takes for a hint") {
        return;
    }
    let page = page_size();
    // The blocker is this test's until the end: the page after the map stays taken throughout.
    let (mut map, blocker) = a_page_and_the_next_one(page);
    map[0] = 9;
    assert_eq!(blocker.as_ptr() as usize, map.as_ptr() as usize + page);

    let error = map.remap(2 * page, RemapOptions::new()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::OutOfMemory, "{error}");
    let message = error.to_string();
    assert!(
        message.starts_with("remap: no room to grow the map in place"),
        "{message}"
    );
    assert!(message.contains("may_move(true)"), "{message}");
    assert_eq!(
        (map.len(), map[0]),
        (page, 9),
        "a failed remap leaves the map as it was"
    );

    let old = map.as_ptr();
    map.remap(2 * page, RemapOptions::new().may_move(true))
        .unwrap();
    assert_ne!(map.as_ptr(), old, "the map moved to grow");
    assert_eq!((map.len(), map[0]), (2 * page, 9));
    assert!(
        blocker.iter().all(|&b| b == 0),
        "the page after it was left alone"
    );
}

#[test]
fn a_file_map_grows_only_as_far_as_the_file() {
    let page = page_size();
    let file = file_of(&vec![1; 2 * page]);
    // SAFETY: the temporary file is this test's alone; it is extended, never truncated.
    let mut map = unsafe { MmapOptions::new().len(page).map_mut(&file).unwrap() };
    map.remap(2 * page, RemapOptions::new().may_move(true))
        .unwrap();
    assert!(map.iter().all(|&b| b == 1));

    let error = map
        .remap(4 * page, RemapOptions::new().may_move(true))
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("remap: new_len {}", 4 * page)),
        "{message}"
    );
    assert!(
        message.contains("past the end of the mapped file"),
        "{message}"
    );
    assert_eq!(map.len(), 2 * page, "the map keeps its length");
    assert_eq!(map[2 * page - 1], 1, "and stays readable");

    // Extended first, the file backs the grown map, and writes through it reach the file.
    file.set_len(4 * page as u64).unwrap();
    map.remap(4 * page, RemapOptions::new().may_move(true))
        .unwrap();
    assert_eq!((map[2 * page], map[4 * page - 1]), (0, 0));
    map[4 * page - 1] = 7;
    map.flush().unwrap();
    let mut last = [0u8];
    std::os::unix::fs::FileExt::read_exact_at(&file, &mut last, 4 * page as u64 - 1).unwrap();
    assert_eq!(last, [7]);
}

#[test]
fn a_map_at_an_unaligned_offset_keeps_its_offset_when_moved() {
    let page = page_size();
    let bytes: Vec<u8> = (0..4 * page).map(|i| (i % 251) as u8).collect();
    let file = file_of(&bytes);
    // SAFETY: the temporary file is this test's alone.
    let mut map = unsafe { MmapOptions::new().offset(100).len(10).map(&file).unwrap() };
    map.remap(3 * page, RemapOptions::new().may_move(true))
        .unwrap();
    assert_eq!(&map[..], &bytes[100..100 + 3 * page]);
    map.remap(5, RemapOptions::new()).unwrap();
    assert_eq!(&map[..], &bytes[100..105]);
}

#[test]
fn bad_lengths_and_empty_maps_are_refused_before_mremap() {
    let mut map = MmapMut::map_anon(page_size()).unwrap();
    let error = map.remap(0, RemapOptions::new()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(error.to_string().starts_with("remap: new_len 0"), "{error}");

    let error = map
        .remap(isize::MAX as usize + 1, RemapOptions::new().may_move(true))
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(error.to_string().contains("over isize::MAX"), "{error}");
    assert_eq!(map.len(), page_size());

    let mut empty = MmapMut::map_anon(0).unwrap();
    let error = empty
        .remap(page_size(), RemapOptions::new().may_move(true))
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(error.to_string().contains("the map is empty"), "{error}");
}

#[test]
fn read_only_and_raw_maps_resize_too() {
    let page = page_size();
    let file = file_of(&vec![2; 3 * page]);
    // SAFETY: the temporary file is this test's alone.
    let mut map: Mmap = unsafe { MmapOptions::new().len(page).map(&file).unwrap() };
    map.remap(3 * page, RemapOptions::new().may_move(true))
        .unwrap();
    assert_eq!(map.iter().map(|&b| usize::from(b)).sum::<usize>(), 6 * page);

    let mut raw = MmapRaw::from(MmapMut::map_anon(page).unwrap());
    // SAFETY: no pointer into the map is kept across the call.
    unsafe {
        raw.remap(2 * page, RemapOptions::new().may_move(true))
            .unwrap()
    };
    // SAFETY: the map is now two pages long.
    unsafe { raw.as_mut_ptr().add(2 * page - 1).write(1) };
    assert_eq!(raw.len(), 2 * page);
}

#[test]
fn a_map_split_by_advice_on_part_of_it_is_not_resized() {
    if common::skip_under_valgrind(
        "the kernel's split of a map, which valgrind's mremap does not model",
    ) {
        return;
    }
    let page = page_size();
    let mut map = MmapMut::map_anon(4 * page).unwrap();
    map[0] = 1;
    // MADV_RANDOM is a flag of the kernel's VMA: on the first page only, it splits the map in two.
    map.advise_range(mman::Advice::Random, 0, page).unwrap();
    let error = map
        .remap(8 * page, RemapOptions::new().may_move(true))
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
    assert!(
        error.to_string().starts_with("remap: the map is in pieces"),
        "{error}"
    );
    assert_eq!(
        (map.len(), map[0]),
        (4 * page, 1),
        "the map is left as it was"
    );
    // The same advice on the whole map makes it one piece again.
    map.advise(mman::Advice::Random).unwrap();
    map.remap(8 * page, RemapOptions::new().may_move(true))
        .unwrap();
    assert_eq!((map.len(), map[0]), (8 * page, 1));
}

#[test]
#[cfg(target_os = "linux")]
fn remap_grows_where_process_vm_readv_is_denied() {
    common::run_the_rest_in_a_child!(|child| {
        for errno in ["EPERM", "ENOSYS"] {
            common::assert_passes(child.command().env("DENY_WITH", errno));
        }
    });
    let errno = match std::env::var("DENY_WITH").unwrap().as_str() {
        "EPERM" => libc::EPERM,
        _ => libc::ENOSYS,
    };
    common::deny_syscalls(&[libc::SYS_process_vm_readv], errno as u32);
    let page = page_size();
    let mut buf = [0u8; 1];
    // SAFETY: reading a byte of this process with an empty list copies nothing; here it only
    // shows the filter works.
    let denied = unsafe {
        let local = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: 1,
        };
        libc::process_vm_readv(libc::getpid(), &local, 1, &local, 1, 0)
    };
    assert_eq!(
        (denied, std::io::Error::last_os_error().raw_os_error()),
        (-1, Some(errno))
    );

    let mut anon = mman::MmapMut::map_anon(page).unwrap();
    anon[0] = 1;
    anon.remap(8 * page, RemapOptions::new().may_move(true))
        .unwrap();
    anon[8 * page - 1] = 2;
    assert_eq!((anon.len(), anon[0]), (8 * page, 1));

    let file = common::file_of(&vec![7u8; 2 * page]);
    // SAFETY: the temporary file is this process's alone, and nothing truncates it.
    let mut map = unsafe { MmapOptions::new().len(page).map(&file) }.unwrap();
    let grown = map.remap(2 * page, RemapOptions::new().may_move(true));
    if cfg!(not(mman_has = "MADV_POPULATE_READ")) {
        // Without MADV_POPULATE_READ (headers like musl's), the end of a file cannot be checked.
        let error = grown.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
        assert!(error.to_string().starts_with("remap: "), "{error}");
        assert_eq!(map.len(), page, "the map keeps its length");
        return;
    }
    grown.unwrap();
    assert_eq!((map.len(), map[2 * page - 1]), (2 * page, 7));
    let error = map
        .remap(3 * page, RemapOptions::new().may_move(true))
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    assert!(error.to_string().starts_with("remap: "), "{error}");
    assert_eq!(map.len(), 2 * page, "the map keeps its length");

    match map.read_at(&mut buf, 5) {
        Ok(n) => assert_eq!((n, buf[0]), (1, 7)),
        Err(error) => assert!(error.to_string().starts_with("read_at: "), "{error}"),
    }
}

/// A sealed memfd whose first and last pages were written and whose pages between are holes: a
/// map of its first page has no hole, and `remap` grows it over them. A hole is allocated at its
/// first read, which strict overcommit at its limit refuses with `SIGBUS`: grown, the map must
/// have its holes faulted in (as `map_sealed` and `map_if_safe` fault in those of their range),
/// or the call fail. Run in a child process, which makes overcommit strict for processes without
/// `CAP_SYS_ADMIN`, at its limit, then drops root; as root with `MMAN_TEST_MACHINE=1`, where the
/// kernel has `MADV_POPULATE_READ` (Linux 5.14).
#[test]
#[cfg(all(mman_memfd, mman_populate))]
fn a_sealed_map_grown_over_holes_never_raises_sigbus_under_strict_overcommit() {
    use std::os::unix::fs::FileExt;

    use mman::{Seals, SharedMemory};

    common::run_the_rest_in_a_child!(|child| {
        if !mman::Advice::PopulateRead.is_supported() {
            common::not_run!("the running kernel lacks MADV_POPULATE_READ (Linux 5.14)");
            return;
        }
        let Some(_settings) = common::OvercommitSettings::save() else {
            return;
        };
        child.assert_passes();
    });
    let page = page_size();
    let len = 4 << 20;
    let shared = SharedMemory::create("holes", len as u64).unwrap();
    shared.as_file().write_all_at(b"first", 0).unwrap();
    shared
        .as_file()
        .write_all_at(b"last", (len - 4) as u64)
        .unwrap();
    shared
        .add_seals(Seals::SHRINK | Seals::GROW | Seals::WRITE)
        .unwrap();
    let mut sealed = MmapOptions::new().len(page).map_sealed(&shared).unwrap();
    let mut if_safe = MmapOptions::new().len(page).map_if_safe(&shared).unwrap();
    common::become_unprivileged_under_strict_overcommit();

    for (what, map) in [("map_sealed", &mut sealed), ("map_if_safe", &mut if_safe)] {
        match map.remap(len, RemapOptions::new().may_move(true)) {
            Ok(()) => {
                let sum: usize = map.iter().step_by(page).map(|&b| usize::from(b)).sum();
                println!(
                    "{what}: read the {} bytes grown over holes: {sum}",
                    map.len()
                );
            }
            Err(error) => {
                println!("{what}: {error}");
                assert_eq!(error.kind(), ErrorKind::OutOfMemory, "{what}: {error}");
                assert!(error.to_string().starts_with("remap: "), "{error}");
                assert!(error.to_string().contains("SIGBUS"), "{error}");
                assert_eq!(map.len(), page, "{what}: the map keeps its length");
                assert_eq!(&map[..5], b"first");
            }
        }
    }
}

/// Without strict overcommit: the holes `remap` grew a sealed map over are faulted in (resident),
/// where only the pages written would be.
#[test]
#[cfg(all(mman_memfd, mman_populate))]
fn a_sealed_map_grown_over_holes_has_them_faulted_in() {
    use std::os::unix::fs::FileExt;

    use mman::{Seals, SharedMemory};

    if !mman::Advice::PopulateRead.is_supported() {
        common::not_run!("the running kernel lacks MADV_POPULATE_READ (Linux 5.14)");
        return;
    }
    let page = page_size();
    let shared = SharedMemory::create("holes", 16 * page as u64).unwrap();
    shared.as_file().write_all_at(b"first", 0).unwrap();
    shared
        .as_file()
        .write_all_at(b"last", 16 * page as u64 - 4)
        .unwrap();
    shared.add_seals(Seals::SHRINK | Seals::WRITE).unwrap();
    let mut map = MmapOptions::new().len(page).map_sealed(&shared).unwrap();
    map.remap(16 * page, RemapOptions::new().may_move(true))
        .unwrap();
    assert_eq!(
        map.resident_pages().unwrap(),
        16,
        "every page, holes included"
    );
    assert_eq!(
        (&map[..5], &map[16 * page - 4..]),
        (&b"first"[..], &b"last"[..])
    );
}
