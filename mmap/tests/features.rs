//! The optional features: `bytes` and `stable_deref_trait`. Run with
//! `cargo test -p mmap --all-features --test features` (`.ci/run` does).

#![cfg(all(feature = "bytes", feature = "stable_deref_trait"))]

use std::io::Write;

use mmap::Mmap;

#[test]
fn a_map_becomes_bytes_without_a_copy() {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(b"zero-copy bytes").unwrap();
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

#[test]
fn maps_are_stable_deref() {
    fn stable<T: stable_deref_trait::StableDeref>(_: &T) {}
    let map = mmap::MmapMut::map_anon(4096).unwrap();
    stable(&map);
    let moved = Box::new(map);
    assert_eq!(moved.len(), 4096);
}
