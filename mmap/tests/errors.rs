//! Errors a program can act on: the OS error's number through `mmap::raw_os_error`, the kind, a
//! message that names the public method and says the OS error's text once, whether printed with
//! `{}` or by a reporter that walks the chain of sources.

mod common;

use std::error::Error as _;
use std::fs::File;
use std::io::{self, ErrorKind};

use mmap::{Mmap, MmapMut, MmapOptions};

/// The error as anyhow's `{:#}` prints it: its message, then each source's, joined by ": ".
fn chain(error: &io::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    text
}

/// How many times the OS error `errno`'s text shows in the chain.
fn os_text_count(error: &io::Error, errno: i32) -> usize {
    chain(error)
        .matches(&io::Error::from_raw_os_error(errno).to_string())
        .count()
}

/// A temporary file of `len` bytes, opened read-only.
fn read_only_file(len: usize) -> (tempfile::NamedTempFile, File) {
    common::read_only_file_of(&vec![1; len])
}

#[test]
fn a_failed_map_gives_errno_kind_and_the_os_text_once() {
    let (_path, file) = read_only_file(4096);
    // SAFETY: the kernel refuses the map (shared and writable, of a file open read-only).
    let error = unsafe { MmapMut::map_mut(&file) }.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{error}");
    assert_eq!(mmap::raw_os_error(&error), Some(libc::EACCES), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("map_mut: mmap of 4096 bytes at offset 0 failed: "),
        "{error}"
    );
    assert_eq!(os_text_count(&error, libc::EACCES), 1, "{}", chain(&error));
    assert!(
        error.source().is_none(),
        "the OS error's text is in the message, so it is not a source"
    );
}

#[test]
fn make_mut_names_itself_not_mprotect_alone() {
    let (_path, file) = read_only_file(4096);
    // SAFETY: the temporary file is this test's alone.
    let map = unsafe { Mmap::map(&file) }.unwrap();
    let error = map.make_mut().unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("make_mut: mprotect of 4096 bytes at 0x"),
        "{error}"
    );
    assert_eq!(mmap::raw_os_error(&error), Some(libc::EACCES));
    assert_eq!(os_text_count(&error, libc::EACCES), 1, "{}", chain(&error));
}

#[test]
fn a_file_of_proc_says_what_was_asked_not_the_probe() {
    let status = File::open("/proc/self/status").unwrap();
    // SAFETY: the kernel refuses the map.
    let error = unsafe { Mmap::map(&status) }.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
    assert_eq!(mmap::raw_os_error(&error), Some(libc::ENODEV));
    let message = error.to_string();
    assert!(
        message.starts_with("map: the file reports a size of 0, and the kernel cannot map"),
        "{message}"
    );
    assert!(
        !message.contains("1 bytes"),
        "the probe's length is not what the caller asked: {message}"
    );
    assert_eq!(os_text_count(&error, libc::ENODEV), 1, "{}", chain(&error));
}

#[test]
#[cfg(mman_has = "MAP_FIXED_NOREPLACE")]
fn fixed_no_replace_over_a_map_names_the_address_and_what_is_there() {
    if common::skip_under_valgrind("MAP_FIXED_NOREPLACE, which valgrind takes for a hint") {
        return;
    }
    let taken = MmapMut::map_anon(mmap::page_size()).unwrap();
    let addr = taken.as_ptr() as usize;
    let error = MmapOptions::new()
        .len(100)
        .fixed_no_replace(addr)
        .map_anon()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AlreadyExists);
    assert_eq!(mmap::raw_os_error(&error), Some(libc::EEXIST));
    let expected = format!(
        "map_anon: fixed_no_replace({addr:#x}): something is already mapped in {addr:#x}..{:#x}",
        addr + 100
    );
    assert!(error.to_string().starts_with(&expected), "{error}");
    assert_eq!(os_text_count(&error, libc::EEXIST), 1, "{}", chain(&error));
}

#[test]
fn input_refused_before_any_call_has_no_number() {
    let file = tempfile::tempfile().unwrap();
    // SAFETY: refused before any call.
    let error = unsafe { MmapOptions::new().offset(10).map(&file) }.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        mmap::raw_os_error(&error),
        None,
        "no system call failed: {error}"
    );
    assert_eq!(chain(&error), error.to_string());
}

#[test]
fn raw_os_error_passes_a_bare_os_error_through() {
    let error = io::Error::from_raw_os_error(libc::ENOMEM);
    assert_eq!(mmap::raw_os_error(&error), Some(libc::ENOMEM));
    assert_eq!(mmap::raw_os_error(&io::Error::other("no number")), None);
}
