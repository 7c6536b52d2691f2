//! The workloads both benchmark targets measure, one function per (row, contender), on the same
//! inputs: this crate, the raw `mmap-sys` calls, memmap2, and `std` where it applies. Sizes come
//! from environment variables, so that a full run fits a small machine.

#![allow(dead_code)] // each bench target uses part of this

use std::fs::File;
use std::hint::black_box;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::ptr;

use mman::{Advice, Mmap, MmapMut, MmapOptions};

/// A size or count from the environment variable `name`, or `default`.
pub(crate) fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The bench's sizes: `MMAP_BENCH_FILE_MIB` (the scanned file, 1024), `MMAP_BENCH_ANON_MIB` (the
/// anonymous maps, 256), `MMAP_BENCH_READS` (random reads per sample, 20000),
/// `MMAP_BENCH_RANDOM_MIB` (the file of the checked reads' rows, 2048: much larger than the
/// last-level cache, so that reads at new offsets miss it).
pub(crate) struct Sizes {
    pub(crate) file: usize,
    pub(crate) anon: usize,
    pub(crate) reads: usize,
    pub(crate) random: usize,
}

impl Sizes {
    pub(crate) fn from_env() -> Sizes {
        Sizes {
            file: env("MMAP_BENCH_FILE_MIB", 1024) << 20,
            anon: env("MMAP_BENCH_ANON_MIB", 256) << 20,
            reads: env("MMAP_BENCH_READS", 20_000),
            random: env("MMAP_BENCH_RANDOM_MIB", 2048) << 20,
        }
    }
}

/// The files the rows read, in a temporary directory removed on drop.
pub(crate) struct Files {
    pub(crate) dir: tempfile::TempDir,
    /// 4 KiB, for map/unmap.
    pub(crate) small: File,
    /// `Sizes::file` bytes of a pattern, page-cached.
    pub(crate) big: File,
    pub(crate) big_path: std::path::PathBuf,
    /// 16 MiB each, for flushes: one file per contender, so that one's writeback never lands in
    /// another's flush.
    pub(crate) dirty: [File; 3],
}

impl Files {
    pub(crate) fn new(sizes: &Sizes) -> Files {
        let dir = tempfile::tempdir().unwrap();
        let small = file_with(&dir, "small", 4096);
        let big_path = dir.path().join("big");
        let big = file_with(&dir, "big", sizes.file);
        let dirty = ["dirty-ours", "dirty-raw", "dirty-memmap2"]
            .map(|name| file_with(&dir, name, 16 << 20));
        // Read once, so that every contender finds the file in the page cache.
        black_box(scan_std(&big_path));
        Files {
            dir,
            small,
            big,
            big_path,
            dirty,
        }
    }
}

impl Files {
    /// One more file of `len` pattern bytes in the bench's directory, page-cached.
    pub(crate) fn extra(&self, name: &str, len: usize) -> File {
        let file = file_with(&self.dir, name, len);
        black_box(scan_std(&self.dir.path().join(name)));
        file
    }
}

fn file_with(dir: &tempfile::TempDir, name: &str, len: usize) -> File {
    let path = dir.path().join(name);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    let chunk: Vec<u8> = (0..1 << 20).map(|i| (i * 7 % 251) as u8).collect();
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len());
        file.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    file.sync_all().unwrap();
    file
}

/// The checksum every scan computes: the wrapping sum of the bytes as little-endian `u64` words, a
/// loop the compiler vectorises, so that the scans measure memory, not arithmetic.
pub(crate) fn checksum(bytes: &[u8]) -> u64 {
    let words = bytes.chunks_exact(8);
    let tail: u64 = words.remainder().iter().map(|&b| u64::from(b)).sum();
    words
        .map(|w| u64::from_le_bytes(w.try_into().unwrap()))
        .fold(tail, u64::wrapping_add)
}

// Row 1: map and unmap a 4 KiB file.

pub(crate) fn map_unmap_ours(file: &File) -> u64 {
    // SAFETY: the bench's files are its own, and never truncated.
    let map = unsafe { Mmap::map(file).unwrap() };
    black_box(map.as_ptr()) as u64
}

pub(crate) fn map_unmap_ours_len(file: &File) -> u64 {
    // SAFETY: as above.
    let map = unsafe { MmapOptions::new().len(4096).map(file).unwrap() };
    black_box(map.as_ptr()) as u64
}

pub(crate) fn map_unmap_memmap2(file: &File) -> u64 {
    // SAFETY: as above.
    let map = unsafe { memmap2::Mmap::map(file).unwrap() };
    black_box(map.as_ptr()) as u64
}

/// The raw calls a whole-file map needs: `fstat` for the length, `mmap`, `munmap`.
pub(crate) fn map_unmap_raw(file: &File) -> u64 {
    let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `stat` is a buffer of the size fstat fills.
    let got = unsafe { libc::fstat(file.as_raw_fd(), stat.as_mut_ptr()) };
    assert_eq!(got, 0);
    // SAFETY: fstat succeeded.
    let len = unsafe { stat.assume_init() }.st_size as usize;
    let ptr = raw_map(file, len, mmap_sys::PROT_READ, mmap_sys::MAP_SHARED);
    // SAFETY: the mapping just made, unmapped whole.
    unsafe { mmap_sys::munmap(black_box(ptr), len) };
    ptr as u64
}

/// `mmap` of `len` bytes of `file` from offset 0, or panics.
/// Options that prefault every page (`populate()`, `MAP_POPULATE`) where the headers have it; the
/// defaults elsewhere (macOS, FreeBSD), as memmap2's `populate()` does.
pub(crate) fn prefaulting() -> MmapOptions {
    #[allow(unused_mut)]
    let mut options = MmapOptions::new();
    #[cfg(mman_has = "MAP_POPULATE")]
    options.populate();
    options
}

/// `MAP_POPULATE` where the headers have it, for the raw maps; nothing elsewhere.
#[cfg(mman_has = "MAP_POPULATE")]
const RAW_POPULATE: i32 = mmap_sys::MAP_POPULATE;
#[cfg(not(mman_has = "MAP_POPULATE"))]
const RAW_POPULATE: i32 = 0;

fn raw_map(file: &File, len: usize, prot: i32, flags: i32) -> *mut std::ffi::c_void {
    // SAFETY: a new mapping at an address the kernel picks: nothing existing is touched.
    let ptr = unsafe { mmap_sys::mmap(ptr::null_mut(), len, prot, flags, file.as_raw_fd(), 0) };
    assert_ne!(ptr, mmap_sys::MAP_FAILED);
    ptr
}

// Row 2: map and read every byte of the big file.

/// How a scan maps the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scan {
    /// Default options: pages fault in as they are read.
    Default,
    /// `MAP_POPULATE`.
    #[cfg(mman_has = "MAP_POPULATE")]
    Populate,
    /// `MADV_SEQUENTIAL` after the map.
    Sequential,
    /// `MADV_POPULATE_READ` after the map (`populate()`, the prefault call), where the headers
    /// define it.
    #[cfg(mman_populate)]
    Prefault,
}

pub(crate) fn scan_ours(file: &File, how: Scan) -> u64 {
    #[allow(unused_mut)]
    let mut options = MmapOptions::new();
    #[cfg(mman_has = "MAP_POPULATE")]
    if how == Scan::Populate {
        options.populate();
    }
    // SAFETY: the bench's files are its own, and never truncated.
    let map = unsafe { options.map(file).unwrap() };
    match how {
        Scan::Sequential => map.advise(Advice::Sequential).unwrap(),
        #[cfg(mman_populate)]
        Scan::Prefault => map.populate().unwrap(),
        _ => {}
    }
    checksum(&map)
}

pub(crate) fn scan_memmap2(file: &File, how: Scan) -> u64 {
    #[allow(unused_mut)]
    let mut options = memmap2::MmapOptions::new();
    #[cfg(mman_has = "MAP_POPULATE")]
    if how == Scan::Populate {
        options.populate();
    }
    // SAFETY: as above.
    let map = unsafe { options.map(file).unwrap() };
    match how {
        Scan::Sequential => map.advise(memmap2::Advice::Sequential).unwrap(),
        #[cfg(mman_populate)]
        Scan::Prefault => map.advise(memmap2::Advice::PopulateRead).unwrap(),
        _ => {}
    }
    checksum(&map)
}

pub(crate) fn scan_raw(file: &File, how: Scan) -> u64 {
    let len = file.metadata().unwrap().len() as usize;
    #[cfg(mman_has = "MAP_POPULATE")]
    let flags = mmap_sys::MAP_SHARED
        | if how == Scan::Populate {
            RAW_POPULATE
        } else {
            0
        };
    #[cfg(not(mman_has = "MAP_POPULATE"))]
    let flags = mmap_sys::MAP_SHARED;
    let ptr = raw_map(file, len, mmap_sys::PROT_READ, flags);
    let advice = match how {
        Scan::Sequential => Some(mmap_sys::MADV_SEQUENTIAL),
        #[cfg(mman_populate)]
        Scan::Prefault => Some(mmap_sys::MADV_POPULATE_READ),
        _ => None,
    };
    if let Some(advice) = advice {
        // SAFETY: the whole mapping just made; this advice does not change its contents.
        assert_eq!(unsafe { mmap_sys::madvise(ptr, len, advice) }, 0);
    }
    // SAFETY: `len` readable bytes are mapped at `ptr`, and the file is never truncated.
    let sum = checksum(unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) });
    // SAFETY: the mapping made above, no longer read.
    unsafe { mmap_sys::munmap(ptr, len) };
    sum
}

pub(crate) fn scan_std(path: &std::path::Path) -> u64 {
    checksum(&std::fs::read(path).unwrap())
}

// Row 3: 4 KiB reads at random offsets.

/// `count` page-aligned offsets within `len` bytes, the same on every call.
pub(crate) fn random_offsets(len: usize, count: usize) -> Vec<usize> {
    let mut rng = fastrand::Rng::with_seed(0x6d6d6170);
    (0..count)
        .map(|_| rng.usize(0..len / 4096) * 4096)
        .collect()
}

/// Copies 4 KiB at each offset out of `bytes` into a buffer, and checksums the copies.
pub(crate) fn random_reads_slice(bytes: &[u8], offsets: &[usize]) -> u64 {
    let mut buf = [0u8; 4096];
    offsets.iter().fold(0, |sum, &offset| {
        buf.copy_from_slice(&bytes[offset..offset + 4096]);
        sum.wrapping_add(checksum(black_box(&buf)))
    })
}

pub(crate) fn random_reads_checked(map: &Mmap, offsets: &[usize]) -> u64 {
    let mut buf = [0u8; 4096];
    offsets.iter().fold(0, |sum, &offset| {
        map.read_at(&mut buf, offset).unwrap();
        sum.wrapping_add(checksum(black_box(&buf)))
    })
}

pub(crate) fn random_reads_pread(file: &File, offsets: &[usize]) -> u64 {
    let mut buf = [0u8; 4096];
    offsets.iter().fold(0, |sum, &offset| {
        file.read_exact_at(&mut buf, offset as u64).unwrap();
        sum.wrapping_add(checksum(black_box(&buf)))
    })
}

// Row 3b: reads of N bytes at random offsets, three ways: a copy out of the slice (the bar), the
// checked `read_at`, and `pread`. Each returns the first and last byte of every read, so that the
// copies happen, and nothing else is measured with them.

/// `count` offsets within `len` bytes, multiples of `size` (at most a page) so that a read does
/// not cross more pages than it must, the same on every call.
pub(crate) fn random_offsets_for(len: usize, count: usize, size: usize) -> Vec<usize> {
    random_offsets_seeded(len, count, size, 0)
}

/// As `random_offsets_for`, another sequence for each `seed`.
pub(crate) fn random_offsets_seeded(
    len: usize,
    count: usize,
    size: usize,
    seed: u64,
) -> Vec<usize> {
    let step = size.clamp(1, 4096);
    let mut rng = fastrand::Rng::with_seed(0x6d6d6170 + size as u64 + (seed << 32));
    (0..count)
        .map(|_| rng.usize(0..(len - size) / step) * step)
        .collect()
}

/// Copies N bytes at each offset out of `bytes` with `copy_from_slice` (N known to the compiler,
/// as in code that reads a fixed-size record).
pub(crate) fn reads_slice<const N: usize>(bytes: &[u8], offsets: &[usize], buf: &mut [u8]) -> u64 {
    let buf = &mut buf[..N];
    offsets.iter().fold(0, |sum, &offset| {
        buf.copy_from_slice(&bytes[offset..offset + N]);
        let buf = black_box(&mut *buf);
        sum.wrapping_add(u64::from(buf[0]) + u64::from(buf[N - 1]))
    })
}

/// As `reads_slice`, with the checked `Mmap::read_at`.
pub(crate) fn reads_checked<const N: usize>(map: &Mmap, offsets: &[usize], buf: &mut [u8]) -> u64 {
    let buf = &mut buf[..N];
    offsets.iter().fold(0, |sum, &offset| {
        assert_eq!(map.read_at(buf, offset).unwrap(), N);
        let buf = black_box(&mut *buf);
        sum.wrapping_add(u64::from(buf[0]) + u64::from(buf[N - 1]))
    })
}

/// As `reads_slice`, with `pread` (`FileExt::read_exact_at`).
pub(crate) fn reads_pread<const N: usize>(file: &File, offsets: &[usize], buf: &mut [u8]) -> u64 {
    let buf = &mut buf[..N];
    offsets.iter().fold(0, |sum, &offset| {
        file.read_exact_at(buf, offset as u64).unwrap();
        let buf = black_box(&mut *buf);
        sum.wrapping_add(u64::from(buf[0]) + u64::from(buf[N - 1]))
    })
}

/// A raw shared map of all of `file` (`MAP_POPULATE` where the headers have it), unmapped on drop.
pub(crate) struct RawMap {
    ptr: *mut std::ffi::c_void,
    len: usize,
}

impl RawMap {
    pub(crate) fn new(file: &File, writable: bool) -> RawMap {
        let len = file.metadata().unwrap().len() as usize;
        let prot = mmap_sys::PROT_READ | if writable { mmap_sys::PROT_WRITE } else { 0 };
        RawMap {
            ptr: raw_map(file, len, prot, mmap_sys::MAP_SHARED | RAW_POPULATE),
            len,
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: `len` readable bytes are mapped at `ptr` while `self` lives.
        unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>(), self.len) }
    }

    /// The bytes, writable: only for a map made `writable`.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`, writable, and `&mut self` makes this the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.cast::<u8>(), self.len) }
    }
}

impl Drop for RawMap {
    fn drop(&mut self) {
        // SAFETY: the mapping `new` made, no longer borrowed.
        unsafe { mmap_sys::munmap(self.ptr, self.len) };
    }
}

// Row 4: allocate anonymous memory and write every page.

/// Writes one byte in every page, and returns a checksum of what was written.
fn touch(bytes: &mut [u8]) -> u64 {
    let mut sum = 0u64;
    for (i, page) in bytes.chunks_mut(4096).enumerate() {
        page[0] = i as u8;
        sum = sum.wrapping_add(u64::from(page[0]));
    }
    sum
}

/// How an anonymous map is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Anon {
    /// Default options: pages fault in as they are written.
    Default,
    /// `MAP_POPULATE`: every page allocated by `mmap`.
    #[cfg(mman_has = "MAP_POPULATE")]
    Populate,
    /// `MADV_HUGEPAGE` after the map: transparent huge pages, where the headers define it.
    #[cfg(mman_has = "MADV_HUGEPAGE")]
    HugePages,
}

pub(crate) fn anon_vec(len: usize) -> u64 {
    touch(&mut vec![0u8; len])
}

// Elsewhere than Linux, `Anon::Default` is the only way.
#[cfg_attr(not(mman_has = "MAP_POPULATE"), allow(unused_variables))]
pub(crate) fn anon_ours(len: usize, how: Anon) -> u64 {
    let mut options = MmapOptions::new();
    options.len(len);
    #[cfg(mman_has = "MAP_POPULATE")]
    if how == Anon::Populate {
        options.populate();
    }
    #[allow(unused_mut)]
    let mut map = options.map_anon().unwrap();
    #[cfg(mman_has = "MADV_HUGEPAGE")]
    if how == Anon::HugePages {
        map.advise(Advice::HugePage).unwrap();
    }
    touch(&mut map)
}

// Elsewhere than Linux, `Anon::Default` is the only way.
#[cfg_attr(not(mman_has = "MAP_POPULATE"), allow(unused_variables))]
pub(crate) fn anon_memmap2(len: usize, how: Anon) -> u64 {
    let mut options = memmap2::MmapOptions::new();
    options.len(len);
    #[cfg(mman_has = "MAP_POPULATE")]
    if how == Anon::Populate {
        options.populate();
    }
    #[allow(unused_mut)]
    let mut map = options.map_anon().unwrap();
    #[cfg(mman_has = "MADV_HUGEPAGE")]
    if how == Anon::HugePages {
        map.advise(memmap2::Advice::HugePage).unwrap();
    }
    touch(&mut map)
}

// Elsewhere than Linux, `Anon::Default` is the only way.
#[cfg_attr(not(mman_has = "MAP_POPULATE"), allow(unused_variables))]
pub(crate) fn anon_raw(len: usize, how: Anon) -> u64 {
    #[allow(unused_mut)]
    let mut flags = mmap_sys::MAP_PRIVATE | mmap_sys::MAP_ANONYMOUS;
    #[cfg(mman_has = "MAP_POPULATE")]
    if how == Anon::Populate {
        flags |= RAW_POPULATE;
    }
    let prot = mmap_sys::PROT_READ | mmap_sys::PROT_WRITE;
    // SAFETY: a new anonymous mapping at an address the kernel picks.
    let ptr = unsafe { mmap_sys::mmap(ptr::null_mut(), len, prot, flags, -1, 0) };
    assert_ne!(ptr, mmap_sys::MAP_FAILED);
    #[cfg(mman_has = "MADV_HUGEPAGE")]
    if how == Anon::HugePages {
        // SAFETY: the whole mapping just made; the advice does not change its contents.
        let got = unsafe { mmap_sys::madvise(ptr, len, mmap_sys::MADV_HUGEPAGE) };
        assert_eq!(got, 0);
    }
    // SAFETY: `len` writable bytes are mapped at `ptr`, this function's alone.
    let sum = touch(unsafe { std::slice::from_raw_parts_mut(ptr.cast::<u8>(), len) });
    // SAFETY: the mapping made above, no longer borrowed.
    unsafe { mmap_sys::munmap(ptr, len) };
    sum
}

// Row 5: flush a dirty 1 MiB range of a file map.

pub(crate) const FLUSH_LEN: usize = 1 << 20;

/// Dirties every page of the 1 MiB at `offset` (a different byte value each round).
fn dirty(bytes: &mut [u8], offset: usize, round: u8) {
    for page in bytes[offset..offset + FLUSH_LEN].chunks_mut(4096) {
        page[0] = round;
    }
}

pub(crate) fn flush_ours(map: &mut MmapMut, offset: usize, round: u8) -> u64 {
    dirty(map, offset, round);
    map.flush_range(offset, FLUSH_LEN).unwrap();
    offset as u64
}

pub(crate) fn flush_memmap2(map: &mut memmap2::MmapMut, offset: usize, round: u8) -> u64 {
    dirty(map, offset, round);
    map.flush_range(offset, FLUSH_LEN).unwrap();
    offset as u64
}

pub(crate) fn flush_raw(map: &mut [u8], offset: usize, round: u8) -> u64 {
    dirty(map, offset, round);
    // SAFETY: a page-aligned range within the mapping `map` borrows.
    let ret = unsafe {
        mmap_sys::msync(
            map.as_mut_ptr().add(offset).cast(),
            FLUSH_LEN,
            mmap_sys::MS_SYNC,
        )
    };
    assert_eq!(ret, 0);
    offset as u64
}
