//! Protection changes: `make_read_only`, `make_mut`, `make_exec` and `MmapRaw::protect`: the
//! permissions the kernel then gives the pages (`/proc/self/maps`), and the accesses it stops,
//! observed in a child process.

use std::io::ErrorKind;

use mman::{Mmap, MmapMut, MmapOptions, MmapRaw, Protection};

mod common;
use common::{permissions_at, read_only_file_of};

#[test]
fn a_write_after_make_read_only_is_stopped_by_the_os() {
    common::run_the_rest_in_a_child!(|child| child.assert_dies_of(libc::SIGSEGV));
    let mut map = MmapMut::map_anon(mman::page_size()).unwrap();
    map[0] = 1;
    let ptr = map.as_mut_ptr();
    let read_only = map.make_read_only().unwrap();
    assert_eq!(read_only[0], 1);
    assert_eq!(permissions_at(ptr as usize), "r--p");
    // SAFETY: not sound on purpose, in a child process: the page is read-only now, and the
    // volatile write must fault with SIGSEGV.
    unsafe { ptr.write_volatile(2) };
    // Not reached when the OS stops the write.
    std::process::exit(0);
}

#[test]
fn a_read_after_protect_none_is_stopped_by_the_os() {
    common::run_the_rest_in_a_child!(|child| child.assert_dies_of(libc::SIGSEGV));
    let map = MmapRaw::from(MmapMut::map_anon(mman::page_size()).unwrap());
    map.protect(Protection::empty()).unwrap();
    assert_eq!(permissions_at(map.as_ptr() as usize), "---p");
    // SAFETY: not sound on purpose, in a child process: the page allows no access now.
    let _ = unsafe { map.as_ptr().read_volatile() };
    std::process::exit(0);
}

#[test]
fn make_mut_and_make_read_only_round_trip() {
    let mut map = MmapMut::map_anon(2 * mman::page_size()).unwrap();
    map[100] = 5;
    let read_only: Mmap = map.make_read_only().unwrap();
    assert_eq!(read_only[100], 5);
    let addr = read_only.as_ptr() as usize;
    assert_eq!(permissions_at(addr), "r--p", "writes are refused");
    let mut writable = read_only.make_mut().unwrap();
    assert_eq!(permissions_at(addr), "rw-p");
    writable[101] = 6;
    assert_eq!(&writable[100..102], &[5, 6]);
}

#[test]
fn make_exec_makes_the_map_executable_not_writable_and_keeps_its_bytes() {
    let mut map = MmapMut::map_anon(mman::page_size()).unwrap();
    map[..4].copy_from_slice(&[0xC3, 0, 0, 0]);
    let exec = map.make_exec().unwrap();
    assert_eq!(exec[0], 0xC3);
    assert_eq!(permissions_at(exec.as_ptr() as usize), "r-xp");
}

#[test]
fn protect_with_exec_makes_the_pages_executable() {
    let page = mman::page_size();
    let map = MmapRaw::from(MmapOptions::new().len(2 * page).map_anon().unwrap());
    let addr = map.as_ptr() as usize;
    map.protect_range(page, page, Protection::READ | Protection::EXEC)
        .unwrap();
    assert_eq!(permissions_at(addr), "rw-p");
    assert_eq!(permissions_at(addr + page), "r-xp");
    map.protect(Protection::READ).unwrap();
    assert_eq!(
        [permissions_at(addr), permissions_at(addr + page)],
        ["r--p", "r--p"]
    );
}

#[test]
fn make_mut_of_a_shared_map_of_a_read_only_file_is_refused() {
    let (_path, file) = read_only_file_of(b"read only");
    // SAFETY: the temporary file is this test's alone.
    let map = unsafe { Mmap::map(&file).unwrap() };
    assert_eq!(permissions_at(map.as_ptr() as usize), "r--s");
    let error = map.make_mut().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{error}");
    assert!(
        error.to_string().starts_with("make_mut: mprotect of "),
        "{error}"
    );
}

#[test]
fn protect_range_changes_only_whole_pages_inside_the_map() {
    let page = mman::page_size();
    let map = MmapRaw::from(MmapOptions::new().len(3 * page).map_anon().unwrap());
    map.protect_range(page, page, Protection::READ).unwrap();
    let addr = map.as_ptr() as usize;
    let permissions = [0, page, 2 * page].map(|at| permissions_at(addr + at));
    assert_eq!(
        permissions,
        ["rw-p", "r--p", "rw-p"],
        "writes refused in the middle page only"
    );
    // SAFETY: the first and last pages stay writable; the middle one is only read.
    unsafe {
        map.as_mut_ptr().write(1);
        map.as_mut_ptr().add(2 * page).write(3);
        assert_eq!(map.as_ptr().add(page).read(), 0);
    }
    let error = map
        .protect_range(2 * page, page + 1, Protection::READ)
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(error.to_string().starts_with("protect_range: "), "{error}");
}
