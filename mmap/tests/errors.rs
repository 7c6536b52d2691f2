//! Bad input gets an `io::Error` of the right kind, naming the call and the argument, before any
//! system call; a failed system call keeps its OS error and names the call.

use std::error::Error as _;
use std::fs::File;
use std::io::{self, ErrorKind, Write};

use mmap::{MapFlags, Mmap, MmapMut, MmapOptions, MmapRaw, Protection};

fn file_of(len: usize) -> File {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(&vec![1; len]).unwrap();
    file
}

/// Asserts `result` failed with `kind` and a message that contains each of `words`.
#[track_caller]
fn assert_error<T: std::fmt::Debug>(result: io::Result<T>, kind: ErrorKind, words: &[&str]) {
    let error = result.unwrap_err();
    assert_eq!(error.kind(), kind, "{error}");
    for word in words {
        assert!(error.to_string().contains(word), "{error:?} does not say {word:?}");
    }
}

/// The OS error behind a failed call.
fn errno(error: &io::Error) -> Option<i32> {
    error.source()?.downcast_ref::<io::Error>()?.raw_os_error()
}

#[test]
fn an_offset_past_the_end_of_the_file_is_refused() {
    let file = file_of(100);
    // SAFETY: the temporary file is this test's alone; nothing is mapped.
    let result = unsafe { MmapOptions::new().offset(101).map(&file) };
    assert_error(
        result,
        ErrorKind::InvalidInput,
        &["map:", "offset 101", "past the end of the file (100 bytes)"],
    );
}

#[test]
fn an_offset_plus_len_that_overflows_is_refused() {
    let file = file_of(100);
    // SAFETY: as above.
    let result = unsafe { MmapOptions::new().offset(u64::MAX - 5).len(10).map(&file) };
    assert_error(result, ErrorKind::InvalidInput, &["offset", "len 10", "overflows u64"]);
    // SAFETY: as above.
    let result = unsafe { MmapOptions::new().offset(i64::MAX as u64 - 5).len(10).map_mut(&file) };
    assert_error(result, ErrorKind::InvalidInput, &["map_mut:", "largest file offset"]);
}

#[test]
fn a_length_over_isize_max_is_refused() {
    let over = isize::MAX as usize + 1;
    assert_error(MmapMut::map_anon(over), ErrorKind::InvalidInput, &["map_anon:", "len", "isize::MAX"]);
    let file = file_of(100);
    assert_error(
        MmapOptions::new().len(usize::MAX).map_raw(&file),
        ErrorKind::InvalidInput,
        &["map_raw:", "isize::MAX"],
    );
}

#[test]
fn every_range_call_outside_the_map_is_refused() {
    let page = mmap::page_size();
    let map = MmapMut::map_anon(page).unwrap();
    let outside = &["range", "outside the map of"];
    assert_error(map.flush_range(page, 1), ErrorKind::InvalidInput, outside);
    assert_error(map.flush_async_range(1, page), ErrorKind::InvalidInput, outside);
    assert_error(map.advise_range(mmap::Advice::WillNeed, 0, page + 1), ErrorKind::InvalidInput, outside);
    // SAFETY: refused before any call: nothing happens to the map.
    let unchecked = unsafe { map.unchecked_advise_range(mmap::UncheckedAdvice::DontNeed, page, 1) };
    assert_error(unchecked, ErrorKind::InvalidInput, outside);
    assert_error(map.lock_range(2, page), ErrorKind::InvalidInput, outside);
    assert_error(map.unlock_range(page + 1, 0), ErrorKind::InvalidInput, outside);
    assert_error(map.residency(0, page + 1), ErrorKind::InvalidInput, outside);
    let raw = MmapRaw::from(map);
    assert_error(raw.protect_range(1, page, Protection::READ), ErrorKind::InvalidInput, outside);
    assert_error(raw.flush_range(usize::MAX, 2), ErrorKind::InvalidInput, &["overflows usize"]);
}

#[test]
fn a_failed_mmap_keeps_its_errno_and_names_the_call() {
    let path = tempfile::NamedTempFile::new().unwrap();
    path.as_file().write_all(&[0; 4096]).unwrap();
    let read_only = File::open(path.path()).unwrap();
    // SAFETY: refused by the kernel: nothing is mapped.
    let error = unsafe { MmapMut::map_mut(&read_only) }.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::PermissionDenied);
    assert_eq!(error.to_string(), "mmap of 4096 bytes at offset 0 failed: Permission denied (os error 13)");
    assert_eq!(errno(&error), Some(13));
}

#[test]
fn a_directory_a_pipe_and_a_socket_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let dir = File::open(dir.path()).unwrap();
    // SAFETY: refused before any call.
    assert_error(unsafe { Mmap::map(&dir) }, ErrorKind::InvalidInput, &["map:", "directory"]);

    let (reader, _writer) = std::os::unix::net::UnixStream::pair().unwrap();
    // SAFETY: refused before any call.
    assert_error(unsafe { Mmap::map(&reader) }, ErrorKind::InvalidInput, &["map:", "a socket"]);

    let mut child = std::process::Command::new("true").stdout(std::process::Stdio::piped()).spawn().unwrap();
    let pipe = child.stdout.take().unwrap();
    // SAFETY: refused before any call.
    assert_error(unsafe { Mmap::map(&pipe) }, ErrorKind::InvalidInput, &["map:", "a pipe"]);
    child.wait().unwrap();
}

#[test]
fn a_proc_file_of_size_zero_is_not_taken_for_an_empty_file() {
    let status = File::open("/proc/self/status").unwrap();
    assert_eq!(status.metadata().unwrap().len(), 0);
    // SAFETY: the kernel refuses to map it: nothing is mapped.
    let error = unsafe { Mmap::map(&status) }.unwrap_err();
    assert!(error.to_string().starts_with("mmap of 1 bytes at offset 0 failed"), "{error}");
    assert_eq!(errno(&error), Some(19), "ENODEV: {error}");
}

#[test]
fn map_fixed_and_a_sharing_type_are_refused_as_extra_flags() {
    for raw in [mmap_sys::MAP_FIXED, mmap_sys::MAP_SHARED, mmap_sys::MAP_PRIVATE] {
        let result = MmapOptions::new().len(4096).flags(MapFlags::from_bits_retain(raw)).map_anon();
        assert_error(result, ErrorKind::InvalidInput, &["map_anon:", "flags"]);
    }
}

#[test]
fn a_huge_page_size_out_of_range_or_a_misaligned_offset_is_refused() {
    let result = MmapOptions::new().len(4096).huge(Some(64)).map_anon();
    assert_error(result, ErrorKind::InvalidInput, &["map_anon:", "2^64", "cannot be encoded"]);
    // 64 KiB pages exist on arm64, not on x86-64: a size the system does not offer is refused
    // before the map, with the sizes it does offer.
    if !mmap::HugePageSize::available().unwrap().iter().any(|pool| pool.size.bytes() == 1 << 16) {
        let result = MmapOptions::new().len(4096).huge(Some(16)).map_anon();
        assert_error(result, ErrorKind::InvalidInput, &["map_anon:", "64 KiB", "not one this system offers"]);
    }
    let file = file_of(4096);
    let result = MmapOptions::new().len(4096).offset(4096).huge(Some(21)).map_raw(&file);
    assert_error(
        result,
        ErrorKind::InvalidInput,
        &["map_raw:", "offset 4096", "multiple of the huge page size"],
    );
}

#[test]
fn raw_extra_flags_reach_the_kernel() {
    // MAP_LOCKED through the escape hatch: the kernel locks the map's pages at once.
    let map = MmapOptions::new()
        .len(8192)
        .flags(MapFlags::from_bits_retain(mmap_sys::MAP_LOCKED))
        .map_anon()
        .unwrap();
    assert_eq!(map.resident_pages().unwrap(), 2);
}
