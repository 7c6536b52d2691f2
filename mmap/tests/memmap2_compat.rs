//! A memmap2 0.9.12 user's code with only the crate's name changed: `use mman as memmap2;`. Most
//! of it is memmap2's own tests (its `test/map.rs`), as its users write the same calls: raw
//! descriptors, `map_if_safe`, `no_probe_handle`, empty maps, `Advice as i32`, `Advice::HwPoison`.

// memmap2's `remap` is an `unsafe fn`, and its users call it in `unsafe` blocks; here it is safe.
#![allow(unused_unsafe)]

mod common;

use mman as memmap2;

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::mem;
use std::os::unix::io::{AsFd, AsRawFd, OwnedFd};

use memmap2::{Advice, MapIfSafeError, Mmap, MmapAsRawDesc, MmapMut, MmapOptions, UncheckedAdvice};

fn rw_file(dir: &tempfile::TempDir, len: u64) -> File {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(dir.path().join("mmap"))
        .unwrap();
    file.set_len(len).unwrap();
    file
}

#[cfg(mman_memfd)]
/// A memfd that can be sealed, as memmap2's tests make it.
fn memfd() -> File {
    // SAFETY: a NUL-terminated name; the descriptor returned is owned by the `File`.
    let fd = unsafe { libc::memfd_create(c"test".as_ptr(), libc::MFD_ALLOW_SEALING) };
    assert!(fd >= 0, "memfd_create: {}", io::Error::last_os_error());
    // SAFETY: the descriptor was just made, and nothing else owns it.
    unsafe { <File as std::os::fd::FromRawFd>::from_raw_fd(fd) }
}

#[test]
fn map_fd() {
    let tempdir = tempfile::tempdir().unwrap();
    let file = rw_file(&tempdir, 128);
    // SAFETY: the temporary file is this test's alone.
    let mut mmap = unsafe { MmapMut::map_mut(file.as_raw_fd()).unwrap() };
    assert_eq!(mmap.len(), 128);
    (&mut mmap[..]).write_all(b"raw fd").unwrap();
    // SAFETY: as above.
    let again = unsafe { MmapOptions::new().len(6).map(file.as_raw_fd()).unwrap() };
    assert_eq!(&again[..], b"raw fd");
}

#[test]
fn every_descriptor_memmap2_takes_maps() {
    let tempdir = tempfile::tempdir().unwrap();
    let file = rw_file(&tempdir, 64);
    let owned: OwnedFd = file.try_clone().unwrap().into();
    let borrowed = file.as_fd();
    // memmap2: `RawFd` and `&T` for every `T: AsRawFd`.
    assert_eq!(
        MmapOptions::new().map_raw(file.as_raw_fd()).unwrap().len(),
        64
    );
    assert_eq!(MmapOptions::new().map_raw(&file).unwrap().len(), 64);
    assert_eq!(MmapOptions::new().map_raw(&owned).unwrap().len(), 64);
    #[allow(clippy::needless_borrows_for_generic_args)] // the `&T` memmap2 takes, on purpose
    let by_reference = MmapOptions::new().map_raw(&borrowed).unwrap();
    assert_eq!(by_reference.len(), 64);
    assert_eq!(
        MmapOptions::new().map_raw_read_only(&file).unwrap().len(),
        64
    );
    // Code generic over memmap2's trait.
    fn len_of<T: MmapAsRawDesc>(file: T) -> io::Result<usize> {
        // SAFETY: the caller's file is this test's alone.
        Ok(unsafe { MmapOptions::new().map_copy_read_only(file)? }.len())
    }
    assert_eq!(len_of(&file).unwrap(), 64);
    assert_eq!(len_of(file.as_raw_fd()).unwrap(), 64);
    assert_eq!(len_of(borrowed).unwrap(), 64);
    assert_eq!(len_of(owned).unwrap(), 64);
}

/// memmap2's own test: "mapping" a 0-length file derefs to an empty slice, aligned for any cast.
#[test]
fn map_empty_file() {
    let tempdir = tempfile::tempdir().unwrap();
    let file = rw_file(&tempdir, 0);
    // SAFETY: the temporary file is this test's alone.
    let mmap = unsafe { Mmap::map(&file).unwrap() };
    assert!(mmap.is_empty());
    assert_eq!(mmap.as_ptr().align_offset(mem::size_of::<usize>()), 0);
    // SAFETY: as above.
    let mmap = unsafe { MmapMut::map_mut(&file).unwrap() };
    assert!(mmap.is_empty());
    assert_eq!(mmap.as_ptr().align_offset(mem::size_of::<usize>()), 0);
    let anon = MmapOptions::new().map_anon().unwrap();
    assert!(anon.is_empty());
    assert_eq!(anon.as_ptr().align_offset(mem::size_of::<u128>()), 0);
    assert_eq!(
        anon.as_ptr() as usize % memmap2::page_size(),
        0,
        "page-aligned, as memmap2's"
    );
}

#[test]
fn map_without_handle_probing() {
    let tempdir = tempfile::tempdir().unwrap();
    let path = tempdir.path().join("mmap");
    File::create(&path)
        .unwrap()
        .write_all(b"exact contents")
        .unwrap();
    let readonly = File::open(&path).unwrap();
    // SAFETY: the temporary file is this test's alone.
    let mmap = unsafe { MmapOptions::new().no_probe_handle().map(&readonly).unwrap() };
    assert_eq!(b"exact contents", &mmap[..]);
}

#[cfg(mman_memfd)]
#[test]
fn map_if_safe_sealed_memfd() {
    let mut file = memfd();
    file.write_all(b"Hello, world!").unwrap();

    // Should report not-safe without seals.
    assert!(Mmap::map_if_safe(&file).unwrap_err().not_safe());

    // SAFETY: F_ADD_SEALS on a descriptor this test owns.
    // Should report not-safe with only F_SEAL_SHRINK
    unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, libc::F_SEAL_SHRINK) };
    assert!(Mmap::map_if_safe(&file).unwrap_err().not_safe());

    // SAFETY: as above.
    // Should succeed with both seals
    unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, libc::F_SEAL_WRITE) };
    let mmap = Mmap::map_if_safe(&file).unwrap();
    assert_eq!(&mmap[..], b"Hello, world!");
}

#[cfg(mman_memfd)]
#[test]
fn map_if_safe_with_offset() {
    let mut file = memfd();
    file.write_all(b"Hello, world!").unwrap();
    let seals = libc::F_SEAL_SHRINK | libc::F_SEAL_WRITE;
    // SAFETY: F_ADD_SEALS on a descriptor this test owns.
    unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, seals) };

    let mmap = MmapOptions::new().offset(7).map_if_safe(&file).unwrap();
    assert_eq!(&mmap[..], b"world!");

    // Mapping beyond file size should report not-safe, and say why.
    let error = MmapOptions::new()
        .offset(7)
        .len(100)
        .map_if_safe(&file)
        .unwrap_err();
    assert!(error.not_safe());
    assert_eq!(
        error.to_string(),
        "map_if_safe: offset 7 + len 100 reaches past the end of the file (13 bytes), which may \
         grow there"
    );
}

#[test]
fn map_if_safe_regular_file() {
    let tempdir = tempfile::tempdir().unwrap();
    let file = rw_file(&tempdir, 128);
    let error: MapIfSafeError = Mmap::map_if_safe(&file).unwrap_err();
    assert!(
        error.not_safe() && !error.map_failed() && !error.not_supported(),
        "{error:?}"
    );
    // It converts into the io::Error it holds, as memmap2's does.
    let error = io::Error::from(error);
    assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    // On tmpfs (a /tmp there) a file is shared memory, sealable, born sealed with F_SEAL_SEAL
    // alone; on a disk it cannot be sealed.
    #[cfg(mman_memfd)]
    let why = if common::on_tmpfs(&file) {
        "the file's seals Seals(SEAL) lack Seals(SHRINK | WRITE)"
    } else {
        "neither a memfd sealed"
    };
    #[cfg(not(mman_memfd))]
    let why = "neither a memfd sealed";
    assert!(error.to_string().contains(why), "{error}");
}

#[test]
fn map_if_safe_of_a_negative_descriptor_is_a_failed_map() {
    let error = Mmap::map_if_safe(-1).unwrap_err();
    assert!(error.map_failed(), "{error:?}");
    let error = io::Error::from(error);
    assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    assert_eq!(
        error.to_string(),
        "map_if_safe: file descriptor -1 is not a descriptor (negative)"
    );
}

#[cfg(mman_memfd)]
#[test]
fn map_if_safe_with_question_mark() -> io::Result<()> {
    let mut file = memfd();
    file.write_all(b"frozen")?;
    // SAFETY: F_ADD_SEALS on a descriptor this test owns.
    unsafe {
        libc::fcntl(
            file.as_raw_fd(),
            libc::F_ADD_SEALS,
            libc::F_SEAL_SHRINK | libc::F_SEAL_WRITE,
        )
    };
    let mmap = Mmap::map_if_safe(&file)?;
    assert_eq!(&mmap[..], b"frozen");
    Ok(())
}

#[test]
fn advice_is_its_madv_value() {
    assert_eq!(Advice::Normal as i32, libc::MADV_NORMAL);
    assert_eq!(Advice::Sequential as i32, libc::MADV_SEQUENTIAL);
    assert_eq!(Advice::WillNeed as i32, libc::MADV_WILLNEED);
    #[cfg(mman_has = "MADV_HUGEPAGE")]
    assert_eq!(Advice::HugePage as i32, libc::MADV_HUGEPAGE);
    #[cfg(mman_has = "MADV_POPULATE_WRITE")]
    assert_eq!(Advice::PopulateWrite as i32, libc::MADV_POPULATE_WRITE);
    assert_eq!(UncheckedAdvice::DontNeed as i32, libc::MADV_DONTNEED);
    #[cfg(mman_has = "MADV_FREE")]
    assert_eq!(UncheckedAdvice::Free as i32, libc::MADV_FREE);
}

/// memmap2 has `HwPoison` in `Advice`; it poisons memory (the next access raises `SIGBUS`), so here
/// it is an `UncheckedAdvice`, under both names. Not given here: it needs `CAP_SYS_ADMIN`, a
/// kernel with `CONFIG_MEMORY_FAILURE`, and would poison this process's memory.
#[test]
#[cfg(mman_has = "MADV_HWPOISON")]
fn hw_poison_keeps_memmap2_s_name_on_the_unsafe_side() {
    assert_eq!(Advice::HwPoison as i32, libc::MADV_HWPOISON);
    let poison: UncheckedAdvice = Advice::HwPoison;
    assert_eq!(poison, UncheckedAdvice::HwPoison);
}

#[test]
fn advise_and_lock_as_memmap2_users_do() {
    let page_size = memmap2::page_size();
    let mut mmap = MmapMut::map_anon(2 * page_size).unwrap();
    mmap.advise(Advice::Random)
        .expect("mmap advising should be supported on unix");
    mmap.advise_range(Advice::Sequential, 0, mmap.len())
        .unwrap();
    mmap.as_mut().fill(255);
    let mmap = mmap.make_read_only().unwrap();
    // SAFETY: no reference into the second page is held across the advice.
    unsafe {
        mmap.unchecked_advise_range(UncheckedAdvice::DontNeed, page_size, page_size)
            .unwrap()
    };
    assert_eq!((mmap[0], mmap[page_size]), (255, 0));
    mmap.lock().unwrap();
    mmap.unlock().unwrap();
}

#[test]
#[cfg(mman_has = "MREMAP_MAYMOVE")]
fn remap_as_memmap2_users_do() {
    use memmap2::RemapOptions;

    let file = tempfile::tempfile().unwrap();
    file.set_len(2000).unwrap();
    // SAFETY: the temporary file is this test's alone.
    let mut mmap = unsafe { MmapOptions::new().len(128).map_mut(&file).unwrap() };
    // SAFETY: memmap2's remap is unsafe; nothing refers into the map.
    unsafe {
        mmap.remap(2000, RemapOptions::new().may_move(true))
            .unwrap()
    };
    assert_eq!(mmap.len(), 2000);
}
