//! Builds the C side of the conformance tests from mmap-sys's own `wrapper.h`:
//!
//! - asks the C preprocessor which constants the headers define (`-dM`), independently of bindgen;
//! - compiles `probe.c`, a table of the C compiler's value of each of them, plus `MAP_FAILED`;
//! - compiles `prototypes.c` with `-Werror`: each function mmap-sys declares (its `functions.rs`,
//!   `DEP_MMAN_FUNCTIONS_RS`), its Rust declaration turned back into C, assigned to a pointer of
//!   that prototype, and each type alias held compatible with the C type it names; plus a table of
//!   each function's address as C links it, which `signatures.rs` sets beside Rust's;
//! - lists the functions the C compiler declares in the memory-mapping headers (gcc's `-aux-info`),
//!   for `signatures.rs`;
//! - writes `tables.rs`: each name's value in mmap-sys, in the `libc` crate and in C;
//! - sets `cfg(c_has = "NAME")` where the C headers define the constant or declare the function
//!   `NAME` of [`GATED`], which the tests name only there (musl's headers lack `pkey_*` and
//!   `process_mrelease`).

use std::collections::BTreeSet;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

// Public for the library; the build script uses it privately.
#[allow(unreachable_pub)]
#[path = "src/families.rs"]
mod families;
use families::FAMILIES;

/// The constants and functions the tests name only where the C headers have them:
/// `#[cfg(c_has = "NAME")]`. `rustc-check-cfg` flags a name that is not in this list.
const GATED: &[&str] = &["PKEY_DISABLE_WRITE", "process_mrelease"];

/// A declaration of mmap-sys's `functions.rs`, read back.
enum Item {
    /// `pub type NAME = TYPE;`
    Alias(String, String),
    /// `pub struct NAME { _unused: [u8; 0] }`
    Opaque(String),
    /// `pub fn NAME(a: T, ...) -> R;`: the name, the parameters' types (`...` last if variadic) and
    /// the return type (`None`: `void`).
    Function(String, Vec<String>, Option<String>),
}

/// The items of `functions.rs`, whose writer puts each on one line.
fn items(functions_rs: &str) -> Vec<Item> {
    functions_rs
        .lines()
        .map(str::trim)
        .filter_map(|line| {
            if let Some(rest) = line.strip_prefix("pub type ") {
                let (name, ty) = rest.trim_end_matches(';').split_once(" = ")?;
                Some(Item::Alias(name.to_owned(), ty.to_owned()))
            } else if let Some(rest) = line.strip_prefix("pub struct ") {
                Some(Item::Opaque(rest.trim_end_matches(" {").to_owned()))
            } else if let Some(rest) = line.strip_prefix("pub fn ") {
                let (name, rest) = rest.split_once('(')?;
                let (params, returns) = rest.trim_end_matches(';').rsplit_once(')')?;
                let params = params
                    .split(", ")
                    .filter(|p| !p.is_empty())
                    .map(|p| p.split_once(": ").map_or(p, |(_, ty)| ty).to_owned())
                    .collect();
                let returns = returns.strip_prefix(" -> ").map(str::to_owned);
                Some(Item::Function(name.to_owned(), params, returns))
            } else {
                None
            }
        })
        .collect()
}

/// The C type a Rust type of `functions.rs` stands for: `*const ::core::ffi::c_char` is
/// `const char *`, an alias is the C `typedef` of the same name, an opaque type its `struct`.
fn c_type(rust: &str, opaque: &BTreeSet<String>) -> String {
    if let Some(to) = rust.strip_prefix("*mut ") {
        return format!("{} *", c_type(to, opaque));
    }
    if let Some(to) = rust.strip_prefix("*const ") {
        let inner = c_type(to, opaque);
        return if to.starts_with('*') {
            format!("{inner} const *")
        } else {
            format!("const {inner} *")
        };
    }
    let name = rust.trim_start_matches("::core::ffi::");
    match name {
        "c_void" => "void",
        "c_char" => "char",
        "c_schar" => "signed char",
        "c_uchar" => "unsigned char",
        "c_short" => "short",
        "c_ushort" => "unsigned short",
        "c_int" => "int",
        "c_uint" => "unsigned int",
        "c_long" => "long",
        "c_ulong" => "unsigned long",
        "c_longlong" => "long long",
        "c_ulonglong" => "unsigned long long",
        "usize" => "size_t",
        "isize" => "ptrdiff_t",
        "i8" | "i16" | "i32" | "i64" => return format!("int{}_t", &name[1..]),
        "u8" | "u16" | "u32" | "u64" => return format!("uint{}_t", &name[1..]),
        "bool" => "_Bool",
        "..." => "...",
        _ if opaque.contains(name) => return format!("struct {name}"),
        // A `typedef` of the headers, under its own name.
        _ => name,
    }
    .to_owned()
}

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let wrapper =
        PathBuf::from(env::var("DEP_MMAN_WRAPPER").expect("mmap-sys sets DEP_MMAN_WRAPPER"));
    let rust_names: BTreeSet<String> = env::var("DEP_MMAN_DEFINED")
        .expect("mmap-sys sets DEP_MMAN_DEFINED")
        .split(',')
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/families.rs");
    println!("cargo::rerun-if-env-changed=DEP_MMAN_DEFINED");
    // For the nested builds of `tests/header_sets.rs`, which name the host target explicitly.
    println!(
        "cargo::rustc-env=MMAP_CONFORMANCE_TARGET={}",
        env::var("TARGET").expect("cargo sets TARGET")
    );

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

    let functions_rs =
        env::var("DEP_MMAN_FUNCTIONS_RS").expect("mmap-sys sets DEP_MMAN_FUNCTIONS_RS");
    println!("cargo::rerun-if-changed={functions_rs}");
    let items = items(&fs::read_to_string(&functions_rs).expect("mmap-sys's functions.rs"));
    let opaque: BTreeSet<String> = items
        .iter()
        .filter_map(|item| {
            if let Item::Opaque(name) = item {
                Some(name.clone())
            } else {
                None
            }
        })
        .collect();
    let mut prototypes = format!("{include}#include <stddef.h>\n#include <stdint.h>\n");
    let mut names = Vec::new();
    for item in &items {
        match item {
            Item::Alias(name, ty) => {
                let c = c_type(ty, &opaque);
                let _ = writeln!(
                    prototypes,
                    "_Static_assert(__builtin_types_compatible_p({name}, {c}), \"{name} is {c}\");"
                );
            }
            Item::Opaque(_) => {}
            Item::Function(name, params, returns) => {
                let params: Vec<String> = params.iter().map(|p| c_type(p, &opaque)).collect();
                let params = if params.is_empty() {
                    "void".to_owned()
                } else {
                    params.join(", ")
                };
                let returns = returns
                    .as_deref()
                    .map_or_else(|| "void".to_owned(), |r| c_type(r, &opaque));
                let _ = writeln!(
                    prototypes,
                    "{returns} (*const mmap_probe_fn_{name})({params}) = {name};"
                );
                names.push(name.clone());
            }
        }
    }
    prototypes.push_str("void (*const mmap_probe_addresses[])(void) = {\n");
    for name in &names {
        let _ = writeln!(prototypes, "    (void (*)(void)){name},");
    }
    prototypes.push_str("};\n");

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
    let c_functions = c_declared_functions(&wrapper, &out.join("aux-info.txt"));
    write(
        &out.join("signatures.rs"),
        &signatures_rs(&names, c_functions.as_ref()),
    );

    // Where gcc cannot list the functions (another compiler), mmap-sys's own list stands in: its
    // functions are C's (`prototypes.c` above does not compile otherwise).
    let functions = c_functions.unwrap_or_else(|| names.iter().cloned().collect());
    let gated: Vec<String> = GATED.iter().map(|name| format!("\"{name}\"")).collect();
    println!(
        "cargo::rustc-check-cfg=cfg(c_has, values({}))",
        gated.join(", ")
    );
    for name in GATED {
        if c_names.contains(*name) || functions.contains(*name) {
            println!("cargo::rustc-cfg=c_has=\"{name}\"");
        }
    }
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

/// The functions the C compiler declares in the memory-mapping headers (`sys/mman.h`,
/// `bits/mman*.h`, `linux/mman.h`, `asm*/mman*.h`), from the list of every declaration that gcc's
/// `-aux-info` writes to `aux_info`; `None` where the compiler does not write one (clang).
fn c_declared_functions(wrapper: &Path, aux_info: &Path) -> Option<BTreeSet<String>> {
    let compiler = cc::Build::new().get_compiler();
    let status = compiler
        .to_command()
        .arg("-aux-info")
        .arg(aux_info)
        .args(["-fsyntax-only", "-x", "c"])
        .arg(wrapper)
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    // `/* /usr/include/x86_64-linux-gnu/sys/mman.h:76:NC */ extern int munmap (void *, size_t);`
    let list = fs::read_to_string(aux_info).ok()?;
    let functions = list
        .lines()
        .filter_map(|line| {
            let (place, declaration) = line.strip_prefix("/* ")?.split_once(" */ ")?;
            let (file, _) = place.split_once(':')?;
            if !is_mman_header(file) {
                return None;
            }
            let before_parameters = declaration.split_once('(')?.0.trim_end();
            let start = before_parameters
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(0, |at| at + 1);
            Some(before_parameters[start..].to_owned())
        })
        .collect();
    Some(functions)
}

/// Whether `path` is a memory-mapping header: `sys/mman.h`, `linux/mman.h`, `bits/mman*.h` or
/// `asm*/mman*.h`.
fn is_mman_header(path: &str) -> bool {
    let mut parts = path.rsplit('/');
    let (Some(file), Some(directory)) = (parts.next(), parts.next()) else {
        return false;
    };
    let mman = file.starts_with("mman") && file.ends_with(".h");
    match directory {
        "sys" | "linux" => file == "mman.h",
        "bits" => mman,
        _ => directory.starts_with("asm") && mman,
    }
}

/// For every name C or mmap-sys defines: its value in mmap-sys and in the `libc` crate, or `None`
/// where that crate lacks it. A name is looked up in an inner block that glob-imports the crate, so
/// it resolves to the crate's item when there is one and to [`missing`]'s placeholder otherwise.
fn tables_rs(names: &BTreeSet<&String>) -> String {
    let mut missing = String::from("#[allow(dead_code, unreachable_pub)]\nmod missing {\n");
    let mut rows = String::new();
    for name in names {
        let _ = writeln!(
            missing,
            "    pub const {name}: crate::Missing = crate::Missing;"
        );
        let _ = writeln!(rows, "            (\"{name}\", {name}.value()),");
    }
    missing.push_str("}\n");
    let table = |krate: &str| {
        format!(
            "/// Each name C or mmap-sys defines, with its value in `{krate}` (`None`: missing).\n\
             pub fn {krate}_values() -> Vec<(&'static str, Option<i64>)> {{\n    \
                 #[allow(unused_imports)]\n    use self::missing::*;\n    {{\n        \
                     #[allow(unused_imports)]\n        use {krate}::*;\n        \
                     vec![\n{rows}        ]\n    }}\n}}\n"
        )
    };
    format!("{missing}\n{}\n{}", table("mmap_sys"), table("libc"))
}

/// `checked()`: each function mmap-sys declares, with its address in Rust and the address of the
/// function of that name in C (`mmap_probe_addresses`, in the same order), so that a wrong link
/// name shows.
///
/// And `C_DECLARED`: the functions the C compiler declares in the memory-mapping headers, where it
/// can list them.
fn signatures_rs(names: &[String], c_functions: Option<&BTreeSet<String>>) -> String {
    let mut out = format!(
        "extern \"C\" {{\n    static mmap_probe_addresses: [unsafe extern \"C\" fn(); {}];\n}}\n\n\
         /// Each function: its name, its address through mmap-sys, and the address C takes for
         /// it.\n\
         pub fn checked() -> Vec<(&'static str, usize, usize)> {{\n    \
             // SAFETY: the probe defines the array with one entry per name, in this order.\n    \
             let c = unsafe {{ mmap_probe_addresses }};\n    vec![\n",
        names.len()
    );
    for (i, name) in names.iter().enumerate() {
        let _ = writeln!(
            out,
            "        (\"{name}\", mmap_sys::{name} as *const () as usize, c[{i}] as usize),"
        );
    }
    out.push_str("    ]\n}\n\n");
    out.push_str(
        "/// The functions the C compiler declares in the memory-mapping headers (gcc's `-aux-info`),\n\
         /// or `None` where it cannot list them (a compiler other than gcc).\n\
         pub const C_DECLARED: Option<&[&str]> = ",
    );
    match c_functions {
        Some(functions) => {
            let quoted: Vec<String> = functions.iter().map(|f| format!("\"{f}\"")).collect();
            let _ = writeln!(out, "Some(&[{}]);", quoted.join(", "));
        }
        None => out.push_str("None;\n"),
    }
    out
}
