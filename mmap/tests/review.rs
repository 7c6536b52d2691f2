//! A hostile second read of the safe API: attacks with safe code only, each run in a child process,
//! that found a hole or pin a promise no other test holds.

#![cfg(linux_kernel)]

mod common;

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{assert_success, child, in_child};
use mmap::{page_size, Mmap, MmapOptions, Seals, SharedMemory};

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
    std::os::unix::fs::FileExt::write_all_at(sealed.as_file(), &vec![0xAA; len as usize], 0).unwrap();
    sealed.add_seals(Seals::SHRINK | Seals::GROW | Seals::WRITE).unwrap();
    let unsealed = SharedMemory::create("unsealed", len).unwrap();
    std::os::unix::fs::FileExt::write_all_at(unsealed.as_file(), &vec![0x55; len as usize], 0).unwrap();

    // The number the mapping thread is given: a clone of the sealed memfd, which the swapping
    // thread owns and swaps.
    let occupant = sealed.as_file().try_clone().unwrap();
    let number = occupant.as_raw_fd();
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut occupant = occupant;
            while !stop.load(Ordering::Relaxed) {
                for file in [unsealed.as_file(), sealed.as_file()] {
                    drop(occupant);
                    occupant = file.try_clone().unwrap();
                }
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    let (mut maps, mut unsealed_maps) = (0, 0);
    while Instant::now() < deadline && unsealed_maps == 0 {
        if let Some(map) = map(number) {
            maps += 1;
            if map[0] == 0x55 {
                unsealed_maps += 1;
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    println!("{maps} maps of the number, {unsealed_maps} of the unsealed file");
    assert!(maps > 0, "the sealed file behind the number was never mapped");
    assert_eq!(unsealed_maps, 0, "a safe map of the unsealed file behind the number");
}

#[test]
fn map_sealed_of_a_number_swapped_after_the_check_is_never_made() {
    const TEST: &str = "map_sealed_of_a_number_swapped_after_the_check_is_never_made";
    if !in_child(TEST) {
        assert_success(&mut child(TEST));
        return;
    }
    a_number_swapped_after_the_check_is_never_mapped(|number| MmapOptions::new().map_sealed(number).ok());
}

#[test]
fn map_if_safe_of_a_number_swapped_after_the_check_is_never_made() {
    const TEST: &str = "map_if_safe_of_a_number_swapped_after_the_check_is_never_made";
    if !in_child(TEST) {
        assert_success(&mut child(TEST));
        return;
    }
    a_number_swapped_after_the_check_is_never_mapped(|number| Mmap::map_if_safe(number).ok());
}
