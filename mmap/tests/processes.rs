//! Other processes: a child writes a file through a shared map and flushes; the parent reads the
//! bytes back with `read(2)`. A child killed with `SIGKILL` right after its flush leaves its data
//! in the file.

mod common;

use common::read_back;
use mman::MmapOptions;

/// The file the child maps, by path.
const PATH: &str = "MMAP_TEST_FILE";

fn child_writes(message: &[u8], offset: usize) {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(std::env::var(PATH).unwrap())
        .unwrap();
    // SAFETY: the parent waits for this process and does not touch the file meanwhile.
    let mut map = unsafe { MmapOptions::new().map_mut(&file).unwrap() };
    map[offset..offset + message.len()].copy_from_slice(message);
    map.flush_range(offset, message.len()).unwrap();
}

#[test]
fn a_child_writes_through_a_shared_map_and_the_parent_reads_the_file() {
    common::run_the_rest_in_a_child!(|child| {
        let file = tempfile::NamedTempFile::new().unwrap();
        let len = 3 * mman::page_size();
        file.as_file().set_len(len as u64).unwrap();
        common::assert_passes(child.command().env(PATH, file.path()));
        let bytes = read_back(file.as_file());
        assert_eq!(bytes.len(), len);
        assert_eq!(&bytes[5000..5020], b"written by the child");
        assert!(bytes[..5000].iter().chain(&bytes[5020..]).all(|&b| b == 0));
    });
    child_writes(b"written by the child", 5000);
}

#[test]
fn a_child_killed_right_after_its_flush_leaves_the_data_in_the_file() {
    common::run_the_rest_in_a_child!(|child| {
        let file = tempfile::NamedTempFile::new().unwrap();
        file.as_file().set_len(mman::page_size() as u64).unwrap();
        common::assert_dies_of(child.command().env(PATH, file.path()), libc::SIGKILL);
        assert_eq!(&read_back(file.as_file())[..20], b"flushed, then killed");
    });
    child_writes(b"flushed, then killed", 0);
    // SAFETY: kill and getpid have no memory preconditions; the process ends here.
    unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
    unreachable!("SIGKILL ends the process");
}
