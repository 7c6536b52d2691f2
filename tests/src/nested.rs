//! Builds of the workspace inside a test: cargo run in a target directory of the test's own, with
//! the environment a test asks for; the output of mmap-sys's build script read back; and the path a
//! default build takes on this machine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

/// The workspace's root directory.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the workspace")
        .to_owned()
}

/// Runs `cargo args` in the workspace with `CARGO_TARGET_DIR=target` and `envs`, asserts it
/// succeeds, and returns what it printed (standard output, then standard error).
pub fn cargo(target: &Path, args: &[&str], envs: &[(&str, &str)]) -> (String, String) {
    let (success, stdout, stderr) = cargo_status(target, args, envs);
    assert!(
        success,
        "cargo {args:?} with {envs:?} failed:\n{stdout}\n{stderr}"
    );
    (stdout, stderr)
}

/// Runs `cargo args` like [`cargo`]; returns whether it succeeded, and what it printed.
pub fn cargo_status(target: &Path, args: &[&str], envs: &[(&str, &str)]) -> (bool, String, String) {
    let output = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(workspace())
        .env("CARGO_TARGET_DIR", target)
        .envs(envs.iter().copied())
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.success(), stdout, stderr)
}

/// `cargo build` of mmap-sys alone, with the JSON messages [`sys_build`] reads: the start of every
/// nested build's arguments.
pub const SYS_BUILD: [&str; 5] = [
    "build",
    "--locked",
    "--message-format=json",
    "-p",
    "mmap-sys",
];

/// What one run of mmap-sys's build script reported, and the constants it wrote.
pub struct SysBuild {
    /// Its `cargo::metadata=` lines: `defined`, `functions`, `wrapper`, `path`.
    pub metadata: BTreeMap<String, String>,
    /// `constants.rs`: each constant's name, with its Rust type and value as written.
    pub constants: BTreeMap<String, String>,
    /// `functions.rs`: the functions and types declared, as written.
    pub functions: String,
    /// The directory it wrote them to.
    pub out_dir: PathBuf,
}

impl SysBuild {
    /// Each constant it wrote, with the 32 bits of its value (`c_int = 32;`, or
    /// `c_int = 0x88000000_u32 as ::core::ffi::c_int;` for one whose bits make a negative `c_int`).
    pub fn values(&self) -> BTreeMap<String, u32> {
        self.constants
            .iter()
            .map(|(name, declaration)| {
                let value = declaration.split_once(" = ").expect("a typed constant").1;
                let value = value
                    .trim_end_matches(';')
                    .split(' ')
                    .next()
                    .unwrap_or_default();
                let bits = if let Some(hex) = value.strip_prefix("0x") {
                    u32::from_str_radix(hex.trim_end_matches("_u32"), 16).ok()
                } else {
                    value.parse::<i64>().ok().map(|v| v as u32)
                };
                (
                    name.clone(),
                    bits.unwrap_or_else(|| panic!("{name}: cannot read {declaration}")),
                )
            })
            .collect()
    }
}

/// The run of mmap-sys's build script that a cargo command with `--message-format=json` used (ran,
/// or found fresh), from the `build-script-executed` message on its standard output.
pub fn sys_build(stdout: &str) -> SysBuild {
    let out_dir = stdout
        .lines()
        .filter(|line| {
            line.contains(r#""reason":"build-script-executed""#) && line.contains("mmap-sys")
        })
        .find_map(|line| {
            let rest = &line[line.find(r#""out_dir":""#)? + r#""out_dir":""#.len()..];
            Some(PathBuf::from(&rest[..rest.find('"')?]))
        })
        .expect("cargo reports mmap-sys's build script (with --message-format=json)");
    let output =
        fs::read_to_string(out_dir.with_file_name("output")).expect("the build script's output");
    let metadata = output
        .lines()
        .filter_map(|line| line.strip_prefix("cargo::metadata=")?.split_once('='))
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect();
    let constants_rs = fs::read_to_string(out_dir.join("constants.rs")).expect("constants.rs");
    let constants = constants_rs
        .lines()
        .filter_map(|line| line.strip_prefix("pub const ")?.split_once(": "))
        .map(|(name, rest)| (name.to_owned(), rest.to_owned()))
        .collect();
    let functions = fs::read_to_string(out_dir.join("functions.rs")).expect("functions.rs");
    SysBuild {
        metadata,
        constants,
        functions,
        out_dir,
    }
}

/// Whether libclang loads here, found as mmap-sys's build script finds it (clang-sys's search, with
/// `LIBCLANG_PATH`, which the nested builds inherit): where it does, a default build must take the
/// bindgen path; where it does not, the C-compiler path.
///
/// # Errors
///
/// Why libclang does not load: clang-sys's message (no library found, or one that fails to load).
pub fn libclang() -> Result<(), String> {
    clang_sys::load()
}

/// The path a default build of mmap-sys takes on this machine: `"bindgen"` where libclang loads,
/// else `"c-compiler"`, after saying what `unchecked` (what needs bindgen) is not checked here.
pub fn default_path(unchecked: &str) -> &'static str {
    match libclang() {
        Ok(()) => "bindgen",
        Err(reason) => {
            crate::not_checked(&format!(
                "{unchecked}: libclang cannot be loaded here ({reason})"
            ));
            "c-compiler"
        }
    }
}
