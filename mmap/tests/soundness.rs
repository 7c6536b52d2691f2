//! Safe code cannot crash, corrupt memory or leak a map (issue #12). Each hole a hostile review
//! found with safe code only runs here in a child process, which must end well (no signal), with
//! the documented error or the right bytes, and leave nothing mapped. The huge-page holes are in
//! `soundness_huge.rs`, which reserves huge pages.

#![cfg(linux_kernel)]

mod common;

use std::io::{ErrorKind, Write};

use mman::{page_size, MapFlags, Mmap, MmapOptions, RemapOptions, Seals, SharedMemory};

/// `RLIMIT_STACK`'s soft limit, or `None` when unlimited.
fn stack_limit() -> Option<usize> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit for getrlimit to fill.
    let got = unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut limit) };
    assert_eq!(got, 0);
    (limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur as usize)
}

/// The kernel's default stack guard gap, 256 pages (`stack_guard_gap`, mm/mmap.c), in bytes.
fn guard_gap() -> usize {
    256 * page_size()
}

/// Asserts that `error` is the crate's refusal of a place where the stack may grow.
fn assert_stack_refusal(error: &std::io::Error, call: &str) {
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    let message = error.to_string();
    assert!(message.starts_with(&format!("{call}: ")), "{message}");
    assert!(message.contains("stack"), "{message}");
}

#[test]
#[cfg(mman_has = "MAP_FIXED_NOREPLACE")]
fn fixed_no_replace_right_below_the_stack_is_refused() {
    common::run_the_rest_in_a_child!();
    let page = page_size();
    let (stack_start, _) = common::stack();
    let result = MmapOptions::new()
        .len(page)
        .fixed_no_replace(stack_start - page)
        .map_anon();
    let error = result.map(drop).unwrap_err();
    assert_stack_refusal(&error, "map_anon");
    assert!(
        !common::mapped(stack_start - page, stack_start),
        "nothing was mapped below the stack"
    );
}

#[test]
fn address_hint_within_the_stack_limit_is_refused() {
    common::run_the_rest_in_a_child!();
    let page = page_size();
    let (stack_start, _) = common::stack();
    // 4 MiB below the stack: out of the kernel's guard gap (1 MiB), so it honours the hint, but
    // within the 8 MiB the stack may grow.
    let hint = stack_start - (4 << 20);
    let error = MmapOptions::new()
        .len(page)
        .address_hint(hint)
        .map_anon()
        .map(drop)
        .unwrap_err();
    assert_stack_refusal(&error, "map_anon");
    assert!(!common::mapped(hint, hint + page));
}

#[test]
fn remap_does_not_grow_a_map_into_the_stack_limit() {
    common::run_the_rest_in_a_child!();
    let Some(limit) = stack_limit() else {
        println!("not run: RLIMIT_STACK is unlimited, so no map may sit below the stack");
        return;
    };
    let page = page_size();
    let (_, stack_end) = common::stack();
    // The lowest address the stack may reach, less the guard gap the kernel keeps below it.
    let low = stack_end - limit - guard_gap();
    let hint = low - 16 * page;
    let mut map = MmapOptions::new()
        .len(2 * page)
        .address_hint(hint)
        .map_anon()
        .unwrap();
    if map.as_ptr() as usize != hint {
        println!(
            "not run: the kernel did not honour the hint {hint:#x} (placed at {:p})",
            map.as_ptr()
        );
        return;
    }
    for may_move in [false, true] {
        let error = map
            .remap(32 * page, RemapOptions::new().may_move(may_move))
            .unwrap_err();
        assert_stack_refusal(&error, "remap");
        assert_eq!(
            (map.as_ptr() as usize, map.len()),
            (hint, 2 * page),
            "the map is unchanged"
        );
        assert!(
            !common::mapped(hint + 2 * page, low + 16 * page),
            "nothing grew toward the stack"
        );
    }
    map.remap(16 * page, RemapOptions::new()).unwrap();
    assert_eq!(
        (map.as_ptr() as usize, map.len()),
        (hint, 16 * page),
        "up to the limit is allowed"
    );
    map[16 * page - 1] = 1;
    drop(map);
    assert!(!common::mapped(hint, low));
}

#[test]
#[cfg(mman_has = "MAP_FIXED_NOREPLACE")]
fn a_map_right_below_a_grows_down_mapping_is_refused() {
    common::run_the_rest_in_a_child!();
    let page = page_size();
    // The grows-down mapping takes the top 4 pages of a reservation of 64, whose other 60 pages are
    // then unmapped: the pages right below it are free. (One the kernel places where it likes may
    // sit right above another mapping, a library's, say: then no map can go below it anyway.)
    // SAFETY: a new reservation at an address the kernel picks; nothing else uses it.
    let reserved = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            64 * page,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(reserved, libc::MAP_FAILED);
    let start = reserved as usize + 60 * page;
    // SAFETY: MAP_FIXED over the top of the reservation made above, which nothing else uses.
    let grows_down = unsafe {
        libc::mmap(
            start as *mut libc::c_void,
            4 * page,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_GROWSDOWN | libc::MAP_FIXED,
            -1,
            0,
        )
    };
    assert_eq!(grows_down as usize, start);
    // SAFETY: the lower 60 pages of the reservation made above, which nothing else uses.
    assert_eq!(unsafe { libc::munmap(reserved, 60 * page) }, 0);
    assert!(
        !common::mapped(start - 2 * page, start),
        "the pages below the grows-down mapping are free"
    );
    let error = MmapOptions::new()
        .len(page)
        .fixed_no_replace(start - page)
        .map_anon()
        .map(drop)
        .unwrap_err();
    assert_stack_refusal(&error, "map_anon");
    let error = MmapOptions::new()
        .len(page)
        .address_hint(start - 2 * page)
        .map_anon()
        .map(drop)
        .unwrap_err();
    assert_stack_refusal(&error, "map_anon");
    assert!(!common::mapped(start - 2 * page, start));
    // SAFETY: the mapping made above, used by nothing.
    assert_eq!(unsafe { libc::munmap(grows_down, 4 * page) }, 0);
}

#[test]
fn remap_grows_where_process_vm_readv_is_denied() {
    common::run_the_rest_in_a_child!(|child| {
        for errno in ["EPERM", "ENOSYS"] {
            common::assert_passes(child.command().env("DENY_WITH", errno));
        }
    });
    let errno = match std::env::var("DENY_WITH").unwrap().as_str() {
        "EPERM" => libc::EPERM,
        _ => libc::ENOSYS,
    };
    common::deny_syscalls(&[libc::SYS_process_vm_readv], errno as u32);
    let page = page_size();
    let mut buf = [0u8; 1];
    // SAFETY: reading a byte of this process with an empty list copies nothing; here it only
    // shows the filter works.
    let denied = unsafe {
        let local = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: 1,
        };
        libc::process_vm_readv(libc::getpid(), &local, 1, &local, 1, 0)
    };
    assert_eq!(
        (denied, std::io::Error::last_os_error().raw_os_error()),
        (-1, Some(errno))
    );

    let mut anon = mman::MmapMut::map_anon(page).unwrap();
    anon[0] = 1;
    anon.remap(8 * page, RemapOptions::new().may_move(true))
        .unwrap();
    anon[8 * page - 1] = 2;
    assert_eq!((anon.len(), anon[0]), (8 * page, 1));

    let file = common::file_of(&vec![7u8; 2 * page]);
    // SAFETY: the temporary file is this process's alone, and nothing truncates it.
    let mut map = unsafe { MmapOptions::new().len(page).map(&file) }.unwrap();
    let grown = map.remap(2 * page, RemapOptions::new().may_move(true));
    if cfg!(not(mman_has = "MADV_POPULATE_READ")) {
        // Without MADV_POPULATE_READ (headers like musl's), the end of a file cannot be checked.
        let error = grown.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
        assert!(error.to_string().starts_with("remap: "), "{error}");
        assert_eq!(map.len(), page, "the map keeps its length");
        return;
    }
    grown.unwrap();
    assert_eq!((map.len(), map[2 * page - 1]), (2 * page, 7));
    let error = map
        .remap(3 * page, RemapOptions::new().may_move(true))
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    assert!(error.to_string().starts_with("remap: "), "{error}");
    assert_eq!(map.len(), 2 * page, "the map keeps its length");

    match map.read_at(&mut buf, 5) {
        Ok(n) => assert_eq!((n, buf[0]), (1, 7)),
        Err(error) => assert!(error.to_string().starts_with("read_at: "), "{error}"),
    }
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
            println!("not run: the running kernel lacks MADV_POPULATE_READ (Linux 5.14)");
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
    common::make_overcommit_strict_for_the_unprivileged();
    // SAFETY: setuid has no memory preconditions.
    let dropped = unsafe { libc::setuid(65534) };
    assert_eq!(dropped, 0, "uid 65534 drops CAP_SYS_ADMIN");
    let committed = MmapOptions::new().len(1 << 20).map_anon();
    assert!(committed.is_err(), "strict overcommit at its limit");
    drop(committed);

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

/// A loop device attached to a file, detached when dropped.
struct LoopDevice(String);

impl Drop for LoopDevice {
    fn drop(&mut self) {
        let _ = std::process::Command::new("losetup")
            .args(["-d", &self.0])
            .status();
    }
}

#[test]
fn a_block_device_maps_at_its_size() {
    let len = 1 << 20;
    let pattern = |i: usize| (i % 251) as u8;
    common::run_the_rest_in_a_child!(|child| {
        let test = child.test();
        if !common::may_change_the_machine(&format!("{test}: it attaches a loop device")) {
            return;
        }
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            println!("not run: attaching a loop device needs root");
            return;
        }
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&(0..len).map(pattern).collect::<Vec<u8>>())
            .unwrap();
        let attach = std::process::Command::new("losetup")
            .args(["--find", "--show"])
            .arg(file.path())
            .output();
        let device = match attach {
            Ok(output) if output.status.success() => {
                LoopDevice(String::from_utf8(output.stdout).unwrap().trim().to_owned())
            }
            Ok(output) => {
                println!(
                    "not run: losetup failed: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                );
                return;
            }
            Err(error) => {
                println!("not run: no losetup: {error}");
                return;
            }
        };
        common::assert_passes(child.command().env("LOOP_DEVICE", &device.0));
    });
    let device = std::fs::File::open(std::env::var("LOOP_DEVICE").unwrap()).unwrap();
    let map = MmapOptions::new().map_raw_read_only(&device).unwrap();
    assert_eq!(
        map.len(),
        len,
        "the device's size, which fstat reports as 0"
    );
    let page = page_size();
    let mut buf = vec![0u8; page];
    map.read_at(&mut buf, len - page).unwrap();
    assert!(buf
        .iter()
        .enumerate()
        .all(|(i, &b)| b == pattern(len - page + i)));
    let start = map.as_ptr() as usize;
    drop(map);
    assert!(!common::mapped(start, start + len));
    // SAFETY: nothing writes the loop device but this test, which does not.
    let map = unsafe { Mmap::map(&device) }.unwrap();
    assert_eq!(map.len(), len);
}
