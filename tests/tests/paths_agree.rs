//! mmap-sys's two paths to the constants, bindgen and the C compiler, agree: both are built here, in
//! a target directory of their own, and compared name for name and value for value (as written in
//! `constants.rs`, type included), with the same functions declared. A build whose libclang cannot
//! be loaded falls back to the C compiler with a warning, and agrees too.
//!
//! On a machine where libclang cannot be loaded, the default build takes the C-compiler path too:
//! there the comparison with bindgen is not checked (the test says so), and the rest is.

use std::path::Path;

use mmap_conformance::nested::{cargo, default_path, sys_build, SysBuild};

fn build(args: &[&str], envs: &[(&str, &str)]) -> (SysBuild, String) {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("paths");
    let mut all = vec!["build", "--locked", "--message-format=json", "-p", "mmap-sys"];
    all.extend_from_slice(args);
    let (stdout, stderr) = cargo(&target, &all, envs);
    (sys_build(&stdout), stderr)
}

#[test]
fn bindgen_and_the_c_compiler_give_the_same_constants() {
    let (c, _) = build(&["--no-default-features"], &[]);
    assert_eq!(c.metadata["path"], "c-compiler");
    assert!(c.constants.len() > 50, "{} constants", c.constants.len());
    // The default build: bindgen where libclang loads.
    let (default, _) = build(&[], &[]);
    let path = default_path("that bindgen gives the C compiler's constants");
    assert_eq!(default.metadata["path"], path, "the path of a default build");

    let only_default: Vec<_> = default.constants.keys().filter(|n| !c.constants.contains_key(*n)).collect();
    let only_c: Vec<_> = c.constants.keys().filter(|n| !default.constants.contains_key(*n)).collect();
    assert!(
        only_default.is_empty() && only_c.is_empty(),
        "only {path}: {only_default:?}, only the C compiler: {only_c:?}"
    );
    for (name, declaration) in &default.constants {
        assert_eq!(&c.constants[name], declaration, "{name}");
    }
    assert_eq!(default.metadata["defined"], c.metadata["defined"]);
    assert_eq!(default.metadata["functions"], c.metadata["functions"]);
    println!("{} constants and the functions {} agree", default.constants.len(), c.metadata["functions"]);

    // In the same test, not in one of its own: both build in this target directory, one at a time.
    without_libclang_the_build_warns_and_takes_the_c_compiler_path();
}

fn without_libclang_the_build_warns_and_takes_the_c_compiler_path() {
    let nowhere = empty_dir();
    let (fallback, stderr) = build(&[], &[("LIBCLANG_PATH", nowhere.to_str().unwrap())]);
    assert_eq!(fallback.metadata["path"], "c-compiler");
    assert!(stderr.contains("warning: mmap-sys@"), "{stderr}");
    assert!(stderr.contains("libclang could not be loaded"), "{stderr}");
    assert!(stderr.contains("apt-get install libclang-dev"), "{stderr}");
    let (default, _) = build(&[], &[]);
    assert_eq!(fallback.constants, default.constants);
}

/// An empty directory of this test's own, for `LIBCLANG_PATH`.
fn empty_dir() -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-libclang");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
