//! A host whose headers lack constants: mmap-sys reports them missing and `mmap` still compiles.
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

/// Runs cargo with `args` against the reduced headers; returns the `defined=` list mmap-sys reported.
fn cargo_with_reduced_headers(args: &[&str]) -> Vec<String> {
    let fixture = workspace().join("tests/fixtures/reduced-include");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("reduced-headers");
    let status = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .args(["--quiet", "--locked"])
        .current_dir(workspace())
        .env("CARGO_TARGET_DIR", &target)
        .env("BINDGEN_EXTRA_CLANG_ARGS", format!("-I{}", fixture.display()))
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo {args:?} failed against the reduced headers");

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
    defined.split(',').map(str::to_owned).collect()
}

#[test]
fn reduced_headers_report_missing_names_and_mmap_still_builds() {
    let defined = cargo_with_reduced_headers(&["build", "-p", "mmap"]);
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
}
