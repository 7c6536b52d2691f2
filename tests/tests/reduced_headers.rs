//! A host whose headers lack constants: mmap-sys reports them missing, and `mman` compiles without
//! warnings, passes its tests, and reports what it lacks.
//!
//! Builds the workspace's `mman` in a target directory of its own with
//! `-I tests/fixtures/reduced-include` (in `BINDGEN_EXTRA_CLANG_ARGS` for the bindgen path, in
//! `CFLAGS` for the C-compiler path, which a machine without libclang takes), whose
//! `<sys/mman.h>` is reduced (like musl's) and whose `<linux/mman.h>` is empty.

use std::path::Path;

use mmap_conformance::nested::{cargo, default_path, sys_build, workspace, SysBuild};

/// Runs cargo with `args` against the reduced headers, warnings denied; returns what mmap-sys's
/// build script reported, and what cargo printed on its standard output.
fn cargo_with_reduced_headers(args: &[&str]) -> (SysBuild, String) {
    let fixture = workspace().join("tests/fixtures/reduced-include");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("reduced-headers");
    let include = format!("-I{}", fixture.display());
    let envs = [
        ("BINDGEN_EXTRA_CLANG_ARGS", include.as_str()),
        ("CFLAGS", include.as_str()),
        ("RUSTFLAGS", "-D warnings"),
    ];
    let mut all = vec![args[0], "--message-format=json"];
    all.extend_from_slice(&args[1..]);
    let (stdout, _) = cargo(&target, &all, &envs);
    (sys_build(&stdout), stdout)
}

#[test]
fn reduced_headers_report_missing_names_and_mman_passes_its_tests() {
    // Every target of mman (its tests, examples and benchmarks) compiles with warnings denied; then
    // its whole test suite, doctests included, passes: the tests of features the headers lack are
    // left out with them.
    cargo_with_reduced_headers(&[
        "test",
        "--locked",
        "-p",
        "mman",
        "--all-targets",
        "--no-run",
    ]);
    let (build, _) = cargo_with_reduced_headers(&["test", "--locked", "-p", "mman"]);
    let path = default_path("that bindgen reads the reduced headers");
    assert_eq!(build.metadata["path"], path, "the path of a default build");
    let defined: Vec<&str> = build.metadata["defined"].split(',').collect();
    for present in [
        "PROT_READ",
        "MAP_SHARED",
        "MAP_POPULATE",
        "MADV_WILLNEED",
        "MFD_CLOEXEC",
    ] {
        assert!(
            defined.contains(&present),
            "{present} should be defined: {defined:?}"
        );
    }
    for missing in [
        "MADV_POPULATE_READ",
        "MADV_POPULATE_WRITE",
        "MADV_DONTNEED_LOCKED",
        "MADV_COLLAPSE",
        "PKEY_DISABLE_ACCESS",
        "MAP_HUGE_2MB",
        "MLOCK_ONFAULT",
    ] {
        assert!(
            !defined.contains(&missing),
            "{missing} should be reported missing"
        );
    }
    assert_eq!(
        defined.len(),
        35,
        "the fixture defines 35 constants of the exported families: {defined:?}"
    );

    // And mman reports, at run time, what this build lacks.
    let args = [
        "test",
        "--locked",
        "-p",
        "mman",
        "--test",
        "missing_constants",
        "--",
        "--nocapture",
    ];
    let (_, stdout) = cargo_with_reduced_headers(&args);
    for missing in [
        "MADV_POPULATE_READ",
        "MAP_FIXED_NOREPLACE",
        "MLOCK_ONFAULT",
        "MAP_HUGE_2MB",
        "MAP_LOCKED",
    ] {
        let line = format!("not supported by this build (the host's headers lack it): {missing}");
        assert!(
            stdout.contains(&line),
            "mman::missing_constants() should name {missing}:\n{stdout}"
        );
    }
}
