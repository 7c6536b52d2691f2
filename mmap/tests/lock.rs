//! Locking pages in RAM: `lock`, `lock_range`, `lock_on_fault`, `lock_range_on_fault`, `unlock`,
//! seen in `mincore`'s view of the pages, in the map's own `smaps` entry (`Locked`, and `lo`/`lf`
//! in `VmFlags`) and in the process's `VmLck`.

mod common;

use std::io::ErrorKind;

use mman::{page_size, MmapMut, MmapOptions};

/// Asserts that the mapping that holds `addr` is `locked` or not (`lo`, `VM_LOCKED`, in its
/// `VmFlags`) and locked `on_fault` or not (`VM_LOCKONFAULT`, by the name this kernel gives it:
/// [`common::lock_on_fault_flag`], which says where it cannot tell).
fn assert_lock_flags(addr: usize, locked: bool, on_fault: bool, what: &str) {
    let flags = common::smaps_field(addr, "VmFlags");
    let has = |flag| flags.split_whitespace().any(|set| set == flag);
    assert_eq!(has("lo"), locked, "{what}: VM_LOCKED in {flags}");
    #[cfg(mman_has = "MLOCK_ONFAULT")]
    if let Some(name) = common::lock_on_fault_flag() {
        assert_eq!(
            has(name),
            on_fault,
            "{what}: VM_LOCKONFAULT ({name}) in {flags}"
        );
    }
    #[cfg(not(mman_has = "MLOCK_ONFAULT"))]
    let _ = on_fault;
}

// The tests below lock 64 KiB at most, within this machine's 8 MiB RLIMIT_MEMLOCK; `VmLck` is
// per process and tests run in parallel, so each asserts "at least" its own amount.

#[test]
fn lock_and_unlock_a_map() {
    let map = MmapMut::map_anon(64 * 1024).unwrap();
    assert_eq!(map.resident_pages().unwrap(), 0);
    map.lock().unwrap();
    assert_eq!(
        map.resident_pages().unwrap(),
        64 * 1024 / mman::page_size(),
        "mlock faults every page in"
    );
    assert!(
        common::locked_kib() >= 64,
        "VmLck is {} KiB after locking 64 KiB",
        common::locked_kib()
    );
    let addr = map.as_ptr() as usize;
    let (locked, size) = common::locked_and_size_kib_at(addr);
    assert!(
        locked == size && size >= 64,
        "the map's own pages are locked: {locked} of {size} KiB"
    );
    assert_lock_flags(addr, true, false, "locked");
    map.unlock().unwrap();
    assert_lock_flags(addr, false, false, "unlocked");
    assert_eq!(common::locked_and_size_kib_at(addr).0, 0);
}

#[test]
fn lock_a_range() {
    let page = page_size();
    let map = MmapOptions::new().len(16 * page).map_anon().unwrap();
    let addr = map.as_ptr() as usize;
    map.lock_range(page, page).unwrap();
    let locked = [0, page, 2 * page].map(|at| common::has_vm_flag(addr + at, "lo"));
    assert_eq!(locked, [false, true, false], "the range's page only");
    let kib = (page / 1024) as u64;
    assert_eq!(common::locked_and_size_kib_at(addr + page), (kib, kib));
    map.unlock_range(page, page).unwrap();
    assert!(!common::has_vm_flag(addr + page, "lo"));
    let error = map.lock_range(15 * page, 2 * page).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(
        error.to_string().starts_with("lock_range: range"),
        "{error}"
    );
    let error = map.unlock_range(usize::MAX, 2).unwrap_err();
    assert!(error.to_string().contains("overflows usize"), "{error}");
}

#[test]
#[cfg(mman_has = "MLOCK_ONFAULT")]
fn lock_on_fault_locks_without_faulting_in() {
    if common::skip_under_valgrind("mlock2, which valgrind does not emulate") {
        return;
    }
    let mut map = MmapMut::map_anon(16 * page_size()).unwrap();
    let addr = map.as_ptr() as usize;
    map.lock_on_fault().unwrap();
    assert_lock_flags(addr, true, true, "locked on fault");
    assert_eq!(
        map.resident_pages().unwrap(),
        0,
        "MLOCK_ONFAULT faults nothing in"
    );
    map[0] = 1;
    assert_eq!(map.residency(0, map.len()).unwrap()[..2], [true, false]);
    assert_eq!(
        common::locked_and_size_kib_at(addr).0,
        (page_size() / 1024) as u64,
        "the page written is locked"
    );
    map.unlock().unwrap();
    assert_lock_flags(addr, false, false, "unlocked");
}

#[test]
#[cfg(mman_has = "MLOCK_ONFAULT")]
fn lock_range_on_fault_locks_the_range_as_it_is_touched() {
    if common::skip_under_valgrind("mlock2, which valgrind does not emulate") {
        return;
    }
    let page = page_size();
    let mut map = MmapMut::map_anon(4 * page).unwrap();
    map.lock_range_on_fault(page, 2 * page).unwrap();
    assert_eq!(
        map.resident_pages().unwrap(),
        0,
        "MLOCK_ONFAULT faults nothing in"
    );
    map[page] = 1;
    assert_eq!(
        map.residency(0, map.len()).unwrap(),
        [false, true, false, false]
    );
    // The locked pages are the range's: smaps shows them as their own mapping, locked on fault.
    let start = map.as_ptr() as usize + page;
    assert_eq!(
        common::mapping_at(start).0,
        start,
        "the locked range is a mapping of its own"
    );
    if let Some(name) = common::lock_on_fault_flag() {
        assert!(
            common::has_vm_flag(start, name),
            "VM_LOCKONFAULT ({name}): {}",
            common::smaps_field(start, "VmFlags")
        );
    }
    let error = map.lock_range_on_fault(3 * page, 2 * page).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(
        error.to_string().starts_with("lock_range_on_fault: range"),
        "{error}"
    );
    map.unlock().unwrap();
}

/// Where the kernel has no `mlock2` (Linux before 4.4, or a seccomp filter that answers `ENOSYS`,
/// as container profiles written for older kernels do), locking on fault is `Unsupported`, as
/// documented, with the kernel's `ENOSYS`: not the `EINVAL` glibc's `mlock2` makes of it, which
/// would read as a bad argument.
#[test]
#[cfg(all(mman_has = "MLOCK_ONFAULT", target_os = "linux"))]
fn lock_on_fault_without_mlock2_is_unsupported() {
    common::run_the_rest_in_a_child!();
    let page = page_size();
    let map = MmapMut::map_anon(2 * page).unwrap();
    common::deny_syscalls(&[libc::SYS_mlock2], libc::ENOSYS as u32);
    let calls = [
        ("lock_on_fault", map.lock_on_fault()),
        ("lock_range_on_fault", map.lock_range_on_fault(page, page)),
    ];
    for (method, result) in calls {
        let error = result.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Unsupported, "{method}: {error}");
        assert_eq!(mman::raw_os_error(&error), Some(libc::ENOSYS), "{error}");
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("{method}: mlock2(MLOCK_ONFAULT) of ")),
            "{message}"
        );
        assert!(message.contains("no mlock2"), "{message}");
    }
    assert!(
        !common::has_vm_flag(map.as_ptr() as usize, "lo"),
        "nothing is locked after the refusals"
    );
    // `mlock` is another system call, still there.
    map.lock().unwrap();
    assert_eq!(map.resident_pages().unwrap(), 2);
}

#[test]
fn locking_an_empty_map_needs_no_call() {
    let map = MmapMut::map_anon(0).unwrap();
    map.lock().unwrap();
    map.unlock().unwrap();
}

#[test]
#[cfg(mman_has = "MAP_LOCKED")]
fn map_locked_through_raw_extra_flags_locks_at_once() {
    // MAP_LOCKED through the escape hatch (`flags_unchecked`): the kernel faults in and locks the
    // map's pages when mapping. The safe `flags` refuses the raw bits.
    let raw = mman::MapFlags::from_bits_retain(mmap_sys::MAP_LOCKED);
    let error = mman::MmapOptions::new()
        .len(2 * page_size())
        .flags(raw)
        .map_anon()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    assert!(error.to_string().contains("flags_unchecked"), "{error}");
    let mut options = mman::MmapOptions::new();
    // SAFETY: MAP_LOCKED only locks the pages in RAM.
    unsafe { options.flags_unchecked(raw) };
    let map = options.len(2 * page_size()).map_anon().unwrap();
    assert_eq!(map.resident_pages().unwrap(), 2);
    assert_lock_flags(map.as_ptr() as usize, true, false, "MAP_LOCKED");
}
