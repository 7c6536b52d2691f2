//! Safe code cannot crash, corrupt memory or leak a map (issue #12). Each hole a hostile review
//! found with safe code only runs here in a child process, which must end well (no signal), with
//! the documented error or the right bytes, and leave nothing mapped. The huge-page holes are in
//! `soundness_huge.rs`, which reserves huge pages.

#![cfg(linux_kernel)]

mod common;

use std::io::Write;

use mman::{page_size, Mmap, MmapOptions};

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
