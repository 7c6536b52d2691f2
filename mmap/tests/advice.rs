//! Every advice the host's headers define, given to real maps on the running kernel.

use std::io::{ErrorKind, Write};

use mmap::{Advice, MmapMut, MmapOptions, UncheckedAdvice};

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
            Ok(()) => {}
            // KSM is a kernel option: a kernel without it knows the advice and refuses it.
            #[cfg(mman_has = "MADV_MERGEABLE")]
            Err(e) if advice == Advice::Mergeable && e.kind() == ErrorKind::InvalidInput => {
                println!("{advice:?}: refused by this kernel's configuration ({e})");
            }
            Err(e) => panic!("{advice:?} failed: {e}"),
        }
        assert!(
            map.iter().all(|&b| b == 1),
            "{advice:?} changed the contents"
        );
    }
    println!("advice the headers define and this kernel does not support: {unsupported:?}");
    // Linux 6.1 headers, and a kernel at least as new: it knows every advice the headers define.
    assert!(Advice::Sequential.is_supported() && Advice::WillNeed.is_supported());
}

#[test]
fn advice_works_on_file_maps_and_ranges() {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(&[7; 3 * 4096]).unwrap();
    // SAFETY: the temporary file is this test's alone.
    let map = unsafe { mmap::Mmap::map(&file).unwrap() };
    map.advise(Advice::Sequential).unwrap();
    map.advise(Advice::WillNeed).unwrap();
    map.advise_range(Advice::Random, 4096, 100).unwrap();
    map.advise_range(Advice::Normal, 1, map.len() - 1).unwrap();
    assert!(map.iter().all(|&b| b == 7));
}

#[test]
fn dont_need_on_a_private_anonymous_map_reads_zeroes_again() {
    let mut map = MmapMut::map_anon(8192).unwrap();
    map.fill(9);
    assert!(UncheckedAdvice::DontNeed.is_supported());
    // SAFETY: no reference into the map is held across the call; the zeroes are expected.
    unsafe {
        map.unchecked_advise_range(UncheckedAdvice::DontNeed, 4096, 4096)
            .unwrap()
    };
    assert!(map[..4096].iter().all(|&b| b == 9));
    assert!(map[4096..].iter().all(|&b| b == 0));
}

#[test]
fn every_unchecked_advice_is_known_to_the_kernel() {
    // HwPoison and SoftOffline need CAP_SYS_ADMIN and a kernel built with memory-failure
    // support; the rest are plain Linux 4.5+ advice.
    for &advice in UncheckedAdvice::ALL {
        let known = advice.is_supported();
        println!("{advice:?}: supported = {known}");
        if !matches!(format!("{advice:?}").as_str(), "HwPoison" | "SoftOffline") {
            assert!(known, "{advice:?} is unknown to this kernel");
        }
    }
}

#[test]
fn advice_outside_the_map_is_refused_before_madvise() {
    let map = MmapMut::map_anon(4096).unwrap();
    let error = map.advise_range(Advice::WillNeed, 4000, 100).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(
        error
            .to_string()
            .starts_with("advise_range: range 4000..4100"),
        "{error}"
    );
}
