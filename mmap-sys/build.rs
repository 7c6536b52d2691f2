//! Generates mmap-sys from the host's memory-mapping headers (`wrapper.h`), by one of two paths:
//!
//! - **bindgen** (the default feature `bindgen`): libclang parses `wrapper.h`; bindgen writes the
//!   functions to `bindings.rs` and hands over every integer macro clang evaluates
//!   (`build/bindgen.rs`).
//! - **the C compiler** (without the feature, or when libclang cannot be loaded, then with a cargo
//!   warning): the `cc` crate's compiler preprocesses `wrapper.h`, which gives the names, the values
//!   and the declared functions without running anything compiled (`build/c_compiler.rs`); the
//!   functions' declarations are `src/functions.rs`.
//!
//! Either way, the constants of the exported families are written to `constants.rs` by
//! [`constants_rs`], each typed as the C parameter it is passed to; dependents learn which constants
//! exist (`DEP_MMAN_DEFINED`), which header they come from (`DEP_MMAN_WRAPPER`) and which path made
//! them (`DEP_MMAN_PATH`).

#[cfg(feature = "bindgen")]
#[path = "build/bindgen.rs"]
mod bindgen_path;
#[path = "build/c_compiler.rs"]
mod c_compiler;
#[path = "build/target.rs"]
mod target;

use std::collections::BTreeMap;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The mapping functions exported, where the host declares them.
pub(crate) const FUNCTIONS: &[&str] = &[
    "mmap",
    "munmap",
    "mprotect",
    "msync",
    "madvise",
    "posix_madvise",
    "mlock",
    "mlock2",
    "munlock",
    "mlockall",
    "munlockall",
    "mremap",
    "remap_file_pages",
    "mincore",
    "memfd_create",
    "shm_open",
    "shm_unlink",
    "pkey_alloc",
    "pkey_free",
    "pkey_get",
    "pkey_set",
    "pkey_mprotect",
];

/// The exported constant families: a name prefix, the Rust type of the C parameter its values are
/// passed to, and that parameter. `POSIX_MADV_` comes before `MADV_` only for readability: the
/// prefixes never overlap at the start of a name.
const FAMILIES: &[(&str, &str, &str)] = &[
    ("PROT_", "c_int", "the `int prot` of `mmap`, `mprotect`, `pkey_mprotect`"),
    ("MAP_", "c_int", "the `int flags` of `mmap`"),
    ("MS_", "c_int", "the `int flags` of `msync`"),
    ("POSIX_MADV_", "c_int", "the `int advice` of `posix_madvise`"),
    ("MADV_", "c_int", "the `int advice` of `madvise`"),
    ("MCL_", "c_int", "the `int flags` of `mlockall`"),
    ("MLOCK_", "c_uint", "the `unsigned int flags` of `mlock2`"),
    ("MFD_", "c_uint", "the `unsigned int flags` of `memfd_create`"),
    ("MREMAP_", "c_int", "the `int flags` of `mremap`"),
    ("PKEY_", "c_uint", "the `unsigned int access_rights` of `pkey_alloc` and `pkey_set`"),
];

pub(crate) fn family_of(name: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    FAMILIES.iter().find(|(prefix, ..)| name.starts_with(prefix))
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: mmap-sys: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let manifest_dir = PathBuf::from(env_var("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(env_var("OUT_DIR")?);
    let target = env_var("TARGET")?;
    let wrapper = manifest_dir.join("wrapper.h");
    println!("cargo::rerun-if-changed={}", wrapper.display());
    target::rerun_if_env_changed(&target);
    println!("cargo::rustc-check-cfg=cfg(mman_bindgen)");
    let names: Vec<String> = FUNCTIONS.iter().map(|name| format!("\"{name}\"")).collect();
    println!("cargo::rustc-check-cfg=cfg(mman_fn, values({}))", names.join(", "));

    let (path, values, functions) = match with_bindgen(&wrapper, &target)? {
        Some((bindings, values)) => {
            write(&out_dir.join("bindings.rs"), &bindings)?;
            println!("cargo::rustc-cfg=mman_bindgen");
            let declared =
                FUNCTIONS.iter().copied().filter(|f| bindings.contains(&format!(" fn {f}("))).collect();
            ("bindgen", values, declared)
        }
        None => {
            let headers = c_compiler::run(&wrapper, &out_dir)?;
            for file in &headers.files {
                println!("cargo::rerun-if-changed={file}");
            }
            for function in &headers.functions {
                println!("cargo::rustc-cfg=mman_fn=\"{function}\"");
            }
            ("c-compiler", headers.values, headers.functions)
        }
    };

    write(&out_dir.join("constants.rs"), &constants_rs(&values)?)?;
    let names: Vec<&str> = values.keys().map(String::as_str).collect();
    println!("cargo::metadata=defined={}", names.join(","));
    println!("cargo::metadata=functions={}", functions.join(","));
    println!("cargo::metadata=wrapper={}", wrapper.display());
    println!("cargo::metadata=path={path}");
    Ok(())
}

/// What bindgen made: its `bindings.rs`, and each constant's value.
type Generated = (String, BTreeMap<String, i64>);

/// The bindgen path, where the feature is on and libclang loads: bindgen's `bindings.rs` and the
/// values. `None` sends the build to the C compiler.
#[cfg(feature = "bindgen")]
fn with_bindgen(wrapper: &Path, target: &str) -> Result<Option<Generated>, String> {
    println!("cargo::rerun-if-env-changed=LIBCLANG_PATH");
    match bindgen_path::run(wrapper, target) {
        Ok(generated) => Ok(Some(generated)),
        Err(bindgen_path::Failure::NoLibclang(reason)) => {
            println!(
                "cargo::warning=mmap-sys: libclang could not be loaded ({reason}); the constants come \
                 from the C compiler instead, with the same values. To use bindgen, install libclang \
                 (Debian/Ubuntu: `apt-get install libclang-dev`, Fedora: `dnf install clang-devel`, \
                 macOS: the Xcode command line tools) or set LIBCLANG_PATH to the directory that \
                 holds it; to silence this, build mmap-sys without its `bindgen` feature."
            );
            Ok(None)
        }
        Err(bindgen_path::Failure::Headers(message)) => Err(message),
    }
}

#[cfg(not(feature = "bindgen"))]
fn with_bindgen(_: &Path, _: &str) -> Result<Option<Generated>, String> {
    Ok(None)
}

fn env_var(key: &str) -> Result<String, String> {
    env::var(key).map_err(|e| format!("cargo did not set {key}: {e}"))
}

fn write(path: &Path, contents: &str) -> Result<(), String> {
    fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Writes one typed constant per macro. A value is written as the C compiler passes it to the
/// parameter's type: one that does not fit `c_int` (e.g. `MAP_HUGE_16GB`, `34U << 26`) keeps its
/// 32-bit pattern through an explicit `as` conversion, which its doc comment states.
fn constants_rs(macros: &BTreeMap<String, i64>) -> Result<String, String> {
    let mut out = String::from("// Generated by mmap-sys/build.rs from the host's headers.\n");
    for (name, &value) in macros {
        let Some(&(_, ty, parameter)) = family_of(name) else {
            continue;
        };
        let signed = ty == "c_int";
        let fits = if signed { i32::try_from(value).is_ok() } else { u32::try_from(value).is_ok() };
        let _ = writeln!(out, "/// `{name}` = {value} (`{value:#x}`), for {parameter}.");
        if fits {
            let _ = writeln!(out, "pub const {name}: ::core::ffi::{ty} = {value};");
        } else if signed && u32::try_from(value).is_ok() {
            let _ = writeln!(
                out,
                "///\n/// The value does not fit `c_int`: this is its 32-bit pattern, \
                 `{value:#x}_u32 as c_int`, exactly what C passes to an `int` parameter.\n\
                 pub const {name}: ::core::ffi::c_int = {value:#x}_u32 as ::core::ffi::c_int;"
            );
        } else {
            return Err(format!("{name} = {value} does not fit the 32 bits of a {ty}"));
        }
    }
    Ok(out)
}
