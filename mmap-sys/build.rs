//! Generates mmap-sys from the host's memory-mapping headers (`wrapper.h`).
//!
//! 1. Load libclang, or stop with one message saying how to get it.
//! 2. Let bindgen parse `wrapper.h`: it writes the functions to `bindings.rs` and hands every integer
//!    macro it evaluates to [`Macros`].
//! 3. Write the constants of the exported families to `constants.rs`, each typed as the C parameter
//!    it is passed to.
//! 4. Tell dependents which constants exist (`DEP_MMAN_DEFINED`) and which header they come from
//!    (`DEP_MMAN_WRAPPER`), and cargo when to rerun.

use std::collections::BTreeMap;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};

use bindgen::callbacks::{IntKind, ParseCallbacks};

/// The mapping functions exported, where the host declares them.
const FUNCTIONS: &[&str] = &[
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

fn family_of(name: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    FAMILIES.iter().find(|(prefix, ..)| name.starts_with(prefix))
}

/// Collects the value of every integer macro of an exported family, as clang and bindgen evaluate it.
#[derive(Debug, Default, Clone)]
struct Macros(Arc<Mutex<BTreeMap<String, i64>>>);

impl ParseCallbacks for Macros {
    fn int_macro(&self, name: &str, value: i64) -> Option<IntKind> {
        if family_of(name).is_some() {
            let mut macros = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            macros.insert(name.to_owned(), value);
        }
        // The constants are written by `constants_rs`, not by bindgen's code generator.
        None
    }
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
    println!("cargo::rerun-if-env-changed=LIBCLANG_PATH");

    load_libclang()?;
    let macros = Macros::default();
    let bindings = generate(&wrapper, &target, macros.clone())?;
    let macros = macros.0.lock().unwrap_or_else(PoisonError::into_inner);
    let constants = constants_rs(&macros)?;

    write(&out_dir.join("bindings.rs"), &bindings)?;
    write(&out_dir.join("constants.rs"), &constants)?;
    let names: Vec<&str> = macros.keys().map(String::as_str).collect();
    println!("cargo::metadata=defined={}", names.join(","));
    println!("cargo::metadata=wrapper={}", wrapper.display());
    Ok(())
}

fn env_var(key: &str) -> Result<String, String> {
    env::var(key).map_err(|e| format!("cargo did not set {key}: {e}"))
}

fn write(path: &Path, contents: &str) -> Result<(), String> {
    fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Loads libclang for this thread, so that bindgen finds it already loaded and never panics.
fn load_libclang() -> Result<(), String> {
    clang_sys::load().map_err(|reason| {
        format!(
            "bindgen needs libclang to read <sys/mman.h>, and none could be loaded ({reason}).\n\
             Install it (Debian/Ubuntu: `apt-get install libclang-dev`, Fedora: `dnf install \
             clang-devel`, macOS: the Xcode command line tools), or set LIBCLANG_PATH to the \
             directory that holds libclang."
        )
    })
}

/// Runs bindgen over `wrapper.h`: returns the Rust declarations of the functions, and leaves the
/// macros' values in `macros`.
fn generate(wrapper: &Path, target: &str, macros: Macros) -> Result<String, String> {
    let functions = format!("^({})$", FUNCTIONS.join("|"));
    let rust_target = bindgen::RustTarget::stable(77, 0).map_err(|e| e.to_string())?;
    let bindings = bindgen::Builder::default()
        .header(wrapper.display().to_string())
        .rust_target(rust_target)
        .use_core()
        .ctypes_prefix("::core::ffi")
        .allowlist_function(functions)
        .merge_extern_blocks(true)
        .layout_tests(false)
        .parse_callbacks(Box::new(macros))
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .generate()
        .map_err(|e| {
            let var = format!("BINDGEN_EXTRA_CLANG_ARGS_{}", target.replace('-', "_"));
            format!(
                "clang could not read the memory-mapping headers through {}: {e}\n\
                 When cross-compiling, point clang at the target's headers, e.g. \
                 {var}=\"--sysroot=/path/to/{target}/sysroot\".",
                wrapper.display()
            )
        })?;
    Ok(bindings.to_string())
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
