//! Which headers the build reads: the target's, as its C compiler (`target_compiler.rs`) finds
//! them, on both paths.
//!
//! - [`clang_args`]: bindgen's clang gets the C compiler's include search path (`<cc> -E -v`) in
//!   place of its own (`-nostdlibinc`, then `-isystem` each directory), so that it reads the
//!   headers of the C library the target links against (musl's for a musl target, a macOS SDK's for
//!   macOS), not the host's.
//! - [`check`]: the preprocessor's view of `wrapper.h` (`-dM`) must be the target's operating
//!   system (`__linux__`, `__APPLE__`, `__FreeBSD__`, ... against `CARGO_CFG_TARGET_OS`) and its C
//!   library (glibc's `__GLIBC__` only for a `gnu` target; Darwin's and FreeBSD's `<sys/cdefs.h>`
//!   marks): a foreign target never silently gets this machine's headers.

use std::collections::BTreeSet;
use std::env;
#[cfg(feature = "bindgen")]
use std::path::{Path, PathBuf};
#[cfg(feature = "bindgen")]
use std::process::Stdio;

#[cfg(feature = "bindgen")]
use crate::target_compiler::{compiler, run};
use crate::target_compiler::{how_to_point, target};

/// The arguments that make bindgen's clang read the headers the target's C compiler reads:
/// `-nostdlibinc` (clang keeps its own `stddef.h` and the like, drops the host's system
/// directories), then each directory of the C compiler's search path but its own built-in headers,
/// in order.
///
/// Without a C compiler for the host itself, clang's own defaults are the host's: no argument.
///
/// Where the user gives clang arguments of their own (`BINDGEN_EXTRA_CLANG_ARGS` or its `_<target>`
/// forms, which bindgen reads), those decide what clang reads (a `--target` and `-isystem` of
/// another header set, say): nothing is added to them, since a directory added here would be
/// searched first.
#[cfg(feature = "bindgen")]
pub(crate) fn clang_args(wrapper: &Path) -> Result<Vec<String>, String> {
    let target = target();
    let underscored = target.replace('-', "_");
    let extra = [
        "BINDGEN_EXTRA_CLANG_ARGS".to_owned(),
        format!("BINDGEN_EXTRA_CLANG_ARGS_{target}"),
        format!("BINDGEN_EXTRA_CLANG_ARGS_{underscored}"),
    ];
    if extra
        .iter()
        .any(|var| env::var_os(var).is_some_and(|value| !value.is_empty()))
    {
        return Ok(Vec::new());
    }
    let compiler = match compiler() {
        Ok(compiler) => compiler,
        Err(_) if env::var("HOST").is_ok_and(|host| host == target) => return Ok(Vec::new()),
        Err(message) => return Err(message),
    };
    let output = run(compiler
        .to_command()
        .args(["-E", "-v", "-x", "c", "-"])
        .stdin(Stdio::null()))?;
    let own = own_include_dir(&compiler);
    let mut args = vec!["-nostdlibinc".to_owned()];
    args.extend(preprocessor_flags(&compiler));
    for dir in search_path(&output.stderr)? {
        let (dir, framework) = match dir.strip_suffix(" (framework directory)") {
            Some(dir) => (dir, true),
            None => (dir, false),
        };
        let path = Path::new(dir)
            .canonicalize()
            .unwrap_or_else(|_| PathBuf::from(dir));
        if own.as_ref().is_some_and(|own| path.starts_with(own)) {
            continue;
        }
        args.push(if framework { "-iframework" } else { "-isystem" }.to_owned());
        args.push(path.display().to_string());
    }
    check(&preprocess_defines(&compiler, wrapper)?)?;
    Ok(args)
}

/// The C compiler's flags that change what the headers define, for clang to get them too: macros
/// (`-D`, `-U`, from `CFLAGS` say) and the minimum OS version (`-mmacosx-version-min=11.0`, which
/// the cc crate derives from `MACOSX_DEPLOYMENT_TARGET`).
#[cfg(feature = "bindgen")]
fn preprocessor_flags(compiler: &cc::Tool) -> Vec<String> {
    let mut flags = Vec::new();
    let mut args = compiler
        .args()
        .iter()
        .map(|arg| arg.to_string_lossy().into_owned());
    while let Some(arg) = args.next() {
        if arg == "-D" || arg == "-U" {
            flags.extend(args.next().map(|value| format!("{arg}{value}")));
        } else if arg.starts_with("-D") || arg.starts_with("-U") || arg.contains("-version-min=") {
            flags.push(arg);
        }
    }
    flags
}

/// The C compiler's `-dM` view of `wrapper.h`: each line a `#define`.
#[cfg(feature = "bindgen")]
fn preprocess_defines(compiler: &cc::Tool, wrapper: &Path) -> Result<String, String> {
    let output = run(compiler.to_command().args(["-E", "-dM"]).arg(wrapper))?;
    Ok(output.stdout)
}

/// The directory of the compiler's own headers (gcc's `.../gcc/<triple>/<version>`, clang's
/// resource directory), from `-print-file-name=include`; `None` if it does not say.
#[cfg(feature = "bindgen")]
fn own_include_dir(compiler: &cc::Tool) -> Option<PathBuf> {
    let output = run(compiler.to_command().arg("-print-file-name=include")).ok()?;
    let include = Path::new(output.stdout.trim()).canonicalize().ok()?;
    include.parent().map(Path::to_path_buf)
}

/// The directories of the `#include <...>` search list of `-v`'s report.
#[cfg(feature = "bindgen")]
fn search_path(report: &str) -> Result<Vec<&str>, String> {
    let mut lines = report
        .lines()
        .skip_while(|line| !line.starts_with("#include <...> search starts here"));
    if lines.next().is_none() {
        return Err(format!(
            "the C compiler's -E -v printed no include search list:\n{report}"
        ));
    }
    Ok(lines
        .take_while(|line| !line.starts_with("End of search list"))
        .map(str::trim)
        .collect())
}

/// The target's operating system, each a name `CARGO_CFG_TARGET_OS` takes: the macro its compiler
/// predefines, and a macro only its C library's headers define (read through `<sys/mman.h>`).
const SYSTEMS: &[(&str, &str, Option<&str>)] = &[
    ("linux", "__linux__", None),
    ("android", "__ANDROID__", None),
    ("macos", "__APPLE__", Some("__DARWIN_C_LEVEL")),
    ("ios", "__APPLE__", Some("__DARWIN_C_LEVEL")),
    ("tvos", "__APPLE__", Some("__DARWIN_C_LEVEL")),
    ("watchos", "__APPLE__", Some("__DARWIN_C_LEVEL")),
    ("visionos", "__APPLE__", Some("__DARWIN_C_LEVEL")),
    ("freebsd", "__FreeBSD__", Some("__FBSDID")),
    ("netbsd", "__NetBSD__", None),
    ("openbsd", "__OpenBSD__", None),
    ("dragonfly", "__DragonFly__", None),
    ("solaris", "__sun", None),
    ("illumos", "__sun", None),
];

/// Checks that the macros the preprocessor defined over `wrapper.h` (`-dM` output) are the target's
/// operating system's and C library's; otherwise says how to point the build at the target's
/// headers.
pub(crate) fn check(defines: &str) -> Result<(), String> {
    let names: BTreeSet<&str> = defines
        .lines()
        .filter_map(|line| line.strip_prefix("#define "))
        .map(|rest| {
            rest.split(|c: char| c == '(' || c.is_whitespace())
                .next()
                .unwrap_or(rest)
        })
        .collect();
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let mut wrong = Vec::new();
    if let Some(&(_, predefined, marker)) = SYSTEMS.iter().find(|(name, ..)| *name == os) {
        if !names.contains(predefined) {
            let theirs: Vec<&str> = SYSTEMS
                .iter()
                .map(|&(_, m, _)| m)
                .filter(|m| names.contains(m))
                .collect();
            wrong.push(format!(
                "the preprocessor defines {}, not {predefined}",
                if theirs.is_empty() {
                    "no operating system's macro".to_owned()
                } else {
                    theirs.join(", ")
                }
            ));
        }
        if let Some(marker) = marker.filter(|marker| !names.contains(marker)) {
            wrong.push(format!(
                "<sys/mman.h> is not {os}'s (its <sys/cdefs.h> would define {marker})"
            ));
        }
    }
    // uClibc defines __GLIBC__ too, and says it is uClibc.
    let glibc = names.contains("__GLIBC__") && !names.contains("__UCLIBC__");
    if glibc && !(env == "gnu" && matches!(os.as_str(), "linux" | "hurd")) {
        wrong.push(
            "the headers are glibc's (they define __GLIBC__), and the target's C library is not"
                .to_owned(),
        );
    }
    // A gnu target may read other Linux headers on purpose (musl's, a reduced set, to see what a
    // build without some constants does): only glibc's headers for a target of another C library,
    // which would declare functions that library lacks, are refused.
    if wrong.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the headers the C compiler reads are not those of the target {}: {}.\n{}",
        target(),
        wrong.join("; "),
        how_to_point(&target())
    ))
}
