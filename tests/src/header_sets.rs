//! Header sets other than the host's (Debian's cross compilers' and C libraries', a fixture's), and
//! what their C compiler says of them: the names and values of the exported families, found with
//! the compiler alone (`-dM -E` for the names, `-S` of a table of the values for the values), so
//! nothing foreign runs. A test builds mmap-sys against the same headers on either path and
//! compares what the build wrote ([`SysBuild::values`]) with [`c_constants`]: [`differences`].
//!
//! [`SysBuild::values`]: crate::nested::SysBuild::values

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::FAMILIES;

/// The cross header sets this workspace is verified on in host builds (clang and the C compiler
/// pointed at them): GNU triples of Debian's `gcc-<triple>` with its `libc6-dev-<arch>-cross`
/// (Alpha's is `libc6.1-dev-alpha-cross`), for architectures Rust has no installed target of.
pub const CROSS: &[&str] = &[
    "mipsel-linux-gnu",
    "mips64el-linux-gnuabi64",
    "alpha-linux-gnu",
    "hppa-linux-gnu",
    "sparc64-linux-gnu",
];

/// The Rust targets this workspace is verified on in real cross builds (`--target`), each with the
/// GNU triple of the Debian cross compiler that the cc crate picks for it (`<triple>-gcc`, with
/// `libc6-dev-<arch>-cross`).
pub const CROSS_TARGETS: &[(&str, &str)] = &[
    ("aarch64-unknown-linux-gnu", "aarch64-linux-gnu"),
    ("riscv64gc-unknown-linux-gnu", "riscv64-linux-gnu"),
    ("s390x-unknown-linux-gnu", "s390x-linux-gnu"),
    ("armv7-unknown-linux-gnueabihf", "arm-linux-gnueabihf"),
    ("powerpc64le-unknown-linux-gnu", "powerpc64le-linux-gnu"),
    ("powerpc-unknown-linux-gnu", "powerpc-linux-gnu"),
];

/// The cross C compiler of a GNU triple.
pub fn gcc(triple: &str) -> String {
    format!("{triple}-gcc")
}

/// `BINDGEN_EXTRA_CLANG_ARGS` that make clang read the header set of `triple` (and not the host's):
/// the cross compiler's own include directory, then the cross C library's.
///
/// clang has no Alpha or HPPA target: there a clang target with the same data model stands in (the
/// headers choose nothing by the architecture's predefined macros, only by their directory).
pub fn bindgen_args(triple: &str) -> String {
    let clang_target = match triple {
        "alpha-linux-gnu" => "x86_64-linux-gnu",
        "hppa-linux-gnu" => "powerpc-linux-gnu",
        other => other,
    };
    format!("--target={clang_target} {}", cross_includes(triple))
}

/// The clang arguments that replace the host's include directories by those of `triple`'s cross
/// compiler and C library (Debian's layout: `/usr/<triple>/include`).
fn cross_includes(triple: &str) -> String {
    let gcc_include = run(Command::new(gcc(triple)).arg("-print-file-name=include"));
    format!(
        "-nostdinc -isystem {} -isystem /usr/{triple}/include",
        gcc_include.trim()
    )
}

/// Each constant of the exported families that `compiler` (with `args`) sees through `wrapper`,
/// with the 32 bits of `(unsigned int)(NAME)`, read from the assembly it writes (`-S`).
pub fn c_constants(
    compiler: &str,
    args: &[&str],
    wrapper: &Path,
    scratch: &Path,
) -> BTreeMap<String, u32> {
    let defines = run(Command::new(compiler)
        .args(args)
        .arg("-dM")
        .arg("-E")
        .arg(wrapper));
    let names: Vec<&str> = defines
        .lines()
        .filter_map(|line| line.strip_prefix("#define ")?.split_whitespace().next())
        // Function-like macros are not constants; `MAP_FAILED` is a pointer.
        .filter(|name| !name.contains('(') && *name != "MAP_FAILED")
        .filter(|name| FAMILIES.iter().any(|prefix| name.starts_with(prefix)))
        .collect();
    let mut source = format!(
        "#include \"{}\"\nconst unsigned int mmap_values[] = {{\n",
        wrapper.display()
    );
    for name in &names {
        source.push_str(&format!("    (unsigned int)({name}),\n"));
    }
    source.push_str("};\n");
    std::fs::create_dir_all(scratch).expect("a scratch directory");
    let file = scratch.join(format!("values-{}.c", compiler.replace('/', "_")));
    std::fs::write(&file, source).expect("the values file is written");
    let assembly = run(Command::new(compiler)
        .args(args)
        .args(["-S", "-o", "-"])
        .arg(&file));
    let words = words_after_label(&assembly, "mmap_values");
    assert_eq!(
        words.len(),
        names.len(),
        "{compiler}: one word per name in:\n{assembly}"
    );
    names
        .iter()
        .map(|name| name.to_string())
        .zip(words)
        .collect()
}

/// The 32-bit words an assembler listing defines after `label:`, up to the next label.
fn words_after_label(assembly: &str, label: &str) -> Vec<u32> {
    let mut lines = assembly
        .lines()
        .skip_while(|line| line.trim() != format!("{label}:"));
    lines
        .next()
        .unwrap_or_else(|| panic!("no {label}: in\n{assembly}"));
    let mut words = Vec::new();
    for line in lines {
        let mut parts = line.split_whitespace();
        let (Some(directive), Some(operand)) = (parts.next(), parts.next()) else {
            break;
        };
        let number = operand.parse::<i64>();
        match (directive, number) {
            (".long" | ".word" | ".4byte" | ".int", Ok(value)) => words.push(value as u32),
            (".zero" | ".space" | ".skip" | ".block", Ok(bytes)) => {
                words.extend(std::iter::repeat(0).take(bytes as usize / 4));
            }
            _ => break,
        }
    }
    words
}

/// Where `built` (a build's [`SysBuild::values`]) differs from `c` ([`c_constants`]), name for name
/// and value for value, one line each.
///
/// [`SysBuild::values`]: crate::nested::SysBuild::values
pub fn differences(c: &BTreeMap<String, u32>, built: &BTreeMap<String, u32>) -> Vec<String> {
    let mut lines = Vec::new();
    for (name, value) in c {
        match built.get(name) {
            None => lines.push(format!("{name} missing (C: {value:#x})")),
            Some(got) if got != value => lines.push(format!("{name} = {got:#x}, C: {value:#x}")),
            Some(_) => {}
        }
    }
    for name in built.keys().filter(|name| !c.contains_key(*name)) {
        lines.push(format!("{name} extra (C does not define it)"));
    }
    lines
}

fn run(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}
