//! Child processes for the tests that need one: the test binary runs again, running only one test,
//! with `MMAP_TEST_CHILD` naming it.

#![allow(dead_code)] // each test file uses part of this

use std::process::{Command, Output};

/// Set in the child: the name of the test whose child part should run.
const CHILD: &str = "MMAP_TEST_CHILD";

/// Whether this process is the child run for `test`.
pub(crate) fn in_child(test: &str) -> bool {
    std::env::var(CHILD).is_ok_and(|name| name == test)
}

/// The command that runs `test` again in a child process; add to it, then run it.
pub(crate) fn child(test: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, test);
    command
}

/// Runs the command and asserts that the child ran its one test and passed, showing its output if
/// not.
pub(crate) fn assert_success(command: &mut Command) -> Output {
    let output = command.output().unwrap();
    assert!(
        output.status.success()
            && String::from_utf8_lossy(&output.stdout).contains("test result: ok. 1 passed"),
        "the child failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // What the child did not run, and why, shows in the parent's output.
    for line in String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.starts_with("not run:"))
    {
        println!("child: {line}");
    }
    output
}

/// Whether this process runs under valgrind (`.ci/valgrind`). Its emulated kernel lacks
/// `MAP_FIXED_NOREPLACE` (taken for a hint, which `mmap` reports as `Unsupported`) and `mlock2`, it
/// cannot move every map `mremap` is asked to grow (`ENOMEM`), and its own mappings show in
/// `/proc/self/maps`: the assertions on those are skipped there, saying so.
pub(crate) fn under_valgrind() -> bool {
    static VALGRIND: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *VALGRIND.get_or_init(|| {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
        maps.lines().any(|line| line.contains("/valgrind/"))
    })
}

/// Prints why part of a test does not run under valgrind, and returns whether it runs under it.
pub(crate) fn skip_under_valgrind(what: &str) -> bool {
    let skip = under_valgrind();
    if skip {
        println!("not run under valgrind: {what}");
    }
    skip
}

/// A field of `/proc/self/status`, such as `VmLck` (in kB) or `CapEff` (hexadecimal).
pub(crate) fn status(field: &str) -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with(&format!("{field}:")))
        .unwrap();
    line.split_whitespace().nth(1).unwrap().to_owned()
}

/// The locked memory of this process in KiB: `VmLck`.
pub(crate) fn locked_kib() -> u64 {
    status("VmLck").parse().unwrap()
}

/// This process's mappings from `/proc/self/maps`: start, end, and the rest of the line
/// (permissions, offset, device, inode, path).
pub(crate) fn mappings() -> Vec<(usize, usize, String)> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines()
        .map(|line| {
            let (range, rest) = line.split_once(' ').unwrap();
            let (start, end) = range.split_once('-').unwrap();
            let hex = |text| usize::from_str_radix(text, 16).unwrap();
            (hex(start), hex(end), rest.to_owned())
        })
        .collect()
}

/// Whether anything is mapped in `start..end`: after a map is dropped, nothing of it may be left.
pub(crate) fn mapped(start: usize, end: usize) -> bool {
    mappings()
        .iter()
        .any(|&(from, to, _)| from < end && start < to)
}

/// The main thread's stack: the `[stack]` line of `/proc/self/maps`, as start and end.
pub(crate) fn stack() -> (usize, usize) {
    mappings()
        .into_iter()
        .find(|(_, _, rest)| rest.ends_with("[stack]"))
        .map(|(s, e, _)| (s, e))
        .unwrap()
}
