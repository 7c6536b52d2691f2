//! mmap-sys's two paths to the constants, bindgen and the C compiler, agree: both are built here,
//! in a target directory of their own, and compared name for name and value for value (as written
//! in `constants.rs`, type included), and byte for byte in what they declare (`functions.rs`). A
//! build whose libclang cannot be loaded falls back to the C compiler with a warning, and agrees
//! too. A change of the compiler's flags or of clang's arguments rebuilds with the headers they
//! name.
//!
//! On a machine where libclang cannot be loaded, the default build takes the C-compiler path too:
//! there the comparison with bindgen is not checked (the test says so), and the rest is.

use std::path::Path;

use mmap_conformance::header_sets::{c_constants, differences};
use mmap_conformance::nested::{
    cargo, cargo_status, default_path, sys_build, workspace, SysBuild, SYS_BUILD,
};

fn build(args: &[&str], envs: &[(&str, &str)]) -> (SysBuild, String) {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("paths");
    let mut all = SYS_BUILD.to_vec();
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
    assert_eq!(
        default.metadata["path"], path,
        "the path of a default build"
    );

    let only_default: Vec<_> = default
        .constants
        .keys()
        .filter(|n| !c.constants.contains_key(*n))
        .collect();
    let only_c: Vec<_> = c
        .constants
        .keys()
        .filter(|n| !default.constants.contains_key(*n))
        .collect();
    assert!(
        only_default.is_empty() && only_c.is_empty(),
        "only {path}: {only_default:?}, only the C compiler: {only_c:?}"
    );
    for (name, declaration) in &default.constants {
        assert_eq!(&c.constants[name], declaration, "{name}");
    }
    assert_eq!(default.metadata["defined"], c.metadata["defined"]);
    assert_eq!(default.metadata["functions"], c.metadata["functions"]);
    assert!(
        default.functions.contains("pub fn process_madvise("),
        "{}",
        default.functions
    );
    assert_eq!(
        default.functions, c.functions,
        "the paths declare different functions or types"
    );
    println!(
        "{} constants and the functions {} agree",
        default.constants.len(),
        c.metadata["functions"]
    );

    // In the same test, not in one of its own: all build in this target directory, one at a time.
    without_libclang_the_build_warns_and_takes_the_c_compiler_path();
    without_a_c_compiler_the_build_says_what_to_do_and_no_more();
    a_changed_compiler_flag_or_clang_argument_rebuilds_with_its_headers(default.constants.len());
    a_declaration_mmap_sys_cannot_translate_stops_the_build_naming_it();
    macros_defined_again_or_through_function_like_ones_have_cs_values_on_both_paths();
}

/// Headers that `#undef` a macro and define it again, and define some through a function-like macro
/// (`tests/fixtures/macros-include`): both paths give the value the C compiler has at the end of
/// `wrapper.h`, not the first definition, leave out a macro undefined for good, and export the
/// macros that call a function-like one.
fn macros_defined_again_or_through_function_like_ones_have_cs_values_on_both_paths() {
    let fixture = workspace().join("tests/fixtures/macros-include");
    let include = format!("-I{}", fixture.display());
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("macros");
    let wrapper = workspace().join("mmap-sys/wrapper.h");
    let c = c_constants("cc", &[&include], &wrapper, &scratch);
    assert_eq!(
        c["POSIX_MADV_DONTNEED"],
        c["POSIX_MADV_WILLNEED"] + 40,
        "the fixture's last definition"
    );
    assert_eq!(c["MAP_MMAP_SYS_FIXTURE_TWICE"], 2);
    assert!(!c.contains_key("MAP_MMAP_SYS_FIXTURE_GONE"));
    assert_eq!(c["MAP_MMAP_SYS_FIXTURE_CALLED"], 1 << 24);
    assert_eq!(c["MAP_MMAP_SYS_FIXTURE_MASK"], 0xff00_0000);
    assert_eq!(c["MAP_MMAP_SYS_FIXTURE_NESTED"], 2 << 24);
    for (args, var) in [
        (&["--no-default-features"][..], "CFLAGS"),
        (&[][..], "BINDGEN_EXTRA_CLANG_ARGS"),
    ] {
        if !takes_bindgen_path(var, "the last value of a macro defined again") {
            continue;
        }
        let (built, _) = build(args, &[(var, &include)]);
        let differences = differences(&c, &built.values());
        assert!(
            differences.is_empty(),
            "{var}={include}:\n{}",
            differences.join("\n")
        );
    }
}

/// A memory-mapping header that declares a function of a type mmap-sys does not translate
/// (`double`) stops the build on either path with an error that names the declaration: never a
/// wrong prototype, never a function silently left out.
fn a_declaration_mmap_sys_cannot_translate_stops_the_build_naming_it() {
    let fixture = workspace().join("tests/fixtures/untranslatable-include");
    let include = format!("-I{}", fixture.display());
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("paths");
    for (args, var, message) in [
        (
            &["--no-default-features"][..],
            "CFLAGS",
            "cannot translate the C type `double`",
        ),
        (
            &[][..],
            "BINDGEN_EXTRA_CLANG_ARGS",
            "bindgen declared something mmap-sys cannot translate, at `f64`",
        ),
    ] {
        if !takes_bindgen_path(
            var,
            "a declaration bindgen cannot translate stops the build",
        ) {
            continue;
        }
        let mut all = vec!["build", "--locked", "-p", "mmap-sys"];
        all.extend_from_slice(args);
        let (success, _, stderr) = cargo_status(&target, &all, &[(var, &include)]);
        assert!(!success, "{var}={include}: the build should fail");
        assert!(stderr.contains(message), "{var}: {stderr}");
        assert!(stderr.contains("mmap_sys_fixture_scale"), "{var}: {stderr}");
    }
}

/// `CFLAGS` (C-compiler path) and `BINDGEN_EXTRA_CLANG_ARGS` (bindgen) that put the reduced
/// fixture's `<sys/mman.h>` first change the constants; unset again, the host's are back.
fn a_changed_compiler_flag_or_clang_argument_rebuilds_with_its_headers(host: usize) {
    let fixture = workspace().join("tests/fixtures/reduced-include");
    let include = format!("-I{}", fixture.display());
    for (args, var) in [
        (&["--no-default-features"][..], "CFLAGS"),
        (&[][..], "BINDGEN_EXTRA_CLANG_ARGS"),
    ] {
        if !takes_bindgen_path(
            var,
            "a changed BINDGEN_EXTRA_CLANG_ARGS rebuilds with its headers",
        ) {
            continue;
        }
        let (reduced, _) = build(args, &[(var, &include)]);
        assert_eq!(
            reduced.constants.len(),
            35,
            "{var}={include} names the reduced headers"
        );
        let (again, _) = build(args, &[]);
        assert_eq!(
            again.constants.len(),
            host,
            "without {var}, the host's headers again"
        );
    }
}

fn without_libclang_the_build_warns_and_takes_the_c_compiler_path() {
    let nowhere = empty_dir();
    let (fallback, stderr) = build(&[], &[("LIBCLANG_PATH", nowhere.to_str().unwrap())]);
    assert_eq!(fallback.metadata["path"], "c-compiler");
    assert!(stderr.contains("warning: mmap-sys@"), "{stderr}");
    assert!(stderr.contains("libclang could not be loaded"), "{stderr}");
    assert!(stderr.contains("apt-get install libclang-dev"), "{stderr}");
    // A user of the wrapper is told the line of their own Cargo.toml that turns bindgen off.
    let version = concat!(
        env!("CARGO_PKG_VERSION_MAJOR"),
        ".",
        env!("CARGO_PKG_VERSION_MINOR")
    );
    let line = format!("mman = {{ version = \"{version}\", default-features = false }}");
    assert!(
        stderr.contains(&line),
        "the warning does not say {line}:\n{stderr}"
    );
    let (default, _) = build(&[], &[]);
    assert_eq!(fallback.constants, default.constants);
}

/// With no C compiler (`CC` naming no program), both paths stop with one message that says what
/// to do (install one, or set `CC`) and names the command and the variable that chose it, and
/// nothing else of the environment: build logs are often public.
fn without_a_c_compiler_the_build_says_what_to_do_and_no_more() {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("paths");
    let unrelated = "mman-test-unrelated-value";
    for args in [&["--no-default-features"][..], &[][..]] {
        let mut all = vec!["build", "--locked", "-p", "mmap-sys"];
        all.extend_from_slice(args);
        let envs = [
            ("CC", "/nonexistent/cc"),
            ("MMAN_TEST_UNRELATED", unrelated),
        ];
        let (success, _, stderr) = cargo_status(&target, &all, &envs);
        assert!(
            !success,
            "{args:?}: the build should fail without a C compiler"
        );
        let message = stderr
            .lines()
            .find(|line| line.contains("error: mmap-sys:"))
            .unwrap_or_else(|| panic!("{args:?}: no error from mmap-sys:\n{stderr}"));
        for words in [
            "cannot run the C compiler `/nonexistent/cc ",
            "(set: CC=/nonexistent/cc)",
        ] {
            assert!(message.contains(words), "{args:?}: {words:?} in {message}");
        }
        for words in [
            "install one (Debian/Ubuntu: `apt-get install gcc`",
            "or set CC",
        ] {
            assert!(stderr.contains(words), "{args:?}: {words:?} in\n{stderr}");
        }
        for leaked in [unrelated, "env -i", "CARGO_MANIFEST_DIR", "OUT_DIR="] {
            assert!(
                !stderr.contains(leaked),
                "{args:?}: {leaked:?} in\n{stderr}"
            );
        }
    }
}

/// Whether a case that sets `var` can run here: a `BINDGEN_EXTRA_CLANG_ARGS` case needs the bindgen
/// path, which a machine without libclang does not take (then `what` is reported as not checked).
fn takes_bindgen_path(var: &str, what: &str) -> bool {
    var != "BINDGEN_EXTRA_CLANG_ARGS" || default_path(what) == "bindgen"
}

/// An empty directory of this test's own, for `LIBCLANG_PATH`.
fn empty_dir() -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-libclang");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
