//! The optional features: `bytes` and `stable_deref_trait`. Run with
//! `cargo test -p mman --all-features --test features` (`.ci/run` does).

#![cfg(all(feature = "bytes", feature = "stable_deref_trait"))]

mod common;

use mman::{Mmap, MmapMut};

#[test]
fn a_map_becomes_bytes_without_a_copy() {
    let file = common::file_of(b"zero-copy bytes");
    // SAFETY: the temporary file is this test's alone.
    let map = unsafe { Mmap::map(&file).unwrap() };
    let address = map.as_ptr();
    let bytes = bytes::Bytes::from(map);
    assert_eq!(bytes.as_ptr(), address, "the Bytes points into the map");
    assert_eq!(&bytes[..], b"zero-copy bytes");
    let tail = bytes.slice(5..);
    drop(bytes);
    assert_eq!(&tail[..], b"copy bytes", "a clone keeps the map alive");
}

/// Where a `StableDeref` type's bytes are: through its `Deref`, which the trait promises stays put
/// when the value moves.
fn bytes_at<T: stable_deref_trait::StableDeref<Target = [u8]>>(map: &T) -> *const u8 {
    map.as_ptr()
}

#[test]
fn a_moved_map_still_derefs_to_the_same_bytes() {
    let mut map = MmapMut::map_anon(mman::page_size()).unwrap();
    map[..5].copy_from_slice(b"fixed");
    let address = bytes_at(&map);
    let boxed = Box::new(map);
    assert_eq!(bytes_at(&*boxed), address, "moved into a box");
    let read_only: Mmap = std::thread::spawn(move || (*boxed).make_read_only().unwrap())
        .join()
        .unwrap();
    assert_eq!(
        bytes_at(&read_only),
        address,
        "moved to another thread and back"
    );
    let moved = [read_only];
    assert_eq!(bytes_at(&moved[0]), address, "moved into an array");
    assert_eq!(&moved[0][..5], b"fixed");
}
