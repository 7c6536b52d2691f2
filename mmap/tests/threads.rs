//! Threads: many threads read one map at once and see the same bytes; which types cross threads is
//! checked at compile time.

mod common;

use mman::{
    Advice, LockAll, MapFlags, Mmap, MmapMut, MmapOptions, MmapRaw, Protection, UncheckedAdvice,
};

/// Compiles only if `T` is `Send` and `Sync`.
fn send_sync<T: Send + Sync>() {}

#[test]
fn every_public_type_is_send_and_sync() {
    // A map owns its mapping, which any thread may read or unmap; `&Mmap` gives `&[u8]`, and
    // `&MmapMut` too (writes need `&mut`); `MmapRaw` gives raw pointers only, whose use is the
    // caller's `unsafe`. The rest are plain values, and `SharedMemory` holds a `File`. No public
    // type shares unsynchronised interior state, so none is `!Sync`.
    send_sync::<Mmap>();
    send_sync::<MmapMut>();
    send_sync::<MmapRaw>();
    send_sync::<MmapOptions>();
    #[cfg(mman_has = "MREMAP_MAYMOVE")]
    send_sync::<mman::RemapOptions>();
    #[cfg(linux_kernel)]
    send_sync::<mman::SharedMemory>();
    send_sync::<Advice>();
    send_sync::<UncheckedAdvice>();
    send_sync::<Protection>();
    send_sync::<MapFlags>();
    send_sync::<LockAll>();
    #[cfg(linux_kernel)]
    send_sync::<mman::Seals>();
    #[cfg(mman_huge)]
    {
        send_sync::<mman::HugePageSize>();
        send_sync::<mman::HugePagePool>();
    }
}

#[test]
fn many_threads_read_one_map_at_once() {
    let len = 4 << 20;
    let bytes: Vec<u8> = (0..len).map(|i| (i * 31 % 256) as u8).collect();
    let file = common::file_of(&bytes);
    // SAFETY: the temporary file is this test's alone, and never written while mapped.
    let map = unsafe { Mmap::map(&file).unwrap() };
    let expected: u64 = bytes.iter().map(|&b| u64::from(b)).sum();
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..16)
            .map(|t| {
                let (map, bytes) = (&map, &bytes);
                scope.spawn(move || {
                    // Each thread starts elsewhere, so that they fault pages in concurrently.
                    let start = t * len / 16;
                    let sum: u64 = map[start..]
                        .iter()
                        .chain(&map[..start])
                        .map(|&b| u64::from(b))
                        .sum();
                    map.advise(Advice::WillNeed).unwrap();
                    let mut buf = [0u8; 64];
                    assert_eq!(map.read_at(&mut buf, start).unwrap(), 64);
                    assert_eq!(&buf[..], &bytes[start..start + 64]);
                    sum
                })
            })
            .collect();
        for thread in threads {
            assert_eq!(thread.join().unwrap(), expected);
        }
    });
}

#[test]
fn a_map_moves_to_another_thread_and_is_dropped_there() {
    // (That the drop unmaps is checked in `leaks.rs`, alone in its binary: here other tests map and
    // unmap at the same time, and may be given the same addresses.)
    let len = 2 * mman::page_size();
    let mut map = MmapMut::map_anon(len).unwrap();
    map[len - 1] = 9;
    let read = std::thread::spawn(move || {
        let last = map[len - 1];
        map.flush().unwrap();
        drop(map);
        last
    })
    .join()
    .unwrap();
    assert_eq!(read, 9);
}
