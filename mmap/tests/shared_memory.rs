//! Shared memory between processes: a memfd written by a child and read by the parent, sealed, and
//! then mapped without `unsafe` by a child that cannot write it.

// memfd_create and its seals: Linux's.
#![cfg(linux_kernel)]

mod common;

use std::io::ErrorKind;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use mman::{MmapOptions, Seals, SharedMemory};

/// The descriptor number the child gets its shared memory on.
const FD: &str = "MMAP_TEST_SHARED_FD";

/// The child's shared memory: the descriptor its parent left open for it.
fn inherited() -> SharedMemory {
    let fd: i32 = std::env::var(FD).unwrap().parse().unwrap();
    // SAFETY: the parent duplicated this descriptor for the child, which owns it alone.
    SharedMemory::from(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Runs `test`'s child part with a duplicate of `memory`'s descriptor, open across `exec`.
fn run_child_with(test: &str, memory: &SharedMemory) {
    // SAFETY: dup of an open descriptor; the copy has no FD_CLOEXEC, so the child inherits it.
    let fd = unsafe { libc::dup(memory.as_file().as_raw_fd()) };
    assert!(fd >= 0);
    // SAFETY: `fd` was just made and is owned here; dropping it closes the parent's copy.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    common::assert_success(common::child(test).env(FD, fd.as_raw_fd().to_string()));
}

#[test]
fn a_child_writes_shared_memory_and_the_parent_reads_it() {
    let test = "a_child_writes_shared_memory_and_the_parent_reads_it";
    let page = mman::page_size();
    if common::in_child(test) {
        let memory = inherited();
        assert_eq!(memory.len().unwrap(), 2 * page as u64);
        let map = memory.map_raw().unwrap();
        // SAFETY: the parent waits for this process to exit before reading.
        unsafe {
            map.as_mut_ptr()
                .add(page)
                .copy_from(b"from the child".as_ptr(), 14)
        };
        return;
    }
    let memory = SharedMemory::create("mmap-test", 2 * page as u64).unwrap();
    assert_eq!(memory.seals().unwrap(), Seals::empty());
    run_child_with(test, &memory);
    let map = memory.map_raw().unwrap();
    // SAFETY: the child has exited; nothing else writes the memory.
    let bytes = unsafe { std::slice::from_raw_parts(map.as_ptr().add(page), 14) };
    assert_eq!(bytes, b"from the child");
}

#[test]
fn sealed_memory_maps_safely_and_refuses_every_change() {
    let test = "sealed_memory_maps_safely_and_refuses_every_change";
    if common::in_child(test) {
        let memory = inherited();
        let seals = memory.seals().unwrap();
        assert!(
            seals.contains(Seals::SHRINK | Seals::GROW | Seals::WRITE),
            "{seals:?}"
        );
        let error = memory.map_raw().unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::PermissionDenied,
            "a writable map of sealed memory: {error}"
        );
        assert_eq!(
            memory.set_len(1).unwrap_err().kind(),
            ErrorKind::PermissionDenied
        );
        let map = memory.map_sealed().unwrap();
        assert_eq!(&map[..6], b"sealed");
        // Read-only, and private as documented: Linux before 6.7 refuses a shared map of a
        // write-sealed memfd.
        assert_eq!(common::permissions_at(map.as_ptr() as usize), "r--p");
        return;
    }
    let memory = SharedMemory::create("mmap-test-sealed", mman::page_size() as u64).unwrap();
    {
        // SAFETY: no other process has the memory yet, and the map is gone before it is sealed.
        let mut map = unsafe { memory.map_mut().unwrap() };
        map[..6].copy_from_slice(b"sealed");
        let error = memory.add_seals(Seals::WRITE).unwrap_err();
        // EBUSY's kind, taken from an error of that number: `ErrorKind::ResourceBusy` can be
        // written only from Rust 1.83, past the declared minimum, 1.77.0.
        assert_eq!(
            mman::raw_os_error(&error),
            Some(libc::EBUSY),
            "WRITE while a writable map exists: {error}"
        );
        let busy = std::io::Error::from_raw_os_error(libc::EBUSY).kind();
        assert_eq!(error.kind(), busy, "{error}");
    }
    memory
        .add_seals(Seals::SHRINK | Seals::GROW | Seals::WRITE)
        .unwrap();
    run_child_with(test, &memory);
    let map = memory.map_sealed().unwrap();
    assert_eq!(&map[..6], b"sealed");
}

#[test]
fn map_sealed_refuses_what_may_still_change() {
    let page = mman::page_size();
    let memory = SharedMemory::create("mmap-test-unsealed", page as u64).unwrap();
    let error = memory.map_sealed().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(
        error
            .to_string()
            .starts_with("map_sealed: the file's seals"),
        "{error}"
    );
    assert!(error.to_string().contains("SHRINK | WRITE"), "{error}");

    memory.add_seals(Seals::SHRINK).unwrap();
    let error = memory.map_sealed().unwrap_err();
    assert!(error.to_string().contains("lack Seals(WRITE)"), "{error}");

    memory.add_seals(Seals::WRITE).unwrap();
    let error = MmapOptions::new()
        .len(2 * page)
        .map_sealed(&memory)
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(
        error
            .to_string()
            .contains(&format!("past the end of the sealed file ({page} bytes)")),
        "{error}"
    );
    assert_eq!(
        MmapOptions::new()
            .offset(1024)
            .map_sealed(&memory)
            .unwrap()
            .len(),
        page - 1024
    );

    let file = tempfile::tempfile().unwrap();
    file.set_len(page as u64).unwrap();
    let error = MmapOptions::new().map_sealed(&file).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
}

#[test]
fn bad_names_are_refused_before_memfd_create() {
    let error = SharedMemory::create("a\0b", 1).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(
        error.to_string().starts_with("SharedMemory::create: name"),
        "{error}"
    );
    let error = SharedMemory::create(&"n".repeat(250), 1).unwrap_err();
    assert!(error.to_string().contains("over 249"), "{error}");
}
