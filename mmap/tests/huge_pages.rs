//! Huge pages: the typed sizes, the pools the system offers, `MAP_HUGETLB` maps, transparent huge
//! pages; and what safe code cannot do with huge pages: raise `SIGBUS` (the pages are reserved
//! when mapping, and faulted in where a hugetlb cgroup limits them) or leak a map (every length
//! recorded is the whole huge pages the kernel mapped). Those cases run in a child process, which
//! must end well, with the documented error or the right bytes, and leave nothing mapped.
//!
//! The tests that need free huge pages reserve them when run as root with `MMAN_TEST_MACHINE=1`
//! (writing `/proc/sys/vm/nr_hugepages`, restored afterwards) and say so when they cannot; those
//! that reserve them or count on the free ones take turns ([`common::huge_page_turn`]), since they
//! share that one setting.

// memfds of huge pages and hugetlb cgroups: Linux's.
#![cfg(all(mman_huge, linux_kernel))]

mod common;

use std::io::ErrorKind;

use common::{free_huge_pages, huge_memfd, huge_page_turn, reserve_huge_pages};
use mman::{Advice, HugePageSize, MapFlags, MmapOptions, MmapRaw, RemapOptions, Seals};

#[test]
#[cfg(all(
    mman_has = "MAP_HUGE_64KB",
    mman_has = "MAP_HUGE_2MB",
    mman_has = "MAP_HUGE_1GB",
    mman_has = "MAP_HUGE_16GB"
))]
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
#[cfg(mman_has = "MAP_HUGE_2MB")]
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
    // The free huge pages stay as counted while the map is made.
    let _turn = huge_page_turn();
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
#[cfg(all(mman_populate, mman_has = "MADV_HUGEPAGE"))]
fn transparent_huge_pages_back_an_advised_anonymous_map() {
    if common::skip_under_valgrind(
        "transparent huge pages, which valgrind's placement of maps defeats",
    ) {
        return;
    }
    // Absent where the kernel has no transparent huge pages, built without them or on a machine
    // that cannot give them (s390x without EDAT, as under QEMU's emulation).
    let Ok(enabled) = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled") else {
        common::not_run!(
            "this kernel has no transparent huge pages (no /sys/kernel/mm/transparent_hugepage)"
        );
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
        common::not_run!("transparent huge pages of {huge} bytes are too large to fill here");
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

// ---- No SIGBUS and no leaked map with huge pages -----------------------------------------------

fn huge_page() -> usize {
    HugePageSize::system_default().unwrap().bytes() as usize
}

#[test]
fn hugetlb_without_reserve_is_refused() {
    common::run_the_rest_in_a_child!(|child| {
        let _turn = huge_page_turn();
        child.assert_passes()
    });
    let offered = common::huge_pages_offered("the refusal's reason (no_reserve_swap)");
    if offered && free_huge_pages() > 0 {
        println!("note: huge pages are free here, where a map without reserve would not fault");
    }
    let via_huge = MmapOptions::new()
        .len(mman::page_size())
        .huge(None)
        .no_reserve_swap()
        .map_anon();
    let via_flags = MmapOptions::new()
        .len(mman::page_size())
        .flags(MapFlags::HUGETLB | MapFlags::NO_RESERVE)
        .map_anon();
    for result in [via_huge, via_flags] {
        match result {
            Ok(mut map) => {
                map[0] = 1; // SIGBUS when no huge page is free
                panic!(
                    "a hugetlb map without reserve was made ({} bytes)",
                    map.len()
                );
            }
            Err(error) => {
                let message = error.to_string();
                assert!(message.starts_with("map_anon: "), "{message}");
                if offered {
                    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
                    assert!(message.contains("no_reserve_swap"), "{message}");
                } else {
                    // No huge page size to map: refused before the flags are looked at.
                    assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
                }
            }
        }
    }
}

#[test]
fn a_sealed_hugetlb_memfd_maps_without_sigbus() {
    common::run_the_rest_in_a_child!(|child| {
        if !common::huge_pages_offered(child.test()) {
            return;
        }
        {
            let _turn = huge_page_turn();
            common::assert_passes(child.command().env("RESERVED", "0"));
        }
        if let Some(_reserved) = reserve_huge_pages(child.test(), 2) {
            common::assert_passes(child.command().env("RESERVED", "2"));
        }
    });
    let huge = huge_page();
    let memory = huge_memfd(c"sealed-huge", huge as u64);
    if std::env::var("RESERVED").unwrap() == "2" {
        let writer = memory.map_raw().unwrap();
        // SAFETY: the map is a huge page long; nothing else uses the memory.
        unsafe {
            writer
                .as_mut_ptr()
                .add(huge - 6)
                .copy_from(b"frozen".as_ptr(), 6)
        };
    }
    memory.add_seals(Seals::SHRINK | Seals::WRITE).unwrap();
    match MmapOptions::new().no_reserve_swap().map_sealed(&memory) {
        Ok(map) => panic!(
            "a sealed hugetlb map without reserve was made; map[0] = {}",
            map[0]
        ),
        Err(error) => {
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
            assert!(error.to_string().starts_with("map_sealed: "), "{error}");
        }
    }
    if std::env::var("RESERVED").unwrap() == "0" {
        if free_huge_pages() == 0 {
            let error = memory.map_sealed().map(drop).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::OutOfMemory, "{error}");
        }
        return;
    }
    let map = memory.map_sealed().unwrap();
    assert_eq!(
        (map.len(), &map[huge - 6..], map[0]),
        (huge, &b"frozen"[..], 0)
    );
    let start = map.as_ptr() as usize;
    drop(map);
    assert!(!common::mapped(start, start + huge));
}

/// A copy-on-write map of sealed huge pages (`map_sealed` of an `MFD_HUGETLB` memfd, then
/// `make_mut`) needs a new huge page at its first write: the kernel reserves it when mapping
/// privately, so no other map can take it meanwhile, and the write cannot raise `SIGBUS`. With two
/// huge pages reserved, one holds the memfd's page, the map reserves the other, and anonymous huge
/// maps made until none is free take nothing it needs. Runs as root with `MMAN_TEST_MACHINE=1`
/// only (it changes `/proc/sys/vm/nr_hugepages`, restored afterwards).
#[test]
fn the_first_write_to_a_copy_of_sealed_huge_pages_has_its_page_reserved() {
    common::run_the_rest_in_a_child!(|child| child.assert_passes_with_huge_pages(2));
    let huge = mman::HugePageSize::system_default().unwrap().bytes() as usize;
    let memory = common::huge_memfd(c"sealed-huge-copy", huge as u64);
    {
        let writer = memory.map_raw().unwrap();
        // SAFETY: the map is a huge page long; nothing else uses the memory yet.
        unsafe { writer.as_mut_ptr().copy_from(b"frozen".as_ptr(), 6) };
    }
    memory
        .add_seals(Seals::SHRINK | Seals::GROW | Seals::WRITE)
        .unwrap();
    let map = memory.map_sealed().unwrap();
    assert_eq!(&map[..6], b"frozen");
    let mut hogs = Vec::new();
    while let Ok(hog) = MmapOptions::new().len(huge).huge(None).map_anon() {
        hogs.push(hog);
    }
    println!("{} huge pages taken by other maps", hogs.len());
    let mut copy = map.make_mut().unwrap();
    copy[0] = b'F';
    let mut read = [0u8; 6];
    std::os::unix::fs::FileExt::read_exact_at(memory.as_file(), &mut read, 0).unwrap();
    assert_eq!((&copy[..6], &read), (&b"Frozen"[..], b"frozen"));
}

#[test]
fn hugetlb_through_flags_records_the_rounded_length() {
    common::run_the_rest_in_a_child!(|child| child.assert_passes_with_huge_pages(1));
    let huge = huge_page();
    let mut map = MmapOptions::new()
        .len(mman::page_size())
        .flags(MapFlags::HUGETLB)
        .map_anon()
        .unwrap();
    let start = map.as_ptr() as usize;
    assert_eq!(map.len(), huge, "the kernel mapped a whole huge page");
    map[huge - 1] = 1;
    drop(map);
    assert!(
        !common::mapped(start, start + huge),
        "the whole huge page was unmapped"
    );
}

#[test]
fn remap_of_a_hugetlb_map_is_refused_and_leaks_nothing() {
    common::run_the_rest_in_a_child!(|child| child.assert_passes_with_huge_pages(2));
    let huge = huge_page();
    let mut map = MmapOptions::new()
        .len(2 * huge)
        .huge(None)
        .map_anon()
        .unwrap();
    let start = map.as_ptr() as usize;
    for new_len in [mman::page_size(), huge + huge / 2, 4 * huge] {
        let error = map
            .remap(new_len, RemapOptions::new().may_move(true))
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
        assert!(error.to_string().starts_with("remap: "), "{error}");
        assert_eq!((map.as_ptr() as usize, map.len()), (start, 2 * huge));
    }
    map[2 * huge - 1] = 1;
    drop(map);
    assert!(
        !common::mapped(start, start + 2 * huge),
        "the whole map was unmapped"
    );
}

#[test]
fn map_sealed_of_part_of_a_hugetlb_memfd_records_the_rounded_length() {
    common::run_the_rest_in_a_child!(|child| child.assert_passes_with_huge_pages(1));
    let huge = huge_page();
    let memory = huge_memfd(c"sealed-part", huge as u64);
    memory.add_seals(Seals::SHRINK | Seals::WRITE).unwrap();
    let map = MmapOptions::new()
        .len(mman::page_size())
        .map_sealed(&memory)
        .unwrap();
    let start = map.as_ptr() as usize;
    assert_eq!(
        map.len(),
        huge,
        "the kernel mapped a whole huge page of the file"
    );
    assert_eq!(map[huge - 1], 0);
    drop(map);
    assert!(
        !common::mapped(start, start + huge),
        "the whole huge page was unmapped"
    );
}

#[test]
fn an_empty_hugetlb_memfd_maps_empty_and_leaks_nothing() {
    common::run_the_rest_in_a_child!(|child| child.assert_passes_with_huge_pages(1));
    let memory = huge_memfd(c"empty-huge", 0);
    let free = free_huge_pages();
    let map = MmapRaw::map_raw(&memory).unwrap();
    assert_eq!(map.len(), 0);
    drop(map);
    let left: Vec<String> = common::mappings()
        .into_iter()
        .filter(|(_, _, rest)| rest.contains("memfd:empty-huge"))
        .map(|(start, end, rest)| format!("{start:x}-{end:x} {rest}"))
        .collect();
    assert!(left.is_empty(), "left mapped: {left:?}");
    assert_eq!(free_huge_pages(), free, "no huge page stays reserved");
}

/// The cgroup v2 hierarchy's root, where Linux mounts it (or systemd, beside v1's controllers).
#[cfg(mman_populate)]
fn cgroup2_root() -> Option<&'static str> {
    ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]
        .into_iter()
        .find(|root| {
            std::fs::read_to_string(format!("{root}/cgroup.controllers")).is_ok_and(|list| {
                list.split_whitespace()
                    .any(|controller| controller == "hugetlb")
            })
        })
}

/// A cgroup whose processes may fault in no huge page of the default size (`hugetlb.<size>.max` 0,
/// charged at the first touch, not when mapping), removed when dropped, and the hugetlb controller
/// of its parent turned off again if it was off.
#[cfg(mman_populate)]
struct NoHugePages {
    path: String,
    /// The parent's `cgroup.subtree_control`, if the controller was turned on there for this.
    turned_on: Option<String>,
}

#[cfg(mman_populate)]
impl Drop for NoHugePages {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.path);
        if let Some(control) = &self.turned_on {
            let _ = std::fs::write(control, "-hugetlb");
        }
    }
}

/// Starts `child` with `pages` huge pages reserved, and a [`NoHugePages`] cgroup named in the
/// environment's `CGROUP` (which the child joins with [`join_the_cgroup`]), and asserts that it
/// passed; or says why it cannot (not asked to change the machine, no hugetlb controller, no huge
/// pages).
#[cfg(mman_populate)]
fn assert_passes_in_a_no_huge_pages_cgroup(child: &common::ChildProcess, pages: u64) {
    let test = child.test();
    if !common::may_change_the_machine(&format!("{test}: it makes a cgroup")) {
        return;
    }
    let Some(root) = cgroup2_root() else {
        common::not_run!("no cgroup v2 hierarchy with the hugetlb controller");
        return;
    };
    let Some(_reserved) = reserve_huge_pages(test, pages) else {
        return;
    };
    let control = format!("{root}/cgroup.subtree_control");
    let on = std::fs::read_to_string(&control)
        .unwrap_or_default()
        .split_whitespace()
        .any(|c| c == "hugetlb");
    let enable = if on {
        Ok(())
    } else {
        std::fs::write(&control, "+hugetlb")
    };
    let group = NoHugePages {
        path: format!("{root}/mman-test-no-huge-pages-{}", std::process::id()),
        turned_on: (!on && enable.is_ok()).then_some(control),
    };
    let size = HugePageSize::system_default().unwrap();
    let limit = format!("{}/hugetlb.{}MB.max", group.path, size.bytes() >> 20);
    if let Err(error) = enable
        .and_then(|()| std::fs::create_dir(&group.path))
        .and_then(|()| std::fs::write(&limit, "0"))
    {
        common::not_run!("cannot make a cgroup with no huge pages ({limit}): {error}");
        return;
    }
    common::assert_passes(child.command().env("CGROUP", &group.path));
}

/// In a child of [`assert_passes_in_a_no_huge_pages_cgroup`]: moves this process into the cgroup.
#[cfg(mman_populate)]
fn join_the_cgroup() {
    let group = std::env::var("CGROUP").unwrap();
    std::fs::write(
        format!("{group}/cgroup.procs"),
        std::process::id().to_string(),
    )
    .unwrap();
}

// The prefault needs MADV_POPULATE_READ and _WRITE, which some headers lack (musl's): a build
// without them cannot fault huge pages in when mapping, as the crate docs say.
#[test]
#[cfg(mman_populate)]
fn a_hugetlb_cgroup_limit_fails_the_map_not_a_touch() {
    common::run_the_rest_in_a_child!(|child| assert_passes_in_a_no_huge_pages_cgroup(child, 1));
    join_the_cgroup();
    assert!(
        free_huge_pages() > 0,
        "a huge page is free: the map itself is not what fails"
    );
    match MmapOptions::new()
        .len(mman::page_size())
        .huge(None)
        .map_anon()
    {
        Ok(mut map) => {
            map[0] = 1; // SIGBUS: the cgroup allows no huge page
            panic!(
                "a map over the cgroup's limit was made ({} bytes)",
                map.len()
            );
        }
        Err(error) => {
            assert_eq!(error.kind(), ErrorKind::OutOfMemory, "{error}");
            assert!(error.to_string().starts_with("map_anon: "), "{error}");
            assert!(error.to_string().contains("cgroup"), "{error}");
        }
    }
    assert!(
        !common::mappings()
            .iter()
            .any(|(_, _, rest)| rest.contains("anon_hugepage")),
        "the map was undone"
    );
}

#[test]
#[cfg(mman_populate)]
fn make_mut_of_a_sealed_hugetlb_map_fails_at_a_cgroup_limit_not_a_write() {
    // A private map of a sealed memfd of huge pages shows the memfd's pages; made writable, its
    // first write to a page copies it into a new huge page, which the hugetlb cgroup charges then
    // (the reservation made when mapping is charged apart): over its limit, that write would raise
    // SIGBUS. `make_mut` faults the copies in, and fails instead.
    // One huge page for the memfd, one for the copy the private map reserves.
    common::run_the_rest_in_a_child!(|child| assert_passes_in_a_no_huge_pages_cgroup(child, 2));
    let huge = huge_page();
    let memory = huge_memfd(c"copied-on-write", huge as u64);
    let writer = memory.map_raw().unwrap();
    // SAFETY: the map is a huge page long; nothing else uses the memory.
    unsafe { writer.as_mut_ptr().copy_from(b"frozen".as_ptr(), 6) };
    drop(writer);
    memory.add_seals(Seals::SHRINK | Seals::WRITE).unwrap();
    join_the_cgroup();
    let map = memory.map_sealed().unwrap();
    assert_eq!(&map[..6], b"frozen");
    match map.make_mut() {
        Ok(mut map) => {
            map[0] = b'F'; // SIGBUS: the cgroup allows no new huge page
            panic!("a copy over the cgroup's limit was made: {:?}", &map[..6]);
        }
        Err(error) => {
            assert_eq!(error.kind(), ErrorKind::OutOfMemory, "{error}");
            assert!(error.to_string().starts_with("make_mut: "), "{error}");
            assert!(error.to_string().contains("cgroup"), "{error}");
        }
    }
}
