//! Placement: an address hint, and `fixed_no_replace`, which fails with `AlreadyExists` instead of
//! replacing a mapping (plain `MAP_FIXED` would replace it silently); and no map placed, or grown
//! in place by `remap`, where a stack may grow: within the main thread's `RLIMIT_STACK`, or the
//! guard gap below another grows-down mapping. Those run each in a child process, away from the
//! other tests' maps.

mod common;

#[cfg(any(linux_kernel, mman_has = "MAP_FIXED_NOREPLACE"))]
use std::io::ErrorKind;

#[cfg(all(linux_kernel, mman_has = "MREMAP_MAYMOVE"))]
use mman::RemapOptions;
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

// ---- Where a stack may grow --------------------------------------------------------------------

/// `RLIMIT_STACK`'s soft limit, or `None` when unlimited.
#[cfg(linux_kernel)]
fn stack_limit() -> Option<usize> {
    let limit = common::rlimit(common::Limit::Stack);
    (limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur as usize)
}

/// The kernel's default stack guard gap, 256 pages (`stack_guard_gap`, mm/mmap.c), in bytes.
#[cfg(linux_kernel)]
fn guard_gap() -> usize {
    256 * page_size()
}

/// Asserts that `error` is the crate's refusal of a place where the stack may grow.
#[cfg(linux_kernel)]
fn assert_stack_refusal(error: &std::io::Error, call: &str) {
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    let message = error.to_string();
    assert!(message.starts_with(&format!("{call}: ")), "{message}");
    assert!(message.contains("stack"), "{message}");
}

#[test]
#[cfg(all(linux_kernel, mman_has = "MAP_FIXED_NOREPLACE"))]
fn fixed_no_replace_right_below_the_stack_is_refused() {
    common::run_the_rest_in_a_child!();
    let page = page_size();
    let (stack_start, _) = common::stack();
    let result = MmapOptions::new()
        .len(page)
        .fixed_no_replace(stack_start - page)
        .map_anon();
    let error = result.map(drop).unwrap_err();
    assert_stack_refusal(&error, "map_anon");
    assert!(
        !common::mapped(stack_start - page, stack_start),
        "nothing was mapped below the stack"
    );
}

#[test]
#[cfg(linux_kernel)]
fn address_hint_within_the_stack_limit_is_refused() {
    common::run_the_rest_in_a_child!();
    let page = page_size();
    let (stack_start, _) = common::stack();
    // 4 MiB below the stack: out of the kernel's guard gap (1 MiB), so it honours the hint, but
    // within the 8 MiB the stack may grow.
    let hint = stack_start - (4 << 20);
    let error = MmapOptions::new()
        .len(page)
        .address_hint(hint)
        .map_anon()
        .map(drop)
        .unwrap_err();
    assert_stack_refusal(&error, "map_anon");
    assert!(!common::mapped(hint, hint + page));
}

#[test]
#[cfg(all(linux_kernel, mman_has = "MREMAP_MAYMOVE"))]
fn remap_does_not_grow_a_map_into_the_stack_limit() {
    common::run_the_rest_in_a_child!();
    let Some(limit) = stack_limit() else {
        common::not_run!("RLIMIT_STACK is unlimited, so no map may sit below the stack");
        return;
    };
    let page = page_size();
    let (_, stack_end) = common::stack();
    // The lowest address the stack may reach, less the guard gap the kernel keeps below it.
    let low = stack_end - limit - guard_gap();
    let hint = low - 16 * page;
    let mut map = MmapOptions::new()
        .len(2 * page)
        .address_hint(hint)
        .map_anon()
        .unwrap();
    if map.as_ptr() as usize != hint {
        common::not_run!(
            "the kernel did not honour the hint {hint:#x} (placed at {:p})",
            map.as_ptr()
        );
        return;
    }
    for may_move in [false, true] {
        let error = map
            .remap(32 * page, RemapOptions::new().may_move(may_move))
            .unwrap_err();
        assert_stack_refusal(&error, "remap");
        assert_eq!(
            (map.as_ptr() as usize, map.len()),
            (hint, 2 * page),
            "the map is unchanged"
        );
        assert!(
            !common::mapped(hint + 2 * page, low + 16 * page),
            "nothing grew toward the stack"
        );
    }
    map.remap(16 * page, RemapOptions::new()).unwrap();
    assert_eq!(
        (map.as_ptr() as usize, map.len()),
        (hint, 16 * page),
        "up to the limit is allowed"
    );
    map[16 * page - 1] = 1;
    drop(map);
    assert!(!common::mapped(hint, low));
}

#[test]
#[cfg(all(linux_kernel, mman_has = "MAP_FIXED_NOREPLACE"))]
fn a_map_right_below_a_grows_down_mapping_is_refused() {
    common::run_the_rest_in_a_child!();
    // The grows-down mapping takes the top 4 pages of a reservation of 64, whose other 60 pages are
    // then unmapped: the pages right below it are free. (One the kernel places where it likes may
    // sit right above another mapping, a library's, say: then no map can go below it anyway.)
    let page = page_size();
    // SAFETY: a new reservation at an address the kernel picks; nothing else uses it.
    let reserved = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            64 * page,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(reserved, libc::MAP_FAILED);
    let start = reserved as usize + 60 * page;
    // SAFETY: MAP_FIXED over the top of the reservation made above, which nothing else uses.
    let grows_down = unsafe {
        libc::mmap(
            start as *mut libc::c_void,
            4 * page,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_GROWSDOWN | libc::MAP_FIXED,
            -1,
            0,
        )
    };
    assert_eq!(grows_down as usize, start);
    // SAFETY: the lower 60 pages of the reservation made above, which nothing else uses.
    assert_eq!(unsafe { libc::munmap(reserved, 60 * page) }, 0);
    assert!(
        !common::mapped(start - 2 * page, start),
        "the pages below the grows-down mapping are free"
    );
    let error = MmapOptions::new()
        .len(page)
        .fixed_no_replace(start - page)
        .map_anon()
        .map(drop)
        .unwrap_err();
    assert_stack_refusal(&error, "map_anon");
    let error = MmapOptions::new()
        .len(page)
        .address_hint(start - 2 * page)
        .map_anon()
        .map(drop)
        .unwrap_err();
    assert_stack_refusal(&error, "map_anon");
    assert!(!common::mapped(start - 2 * page, start));
    // SAFETY: the mapping made above, used by nothing.
    assert_eq!(unsafe { libc::munmap(grows_down, 4 * page) }, 0);
}
