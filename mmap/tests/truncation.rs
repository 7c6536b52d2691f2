//! A file truncated under its map: the checked calls (`populate`, `read_at`, `advise` with
//! `PopulateRead`) report an error where touching the bytes would kill the process with `SIGBUS`,
//! and the process lives on.

mod common;

use std::io::ErrorKind;

use mman::{page_size, Mmap, MmapOptions};

/// A file of `pages` pages of 5s, mapped whole, then truncated to one page from another handle.
/// The map is not kept past the test, and the truncated bytes are never read through the slice.
fn truncated_map(pages: usize) -> (tempfile::NamedTempFile, Mmap) {
    let page = page_size();
    let path = common::named_file_of(&vec![5; pages * page]);
    // SAFETY: not kept: the file is truncated below on purpose, and the bytes past its new end are
    // only reached through the checked calls.
    let map = unsafe { Mmap::map(path.as_file()).unwrap() };
    assert_eq!(
        map[pages * page - 1],
        5,
        "every page is read in before the truncation"
    );
    std::fs::OpenOptions::new()
        .write(true)
        .open(path.path())
        .unwrap()
        .set_len(page as u64)
        .unwrap();
    (path, map)
}

#[test]
#[cfg(mman_populate)]
fn populate_of_a_truncated_file_map_is_an_error_not_a_crash() {
    let page = page_size();
    let (_file, map) = truncated_map(4);

    let error = map.populate().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::UnexpectedEof, "{error}");
    assert!(
        error.to_string().starts_with("populate: part of the range"),
        "{error}"
    );
    assert!(
        error.to_string().contains("past the end of the file"),
        "{error}"
    );
    // The explanation keeps the OS error's number: EFAULT.
    assert_eq!(mman::raw_os_error(&error), Some(libc::EFAULT), "{error:?}");
    let error = map.populate_range(page, page).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::UnexpectedEof, "{error}");

    // The page the file still backs populates fine, and reads its bytes.
    map.populate_range(0, page).unwrap();
    assert_eq!(map[page - 1], 5);
}

#[test]
#[cfg(mman_populate)]
fn advice_populate_read_reports_efault() {
    let advice = mman::Advice::PopulateRead;
    let (_file, map) = truncated_map(4);
    let error = map.advise(advice).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("advise: madvise(MADV_POPULATE_READ) of"),
        "{error}"
    );
    // EFAULT: "populating failed because a SIGBUS would have been generated" (madvise(2)).
    assert_eq!(mman::raw_os_error(&error), Some(libc::EFAULT), "{error}");
}

#[test]
fn read_at_of_a_truncated_file_map_is_an_error_not_a_crash() {
    let page = page_size();
    let (_file, map) = truncated_map(4);

    let mut buf = vec![0u8; 2 * page];
    let error = map.read_at(&mut buf, page / 2).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::UnexpectedEof, "{error}");
    assert!(
        error
            .to_string()
            .starts_with(&format!("read_at: byte {page} of the map cannot be read")),
        "{error}"
    );
    assert!(
        buf[..page / 2].iter().all(|&b| b == 5),
        "the bytes before the end were copied"
    );

    let error = map.read_at(&mut buf[..1], 3 * page).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::UnexpectedEof, "{error}");

    let mut head = [0u8; 16];
    assert_eq!(map.read_at(&mut head, page - 16).unwrap(), 16);
    assert_eq!(head, [5; 16]);
}

#[test]
fn read_at_copies_like_file_read_at() {
    let file = common::file_of(b"0123456789");
    // SAFETY: the temporary file is this test's alone.
    let map = unsafe { MmapOptions::new().offset(2).map(&file).unwrap() };
    let mut buf = [0u8; 4];
    assert_eq!(map.read_at(&mut buf, 1).unwrap(), 4);
    assert_eq!(&buf, b"3456");
    assert_eq!(
        map.read_at(&mut buf, 6).unwrap(),
        2,
        "short at the end of the map"
    );
    assert_eq!(&buf[..2], b"89");
    assert_eq!(map.read_at(&mut buf, 8).unwrap(), 0, "nothing at the end");
    let error = map.read_at(&mut buf, 9).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(
        error.to_string().starts_with("read_at: range 9..9"),
        "{error}"
    );
}
