//! mmap-sys built for other targets than this machine's, on both paths, exports exactly what the
//! target's own headers define, as that target's C compiler reads them:
//!
//! - `x86_64-unknown-linux-musl`: musl's headers, through `x86_64-linux-musl-gcc` (musl-tools),
//!   which the cc crate picks; no glibc-only function (`pkey_*`) may slip in from this machine's
//!   headers.
//! - `aarch64-apple-darwin`, `x86_64-apple-darwin`, `x86_64-unknown-freebsd`: the systems' headers
//!   from the PyPI package ziglang, laid out as each target's include tree by `.ci/sysroots` and
//!   read by `clang --target`. macOS's depend on `MACOSX_DEPLOYMENT_TARGET` (`MAP_32BIT` from 10.15
//!   on).
//!
//! Each constant's value is checked by the target's preprocessor (`#if (NAME) != (value)` /
//! `#error`), and every macro of the families that the target's C compiler takes as an integer
//! constant expression (a `case` label) is exported, those that call a function-like macro too. A
//! target whose compiler, rustup target or headers this machine lacks is named in the output as not
//! checked. (`i686-unknown-linux-gnu` is checked by running the other conformance tests there.)
//!
//! And a foreign target with this machine's headers is refused with a message that says how to
//! point the build at the target's.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use mmap_conformance::nested::{sys_build, workspace, SysBuild, SYS_BUILD};
use mmap_conformance::{not_checked, FAMILIES};

fn target_dir() -> PathBuf {
    // The directory of paths_agree.rs: bindgen, a build dependency, is built once for both.
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("paths")
}

/// `cargo build -p mmap-sys --target <target> [args]` with `envs`: what the build script made, or
/// what cargo said when it failed.
fn build(target: &str, args: &[&str], envs: &[(String, String)]) -> Result<SysBuild, String> {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command
        .args(SYS_BUILD)
        .args(["--target", target])
        .args(args)
        .current_dir(workspace())
        .env("CARGO_TARGET_DIR", target_dir());
    // Only what the test sets points the build at headers, not the environment it runs in.
    let var = target.replace('-', "_");
    for key in [
        format!("CC_{var}"),
        format!("CFLAGS_{var}"),
        "MACOSX_DEPLOYMENT_TARGET".to_owned(),
    ] {
        command.env_remove(key);
    }
    command.envs(envs.iter().map(|(k, v)| (k, v)));
    let output = command.output().expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!(
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(sys_build(&stdout))
}

/// Runs `compiler` (a command and its arguments) with `args` more; its standard output, or its
/// standard error when it fails.
fn run(compiler: &[String], args: &[&str]) -> Result<String, String> {
    let output = Command::new(&compiler[0])
        .args(&compiler[1..])
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {compiler:?}: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// Holds `build`'s constants and functions against what `compiler` reads through `wrapper.h`.
fn check_against_the_c_compiler(what: &str, build: &SysBuild, compiler: &[String]) {
    let wrapper = workspace().join("mmap-sys/wrapper.h");
    let wrapper = wrapper.to_str().unwrap();
    let defines = run(compiler, &["-E", "-dM", wrapper]).unwrap();
    let in_c: Vec<&str> = defines
        .lines()
        .filter_map(|line| line.strip_prefix("#define ")?.split(' ').next())
        .filter(|name| !name.contains('(') && FAMILIES.iter().any(|f| name.starts_with(f)))
        .collect();
    // Each value as the preprocessor computes it, in 64 bits: 0x88000000 for a `c_int` written as
    // that bit pattern.
    let values: BTreeMap<String, i64> = build
        .values()
        .into_iter()
        .map(|(name, bits)| (name, i64::from(bits)))
        .collect();

    // Every exported value, checked by the target's preprocessor.
    let mut probe = format!("#include \"{wrapper}\"\n");
    for (name, value) in &values {
        assert!(
            in_c.contains(&name.as_str()),
            "{what}: {name} is exported, and the C headers do not define it"
        );
        let _ = writeln!(
            probe,
            "#if ({name}) != ({value}LL)\n#error {name} is not {value}\n#endif"
        );
    }
    let probe_path = target_dir().join(format!("probe-{}.h", what.replace([' ', ','], "-")));
    std::fs::write(&probe_path, probe).unwrap();
    if let Err(errors) = run(compiler, &["-E", probe_path.to_str().unwrap()]) {
        panic!("{what}: mmap-sys's values differ from the C compiler's:\n{errors}");
    }

    // Every constant left out is one that is not an integer constant expression in C (`MAP_FAILED`,
    // a pointer): the target's C compiler refuses it as a `case` label. Macros whose expansion
    // calls a function-like macro (FreeBSD's `MAP_ALIGNED_SUPER`, `MAP_ALIGNED(1)`) are constants
    // too.
    let lacking: Vec<&str> = in_c
        .iter()
        .copied()
        .filter(|name| !values.contains_key(*name))
        .filter(|name| {
            let probe = format!(
                "#include \"{wrapper}\"\n\
                 int mmap_probe(int x) {{ switch (x) {{ case ({name}): return 1; }} return 0; }}\n"
            );
            let probe_c = probe_path.with_extension("c");
            std::fs::write(&probe_c, probe).unwrap();
            run(compiler, &["-fsyntax-only", probe_c.to_str().unwrap()]).is_ok()
        })
        .collect();
    assert!(
        lacking.is_empty(),
        "{what}: integer constants of the C headers that mmap-sys lacks: {lacking:?}"
    );

    // The functions: each declared by the headers.
    let declarations = run(compiler, &["-E", wrapper]).unwrap();
    for function in build.metadata["functions"].split(',') {
        let declared = declarations.match_indices(function).any(|(at, _)| {
            let before = declarations[..at].chars().next_back();
            let after = declarations[at + function.len()..]
                .trim_start()
                .chars()
                .next();
            !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') && after == Some('(')
        });
        assert!(
            declared,
            "{what}: mmap-sys exports {function}, and the C headers do not declare it"
        );
    }
    println!(
        "{what}: {} constants equal the C compiler's; functions {}",
        values.len(),
        build.metadata["functions"]
    );
}

/// Whether rustup has the standard library of `target` here.
fn has_rust_target(target: &str) -> bool {
    let output = Command::new("rustc").args(["--print", "sysroot"]).output();
    let Ok(output) = output else { return false };
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    Path::new(&sysroot)
        .join("lib/rustlib")
        .join(target)
        .exists()
}

/// The variables `.ci/sysroots` sets for the macOS and FreeBSD targets (`CC_<target>`,
/// `CFLAGS_<target>`), or why there are none (no ziglang).
fn foreign_sysroots() -> Result<Vec<(String, String)>, String> {
    // Python's traceback for a missing module says no more than this test does.
    if Command::new("python3")
        .args(["-c", "import ziglang"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_or(true, |s| !s.success())
    {
        return Err("the PyPI package ziglang is not installed (`pip install ziglang`)".to_owned());
    }
    let script = workspace().join(".ci/sysroots");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sysroots");
    let shell = format!(
        "eval \"$(bash {} {})\" && env",
        script.display(),
        dir.display()
    );
    let output = Command::new("bash")
        .args(["-c", &shell])
        .output()
        .map_err(|e| e.to_string())?;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_once('='))
        .filter(|(key, _)| key.starts_with("CC_") || key.starts_with("CFLAGS_"))
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect())
}

#[test]
fn other_targets_get_their_own_headers_on_both_paths() {
    let mut unchecked = Vec::new();

    // musl: the cc crate's compiler for it, x86_64-linux-musl-gcc, is musl-gcc.
    let musl = "x86_64-unknown-linux-musl";
    let compiler = vec!["x86_64-linux-musl-gcc".to_owned()];
    if !has_rust_target(musl) || run(&compiler, &["--version"]).is_err() {
        unchecked.push(format!(
            "{musl} (needs `rustup target add {musl}` and musl-tools)"
        ));
    } else {
        for args in [&[][..], &["--no-default-features"][..]] {
            let build = build(musl, args, &[]).unwrap();
            assert!(
                !build.metadata["functions"].contains("pkey_"),
                "musl has no pkey_*"
            );
            check_against_the_c_compiler(&format!("{musl} {args:?}"), &build, &compiler);
        }
    }

    // macOS and FreeBSD, from ziglang's headers.
    match foreign_sysroots() {
        Err(why) => unchecked.push(format!("macOS and FreeBSD: {why}")),
        Ok(envs) => {
            for target in [
                "aarch64-apple-darwin",
                "x86_64-apple-darwin",
                "x86_64-unknown-freebsd",
            ] {
                if !has_rust_target(target) {
                    unchecked.push(format!("{target} (needs `rustup target add {target}`)"));
                    continue;
                }
                let var = target.replace('-', "_");
                let flags = &envs
                    .iter()
                    .find(|(k, _)| *k == format!("CFLAGS_{var}"))
                    .unwrap()
                    .1;
                let clang_target = match target {
                    "aarch64-apple-darwin" => "--target=arm64-apple-macosx",
                    "x86_64-apple-darwin" => "--target=x86_64-apple-macosx",
                    _ => "--target=x86_64-unknown-freebsd",
                };
                for deployment in ["11.0", "10.14"] {
                    let is_apple = target.contains("apple");
                    if !is_apple && deployment != "11.0" {
                        continue;
                    }
                    let mut envs = envs.clone();
                    let mut compiler = vec!["clang".to_owned(), clang_target.to_owned()];
                    if is_apple {
                        envs.push(("MACOSX_DEPLOYMENT_TARGET".to_owned(), deployment.to_owned()));
                        compiler.push(format!("-mmacosx-version-min={deployment}"));
                    }
                    compiler.extend(flags.split(' ').map(str::to_owned));
                    let mut declared = Vec::new();
                    for args in [&[][..], &["--no-default-features"][..]] {
                        let build = build(target, args, &envs).unwrap();
                        declared.push(build.functions.clone());
                        let deployment_target = format!(" MACOSX_DEPLOYMENT_TARGET={deployment}");
                        let what = format!(
                            "{target} {args:?}{}",
                            if is_apple { &deployment_target } else { "" }
                        );
                        check_against_the_c_compiler(&what, &build, &compiler);
                        if is_apple {
                            // MAP_32BIT is defined from macOS 10.15 on: the variable reran the
                            // build.
                            let has = build.constants.contains_key("MAP_32BIT");
                            assert_eq!(has, deployment == "11.0", "{what}: MAP_32BIT");
                        }
                    }
                    // The C-compiler path declares every function and type as bindgen does from the
                    // same headers, byte for byte: macOS's variadic `shm_open` among them.
                    assert_eq!(
                        declared[0], declared[1],
                        "{target}: the two paths' declarations differ"
                    );
                    if is_apple {
                        let shm_open = declared[1]
                            .lines()
                            .find(|line| line.contains("pub fn shm_open("))
                            .unwrap();
                        assert!(
                            shm_open.contains("..."),
                            "{target}: shm_open is variadic: {shm_open}"
                        );
                    }
                }
            }

            // Without the target's headers, both paths stop and say how to point at them.
            for args in [&[][..], &["--no-default-features"][..]] {
                let error = build("x86_64-unknown-freebsd", args, &[])
                    .map(drop)
                    .unwrap_err();
                for words in [
                    "not those of the target x86_64-unknown-freebsd",
                    "CFLAGS_x86_64_unknown_freebsd",
                ] {
                    assert!(
                        error.contains(words),
                        "{args:?}: the error does not say {words:?}:\n{error}"
                    );
                }
            }
        }
    }

    for what in &unchecked {
        not_checked(what);
    }
}
