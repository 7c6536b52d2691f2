//! A hostile second read of the safe API: attacks with safe code only, each run in a child process,
//! that found a hole or pin a promise no other test holds.

#![cfg(linux_kernel)]

mod common;

use std::io::ErrorKind;

use mman::{page_size, Advice, Mmap, MmapOptions, Seals, SharedMemory};

/// Every safe [`Advice`] keeps the bytes of a private copy-on-write map of a sealed memfd (from
/// `map_sealed`, then `make_mut`): the written page (anonymous memory now, which `PageOut` may swap
/// out, `Collapse` may copy into a huge page) reads what was written, and the page never written
/// reads the file's bytes. `advice::every_advice_the_kernel_supports_succeeds_on_an_anonymous_map`
/// holds this for anonymous memory only.
#[test]
fn no_safe_advice_changes_a_private_copy_of_sealed_memory() {
    let page = page_size();
    let memory = SharedMemory::create("advised", 2 * page as u64).unwrap();
    std::os::unix::fs::FileExt::write_all_at(memory.as_file(), &vec![7; 2 * page], 0).unwrap();
    memory
        .add_seals(Seals::SHRINK | Seals::GROW | Seals::WRITE)
        .unwrap();
    for &advice in Advice::ALL.iter().filter(|advice| advice.is_supported()) {
        let mut copy = memory.map_sealed().unwrap().make_mut().unwrap();
        copy[..page].fill(9);
        match copy.advise(advice) {
            Ok(()) => {}
            // KSM is a kernel option: a kernel without it knows the advice and refuses it;
            // `Collapse` needs transparent huge pages for the file's memory.
            Err(error)
                if error.kind() == ErrorKind::InvalidInput
                    || error.kind() == ErrorKind::OutOfMemory =>
            {
                println!("{advice:?}: refused ({error})");
            }
            Err(error) => panic!("{advice:?} failed: {error}"),
        }
        assert!(
            copy[..page].iter().all(|&b| b == 9),
            "{advice:?} changed the written page"
        );
        assert!(
            copy[page..].iter().all(|&b| b == 7),
            "{advice:?} changed the file's page"
        );
    }
}

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

/// `map_if_safe` maps sealed memory shared (read-only), through a descriptor open for writing:
/// the safe `make_mut` must not make that map writable, or its writes would change sealed memory
/// under every other map of it. The kernel (6.7 on) takes `VM_MAYWRITE` from a shared map of
/// write-sealed memory, and `mprotect` refuses.
#[test]
fn make_mut_of_a_shared_map_of_sealed_memory_is_refused() {
    let memory = SharedMemory::create("shared-sealed", page_size() as u64).unwrap();
    std::os::unix::fs::FileExt::write_all_at(memory.as_file(), b"sealed", 0).unwrap();
    memory
        .add_seals(Seals::SHRINK | Seals::GROW | Seals::WRITE)
        .unwrap();
    let map = match Mmap::map_if_safe(&memory) {
        Ok(map) => map,
        Err(error) if error.map_failed() => {
            println!("not run: this kernel refuses a shared map of write-sealed memory ({error})");
            return;
        }
        Err(error) => panic!("{error}"),
    };
    let error = map.make_mut().map(drop).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{error}");
    assert!(error.to_string().starts_with("make_mut: "), "{error}");
    let mut read = [0u8; 6];
    std::os::unix::fs::FileExt::read_exact_at(memory.as_file(), &mut read, 0).unwrap();
    assert_eq!(&read, b"sealed");
}
