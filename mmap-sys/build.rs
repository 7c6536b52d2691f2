//! Generates mmap-sys from the target's memory-mapping headers, top to bottom: the header, the
//! generator, the output, when cargo reruns this script, and what dependents learn.
//!
//! - **The header**: `wrapper.h`, read as the target's C compiler reads it, on both paths
//!   (`build/target_compiler.rs`); the build stops where those headers are not the target's
//!   (`build/target_headers.rs`).
//! - **The generator**, one of two paths:
//!   - **bindgen** (the default feature `bindgen`): libclang parses `wrapper.h`; bindgen declares
//!     the functions and types of the memory-mapping headers and names the integer macros, and
//!     clang evaluates each macro's final definition (`build/bindgen_path.rs`, which reads
//!     bindgen's output back with `build/bindgen_output.rs`).
//!   - **the C compiler** (without the feature, or when libclang cannot be loaded, then with a
//!     cargo warning): the `cc` crate's compiler preprocesses `wrapper.h`, which gives the names,
//!     the values and the declarations without running anything compiled
//!     (`build/c_compiler_path.rs`, which reads the preprocessed headers as C with
//!     `build/preprocessed_c.rs`).
//!
//!   Either gives one [`Generated`]: the constants of the exported families (`build/families.rs`),
//!   chosen by one rule (`build/constant_macros.rs`); the declarations (`build/declarations.rs`);
//!   and the header files read.
//! - **The output**: `constants.rs` and `functions.rs` in `OUT_DIR`, each by one writer for both
//!   paths (`build/output.rs`), so that the paths' outputs can be compared byte for byte.
//! - **When cargo reruns this script**: a header read, `wrapper.h`, or a variable that chooses the
//!   compiler, its flags or libclang changes.
//! - **What dependents learn**, as `DEP_MMAN_*`: which constants exist (`DEFINED`), which functions
//!   (`FUNCTIONS`), which header they come from (`WRAPPER`), where the declarations are
//!   (`FUNCTIONS_RS`) and which path made them (`PATH`).

// The header.
#[path = "build/target_compiler.rs"]
mod target_compiler;
#[path = "build/target_headers.rs"]
mod target_headers;

// The generator.
#[cfg(feature = "bindgen")]
#[path = "build/bindgen_output.rs"]
mod bindgen_output;
#[cfg(feature = "bindgen")]
#[path = "build/bindgen_path.rs"]
mod bindgen_path;
#[path = "build/c_compiler_path.rs"]
mod c_compiler_path;
#[path = "build/constant_macros.rs"]
mod constant_macros;
#[path = "build/declarations.rs"]
mod declarations;
#[path = "build/families.rs"]
mod families;
#[path = "build/preprocessed_c.rs"]
mod preprocessed_c;

// The output.
#[path = "build/output.rs"]
mod output;

use std::collections::BTreeMap;
use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

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
    // The header: `wrapper.h` includes the memory-mapping headers, as the target's C compiler finds
    // them.
    let manifest_dir = PathBuf::from(env_var("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(env_var("OUT_DIR")?);
    let target = env_var("TARGET")?;
    let wrapper = manifest_dir.join("wrapper.h");

    // The generator: bindgen where it can run, the C compiler otherwise.
    let generated = match with_bindgen(&wrapper, &target)? {
        Some(generated) => generated,
        None => c_compiler_path::run(&wrapper, &out_dir)?,
    };
    generated.declarations.check()?;

    // The output.
    let constants_rs = out_dir.join("constants.rs");
    let functions_rs = out_dir.join("functions.rs");
    write(&constants_rs, &output::constants_rs(&generated.values)?)?;
    write(
        &functions_rs,
        &output::functions_rs(&generated.declarations),
    )?;

    // When cargo reruns this script. (The cc crate and bindgen also name each variable they read,
    // as they read it.)
    println!("cargo::rerun-if-changed={}", wrapper.display());
    for header in &generated.headers {
        println!("cargo::rerun-if-changed={header}");
    }
    target_compiler::rerun_if_env_changed(&target);
    #[cfg(feature = "bindgen")]
    for var in bindgen_path::ENV_VARS {
        println!("cargo::rerun-if-env-changed={var}");
    }

    // What dependents learn, as `DEP_MMAN_*`.
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
    println!("cargo::metadata=functions_rs={}", functions_rs.display());
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
    /// Every header file read, for `rerun-if-changed`.
    pub(crate) headers: Vec<String>,
}

/// The bindgen path, where the feature is on and libclang loads. `None` sends the build to the C
/// compiler, with a warning where libclang could not be loaded.
#[cfg(feature = "bindgen")]
fn with_bindgen(wrapper: &Path, target: &str) -> Result<Option<Generated>, String> {
    match bindgen_path::run(wrapper, target) {
        Ok(generated) => Ok(Some(generated)),
        Err(bindgen_path::Failure::NoLibclang(reason)) => {
            // Said in the dependency line of the user's Cargo.toml: most depend on the wrapper.
            let version = concat!(
                env!("CARGO_PKG_VERSION_MAJOR"),
                ".",
                env!("CARGO_PKG_VERSION_MINOR")
            );
            println!(
                "cargo::warning=mmap-sys: libclang could not be loaded ({reason}); the constants \
                 come from the C compiler instead, with the same values. To use bindgen, install \
                 libclang (Debian/Ubuntu: `apt-get install libclang-dev`, Fedora: `dnf install \
                 clang-devel`, macOS: the Xcode command line tools) or set LIBCLANG_PATH to the \
                 directory that holds it. To build without libclang and silence this, turn the \
                 default features off where you depend on the crate: `mman = {{ version = \
                 \"{version}\", default-features = false }}` (or `mmap-sys = {{ version = \
                 \"{version}\", default-features = false }}`)."
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
