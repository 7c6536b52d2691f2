//! What the test files share: temporary files with given bytes and reading them back, a map of a
//! file truncated under it and the byte a failed `read_at` names, readers of `/proc` (the
//! mappings, their permissions and `smaps` entries, fields of `status`), the reservation of huge
//! pages, resource limits, and child processes (the test binary runs again, running only one test:
//! [`run_the_rest_in_a_child!`]).

#![allow(dead_code)] // each test file uses part of this

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::process::{Command, Output};

use tempfile::NamedTempFile;

/// A resource limit that tests read: [`rlimit`].
pub(crate) enum Limit {
    /// `RLIMIT_STACK`.
    Stack,
    /// `RLIMIT_MEMLOCK`.
    MemLock,
}

/// The soft and hard limit (`getrlimit`) of `which`.
pub(crate) fn rlimit(which: Limit) -> libc::rlimit {
    let resource = match which {
        Limit::Stack => libc::RLIMIT_STACK,
        Limit::MemLock => libc::RLIMIT_MEMLOCK,
    };
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit for getrlimit to fill.
    let got = unsafe { libc::getrlimit(resource, &mut limit) };
    assert_eq!(got, 0, "getrlimit: {}", std::io::Error::last_os_error());
    limit
}

/// A temporary file holding `bytes`, deleted when closed.
pub(crate) fn file_of(bytes: &[u8]) -> File {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(bytes).unwrap();
    file
}

/// A temporary file with a path, holding `bytes`, deleted when dropped: for the tests that open it
/// again (read-only, or in a child process).
pub(crate) fn named_file_of(bytes: &[u8]) -> NamedTempFile {
    let file = NamedTempFile::new().unwrap();
    file.as_file().write_all(bytes).unwrap();
    file
}

/// A temporary file holding `bytes`, opened again read-only; the first half keeps it until
/// dropped.
pub(crate) fn read_only_file_of(bytes: &[u8]) -> (NamedTempFile, File) {
    let named = named_file_of(bytes);
    let read_only = File::open(named.path()).unwrap();
    (named, read_only)
}

/// `len` bytes of a pattern that differs from its neighbours at every offset a test uses.
pub(crate) fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// What `read(2)` sees in the file now, from its start: not through a map.
pub(crate) fn read_back(mut file: &File) -> Vec<u8> {
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(0)).unwrap();
    file.read_to_end(&mut bytes).unwrap();
    bytes
}

/// Set to `1` to let the tests change the machine, as root: reserve huge pages
/// (`/proc/sys/vm/nr_hugepages`), attach a loop device, make a cgroup; each test puts back what it
/// changed. `.ci/run` sets it; a user's `cargo test` leaves the machine alone.
const MACHINE: &str = "MMAN_TEST_MACHINE";

/// Whether the tests may change the machine ([`MACHINE`]); where not, says that `what` was not
/// run, and how to run it.
pub(crate) fn may_change_the_machine(what: &str) -> bool {
    if std::env::var(MACHINE).is_ok_and(|value| value == "1") {
        return true;
    }
    not_run!(
        "{what} (set {MACHINE}=1, as root, to run the tests that change the machine; each puts \
         back what it changed)"
    );
    false
}

/// Says what a test did not run, and why (`format!`'s arguments), where `cargo test` shows it:
/// `not run: ...` on the standard error itself, which the test harness does not capture (it
/// captures `println!` and `eprintln!`). A child process's lines show in its parent's output
/// ([`assert_passes`]).
#[allow(unused_macros)] // each test file uses part of this
macro_rules! not_run {
    ($($what:tt)*) => {
        $crate::common::say(format_args!("not run: {}", format_args!($($what)*)))
    };
}
#[allow(unused_imports)] // each test file uses part of this
pub(crate) use not_run;

/// Writes `line` on the standard error itself, where the test harness does not capture it.
pub(crate) fn say(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Shows the lines of a child's output (both streams) that say what it did not run
/// ([`not_run!`]), as the child's; returns how many there were.
fn show_what_the_child_did_not_run(output: &Output) -> usize {
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    let lines: Vec<&str> = stdout
        .lines()
        .chain(stderr.lines())
        .filter(|line| line.starts_with("not run:"))
        .collect();
    for line in &lines {
        say(format_args!("child: {line}"));
    }
    lines.len()
}

/// The byte at `index` of [`pattern_file`]s: never 0, so a 0 read is a page the file no longer
/// backs (zeros after a truncation and an extension), never a pattern byte.
pub(crate) fn pattern_byte(index: usize) -> u8 {
    (index % 251) as u8 + 1
}

/// A temporary file of `len` bytes of [`pattern_byte`].
pub(crate) fn pattern_file(len: usize) -> NamedTempFile {
    named_file_of(&(0..len).map(pattern_byte).collect::<Vec<u8>>())
}

/// A map of `pages` pages of [`pattern_file`], every page read in, then the file truncated to
/// `keep` bytes from another handle. Not kept past a test; the bytes past `keep` are read only by
/// checked copies (or, in the tests that die of it, on purpose).
pub(crate) fn truncated_map(pages: usize, keep: usize) -> (NamedTempFile, mman::Mmap) {
    let len = pages * mman::page_size();
    let file = pattern_file(len);
    // SAFETY: truncated below on purpose; see above.
    let map = unsafe { mman::Mmap::map(file.as_file()).unwrap() };
    assert_eq!(map[len - 1], pattern_byte(len - 1));
    std::fs::OpenOptions::new()
        .write(true)
        .open(file.path())
        .unwrap()
        .set_len(keep as u64)
        .unwrap();
    (file, map)
}

/// The byte a failed `read_at` names: "read_at: byte N of the map cannot be read".
pub(crate) fn failed_byte(error: &std::io::Error) -> Option<usize> {
    let text = error.to_string();
    text.strip_prefix("read_at: byte ")?
        .split(' ')
        .next()?
        .parse()
        .ok()
}

/// Set in the child: the name of the test whose child part should run.
const CHILD: &str = "MMAP_TEST_CHILD";

/// Runs the rest of the calling test in a child process ([`ChildProcess`]: the test binary again,
/// running this test alone; its name is the calling function's). In that child, does nothing, and
/// the test goes on. In the test itself, runs the parent's part, the closure given (by default
/// [`ChildProcess::assert_passes`]), which starts the child and checks how it ended, then returns
/// from the test.
///
/// ```ignore
/// #[test]
/// fn a_write_to_a_read_only_page_dies() {
///     common::run_the_rest_in_a_child!(|child| child.assert_dies_of(libc::SIGSEGV));
///     // Only in the child: ...
/// }
/// ```
#[allow(unused_macros)] // each test file uses part of this
macro_rules! run_the_rest_in_a_child {
    () => {
        $crate::common::run_the_rest_in_a_child!(|child| child.assert_passes())
    };
    ($parent:expr) => {
        let child = $crate::common::ChildProcess::of({
            fn here() {}
            $crate::common::test_named_by(here)
        });
        if !child.is_this_process() {
            child.run_the_parents_part($parent);
            return;
        }
    };
}
#[allow(unused_imports)] // each test file uses part of this
pub(crate) use run_the_rest_in_a_child;

/// The name the test harness gives the test function that holds `here`, a function defined
/// inside it: its path, without the crate's name (`module::test`, or `test` at the top).
pub(crate) fn test_named_by<F>(_here: F) -> &'static str {
    let path = std::any::type_name::<F>();
    let test = path
        .strip_suffix("::here")
        .and_then(|path| path.split_once("::"))
        .map(|(_crate, test)| test)
        .unwrap_or_else(|| panic!("{path}: not a function defined in a test"));
    assert!(!test.contains('{'), "{path}: not called in the test itself");
    test
}

/// A test's run in a child process: its test binary started again, running only this test, with
/// [`CHILD`] naming it, so that the test can tell the child from itself.
pub(crate) struct ChildProcess {
    test: &'static str,
}

impl ChildProcess {
    /// The child run of the test named `test`.
    pub(crate) fn of(test: &'static str) -> Self {
        ChildProcess { test }
    }

    /// The test's name.
    pub(crate) fn test(&self) -> &'static str {
        self.test
    }

    /// Whether this process is the child.
    pub(crate) fn is_this_process(&self) -> bool {
        std::env::var(CHILD).is_ok_and(|name| name == self.test)
    }

    /// The command that starts the child; add to it (an environment, a descriptor), then run it.
    pub(crate) fn command(&self) -> Command {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args([self.test, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD, self.test);
        command
    }

    /// Runs `parent`, the test's part in its own process: what [`run_the_rest_in_a_child!`] runs.
    pub(crate) fn run_the_parents_part<R>(&self, parent: impl FnOnce(&Self) -> R) {
        let _ = parent(self);
    }

    /// Starts the child and asserts that it passed ([`assert_passes`]).
    pub(crate) fn assert_passes(&self) -> Output {
        assert_passes(&mut self.command())
    }

    /// Starts the child and asserts that `signal` ended it ([`assert_dies_of`]).
    pub(crate) fn assert_dies_of(&self, signal: libc::c_int) -> Output {
        assert_dies_of(&mut self.command(), signal)
    }

    /// Starts the child with `pages` more huge pages of the default size reserved
    /// ([`reserve_huge_pages`]: as root with [`MACHINE`] set, restored afterwards) and asserts that
    /// it passed; or says why it could not.
    #[cfg(mman_huge)]
    pub(crate) fn assert_passes_with_huge_pages(&self, pages: u64) {
        match reserve_huge_pages(self.test, pages) {
            Some(_reserved) => drop(self.assert_passes()),
            None => not_run!("{} needs {pages} free huge page(s)", self.test),
        }
    }
}

/// Runs the command, a [`ChildProcess`]'s, and asserts that the child ran its one test and
/// passed, showing its output if not; shows what the child said it did not run, and why.
pub(crate) fn assert_passes(command: &mut Command) -> Output {
    let output = command.output().unwrap();
    assert!(
        output.status.success()
            && String::from_utf8_lossy(&output.stdout).contains("test result: ok. 1 passed"),
        "the child failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // What the child did not run, and why, shows in the parent's output.
    show_what_the_child_did_not_run(&output);
    output
}

/// Runs the command, a [`ChildProcess`]'s, and asserts that `signal` ended the child
/// ([`assert_died_of`]).
pub(crate) fn assert_dies_of(command: &mut Command, signal: libc::c_int) -> Output {
    let output = command.output().unwrap();
    assert_died_of(&output, signal);
    output
}

/// Asserts that `signal` ended the child whose output this is, showing its output if not.
pub(crate) fn assert_died_of(output: &Output, signal: libc::c_int) {
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        output.status.signal(),
        Some(signal),
        "{}\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Whether the child whose output this is passed without running its case, saying why (`not
/// run: ...`, shown here): for the tests whose child otherwise dies.
pub(crate) fn passed_saying_not_run(output: &Output) -> bool {
    let not_run = show_what_the_child_did_not_run(output);
    output.status.success() && not_run > 0
}

/// What the part of a child run on its main thread found ([`on_main_thread`]): `Err` holds the
/// message of its panic.
static MAIN_THREAD_PART: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();

/// Runs `part` now if this process is the child run for `test`, for the work of a child that must
/// run on the main thread: the main thread's stack (`[stack]`) is the one that grows down on
/// demand, and the test harness runs each test on a thread of its own, with a fixed stack. So the
/// test binary calls this from a function of its `.init_array`, which the C library runs on the
/// main thread before `main`, hence before the harness. A panic of `part` is caught and kept; the
/// child's test then asserts the outcome with [`assert_main_thread_part_passed`].
pub(crate) fn on_main_thread(test: &'static str, part: fn()) {
    if ChildProcess::of(test).is_this_process() {
        let outcome = std::panic::catch_unwind(part).map_err(|panic| {
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|text| (*text).to_owned()))
                .unwrap_or_else(|| "a panic without a message".to_owned())
        });
        let _ = MAIN_THREAD_PART.set(outcome);
    }
}

/// In the child: asserts that the part [`on_main_thread`] ran before the harness passed.
pub(crate) fn assert_main_thread_part_passed() {
    match MAIN_THREAD_PART.get() {
        Some(Ok(())) => {}
        Some(Err(panic)) => panic!("the part on the main thread failed: {panic}"),
        None => panic!("the part on the main thread did not run (is it in .init_array?)"),
    }
}

/// Whether this process runs under valgrind (`.ci/valgrind`). Its emulated kernel lacks
/// `MAP_FIXED_NOREPLACE` (taken for a hint, which `mmap` reports as `Unsupported`) and `mlock2`, it
/// cannot move every map `mremap` is asked to grow (`ENOMEM`), and its own mappings show in
/// `/proc/self/maps`: the assertions on those are skipped there, saying so.
pub(crate) fn under_valgrind() -> bool {
    static VALGRIND: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *VALGRIND.get_or_init(|| {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
        maps.lines().any(|line| line.contains("/valgrind/"))
    })
}

/// Prints why part of a test does not run under valgrind, and returns whether it runs under it.
pub(crate) fn skip_under_valgrind(what: &str) -> bool {
    let skip = under_valgrind();
    if skip {
        println!("not run under valgrind: {what}");
    }
    skip
}

/// The first word after `field:` in a `/proc` file of `name: value` lines.
fn proc_field(path: &str, field: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let prefix = format!("{field}:");
    let value = text
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {field} in {path}"));
    value.split_whitespace().next().unwrap().to_owned()
}

/// A field of `/proc/self/status`, such as `VmLck` (in kB) or `CapEff` (hexadecimal).
pub(crate) fn status(field: &str) -> String {
    proc_field("/proc/self/status", field)
}

/// A field of `/proc/meminfo`, such as `HugePages_Total` or `SwapTotal` (in kB), as a number.
pub(crate) fn meminfo(field: &str) -> u64 {
    proc_field("/proc/meminfo", field).parse().unwrap()
}

/// The locked memory of this process in KiB: `VmLck`.
pub(crate) fn locked_kib() -> u64 {
    status("VmLck").parse().unwrap()
}

/// This process's mappings from `/proc/self/maps`: start, end, and the rest of the line
/// (permissions, offset, device, inode, path).
pub(crate) fn mappings() -> Vec<(usize, usize, String)> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines()
        .map(|line| {
            let (range, rest) = line.split_once(' ').unwrap();
            let (start, end) = range.split_once('-').unwrap();
            let hex = |text| usize::from_str_radix(text, 16).unwrap();
            (hex(start), hex(end), rest.to_owned())
        })
        .collect()
}

/// The mappings of `file` in `/proc/self/maps`, known by its device and inode: what a map of the
/// file leaves behind, whatever else other threads map in the meantime, at whatever address.
pub(crate) fn mappings_of(file: &std::fs::File) -> Vec<(usize, usize)> {
    use std::os::unix::fs::MetadataExt;
    let metadata = file.metadata().unwrap();
    let dev = metadata.dev();
    // `/proc/self/maps` writes the device as `major:minor` in hexadecimal, the inode in decimal.
    let device = format!(
        "{:02x}:{:02x}",
        libc::major(dev as _),
        libc::minor(dev as _)
    );
    let inode = metadata.ino().to_string();
    mappings()
        .into_iter()
        .filter(|(_, _, rest)| {
            let fields: Vec<&str> = rest.split_whitespace().collect();
            fields.get(2) == Some(&device.as_str()) && fields.get(3) == Some(&inode.as_str())
        })
        .map(|(start, end, _)| (start, end))
        .collect()
}

/// The mapping of `/proc/self/maps` that holds `addr`: start, end, and the rest of the line.
pub(crate) fn mapping_at(addr: usize) -> (usize, usize, String) {
    mappings()
        .into_iter()
        .find(|&(start, end, _)| start <= addr && addr < end)
        .unwrap_or_else(|| panic!("nothing is mapped at {addr:#x}"))
}

/// The permissions of the mapping that holds `addr`, as `/proc/self/maps` shows them: `r-xp` is
/// readable and executable, not writable, private.
pub(crate) fn permissions_at(addr: usize) -> String {
    let (_, _, rest) = mapping_at(addr);
    rest.split_whitespace().next().unwrap().to_owned()
}

/// The entry of `/proc/self/smaps` of the mapping that holds `addr`: its first line and its
/// fields (`Rss:`, `AnonHugePages:`, `VmFlags:`, ...), up to the next mapping.
pub(crate) fn smaps_entry(addr: usize) -> String {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    // A mapping's first line starts with its range; its fields with a name and a colon.
    let range = |line: &str| {
        let (start, end) = line.split_once(' ')?.0.split_once('-')?;
        let hex = |text| usize::from_str_radix(text, 16).ok();
        Some((hex(start)?, hex(end)?))
    };
    let mut lines = smaps
        .lines()
        .skip_while(|line| !range(line).is_some_and(|(start, end)| start <= addr && addr < end));
    let mut entry = format!("{}\n", lines.next().expect("nothing is mapped there"));
    for line in lines.take_while(|line| range(line).is_none()) {
        entry.push_str(line);
        entry.push('\n');
    }
    entry
}

/// A field of the `smaps` entry of the mapping that holds `addr`, such as `VmFlags` or
/// `AnonHugePages`: what follows the colon, trimmed.
pub(crate) fn smaps_field(addr: usize, field: &str) -> String {
    let entry = smaps_entry(addr);
    let prefix = format!("{field}:");
    entry
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {field} in {entry}"))
        .trim()
        .to_owned()
}

/// The locked memory and the size of the mapping that holds `addr`, in KiB: `Locked` and `Size`
/// of one read of its `smaps` entry. A map may share its mapping with a neighbour of the same
/// flags (another test's map, locked too): "the whole map is locked" is `Locked == Size`.
pub(crate) fn locked_and_size_kib_at(addr: usize) -> (u64, u64) {
    let entry = smaps_entry(addr);
    let kib = |field: &str| -> u64 {
        let value = entry
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .unwrap();
        value.trim().trim_end_matches(" kB").parse().unwrap()
    };
    (kib("Locked:"), kib("Size:"))
}

/// Whether the mapping that holds `addr` has `flag` (`lo`, `hg`, ...) among its `VmFlags`.
pub(crate) fn has_vm_flag(addr: usize, flag: &str) -> bool {
    smaps_field(addr, "VmFlags")
        .split_whitespace()
        .any(|set| set == flag)
}

/// The name `/proc/self/smaps` gives `VM_LOCKONFAULT` among a mapping's `VmFlags` on this kernel:
/// `lf`, or `??` where the kernel's table of names lacks it (Debian's 6.1 kernels). Found, not
/// assumed: the flags of a page locked on fault (`mlock2`, called here, not through this crate)
/// less those of a page locked with `mlock` leave one name. `None`, saying why, where `mlock2`
/// fails (valgrind does not emulate it) or no one name tells the two apart.
#[cfg(mman_has = "MLOCK_ONFAULT")]
pub(crate) fn lock_on_fault_flag() -> Option<&'static str> {
    static FLAG: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let page = mman::page_size();
        let flags_of = |on_fault: bool| -> std::io::Result<Vec<String>> {
            let map = mman::MmapMut::map_anon(page).unwrap();
            let ptr = map.as_ptr().cast::<libc::c_void>();
            // SAFETY: locking a page of this map changes none of its bytes.
            let ret = unsafe {
                if on_fault {
                    // The system call itself, whose error is the kernel's (glibc's `mlock2` turns
                    // `ENOSYS` into `EINVAL`).
                    libc::syscall(libc::SYS_mlock2, ptr, page, libc::MLOCK_ONFAULT)
                } else {
                    libc::c_long::from(libc::mlock(ptr, page))
                }
            };
            if ret != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let flags = smaps_field(ptr as usize, "VmFlags");
            Ok(flags.split_whitespace().map(str::to_owned).collect())
        };
        let (locked, on_fault) = match (flags_of(false), flags_of(true)) {
            (Ok(locked), Ok(on_fault)) => (locked, on_fault),
            (Err(error), _) | (_, Err(error)) => {
                not_run!("VM_LOCKONFAULT in smaps: locking a page failed: {error}");
                return None;
            }
        };
        let own: Vec<&String> = on_fault
            .iter()
            .filter(|flag| !locked.contains(flag))
            .collect();
        match own[..] {
            [flag] => Some(flag.clone()),
            _ => {
                not_run!(
                    "VM_LOCKONFAULT in smaps: a page locked on fault shows {on_fault:?}, \
                     one locked shows {locked:?}: no one name tells them apart on this kernel"
                );
                None
            }
        }
    })
    .as_deref()
}

/// Whether `file` is on tmpfs (`fstatfs`'s `f_type`), as `/tmp` is on Fedora and Arch (and in
/// `.ci/vm`'s machines): its files are shared memory, whose seals `F_GET_SEALS` reads (a file
/// created there is sealed with `F_SEAL_SEAL` alone), where a disk file system's files fail it
/// with `EINVAL`.
#[cfg(linux_kernel)]
pub(crate) fn on_tmpfs(file: &impl std::os::fd::AsRawFd) -> bool {
    let mut stat = std::mem::MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: `stat` is a buffer of the size fstatfs fills; the descriptor is open for the call.
    let ret = unsafe { libc::fstatfs(file.as_raw_fd(), stat.as_mut_ptr()) };
    assert_eq!(ret, 0, "fstatfs: {}", std::io::Error::last_os_error());
    // SAFETY: fstatfs succeeded, so it filled `stat`.
    let stat = unsafe { stat.assume_init() };
    // `f_type` and the constant differ in type across targets (`c_uint` on s390x), and are both
    // `i64` on others, where the casts do nothing.
    #[allow(clippy::unnecessary_cast)]
    let on_tmpfs = stat.f_type as i64 == libc::TMPFS_MAGIC as i64;
    on_tmpfs
}

/// Whether anything is mapped in `start..end`: after a map is dropped, nothing of it may be left.
pub(crate) fn mapped(start: usize, end: usize) -> bool {
    mappings()
        .iter()
        .any(|&(from, to, _)| from < end && start < to)
}

/// The main thread's stack: the `[stack]` line of `/proc/self/maps`, as start and end.
pub(crate) fn stack() -> (usize, usize) {
    mappings()
        .into_iter()
        .find(|(_, _, rest)| rest.ends_with("[stack]"))
        .map(|(s, e, _)| (s, e))
        .unwrap()
}

/// Where the kernel lists its huge page pools, one directory per size.
#[cfg(mman_huge)]
const POOLS: &str = "/sys/kernel/mm/hugepages";

/// Whether this kernel offers huge pages of any size: `/sys/kernel/mm/hugepages` lists its pools.
/// Some machines offer none (s390x without the EDAT facility, as under QEMU's emulation or z/VM);
/// where so, this says what `what` could not check there, and the caller checks the rest.
#[cfg(mman_huge)]
pub(crate) fn huge_pages_offered(what: &str) -> bool {
    let offered = std::path::Path::new(POOLS).exists();
    if !offered {
        not_run!("{what}: this kernel offers no huge pages (no {POOLS})");
    }
    offered
}

/// The number of huge pages of the default size the kernel keeps: one setting for the whole
/// machine, which the tests that need huge pages raise and restore.
#[cfg(mman_huge)]
const NR_HUGEPAGES: &str = "/proc/sys/vm/nr_hugepages";

/// Huge pages of the default size reserved for one test, given back when dropped (also when the
/// test fails); it holds the lock that makes a binary's reservations take turns, so that each
/// restores the number it found.
#[cfg(mman_huge)]
pub(crate) struct HugePages {
    before: String,
    _turn: std::sync::MutexGuard<'static, ()>,
}

#[cfg(mman_huge)]
impl Drop for HugePages {
    fn drop(&mut self) {
        std::fs::write(NR_HUGEPAGES, &self.before).unwrap();
    }
}

/// The lock of the tests that change or rely on the number of free huge pages.
#[cfg(mman_huge)]
pub(crate) fn huge_page_turn() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Free huge pages of the default size: `free_hugepages` of its pool.
#[cfg(mman_huge)]
pub(crate) fn free_huge_pages() -> u64 {
    let size = mman::HugePageSize::system_default().unwrap();
    mman::HugePageSize::available()
        .unwrap()
        .into_iter()
        .find(|pool| pool.size == size)
        .unwrap()
        .free
}

/// For `test`, reserves `pages` more free huge pages of the default size
/// (`/proc/sys/vm/nr_hugepages`, which needs root, and [`may_change_the_machine`]), or says why not
/// and returns `None`.
#[cfg(mman_huge)]
pub(crate) fn reserve_huge_pages(test: &str, pages: u64) -> Option<HugePages> {
    let what = format!("{test}: it reserves {pages} huge page(s) in {NR_HUGEPAGES}");
    if !huge_pages_offered("reserving huge pages") || !may_change_the_machine(&what) {
        return None;
    }
    let turn = huge_page_turn();
    let before = std::fs::read_to_string(NR_HUGEPAGES).unwrap();
    let total: u64 = before.trim().parse().unwrap();
    let free = free_huge_pages();
    if let Err(error) = std::fs::write(NR_HUGEPAGES, (total + pages).to_string()) {
        not_run!("cannot reserve huge pages in {NR_HUGEPAGES}: {error}");
        return None;
    }
    let reserved = HugePages {
        before,
        _turn: turn,
    };
    if free_huge_pages() < free + pages {
        not_run!(
            "the kernel found only {} of {pages} huge pages",
            free_huge_pages().saturating_sub(free)
        );
        return None;
    }
    Some(reserved)
}

/// A memfd of huge pages (`MFD_HUGETLB`) that can be sealed, of `len` bytes, as a safe crate such
/// as rustix makes one.
#[cfg(mman_huge)]
pub(crate) fn huge_memfd(name: &std::ffi::CStr, len: u64) -> mman::SharedMemory {
    use std::os::fd::{FromRawFd, OwnedFd};

    let flags = mmap_sys::MFD_HUGETLB | mmap_sys::MFD_ALLOW_SEALING | mmap_sys::MFD_CLOEXEC;
    // SAFETY: `name` is NUL-terminated.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), flags) };
    assert!(
        fd >= 0,
        "memfd_create(MFD_HUGETLB): {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: the kernel just returned this descriptor, owned by nothing else.
    let memory = mman::SharedMemory::from(unsafe { OwnedFd::from_raw_fd(fd) });
    memory.set_len(len).unwrap();
    memory
}

/// The settings of overcommit, machine-wide (`/proc/sys/vm`), as [`OvercommitSettings::save`] found
/// them; dropping this puts them back, also when the test fails.
pub(crate) struct OvercommitSettings {
    memory: String,
    ratio: String,
    kbytes: String,
    admin_reserve: String,
}

const OVERCOMMIT_MEMORY: &str = "/proc/sys/vm/overcommit_memory";
const OVERCOMMIT_RATIO: &str = "/proc/sys/vm/overcommit_ratio";
const OVERCOMMIT_KBYTES: &str = "/proc/sys/vm/overcommit_kbytes";
const ADMIN_RESERVE_KBYTES: &str = "/proc/sys/vm/admin_reserve_kbytes";

impl OvercommitSettings {
    /// Saves the settings, or says why they cannot be changed (not asked to, or not root) and
    /// returns `None`.
    pub(crate) fn save() -> Option<Self> {
        if !may_change_the_machine("strict overcommit (vm.overcommit_memory=2) for a moment") {
            return None;
        }
        let read = |path| std::fs::read_to_string(path).unwrap().trim().to_owned();
        let settings = OvercommitSettings {
            memory: read(OVERCOMMIT_MEMORY),
            ratio: read(OVERCOMMIT_RATIO),
            kbytes: read(OVERCOMMIT_KBYTES),
            admin_reserve: read(ADMIN_RESERVE_KBYTES),
        };
        if let Err(error) = std::fs::write(OVERCOMMIT_MEMORY, &settings.memory) {
            not_run!("cannot change {OVERCOMMIT_MEMORY}: {error}");
            return None;
        }
        Some(settings)
    }
}

impl Drop for OvercommitSettings {
    fn drop(&mut self) {
        // The mode first: the heuristic mode ignores the others.
        std::fs::write(OVERCOMMIT_MEMORY, &self.memory).unwrap();
        std::fs::write(ADMIN_RESERVE_KBYTES, &self.admin_reserve).unwrap();
        // Writing either of these zeroes the other: only the one in use is written.
        if self.kbytes == "0" {
            std::fs::write(OVERCOMMIT_RATIO, &self.ratio).unwrap();
        } else {
            std::fs::write(OVERCOMMIT_KBYTES, &self.kbytes).unwrap();
        }
    }
}

/// Turns strict overcommit on (`vm.overcommit_memory=2`), machine-wide, such that a process
/// without `CAP_SYS_ADMIN` may commit no more memory, while one with it (root's: other tests,
/// other builds) may commit ten times RAM: the commit limit is RAM times `overcommit_ratio` 1000%,
/// and `admin_reserve_kbytes`, which only processes with `CAP_SYS_ADMIN` may use, is twice that.
/// Then makes this process one without `CAP_SYS_ADMIN` (uid 65534), and asserts that it is at the
/// limit: a map of 1 MiB is refused. For a child ([`ChildProcess`]) whose parent holds the
/// [`OvercommitSettings`] that put them back.
pub(crate) fn become_unprivileged_under_strict_overcommit() {
    let ram_kib = meminfo("MemTotal") + meminfo("SwapTotal");
    std::fs::write(OVERCOMMIT_RATIO, "1000").unwrap();
    std::fs::write(ADMIN_RESERVE_KBYTES, (ram_kib * 20).to_string()).unwrap();
    std::fs::write(OVERCOMMIT_MEMORY, "2").unwrap();
    // SAFETY: setuid has no memory preconditions.
    let dropped = unsafe { libc::setuid(65534) };
    assert_eq!(dropped, 0, "uid 65534 drops CAP_SYS_ADMIN");
    let committed = mman::MmapOptions::new().len(1 << 20).map_anon();
    assert!(committed.is_err(), "strict overcommit at its limit");
}

/// Installs a seccomp filter on this process that fails the system calls `numbers` with `errno`,
/// as container profiles do. For a child process ([`ChildProcess`]): there is no way back.
#[cfg(target_os = "linux")]
pub(crate) fn deny_syscalls(numbers: &[libc::c_long], errno: u32) {
    let filter = |code: u32, k: u32, jt: u8, jf: u8| libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    };
    // Load the call's number; for each denied one, return the error if it matches; else allow.
    let mut program = vec![filter(
        libc::BPF_LD | libc::BPF_W | libc::BPF_ABS,
        std::mem::offset_of!(libc::seccomp_data, nr) as u32,
        0,
        0,
    )];
    for &number in numbers {
        program.push(filter(
            libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
            number as u32,
            0,
            1,
        ));
        program.push(filter(
            libc::BPF_RET | libc::BPF_K,
            libc::SECCOMP_RET_ERRNO | errno,
            0,
            0,
        ));
    }
    program.push(filter(
        libc::BPF_RET | libc::BPF_K,
        libc::SECCOMP_RET_ALLOW,
        0,
        0,
    ));
    let fprog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_mut_ptr(),
    };
    // SAFETY: PR_SET_NO_NEW_PRIVS takes plain integers.
    let got = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    assert_eq!(got, 0);
    // SAFETY: `fprog` points at `program`, which lives through the call; the kernel copies it.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &fprog as *const libc::sock_fprog,
        )
    };
    assert_eq!(ret, 0, "seccomp: {}", std::io::Error::last_os_error());
}
