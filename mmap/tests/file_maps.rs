//! Maps of real files: what they read equals the file, at any offset, a block device at its size;
//! and the empty cases, on which every safe call succeeds without a system call.

mod common;

use std::fs::File;

use common::{file_of, pattern, read_back, read_only_file_of};
use mman::{page_size, Mmap, MmapMut, MmapOptions, MmapRaw};

#[test]
fn a_map_reads_what_the_file_holds() {
    let contents = pattern(3 * page_size() + 123);
    let file = file_of(&contents);
    // SAFETY: the temporary file is this test's alone.
    let map = unsafe { Mmap::map(&file).unwrap() };
    assert_eq!(map.len(), contents.len());
    assert_eq!(&map[..], &contents[..]);
}

#[test]
fn aligned_and_unaligned_offsets_show_the_bytes_from_there() {
    let page = page_size();
    let contents = pattern(4 * page);
    let file = file_of(&contents);
    for offset in [0, 1, 100, page - 1, page, page + 1, 2 * page + 17, 4 * page] {
        // SAFETY: the temporary file is this test's alone.
        let map = unsafe { MmapOptions::new().offset(offset as u64).map(&file).unwrap() };
        assert_eq!(&map[..], &contents[offset..], "offset {offset}");
        let len = 10.min(contents.len() - offset);
        // SAFETY: as above.
        let part = unsafe {
            MmapOptions::new()
                .offset(offset as u64)
                .len(len)
                .map(&file)
                .unwrap()
        };
        assert_eq!(
            &part[..],
            &contents[offset..offset + len],
            "offset {offset} len {len}"
        );
    }
}

#[test]
fn an_empty_file_maps_to_an_empty_map() {
    let file = tempfile::tempfile().unwrap();
    // SAFETY: the temporary file is this test's alone.
    let map = unsafe { Mmap::map(&file).unwrap() };
    assert!(map.is_empty());
    assert_eq!(&map[..], b"");
    // SAFETY: as above.
    let map = unsafe { MmapMut::map_mut(&file).unwrap() };
    map.flush().unwrap();
    assert_eq!(MmapRaw::map_raw(&file).unwrap().len(), 0);
}

#[test]
fn a_zero_length_gives_an_empty_map() {
    let file = file_of(&pattern(100));
    // SAFETY: the temporary file is this test's alone.
    let map = unsafe { MmapOptions::new().len(0).offset(50).map(&file).unwrap() };
    assert!(map.is_empty());
    assert!(MmapMut::map_anon(0).unwrap().is_empty());
}

#[test]
fn an_offset_at_the_end_of_the_file_gives_an_empty_map() {
    let contents = pattern(100);
    let file = file_of(&contents);
    // SAFETY: the temporary file is this test's alone.
    let map = unsafe {
        MmapOptions::new()
            .offset(contents.len() as u64)
            .map(&file)
            .unwrap()
    };
    assert!(map.is_empty());
}

/// An empty map's address is a dangling (page-aligned) pointer: no safe call on it may pass it to
/// the kernel, and each succeeds without a system call, reading nothing.
#[test]
#[cfg(linux_kernel)]
fn every_safe_call_on_an_empty_map_succeeds_without_touching_its_address() {
    use mman::Advice;
    use std::io::ErrorKind;

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

/// A loop device attached to a file, detached when dropped.
#[cfg(linux_kernel)]
struct LoopDevice(String);

#[cfg(linux_kernel)]
impl Drop for LoopDevice {
    fn drop(&mut self) {
        let _ = std::process::Command::new("losetup")
            .args(["-d", &self.0])
            .status();
    }
}

#[test]
#[cfg(linux_kernel)]
fn a_block_device_maps_at_its_size() {
    use std::io::Write;

    let len = 1 << 20;
    let pattern = |i: usize| (i % 251) as u8;
    common::run_the_rest_in_a_child!(|child| {
        let test = child.test();
        if !common::may_change_the_machine(&format!("{test}: it attaches a loop device")) {
            return;
        }
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            common::not_run!("attaching a loop device needs root");
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
                common::not_run!(
                    "losetup failed: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                );
                return;
            }
            Err(error) => {
                common::not_run!("no losetup: {error}");
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

#[test]
fn writes_and_flush_are_seen_by_read() {
    let mut contents = pattern(2 * page_size());
    let file = file_of(&contents);
    // SAFETY: the temporary file is this test's alone.
    let mut map = unsafe { MmapMut::map_mut(&file).unwrap() };
    map[10..15].copy_from_slice(b"hello");
    map.flush().unwrap();
    contents[10..15].copy_from_slice(b"hello");
    assert_eq!(read_back(&file), contents);

    let last = map.len() - 3;
    map[last..].copy_from_slice(b"end");
    map.flush_range(last, 3).unwrap();
    map.flush_async_range(0, 1).unwrap();
    map.flush_async().unwrap();
    contents[last..].copy_from_slice(b"end");
    assert_eq!(read_back(&file), contents);
}

#[test]
fn writes_through_an_unaligned_offset_land_at_that_offset() {
    let mut contents = pattern(3 * page_size());
    let file = file_of(&contents);
    let offset = page_size() + 5;
    // SAFETY: the temporary file is this test's alone.
    let mut map = unsafe {
        MmapOptions::new()
            .offset(offset as u64)
            .len(8)
            .map_mut(&file)
            .unwrap()
    };
    map.copy_from_slice(b"12345678");
    map.flush_range(0, 8).unwrap();
    contents[offset..offset + 8].copy_from_slice(b"12345678");
    assert_eq!(read_back(&file), contents);
}

#[test]
fn copy_on_write_writes_never_reach_the_file() {
    let contents = pattern(page_size());
    let file = file_of(&contents);
    // SAFETY: the temporary file is this test's alone.
    let mut copy = unsafe { MmapOptions::new().map_copy(&file).unwrap() };
    assert_eq!(
        common::permissions_at(copy.as_ptr() as usize),
        "rw-p",
        "private"
    );
    copy[..4].copy_from_slice(b"COPY");
    copy.flush().unwrap();
    assert_eq!(&copy[..4], b"COPY");
    drop(copy);
    assert_eq!(read_back(&file), contents);

    // SAFETY: as above.
    let read_only = unsafe { MmapOptions::new().map_copy_read_only(&file).unwrap() };
    assert_eq!(common::permissions_at(read_only.as_ptr() as usize), "r--p");
    let mut writable = read_only.make_mut().unwrap();
    writable[0] = !contents[0];
    drop(writable);
    assert_eq!(read_back(&file), contents);
}

#[test]
fn a_raw_map_writes_through_its_pointer() {
    let mut contents = pattern(page_size());
    let file = file_of(&contents);
    let map = MmapRaw::map_raw(&file).unwrap();
    // SAFETY: the map is `page_size()` bytes long and nothing else uses the file.
    unsafe { map.as_mut_ptr().add(3).write(0xAB) };
    map.flush().unwrap();
    contents[3] = 0xAB;
    assert_eq!(read_back(&file), contents);

    let read_only = MmapOptions::new().map_raw_read_only(&file).unwrap();
    // SAFETY: as above.
    assert_eq!(unsafe { read_only.as_ptr().add(3).read() }, 0xAB);
}

#[test]
fn a_file_opened_read_only_maps_read_only_and_executable() {
    let contents = pattern(100);
    let (_path, read_only) = read_only_file_of(&contents);
    // SAFETY: the temporary file is this test's alone.
    let map = unsafe { MmapOptions::new().map_exec(&read_only).unwrap() };
    assert_eq!(&map[..], &contents[..]);
    assert_eq!(
        common::permissions_at(map.as_ptr() as usize),
        "r-xs",
        "readable, executable, not writable, shared with the file"
    );
}

#[test]
fn map_types_are_two_words_and_shared_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Mmap>();
    send_sync::<MmapMut>();
    send_sync::<MmapRaw>();
    send_sync::<MmapOptions>();
    // A pointer and a length: 16 bytes on 64-bit targets, 8 on 32-bit ones.
    let two_words = 2 * std::mem::size_of::<*const u8>();
    assert_eq!(std::mem::size_of::<Mmap>(), two_words);
    assert_eq!(std::mem::size_of::<MmapMut>(), two_words);
    assert_eq!(std::mem::size_of::<MmapRaw>(), two_words);
}

/// A sparse file of 5 GiB and one page, past what 32 bits count, whose last page holds `marker`.
fn sparse_file_over_4_gib(marker: &[u8]) -> (File, u64) {
    use std::os::unix::fs::FileExt;
    let end = (5 << 30) + page_size() as u64;
    let file = tempfile::tempfile().unwrap();
    file.set_len(end).unwrap();
    file.write_all_at(marker, end - page_size() as u64).unwrap();
    (file, end)
}

#[test]
fn a_window_past_4_gib_of_a_file_maps_on_every_target() {
    // On 32-bit glibc, a 32-bit fstat cannot tell this file's size (EOVERFLOW): the size must come
    // from the 64-bit call, and the offset must reach the kernel whole.
    let (file, end) = sparse_file_over_4_gib(b"the last page");
    let offset = end - page_size() as u64;
    // SAFETY: the temporary file is this test's alone.
    let rest = unsafe { MmapOptions::new().offset(offset).map(&file).unwrap() };
    assert_eq!(rest.len(), page_size());
    assert_eq!(&rest[..13], b"the last page");
    // SAFETY: as above.
    let window = unsafe {
        MmapOptions::new()
            .offset(offset + 4)
            .len(9)
            .map(&file)
            .unwrap()
    };
    assert_eq!(&window[..], b"last page");
}

#[test]
fn a_whole_file_over_4_gib_maps_only_where_the_address_space_holds_it() {
    let (file, end) = sparse_file_over_4_gib(b"end");
    // SAFETY: the temporary file is this test's alone.
    let whole = unsafe { Mmap::map(&file) };
    if usize::try_from(end).is_ok() {
        let whole = whole.unwrap();
        assert_eq!(whole.len() as u64, end);
        assert_eq!(&whole[whole.len() - page_size()..][..3], b"end");
    } else {
        let error = whole.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{error}");
        assert!(
            error.to_string().contains(&format!("{end} bytes")),
            "{error}"
        );
    }
}

#[test]
fn debug_shows_the_address_and_the_length() {
    let map = MmapMut::map_anon(page_size()).unwrap();
    let debug = format!("{map:?}");
    assert_eq!(
        debug,
        format!(
            "MmapMut {{ ptr: {:p}, len: {} }}",
            map.as_ptr(),
            page_size()
        )
    );
}
