//! Placement: an address hint, and `fixed_no_replace`, which fails with `AlreadyExists` instead of
//! replacing a mapping (plain `MAP_FIXED` would replace it silently).

mod common;

#[cfg(mman_has = "MAP_FIXED_NOREPLACE")]
use std::io::ErrorKind;

use mman::{page_size, MmapMut, MmapOptions};

/// An address range of `len` bytes that was free a moment ago: mapped, then unmapped.
fn free_range(len: usize) -> usize {
    let probe = MmapMut::map_anon(len).unwrap();
    probe.as_ptr() as usize
}

/// Runs `place` on a free range until another thread of this test binary has not taken the range
/// in between (tests run in parallel and map too); a few tries are plenty.
fn on_a_free_range<T>(len: usize, place: impl Fn(usize) -> Option<T>) -> T {
    (0..10)
        .find_map(|_| place(free_range(len)))
        .expect("a free range stayed free in 10 tries")
}

#[test]
#[cfg(mman_has = "MAP_FIXED_NOREPLACE")]
fn fixed_no_replace_over_an_existing_map_fails_and_leaves_it_alone() {
    if common::skip_under_valgrind("MAP_FIXED_NOREPLACE, which valgrind takes for a hint") {
        return;
    }
    let mut taken = MmapMut::map_anon(2 * page_size()).unwrap();
    taken.fill(7);
    let addr = taken.as_ptr() as usize;
    let error = MmapOptions::new()
        .len(page_size())
        .fixed_no_replace(addr + page_size())
        .map_anon()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AlreadyExists, "{error}");
    let message = format!(
        "map_anon: fixed_no_replace({:#x}): something is already mapped in",
        addr + page_size()
    );
    assert!(error.to_string().starts_with(&message), "{error}");
    assert_eq!(mman::raw_os_error(&error), Some(libc::EEXIST), "{error}");
    assert!(
        taken.iter().all(|&b| b == 7),
        "the existing map was not replaced"
    );
}

#[test]
#[cfg(mman_has = "MAP_FIXED_NOREPLACE")]
fn fixed_no_replace_on_a_free_range_maps_exactly_there() {
    if common::skip_under_valgrind("MAP_FIXED_NOREPLACE, which valgrind takes for a hint") {
        return;
    }
    let (addr, map) = on_a_free_range(4 * page_size(), |addr| {
        let map = MmapOptions::new()
            .len(4 * page_size())
            .fixed_no_replace(addr)
            .map_anon()
            .ok()?;
        Some((addr, map))
    });
    assert_eq!(map.as_ptr() as usize, addr);
    assert!(map.iter().all(|&b| b == 0));
}

#[test]
#[cfg(mman_has = "MAP_FIXED_NOREPLACE")]
fn fixed_no_replace_of_a_file_with_an_unaligned_offset_puts_its_page_there() {
    if common::skip_under_valgrind("MAP_FIXED_NOREPLACE, which valgrind takes for a hint") {
        return;
    }
    let file = common::file_of(&(0..=255).cycle().take(2 * page_size()).collect::<Vec<u8>>());
    let (addr, map) = on_a_free_range(page_size(), |addr| {
        // SAFETY: the temporary file is this test's alone.
        let map = unsafe {
            MmapOptions::new()
                .offset(10)
                .len(5)
                .fixed_no_replace(addr)
                .map(&file)
                .ok()?
        };
        Some((addr, map))
    });
    assert_eq!(map.as_ptr() as usize, addr + 10);
    assert_eq!(&map[..], &[10, 11, 12, 13, 14]);
}

#[test]
#[cfg(mman_has = "MAP_FIXED_NOREPLACE")]
fn an_unaligned_or_null_fixed_address_is_refused_before_mmap() {
    for addr in [0, free_range(page_size()) + 1] {
        let error = MmapOptions::new()
            .len(page_size())
            .fixed_no_replace(addr)
            .map_anon()
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        assert!(
            error
                .to_string()
                .starts_with("map_anon: fixed_no_replace: address"),
            "{error}"
        );
    }
}

#[test]
fn an_address_hint_is_followed_where_the_range_is_free() {
    // The kernel takes a free, aligned hint.
    let (addr, mut map) = on_a_free_range(2 * page_size(), |addr| {
        let map = MmapOptions::new()
            .len(2 * page_size())
            .address_hint(addr)
            .map_anon()
            .unwrap();
        (map.as_ptr() as usize == addr).then_some((addr, map))
    });
    map[0] = 7;

    // Over a taken range the hint is not followed, and nothing is replaced.
    let other = MmapOptions::new()
        .len(page_size())
        .address_hint(addr)
        .map_anon()
        .unwrap();
    assert_ne!(other.as_ptr() as usize, addr);
    assert_eq!(map[0], 7, "the map at the hint keeps its bytes");
}
