//! A hostile second read of the safe API: attacks with safe code only, each run in a child process,
//! that found a hole or pin a promise no other test holds.

#![cfg(linux_kernel)]

mod common;

use std::io::ErrorKind;

use mman::{page_size, Advice, MmapOptions};

/// An empty map's address is a dangling (page-aligned) pointer: no safe call on it may pass it to
/// the kernel, and each succeeds without a system call, reading nothing.
#[test]
fn every_safe_call_on_an_empty_map_succeeds_without_touching_its_address() {
    let empty = MmapOptions::new().map_anon().unwrap();
    assert_eq!((empty.len(), empty.as_ptr() as usize % page_size()), (0, 0));
    empty.advise(Advice::WillNeed).unwrap();
    empty.advise_range(Advice::Random, 0, 0).unwrap();
    #[cfg(mman_populate)]
    {
        empty.populate().unwrap();
        empty.populate_write().unwrap();
    }
    let mut buf = [1u8; 8];
    assert_eq!(empty.read_at(&mut buf, 0).unwrap(), 0);
    assert_eq!(buf, [1; 8]);
    assert_eq!(empty.read_at(&mut buf, 1).unwrap(), 0, "past the end");
    empty.read_exact_at(&mut [], 0).unwrap();
    assert_eq!(
        empty.read_exact_at(&mut buf, 0).unwrap_err().kind(),
        ErrorKind::UnexpectedEof
    );
    assert_eq!(buf, [1; 8]);
    assert_eq!(
        (
            empty.resident_pages().unwrap(),
            empty.residency(0, 0).unwrap()
        ),
        (0, vec![])
    );
    empty.lock().unwrap();
    empty.unlock().unwrap();
    empty.flush().unwrap();
    empty.flush_async().unwrap();
    empty.flush_invalidate().unwrap();
    let empty = empty
        .make_read_only()
        .unwrap()
        .make_exec()
        .unwrap()
        .make_mut()
        .unwrap();
    let raw = mman::MmapRaw::from(empty);
    raw.protect(mman::Protection::empty()).unwrap();
    raw.flush().unwrap();
}
