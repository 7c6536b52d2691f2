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
    let pools = HugePageSize::available().unwrap();
    let default = HugePageSize::system_default().unwrap();
    assert_eq!(default.bytes(), common::meminfo("Hugepagesize") * 1024);
    let pool = pools
        .iter()
        .find(|pool| pool.size == default)
        .expect("the default size has a pool");
    // HugePages_Total and _Free of /proc/meminfo count the default size's pool.
    assert_eq!(
        (pool.total, pool.free),
        (
            common::meminfo("HugePages_Total"),
            common::meminfo("HugePages_Free")
        )
    );
    assert!(pools.windows(2).all(|pair| pair[0].size < pair[1].size));
}

#[test]
fn a_hugetlb_map_is_rounded_and_unmapped_whole_or_fails_clearly() {
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
    let enabled =
        std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").unwrap_or_default();
    // The size of a transparent huge page: 2 MiB on x86-64 and on arm64 with 4 KiB pages, 512 MiB
    // on arm64 with 64 KiB pages, 16 MiB or 2 MiB on ppc64 (hash or radix MMU). Absent where the
    // kernel has none: the advice below says so.
    let huge = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size")
        .ok()
        .and_then(|text| text.trim().parse::<usize>().ok());
    if let Some(huge) = huge.filter(|&huge| huge > 64 << 20) {
        println!("not run: transparent huge pages of {huge} bytes are too large to fill here");
        return;
    }
    // Four of them: at least three are whole and aligned within the map.
    let len = 4 * huge.unwrap_or(2 << 20);
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
    let huge = huge.expect("hpage_pmd_size, where transparent huge pages are on");
    assert!(
        huge_kib >= huge as u64 / 1024,
        "an advised, populated map of {len} bytes holds at least one huge page of {huge} bytes: \
         {huge_kib} kB"
    );
}
