//! Every constant of mmap-sys against the C compiler's value of the same macro.

use std::collections::BTreeMap;

use mmap_conformance::{c_map_failed, c_values, mmap_sys_values, same_bits};

fn rust_values() -> BTreeMap<&'static str, i64> {
    mmap_sys_values()
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
        .collect()
}

#[test]
fn every_constant_c_defines_is_in_mmap_sys() {
    let rust = rust_values();
    let lacking: Vec<String> = c_values()
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| !rust.contains_key(name.as_str()))
        .collect();
    assert!(
        lacking.is_empty(),
        "C defines these and mmap-sys lacks them: {lacking:?}"
    );
}

#[test]
fn mmap_sys_defines_nothing_c_lacks() {
    let c: BTreeMap<String, i64> = c_values().into_iter().collect();
    let extra: Vec<&str> = rust_values()
        .into_keys()
        .filter(|name| !c.contains_key(*name))
        .collect();
    assert!(
        extra.is_empty(),
        "mmap-sys has these and C does not: {extra:?}"
    );
}

#[test]
fn every_value_has_the_bits_c_passes() {
    let rust = rust_values();
    let c = c_values();
    assert!(c.len() >= 50, "the probe saw only {} constants", c.len());
    for (name, c_value) in c {
        let rust_value = rust[name.as_str()];
        assert!(
            same_bits(rust_value, c_value),
            "{name}: mmap-sys has {rust_value} ({rust_value:#x}), C has {c_value} ({c_value:#x})"
        );
    }
}

#[test]
fn a_value_over_int_max_keeps_its_bit_pattern() {
    let c: BTreeMap<String, i64> = c_values().into_iter().collect();
    // `MAP_HUGE_16GB` is `34U << 26`: over `i32::MAX`, passed to `mmap`'s `int flags` as its bits.
    assert_eq!(c["MAP_HUGE_16GB"], 34 << 26);
    assert_eq!(mmap_sys::MAP_HUGE_16GB as u32, 34 << 26);
    assert_eq!(
        mmap_sys::MAP_HUGE_16GB,
        -2_013_265_920,
        "the int C passes for 0x88000000"
    );
}

/// The seed table names constants of glibc's headers and of the kernel's `<linux/mman.h>`, which a
/// glibc target reads; musl's compiler reads neither.
#[test]
#[cfg(target_env = "gnu")]
fn every_name_of_the_seed_table_exists() {
    let seed = include_str!("../fixtures/seed-constants.txt");
    let rust = rust_values();
    let absent: Vec<&str> = seed
        .lines()
        .map(str::trim)
        .filter(|n| !n.is_empty() && !rust.contains_key(n))
        .collect();
    assert!(absent.is_empty(), "seed names mmap-sys lacks: {absent:?}");
    // Each name once: a name listed twice would stand for one that is not checked.
    let mut names: Vec<&str> = seed
        .lines()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    let listed = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), listed, "a seed name is listed twice");
}

#[test]
fn map_failed_is_what_c_returns() {
    assert_eq!(mmap_sys::MAP_FAILED, c_map_failed());
    assert_eq!(mmap_sys::MAP_FAILED as usize, usize::MAX);
}

#[test]
fn every_family_has_its_c_type() {
    use core::ffi::{c_int, c_uint};
    // Compiles only if each family has the type of the parameter it is passed to.
    let _: [c_int; 7] = [
        mmap_sys::PROT_READ,
        mmap_sys::MAP_SHARED,
        mmap_sys::MS_SYNC,
        mmap_sys::MADV_NORMAL,
        mmap_sys::POSIX_MADV_NORMAL,
        mmap_sys::MCL_CURRENT,
        mmap_sys::MREMAP_MAYMOVE,
    ];
    let values: [c_uint; 2] = [mmap_sys::MLOCK_ONFAULT, mmap_sys::MFD_CLOEXEC];
    assert_eq!(values, [1, 1]);
    // Memory protection keys are glibc's (musl's headers have none).
    #[cfg(c_has = "PKEY_DISABLE_WRITE")]
    {
        let value: c_uint = mmap_sys::PKEY_DISABLE_WRITE;
        assert_eq!(value, 2);
    }
}
