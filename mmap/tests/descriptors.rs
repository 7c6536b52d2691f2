//! Maps made from a descriptor number (a `RawFd`) while another thread, with safe code only, closes
//! the number and reuses it for another file ([`Swapper`]): the file a safe constructor checks is
//! the file it maps, and a map of whatever file was behind the number is unmapped whole. Each runs
//! in a child process, whose descriptors and threads are its own.

// memfds and their seals: Linux's.
#![cfg(linux_kernel)]

mod common;

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mman::{page_size, Mmap, MmapOptions, Seals, SharedMemory};

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
fn assert_a_number_swapped_after_the_check_is_never_mapped(map: MapByNumber) {
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
    assert_a_number_swapped_after_the_check_is_never_mapped(|number| {
        MmapOptions::new().map_sealed(number).ok()
    });
}

#[test]
fn map_if_safe_of_a_number_swapped_after_the_check_is_never_made() {
    common::run_the_rest_in_a_child!();
    assert_a_number_swapped_after_the_check_is_never_mapped(|number| {
        Mmap::map_if_safe(number).ok()
    });
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
