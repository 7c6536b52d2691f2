//! Every advice the host's headers define, given to real maps on the running kernel; where the
//! advice sets a flag of the mapping, the flag is read back from `/proc/self/smaps`.

mod common;

use std::io::ErrorKind;

use mman::{Advice, MmapMut, MmapOptions, UncheckedAdvice};

/// The flag of `VmFlags` in `/proc/self/smaps` that the kernel sets on a map given `advice`, for
/// the advice that sets one (see `show_smap_vma_flags` in the kernel's `fs/proc/task_mmu.c`).
fn vm_flag(advice: Advice) -> Option<&'static str> {
    let flags = [
        (Advice::Sequential, "sr"),
        (Advice::Random, "rr"),
        #[cfg(mman_has = "MADV_DONTFORK")]
        (Advice::DontFork, "dc"),
        #[cfg(mman_has = "MADV_MERGEABLE")]
        (Advice::Mergeable, "mg"),
        #[cfg(mman_has = "MADV_HUGEPAGE")]
        (Advice::HugePage, "hg"),
        #[cfg(mman_has = "MADV_NOHUGEPAGE")]
        (Advice::NoHugePage, "nh"),
        #[cfg(mman_has = "MADV_DONTDUMP")]
        (Advice::DontDump, "dd"),
    ];
    flags
        .into_iter()
        .find_map(|(with, flag)| (with == advice).then_some(flag))
}

/// Whether `flag` is among the `VmFlags` of the mapping that holds `addr`.
fn has_vm_flag(addr: usize, flag: &str) -> bool {
    common::smaps_field(addr, "VmFlags")
        .split_whitespace()
        .any(|set| set == flag)
}

#[test]
fn every_advice_the_kernel_supports_succeeds_on_an_anonymous_map() {
    let mut unsupported = Vec::new();
    for &advice in Advice::ALL {
        // A map of its own for each advice: some undo others (`NoHugePage` makes `Collapse` fail).
        let mut map = MmapOptions::new().len(4 << 20).map_anon().unwrap();
        map.fill(1);
        if !advice.is_supported() {
            unsupported.push(advice);
            let error = map.advise(advice).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Unsupported, "{advice:?}: {error}");
            continue;
        }
        match map.advise(advice) {
            Ok(()) => {
                if let Some(flag) = vm_flag(advice) {
                    assert!(
                        has_vm_flag(map.as_ptr() as usize, flag),
                        "{advice:?} did not reach the kernel: no {flag} in VmFlags"
                    );
                }
            }
            // KSM is a kernel option: a kernel without it knows the advice and refuses it.
            #[cfg(mman_has = "MADV_MERGEABLE")]
            Err(e) if advice == Advice::Mergeable && e.kind() == ErrorKind::InvalidInput => {
                println!("{advice:?}: refused by this kernel's configuration ({e})");
            }
            // A kernel built with transparent huge pages knows the advice; on a machine that
            // cannot give them (no /sys/kernel/mm/transparent_hugepage: s390x without EDAT, as
            // under QEMU's emulation) it refuses to collapse any range.
            #[cfg(mman_has = "MADV_COLLAPSE")]
            Err(e)
                if advice == Advice::Collapse
                    && e.kind() == ErrorKind::InvalidInput
                    && !std::path::Path::new("/sys/kernel/mm/transparent_hugepage").exists() =>
            {
                common::not_run!("{advice:?}: this kernel has no transparent huge pages ({e})");
            }
            Err(e) => panic!("{advice:?} failed: {e}"),
        }
        assert!(
            map.iter().all(|&b| b == 1),
            "{advice:?} changed the contents"
        );
    }
    println!("advice the headers define and this kernel does not support: {unsupported:?}");
}

#[test]
fn advice_that_sets_a_flag_sets_it_on_its_range_only_and_normal_clears_it() {
    let page = mman::page_size();
    let map = MmapMut::map_anon(3 * page).unwrap();
    let addr = map.as_ptr() as usize;
    map.advise_range(Advice::Random, page, page).unwrap();
    let random = [0, page, 2 * page].map(|at| has_vm_flag(addr + at, "rr"));
    assert_eq!(random, [false, true, false]);
    map.advise(Advice::Sequential).unwrap();
    let flags =
        [0, page, 2 * page].map(|at| (has_vm_flag(addr + at, "sr"), has_vm_flag(addr + at, "rr")));
    assert_eq!(flags, [(true, false); 3], "Sequential replaces Random");
    map.advise(Advice::Normal).unwrap();
    assert!(!has_vm_flag(addr, "sr") && !has_vm_flag(addr, "rr"));
}

#[test]
fn advice_works_on_file_maps_and_ranges() {
    let page = mman::page_size();
    let file = common::file_of(&vec![7; 3 * page]);
    // SAFETY: the temporary file is this test's alone.
    let map = unsafe { mman::Mmap::map(&file).unwrap() };
    let addr = map.as_ptr() as usize;
    map.advise(Advice::Sequential).unwrap();
    assert!(has_vm_flag(addr + 2 * page, "sr"));
    map.advise(Advice::WillNeed).unwrap();
    // The range is widened to whole pages: the page of byte `page`, and only that one.
    map.advise_range(Advice::Random, page, 100).unwrap();
    let random = [0, page, 2 * page].map(|at| has_vm_flag(addr + at, "rr"));
    assert_eq!(random, [false, true, false]);
    map.advise_range(Advice::Normal, 1, map.len() - 1).unwrap();
    let none =
        [0, page, 2 * page].map(|at| has_vm_flag(addr + at, "sr") || has_vm_flag(addr + at, "rr"));
    assert_eq!(
        none, [false; 3],
        "Normal over the pages of bytes 1.. clears every page"
    );
    assert!(map.iter().all(|&b| b == 7));
}

#[test]
fn dont_need_on_a_private_anonymous_map_reads_zeroes_again() {
    let page = mman::page_size();
    let mut map = MmapMut::map_anon(2 * page).unwrap();
    map.fill(9);
    assert!(UncheckedAdvice::DontNeed.is_supported());
    // SAFETY: no reference into the map is held across the call; the zeroes are expected.
    unsafe {
        map.unchecked_advise_range(UncheckedAdvice::DontNeed, page, page)
            .unwrap()
    };
    assert!(map[..page].iter().all(|&b| b == 9));
    assert!(map[page..].iter().all(|&b| b == 0));
}

/// Whether `advice` is one that needs `CAP_SYS_ADMIN` and a kernel built with memory-failure
/// support.
fn needs_memory_failure(advice: UncheckedAdvice) -> bool {
    let needing: &[UncheckedAdvice] = &[
        #[cfg(mman_has = "MADV_HWPOISON")]
        UncheckedAdvice::HwPoison,
        #[cfg(mman_has = "MADV_SOFT_OFFLINE")]
        UncheckedAdvice::SoftOffline,
    ];
    needing.contains(&advice)
}

#[test]
fn every_unchecked_advice_is_known_to_the_kernel() {
    // HwPoison and SoftOffline need CAP_SYS_ADMIN and a kernel built with memory-failure
    // support; the rest are plain Linux 4.5+ advice.
    for &advice in UncheckedAdvice::ALL {
        let known = advice.is_supported();
        println!("{advice:?}: supported = {known}");
        if !needs_memory_failure(advice) {
            assert!(known, "{advice:?} is unknown to this kernel");
        }
    }
}

#[test]
fn advice_outside_the_map_is_refused_before_madvise() {
    let page = mman::page_size();
    let map = MmapMut::map_anon(page).unwrap();
    let error = map
        .advise_range(Advice::WillNeed, page - 96, 100)
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(
        error
            .to_string()
            .starts_with(&format!("advise_range: range {}..{}", page - 96, page + 4)),
        "{error}"
    );
}
