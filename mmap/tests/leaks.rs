//! No leaks: 100 000 create/drop cycles of file and anonymous maps (and many of the other types)
//! leave the number of mappings (`/proc/self/maps`), the size of the address space
//! (`/proc/self/statm`) and the number of open descriptors (`/proc/self/fd`) as they were.
//! Alone in its binary, so that no other test maps or opens meanwhile.
//!
//! `MMAP_TEST_LEAK_CYCLES=N` runs N cycles instead, for machines where 100 000 take too long (under
//! full-system emulation they take six minutes; `.ci/vm` sets it): a leak of one map or descriptor
//! in any kind of cycle still shows, since every kind runs at least once in 100.

// /proc is Linux's.
#![cfg(linux_kernel)]

mod common;

use mman::{Mmap, MmapMut, MmapOptions, MmapRaw, RemapOptions, SharedMemory};

/// The cycles to run: 100 000, or `MMAP_TEST_LEAK_CYCLES` (at least 100, so that every kind of
/// cycle runs).
fn cycles() -> usize {
    const VAR: &str = "MMAP_TEST_LEAK_CYCLES";
    let Ok(text) = std::env::var(VAR) else {
        return 100_000;
    };
    let cycles: usize = text
        .parse()
        .unwrap_or_else(|_| panic!("{VAR}={text}: not a number"));
    assert!(cycles >= 100, "{VAR}={cycles}: fewer than 100 cycles");
    println!("{cycles} cycles ({VAR})");
    cycles
}

fn mappings() -> usize {
    common::mappings().len()
}

/// The size of the address space in pages: the first field of `/proc/self/statm`. Leaked maps may
/// merge with their neighbours and leave the count of mappings alone; their size still shows here.
fn address_space_pages() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    statm.split_whitespace().next().unwrap().parse().unwrap()
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn create_drop_cycles_leak_no_mapping_and_no_descriptor() {
    dropping_a_map_unmaps_exactly_what_was_mapped();

    let page = mman::page_size();
    let file = common::file_of(&vec![7; 3 * page]);
    let read_only = std::fs::File::open("/proc/self/exe").unwrap();
    let cycle = |i: usize| {
        // SAFETY: the temporary file is this test's alone, and never truncated.
        let map = unsafe { Mmap::map(&file).unwrap() };
        assert_eq!(map[i % map.len()], 7);
        // SAFETY: as above.
        let part = unsafe {
            MmapOptions::new()
                .offset(100)
                .len(5000)
                .map_copy(&file)
                .unwrap()
        };
        let mut anon = MmapMut::map_anon(page * (1 + i % 4)).unwrap();
        anon[0] = 1;
        drop((map, part, anon));
        if i % 10 == 0 {
            let mut grown = MmapMut::map_anon(page).unwrap();
            grown
                .remap(2 * page, RemapOptions::new().may_move(true))
                .unwrap();
            let raw = MmapRaw::from(grown.make_read_only().unwrap());
            drop(raw);
        }
        if i % 100 == 0 {
            let shared = SharedMemory::create("leaks", page as u64).unwrap();
            drop(shared.map_raw().unwrap());
        }
        // SAFETY: refused by the kernel: the file is open read-only.
        // Failures must not leak either.
        assert!(unsafe { MmapMut::map_mut(&read_only) }.is_err());
    };
    // A first few cycles let the allocator and std make their own lasting mappings.
    (0..100).for_each(cycle);
    let (maps, pages, fds) = (mappings(), address_space_pages(), open_fds());
    let cycles = cycles();
    (0..cycles).for_each(cycle);
    assert_eq!(open_fds(), fds, "open descriptors after {cycles} cycles");
    if common::skip_under_valgrind("the mapping counts: valgrind's own mappings grow meanwhile") {
        return;
    }
    assert_eq!(mappings(), maps, "mappings after {cycles} cycles");
    assert_eq!(
        address_space_pages(),
        pages,
        "address space after {cycles} cycles"
    );
}

/// An unaligned offset maps a hidden prefix; the drop must unmap it too, and nothing else. (Here,
/// where no other test maps meanwhile and takes the freed addresses.)
fn dropping_a_map_unmaps_exactly_what_was_mapped() {
    let page = mman::page_size();
    let file = common::file_of(&vec![1; 3 * page]);
    // SAFETY: the temporary file is this test's alone.
    let map = unsafe {
        MmapOptions::new()
            .offset(page as u64 + 1)
            .len(10)
            .map(&file)
            .unwrap()
    };
    let start = map.as_ptr() as usize - 1;
    let exactly = || {
        common::mappings()
            .iter()
            .any(|&(from, to, _)| (from, to) == (start, start + page))
    };
    if common::skip_under_valgrind("the map's own line in /proc/self/maps") {
        return;
    }
    assert!(exactly(), "{start:#x}, one page, not in the maps");
    drop(map);
    assert!(
        !common::mapped(start, start + page),
        "{start:#x} still mapped after drop"
    );
}
