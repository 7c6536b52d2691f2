//! The C-compiler path, with no libclang: the target's C compiler (through the `cc` crate)
//! preprocesses `wrapper.h`, and nothing compiled is ever run, so cross-compiling works.
//!
//! - Names: `cc -E -dM` lists every macro the headers define, and says whether the headers are the
//!   target's (`target_headers.rs`); those of the exported families whose definition is an integer
//!   expression are kept, by the rule both paths share (`constant_macros.rs`).
//! - Values: a generated file asks the preprocessor for each bit of each value, with
//!   `#if ((NAME) + 0ULL) >> k & 1`, and writes a string literal for each set bit; the preprocessed
//!   output is read back. The values are the preprocessor's, over the same headers.
//! - Functions and types: the preprocessed headers are read as C, by bindgen's rules
//!   (`preprocessed_c.rs`), into the same declarations as bindgen's; the conformance tests hold
//!   them against the C compiler, and against bindgen's.
//! - Headers: `cc -M` lists the headers read, for `rerun-if-changed`; the compiler and its flags
//!   rerun the build when they change (`rerun-if-env-changed`, printed by cc).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::constant_macros::Macros;
use crate::{preprocessed_c, target_compiler, target_headers, Generated};

/// What the C compiler says of the headers, and the header files it read.
pub(crate) fn run(wrapper: &Path, out_dir: &Path) -> Result<Generated, String> {
    // cc prints a `rerun-if-env-changed` line for every variable it reads to find the compiler and
    // its flags (`CC`, `CFLAGS`, their `_<target>` and `TARGET_` forms, `CRATE_CC_NO_DEFAULTS`,
    // ...).
    let compiler = cc::Build::new()
        .try_get_compiler()
        .map_err(|e| format!("no C compiler for the target: {e}"))?;
    let preprocess = |file: &Path, args: &[&str]| preprocess(&compiler, file, args);
    let defines = preprocess(wrapper, &["-dM"])?;
    target_headers::check(&defines)?;
    let mut macros = Macros::default();
    for definition in defines
        .lines()
        .filter_map(|line| line.strip_prefix("#define "))
    {
        macros.define(definition);
    }
    let names = macros.constants();

    // One `#if` per bit of each value: the preprocessor evaluates in (u)intmax_t, 64 bits.
    let mut probe = format!("#include \"{}\"\n", wrapper.display());
    for name in &names {
        for bit in 0..64 {
            let _ = writeln!(
                probe,
                "#if (({name}) + 0ULL) >> {bit} & 1\n\"mmap-sys-bit {name} {bit}\"\n#endif"
            );
        }
    }
    let probe_path = out_dir.join("constants-probe.h");
    std::fs::write(&probe_path, probe)
        .map_err(|e| format!("cannot write {}: {e}", probe_path.display()))?;
    let output = preprocess(&probe_path, &[])?;
    let mut values: BTreeMap<String, i64> = names.iter().map(|name| (name.clone(), 0)).collect();
    for line in output.lines() {
        let Some(rest) = line.trim().strip_prefix("\"mmap-sys-bit ") else {
            continue;
        };
        let mut words = rest.trim_end_matches('"').split(' ');
        let (Some(name), Some(bit)) = (
            words.next(),
            words.next().and_then(|b| b.parse::<u32>().ok()),
        ) else {
            return Err(format!("unexpected line in the preprocessed probe: {line}"));
        };
        if let Some(value) = values.get_mut(name) {
            *value |= (1u64 << bit) as i64;
        }
    }

    let declarations = preprocessed_c::declarations(&preprocess(wrapper, &[])?)?;
    let headers = dependencies(&preprocess(wrapper, &["-M"])?);
    Ok(Generated {
        path: "c-compiler",
        values,
        declarations,
        headers,
    })
}

/// Runs the C compiler's preprocessor over `file` with the target's flags (and `CFLAGS`).
fn preprocess(compiler: &cc::Tool, file: &Path, args: &[&str]) -> Result<String, String> {
    let mut command: Command = compiler.to_command();
    command.arg("-E").args(args).arg(file);
    let output = command
        .output()
        .map_err(|e| target_compiler::cannot_run(&command, &e))?;
    if !output.status.success() {
        return Err(format!(
            "the C compiler could not preprocess {}:\n{}",
            file.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8(output.stdout)
        .map_err(|e| format!("the preprocessor wrote invalid UTF-8: {e}"))
}

/// The files of a make rule (`wrapper.o: wrapper.h /usr/include/...`).
fn dependencies(rule: &str) -> Vec<String> {
    let joined = rule.replace("\\\n", " ");
    let files = joined.split_once(':').map_or("", |(_, files)| files);
    files.split_whitespace().map(str::to_owned).collect()
}
