//! Errors a program can act on: the OS error's number through `mman::raw_os_error`, the kind, a
//! message that names the public method and says the OS error's text once, whether printed with
//! `{}` or by a reporter that walks the chain of sources. And every public method that can fail
//! names itself, once, first, whether it fails before any system call or after one.

mod common;

use std::error::Error as _;
use std::fs::File;
use std::io::{self, ErrorKind};

use mman::{Mmap, MmapMut, MmapOptions};

/// The error as anyhow's `{:#}` prints it: its message, then each source's, joined by ": ".
fn chain(error: &io::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    text
}

/// How many times the OS error `errno`'s text shows in the chain.
fn os_text_count(error: &io::Error, errno: i32) -> usize {
    chain(error)
        .matches(&io::Error::from_raw_os_error(errno).to_string())
        .count()
}

/// A temporary file of `len` bytes, opened read-only.
fn read_only_file(len: usize) -> (tempfile::NamedTempFile, File) {
    common::read_only_file_of(&vec![1; len])
}

#[test]
fn a_failed_map_gives_errno_kind_and_the_os_text_once() {
    let page = mman::page_size();
    let (_path, file) = read_only_file(page);
    // SAFETY: the kernel refuses the map (shared and writable, of a file open read-only).
    let error = unsafe { MmapMut::map_mut(&file) }.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{error}");
    assert_eq!(mman::raw_os_error(&error), Some(libc::EACCES), "{error:?}");
    assert!(
        error.to_string().starts_with(&format!(
            "map_mut: mmap of {page} bytes at offset 0 failed: "
        )),
        "{error}"
    );
    assert_eq!(os_text_count(&error, libc::EACCES), 1, "{}", chain(&error));
    assert!(
        error.source().is_none(),
        "the OS error's text is in the message, so it is not a source"
    );
}

#[test]
fn make_mut_names_itself_not_mprotect_alone() {
    let page = mman::page_size();
    let (_path, file) = read_only_file(page);
    // SAFETY: the temporary file is this test's alone.
    let map = unsafe { Mmap::map(&file) }.unwrap();
    let error = map.make_mut().unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with(&format!("make_mut: mprotect of {page} bytes at 0x")),
        "{error}"
    );
    assert_eq!(mman::raw_os_error(&error), Some(libc::EACCES));
    assert_eq!(os_text_count(&error, libc::EACCES), 1, "{}", chain(&error));
}

#[test]
fn a_file_of_proc_says_what_was_asked_not_the_probe() {
    let status = File::open("/proc/self/status").unwrap();
    // SAFETY: the kernel refuses the map.
    let error = unsafe { Mmap::map(&status) }.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
    assert_eq!(mman::raw_os_error(&error), Some(libc::ENODEV));
    let message = error.to_string();
    assert!(
        message.starts_with("map: the file reports a size of 0, and the kernel cannot map"),
        "{message}"
    );
    assert!(
        !message.contains("1 bytes"),
        "the probe's length is not what the caller asked: {message}"
    );
    assert_eq!(os_text_count(&error, libc::ENODEV), 1, "{}", chain(&error));
}

#[test]
#[cfg(mman_has = "MAP_FIXED_NOREPLACE")]
fn fixed_no_replace_over_a_map_names_the_address_and_what_is_there() {
    if common::skip_under_valgrind("MAP_FIXED_NOREPLACE, which valgrind takes for a hint") {
        return;
    }
    let taken = MmapMut::map_anon(mman::page_size()).unwrap();
    let addr = taken.as_ptr() as usize;
    let error = MmapOptions::new()
        .len(100)
        .fixed_no_replace(addr)
        .map_anon()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AlreadyExists);
    assert_eq!(mman::raw_os_error(&error), Some(libc::EEXIST));
    let expected = format!(
        "map_anon: fixed_no_replace({addr:#x}): something is already mapped in {addr:#x}..{:#x}",
        addr + 100
    );
    assert!(error.to_string().starts_with(&expected), "{error}");
    assert_eq!(os_text_count(&error, libc::EEXIST), 1, "{}", chain(&error));
}

#[test]
fn input_refused_before_any_call_has_no_number() {
    let file = tempfile::tempfile().unwrap();
    // SAFETY: refused before any call.
    let error = unsafe { MmapOptions::new().offset(10).map(&file) }.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        mman::raw_os_error(&error),
        None,
        "no system call failed: {error}"
    );
    assert_eq!(chain(&error), error.to_string());
}

#[test]
fn raw_os_error_passes_a_bare_os_error_through() {
    let error = io::Error::from_raw_os_error(libc::ENOMEM);
    assert_eq!(mman::raw_os_error(&error), Some(libc::ENOMEM));
    assert_eq!(mman::raw_os_error(&io::Error::other("no number")), None);
}

/// The methods whose errors name them, as their messages start: no message may name a second one
/// after its own (an internal helper's error named twice, `"map: map_raw: ..."`).
#[cfg(linux_kernel)]
const METHODS: &[&str] = &[
    "map",
    "map_exec",
    "map_mut",
    "map_copy",
    "map_copy_read_only",
    "map_sealed",
    "map_if_safe",
    "map_raw",
    "map_raw_read_only",
    "map_anon",
    "make_mut",
    "make_exec",
    "make_read_only",
    "advise",
    "advise_range",
    "unchecked_advise",
    "unchecked_advise_range",
    "populate",
    "populate_range",
    "populate_write",
    "read_at",
    "read_exact_at",
    "resident_pages",
    "residency",
    "lock",
    "lock_range",
    "lock_on_fault",
    "lock_range_on_fault",
    "unlock",
    "unlock_range",
    "flush",
    "flush_async",
    "flush_range",
    "flush_async_range",
    "flush_invalidate",
    "flush_invalidate_range",
    "protect",
    "protect_range",
    "remap",
    "lock_all",
    "lock_all_unchecked",
    "unlock_all",
    "SharedMemory::create",
    "SharedMemory::set_len",
    "SharedMemory::add_seals",
    "SharedMemory::seals",
    "SharedMemory::share_with",
    "SharedMemory::from_inherited",
    "MmapReader::read",
    "MmapReader::seek",
];

/// The errors of a test's calls that do not name their method as [`Names::check`] says, all
/// reported at the end, so that one run shows every method that names the wrong one.
#[cfg(linux_kernel)]
#[derive(Default)]
struct Names {
    wrong: Vec<String>,
}

#[cfg(linux_kernel)]
impl Names {
    /// Checks that `result` failed with an error whose message starts with `method`'s name, and
    /// names no method (`method` or another) again after it.
    fn check<T>(&mut self, method: &str, result: Result<T, impl Into<io::Error>>) {
        assert!(METHODS.contains(&method), "{method} is not in METHODS");
        let Err(error) = result.map_err(Into::into) else {
            self.wrong.push(format!("{method}: the call did not fail"));
            return;
        };
        let message = error.to_string();
        let Some(rest) = message.strip_prefix(&format!("{method}: ")) else {
            self.wrong
                .push(format!("{method}: not named first: {message}"));
            return;
        };
        for named in METHODS {
            if rest.starts_with(&format!("{named}: ")) || rest.contains(&format!(": {named}: ")) {
                self.wrong
                    .push(format!("{method}: {named} named again: {message}"));
            }
        }
    }

    fn assert_all_named(self) {
        assert!(self.wrong.is_empty(), "{}", self.wrong.join("\n"));
    }
}

#[test]
#[cfg(linux_kernel)]
fn each_method_names_itself_once_before_any_call() {
    use mman::{Advice, LockAll, MmapRaw, Protection, UncheckedAdvice};
    use std::io::{Seek, SeekFrom};
    let mut names = Names::default();
    let page = mman::page_size();
    let over = isize::MAX as usize + 1;
    let no_fd: std::os::fd::RawFd = -1;
    let options = MmapOptions::new();

    // SAFETY: refused before any call: nothing is mapped or changed.
    names.check("map", unsafe { Mmap::map(no_fd) });
    // SAFETY: refused before any call: nothing is mapped or changed.
    names.check("map", unsafe { options.map(no_fd) });
    // SAFETY: refused before any call: nothing is mapped or changed.
    names.check("map_exec", unsafe { options.map_exec(no_fd) });
    // SAFETY: refused before any call: nothing is mapped or changed.
    names.check("map_mut", unsafe { MmapMut::map_mut(no_fd) });
    // SAFETY: refused before any call: nothing is mapped or changed.
    names.check("map_mut", unsafe { options.map_mut(no_fd) });
    // SAFETY: refused before any call: nothing is mapped or changed.
    names.check("map_copy", unsafe { options.map_copy(no_fd) });
    // SAFETY: refused before any call: nothing is mapped or changed.
    names.check("map_copy_read_only", unsafe {
        options.map_copy_read_only(no_fd)
    });
    #[cfg(mman_memfd)]
    names.check("map_sealed", options.map_sealed(no_fd));
    names.check("map_if_safe", Mmap::map_if_safe(no_fd));
    names.check("map_if_safe", options.map_if_safe(no_fd));
    names.check("map_raw", MmapRaw::map_raw(no_fd));
    names.check("map_raw", options.map_raw(no_fd));
    names.check("map_raw_read_only", options.map_raw_read_only(no_fd));
    names.check("map_anon", MmapMut::map_anon(over));
    names.check("map_anon", MmapOptions::new().len(over).map_anon());

    // A range that starts at the end of a map of one page: outside it.
    let map = MmapMut::map_anon(page).unwrap();
    names.check("advise_range", map.advise_range(Advice::Normal, page, 1));
    // SAFETY: refused before any call: nothing is mapped or changed.
    names.check("unchecked_advise_range", unsafe {
        map.unchecked_advise_range(UncheckedAdvice::DontNeed, page, 1)
    });
    #[cfg(mman_populate)]
    names.check("populate_range", map.populate_range(page, 1));
    names.check("read_at", map.read_at(&mut [0], over));
    names.check("read_at", map.read_at(&mut [], over));
    names.check("read_exact_at", map.read_exact_at(&mut [0], over));
    names.check("read_exact_at", map.read_exact_at(&mut [], over));
    names.check("read_exact_at", map.read_exact_at(&mut [0; 2], page - 1));
    names.check("residency", map.residency(page, 1));
    names.check("lock_range", map.lock_range(page, 1));
    #[cfg(mman_has = "MLOCK_ONFAULT")]
    names.check("lock_range_on_fault", map.lock_range_on_fault(page, 1));
    names.check("unlock_range", map.unlock_range(page, 1));
    names.check("flush_range", map.flush_range(page, 1));
    names.check("flush_async_range", map.flush_async_range(page, 1));
    names.check(
        "flush_invalidate_range",
        map.flush_invalidate_range(page, 1),
    );
    let mut reader = map.reader();
    names.check("MmapReader::seek", reader.seek(SeekFrom::Current(-1)));

    let raw = MmapRaw::from(MmapMut::map_anon(page).unwrap());
    let unnamed = Protection::from_bits_retain(1 << 30);
    names.check("protect", raw.protect(unnamed));
    names.check("protect_range", raw.protect_range(0, page, unnamed));
    names.check(
        "protect_range",
        raw.protect_range(page, 1, Protection::READ),
    );

    #[cfg(mman_has = "MREMAP_MAYMOVE")]
    {
        let mut map = MmapMut::map_anon(page).unwrap();
        names.check("remap", map.remap(0, mman::RemapOptions::new()));
        let mut map = MmapMut::map_anon(page).unwrap().make_read_only().unwrap();
        names.check("remap", map.remap(0, mman::RemapOptions::new()));
        let mut raw = MmapRaw::from(MmapMut::map_anon(page).unwrap());
        // SAFETY: refused before any call: nothing is mapped or changed.
        names.check("remap", unsafe { raw.remap(0, mman::RemapOptions::new()) });
    }

    names.check("lock_all", mman::lock_all(LockAll::empty()));
    // SAFETY: refused before any call: nothing is locked.
    names.check("lock_all_unchecked", unsafe {
        mman::lock_all_unchecked(LockAll::empty())
    });
    #[cfg(mman_memfd)]
    names.check(
        "SharedMemory::create",
        mman::SharedMemory::create("a\0b", 0),
    );
    #[cfg(mman_memfd)]
    {
        // SAFETY: refused before any call: nothing is taken.
        let inherited = unsafe { mman::SharedMemory::from_inherited(-1) };
        names.check("SharedMemory::from_inherited", inherited);
    }
    names.assert_all_named();
}

#[test]
#[cfg(linux_kernel)]
fn each_method_names_itself_once_after_a_call() {
    use mman::{MmapRaw, Protection};
    use std::io::Read;
    let mut names = Names::default();
    let page = mman::page_size();
    let options = MmapOptions::new();
    let (path, read_only) = read_only_file(page);
    // `mmap` fails with `EACCES` on these: a write-only file cannot be read, a read-only one not
    // shared writably.
    let write_only = std::fs::OpenOptions::new()
        .write(true)
        .open(path.path())
        .unwrap();

    // SAFETY: the kernel refuses the map (EACCES): nothing is mapped.
    names.check("map", unsafe { Mmap::map(&write_only) });
    // SAFETY: the kernel refuses the map (EACCES): nothing is mapped.
    names.check("map", unsafe { options.map(&write_only) });
    // SAFETY: the kernel refuses the map (EACCES): nothing is mapped.
    names.check("map_exec", unsafe { options.map_exec(&write_only) });
    // SAFETY: the kernel refuses the map (EACCES): nothing is mapped.
    names.check("map_mut", unsafe { MmapMut::map_mut(&read_only) });
    // SAFETY: the kernel refuses the map (EACCES): nothing is mapped.
    names.check("map_mut", unsafe { options.map_mut(&read_only) });
    // SAFETY: the kernel refuses the map (EACCES): nothing is mapped.
    names.check("map_copy", unsafe { options.map_copy(&write_only) });
    // SAFETY: the kernel refuses the map (EACCES): nothing is mapped.
    names.check("map_copy_read_only", unsafe {
        options.map_copy_read_only(&write_only)
    });
    names.check("map_raw", MmapRaw::map_raw(&read_only));
    names.check("map_raw", options.map_raw(&read_only));
    names.check("map_raw_read_only", options.map_raw_read_only(&write_only));
    // After `fcntl(F_GET_SEALS)` (and `statx`): a regular file is neither sealed nor verity's.
    names.check("map_if_safe", Mmap::map_if_safe(&read_only));
    names.check("map_if_safe", options.map_if_safe(&read_only));
    #[cfg(mman_memfd)]
    {
        let memory = mman::SharedMemory::create("unsealed", page as u64).unwrap();
        names.check("map_sealed", options.map_sealed(&memory));
        names.check("map_sealed", memory.map_sealed());
    }

    // SAFETY: the temporary file is this test's alone; the map is made writable by the kernel or
    // not at all (`EACCES` here: the file is open read-only).
    let map = unsafe { Mmap::map(&read_only) }.unwrap();
    names.check("make_mut", map.make_mut());
    let raw = options.map_raw_read_only(&read_only).unwrap();
    names.check("protect", raw.protect(Protection::READ | Protection::WRITE));
    names.check(
        "protect_range",
        raw.protect_range(0, page, Protection::READ | Protection::WRITE),
    );

    // `MADV_REMOVE` frees a shared file's pages; anonymous private memory has none (`EINVAL`).
    let memory = MmapMut::map_anon(page).unwrap();
    #[cfg(mman_has = "MADV_REMOVE")]
    {
        // SAFETY: the kernel refuses the advice, so the contents stay.
        names.check("unchecked_advise", unsafe {
            memory.unchecked_advise(mman::UncheckedAdvice::Remove)
        });
        // SAFETY: as above.
        names.check("unchecked_advise_range", unsafe {
            memory.unchecked_advise_range(mman::UncheckedAdvice::Remove, 0, page)
        });
    }
    // A write fault in a read-only map is refused.
    #[cfg(mman_has = "MADV_POPULATE_WRITE")]
    {
        names.check("advise", raw.advise(mman::Advice::PopulateWrite));
        names.check(
            "advise_range",
            raw.advise_range(mman::Advice::PopulateWrite, 0, page),
        );
    }
    // `MS_INVALIDATE` is refused on locked pages (`EBUSY`); where `RLIMIT_MEMLOCK` is 0 (some
    // containers) nothing can be locked, and there is nothing to refuse.
    match memory.lock() {
        Ok(()) => {
            names.check("flush_invalidate", memory.flush_invalidate());
            names.check(
                "flush_invalidate_range",
                memory.flush_invalidate_range(0, page),
            );
            memory.unlock().unwrap();
        }
        Err(error) => println!("flush_invalidate not checked: {error}"),
    }

    // A map of two pages of a file cut to one: its second page is past the end of the file.
    let file = common::file_of(&vec![1; 2 * page]);
    let cut = MmapRaw::map_raw(&file).unwrap();
    file.set_len(page as u64).unwrap();
    names.check("read_at", cut.read_at(&mut [0], page));
    // The same read through the kernel (`process_vm_readv`), as builds without the handler make it.
    names.check("read_at", cut.read_at_via_kernel(&mut [0], page));
    names.check("read_exact_at", cut.read_exact_at(&mut [0; 2], page - 1));
    names.check("MmapReader::read", {
        let mut reader = cut.reader();
        std::io::Seek::seek(&mut reader, std::io::SeekFrom::Start(page as u64)).unwrap();
        reader.read(&mut [0])
    });
    #[cfg(mman_populate)]
    {
        names.check("populate", cut.populate());
        names.check("populate_range", cut.populate_range(page, 1));
        names.check("populate_write", cut.populate_write());
    }
    // `mlock` faults every page in, and fails (`ENOMEM`) on the one past the end of the file.
    names.check("lock", cut.lock());
    names.check("lock_range", cut.lock_range(page, 1));

    #[cfg(mman_has = "MREMAP_MAYMOVE")]
    {
        let file = common::file_of(&vec![1; page]);
        // SAFETY: the temporary file is this test's alone, and nothing writes or truncates it.
        let mut map = unsafe { Mmap::map(&file) }.unwrap();
        let grow = mman::RemapOptions::new().may_move(true);
        names.check("remap", map.remap(2 * page, grow));
    }

    #[cfg(mman_memfd)]
    {
        use mman::{Seals, SharedMemory};
        // `memfd_create` succeeds; the size cannot be an `off_t`.
        names.check(
            "SharedMemory::create",
            SharedMemory::create("huge", u64::MAX),
        );
        let memory = SharedMemory::create("sealed", page as u64).unwrap();
        memory.add_seals(Seals::SHRINK | Seals::SEAL).unwrap();
        names.check("SharedMemory::set_len", memory.set_len(0));
        names.check("SharedMemory::add_seals", memory.add_seals(Seals::WRITE));
        // A socket cannot be sealed: `F_GET_SEALS` fails with `EINVAL`. (So can a file on a disk,
        // but not one on tmpfs, where /tmp may be.)
        let (socket, _peer) = std::os::unix::net::UnixStream::pair().unwrap();
        let not_memfd = SharedMemory::from(std::os::fd::OwnedFd::from(socket));
        names.check("SharedMemory::seals", not_memfd.seals());
    }
    names.assert_all_named();
}

/// Asserts that `result` failed with `errno`, in an error whose message starts with `method`'s
/// name, once.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn assert_named<T: std::fmt::Debug>(method: &str, errno: i32, result: io::Result<T>) {
    let error = result.expect_err(method);
    assert_eq!(mman::raw_os_error(&error), Some(errno), "{method}: {error}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("{method}: ")),
        "the error of {method} does not start with its name: {message}"
    );
    assert_eq!(
        message.matches(method).count(),
        1,
        "named more than once: {message}"
    );
}

#[test]
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn methods_that_read_files_name_themselves_when_the_kernel_refuses() {
    common::run_the_rest_in_a_child!();
    #[cfg(mman_memfd)]
    let memory = mman::SharedMemory::create("errors", mman::page_size() as u64).unwrap();
    // From here on, this child process can open no file and stat none: EACCES, as a sandbox says.
    common::deny_syscalls(
        &[
            libc::SYS_open,
            libc::SYS_openat,
            libc::SYS_statx,
            libc::SYS_fstat,
            libc::SYS_newfstatat,
        ],
        libc::EACCES as u32,
    );
    #[cfg(mman_huge)]
    {
        assert_named(
            "HugePageSize::available",
            libc::EACCES,
            mman::HugePageSize::available(),
        );
        assert_named(
            "HugePageSize::system_default",
            libc::EACCES,
            mman::HugePageSize::system_default(),
        );
    }
    #[cfg(mman_memfd)]
    {
        assert_named("SharedMemory::len", libc::EACCES, memory.len());
        assert_named("SharedMemory::is_empty", libc::EACCES, memory.is_empty());
    }
}

#[test]
#[cfg(all(mman_memfd, target_os = "linux", target_arch = "x86_64"))]
fn the_shared_memory_hand_off_names_itself_when_fcntl_fails() {
    use std::os::fd::{IntoRawFd, OwnedFd};
    common::run_the_rest_in_a_child!();
    let memory = mman::SharedMemory::create("errors", 4096).unwrap();
    let spare = OwnedFd::from(memory.as_file().try_clone().unwrap()).into_raw_fd();
    // From here on, this child process's `fcntl` fails with EMFILE, as at `RLIMIT_NOFILE`.
    common::deny_syscalls(&[libc::SYS_fcntl], libc::EMFILE as u32);
    let mut command = std::process::Command::new("true");
    assert_named(
        "SharedMemory::share_with",
        libc::EMFILE,
        memory.share_with(&mut command),
    );
    assert_named(
        "SharedMemory::from_inherited",
        libc::EMFILE,
        // SAFETY: `spare` is this process's own, given up above; the call fails and takes nothing
        // (it is left open, in a child that ends with the test).
        unsafe { mman::SharedMemory::from_inherited(spare) },
    );
}
