//! mmap-sys built against other header sets than the host's, on both paths, holds every constant's
//! name and value against the cross C compiler of those headers (see
//! `mmap_conformance::header_sets`), and both paths declare the same functions and types, byte for
//! byte. Two kinds of build:
//!
//! - host builds pointed at a cross header set (`CROSS`: MIPS, Alpha, HPPA, SPARC64), by
//!   `BINDGEN_EXTRA_CLANG_ARGS` and `CC`, for architectures Rust has no installed target of;
//! - real cross builds (`--target`, `CROSS_TARGETS`: aarch64, riscv64gc, s390x, armv7,
//!   powerpc64le, powerpc), where both paths find the cross compiler themselves, and where the
//!   conformance crate's compile-time checks are built and linked for the target too.
//!
//! These tests need Debian's cross compilers and cross C libraries (`.ci/run` installs them), so
//! they are `#[ignore]`d by default: `cargo test -p mmap-conformance --test header_sets --
//! --ignored`. Each kind shares one target directory and the build scripts' dependencies, so only
//! mmap-sys's build script reruns between its builds.

use std::path::{Path, PathBuf};

use mmap_conformance::header_sets::{
    bindgen_args, c_constants, differences, gcc, CROSS, CROSS_TARGETS,
};
use mmap_conformance::nested::{cargo, sys_build, workspace, SysBuild, SYS_BUILD};

/// The target directory of the header sets' host builds.
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
            for line in differences(&c, &built.values()) {
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

/// The target directory of the real cross builds: `targets.rs`'s, whose builds name a `--target`
/// and give clang no arguments of their own either, so that bindgen, a build dependency, is
/// compiled once for all of them. (The header sets' builds above change `BINDGEN_EXTRA_CLANG_ARGS`,
/// which recompiles bindgen each time.)
fn cross_target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("paths")
}

/// Builds mmap-sys for `target` with `args` more, in [`cross_target_dir`].
fn cross_build(target: &str, args: &[&str]) -> SysBuild {
    let mut all = SYS_BUILD.to_vec();
    all.extend(["--target", target]);
    all.extend_from_slice(args);
    let (stdout, _) = cargo(&cross_target_dir(), &all, &[]);
    sys_build(&stdout)
}

#[test]
#[ignore = "needs the cross compilers and cross C libraries that .ci/run installs"]
fn every_cross_target_gives_the_cross_compilers_constants_on_both_paths_and_its_prototypes() {
    let mut failures = Vec::new();
    for &(target, triple) in CROSS_TARGETS {
        let c = c_constants(&gcc(triple), &[], &wrapper(), &cross_target_dir());
        // Both paths read the headers of the compiler the cc crate picks for the target
        // (`<triple>-gcc`); bindgen gives clang `--target` itself.
        let bindgen = cross_build(target, &[]);
        let c_path = cross_build(target, &["--no-default-features"]);
        for (path, built) in [("bindgen", &bindgen), ("c-compiler", &c_path)] {
            assert_eq!(built.metadata["path"], path, "{target}");
            failures.extend(
                differences(&c, &built.values())
                    .into_iter()
                    .map(|line| format!("{target}, {path} path: {line}")),
            );
        }
        for file in ["constants.rs", "functions.rs"] {
            let read = |built: &SysBuild| std::fs::read(built.out_dir.join(file)).unwrap();
            if read(&bindgen) != read(&c_path) {
                failures.push(format!(
                    "{target}: the paths write different {file}s ({} and {})",
                    bindgen.out_dir.display(),
                    c_path.out_dir.display()
                ));
            }
        }
        if target == "powerpc-unknown-linux-gnu" {
            // 32-bit, `_FILE_OFFSET_BITS=64`: `mmap` takes a 64-bit offset and links to `mmap64`.
            for line in [
                "pub type __off64_t = __int64_t;",
                "pub type __int64_t = ::core::ffi::c_longlong;",
                "#[link_name = \"\\u{1}mmap64\"]\n    pub fn mmap(",
            ] {
                assert!(
                    bindgen.functions.contains(line),
                    "{line} in:\n{}",
                    bindgen.functions
                );
            }
        }
        // The conformance crate's own checks, compiled for the target and linked against its C
        // library, not run: its build compiles `prototypes.c` (each declaration of mmap-sys
        // assigned to a pointer of the C prototype, each type alias held to its `typedef`) and
        // `probe.c` with `-Werror` by the cross compiler, and the test binaries link every function
        // mmap-sys declares. The paths write the same files (above), so one path serves.
        let linker = format!(
            "CARGO_TARGET_{}_LINKER",
            target.replace('-', "_").to_uppercase()
        );
        cargo(
            &cross_target_dir(),
            &[
                "build",
                "--locked",
                "-p",
                "mmap-conformance",
                "--target",
                target,
                "--test",
                "constants",
                "--test",
                "functions",
            ],
            &[(&linker, &gcc(triple))],
        );
        println!(
            "{target}: {} constants equal {triple}-gcc's on both paths; the conformance tests build",
            c.len()
        );
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
