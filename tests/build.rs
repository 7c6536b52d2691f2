//! Builds the C side of the conformance tests from mmap-sys's own `wrapper.h`:
//!
//! - asks the C preprocessor which constants the headers define (`-dM`), independently of bindgen;
//! - compiles `probe.c`, a table of the C compiler's value of each of them, plus `MAP_FAILED`;
//! - compiles `prototypes.c` with `-Werror`: each function assigned to a pointer of the prototype
//!   in [`PROTOTYPES`], which `signatures.rs` also holds the Rust declarations to;
//! - writes `tables.rs`: each name's value in mmap-sys, in the `libc` crate and in C.

use std::collections::BTreeSet;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// The constant families mmap-sys promises to export.
const FAMILIES: &[&str] =
    &["PROT_", "MAP_", "MS_", "MADV_", "POSIX_MADV_", "MCL_", "MLOCK_", "MFD_", "MREMAP_", "PKEY_"];

/// Each function's C prototype as glibc declares it: name, return type, parameter types.
const PROTOTYPES: &[(&str, &str, &[&str])] = &[
    ("mmap", "void *", &["void *", "size_t", "int", "int", "int", "off_t"]),
    ("munmap", "int", &["void *", "size_t"]),
    ("mprotect", "int", &["void *", "size_t", "int"]),
    ("msync", "int", &["void *", "size_t", "int"]),
    ("madvise", "int", &["void *", "size_t", "int"]),
    ("posix_madvise", "int", &["void *", "size_t", "int"]),
    ("mlock", "int", &["const void *", "size_t"]),
    ("mlock2", "int", &["const void *", "size_t", "unsigned int"]),
    ("munlock", "int", &["const void *", "size_t"]),
    ("mlockall", "int", &["int"]),
    ("munlockall", "int", &[]),
    ("mremap", "void *", &["void *", "size_t", "size_t", "int", "..."]),
    ("remap_file_pages", "int", &["void *", "size_t", "int", "size_t", "int"]),
    ("mincore", "int", &["void *", "size_t", "unsigned char *"]),
    ("memfd_create", "int", &["const char *", "unsigned int"]),
    ("shm_open", "int", &["const char *", "int", "mode_t"]),
    ("shm_unlink", "int", &["const char *"]),
    ("pkey_alloc", "int", &["unsigned int", "unsigned int"]),
    ("pkey_free", "int", &["int"]),
    ("pkey_get", "int", &["int"]),
    ("pkey_set", "int", &["int", "unsigned int"]),
    ("pkey_mprotect", "int", &["void *", "size_t", "int", "int"]),
];

/// The Rust type each C type of [`PROTOTYPES`] must be declared as.
fn rust_type(c: &str) -> &'static str {
    match c {
        "void *" => "*mut c_void",
        "const void *" => "*const c_void",
        "const char *" => "*const c_char",
        "unsigned char *" => "*mut c_uchar",
        "size_t" => "usize",
        "int" => "c_int",
        "unsigned int" => "c_uint",
        // `_FILE_OFFSET_BITS=64`: 64 bits on every target.
        "off_t" => "i64",
        "mode_t" => "mmap_sys::mode_t",
        "..." => "...",
        other => panic!("no Rust type for the C type `{other}`"),
    }
}

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let wrapper = PathBuf::from(env::var("DEP_MMAN_WRAPPER").expect("mmap-sys sets DEP_MMAN_WRAPPER"));
    let rust_names: BTreeSet<String> = env::var("DEP_MMAN_DEFINED")
        .expect("mmap-sys sets DEP_MMAN_DEFINED")
        .split(',')
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=DEP_MMAN_DEFINED");

    let c_names = c_constant_names(&wrapper);
    let include = format!("#include \"{}\"\n", wrapper.display());

    let mut probe = include.clone();
    probe.push_str(
        "struct mmap_probe_constant { const char *name; long long value; };\n\
         const struct mmap_probe_constant mmap_probe_constants[] = {\n",
    );
    for name in &c_names {
        let _ = writeln!(probe, "    {{ \"{name}\", (long long)({name}) }},");
    }
    probe.push_str(
        "};\n\
         const unsigned long mmap_probe_constants_len =\n    \
             sizeof mmap_probe_constants / sizeof mmap_probe_constants[0];\n\
         void *mmap_probe_map_failed(void) { return MAP_FAILED; }\n",
    );

    let mut prototypes = include;
    for (name, ret, params) in PROTOTYPES {
        let params = if params.is_empty() { "void".to_owned() } else { params.join(", ") };
        let _ = writeln!(prototypes, "{ret} (*const mmap_probe_fn_{name})({params}) = {name};");
    }

    let probe_c = out.join("probe.c");
    let prototypes_c = out.join("prototypes.c");
    write(&probe_c, &probe);
    write(&prototypes_c, &prototypes);
    cc::Build::new()
        .file(&probe_c)
        .file(&prototypes_c)
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .compile("mmap_probe");

    let all_names: BTreeSet<&String> = c_names.iter().chain(&rust_names).collect();
    write(&out.join("tables.rs"), &tables_rs(&all_names));
    write(&out.join("signatures.rs"), &signatures_rs());
}

fn write(path: &Path, contents: &str) {
    fs::write(path, contents).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// The names of the integer constants `wrapper.h` defines, as the C preprocessor lists them.
fn c_constant_names(wrapper: &Path) -> BTreeSet<String> {
    let defines = cc::Build::new().file(wrapper).flag("-dM").expand();
    String::from_utf8_lossy(&defines)
        .lines()
        .filter_map(|line| line.strip_prefix("#define ")?.split_whitespace().next())
        // Function-like macros are not constants; `MAP_FAILED` is a pointer, checked on its own.
        .filter(|name| !name.contains('(') && *name != "MAP_FAILED")
        .filter(|name| FAMILIES.iter().any(|prefix| name.starts_with(prefix)))
        .map(str::to_owned)
        .collect()
}

/// For every name C or mmap-sys defines: its value in mmap-sys and in the `libc` crate, or `None`
/// where that crate lacks it. A name is looked up in an inner block that glob-imports the crate, so
/// it resolves to the crate's item when there is one and to [`missing`]'s placeholder otherwise.
fn tables_rs(names: &BTreeSet<&String>) -> String {
    let mut missing = String::from("#[allow(dead_code, unreachable_pub)]\nmod missing {\n");
    let mut rows = String::new();
    for name in names {
        let _ = writeln!(missing, "    pub const {name}: crate::Missing = crate::Missing;");
        let _ = writeln!(rows, "            (\"{name}\", {name}.value()),");
    }
    missing.push_str("}\n");
    let table = |krate: &str| {
        format!(
            "/// Each name C or mmap-sys defines, with its value in `{krate}` (`None`: missing).\n\
             pub fn {krate}_values() -> Vec<(&'static str, Option<i64>)> {{\n    \
                 #[allow(unused_imports)]\n    use self::missing::*;\n    {{\n        \
                     #[allow(unused_imports)]\n        use {krate}::*;\n        vec![\n{rows}        ]\n    }}\n}}\n"
        )
    };
    format!("{missing}\n{}\n{}", table("mmap_sys"), table("libc"))
}

/// `checked()`: each function as a pointer of the prototype of [`PROTOTYPES`], which compiles only
/// if mmap-sys declares it with exactly that prototype, and makes the linker resolve it.
fn signatures_rs() -> String {
    let mut out = String::from(
        "/// Each function, with its address once typed as the prototype the C side was compiled against.\n\
         pub fn checked() -> Vec<(&'static str, usize)> {\n    vec![\n",
    );
    for (name, ret, params) in PROTOTYPES {
        let params: Vec<&str> = params.iter().map(|p| rust_type(p)).collect();
        let ret = rust_type(ret);
        let _ = writeln!(
            out,
            "        (\"{name}\", {{\n            \
                 let f: unsafe extern \"C\" fn({}) -> {ret} = mmap_sys::{name};\n            \
                 f as usize\n        }}),",
            params.join(", ")
        );
    }
    out.push_str("    ]\n}\n");
    out
}
