//! Huge pages: the typed sizes, the pools the system offers, `MAP_HUGETLB` maps (which need pages
//! reserved: this part says so and stops when none are free), and transparent huge pages.

#![cfg(all(
    mman_huge,
    mman_has = "MAP_HUGE_64KB",
    mman_has = "MAP_HUGE_2MB",
    mman_has = "MAP_HUGE_1GB",
    mman_has = "MAP_HUGE_16GB"
))]

mod common;

use std::io::ErrorKind;

use mman::{Advice, HugePageSize, MmapOptions};

#[test]
fn each_size_is_its_map_huge_constant() {
    assert_eq!(HugePageSize::HUGE_64KB.flag(), mmap_sys::MAP_HUGE_64KB);
    assert_eq!(HugePageSize::HUGE_2MB.flag(), mmap_sys::MAP_HUGE_2MB);
    assert_eq!(HugePageSize::HUGE_1GB.flag(), mmap_sys::MAP_HUGE_1GB);
    assert_eq!(
        HugePageSize::HUGE_16GB.flag(),
        mmap_sys::MAP_HUGE_16GB,
        "the one whose bits pass i32::MAX"
    );
    assert_eq!(HugePageSize::HUGE_16GB.bytes(), 16 << 30);
    assert!(HugePageSize::DEFINED
        .windows(2)
        .all(|pair| pair[0] < pair[1]));
    for &size in HugePageSize::DEFINED {
        assert_eq!(HugePageSize::from_bytes(size.bytes()), Some(size));
        assert_eq!(
            size.flag() >> mmap_sys::MAP_HUGE_SHIFT & mmap_sys::MAP_HUGE_MASK,
            i32::from(size.log2())
        );
    }
    assert_eq!(HugePageSize::from_bytes(3 << 20), None);
    assert_eq!(HugePageSize::from_bytes(0), None);
}

#[test]
fn the_pools_are_the_systems() {
    if !common::huge_pages_offered("the pools (here the lists are Unsupported)") {
        // No pool and no default size: both say so, as `Unsupported`.
        let errors = [
            HugePageSize::available().map(drop).unwrap_err(),
            HugePageSize::system_default().map(drop).unwrap_err(),
        ];
        for error in errors {
            assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
        }
        return;
    }
    let default = HugePageSize::system_default().unwrap();
    assert_eq!(default.bytes(), common::meminfo("Hugepagesize") * 1024);
    // HugePages_Total and _Free of /proc/meminfo count the default size's pool. Other tests and
    // processes take and reserve huge pages meanwhile: the pools are compared with /proc/meminfo
    // read before and after, when the two agree.
    let meminfo = || {
        (
            common::meminfo("HugePages_Total"),
            common::meminfo("HugePages_Free"),
        )
    };
    let (pools, pool, before) = loop {
        let before = meminfo();
        let pools = HugePageSize::available().unwrap();
        let pool = *pools
            .iter()
            .find(|pool| pool.size == default)
            .expect("the default size has a pool");
        if meminfo() == before {
            break (pools, pool, before);
        }
    };
    assert_eq!((pool.total, pool.free), before);
    assert!(pools.windows(2).all(|pair| pair[0].size < pair[1].size));
}

#[test]
fn a_hugetlb_map_is_rounded_and_unmapped_whole_or_fails_clearly() {
    if !common::huge_pages_offered("a hugetlb map's length (here the maps are Unsupported)") {
        // Refused before mmap, of the default size and of a given one.
        let page = mman::page_size();
        let errors = [
            MmapOptions::new().len(page).huge(None).map_anon(),
            MmapOptions::new()
                .len(page)
                .huge_page_size(HugePageSize::HUGE_2MB)
                .map_anon(),
        ];
        for error in errors.map(|result| result.map(drop).unwrap_err()) {
            assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
            assert!(
                error.to_string().starts_with("map_anon: huge pages"),
                "{error}"
            );
        }
        return;
    }
    let size = HugePageSize::system_default().unwrap();
    let free = HugePageSize::available()
        .unwrap()
        .into_iter()
        .find(|pool| pool.size == size)
        .unwrap()
        .free;
    let result = MmapOptions::new()
        .len(mman::page_size())
        .huge_page_size(size)
        .map_anon();
    if free == 0 {
        println!("no free {size} huge pages (nr_hugepages is 0): only the failure is tested");
        let error = result.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::OutOfMemory, "{error}");
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("map_anon: not enough free huge pages of {size}")),
            "{message}"
        );
        assert!(message.contains("nr_hugepages"), "{message}");
        return;
    }
    let mut map = result.unwrap();
    assert_eq!(
        map.len() as u64,
        size.bytes(),
        "the length is rounded up to a whole huge page"
    );
    let last = map.len() - 1;
    map[last] = 1;
    map.advise(Advice::WillNeed).unwrap();
    map.flush().unwrap();
    let start = map.as_ptr() as usize;
    let starts_here = || common::mappings().iter().any(|&(from, ..)| from == start);
    assert!(starts_here());
    drop(map);
    assert!(
        !starts_here(),
        "munmap got the rounded length and unmapped the map"
    );
}

#[test]
#[cfg(mman_populate)]
fn transparent_huge_pages_back_an_advised_anonymous_map() {
    if common::skip_under_valgrind(
        "transparent huge pages, which valgrind's placement of maps defeats",
    ) {
        return;
    }
    // Absent where the kernel has no transparent huge pages, built without them or on a machine
    // that cannot give them (s390x without EDAT, as under QEMU's emulation).
    let Ok(enabled) = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled") else {
        println!("not run: this kernel has no transparent huge pages (no /sys/kernel/mm/transparent_hugepage)");
        return;
    };
    // The size of a transparent huge page: 2 MiB on x86-64 and on arm64 with 4 KiB pages, 512 MiB
    // on arm64 with 64 KiB pages, 16 MiB or 2 MiB on ppc64 (hash or radix MMU).
    let huge: usize = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    if huge > 64 << 20 {
        println!("not run: transparent huge pages of {huge} bytes are too large to fill here");
        return;
    }
    // Four of them: at least three are whole and aligned within the map.
    let len = 4 * huge;
    let mut map = MmapOptions::new().len(len).map_anon().unwrap();
    match map.advise(Advice::HugePage) {
        Err(error) if error.kind() == ErrorKind::Unsupported || enabled.contains("[never]") => {
            println!("transparent huge pages are off here ({enabled:?}): {error}");
            return;
        }
        result => result.unwrap(),
    }
    if enabled.contains("[never]") {
        println!("transparent huge pages are off here: not asserted");
        return;
    }
    // Written, every page faults in (`populate_write` would too, where the headers have
    // MADV_POPULATE_WRITE: musl's lack it).
    map.fill(1);
    // AnonHugePages of the map's entry in /proc/self/smaps: the memory in transparent huge pages.
    let huge_kib: u64 = common::smaps_field(map.as_ptr() as usize, "AnonHugePages")
        .trim_end_matches(" kB")
        .parse()
        .unwrap();
    println!("AnonHugePages of the map: {huge_kib} kB");
    assert!(
        huge_kib >= huge as u64 / 1024,
        "an advised, populated map of {len} bytes holds at least one huge page of {huge} bytes: \
         {huge_kib} kB"
    );
}
