//! A host whose headers lack constants: mmap-sys reports them missing, and `mmap` compiles without
//! warnings, passes its tests, and reports what it lacks.
//!
//! Builds the workspace's `mmap` in a target directory of its own with
//! `BINDGEN_EXTRA_CLANG_ARGS=-I tests/fixtures/reduced-include`, whose `<sys/mman.h>` is reduced
//! (like musl's) and whose `<linux/mman.h>` is empty.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is in the workspace").to_owned()
}

/// Runs cargo with `args` against the reduced headers, warnings denied; returns the `defined=` list
/// mmap-sys reported, and what cargo printed on its standard output.
fn cargo_with_reduced_headers(args: &[&str]) -> (Vec<String>, String) {
    let fixture = workspace().join("tests/fixtures/reduced-include");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("reduced-headers");
    let output = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(workspace())
        .env("CARGO_TARGET_DIR", &target)
        .env("BINDGEN_EXTRA_CLANG_ARGS", format!("-I{}", fixture.display()))
        .env("RUSTFLAGS", "-D warnings")
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "cargo {args:?} failed against the reduced headers:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The newest run of mmap-sys's build script in that target directory is the one above.
    let outputs = fs::read_dir(target.join("debug/build")).expect("a build directory");
    let newest = outputs
        .filter_map(|entry| {
            let path = entry.ok()?.path().join("output");
            let is_mmap_sys = path.parent()?.file_name()?.to_str()?.starts_with("mmap-sys-");
            let modified = fs::metadata(&path).ok()?.modified().ok()?;
            is_mmap_sys.then_some((modified, path))
        })
        .max()
        .expect("mmap-sys's build script ran")
        .1;
    let output = fs::read_to_string(newest).expect("the build script's output");
    let defined = output
        .lines()
        .find_map(|line| line.strip_prefix("cargo::metadata=defined="))
        .expect("mmap-sys reports the defined constants");
    (defined.split(',').map(str::to_owned).collect(), stdout)
}

#[test]
fn reduced_headers_report_missing_names_and_mmap_passes_its_tests() {
    // mmap's whole test suite, built with warnings denied: the tests of features the headers lack
    // are left out with them, and the rest pass.
    let (defined, _) = cargo_with_reduced_headers(&["test", "--locked", "-p", "mmap"]);
    for present in ["PROT_READ", "MAP_SHARED", "MAP_POPULATE", "MADV_WILLNEED", "MFD_CLOEXEC"] {
        assert!(defined.iter().any(|n| n == present), "{present} should be defined: {defined:?}");
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
        assert!(!defined.iter().any(|n| n == missing), "{missing} should be reported missing");
    }
    assert_eq!(defined.len(), 35, "the fixture defines 35 constants of the exported families: {defined:?}");

    // And mmap reports, at run time, what this build lacks.
    let args = ["test", "--locked", "-p", "mmap", "--test", "missing_constants", "--", "--nocapture"];
    let (_, stdout) = cargo_with_reduced_headers(&args);
    for missing in
        ["MADV_POPULATE_READ", "MAP_FIXED_NOREPLACE", "MLOCK_ONFAULT", "MAP_HUGE_2MB", "MAP_LOCKED"]
    {
        let line = format!("not supported by this build (the host's headers lack it): {missing}");
        assert!(stdout.contains(&line), "mmap::missing_constants() should name {missing}:\n{stdout}");
    }
}
