//! What this build lacks: `missing_constants()` names the optional constants the host's headers do
//! not define, and exactly their features are left out (checked here against the build's `cfg`).

#[test]
fn missing_constants_match_what_was_left_out() {
    let missing = mman::missing_constants();
    for name in missing {
        println!("not supported by this build (the host's headers lack it): {name}");
    }
    let left_out = |name: &str| missing.contains(&name);
    assert_eq!(
        left_out("MADV_POPULATE_READ"),
        !cfg!(mman_has = "MADV_POPULATE_READ")
    );
    assert_eq!(
        left_out("MAP_FIXED_NOREPLACE"),
        !cfg!(mman_has = "MAP_FIXED_NOREPLACE")
    );
    assert_eq!(left_out("MLOCK_ONFAULT"), !cfg!(mman_has = "MLOCK_ONFAULT"));
    assert_eq!(left_out("MAP_HUGE_2MB"), !cfg!(mman_has = "MAP_HUGE_2MB"));
    assert_eq!(
        left_out("MREMAP_MAYMOVE"),
        !cfg!(mman_has = "MREMAP_MAYMOVE")
    );
    assert_eq!(left_out("MAP_LOCKED"), !cfg!(mman_has = "MAP_LOCKED"));
}
