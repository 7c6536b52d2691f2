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

/// The bytes before the cut come back as a short count, as `pread` returns them from a file cut
/// short; the next read, at the first byte the map cannot read, is an error that names it, where
/// `pread` says 0 (the end of the file): the map's end is its length, and a page that cannot be
/// read before it is the file ending early, or an I/O error, which the copy cannot tell apart.
#[test]
fn read_at_of_a_truncated_file_map_is_short_then_an_error_not_a_crash() {
    use std::io::{Read, Seek, SeekFrom};
    use std::os::unix::fs::FileExt;
    let page = page_size();
    let (file, map) = truncated_map(3);

    // 2 pages asked for from the middle of the one page the file keeps.
    let mut buf = vec![0u8; 2 * page];
    assert_eq!(map.read_at(&mut buf, page / 2).unwrap(), page / 2);
    assert!(
        buf[..page / 2].iter().all(|&b| b == 5),
        "the bytes before the cut"
    );
    let mut pread = vec![0u8; 2 * page];
    assert_eq!(
        file.as_file()
            .read_at(&mut pread, (page / 2) as u64)
            .unwrap(),
        page / 2,
        "what FileExt::read_at gives"
    );
    assert_eq!(buf, pread);
    let mut reader = map.reader();
    reader.seek(SeekFrom::Start((page / 2) as u64)).unwrap();
    assert_eq!(reader.read(&mut buf).unwrap(), page / 2, "and MmapReader");

    // At the cut, and past it: nothing can be read, before the end of the map.
    for offset in [page, page + 1, 3 * page - 1] {
        let error = map.read_at(&mut buf, offset).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::UnexpectedEof, "{error}");
        assert!(
            error
                .to_string()
                .starts_with(&format!("read_at: byte {offset} of the map cannot be read")),
            "{error}"
        );
        assert_eq!(
            file.as_file().read_at(&mut pread, offset as u64).unwrap(),
            0
        );
    }
    assert_eq!(
        reader.read(&mut buf).unwrap_err().kind(),
        ErrorKind::UnexpectedEof,
        "the reader, at the cut"
    );

    // Nothing asked, nothing read, even at the cut.
    assert_eq!(map.read_at(&mut [], 2 * page).unwrap(), 0);
    // The end of the map is the end, as for a file.
    assert_eq!(map.read_at(&mut buf, 3 * page).unwrap(), 0);

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
    assert_eq!(map.read_at(&mut buf, 9).unwrap(), 0, "nor past it");
}

/// `read_at` returns what `FileExt::read_at` (`pread`) returns for a file of the map's bytes, at
/// every offset from the start to past the end, for every length: the count, and the bytes. An
/// offset no map can reach (past `isize::MAX`) is `InvalidInput`, as `pread`'s `EINVAL` for an
/// offset past the largest `off_t`.
#[test]
fn read_at_returns_what_file_read_at_returns() {
    use std::os::unix::fs::FileExt;
    let page = page_size();
    let bytes = common::pattern(2 * page + 100);
    let file = common::file_of(&bytes);
    // SAFETY: the temporary file is this test's alone.
    let map = unsafe { Mmap::map(&file).unwrap() };
    let len = map.len();
    let offsets = [
        0,
        1,
        page - 1,
        page,
        2 * page,
        len - 1,
        len,
        len + 1,
        3 * page,
        // Far past the end, below isize::MAX, on 32-bit targets too.
        usize::MAX / 4,
    ];
    for offset in offsets {
        for want in [0, 1, 99, 100, 101, page, 3 * page] {
            let (mut ours, mut std) = (vec![0xaa; want], vec![0xaa; want]);
            let at = format!("offset {offset}, {want} bytes");
            let got = map.read_at(&mut ours, offset).unwrap();
            assert_eq!(got, file.read_at(&mut std, offset as u64).unwrap(), "{at}");
            assert_eq!(ours, std, "{at}");
        }
    }

    for offset in [isize::MAX as usize + 1, usize::MAX] {
        let error = map.read_at(&mut [0; 4], offset).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
        assert_eq!(
            error.to_string(),
            format!("read_at: offset {offset} is past isize::MAX, the end of any map"),
        );
        // As `pread`'s where the offset is past a file offset's range too (64-bit targets; on
        // 32-bit ones, `pread64` reads at 2 GiB and more).
        if usize::BITS == 64 {
            let pread = file.read_at(&mut [0; 4], offset as u64).unwrap_err();
            assert_eq!(pread.kind(), ErrorKind::InvalidInput, "{pread}");
        }
    }
}

/// `read_exact_at` fills the buffer where `FileExt::read_exact_at` fills it from a file of the
/// map's bytes, and fails with `UnexpectedEof` where it fails, naming itself.
#[test]
fn read_exact_at_fills_the_buffer_where_file_read_exact_at_does() {
    use std::os::unix::fs::FileExt;
    let page = page_size();
    let bytes = common::pattern(2 * page + 100);
    let file = common::file_of(&bytes);
    // SAFETY: the temporary file is this test's alone.
    let map = unsafe { Mmap::map(&file).unwrap() };
    let len = map.len();
    for offset in [0, 1, page, len - 100, len - 1, len, len + 1, usize::MAX / 4] {
        for want in [0, 1, 99, 100, 101, page, 3 * page] {
            let (mut ours, mut std) = (vec![0xaa; want], vec![0xaa; want]);
            let at = format!("offset {offset}, {want} bytes");
            match (
                map.read_exact_at(&mut ours, offset),
                file.read_exact_at(&mut std, offset as u64),
            ) {
                (Ok(()), Ok(())) => assert_eq!(ours, std, "{at}"),
                (Err(error), Err(std)) => {
                    assert_eq!(error.kind(), std.kind(), "{at}: {error}");
                    assert_eq!(error.kind(), ErrorKind::UnexpectedEof, "{at}: {error}");
                    let end = offset + want;
                    assert_eq!(
                        error.to_string(),
                        format!(
                            "read_exact_at: bytes {offset}..{end} reach past the end of the map \
                             ({len} bytes): the buffer cannot be filled"
                        ),
                    );
                }
                (ours, std) => panic!("{at}: {ours:?} where FileExt gives {std:?}"),
            }
        }
    }
    let error = map.read_exact_at(&mut [0; 4], usize::MAX).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    assert!(
        error.to_string().starts_with("read_exact_at: offset "),
        "{error}"
    );
}

#[test]
fn read_exact_at_of_a_truncated_file_map_is_an_error_not_a_crash() {
    let page = page_size();
    let (_file, map) = truncated_map(3);
    let mut buf = vec![0u8; page];
    map.read_exact_at(&mut buf, 0).unwrap();
    assert!(buf.iter().all(|&b| b == 5));
    for offset in [page / 2, page, 2 * page] {
        let error = map.read_exact_at(&mut buf, offset).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::UnexpectedEof, "{error}");
        let at = offset.max(page);
        assert!(
            error.to_string().starts_with(&format!(
                "read_exact_at: byte {at} of the map cannot be read (reading {page} bytes from \
                 offset {offset})"
            )),
            "{error}"
        );
    }
}
