//! mmap-sys built against other header sets than the host's, on both paths, holds every constant's
//! name and value against the cross C compiler of those headers (see
//! `mmap_conformance::header_sets`), and both paths declare the same functions and types, byte for
//! byte.
//!
//! These tests need Debian's cross compilers and cross C libraries (`.ci/run` installs them), so
//! they are `#[ignore]`d by default: `cargo test -p mmap-conformance --test header_sets --
//! --ignored`. All builds share one target directory and the build scripts' dependencies, so only
//! mmap-sys's build script reruns between them.

use std::path::{Path, PathBuf};

use mmap_conformance::header_sets::{
    bindgen_args, built_constants, c_constants, cross_includes, differences, gcc, CROSS,
};
use mmap_conformance::nested::{cargo, sys_build, workspace, SysBuild, SYS_BUILD};

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("header-sets")
}

/// Builds mmap-sys with `args` and `envs`, for the host unless `args` names another `--target`.
/// The host is named too, so that both kinds of build share the build scripts' dependencies
/// (cargo builds them apart from a build without `--target`).
fn build(args: &[&str], envs: &[(&str, &str)]) -> SysBuild {
    let mut all = SYS_BUILD.to_vec();
    if !args.contains(&"--target") {
        all.extend(["--target", env!("MMAP_CONFORMANCE_TARGET")]);
    }
    all.extend_from_slice(args);
    let (stdout, _) = cargo(&target_dir(), &all, envs);
    sys_build(&stdout)
}

fn wrapper() -> PathBuf {
    workspace().join("mmap-sys/wrapper.h")
}

#[test]
#[ignore = "needs the cross compilers and cross C libraries that .ci/run installs"]
fn every_cross_header_set_gives_the_cross_compilers_constants_on_both_paths() {
    let mut failures = Vec::new();
    for triple in CROSS {
        let c = c_constants(&gcc(triple), &[], &wrapper(), &target_dir());
        assert!(
            c.len() > 50,
            "{triple}: the cross compiler sees only {} constants",
            c.len()
        );
        let clang_args = bindgen_args(triple);
        let bindgen = build(&[], &[("BINDGEN_EXTRA_CLANG_ARGS", &clang_args)]);
        let compiler = gcc(triple);
        let c_path = build(
            &["--no-default-features"],
            &[("CC", &compiler), ("CRATE_CC_NO_DEFAULTS", "1")],
        );
        if bindgen.functions != c_path.functions {
            failures.push(format!(
                "{triple}: the paths declare different functions:\n{}\n{}",
                bindgen.functions, c_path.functions
            ));
        }
        for (path, built) in [("bindgen", &bindgen), ("c-compiler", &c_path)] {
            assert_eq!(built.metadata["path"], path);
            for line in differences(&c, &built_constants(built)) {
                failures.push(format!("{triple}, {path} path: {line}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
#[ignore = "needs the cross compilers and cross C libraries that .ci/run installs"]
fn a_powerpc_build_gives_the_cross_compilers_constants_and_mmap64_on_both_paths() {
    let (triple, target) = ("powerpc-linux-gnu", "powerpc-unknown-linux-gnu");
    let c = c_constants(&gcc(triple), &[], &wrapper(), &target_dir());
    // bindgen gives clang `--target=powerpc-unknown-linux-gnu` itself; the headers are the cross C
    // library's. The C-compiler path finds `powerpc-linux-gnu-gcc` for this target by itself.
    let includes = cross_includes(triple);
    let bindgen = build(
        &["--target", target],
        &[(
            "BINDGEN_EXTRA_CLANG_ARGS_powerpc_unknown_linux_gnu",
            &includes,
        )],
    );
    let c_path = build(&["--target", target, "--no-default-features"], &[]);
    let mut failures = Vec::new();
    for (path, built) in [("bindgen", &bindgen), ("c-compiler", &c_path)] {
        assert_eq!(built.metadata["path"], path);
        failures.extend(
            differences(&c, &built_constants(built))
                .into_iter()
                .map(|line| format!("{path}: {line}")),
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        bindgen.functions, c_path.functions,
        "the paths declare different functions or types"
    );
    // 32-bit, `_FILE_OFFSET_BITS=64`: `mmap` takes a 64-bit offset and links to `mmap64`.
    for line in [
        "pub type __off64_t = __int64_t;",
        "pub type __int64_t = ::core::ffi::c_longlong;",
    ] {
        assert!(
            bindgen.functions.contains(line),
            "{line} in:\n{}",
            bindgen.functions
        );
    }
    assert!(
        bindgen
            .functions
            .contains("#[link_name = \"\\u{1}mmap64\"]\n    pub fn mmap("),
        "{}",
        bindgen.functions
    );
}
