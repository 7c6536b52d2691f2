//! A file truncated under its map: the checked calls report an error where touching the bytes
//! would kill the process with `SIGBUS`, and the process lives on.

use std::error::Error as _;
use std::io::Write;

use mmap::{page_size, Advice, Mmap};

#[test]
fn populate_of_a_truncated_file_map_is_an_error_not_a_crash() {
    let page = page_size();
    let path = tempfile::NamedTempFile::new().unwrap();
    path.as_file().write_all(&vec![5; 4 * page]).unwrap();
    // SAFETY: not kept: the file is truncated below on purpose, and the truncated bytes are never
    // read through the slice, only prefaulted through madvise, which reports the failure.
    let map = unsafe { Mmap::map(path.as_file()).unwrap() };
    map.advise(Advice::PopulateRead).unwrap();

    std::fs::OpenOptions::new().write(true).open(path.path()).unwrap().set_len(page as u64).unwrap();

    let error = map.advise(Advice::PopulateRead).unwrap_err();
    assert!(error.to_string().starts_with("madvise(MADV_POPULATE_READ) of"), "{error}");
    // EFAULT: "populating failed because a SIGBUS would have been generated" (madvise(2)).
    let errno =
        error.source().and_then(|e| e.downcast_ref::<std::io::Error>()).and_then(|e| e.raw_os_error());
    assert_eq!(errno, Some(14), "{error}");
    // The page still backed by the file populates fine, and reads its bytes.
    map.advise_range(Advice::PopulateRead, 0, page).unwrap();
    assert_eq!(map[page - 1], 5);
}
