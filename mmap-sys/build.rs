//! Generates mmap-sys from the host's memory-mapping headers (`wrapper.h`), by one of two paths:
//!
//! - **bindgen** (the default feature `bindgen`): libclang parses `wrapper.h`; bindgen declares the
//!   functions and types of the memory-mapping headers and names the integer macros, and clang
//!   evaluates each macro's final definition (`build/bindgen.rs`).
//! - **the C compiler** (without the feature, or when libclang cannot be loaded, then with a cargo
//!   warning): the `cc` crate's compiler preprocesses `wrapper.h`, which gives the names, the
//!   values and the declarations without running anything compiled (`build/c_compiler.rs`,
//!   `build/c_declarations.rs`).
//!
//! Either path gives one [`Generated`]: the constants, written to `constants.rs` by
//! [`constants_rs`], each typed as the C parameter it is passed to, and the declarations, written
//! to `functions.rs` by one writer (`build/declarations.rs`), so that the paths can be compared
//! byte for byte. Dependents learn which constants exist (`DEP_MMAN_DEFINED`), which functions
//! (`DEP_MMAN_FUNCTIONS`), which header they come from (`DEP_MMAN_WRAPPER`) and which path made
//! them (`DEP_MMAN_PATH`).

#[cfg(feature = "bindgen")]
#[path = "build/bindgen.rs"]
mod bindgen_path;
#[path = "build/c_compiler.rs"]
mod c_compiler;
#[path = "build/c_declarations.rs"]
mod c_declarations;
#[path = "build/declarations.rs"]
mod declarations;
#[path = "build/target.rs"]
mod target;

use std::collections::BTreeMap;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The exported constant families: a name prefix, the Rust type of the C parameter its values are
/// passed to, and that parameter. `POSIX_MADV_` comes before `MADV_` only for readability: the
/// prefixes never overlap at the start of a name.
const FAMILIES: &[(&str, &str, &str)] = &[
    (
        "PROT_",
        "c_int",
        "the `int prot` of `mmap`, `mprotect`, `pkey_mprotect`",
    ),
    ("MAP_", "c_int", "the `int flags` of `mmap`"),
    ("MS_", "c_int", "the `int flags` of `msync`"),
    (
        "POSIX_MADV_",
        "c_int",
        "the `int advice` of `posix_madvise`",
    ),
    ("MADV_", "c_int", "the `int advice` of `madvise`"),
    ("MCL_", "c_int", "the `int flags` of `mlockall`"),
    ("MLOCK_", "c_uint", "the `unsigned int flags` of `mlock2`"),
    (
        "MFD_",
        "c_uint",
        "the `unsigned int flags` of `memfd_create`",
    ),
    ("MREMAP_", "c_int", "the `int flags` of `mremap`"),
    (
        "PKEY_",
        "c_uint",
        "the `unsigned int access_rights` of `pkey_alloc` and `pkey_set`",
    ),
];

pub(crate) fn family_of(name: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    FAMILIES
        .iter()
        .find(|(prefix, ..)| name.starts_with(prefix))
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

    let generated = match with_bindgen(&wrapper, &target)? {
        Some(generated) => generated,
        None => {
            let (generated, headers) = c_compiler::run(&wrapper, &out_dir)?;
            for file in &headers {
                println!("cargo::rerun-if-changed={file}");
            }
            generated
        }
    };
    generated.declarations.check()?;

    write(
        &out_dir.join("constants.rs"),
        &constants_rs(&generated.values)?,
    )?;
    write(
        &out_dir.join("functions.rs"),
        &generated.declarations.to_rust(),
    )?;
    let names: Vec<&str> = generated.values.keys().map(String::as_str).collect();
    let functions: Vec<&str> = generated
        .declarations
        .functions
        .keys()
        .map(String::as_str)
        .collect();
    println!("cargo::metadata=defined={}", names.join(","));
    println!("cargo::metadata=functions={}", functions.join(","));
    println!("cargo::metadata=wrapper={}", wrapper.display());
    println!(
        "cargo::metadata=functions_rs={}",
        out_dir.join("functions.rs").display()
    );
    println!("cargo::metadata=path={}", generated.path);
    Ok(())
}

/// What either path found in the headers.
pub(crate) struct Generated {
    /// `bindgen` or `c-compiler`, for `DEP_MMAN_PATH`.
    pub(crate) path: &'static str,
    /// Each constant of an exported family, with its value at the end of `wrapper.h`.
    pub(crate) values: BTreeMap<String, i64>,
    /// The functions and types the memory-mapping headers declare.
    pub(crate) declarations: declarations::Declarations,
}

/// The bindgen path, where the feature is on and libclang loads: the declarations and the
/// values. `None` sends the build to the C compiler.
#[cfg(feature = "bindgen")]
fn with_bindgen(wrapper: &Path, target: &str) -> Result<Option<Generated>, String> {
    // What finds libclang, clang (for its include directories), the target's system root, and the
    // include paths clang takes from the environment; bindgen itself names
    // `BINDGEN_EXTRA_CLANG_ARGS` and its `_<target>` forms, and every header it reads.
    for var in [
        "LIBCLANG_PATH",
        "LLVM_CONFIG_PATH",
        "CLANG_PATH",
        "SDKROOT",
        "CPATH",
        "C_INCLUDE_PATH",
    ] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    match bindgen_path::run(wrapper, target) {
        Ok(generated) => Ok(Some(generated)),
        Err(bindgen_path::Failure::NoLibclang(reason)) => {
            println!(
                "cargo::warning=mmap-sys: libclang could not be loaded ({reason}); the constants \
                 come from the C compiler instead, with the same values. To use bindgen, install \
                 libclang (Debian/Ubuntu: `apt-get install libclang-dev`, Fedora: `dnf install \
                 clang-devel`, macOS: the Xcode command line tools) or set LIBCLANG_PATH to the \
                 directory that holds it; to silence this, build mmap-sys without its `bindgen` \
                 feature."
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
/// parameter's type: one whose bits make a negative `c_int` (e.g. `MAP_HUGE_16GB`, `34U << 26`)
/// keeps its 32-bit pattern through an explicit `as` conversion, which its doc comment states.
fn constants_rs(macros: &BTreeMap<String, i64>) -> Result<String, String> {
    let mut out = String::from("// Generated by mmap-sys/build.rs from the host's headers.\n");
    for (name, &value) in macros {
        let Some(&(_, ty, parameter)) = family_of(name) else {
            continue;
        };
        // The 32 bits C passes to the parameter. The two paths may see one value two ways: the
        // preprocessor evaluates in `intmax_t` (`34 << 26` is 2281701376), the compiler in the
        // expression's own type (an `int` `34 << 26` is -2013265920): the same bits, written alike.
        let bits = match (i32::try_from(value), u32::try_from(value)) {
            (Ok(value), _) => value as u32,
            (_, Ok(value)) => value,
            _ => {
                return Err(format!(
                    "{name} = {value} does not fit the 32 bits of a {ty}"
                ))
            }
        };
        if ty == "c_int" && (bits as i32) < 0 {
            let _ = writeln!(
                out,
                "/// `{name}` = {} (`{bits:#x}`), for {parameter}.\n///\n\
                 /// The value is written as its 32-bit pattern, `{bits:#x}_u32 as c_int`, exactly \
                 what C passes to an `int` parameter.\n\
                 pub const {name}: ::core::ffi::c_int = {bits:#x}_u32 as ::core::ffi::c_int;",
                bits as i32
            );
        } else {
            let _ = writeln!(out, "/// `{name}` = {bits} (`{bits:#x}`), for {parameter}.");
            let _ = writeln!(out, "pub const {name}: ::core::ffi::{ty} = {bits};");
        }
    }
    Ok(out)
}
