//! The default path: bindgen parses `wrapper.h` with libclang, in two passes.
//!
//! 1. bindgen reads `wrapper.h`, writes the functions, and hands over the name of every integer macro
//!    of an exported family ([`Macros`]). The value it has with it is not used: bindgen evaluates a
//!    macro once, at its first definition, and headers `#undef` and define some again (alpha's
//!    `MAP_FIXED`, mips' `MAP_RENAME`, powerpc's `PKEY_ACCESS_MASK`).
//! 2. A generated header includes `wrapper.h` and then gives each found name to a constant,
//!    `static const long long mmap_sys_value_NAME = (long long)((NAME) + 0ULL);`: clang evaluates it
//!    where the preprocessor has the final definition, exactly as the C compiler does.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use bindgen::callbacks::{IntKind, ParseCallbacks};

use crate::{family_of, FUNCTIONS};

/// Collects the name of every integer macro of an exported family.
#[derive(Debug, Default, Clone)]
struct Macros(Arc<Mutex<BTreeSet<String>>>);

impl ParseCallbacks for Macros {
    fn int_macro(&self, name: &str, _first_value: i64) -> Option<IntKind> {
        if family_of(name).is_some() {
            let mut macros = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            macros.insert(name.to_owned());
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
    let bindings = bindgen::Builder::default()
        .header(wrapper.display().to_string())
        .rust_target(rust_target)
        .use_core()
        .ctypes_prefix("::core::ffi")
        .allowlist_function(functions)
        .merge_extern_blocks(true)
        .layout_tests(false)
        .parse_callbacks(Box::new(macros.clone()))
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .generate()
        .map_err(|e| unreadable(wrapper, target, e))?;
    let names = macros.0.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let values = final_values(wrapper, target, &names)?;
    Ok((bindings.to_string(), values))
}

const VALUE_PREFIX: &str = "mmap_sys_value_";

/// The value each of `names` has at the end of `wrapper.h`, as clang evaluates it (pass 2).
fn final_values(
    wrapper: &Path,
    target: &str,
    names: &BTreeSet<String>,
) -> Result<BTreeMap<String, i64>, Failure> {
    let mut header = format!("#include \"{}\"\n", wrapper.display());
    for name in names {
        // A name the headers `#undef` for good is not a constant of theirs.
        let _ = writeln!(
            header,
            "#ifdef {name}\nstatic const long long {VALUE_PREFIX}{name} = (long long)(({name}) + 0ULL);\n#endif"
        );
    }
    let bindings = bindgen::Builder::default()
        .header_contents("mmap-sys-values.h", &header)
        .allowlist_var(format!("{VALUE_PREFIX}.*"))
        .formatter(bindgen::Formatter::None)
        .layout_tests(false)
        .generate()
        .map_err(|e| unreadable(wrapper, target, e))?
        .to_string();
    // Each value is one `pub const mmap_sys_value_NAME : :: core :: ffi :: c_longlong = 32 ;`; a name
    // the headers `#undef` for good has none.
    let mut values = BTreeMap::new();
    for item in bindings.split(';').filter(|item| item.contains(VALUE_PREFIX)) {
        let parsed = item.split_once("pub const ").and_then(|(_, rest)| {
            let (name, _) = rest.split_once(':')?;
            let (_, value) = rest.split_once('=')?;
            let name = name.trim().strip_prefix(VALUE_PREFIX)?;
            Some((name.to_owned(), value.replace(' ', "").parse::<i64>().ok()?))
        });
        let (name, value) = parsed.ok_or_else(|| {
            Failure::Headers(format!("clang did not evaluate a constant to an integer: {}", item.trim()))
        })?;
        values.insert(name, value);
    }
    Ok(values)
}

fn unreadable(wrapper: &Path, target: &str, e: bindgen::BindgenError) -> Failure {
    let var = format!("BINDGEN_EXTRA_CLANG_ARGS_{}", target.replace('-', "_"));
    Failure::Headers(format!(
        "clang could not read the memory-mapping headers through {}: {e}\n\
         When cross-compiling, point clang at the target's headers, e.g. \
         {var}=\"--sysroot=/path/to/{target}/sysroot\".",
        wrapper.display()
    ))
}
