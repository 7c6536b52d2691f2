//! Shared memory (`SharedMemory`, a memfd): handed on to a child process (by `share_with`, to that
//! command's children only), written by one and read by the other; sealed, then mapped without
//! `unsafe` (`map_sealed`, `map_if_safe`). A sealed map is private and read-only, refuses raw
//! flags, and its copy (`make_mut`) keeps its bytes under every safe advice; its holes are faulted
//! in when mapping, so that a read never meets strict overcommit's `SIGBUS`.

// memfd_create and its seals: Linux's.
#![cfg(linux_kernel)]

mod common;

use std::io::{ErrorKind, Write};
use std::os::fd::RawFd;
use std::os::unix::fs::FileExt;

use mman::{page_size, Advice, MapFlags, Mmap, MmapOptions, Seals, SharedMemory};

/// The descriptor number the child gets its shared memory on.
const FD: &str = "MMAP_TEST_SHARED_FD";

/// The child's shared memory: the descriptor its parent handed on with `share_with`, taken with
/// `from_inherited`, which makes it close-on-exec again.
fn inherited() -> SharedMemory {
    let fd: RawFd = std::env::var(FD).unwrap().parse().unwrap();
    assert_eq!(
        close_on_exec(fd),
        Some(false),
        "inherited: open across exec"
    );
    // SAFETY: the parent handed this descriptor to this process with `share_with`, and nothing
    // else here owns it.
    let memory = unsafe { SharedMemory::from_inherited(fd) }.unwrap();
    assert_eq!(
        close_on_exec(fd),
        Some(true),
        "this child's own children do not inherit it"
    );
    memory
}

/// Starts `child` with `memory` handed on by `share_with`, and asserts that it passed.
fn assert_passes_with(child: &common::ChildProcess, memory: &SharedMemory) {
    let mut command = child.command();
    let fd = memory.share_with(&mut command).unwrap();
    common::assert_passes(command.env(FD, fd.to_string()));
}

/// Whether descriptor `fd` of this process is close-on-exec (`fcntl(F_GETFD)`); `None` when it is
/// not open.
fn close_on_exec(fd: RawFd) -> Option<bool> {
    // SAFETY: F_GETFD reads a descriptor's flags, or fails with EBADF.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    (flags >= 0).then_some(flags & libc::FD_CLOEXEC != 0)
}

/// Whether descriptor `fd` of this process is the memfd named `name` (`/proc/self/fd/<fd>` reads
/// `/memfd:<name> (deleted)`).
fn is_memfd(fd: RawFd, name: &str) -> bool {
    std::fs::read_link(format!("/proc/self/fd/{fd}"))
        .is_ok_and(|target| target.to_string_lossy() == format!("/memfd:{name} (deleted)"))
}

#[test]
fn a_child_writes_shared_memory_and_the_parent_reads_it() {
    let page = mman::page_size();
    common::run_the_rest_in_a_child!(|child| {
        let memory = SharedMemory::create("mmap-test", 2 * page as u64).unwrap();
        assert_eq!(memory.seals().unwrap(), Seals::empty());
        assert_passes_with(child, &memory);
        let map = memory.map_raw().unwrap();
        // SAFETY: the child has exited; nothing else writes the memory.
        let bytes = unsafe { std::slice::from_raw_parts(map.as_ptr().add(page), 14) };
        assert_eq!(bytes, b"from the child");
    });
    let memory = inherited();
    assert_eq!(memory.len().unwrap(), 2 * page as u64);
    let map = memory.map_raw().unwrap();
    // SAFETY: the parent waits for this process to exit before reading.
    unsafe {
        map.as_mut_ptr()
            .add(page)
            .copy_from(b"from the child".as_ptr(), 14)
    };
}

#[test]
fn sealed_memory_maps_safely_and_refuses_every_change() {
    common::run_the_rest_in_a_child!(|child| {
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
        assert_passes_with(child, &memory);
        let map = memory.map_sealed().unwrap();
        assert_eq!(&map[..6], b"sealed");
    });
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
fn map_sealed_is_private_and_refuses_raw_flags() {
    common::run_the_rest_in_a_child!();
    let shared = SharedMemory::create("sealed", page_size() as u64).unwrap();
    shared.as_file().write_all(b"frozen").unwrap();
    shared
        .add_seals(Seals::SHRINK | Seals::GROW | Seals::WRITE)
        .unwrap();

    // A raw MAP_ANONYMOUS would map zeros in place of the sealed bytes.
    let raw = MapFlags::from_bits_retain(mmap_sys::MAP_ANONYMOUS);
    let error = MmapOptions::new()
        .flags(raw)
        .map_sealed(&shared)
        .map(drop)
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    assert!(error.to_string().starts_with("map_sealed: "), "{error}");

    let map = shared.map_sealed().unwrap();
    assert_eq!(&map[..6], b"frozen");
    let start = map.as_ptr() as usize;
    // Private and read-only: what Linux before 6.7 maps from a write-sealed memfd.
    assert_eq!(common::permissions_at(start), "r--p");
    let mut copy = map.make_mut().unwrap();
    copy[0] = b'F';
    let mut read = [0u8; 6];
    std::os::unix::fs::FileExt::read_at(shared.as_file(), &mut read, 0).unwrap();
    assert_eq!(
        (&copy[..6], &read),
        (&b"Frozen"[..], b"frozen"),
        "the write stayed in the copy"
    );
    drop(copy);
    assert!(!common::mapped(start, start + page_size()));
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
            common::not_run!("this kernel refuses a shared map of write-sealed memory ({error})");
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

/// The bytes of memory a memfd holds: its `st_blocks` (of 512 bytes); a hole holds none.
#[cfg(mman_populate)]
fn allocated(memory: &SharedMemory) -> u64 {
    use std::os::unix::fs::MetadataExt;
    memory.as_file().metadata().unwrap().blocks() * 512
}

/// A sealed memfd's holes are allocated at the first read, which may fail (strict overcommit):
/// `map_sealed` and `map_if_safe` fault in the holes of the range they map, and only those, so
/// that a read of the map needs no more memory (the failure itself is
/// `a_sealed_memfd_with_holes_maps_without_sigbus_under_strict_overcommit`'s).
#[test]
#[cfg(mman_populate)]
fn map_sealed_faults_in_the_holes_of_its_range() {
    if !mman::Advice::PopulateRead.is_supported() {
        common::not_run!("the running kernel lacks MADV_POPULATE_READ (Linux 5.14)");
        return;
    }
    let page = mman::page_size() as u64;
    let len = 256 * page;
    let memory = SharedMemory::create("mmap-test-holes", len).unwrap();
    std::os::unix::fs::FileExt::write_all_at(memory.as_file(), b"data", 0).unwrap();
    memory
        .add_seals(Seals::SHRINK | Seals::GROW | Seals::WRITE)
        .unwrap();
    assert_eq!(allocated(&memory), page, "one page written, the rest holes");

    let part = MmapOptions::new()
        .offset(64 * page)
        .len(64 * page as usize)
        .map_sealed(&memory)
        .unwrap();
    assert_eq!(allocated(&memory), 65 * page, "the holes of the range only");
    assert_eq!(part.resident_pages().unwrap(), 64);
    assert!(part.iter().all(|&b| b == 0));

    let whole = MmapOptions::new().map_if_safe(&memory).unwrap();
    assert_eq!(allocated(&memory), len);
    assert_eq!(&whole[..4], b"data");
    assert!(whole[4..].iter().all(|&b| b == 0));
}

/// Under strict overcommit (`vm.overcommit_memory=2`) at its limit, the first read of a hole of a
/// sealed memfd (a page never written) needs a page the kernel cannot account for: a touch would
/// raise `SIGBUS`. `map_sealed` and `map_if_safe` fault the holes in when mapping, and fail then.
/// The child makes the memory, turns strict overcommit on for processes without `CAP_SYS_ADMIN`,
/// and becomes one (uid 65534); the parent puts the machine's settings back. Needs root, and
/// `MADV_POPULATE_READ` (Linux 5.14, and headers that define it: not musl's).
#[test]
#[cfg(mman_populate)]
fn a_sealed_memfd_with_holes_maps_without_sigbus_under_strict_overcommit() {
    common::run_the_rest_in_a_child!(|child| {
        if !mman::Advice::PopulateRead.is_supported() {
            common::not_run!("the running kernel lacks MADV_POPULATE_READ (Linux 5.14)");
            return;
        }
        let Some(_settings) = common::OvercommitSettings::save() else {
            return;
        };
        child.assert_passes();
    });
    let len = 4 << 20;
    let shared = SharedMemory::create("holes", len).unwrap();
    shared.as_file().write_all(b"data, then holes").unwrap();
    shared
        .add_seals(Seals::SHRINK | Seals::GROW | Seals::WRITE)
        .unwrap();
    common::become_unprivileged_under_strict_overcommit();

    let read_all = |map: &Mmap| {
        let sum = map
            .iter()
            .step_by(page_size())
            .map(|&b| usize::from(b))
            .sum::<usize>();
        println!("read {} bytes of holes: {sum}", map.len());
    };
    match shared.map_sealed() {
        Ok(map) => read_all(&map),
        Err(error) => {
            assert_eq!(error.kind(), ErrorKind::OutOfMemory, "{error}");
            assert!(error.to_string().starts_with("map_sealed: "), "{error}");
            assert!(error.to_string().contains("SIGBUS"), "{error}");
        }
    }
    match MmapOptions::new().map_if_safe(&shared) {
        Ok(map) => read_all(&map),
        Err(error) => {
            assert!(error.map_failed(), "{error}");
            let error = std::io::Error::from(error);
            assert_eq!(error.kind(), ErrorKind::OutOfMemory, "{error}");
            assert!(error.to_string().starts_with("map_if_safe: "), "{error}");
        }
    }
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

/// Set in the children of the test below: the memfd's name, and whether the child should have it.
const NAME: &str = "MMAP_TEST_MEMFD_NAME";
const SHOULD_HAVE_IT: &str = "MMAP_TEST_SHOULD_HAVE_IT";

#[test]
fn share_with_hands_the_memory_to_that_commands_children_only() {
    common::run_the_rest_in_a_child!(|child| {
        let name = "mman-test-share-with";
        let memory = SharedMemory::create(name, 4096).unwrap();
        memory.as_file().write_all_at(b"hello", 0).unwrap();
        let mut shared = child.command();
        let fd = memory.share_with(&mut shared).unwrap();
        assert!(fd > 2, "{fd}: not a standard stream's number");
        assert!(is_memfd(fd, name));
        assert_eq!(
            close_on_exec(fd),
            Some(true),
            "in this process the descriptor stays close-on-exec"
        );

        // A child another command starts meanwhile, as another thread would, does not get it.
        common::assert_passes(
            child
                .command()
                .env(FD, fd.to_string())
                .env(NAME, name)
                .env(SHOULD_HAVE_IT, "no"),
        );
        // The command's children do, each one it starts.
        shared
            .env(FD, fd.to_string())
            .env(NAME, name)
            .env(SHOULD_HAVE_IT, "yes");
        common::assert_passes(&mut shared);
        common::assert_passes(&mut shared);
        drop(shared);
        assert!(
            !is_memfd(fd, name),
            "the command's descriptor is closed with it"
        );
    });
    let fd: RawFd = std::env::var(FD).unwrap().parse().unwrap();
    let name = std::env::var(NAME).unwrap();
    if std::env::var(SHOULD_HAVE_IT).unwrap() == "no" {
        assert!(!is_memfd(fd, &name), "a child of another command got it");
        return;
    }
    assert!(is_memfd(fd, &name));
    let memory = inherited();
    let map = memory.map_raw().unwrap();
    let mut greeting = [0u8; 5];
    map.read_exact_at(&mut greeting, 0).unwrap();
    assert_eq!(&greeting, b"hello");
}

#[test]
fn from_inherited_refuses_what_is_not_a_descriptor() {
    // SAFETY: refused before any call: nothing is taken.
    let error = unsafe { SharedMemory::from_inherited(-1) }.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    assert_eq!(
        error.to_string(),
        "SharedMemory::from_inherited: file descriptor -1 is not a descriptor (negative)"
    );
}
