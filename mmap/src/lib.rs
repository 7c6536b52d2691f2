//! Memory-mapped files and anonymous memory, with the host's exact flags and checked ranges.
//!
//! Built on [`mmap_sys`], whose constants are generated from the host's headers: every flag and
//! advice here is the host's own value, and exists only where the host defines it. The API follows
//! memmap2's, so a memmap2 user switches by changing the dependency's name, save for what the
//! crate's README lists under "Coming from memmap2" (a `match` on [`Advice`] needs a `_` arm, and
//! [`raw_os_error`] reads an error's `errno`, for instance); it checks more before calling the
//! kernel, and names the call and its arguments in every error.
//!
//! # A tour
//!
//! Read a file:
//!
//! ```
//! use std::io::Write;
//! use mman::Mmap;
//!
//! # fn main() -> std::io::Result<()> {
//! let mut file = tempfile::tempfile()?;
//! file.write_all(b"hello, map")?;
//! // SAFETY: the temporary file is this process's alone: nothing writes or truncates it.
//! let map = unsafe { Mmap::map(&file)? };
//! assert_eq!(&map[..5], b"hello");
//! # Ok(())
//! # }
//! ```
//!
//! Write a file and flush the writes to it:
//!
//! ```
//! use mman::MmapMut;
//!
//! # fn main() -> std::io::Result<()> {
//! let file = tempfile::tempfile()?;
//! file.set_len(4096)?;
//! // SAFETY: as above.
//! let mut map = unsafe { MmapMut::map_mut(&file)? };
//! map[..5].copy_from_slice(b"saved");
//! map.flush()?; // msync(MS_SYNC): on disk when this returns
//! # Ok(())
//! # }
//! ```
//!
//! Anonymous memory, with advice for the kernel:
//!
//! ```
//! use mman::{Advice, MmapOptions};
//!
//! # fn main() -> std::io::Result<()> {
//! let mut memory = MmapOptions::new().len(1 << 20).map_anon()?;
//! memory.advise(Advice::Sequential)?;
//! memory.fill(1);
//! assert_eq!(memory.iter().map(|&b| usize::from(b)).sum::<usize>(), 1 << 20);
//! # Ok(())
//! # }
//! ```
//!
//! # Linux features
//!
//! - Resize: [`MmapMut::remap`] (`mremap`), which refuses to grow a file map past the file's end.
//! - Prefault without `SIGBUS`: [`MmapMut::populate`], [`MmapMut::populate_write`]
//!   (`MADV_POPULATE_READ` / `_WRITE`, Linux 5.14), and a checked copy with `pread`'s results,
//!   [`Mmap::read_at`], [`Mmap::read_exact_at`] and [`Mmap::reader`] ([`MmapReader`]), with no
//!   system call on x86-64 and aarch64 Linux (with a signal handler: see
//!   [`install_fault_handler`]; as fast as a slice copy, measured on x86-64), through
//!   `process_vm_readv` on other architectures.
//! - Residency: [`Mmap::resident_pages`] and [`Mmap::residency`] (`mincore`).
//! - Huge pages: [`HugePageSize`] (one constant per `MAP_HUGE_*`), [`HugePageSize::available`],
//!   [`MmapOptions::huge_page_size`], and transparent huge pages through [`Advice::HugePage`].
//! - Shared memory between processes: [`SharedMemory`] (`memfd_create`), handed to a child process
//!   with [`SharedMemory::share_with`] (and to no other), with [`Seals`], and a safe read-only map
//!   of sealed memory, [`MmapOptions::map_sealed`].
//! - Placement: [`MmapOptions::address_hint`], [`MmapOptions::fixed_no_replace`]
//!   (`MAP_FIXED_NOREPLACE`).
//! - Locking: [`Mmap::lock`], [`Mmap::lock_on_fault`] and [`Mmap::lock_range_on_fault`] (`mlock2`),
//!   [`lock_all`] / [`unlock_all`] (`mlockall`).
//! - Safe maps of files nothing can change, as memmap2's: [`Mmap::map_if_safe`] (sealed memfds and
//!   fs-verity files).
//! - Durability: [`MmapOptions::dax_sync`] (`MAP_SYNC`, for persistent memory),
//!   [`MmapMut::flush_invalidate`] (`MS_INVALIDATE`).
//!
//! Each exists where the host's headers define its constants; where the running kernel refuses one,
//! the call fails with [`ErrorKind::Unsupported`](std::io::ErrorKind::Unsupported).
//!
//! # Other systems
//!
//! On macOS and the BSDs this crate has what their headers define: maps, flush, advice (their own
//! `MADV_*`), protection, locking, residency, and the checked copy [`Mmap::read_at`], which copies
//! through the kernel there: `write(2)` of the range into a pipe, which fails with `EFAULT` on a
//! page the kernel cannot read (on Linux it is the fault-fixup copy on x86-64 and aarch64,
//! `process_vm_readv` on other architectures or with `--cfg mman_no_fault_handler`). Their headers
//! lack the constants of remap, populate, huge pages, `fixed_no_replace` and `lock_on_fault`, so
//! those are not there. The Linux kernel's own calls are compiled only for Linux and Android
//! (`cfg(linux_kernel)`, set by the build script): `SharedMemory` and `Seals` (`memfd_create`,
//! `fcntl(F_ADD_SEALS)`) and `MmapOptions::map_sealed`. [`Advice::is_supported`] relies on Linux
//! checking the advice before the range; elsewhere it says what `madvise(NULL, 0, advice)` returns.
//!
//! # Safety of file maps
//!
//! A map of a file gives out `&[u8]` (or `&mut [u8]`) over memory another process can change or
//! cut short by writing or truncating the file: the constructors that do so are `unsafe`, and their
//! caller promises it will not happen. [`MmapRaw`] gives out raw pointers only, so making it is
//! safe.
//!
//! # What the safe API guarantees
//!
//! Code without `unsafe` of its own (and maps from the safe constructors:
//! [`MmapOptions::map_anon`], [`MmapOptions::map_sealed`], [`MmapOptions::map_raw`]) can rely on
//! the following. Each promise names the tests (in `mmap/tests/`, as `file::test`, or a whole file)
//! that hold it; those where safe code could crash run it in a child process and check that no
//! signal ended it and that `/proc/self/maps` keeps nothing of the map. Those that change the
//! machine for a moment (reserve huge pages, attach a loop device, make a cgroup) run as root with
//! `MMAN_TEST_MACHINE=1`, as the workspace's CI runs them; otherwise they say they did not run.
//!
//! - **No signal from a safe call, nor from touching a map made safely.** Anonymous maps are backed
//!   by memory (running out of it is the out-of-memory killer's business, not a fault of the map).
//!   A sealed file cannot shrink under a [`map_sealed`](MmapOptions::map_sealed) map, and its
//!   holes (pages never written, which the kernel allocates at the first read, and which strict
//!   overcommit at its limit refuses with `SIGBUS`) are faulted in by `map_sealed` and
//!   `map_if_safe` when mapping, and by `remap` in what it grows a map of a memfd by: the call
//!   fails instead (`OutOfMemory`). Huge pages are reserved when mapping:
//!   [`no_reserve_swap`](MmapOptions::no_reserve_swap) (`MAP_NORESERVE`), which would reserve
//!   none, is refused with them, and every huge page of a new map (and of a private one
//!   [`make_mut`](Mmap::make_mut) makes writable, whose writes copy each page) is faulted in at
//!   once (Linux 5.14), so a hugetlb cgroup limit fails the call instead of a later touch.
//!   `remap` grows a file map only as far as the file, also where a seccomp filter denies
//!   `process_vm_readv`; `read_at` and `read_exact_at` stop at a truncated end (a short count,
//!   then `UnexpectedEof`), and `populate` reports it as an error. Tests:
//!   `shared_memory::a_sealed_memfd_with_holes_maps_without_sigbus_under_strict_overcommit`,
//!   `shared_memory::map_sealed_faults_in_the_holes_of_its_range`,
//!   `remap::a_sealed_map_grown_over_holes_never_raises_sigbus_under_strict_overcommit`,
//!   `remap::a_sealed_map_grown_over_holes_has_them_faulted_in`,
//!   `huge_pages::hugetlb_without_reserve_is_refused`,
//!   `huge_pages::a_hugetlb_cgroup_limit_fails_the_map_not_a_touch`,
//!   `huge_pages::make_mut_of_a_sealed_hugetlb_map_fails_at_a_cgroup_limit_not_a_write`,
//!   `huge_pages::a_sealed_hugetlb_memfd_maps_without_sigbus`,
//!   `huge_pages::the_first_write_to_a_copy_of_sealed_huge_pages_has_its_page_reserved`,
//!   `remap::remap_grows_where_process_vm_readv_is_denied`,
//!   `remap::a_file_map_grows_only_as_far_as_the_file`, `truncation`.
//! - **No raw value reaches the kernel unchecked from safe code.** [`MmapOptions::flags`] takes
//!   only the flags [`MapFlags`] names, each sound with every other option; raw `MAP_` bits go
//!   through the `unsafe` [`MmapOptions::flags_unchecked`]. [`MmapRaw::protect_range`] takes only
//!   the bits [`Protection`] names. Advice that can change what a map reads is [`UncheckedAdvice`],
//!   given through `unsafe` methods only. Tests:
//!   `shared_memory::map_sealed_is_private_and_refuses_raw_flags`,
//!   `lock::map_locked_through_raw_extra_flags_locks_at_once`, `advice`.
//! - **No map where a stack grows.** The kernel keeps its stack guard gap only for the addresses it
//!   picks; the crate refuses, with `InvalidInput` naming the stack, a map placed by address
//!   ([`address_hint`](MmapOptions::address_hint), `fixed_no_replace`) or grown in place by `remap`
//!   into the main thread's stack's reach (below `[stack]` by `RLIMIT_STACK` and the guard gap,
//!   `stack_guard_gap`, 256 pages by default) or within the guard gap below any other grows-down
//!   mapping. Tests: `placement::fixed_no_replace_right_below_the_stack_is_refused`,
//!   `placement::address_hint_within_the_stack_limit_is_refused`,
//!   `placement::remap_does_not_grow_a_map_into_the_stack_limit`,
//!   `placement::a_map_right_below_a_grows_down_mapping_is_refused`.
//! - **A locked stack can still grow.** The kernel grows a locked main thread's stack only while
//!   locked memory stays within `RLIMIT_MEMLOCK` (without `CAP_IPC_LOCK`), and past it ends the
//!   process with `SIGSEGV` at the next frame; whatever is locked later takes from that room, safe
//!   code included (glibc's `realloc` grows a locked block with `mremap`, which keeps it locked).
//!   So [`lock_all`] refuses `CURRENT`, before the call, under any such limit, however large, and
//!   where the limit cannot be read; `FUTURE` alone leaves the stack unlocked, free to grow. The
//!   capability counts as the kernel counts it, not as a user namespace's `CapEff` shows it.
//!   Tests: `lock_all::lock_all_refuses_to_lock_a_stack_the_memlock_limit_would_stop`,
//!   `lock_all::lock_all_refuses_current_under_any_memlock_limit_the_process_is_held_to`,
//!   `lock_all::a_vec_grown_after_lock_all_leaves_the_main_thread_stack_room`,
//!   `lock_all::lock_all_refuses_current_where_the_memlock_limit_cannot_be_read`,
//!   `lock_all::lock_all_counts_no_cap_ipc_lock_of_a_user_namespace`,
//!   `lock_all::lock_all_unchecked_locks_a_stack_that_then_cannot_grow` (what the refusal
//!   prevents).
//! - **No leaked map.** Every length the crate records is the one the kernel mapped: rounded up to
//!   whole huge pages of the size asked for (with `huge`, or `MAP_HUGETLB` in the flags) or of the
//!   file's own (a file on hugetlbfs, or a memfd made with `MFD_HUGETLB`), on every path; an empty
//!   hugetlbfs file is not probed; `remap` of a map of huge pages is refused (`Unsupported`). So
//!   dropping a map unmaps all of it (a debug assertion checks `munmap`'s result). Tests:
//!   `huge_pages::hugetlb_through_flags_records_the_rounded_length`,
//!   `huge_pages::remap_of_a_hugetlb_map_is_refused_and_leaks_nothing`,
//!   `huge_pages::map_sealed_of_part_of_a_hugetlb_memfd_records_the_rounded_length`,
//!   `huge_pages::an_empty_hugetlb_memfd_maps_empty_and_leaks_nothing`,
//!   `leaks::create_drop_cycles_leak_no_mapping_and_no_descriptor` (which checks first that a
//!   drop unmaps exactly what a map at an unaligned offset mapped).
//! - **A sealed map never changes, and maps on every kernel that can seal.** `map_sealed` needs
//!   the `SHRINK` and `WRITE` seals, which are never removed, and maps privately and read-only (a
//!   shared map of a write-sealed memfd is refused before Linux 6.7); [`Mmap::make_mut`] of it is
//!   copy-on-write. The file checked is the file mapped: `map_sealed` and `map_if_safe` check and
//!   map a descriptor of their own (`fcntl(F_DUPFD_CLOEXEC)`), so a `RawFd` whose number another
//!   thread closes and reuses for another file between the two cannot map that file. (The other
//!   constructors map the caller's descriptor; should a swapped number slip a file of huge pages in
//!   with another's length, dropping the map still unmaps all the kernel mapped:
//!   `descriptors::map_raw_of_a_number_swapped_for_huge_pages_leaks_nothing`.) Tests:
//!   `shared_memory::map_sealed_is_private_and_refuses_raw_flags`, `shared_memory`,
//!   `descriptors::map_sealed_of_a_number_swapped_after_the_check_is_never_made`,
//!   `descriptors::map_if_safe_of_a_number_swapped_after_the_check_is_never_made`.
//! - **A map covers what the file holds.** Block devices map at their size (`BLKGETSIZE64`; `fstat`
//!   says 0). Test: `file_maps::a_block_device_maps_at_its_size`.
//! - **Bad input is an error, never a panic**, naming the public call: `bad_input`. Every error
//!   names the public method that failed, once and first, whether it failed before any system
//!   call or after one: `errors::each_method_names_itself_once_before_any_call`,
//!   `errors::each_method_names_itself_once_after_a_call`.
//! - **The checked reads' signal handler changes nothing for the rest of the process.** It acts
//!   on the faults of its own copy routine only; every other `SIGBUS` and `SIGSEGV` reaches the
//!   action it replaced as the kernel would have delivered it (`SA_RESETHAND` honoured, the
//!   action's `sa_mask` and the signal itself blocked, `SA_SIGINFO` or not): std's stack-overflow
//!   report, a crash reporter, a component that recovers its own faults and AddressSanitizer see
//!   what they see without it, and a plain read of a truncated map still dies of `SIGBUS`. The
//!   checked reads stay errors, not deaths, after a `kill -BUS` or `kill -SEGV` of the process
//!   (std's handler, behind ours, resets the action: the next checked read installs ours again)
//!   and under a handler installed later that passes faults on, which stays in front of ours when
//!   the other signal's action is reset (ours in front of it would pass its faults back to it,
//!   until the stack overflowed). A thread that blocks `SIGBUS` and `SIGSEGV` from its start (a
//!   program that blocks every signal before starting its threads) makes its checked reads
//!   through the kernel, as every thread does for reads of 1 MiB or more while it blocks them: the
//!   kernel kills a process whose fault it cannot deliver. [`disable_fault_handler`] keeps it out;
//!   [`uninstall_fault_handler`] restores exactly the actions it replaced, after the checked reads
//!   in progress in other threads have returned, and never from under a later handler. Tests
//!   (each in a child process):
//!   `fault_handler::handlers_installed_before_ours_still_get_their_faults`,
//!   `fault_handler::a_reporter_with_sa_resethand_that_returns_runs_once_and_the_process_dies`,
//!   `fault_handler::a_reporter_with_sa_resethand_that_raises_runs_once_and_the_process_dies`,
//!   `fault_handler::a_handler_before_ours_runs_with_the_mask_the_kernel_gives_it`,
//!   `fault_handler::checked_reads_after_a_kill_of_the_process_are_errors_not_deaths`,
//!   `fault_handler::a_signal_another_process_sends_is_handled_as_without_our_handler`,
//!   `fault_handler::a_handler_installed_after_ours_that_passes_faults_on_keeps_them_fixed`,
//!   `fault_handler::a_reset_of_one_signal_leaves_a_later_handler_of_the_other_in_front`,
//!   `fault_handler::a_handler_before_ours_that_installs_itself_again_goes_behind_ours_again`,
//!   `fault_handler::install_fault_handler_goes_back_in_front_of_a_handler_that_does_not_chain`,
//!   `fault_handler::a_plain_slice_read_of_a_truncated_map_still_dies_of_sigbus`,
//!   `fault_handler::a_fault_on_the_destination_is_not_turned_into_a_short_read`,
//!   `fault_handler::std_still_reports_a_stack_overflow`,
//!   `fault_handler::short_reads_in_a_thread_started_with_the_faults_blocked_go_through_the_kernel`,
//!   `checked_copy::a_long_read_in_a_thread_that_blocks_sigbus_goes_through_the_kernel` (not in a
//!   child),
//!   `fault_handler::checked_reads_on_a_small_thread_without_an_alternate_stack_are_errors_not_deaths`,
//!   `fault_handler::disable_fault_handler_keeps_it_from_being_installed`,
//!   `fault_handler::uninstall_fault_handler_restores_exactly_the_actions_it_replaced`,
//!   `fault_handler::uninstall_fault_handler_leaves_a_later_handler_in_place`,
//!   `fault_handler::uninstall_fault_handler_where_membarrier_is_denied_fails_and_keeps_it`,
//!   `fault_handler::removing_the_handler_while_threads_copy_kills_none`,
//!   `fault_handler::removing_the_handler_in_a_forked_child_waits_for_the_copies_of_the_thread_that_forked`;
//!   and, built with
//!   AddressSanitizer in `.ci/run`, `checked_copy`, `truncation`, `threads` and
//!   `fault_handler::address_sanitizer_still_reports_after_a_checked_read`.
//!
//! What it does not cover:
//!
//! - Maps from the `unsafe` constructors ([`Mmap::map`], [`MmapMut::map_mut`], ...): that no one
//!   writes or truncates the file is their caller's promise.
//! - A `SIGBUS`/`SIGSEGV` handler installed after the checked reads' one that does not pass faults
//!   on to it: it takes their faults too, until [`install_fault_handler`] puts ours back in front.
//!   And a checked read in progress in one thread while another thread runs a handler that resets
//!   the action (std's, after a `kill -SEGV` of the process): until ours is installed again (by
//!   the next checked read), a fault of that read meets the default action.
//! - A checked read shorter than 1 MiB of a page that faults, in a thread that blocks `SIGBUS` or
//!   `SIGSEGV` but did not at its first checked read, or in a signal handler that runs with one
//!   blocked: a handler of either signal (unless `SA_NODEFER`), or any handler the kernel runs
//!   while it delivers one (ours included, when another signal was pending at a fault of the
//!   routine): the kernel kills the process on a fault it cannot deliver. Reading the thread's
//!   mask at every read would cost each a system call, more than the copy; it is read at a
//!   thread's first checked read, and by every read of 1 MiB or more.
//! - Calls from a signal handler: no function of this crate is async-signal-safe. Errors allocate
//!   their message, a thread's first checked read allocates its count of copies in progress, and
//!   installing or removing the fault handler takes a lock: a handler that interrupted the same
//!   thread in the middle of one of those may deadlock.
//! - A child made with `fork` (which is `unsafe`): it shares private huge pages copy-on-write and
//!   may get `SIGBUS` when none is free; `Advice::DontFork` leaves it no map at all. A lock
//!   another thread of the parent held at the `fork` stays held in the child, as any lock does:
//!   installing or removing the fault handler there then never returns, nor does a checked read
//!   that would install it. (The thread that forked takes its count of copies in progress into the
//!   child, so that removing the handler there waits for them.)
//! - A process at `vm.max_map_count` mappings (safe code gets there by splitting a map with
//!   `MmapRaw::protect_range` or `*_range` calls): the kernel merges adjacent maps of the same
//!   kind into one mapping, and unmapping one from the middle of such a mapping needs one more,
//!   which the limit refuses (`ENOMEM`): the dropped map stays mapped (nothing refers to it).
//! - Changes after the check: `RLIMIT_STACK` raised later, or a grows-down mapping made later (only
//!   `unsafe` code can make one), widen the stack's reach past a map placed before. A
//!   `lock_all(LockAll::CURRENT)` made without a limit to hold it to (unlimited, or with
//!   `CAP_IPC_LOCK`) leaves the stack locked: should the limit come to apply later (lowered by
//!   `setrlimit` or by another process's `prlimit`, the capability given up), every later lock
//!   takes from the stack's room. [`lock_all_unchecked`] makes no check.
//! - `lock_all(LockAll::FUTURE)` under a finite `RLIMIT_MEMLOCK` (without `CAP_IPC_LOCK`): every
//!   later map counts against the limit, the allocator's too, and past it std's allocation
//!   functions abort the process, as when memory runs out (`handle_alloc_error`), and
//!   `std::thread::spawn` panics. The limit is then a budget the caller chose for all the
//!   process's memory, as a small `RLIMIT_AS` is; refusing `FUTURE` under it as well would leave
//!   `lock_all` nothing to do for most processes. Test:
//!   `lock_all::an_allocation_past_the_limit_after_lock_all_future_aborts`.
//! - A page the kernel must read from storage and cannot: a page of a file with fs-verity (mapped
//!   by `map_if_safe`) that the disk fails to read or that fs-verity finds corrupted, a memfd's
//!   page that the swap device fails to read back, a page with a hardware memory error. The kernel
//!   raises `SIGBUS` at the read, as for any map of such a page, and may do so at any later read
//!   (after it evicted the page). [`Mmap::lock`] keeps a map's pages in memory once read.
//! - A `SIGBUS` or `SIGSEGV` another process sends while the action ours replaced is `SIG_IGN`:
//!   the kernel would discard it; ours takes it and returns, so a system call it interrupts may
//!   fail with `EINTR` (ours has the replaced action's `SA_RESTART`, which `SIG_IGN` does not).
//! - A memory cgroup's limit, met by the first read of a sealed memfd's hole as by any other
//!   fault that needs memory: the cgroup's out-of-memory killer ends a process (or, with
//!   `oom_kill_disable`, the fault waits); no signal of the map.
//! - With `RLIMIT_STACK` unlimited the stack may reach any address below it: every placement below
//!   it is refused. Where `/proc/self/maps` cannot be read (no `/proc`), placement by address and
//!   growing in place with `remap` are refused with `Unsupported`. On Linux before 5.14, and in a
//!   build whose headers lack `MADV_POPULATE_READ` and `MADV_POPULATE_WRITE` (musl's), the huge
//!   pages of a new map are not faulted in (a hugetlb cgroup limit can then raise `SIGBUS` at a
//!   touch), nor are the holes of a sealed memfd (strict overcommit can then), and `remap` cannot
//!   grow a file map where `process_vm_readv` is denied (`Unsupported`; anonymous maps grow). A
//!   build whose headers define `MAP_HUGETLB` but lack `MAP_HUGE_SHIFT` and `MAP_HUGE_MASK` (such
//!   as Linux's before 3.8) refuses huge pages (`MAP_HUGETLB`, files of hugetlbfs) with
//!   `Unsupported`: it cannot tell the length the kernel would map.
//!
//! # Errors
//!
//! Every call returns [`std::io::Result`]. Bad arguments are refused before any system call with
//! [`ErrorKind::InvalidInput`](std::io::ErrorKind::InvalidInput) and a message naming the public
//! method and the argument (`"flush_range: range 8..12 (offset 8, len 4) is outside the map of 10
//! bytes"`). A failed system call keeps the OS error's kind, and its message names the public
//! method, then the system call and its arguments, then the OS error (`"lock: mlock of 4096 bytes
//! at 0x7f3a2c000000 (RLIMIT_MEMLOCK: 8388608 bytes) failed: Cannot allocate memory (os error
//! 12)"`). Where the crate explains a failure (an `EFAULT` that means "past the end of the file",
//! an `EEXIST` that means "something is mapped there"), the error has its own kind and message;
//! where glibc hides the kernel's answer (its `mlock2` reports a kernel without the call as
//! `EINVAL`), the error is the kernel's (`ENOSYS`, `Unsupported`).
//!
//! The OS error's number (`errno`) is [`raw_os_error(&error)`](raw_os_error): std's
//! `error.raw_os_error()`, which memmap2's users call, is `None` for an error with a message.
//! A descriptor that is not open (`EBADF`) is `InvalidInput` too, and a file the kernel cannot map
//! (`ENODEV`) `Unsupported`.
//!
//! An error's `Display` includes the OS error's text, and its
//! [`source`](std::error::Error::source) is `None`: reporters that print the chain of sources
//! (anyhow's `{:#}`) print the OS error once.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! let map = mman::MmapMut::map_anon(4096)?;
//! match map.lock() {
//!     Ok(()) => map.unlock()?,
//!     // Past RLIMIT_MEMLOCK (memmap2 code matched on `error.raw_os_error()`).
//!     Err(error) if matches!(mman::raw_os_error(&error), Some(libc::ENOMEM | libc::EPERM)) => {
//!         println!("not locked: {error}")
//!     }
//!     Err(error) => return Err(error),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Features
//!
//! - `bytes`: `From<Mmap> for bytes::Bytes`, without a copy.
//! - `stable_deref_trait`: `StableDeref` for `Mmap` and `MmapMut`.
//!
//! And one `cfg`, for the final binary to set (`RUSTFLAGS="--cfg mman_no_fault_handler"`): no
//! signal handler of this crate; the checked reads copy through the kernel (`process_vm_readv`),
//! with the same results, at the cost of a system call per read (3.2 times the slice copy's time
//! for 4 KiB reads in the first run of the package's `BENCHMARKS.md`). At run time,
//! [`disable_fault_handler`] does the same, and [`uninstall_fault_handler`] removes an installed
//! handler. See
//! [`install_fault_handler`] for what the handler does and what it needs.

#![cfg_attr(docsrs, feature(doc_cfg))]
// docs.rs: no badge made from a `cfg` (the build script's names, such as `mman_has = "..."`, mean
// nothing to a reader, nor do std's on the slice methods reached through `Deref`). An item that
// exists only on some systems says so with `doc(cfg(...))` of the target's OS, and each item that
// needs a constant of the headers says which in its "Availability" line.
#![cfg_attr(docsrs, doc(auto_cfg = false))]

mod advice;
mod checked_copy;
mod desc;
mod error;
mod flags;
mod huge;
mod if_safe;
mod inner;
mod lock_all;
mod map;
mod options;
mod proc_maps;
mod range;
mod reader;
#[cfg(mman_has = "MREMAP_MAYMOVE")]
mod remap;
#[cfg(mman_memfd)]
mod seals;
#[cfg(mman_memfd)]
mod shared_memory;
mod stack_guard;
mod sys;

#[cfg(feature = "bytes")]
mod bytes;
#[cfg(feature = "stable_deref_trait")]
mod stable_deref;

pub use advice::{Advice, UncheckedAdvice};
pub use checked_copy::{disable_fault_handler, install_fault_handler, uninstall_fault_handler};
pub use desc::{MmapAsRawDesc, MmapRawDescriptor};
pub use error::raw_os_error;
pub use flags::{MapFlags, Protection};
#[cfg(mman_huge)]
#[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
pub use huge::sizes::{HugePagePool, HugePageSize};
pub use if_safe::MapIfSafeError;
pub use lock_all::{lock_all, lock_all_unchecked, unlock_all, LockAll};
pub use map::{Mmap, MmapMut, MmapRaw};
pub use options::MmapOptions;
pub use reader::MmapReader;
#[cfg(mman_has = "MREMAP_MAYMOVE")]
#[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
pub use remap::RemapOptions;
#[cfg(mman_memfd)]
#[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
pub use seals::Seals;
#[cfg(mman_memfd)]
#[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
pub use shared_memory::SharedMemory;

// The README's examples run as doctests: what crates.io shows compiles and works.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The constants this crate can use that the host's headers do not define, such as
/// `"MADV_POPULATE_READ"` with musl's headers: the features built on them are not in this build
/// (each such item's documentation names the constant it needs). Empty on a host with current glibc
/// and Linux headers.
///
/// ```
/// for name in mman::missing_constants() {
///     println!("not supported by this build: {name} (the host's headers lack it)");
/// }
/// ```
pub fn missing_constants() -> &'static [&'static str] {
    include!(concat!(env!("OUT_DIR"), "/missing.rs"))
}

/// The size of a memory page in bytes: `sysconf(_SC_PAGESIZE)`, read once.
///
/// ```
/// assert!(mman::page_size().is_power_of_two());
/// ```
///
/// # References
///
/// - [`sysconf(3)`](https://man7.org/linux/man-pages/man3/sysconf.3.html)
#[inline]
#[doc(alias = "sysconf")]
#[doc(alias = "_SC_PAGESIZE")]
#[doc(alias = "getpagesize")]
pub fn page_size() -> usize {
    sys::page_size()
}
