//! Safe code cannot crash, corrupt memory or leak a map (issue #12). Each hole a hostile review
//! found with safe code only runs here in a child process, which must end well (no signal), with
//! the documented error or the right bytes, and leave nothing mapped. The huge-page holes are in
//! `soundness_huge.rs`, which reserves huge pages.

#![cfg(linux_kernel)]

mod common;

use std::io::{ErrorKind, Write};

use mman::{page_size, MapFlags, Mmap, MmapOptions, Seals, SharedMemory};

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
