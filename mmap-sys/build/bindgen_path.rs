//! The bindgen path, the default: bindgen parses `wrapper.h` with libclang, in two passes.
//!
//! 1. bindgen reads `wrapper.h`, writes the functions (read back by `bindgen_output.rs`), and hands
//!    over every macro definition ([`Reported`]); the constants are the macros of the exported
//!    families whose definition is an integer expression, by the rule both paths share
//!    (`constant_macros.rs`). bindgen's own evaluation of a macro is not used: it evaluates a macro
//!    once, at its first definition, where headers `#undef` and define some again (alpha's
//!    `MAP_FIXED`, mips' `MAP_RENAME`, powerpc's `PKEY_ACCESS_MASK`), and not at all where it calls
//!    a function-like macro (FreeBSD's `MAP_ALIGNED_SUPER`, `MAP_ALIGNED(1)`).
//! 2. A generated header includes `wrapper.h` and then gives each found name to a constant, `static
//!    const long long mmap_sys_value_NAME = (long long)((NAME) + 0ULL);`: clang evaluates it where
//!    the preprocessor has the final definition, exactly as the C compiler does.
//!
//! clang reads the headers the target's C compiler reads (`target_headers.rs`). Every header file
//! clang reads is reported, for `rerun-if-changed`; every environment variable bindgen reads reruns
//! the build.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use bindgen::callbacks::{ParseCallbacks, Token};

use crate::constant_macros::Macros;
use crate::{bindgen_output, declarations, target_headers, Generated};

/// The environment variables that change what this path finds, besides the ones bindgen reads (it
/// reports those, `BINDGEN_EXTRA_CLANG_ARGS` and its `_<target>` forms): what finds libclang, clang
/// (for its include directories), the target's system root, and the include paths clang takes from
/// the environment.
pub(crate) const ENV_VARS: &[&str] = &[
    "LIBCLANG_PATH",
    "LLVM_CONFIG_PATH",
    "CLANG_PATH",
    "SDKROOT",
    "CPATH",
    "C_INCLUDE_PATH",
];

/// What bindgen reports while it reads `wrapper.h`: every macro definition, in order, as the text
/// after `#define ` (`NAME body`, `NAME(a,b) body`), and every header file.
#[derive(Debug, Default, Clone)]
struct Reported {
    definitions: Arc<Mutex<Vec<String>>>,
    headers: Arc<Mutex<BTreeSet<String>>>,
}

impl Reported {
    /// The macros and the headers reported, once bindgen is done.
    fn take(&self) -> (Macros, BTreeSet<String>) {
        let mut macros = Macros::default();
        let definitions = self
            .definitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for definition in definitions.iter() {
            macros.define(definition);
        }
        let headers = self.headers.lock().unwrap_or_else(PoisonError::into_inner);
        (macros, headers.clone())
    }

    /// Records `#define head body`, the body's tokens separated by spaces.
    fn define(&self, head: &str, body: &[&[u8]]) {
        let body: Vec<_> = body.iter().map(|t| String::from_utf8_lossy(t)).collect();
        let mut definitions = self
            .definitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        definitions.push(format!("{head} {}", body.join(" ")));
    }
}

impl ParseCallbacks for Reported {
    /// Every object-like macro: its tokens, its name first. They are left as they are.
    fn modify_macro(&self, name: &str, tokens: &mut Vec<Token>) {
        let body: Vec<&[u8]> = tokens.iter().skip(1).map(|t| &*t.raw).collect();
        self.define(name, &body);
    }

    /// Every function-like macro: `NAME(a,b)` and the tokens of its body.
    fn func_macro(&self, head: &str, body: &[&[u8]]) {
        self.define(head, body);
    }

    fn header_file(&self, filename: &str) {
        let mut headers = self.headers.lock().unwrap_or_else(PoisonError::into_inner);
        headers.insert(filename.to_owned());
    }

    fn include_file(&self, filename: &str) {
        self.header_file(filename);
    }

    fn read_env_var(&self, key: &str) {
        // Told to cargo as it is read, as the cc crate does for the variables it reads.
        println!("cargo::rerun-if-env-changed={key}");
    }
}

/// Why the bindgen path did not run.
pub(crate) enum Failure {
    /// No libclang could be loaded: the build falls back to the C compiler, with a warning.
    NoLibclang(String),
    /// clang could not read the headers: an error.
    Headers(String),
}

/// The declarations and the constants' values, as libclang reads them.
pub(crate) fn run(wrapper: &Path, target: &str) -> Result<Generated, Failure> {
    // Loaded for this thread, so that bindgen finds it already loaded and never panics.
    clang_sys::load().map_err(Failure::NoLibclang)?;
    let reported = Reported::default();
    let rust_target = bindgen::RustTarget::stable(77, 0)
        .map_err(|e| Failure::Headers(format!("bindgen: {e}")))?;
    // The target's headers, as its C compiler finds them.
    let include = target_headers::clang_args(wrapper).map_err(Failure::Headers)?;
    let bindings = bindgen::Builder::default()
        .header(wrapper.display().to_string())
        .clang_args(&include)
        .rust_target(rust_target)
        .use_core()
        .ctypes_prefix("::core::ffi")
        .allowlist_file(declarations::MMAN_FILES)
        // The constants are `constants.rs`'s, with their final values.
        .blocklist_var(".*")
        .merge_extern_blocks(true)
        .generate_comments(false)
        .formatter(bindgen::Formatter::None)
        .layout_tests(false)
        .parse_callbacks(Box::new(reported.clone()))
        .generate()
        .map_err(|e| unreadable(wrapper, target, e))?;
    let (macros, headers) = reported.take();
    let values = final_values(wrapper, target, &include, &macros.constants())?;
    let declarations =
        bindgen_output::declarations(&bindings.to_string()).map_err(Failure::Headers)?;
    Ok(Generated {
        path: "bindgen",
        values,
        declarations,
        headers: headers.into_iter().collect(),
    })
}

const VALUE_PREFIX: &str = "mmap_sys_value_";

/// The value each of `names` has at the end of `wrapper.h`, as clang evaluates it (pass 2).
fn final_values(
    wrapper: &Path,
    target: &str,
    include: &[String],
    names: &BTreeSet<String>,
) -> Result<BTreeMap<String, i64>, Failure> {
    let mut header = format!("#include \"{}\"\n", wrapper.display());
    for name in names {
        // A name the headers `#undef` for good is not a constant of theirs.
        let _ = writeln!(
            header,
            "#ifdef {name}\n\
             static const long long {VALUE_PREFIX}{name} = (long long)(({name}) + 0ULL);\n\
             #endif"
        );
    }
    let bindings = bindgen::Builder::default()
        .header_contents("mmap-sys-values.h", &header)
        .clang_args(include)
        .allowlist_var(format!("{VALUE_PREFIX}.*"))
        .formatter(bindgen::Formatter::None)
        .layout_tests(false)
        .generate()
        .map_err(|e| unreadable(wrapper, target, e))?
        .to_string();
    // Each value is one `pub const mmap_sys_value_NAME : :: core :: ffi :: c_longlong = 32 ;`; a
    // name the headers `#undef` for good has none.
    let mut values = BTreeMap::new();
    for item in bindings
        .split(';')
        .filter(|item| item.contains(VALUE_PREFIX))
    {
        let parsed = item.split_once("pub const ").and_then(|(_, rest)| {
            let (name, _) = rest.split_once(':')?;
            let (_, value) = rest.split_once('=')?;
            let name = name.trim().strip_prefix(VALUE_PREFIX)?;
            Some((name.to_owned(), value.replace(' ', "").parse::<i64>().ok()?))
        });
        let (name, value) = parsed.ok_or_else(|| {
            Failure::Headers(format!(
                "clang did not evaluate a constant to an integer: {}",
                item.trim()
            ))
        })?;
        values.insert(name, value);
    }
    Ok(values)
}

fn unreadable(wrapper: &Path, target: &str, e: bindgen::BindgenError) -> Failure {
    let var = target.replace('-', "_");
    Failure::Headers(format!(
        "clang could not read the memory-mapping headers through {}: {e}\n\
         clang reads the headers the target's C compiler finds: when cross-compiling, point \
         that compiler at the target's headers, e.g. \
         CFLAGS_{var}=\"--sysroot=/path/to/{target}/sysroot\".",
        wrapper.display()
    ))
}
