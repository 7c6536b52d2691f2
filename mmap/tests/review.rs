//! A hostile second read of the safe API: attacks with safe code only, each run in a child process,
//! that found a hole or pin a promise no other test holds.

#![cfg(linux_kernel)]

mod common;

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::io::ErrorKind;

use mman::{page_size, Advice, Mmap, MmapOptions, Seals, SharedMemory};

/// A thread that keeps putting each of two files in turn behind one descriptor number, with safe
/// code only: it drops the clone that holds the number, then clones the other file, which takes
/// the lowest free number, the same one. Running when `start` returns; stopped and joined when
/// dropped.
struct Swapper {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Swapper {
    /// Starts swapping clones of `files` behind a number, the first's to begin with; returns the
    /// number.
    fn start(files: [&std::fs::File; 2]) -> (std::os::fd::RawFd, Swapper) {
        let files = files.map(|file| file.try_clone().unwrap());
        let occupant = files[0].try_clone().unwrap();
        let number = occupant.as_raw_fd();
        let stop = Arc::new(AtomicBool::new(false));
        let started = Arc::new(std::sync::Barrier::new(2));
        let thread = {
            let (stop, started) = (Arc::clone(&stop), Arc::clone(&started));
            std::thread::spawn(move || {
                started.wait();
                let mut occupant = occupant;
                while !stop.load(Ordering::Relaxed) {
                    for file in [&files[1], &files[0]] {
                        drop(occupant);
                        occupant = file.try_clone().unwrap();
                    }
                }
            })
        };
        // The race starts with the thread running, its start-up (its signal stack's map) done.
        started.wait();
        let thread = Some(thread);
        (number, Swapper { stop, thread })
    }
}

impl Drop for Swapper {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

/// How a safe constructor that takes a `RawFd` is called in the race below.
type MapByNumber = fn(std::os::fd::RawFd) -> Option<Mmap>;

/// The safe constructors of sealed maps take a `RawFd`, a number, and check the file behind it
/// (`F_GET_SEALS`) before mapping it: another thread, with safe code only (dropping the sealed
/// memfd it owns, then cloning an unsealed file, which takes the lowest free number), can put
/// another file behind the number between the check and the `mmap`. The map must never show the
/// unsealed file: its `&[u8]` could then change, or its file be truncated under it (`SIGBUS`).
fn a_number_swapped_after_the_check_is_never_mapped(map: MapByNumber) {
    let len = page_size() as u64;
    let sealed = SharedMemory::create("sealed", len).unwrap();
    std::os::unix::fs::FileExt::write_all_at(sealed.as_file(), &vec![0xAA; len as usize], 0)
        .unwrap();
    sealed
        .add_seals(Seals::SHRINK | Seals::GROW | Seals::WRITE)
        .unwrap();
    let unsealed = SharedMemory::create("unsealed", len).unwrap();
    std::os::unix::fs::FileExt::write_all_at(unsealed.as_file(), &vec![0x55; len as usize], 0)
        .unwrap();

    // The number the mapping thread is given: the sealed memfd's at first.
    let (number, swapper) = Swapper::start([sealed.as_file(), unsealed.as_file()]);
    let deadline = Instant::now() + Duration::from_secs(2);
    let (mut maps, mut unsealed_maps) = (0, 0);
    while Instant::now() < deadline && unsealed_maps == 0 {
        if let Some(map) = map(number) {
            maps += 1;
            if map[0] == 0x55 {
                unsealed_maps += 1;
            }
        }
    }
    drop(swapper);
    println!("{maps} maps of the number, {unsealed_maps} of the unsealed file");
    assert!(
        maps > 0,
        "the sealed file behind the number was never mapped"
    );
    assert_eq!(
        unsealed_maps, 0,
        "a safe map of the unsealed file behind the number"
    );
}

#[test]
fn map_sealed_of_a_number_swapped_after_the_check_is_never_made() {
    common::run_the_rest_in_a_child!();
    a_number_swapped_after_the_check_is_never_mapped(|number| {
        MmapOptions::new().map_sealed(number).ok()
    });
}

#[test]
fn map_if_safe_of_a_number_swapped_after_the_check_is_never_made() {
    common::run_the_rest_in_a_child!();
    a_number_swapped_after_the_check_is_never_mapped(|number| Mmap::map_if_safe(number).ok());
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

/// A copy-on-write map of sealed huge pages (`map_sealed` of an `MFD_HUGETLB` memfd, then
/// `make_mut`) needs a new huge page at its first write: the kernel reserves it when mapping
/// privately, so no other map can take it meanwhile, and the write cannot raise `SIGBUS`. With two
/// huge pages reserved, one holds the memfd's page, the map reserves the other, and anonymous huge
/// maps made until none is free take nothing it needs. Runs as root with `MMAN_TEST_MACHINE=1`
/// only (it changes `/proc/sys/vm/nr_hugepages`, restored afterwards).
#[test]
#[cfg(mman_huge)]
fn the_first_write_to_a_copy_of_sealed_huge_pages_has_its_page_reserved() {
    common::run_the_rest_in_a_child!(|child| child.assert_passes_with_huge_pages(2));
    let huge = mman::HugePageSize::system_default().unwrap().bytes() as usize;
    let memory = common::huge_memfd(c"sealed-huge-copy", huge as u64);
    {
        let writer = memory.map_raw().unwrap();
        // SAFETY: the map is a huge page long; nothing else uses the memory yet.
        unsafe { writer.as_mut_ptr().copy_from(b"frozen".as_ptr(), 6) };
    }
    memory
        .add_seals(Seals::SHRINK | Seals::GROW | Seals::WRITE)
        .unwrap();
    let map = memory.map_sealed().unwrap();
    assert_eq!(&map[..6], b"frozen");
    let mut hogs = Vec::new();
    while let Ok(hog) = MmapOptions::new().len(huge).huge(None).map_anon() {
        hogs.push(hog);
    }
    println!("{} huge pages taken by other maps", hogs.len());
    let mut copy = map.make_mut().unwrap();
    copy[0] = b'F';
    let mut read = [0u8; 6];
    std::os::unix::fs::FileExt::read_exact_at(memory.as_file(), &mut read, 0).unwrap();
    assert_eq!((&copy[..6], &read), (&b"Frozen"[..], b"frozen"));
}

/// The safe `map_raw` of a `RawFd` learns from the file behind the number whether it has huge
/// pages (`fstatfs`), then maps the number: another thread that puts a memfd of huge pages behind
/// the number in between gets it mapped in whole huge pages while the map records the length asked
/// for, which `munmap` then refuses (`EINVAL`): the map would leak. Every map made must unmap
/// whole. Runs as root with `MMAN_TEST_MACHINE=1` only (it reserves a huge page).
#[test]
#[cfg(mman_huge)]
fn map_raw_of_a_number_swapped_for_huge_pages_leaks_nothing() {
    common::run_the_rest_in_a_child!(|child| child.assert_passes_with_huge_pages(1));
    let huge = mman::HugePageSize::system_default().unwrap().bytes() as usize;
    let regular = tempfile::tempfile().unwrap();
    regular.set_len(page_size() as u64).unwrap();
    let huge_pages = common::huge_memfd(c"swapped-huge", huge as u64);
    let (number, swapper) = Swapper::start([&regular, huge_pages.as_file()]);
    let deadline = Instant::now() + Duration::from_secs(2);
    let (mut maps, mut of_huge_pages, mut leaks) = (0, 0, 0);
    while Instant::now() < deadline && leaks == 0 {
        if let Ok(map) = MmapOptions::new().len(page_size()).map_raw(number) {
            maps += 1;
            if !common::mappings_of(huge_pages.as_file()).is_empty() {
                of_huge_pages += 1;
            }
            drop(map);
            // Known by the files' identities, not by the address: another thread's mapping (a new
            // thread's signal stack, say) may take the address the map left.
            if !common::mappings_of(&regular).is_empty()
                || !common::mappings_of(huge_pages.as_file()).is_empty()
            {
                leaks += 1;
            }
        }
    }
    drop(swapper);
    println!("{maps} maps of the number ({of_huge_pages} of the huge pages), {leaks} left mapped after drop");
    assert!(maps > 0, "nothing behind the number was ever mapped");
    assert_eq!(
        leaks, 0,
        "a map of the huge pages behind the number was not unmapped whole"
    );
}
