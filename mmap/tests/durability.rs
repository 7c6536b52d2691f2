//! Durability beyond `flush`: `MAP_SYNC` for DAX (`dax_sync`), and `MS_INVALIDATE`
//! (`flush_invalidate`), which writes the file for every map of it to read.

use std::io::{ErrorKind, Read, Seek, SeekFrom};

use mman::{page_size, Mmap, MmapMut};

mod common;

/// Whether any file system here is mounted with DAX, where `MAP_SYNC` maps.
#[cfg(mman_sync)]
fn dax_mounted() -> bool {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
    mounts.lines().any(|line| {
        line.split_whitespace()
            .nth(3)
            .is_some_and(|options| options.contains("dax"))
    })
}

#[test]
#[cfg(mman_sync)]
fn dax_sync_of_a_file_not_on_dax_is_unsupported() {
    if dax_mounted() {
        common::not_run!("a file system here is mounted with DAX, where the temporary file may be");
        return;
    }
    let file = tempfile::tempfile().unwrap();
    file.set_len(page_size() as u64).unwrap();
    let error = mman::MmapOptions::new()
        .dax_sync()
        .map_raw(&file)
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
    assert_eq!(
        mman::raw_os_error(&error),
        Some(libc::EOPNOTSUPP),
        "{error}"
    );
    assert!(error
        .to_string()
        .starts_with("map_raw: dax_sync: the file is not on a file system mounted with DAX"));
    // SAFETY: the map is refused.
    let error = unsafe { mman::MmapOptions::new().dax_sync().map_mut(&file) }.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
}

#[test]
#[cfg(mman_sync)]
fn dax_sync_of_a_private_or_anonymous_map_is_refused_before_mmap() {
    let file = tempfile::tempfile().unwrap();
    file.set_len(page_size() as u64).unwrap();
    // SAFETY: refused before any call.
    let error = unsafe { mman::MmapOptions::new().dax_sync().map_copy(&file) }.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        error.to_string(),
        "map_copy: dax_sync: MAP_SYNC needs a shared map of a file"
    );
    let error = mman::MmapOptions::new()
        .len(page_size())
        .dax_sync()
        .map_anon()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert_eq!(mman::raw_os_error(&error), None);
}

#[test]
fn flush_invalidate_writes_the_file_for_every_map_to_read() {
    let mut file = tempfile::tempfile().unwrap();
    file.set_len(2 * page_size() as u64).unwrap();
    // SAFETY: the temporary file is this test's alone; the two maps are read and written in turn.
    let mut writer = unsafe { MmapMut::map_mut(&file).unwrap() };
    // SAFETY: as above.
    let reader = unsafe { Mmap::map(&file).unwrap() };
    writer[..5].copy_from_slice(b"fresh");
    writer.flush_invalidate().unwrap();
    writer[page_size()] = 9;
    writer.flush_invalidate_range(page_size(), 1).unwrap();
    assert_eq!(&reader[..5], b"fresh");
    assert_eq!(reader[page_size()], 9);
    let mut bytes = [0u8; 5];
    file.seek(SeekFrom::Start(0)).unwrap();
    file.read_exact(&mut bytes).unwrap();
    assert_eq!(&bytes, b"fresh");
    let error = writer
        .flush_invalidate_range(page_size(), page_size() + 1)
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(
        error
            .to_string()
            .starts_with("flush_invalidate_range: range"),
        "{error}"
    );
}

#[test]
fn flush_invalidate_of_locked_pages_is_busy_and_names_flush_invalidate() {
    let map = MmapMut::map_anon(page_size()).unwrap();
    map.lock().unwrap();
    let error = map.flush_invalidate().unwrap_err();
    assert_eq!(mman::raw_os_error(&error), Some(libc::EBUSY), "{error}");
    let expected = format!("flush_invalidate: msync of {} bytes at 0x", page_size());
    assert!(error.to_string().starts_with(&expected), "{error}");
    map.unlock().unwrap();
    map.flush_invalidate().unwrap();
}
