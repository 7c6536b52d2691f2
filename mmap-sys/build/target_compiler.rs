//! The target's C compiler, as the `cc` crate picks it (`CC_<target>`, `CFLAGS_<target>`, ...),
//! which decides the headers both paths read: the variables that choose it (each reruns the
//! build), running it, and what the build says when it cannot.

use std::env;
use std::process::Command;

/// The environment variables the `cc` crate reads to choose the target's C compiler and its flags:
/// `CC`, `CFLAGS` and `CRATE_CC_NO_DEFAULTS`, and their `TARGET_`, `HOST_` and `_<target>` forms.
fn compiler_vars(target: &str) -> Vec<String> {
    let underscored = target.replace('-', "_");
    ["CC", "CFLAGS", "CRATE_CC_NO_DEFAULTS"]
        .iter()
        .flat_map(|var| {
            [
                var.to_string(),
                format!("TARGET_{var}"),
                format!("HOST_{var}"),
                format!("{var}_{target}"),
                format!("{var}_{underscored}"),
            ]
        })
        .collect()
}

/// The environment variables that choose the target's C compiler and its flags, or change what the
/// headers define: each reruns the build.
pub(crate) fn rerun_if_env_changed(target: &str) {
    for var in compiler_vars(target) {
        println!("cargo::rerun-if-env-changed={var}");
    }
    // Darwin's headers define some constants only from a minimum OS version on (`MAP_32BIT`).
    for var in [
        "MACOSX_DEPLOYMENT_TARGET",
        "IPHONEOS_DEPLOYMENT_TARGET",
        "TVOS_DEPLOYMENT_TARGET",
    ] {
        println!("cargo::rerun-if-env-changed={var}");
    }
}

/// The target's C compiler, as the `cc` crate picks it.
#[cfg(feature = "bindgen")]
pub(crate) fn compiler() -> Result<cc::Tool, String> {
    cc::Build::new()
        .cargo_metadata(false)
        .try_get_compiler()
        .map_err(|e| {
            format!(
                "no C compiler for the target: {e}\n{}",
                how_to_point(&target())
            )
        })
}

/// How to point the build at the target's headers: both paths read them through the target's C
/// compiler.
pub(crate) fn how_to_point(target: &str) -> String {
    let var = target.replace('-', "_");
    format!(
        "Both paths (bindgen's clang too) read the headers the target's C compiler reads: name a C \
         compiler for {target} with CC_{var} (e.g. CC_{var}=clang, which the cc crate gives \
         --target), and point it at the target's headers with \
         CFLAGS_{var}=\"--sysroot=/path/to/{target}/sysroot\" (a directory \
         holding usr/include)."
    )
}

/// The target cargo builds for.
pub(crate) fn target() -> String {
    env::var("TARGET").unwrap_or_default()
}

/// What a command printed, or why it failed.
#[cfg(feature = "bindgen")]
pub(crate) struct Output {
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs `command`, a call of the C compiler: what it printed, or what went wrong, with how to point
/// the build at the target's headers.
#[cfg(feature = "bindgen")]
pub(crate) fn run(command: &mut Command) -> Result<Output, String> {
    let output = command.output().map_err(|e| cannot_run(command, &e))?;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        // `-v` reports the compiler's configuration too: only its errors say what went wrong.
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|line| line.contains("error"))
            .collect();
        let said = if errors.is_empty() {
            stderr.clone()
        } else {
            errors.join("\n")
        };
        return Err(format!(
            "the C compiler failed ({}):\n{said}\n{}",
            command_line(command),
            how_to_point(&target())
        ));
    }
    Ok(Output {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr,
    })
}

/// The message for a C compiler that cannot be started (not installed, or `CC` names no program):
/// the command and the variables that chose it, and what to do. Not the command's `Debug` form,
/// which holds the whole environment of the build script.
pub(crate) fn cannot_run(command: &Command, error: &std::io::Error) -> String {
    let target = target();
    let set: Vec<String> = compiler_vars(&target)
        .into_iter()
        .filter_map(|var| Some(format!("{var}={}", env::var(&var).ok()?)))
        .collect();
    format!(
        "cannot run the C compiler `{}`: {error}{}.\nmmap-sys needs a C compiler for the target \
         {target}, on both paths: install one (Debian/Ubuntu: `apt-get install gcc`, Fedora: \
         `dnf install gcc`, macOS: `xcode-select --install`), or set CC (or CC_{}) to one.",
        command_line(command),
        if set.is_empty() {
            String::new()
        } else {
            format!(" (set: {})", set.join(", "))
        },
        target.replace('-', "_"),
    )
}

/// The program and its arguments, as a shell would take them (an argument with a space quoted).
fn command_line(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|arg| {
            let arg = arg.to_string_lossy();
            if arg.is_empty() || arg.contains(char::is_whitespace) {
                format!("'{arg}'")
            } else {
                arg.into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
