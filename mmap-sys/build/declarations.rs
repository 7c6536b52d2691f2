//! The functions and types the memory-mapping headers declare, as both paths find them
//! (`bindgen_output.rs`, `preprocessed_c.rs`) and as `output.rs` writes them to `functions.rs`.
//!
//! The declarations are the ones bindgen makes (the C-compiler path follows its rules): every
//! function declared in a memory-mapping header ([`MMAN_FILES`]), every `typedef` declared there,
//! and the `typedef`s and `struct`s these use. A `typedef` keeps its name (`off_t`, `__off64_t`)
//! and becomes a Rust type alias of what it names; `size_t` is `usize`; a `struct` the headers only
//! declare (`struct iovec;`) is an opaque type used behind pointers. A function whose symbol an
//! earlier one already links to (`mmap64`, once `mmap` is `mmap64` under `_FILE_OFFSET_BITS=64`) is
//! left out, as bindgen does.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The memory-mapping headers, as a regular expression that matches a header's whole path (bindgen
/// anchors it): `sys/mman.h`, `bits/mman*.h`, `linux/mman.h` and `asm*/mman*.h`.
#[cfg_attr(not(feature = "bindgen"), allow(dead_code))]
pub(crate) const MMAN_FILES: &str =
    r"(.*/)?(sys/mman\.h|bits/mman[^/]*\.h|linux/mman\.h|asm[^/]*/mman[^/]*\.h)";

/// Whether `path` is one of [`MMAN_FILES`] (the same test, without a regular-expression engine).
pub(crate) fn is_mman_file(path: &str) -> bool {
    let mut parts = path.rsplit('/');
    let (Some(file), directory) = (parts.next(), parts.next()) else {
        return false;
    };
    let mman = file.starts_with("mman") && file.ends_with(".h");
    match directory {
        Some("sys" | "linux") => file == "mman.h",
        Some("bits") => mman,
        Some(directory) => directory.starts_with("asm") && mman,
        None => false,
    }
}

/// The primitive Rust types a declaration may use: `core::ffi`'s (written `::core::ffi::NAME`) and
/// the ones bindgen gives `size_t`, `ssize_t` and `<stdint.h>`'s types.
pub(crate) const PRIMITIVES: &[&str] = &[
    "c_char",
    "c_schar",
    "c_uchar",
    "c_short",
    "c_ushort",
    "c_int",
    "c_uint",
    "c_long",
    "c_ulong",
    "c_longlong",
    "c_ulonglong",
    "usize",
    "isize",
    "i8",
    "u8",
    "i16",
    "u16",
    "i32",
    "u32",
    "i64",
    "u64",
    "bool",
];

/// A Rust type of a declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Type {
    /// `core::ffi::c_void`, behind a pointer.
    Void,
    /// One of [`PRIMITIVES`].
    Primitive(String),
    /// A type alias or opaque struct of the same declarations.
    Named(String),
    /// `*mut T` or `*const T`.
    Pointer { mutable: bool, to: Box<Type> },
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Void => f.write_str("::core::ffi::c_void"),
            Type::Primitive(name) if name.starts_with("c_") => write!(f, "::core::ffi::{name}"),
            Type::Primitive(name) | Type::Named(name) => f.write_str(name),
            Type::Pointer { mutable, to } => {
                write!(f, "*{} {to}", if *mutable { "mut" } else { "const" })
            }
        }
    }
}

/// A function's declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Function {
    /// The symbol it links to where that is not its name (an `__asm__` label), as given.
    pub(crate) link_name: Option<String>,
    /// Each parameter's name (as bindgen names it) and type.
    pub(crate) params: Vec<(String, Type)>,
    /// Whether it takes `...` after them.
    pub(crate) variadic: bool,
    /// What it returns; `None` for `void`.
    pub(crate) returns: Option<Type>,
}

/// Everything the memory-mapping headers declare, ready for `functions.rs`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Declarations {
    /// Each `typedef`: its name and the type it names.
    pub(crate) aliases: BTreeMap<String, Type>,
    /// Each `struct` declared and not defined.
    pub(crate) opaque: BTreeSet<String>,
    /// Each function, by name.
    pub(crate) functions: BTreeMap<String, Function>,
}

impl Declarations {
    /// Adds `function` under `name` unless an earlier function links to the same symbol.
    pub(crate) fn add_function(&mut self, name: String, function: Function) {
        let symbol = function.link_name.as_deref().unwrap_or(&name);
        let taken = self
            .functions
            .iter()
            .any(|(other, f)| f.link_name.as_deref().unwrap_or(other) == symbol);
        if !taken && !self.functions.contains_key(&name) {
            self.functions.insert(name, function);
        }
    }

    /// Checks that every named type is declared here and every primitive is known.
    pub(crate) fn check(&self) -> Result<(), String> {
        let mut types: Vec<(&str, &Type)> =
            self.aliases.iter().map(|(n, t)| (n.as_str(), t)).collect();
        for (name, function) in &self.functions {
            types.extend(function.params.iter().map(|(_, ty)| (name.as_str(), ty)));
            types.extend(function.returns.iter().map(|ty| (name.as_str(), ty)));
        }
        for (user, mut ty) in types {
            if let Type::Named(name) = ty {
                if self.opaque.contains(name) {
                    return Err(format!(
                        "{user} takes or returns struct {name} by value, whose fields mmap-sys \
                         does not translate (an opaque type is used behind pointers only)"
                    ));
                }
            }
            while let Type::Pointer { to, .. } = ty {
                ty = to;
            }
            match ty {
                Type::Named(name)
                    if !self.aliases.contains_key(name) && !self.opaque.contains(name) =>
                {
                    return Err(format!(
                        "{user} uses the type {name}, which the headers do not declare"
                    ));
                }
                Type::Primitive(name) if !PRIMITIVES.contains(&name.as_str()) => {
                    return Err(format!(
                        "{user} uses the type {name}, which mmap-sys does not know"
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// A C name as a Rust identifier, the way bindgen makes it (its `rust_mangle`): a Rust keyword or
/// primitive type gets a `_` appended.
pub(crate) fn rust_ident(name: &str) -> String {
    const RESERVED: &[&str] = &[
        "abstract", "alignof", "as", "async", "await", "become", "box", "break", "const",
        "continue", "crate", "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for",
        "gen", "if", "impl", "in", "let", "loop", "macro", "match", "mod", "move", "mut",
        "offsetof", "override", "priv", "proc", "pub", "pure", "ref", "return", "Self", "self",
        "sizeof", "static", "struct", "super", "trait", "true", "try", "type", "typeof", "unsafe",
        "unsized", "use", "virtual", "where", "while", "yield", "str", "bool", "f32", "f64",
        "usize", "isize", "u128", "i128", "u64", "i64", "u32", "i32", "u16", "i16", "u8", "i8",
        "_",
    ];
    if RESERVED.contains(&name) {
        format!("{name}_")
    } else {
        name.to_owned()
    }
}
