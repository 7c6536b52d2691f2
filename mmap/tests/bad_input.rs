//! Bad input, case by case: each gets an `io::Error` of the exact kind, whose message names the
//! call and the argument, and nothing is mapped (`/proc/self/maps` is the same before and after).
//!
//! One test runs the whole table, alone in this binary, so that no other test maps or unmaps while
//! it compares `/proc/self/maps`. Locking past `RLIMIT_MEMLOCK` needs a child process with a
//! lowered limit: it is in `lock_all.rs`.

// /proc is Linux's.
#![cfg(linux_kernel)]

mod common;

use std::fs::File;
use std::io::{self, ErrorKind, Write};
use std::os::fd::{AsRawFd, BorrowedFd};

use mman::{
    lock_all, page_size, Advice, LockAll, MapFlags, Mmap, MmapMut, MmapOptions, MmapRaw,
    Protection, RemapOptions, SharedMemory, UncheckedAdvice,
};

/// This binary's allocator: every allocation comes from a static arena, and nothing is given
/// back. C libraries' allocators map and unmap memory of their own as they please (musl's gives
/// freed areas back to the kernel, and maps new ones for small allocations too), which the
/// comparisons of `/proc/self/maps` below would read as the crate's doing.
struct Arena {
    bytes: std::cell::UnsafeCell<[u8; ARENA_BYTES]>,
    used: std::sync::atomic::AtomicUsize,
}

/// Enough for the whole table twice, with room to spare: each case allocates a few pages (errors,
/// and `/proc/self/maps` read by the crate's placement checks).
const ARENA_BYTES: usize = 256 << 20;

// SAFETY: `used` hands each byte of `bytes` to one allocation only, by an atomic update.
unsafe impl Sync for Arena {}

// SAFETY: each allocation is a range of the arena no other allocation overlaps, aligned as asked,
// and valid for the program's life; null when the arena is used up.
unsafe impl std::alloc::GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        use std::sync::atomic::Ordering;
        let base = self.bytes.get() as usize;
        let mut start = 0;
        let taken = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                start = (base + used).checked_next_multiple_of(layout.align())? - base;
                let end = start.checked_add(layout.size())?;
                (end <= ARENA_BYTES).then_some(end)
            });
        match taken {
            Ok(_) => self.bytes.get().cast::<u8>().wrapping_add(start),
            Err(_) => std::ptr::null_mut(),
        }
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: std::alloc::Layout) {}
}

#[global_allocator]
static ARENA: Arena = Arena {
    bytes: std::cell::UnsafeCell::new([0; ARENA_BYTES]),
    used: std::sync::atomic::AtomicUsize::new(0),
};

/// One bad input: the call, the kind of error it must get, and words its message must hold.
struct Case {
    name: &'static str,
    call: Box<dyn Fn() -> io::Result<()>>,
    kind: ErrorKind,
    words: Vec<String>,
}

fn case(
    name: &'static str,
    kind: ErrorKind,
    words: &[&str],
    call: impl Fn() -> io::Result<()> + 'static,
) -> Case {
    Case {
        name,
        call: Box::new(call),
        kind,
        words: words.iter().map(|word| word.to_string()).collect(),
    }
}

/// A temporary file of `len` bytes.
fn file_of(len: usize) -> File {
    common::file_of(&vec![1; len])
}

/// Where this process's mappings start, with their file. Ends are left out: the heap and malloc's
/// arenas grow in place, moving the end of their mapping and the start of the reserve after it
/// (anonymous `---p`), which is left out too. A new mapping shows as a new start, or, merged into
/// the mapping above it, as that mapping's start moving down.
///
/// Returned as a fingerprint, and read into one buffer allocated once: the reading allocates
/// nothing, since an allocation may itself be a new mapping (musl's malloc maps new areas for small
/// ones too).
fn mappings() -> u64 {
    use std::hash::{Hash, Hasher};
    use std::io::Read;
    thread_local! {
        static MAPS: std::cell::RefCell<String> =
            std::cell::RefCell::new(String::with_capacity(1 << 20));
    }
    MAPS.with_borrow_mut(|maps| {
        maps.clear();
        File::open("/proc/self/maps")
            .unwrap()
            .read_to_string(maps)
            .unwrap();
        let mut fingerprint = std::collections::hash_map::DefaultHasher::new();
        for line in maps.lines() {
            let mut fields = line.split_whitespace();
            let (range, perms) = (fields.next().unwrap(), fields.next().unwrap());
            let file = fields.nth(3);
            if perms == "---p" && file.is_none() {
                continue;
            }
            (range.split('-').next(), file).hash(&mut fingerprint);
        }
        fingerprint.finish()
    })
}

/// A descriptor number that names no open file: a file duplicated to a high number, then closed.
fn closed_fd() -> i32 {
    let file = file_of(16);
    // SAFETY: dup2 onto a free number far above what the tests open; closed at once.
    let fd = unsafe { libc::dup2(file.as_raw_fd(), 900) };
    assert_eq!(fd, 900);
    // SAFETY: the descriptor just made, owned here.
    assert_eq!(unsafe { libc::close(fd) }, 0);
    fd
}

fn cases() -> Vec<Case> {
    let page = page_size();
    let over = isize::MAX as usize + 1;
    let file = std::rc::Rc::new(file_of(100));
    let f = |file: &std::rc::Rc<File>| std::rc::Rc::clone(file);
    let map = std::rc::Rc::new(MmapMut::map_anon(page).unwrap());
    let m = |map: &std::rc::Rc<MmapMut>| std::rc::Rc::clone(map);
    let one_page = format!("outside the map of {page} bytes");
    let outside: &[&str] = &["range", &one_page];
    let read_only_path = tempfile::NamedTempFile::new().unwrap();
    read_only_path.as_file().write_all(&vec![0; page]).unwrap();
    let read_only = File::open(read_only_path.path()).unwrap();
    let closed = closed_fd();

    // Headers that lack every optional feature leave nothing to push below.
    #[allow(unused_mut)]
    let mut cases = vec![
        case(
            "len over isize::MAX, anonymous",
            ErrorKind::InvalidInput,
            &["map_anon:", "len", "isize::MAX"],
            move || MmapMut::map_anon(over).map(drop),
        ),
        case(
            "len over isize::MAX, file",
            ErrorKind::InvalidInput,
            &["map_raw:", "len", "isize::MAX"],
            {
                let file = f(&file);
                move || MmapOptions::new().len(usize::MAX).map_raw(&*file).map(drop)
            },
        ),
        case(
            "offset past the end of the file",
            ErrorKind::InvalidInput,
            &["map:", "offset 101", "past the end of the file (100 bytes)"],
            {
                let file = f(&file);
                // SAFETY: refused before any call.
                move || unsafe { MmapOptions::new().offset(101).map(&*file) }.map(drop)
            },
        ),
        case(
            "offset + len overflows u64",
            ErrorKind::InvalidInput,
            &["map:", "offset", "len 10", "overflows u64"],
            {
                let file = f(&file);
                move || {
                    // SAFETY: refused before any call.
                    unsafe { MmapOptions::new().offset(u64::MAX - 5).len(10).map(&*file) }.map(drop)
                }
            },
        ),
        case(
            "offset + len past off_t",
            ErrorKind::InvalidInput,
            &["map_mut:", "len 10", "largest file offset"],
            {
                let file = f(&file);
                move || {
                    let options = MmapOptions::new()
                        .offset(i64::MAX as u64 - 5)
                        .len(10)
                        .clone();
                    // SAFETY: refused before any call.
                    unsafe { options.map_mut(&*file) }.map(drop)
                }
            },
        ),
        case(
            "offset + len overflows usize",
            ErrorKind::InvalidInput,
            &["flush_range:", "offset", "overflows usize"],
            {
                let map = m(&map);
                move || map.flush_range(usize::MAX, 2)
            },
        ),
        case(
            "map_mut of a read-only file",
            ErrorKind::PermissionDenied,
            &[
                &format!("map_mut: mmap of {page} bytes at offset 0"),
                "Permission denied",
            ],
            move || {
                // SAFETY: refused by the kernel.
                unsafe { MmapMut::map_mut(&read_only) }.map(drop)
            },
        ),
        case(
            "a directory",
            ErrorKind::InvalidInput,
            &["map:", "file descriptor is a directory"],
            {
                let dir = File::open(std::env::temp_dir()).unwrap();
                // SAFETY: refused before any call.
                move || unsafe { Mmap::map(&dir) }.map(drop)
            },
        ),
        case(
            "a socket",
            ErrorKind::InvalidInput,
            &["map:", "file descriptor is a socket"],
            {
                let (socket, _peer) = std::os::unix::net::UnixStream::pair().unwrap();
                // SAFETY: refused before any call.
                move || unsafe { Mmap::map(&socket) }.map(drop)
            },
        ),
        case(
            "a pipe",
            ErrorKind::InvalidInput,
            &["map:", "file descriptor is a pipe"],
            {
                let mut child = std::process::Command::new("true")
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                let reader = child.stdout.take().unwrap();
                child.wait().unwrap();
                // SAFETY: refused before any call.
                move || unsafe { Mmap::map(&reader) }.map(drop)
            },
        ),
        case(
            "a closed file descriptor",
            ErrorKind::InvalidInput,
            &["map: fstat of file descriptor 900", "Bad file descriptor"],
            move || {
                // SAFETY: not I/O safe on purpose: the number names no open file (see `closed_fd`),
                // and the kernel says so; nothing else in this binary opens 900 files.
                let fd = unsafe { BorrowedFd::borrow_raw(closed) };
                // SAFETY: refused by the kernel.
                unsafe { Mmap::map(fd) }.map(drop)
            },
        ),
        case(
            "a closed file descriptor, len given",
            ErrorKind::InvalidInput,
            // The first call on the descriptor asks whether it is on hugetlbfs (fstatfs), or where
            // the headers lack the huge page constants, maps it.
            &["map_raw: ", "Bad file descriptor"],
            move || {
                // SAFETY: as above.
                let fd = unsafe { BorrowedFd::borrow_raw(closed) };
                MmapOptions::new().len(16).map_raw(fd).map(drop)
            },
        ),
        case(
            "a file of /proc that reports size 0",
            ErrorKind::Unsupported,
            &[
                "map: the file reports a size of 0",
                "cannot map this kind of file",
                "No such device",
            ],
            {
                let status = File::open("/proc/self/status").unwrap();
                // SAFETY: refused by the kernel.
                move || unsafe { Mmap::map(&status) }.map(drop)
            },
        ),
        case(
            "MAP_FIXED as an extra flag",
            ErrorKind::InvalidInput,
            &["map_anon:", "flags", "MAP_FIXED"],
            move || {
                MmapOptions::new()
                    .len(page)
                    .flags(MapFlags::from_bits_retain(mmap_sys::MAP_FIXED))
                    .map_anon()
                    .map(drop)
            },
        ),
        case(
            "flush_range outside the map",
            ErrorKind::InvalidInput,
            outside,
            {
                let map = m(&map);
                move || map.flush_range(page, 1)
            },
        ),
        case(
            "flush_async_range outside the map",
            ErrorKind::InvalidInput,
            outside,
            {
                let map = m(&map);
                move || map.flush_async_range(1, page)
            },
        ),
        case(
            "advise_range outside the map",
            ErrorKind::InvalidInput,
            outside,
            {
                let map = m(&map);
                move || map.advise_range(Advice::WillNeed, 0, page + 1)
            },
        ),
        case(
            "unchecked_advise_range outside the map",
            ErrorKind::InvalidInput,
            outside,
            {
                let map = m(&map);
                // SAFETY: refused before any call.
                move || unsafe { map.unchecked_advise_range(UncheckedAdvice::DontNeed, page, 1) }
            },
        ),
        case(
            "lock_range outside the map",
            ErrorKind::InvalidInput,
            outside,
            {
                let map = m(&map);
                move || map.lock_range(2, page)
            },
        ),
        case(
            "unlock_range outside the map",
            ErrorKind::InvalidInput,
            outside,
            {
                let map = m(&map);
                move || map.unlock_range(page + 1, 0)
            },
        ),
        case(
            "residency outside the map",
            ErrorKind::InvalidInput,
            outside,
            {
                let map = m(&map);
                move || map.residency(0, page + 1).map(drop)
            },
        ),
        case(
            "read_at past isize::MAX",
            ErrorKind::InvalidInput,
            &[
                "read_at:",
                &format!("offset {}", isize::MAX as usize + 1),
                "past isize::MAX",
            ],
            {
                let map = m(&map);
                move || map.read_at(&mut [0; 4], isize::MAX as usize + 1).map(drop)
            },
        ),
        case(
            "read_exact_at past isize::MAX",
            ErrorKind::InvalidInput,
            &[
                "read_exact_at:",
                &format!("offset {}", usize::MAX),
                "past isize::MAX",
            ],
            {
                let map = m(&map);
                move || map.read_exact_at(&mut [0; 4], usize::MAX)
            },
        ),
        case(
            "read_exact_at past the end of the map",
            ErrorKind::UnexpectedEof,
            &[
                "read_exact_at:",
                &format!("bytes {}..{}", page - 1, page + 3),
                &format!("past the end of the map ({page} bytes)"),
            ],
            {
                let map = m(&map);
                move || map.read_exact_at(&mut [0; 4], page - 1)
            },
        ),
        case(
            "protect_range outside the map",
            ErrorKind::InvalidInput,
            outside,
            || {
                let raw = MmapRaw::from(MmapMut::map_anon(page_size())?);
                raw.protect_range(1, page_size(), Protection::READ)
            },
        ),
        case(
            "remap to 0",
            ErrorKind::InvalidInput,
            &["remap:", "new_len 0"],
            || MmapMut::map_anon(page_size())?.remap(0, RemapOptions::new()),
        ),
        case(
            "remap over isize::MAX",
            ErrorKind::InvalidInput,
            &["remap:", "len", "isize::MAX"],
            move || MmapMut::map_anon(page_size())?.remap(over, RemapOptions::new().may_move(true)),
        ),
        case(
            "lock_all with neither CURRENT nor FUTURE",
            ErrorKind::InvalidInput,
            &["lock_all:", "flags", "neither"],
            || lock_all(LockAll::empty()),
        ),
        case(
            "a read-only map of memory that may still change",
            ErrorKind::InvalidInput,
            &["map_sealed:", "seals", "lack"],
            move || {
                SharedMemory::create("bad-input", page as u64)?
                    .map_sealed()
                    .map(drop)
            },
        ),
        case(
            "a shared memory name with a NUL byte",
            ErrorKind::InvalidInput,
            &["SharedMemory::create:", "name", "NUL"],
            move || SharedMemory::create("a\0b", page as u64).map(drop),
        ),
        case(
            "shared memory inherited at a negative descriptor",
            ErrorKind::InvalidInput,
            &["SharedMemory::from_inherited:", "-1", "negative"],
            // SAFETY: refused before any call: nothing is taken.
            || unsafe { SharedMemory::from_inherited(-1) }.map(drop),
        ),
    ];
    // The cases of features the host's headers may lack.
    #[cfg(mman_populate)]
    cases.push(case(
        "populate_range outside the map",
        ErrorKind::InvalidInput,
        outside,
        {
            let map = m(&map);
            move || map.populate_range(page / 2, page)
        },
    ));
    #[cfg(mman_huge)]
    cases.push(case(
        "a huge page size that cannot be encoded",
        ErrorKind::InvalidInput,
        &["map_anon:", "2^64", "cannot be encoded"],
        move || {
            MmapOptions::new()
                .len(page)
                .huge(Some(64))
                .map_anon()
                .map(drop)
        },
    ));
    #[cfg(mman_huge)]
    cases.push(case(
        "huge pages of a file not on hugetlbfs",
        ErrorKind::InvalidInput,
        &["map_raw:", "huge pages of 2 MiB", "not on hugetlbfs"],
        {
            let file = f(&file);
            move || {
                MmapOptions::new()
                    .len(page)
                    .huge(Some(21))
                    .map_raw(&*file)
                    .map(drop)
            }
        },
    ));
    #[cfg(mman_huge)]
    if common::huge_pages_offered("a huge page offset that is not a multiple of the size") {
        cases.push(case(
            "a huge page offset that is not a multiple of the size",
            ErrorKind::InvalidInput,
            &[
                "map_raw:",
                &format!("offset {page}"),
                "multiple of the huge page size",
            ],
            move || {
                // A memfd of huge pages, which needs none reserved until it is mapped.
                let flags = mmap_sys::MFD_HUGETLB | mmap_sys::MFD_CLOEXEC;
                // SAFETY: the name is NUL-terminated.
                let fd = unsafe { libc::memfd_create(c"huge".as_ptr(), flags) };
                assert!(
                    fd >= 0,
                    "memfd_create(MFD_HUGETLB): {}",
                    std::io::Error::last_os_error()
                );
                use std::os::fd::{FromRawFd, OwnedFd};
                // SAFETY: the kernel just returned this descriptor, owned by nothing else.
                let memfd = unsafe { OwnedFd::from_raw_fd(fd) };
                MmapOptions::new()
                    .len(page)
                    .offset(page as u64)
                    .map_raw(&memfd)
                    .map(drop)
            },
        ));
    }
    #[cfg(mman_has = "MAP_FIXED_NOREPLACE")]
    cases.push(case(
        "a fixed placement over an existing map",
        ErrorKind::AlreadyExists,
        &[
            "map_anon: fixed_no_replace(0x",
            "something is already mapped in 0x",
            "File exists",
        ],
        {
            let map = m(&map);
            move || {
                MmapOptions::new()
                    .len(page)
                    .fixed_no_replace(map.as_ptr() as usize)
                    .map_anon()
                    .map(drop)
            }
        },
    ));
    #[cfg(mman_has = "MAP_FIXED_NOREPLACE")]
    cases.push(case(
        "a fixed placement at an unaligned address",
        ErrorKind::InvalidInput,
        &["map_anon:", "fixed_no_replace", "0x1001"],
        move || {
            MmapOptions::new()
                .len(page)
                .fixed_no_replace(0x1001)
                .map_anon()
                .map(drop)
        },
    ));
    #[cfg(mman_has = "MADV_REMOVE")]
    cases.push(case(
        "advice the kernel refuses for this map",
        ErrorKind::InvalidInput,
        &["madvise(MADV_REMOVE)", "Invalid argument"],
        {
            let map = m(&map);
            // SAFETY: the kernel refuses MADV_REMOVE on a private anonymous map: nothing changes.
            move || unsafe { map.unchecked_advise(UncheckedAdvice::Remove) }
        },
    ));
    // 64 KiB pages exist on arm64, not on x86-64: a size the system does not offer is refused
    // before the map, naming the sizes it does offer; a kernel that offers none refuses every size.
    #[cfg(all(mman_huge, mman_has = "MAP_HUGE_64KB"))]
    {
        let huge_64kb = move || {
            MmapOptions::new()
                .len(page)
                .huge_page_size(mman::HugePageSize::HUGE_64KB)
                .map_anon()
                .map(drop)
        };
        if !common::huge_pages_offered(
            "a size the system does not offer, refused by name (here every size is Unsupported)",
        ) {
            cases.push(case(
                "a huge page size where the kernel offers none",
                ErrorKind::Unsupported,
                &["map_anon:", "huge pages: cannot list"],
                huge_64kb,
            ));
        } else if !mman::HugePageSize::available()
            .unwrap()
            .iter()
            .any(|pool| pool.size.bytes() == 1 << 16)
        {
            cases.push(case(
                "a huge page size the system does not offer",
                ErrorKind::InvalidInput,
                &["map_anon:", "64 KiB", "not one this system offers"],
                huge_64kb,
            ));
        }
    }
    cases
}

#[test]
fn every_bad_input_gets_its_error_and_maps_nothing() {
    let cases = cases();
    assert!(cases.len() >= 25, "{} cases", cases.len());
    zero_length_anonymous_map();
    // A first pass lets the allocator and the lazy parts of std settle their own mappings.
    for case in &cases {
        let _ = (case.call)();
    }
    let valgrind =
        common::skip_under_valgrind("the /proc/self/maps comparisons, and MAP_FIXED_NOREPLACE");
    for case in &cases {
        if valgrind && case.name.starts_with("a fixed placement over") {
            continue;
        }
        let before = mappings();
        let error = match (case.call)() {
            Ok(()) => panic!("{}: succeeded", case.name),
            Err(error) => error,
        };
        let after = mappings();
        assert_eq!(error.kind(), case.kind, "{}: {error}", case.name);
        let message = error.to_string();
        for word in &case.words {
            assert!(
                message.contains(word),
                "{}: {message:?} does not say {word:?}",
                case.name
            );
        }
        assert!(
            valgrind || before == after,
            "{}: the mappings changed",
            case.name
        );
    }
}

/// Not an error: the idiomatic API's rule is that a length of 0 gives an empty map, as an empty
/// file does, and nothing is mapped (no system call: `mmap` itself refuses a length of 0).
fn zero_length_anonymous_map() {
    let before = mappings();
    let map = MmapMut::map_anon(0).unwrap();
    assert!(map.is_empty());
    assert_eq!(&map[..], &[] as &[u8]);
    map.flush().unwrap();
    assert!(common::under_valgrind() || before == mappings());
}
