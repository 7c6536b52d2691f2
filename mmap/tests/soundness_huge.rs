//! Safe code cannot crash or leak a map with huge pages (issue #12). Each case runs in a child
//! process, which must end well (no `SIGBUS`), with the documented error or the right bytes, and
//! leave nothing mapped. The cases that need huge pages reserve them when run as root with
//! `MMAN_TEST_MACHINE=1` (writing `/proc/sys/vm/nr_hugepages`, restored afterwards) and say so when
//! they cannot; the tests of this binary take turns, since they share that one setting.

#![cfg(all(mman_huge, linux_kernel))]

mod common;

use std::io::ErrorKind;

use common::{free_huge_pages, huge_memfd, huge_page_turn, reserve_huge_pages};
use mman::{HugePageSize, MapFlags, MmapOptions, MmapRaw, RemapOptions, Seals};

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
        println!("note: huge pages are free here, so the old failure (SIGBUS) would not show");
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
fn assert_passes_in_a_cgroup_without_huge_pages(child: &common::ChildProcess, pages: u64) {
    let test = child.test();
    if !common::may_change_the_machine(&format!("{test}: it makes a cgroup")) {
        return;
    }
    let Some(root) = cgroup2_root() else {
        println!("not run: no cgroup v2 hierarchy with the hugetlb controller");
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
        path: format!("{root}/mmap-soundness-{}", std::process::id()),
        turned_on: (!on && enable.is_ok()).then_some(control),
    };
    let size = HugePageSize::system_default().unwrap();
    let limit = format!("{}/hugetlb.{}MB.max", group.path, size.bytes() >> 20);
    if let Err(error) = enable
        .and_then(|()| std::fs::create_dir(&group.path))
        .and_then(|()| std::fs::write(&limit, "0"))
    {
        println!("not run: cannot make a cgroup with no huge pages ({limit}): {error}");
        return;
    }
    common::assert_passes(child.command().env("CGROUP", &group.path));
}

/// In a child of [`assert_passes_in_a_cgroup_without_huge_pages`]: moves this process into the cgroup.
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
    common::run_the_rest_in_a_child!(|child| assert_passes_in_a_cgroup_without_huge_pages(
        child, 1
    ));
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
    // (the reservation made when mapping is charged apart): over its limit, that write raised
    // SIGBUS. `make_mut` faults the copies in, and fails instead.
    // One huge page for the memfd, one for the copy the private map reserves.
    common::run_the_rest_in_a_child!(|child| assert_passes_in_a_cgroup_without_huge_pages(
        child, 2
    ));
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
