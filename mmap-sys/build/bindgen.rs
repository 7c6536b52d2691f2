//! The default path: bindgen parses `wrapper.h` with libclang, writes the functions, and hands every
//! integer macro clang evaluates to [`Macros`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use bindgen::callbacks::{IntKind, ParseCallbacks};

use crate::{family_of, FUNCTIONS};

/// Collects the value of every integer macro of an exported family, as clang evaluates it.
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

/// Why the bindgen path did not run.
pub(crate) enum Failure {
    /// No libclang could be loaded: the build falls back to the C compiler, with a warning.
    NoLibclang(String),
    /// clang could not read the headers: an error.
    Headers(String),
}

/// The functions' Rust declarations (bindgen's `bindings.rs`) and the constants' values.
pub(crate) fn run(wrapper: &Path, target: &str) -> Result<crate::Generated, Failure> {
    // Loaded for this thread, so that bindgen finds it already loaded and never panics.
    clang_sys::load().map_err(Failure::NoLibclang)?;
    let macros = Macros::default();
    let functions = format!("^({})$", FUNCTIONS.join("|"));
    let rust_target =
        bindgen::RustTarget::stable(77, 0).map_err(|e| Failure::Headers(format!("bindgen: {e}")))?;
    // The target's headers, as its C compiler finds them (build/target.rs).
    let include = crate::target::clang_args(wrapper).map_err(Failure::Headers)?;
    let bindings = bindgen::Builder::default()
        .header(wrapper.display().to_string())
        .clang_args(include)
        .rust_target(rust_target)
        .use_core()
        .ctypes_prefix("::core::ffi")
        .allowlist_function(functions)
        .merge_extern_blocks(true)
        .layout_tests(false)
        .parse_callbacks(Box::new(macros.clone()))
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .generate()
        .map_err(|e| {
            let var = target.replace('-', "_");
            Failure::Headers(format!(
                "clang could not read the memory-mapping headers through {}: {e}\n\
                 clang reads the headers the target's C compiler finds: when cross-compiling, point \
                 that compiler at the target's headers, e.g. CFLAGS_{var}=\"--sysroot=/path/to/{target}/sysroot\".",
                wrapper.display()
            ))
        })?;
    let values = macros.0.lock().unwrap_or_else(PoisonError::into_inner).clone();
    Ok((bindings.to_string(), values))
}
