//! `lock_all` and `unlock_all` (`mlockall`, `munlockall`), run in child processes since they lock
//! the whole process: allowed, and refused under a low `RLIMIT_MEMLOCK` (as is `lock` of a map);
//! `CURRENT` refused under any limit the process is held to, which would stop the locked main
//! thread's stack from growing once later locks take its room.

// The rules of Linux's stack growth, and its /proc.
#![cfg(linux_kernel)]

mod common;

use std::io::ErrorKind;

use mman::{lock_all, unlock_all, LockAll, MmapMut};

/// Whether the process has the capability numbered `bit` in effect (`CapEff`).
fn has_capability(bit: u32) -> bool {
    u64::from_str_radix(&common::status("CapEff"), 16).unwrap() & (1 << bit) != 0
}

/// Whether the process may lock memory past `RLIMIT_MEMLOCK`: `CAP_IPC_LOCK` (14) in effect.
fn has_cap_ipc_lock() -> bool {
    has_capability(14)
}

/// The soft and hard `RLIMIT_MEMLOCK`.
fn memlock_limits() -> libc::rlimit {
    common::rlimit(common::Limit::MemLock)
}

fn memlock_limit() -> libc::rlim_t {
    memlock_limits().rlim_cur
}

/// The hard `RLIMIT_MEMLOCK` in bytes; `None` when unlimited.
fn hard_memlock_limit() -> Option<u64> {
    let hard = memlock_limits().rlim_max;
    #[allow(clippy::unnecessary_cast)] // `rlim_t` is 32 bits on some targets
    (hard != libc::RLIM_INFINITY).then_some(hard as u64)
}

/// Sets `RLIMIT_MEMLOCK`, soft and hard, to `bytes`, or says why not (a hard limit below it, which
/// a process without `CAP_SYS_RESOURCE` cannot raise) and returns `false`.
fn set_memlock_limit(bytes: u64) -> bool {
    let limit = libc::rlimit {
        rlim_cur: bytes as libc::rlim_t,
        rlim_max: bytes as libc::rlim_t,
    };
    // SAFETY: setrlimit reads a valid rlimit.
    if unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &limit) } != 0 {
        let error = std::io::Error::last_os_error();
        common::not_run!("cannot set RLIMIT_MEMLOCK to {bytes} bytes: {error}");
        return false;
    }
    true
}

/// Sets the soft `RLIMIT_STACK` (`None`: unlimited), keeping the hard one; `false` if the hard
/// limit is below it.
fn set_stack_limit(bytes: Option<u64>) -> bool {
    let mut limit = common::rlimit(common::Limit::Stack);
    let soft = bytes.map_or(libc::RLIM_INFINITY, |bytes| bytes as libc::rlim_t);
    if limit.rlim_max != libc::RLIM_INFINITY
        && (soft == libc::RLIM_INFINITY || soft > limit.rlim_max)
    {
        return false;
    }
    limit.rlim_cur = soft;
    // SAFETY: setrlimit reads a valid rlimit.
    let set = unsafe { libc::setrlimit(libc::RLIMIT_STACK, &limit) };
    assert_eq!(set, 0, "{}", std::io::Error::last_os_error());
    true
}

/// The soft `RLIMIT_STACK` as `lock_all`'s messages give it: `"8388608 bytes"`, or `"unlimited"`.
fn stack_limit_text() -> String {
    let limit = common::rlimit(common::Limit::Stack);
    if limit.rlim_cur == libc::RLIM_INFINITY {
        "unlimited".to_owned()
    } else {
        format!("{} bytes", limit.rlim_cur)
    }
}

/// Drops `CAP_IPC_LOCK` (a root process becomes uid 65534), or says why not and returns `false`.
fn drop_cap_ipc_lock() -> bool {
    // SAFETY: geteuid and setuid have no memory preconditions.
    if unsafe { libc::geteuid() } == 0 && unsafe { libc::setuid(65534) } != 0 {
        common::not_run!("this root process cannot drop CAP_IPC_LOCK by becoming uid 65534");
        return false;
    }
    if has_cap_ipc_lock() {
        common::not_run!("this process has CAP_IPC_LOCK, which ignores RLIMIT_MEMLOCK");
        return false;
    }
    true
}

/// The bytes this process has mapped: `VmSize`, which is what `mlockall(MCL_CURRENT)` locks at
/// most.
fn mapped_bytes() -> u64 {
    common::status("VmSize").parse::<u64>().unwrap() * 1024
}

/// The size of the main thread's stack mapping, `[stack]`, in bytes.
fn stack_size() -> usize {
    let (start, end) = common::stack();
    end - start
}

/// Whether the main thread's stack is locked: `lo` in its `VmFlags`.
fn stack_locked() -> bool {
    let flags = common::smaps_field(common::stack().0, "VmFlags");
    flags.split_whitespace().any(|flag| flag == "lo")
}

/// Grows the main thread's stack (this must run on the main thread) by at least `bytes` below its
/// lowest page now, by recursion through frames of 4 KiB that the optimizer cannot remove, and
/// returns the stack's size after.
fn grow_stack_by(bytes: usize) -> usize {
    #[inline(never)]
    fn recurse(down_to: usize) -> u8 {
        let mut frame = [0u8; 4096];
        std::hint::black_box(&mut frame);
        if (frame.as_ptr() as usize) < down_to {
            return frame[0];
        }
        recurse(down_to).wrapping_add(std::hint::black_box(frame[4095]))
    }
    let (start, _) = common::stack();
    std::hint::black_box(recurse(start - bytes));
    let after = stack_size();
    assert!(
        common::stack().0 <= start - bytes,
        "the stack grew by {bytes} bytes"
    );
    after
}

/// `bytes` rounded up to whole pages.
fn page_rounded(bytes: u64) -> u64 {
    let page = mman::page_size() as u64;
    bytes.div_ceil(page) * page
}

/// Asserts that `result`, of `lock_all`, refused to lock the main thread's stack under
/// `RLIMIT_MEMLOCK` `limit` bytes, which would stop it from growing, before any call, naming the
/// limits, saying why and what to do instead: nothing is locked.
fn assert_refused_for_the_stack(result: std::io::Result<()>, limit: u64) {
    let error = result.expect_err("lock_all locked a stack the memlock limit would stop");
    let kind = if limit == 0 {
        ErrorKind::PermissionDenied
    } else {
        ErrorKind::OutOfMemory
    };
    assert_eq!(error.kind(), kind, "{error}");
    let message = error.to_string();
    for part in [
        "lock_all: MCL_CURRENT".to_owned(),
        format!("would lock the main thread's stack under RLIMIT_MEMLOCK {limit} bytes"),
        format!("RLIMIT_STACK {}", stack_limit_text()),
        "a locked stack grows only while locked memory stays within RLIMIT_MEMLOCK".to_owned(),
        "the allocator growing a locked block with mremap".to_owned(),
        "SIGSEGV".to_owned(),
        "lock with LockAll::FUTURE alone".to_owned(),
        "CAP_IPC_LOCK".to_owned(),
        "lock_all_unchecked".to_owned(),
    ] {
        assert!(message.contains(&part), "no {part:?} in: {message}");
    }
    assert_eq!(mman::raw_os_error(&error), None, "refused before any call");
    assert_eq!(common::locked_kib(), 0, "nothing is locked");
}

/// The parts of children that lock and then grow the main thread's stack, run on the main thread.
#[used]
#[link_section = ".init_array"]
static ON_THE_MAIN_THREAD: extern "C" fn() = on_the_main_thread;

extern "C" fn on_the_main_thread() {
    common::on_main_thread(REFUSED, refused_on_the_main_thread);
    common::on_main_thread(ANY_LIMIT, any_limit_on_the_main_thread);
    common::on_main_thread(UNCHECKED, unchecked_on_the_main_thread);
    common::on_main_thread(USER_NAMESPACE, user_namespace_on_the_main_thread);
    common::on_main_thread(VEC_GROWTH, vec_growth_on_the_main_thread);
    #[cfg(target_os = "linux")]
    common::on_main_thread(LIMIT_UNKNOWN, limit_unknown_on_the_main_thread);
}

const REFUSED: &str = "lock_all_refuses_to_lock_a_stack_the_memlock_limit_would_stop";

/// Under `RLIMIT_MEMLOCK` 1 MiB over what is mapped, with `RLIMIT_STACK` 8 MiB: `CURRENT`, with
/// `FUTURE` or `ON_FAULT` too, is refused (locked, the stack would die of `SIGSEGV` growing by
/// 2 MiB); `FUTURE` alone locks later maps, not the stack, which grows.
fn refused_on_the_main_thread() {
    if !set_stack_limit(Some(8 << 20)) {
        common::not_run!("the hard RLIMIT_STACK is below 8 MiB");
        return;
    }
    let limit = page_rounded(mapped_bytes() + (1 << 20));
    if !set_memlock_limit(limit) || !drop_cap_ipc_lock() {
        return;
    }
    let all = [
        LockAll::CURRENT,
        LockAll::CURRENT | LockAll::FUTURE,
        #[cfg(mman_has = "MCL_ONFAULT")]
        (LockAll::CURRENT | LockAll::ON_FAULT),
    ];
    // 2 MiB of growth, then 1 MiB for each other try: the stack stays grown, within 8 MiB.
    for (flags, growth) in all.into_iter().zip([2 << 20, 1 << 20, 1 << 20]) {
        let locked = lock_all(flags);
        // Grown before the result is checked: where the stack was locked, this is what dies.
        grow_stack_by(growth);
        assert_refused_for_the_stack(locked, limit);
    }
    // FUTURE alone locks later maps, not the stack there is: the stack grows, unlocked, and a map
    // past the limit (a thread's stack) fails cleanly.
    lock_all(LockAll::FUTURE).unwrap();
    let locked = common::locked_kib();
    grow_stack_by(2 << 20);
    assert!(!stack_locked());
    assert_eq!(
        common::locked_kib(),
        locked,
        "the stack's growth is not locked"
    );
    let thread = std::thread::Builder::new()
        .stack_size(limit as usize + (1 << 20))
        .spawn(|| ());
    assert!(
        thread.is_err(),
        "a thread's stack past the limit is refused"
    );
    let map = MmapMut::map_anon(1 << 20).unwrap();
    assert_eq!(map.resident_pages().unwrap(), (1 << 20) / mman::page_size());
    unlock_all().unwrap();
}

#[test]
fn lock_all_refuses_to_lock_a_stack_the_memlock_limit_would_stop() {
    common::run_the_rest_in_a_child!();
    common::assert_main_thread_part_passed();
}

const ANY_LIMIT: &str = "lock_all_refuses_current_under_any_memlock_limit_the_process_is_held_to";

/// `CURRENT` (with `FUTURE` or `ON_FAULT` too) is refused under every `RLIMIT_MEMLOCK` the process
/// is held to, however large: the hard limit (or 1 TiB where the hard limit is unlimited), then a
/// limit that holds what is mapped, the main thread's stack's growth to `RLIMIT_STACK` and
/// 256 KiB more, and with `RLIMIT_STACK` unlimited. `lock_all_unchecked` still locks: the stack is
/// locked, and a `Vec` of 1 MiB made before and grown by 128 KiB after grows locked (`mremap` keeps
/// the lock: this is what takes the stack's room), and the stack grows to 256 KiB short of
/// `RLIMIT_STACK`, within the limit that is left.
fn any_limit_on_the_main_thread() {
    let mut vec: Vec<u8> = Vec::with_capacity(1 << 20);
    let all = [
        LockAll::CURRENT,
        LockAll::CURRENT | LockAll::FUTURE,
        #[cfg(mman_has = "MCL_ONFAULT")]
        (LockAll::CURRENT | LockAll::ON_FAULT),
    ];
    if !set_stack_limit(Some(8 << 20)) {
        common::not_run!("the hard RLIMIT_STACK is below 8 MiB");
        return;
    }
    // 1 TiB, or the largest finite limit a 32-bit `rlim_t` holds.
    #[allow(clippy::unnecessary_cast)] // `rlim_t` is 32 bits on some targets
    let largest = hard_memlock_limit().unwrap_or((1 << 40).min(libc::RLIM_INFINITY as u64 - 1));
    if !set_memlock_limit(largest) || !drop_cap_ipc_lock() {
        return;
    }
    for flags in all {
        assert_refused_for_the_stack(lock_all(flags), largest);
    }
    let Some((limit, stack_limit)) = memlock_with_room_for_the_stack(256 << 10) else {
        return;
    };
    for flags in all {
        assert_refused_for_the_stack(lock_all(flags), limit);
    }
    if set_stack_limit(None) {
        assert_refused_for_the_stack(lock_all(LockAll::CURRENT), limit);
        assert!(set_stack_limit(Some(stack_limit)));
    } else {
        common::not_run!("RLIMIT_STACK unlimited (the hard limit is not)");
    }
    // SAFETY: the stack grows by its room to RLIMIT_STACK less 256 KiB, the Vec by 128 KiB, and
    // nothing else is locked: the limit holds them with 384 KiB to spare.
    unsafe { mman::lock_all_unchecked(LockAll::CURRENT) }.unwrap();
    assert!(stack_locked());
    assert!(common::has_vm_flag(vec.as_ptr() as usize, "lo"));
    let locked = common::locked_kib();
    vec.reserve_exact(vec.capacity() + (128 << 10));
    assert!(
        common::has_vm_flag(vec.as_ptr() as usize, "lo"),
        "the grown Vec is locked"
    );
    let after_vec = common::locked_kib();
    assert!(
        after_vec >= locked + 128,
        "the Vec's growth is locked: {after_vec} KiB locked, {locked} KiB before"
    );
    let before = stack_size();
    let grown = grow_stack_by(stack_limit as usize - (256 << 10) - before);
    assert!(
        common::locked_kib() >= after_vec + (grown - before) as u64 / 1024,
        "the stack grew locked: {} KiB locked, {after_vec} KiB before",
        common::locked_kib()
    );
    unlock_all().unwrap();
    assert_eq!(common::locked_kib(), 0);
}

#[test]
fn lock_all_refuses_current_under_any_memlock_limit_the_process_is_held_to() {
    common::run_the_rest_in_a_child!();
    common::assert_main_thread_part_passed();
}

/// Sets `RLIMIT_MEMLOCK` `margin` bytes over what is mapped and what the main thread's stack,
/// grown by 1 MiB first, may still grow by to `RLIMIT_STACK`, and drops `CAP_IPC_LOCK`: returns the
/// two limits, in bytes, or says why not and returns `None`. `RLIMIT_STACK` is 8 MiB, or less
/// where the hard `RLIMIT_MEMLOCK` would not fit that and the process cannot raise it (without
/// `CAP_SYS_RESOURCE`, 24).
fn memlock_with_room_for_the_stack(margin: u64) -> Option<(u64, u64)> {
    if !set_stack_limit(Some(8 << 20)) {
        common::not_run!("the hard RLIMIT_STACK is below 8 MiB");
        return None;
    }
    grow_stack_by(1 << 20);
    let hard = match hard_memlock_limit() {
        Some(hard) if !has_capability(24) => hard,
        _ => u64::MAX,
    };
    let fits = (hard.saturating_sub(mapped_bytes() + margin) + stack_size() as u64).min(8 << 20);
    let stack_limit = fits / mman::page_size() as u64 * mman::page_size() as u64;
    if stack_limit < stack_size() as u64 + (1 << 20) {
        common::not_run!(
            "the hard RLIMIT_MEMLOCK ({hard} bytes) leaves the stack no 1 MiB to grow"
        );
        return None;
    }
    assert!(set_stack_limit(Some(stack_limit)));
    let room = stack_limit - stack_size() as u64;
    let limit = page_rounded(mapped_bytes() + room + margin);
    (set_memlock_limit(limit) && drop_cap_ipc_lock()).then_some((limit, stack_limit))
}

const VEC_GROWTH: &str = "a_vec_grown_after_lock_all_leaves_the_main_thread_stack_room";

/// Under `RLIMIT_MEMLOCK` that holds what is mapped, the main thread's stack's growth to
/// `RLIMIT_STACK` and 256 KiB more, `lock_all(LockAll::CURRENT)` is followed by safe code only: a
/// `Vec` of 1 MiB made before (a block glibc's malloc maps on its own) is grown by as much as the
/// stack may still grow by, less 128 KiB, then the stack grows to 256 KiB short of `RLIMIT_STACK`.
/// Had `CURRENT` locked, glibc's realloc would grow the locked block with `mremap`, which keeps it
/// locked, within the limit, and the stack's growth would then be past it: `SIGSEGV` (a check of
/// the stack's room at the time of locking alone would let it lock). `lock_all` refuses, before any
/// call, and the stack grows.
fn vec_growth_on_the_main_thread() {
    let mut vec: Vec<u8> = Vec::with_capacity(1 << 20);
    let Some((limit, stack_limit)) = memlock_with_room_for_the_stack(256 << 10) else {
        return;
    };
    let locked = lock_all(LockAll::CURRENT);
    let room = stack_limit as usize - stack_size();
    println!(
        "lock_all: {locked:?}; {} KiB locked; the stack may grow by {} KiB",
        common::locked_kib(),
        room >> 10
    );
    vec.reserve_exact(vec.capacity() + room - (128 << 10));
    println!("the Vec grown: {} KiB locked", common::locked_kib());
    // Grown before the result is checked: where the stack was locked, this is what dies.
    grow_stack_by(room - (256 << 10));
    assert_refused_for_the_stack(locked, limit);
    drop(vec);
}

#[test]
fn a_vec_grown_after_lock_all_leaves_the_main_thread_stack_room() {
    common::run_the_rest_in_a_child!();
    common::assert_main_thread_part_passed();
}

#[cfg(target_os = "linux")]
const LIMIT_UNKNOWN: &str = "lock_all_refuses_current_where_the_memlock_limit_cannot_be_read";

/// Where a seccomp filter denies `getrlimit` (`prlimit64`, and `getrlimit` and `ugetrlimit` where
/// they are calls of their own), under `RLIMIT_MEMLOCK` 1 MiB over what is mapped: `CURRENT` is
/// refused with the error of `getrlimit` (`EPERM`), before any call, and the stack grows; `FUTURE`
/// alone, which needs no limit, locks.
#[cfg(target_os = "linux")]
fn limit_unknown_on_the_main_thread() {
    if !set_stack_limit(Some(8 << 20)) {
        common::not_run!("the hard RLIMIT_STACK is below 8 MiB");
        return;
    }
    let limit = page_rounded(mapped_bytes() + (1 << 20));
    if !set_memlock_limit(limit) || !drop_cap_ipc_lock() {
        return;
    }
    common::deny_syscalls(
        &[
            libc::SYS_prlimit64,
            #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
            libc::SYS_getrlimit,
            #[cfg(target_arch = "x86")]
            libc::SYS_ugetrlimit,
        ],
        libc::EPERM as u32,
    );
    let mut read = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `read` is a valid rlimit for getrlimit to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut read) } == 0 {
        common::not_run!("getrlimit is not a call the filter denies on this target");
        return;
    }
    let locked = lock_all(LockAll::CURRENT);
    grow_stack_by(2 << 20);
    let error = locked.expect_err("lock_all locked the stack under a limit it cannot read");
    assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{error}");
    assert_eq!(mman::raw_os_error(&error), Some(libc::EPERM), "{error}");
    let message = error.to_string();
    assert!(
        message.starts_with(
            "lock_all: MCL_CURRENT would lock the main thread's stack, and whether \
             RLIMIT_MEMLOCK lets it grow cannot be told: getrlimit(RLIMIT_MEMLOCK) failed"
        ),
        "{message}"
    );
    assert_eq!(common::locked_kib(), 0, "nothing is locked");
    lock_all(LockAll::FUTURE).unwrap();
    let map = MmapMut::map_anon(1 << 20).unwrap();
    assert!(common::has_vm_flag(map.as_ptr() as usize, "lo"));
    unlock_all().unwrap();
}

#[test]
#[cfg(target_os = "linux")]
fn lock_all_refuses_current_where_the_memlock_limit_cannot_be_read() {
    common::run_the_rest_in_a_child!();
    common::assert_main_thread_part_passed();
}

#[test]
fn lock_all_locks_current_and_future_maps_and_unlock_all_undoes_it() {
    common::run_the_rest_in_a_child!();
    if !has_cap_ipc_lock() && memlock_limit() != libc::RLIM_INFINITY {
        common::not_run!("without CAP_IPC_LOCK, RLIMIT_MEMLOCK is too low to lock a whole process");
        return;
    }
    assert_eq!(common::locked_kib(), 0);
    // Found before `lock_all`, which would lock the pages it compares.
    #[cfg(all(mman_has = "MCL_ONFAULT", mman_has = "MLOCK_ONFAULT"))]
    let on_fault_flag = common::lock_on_fault_flag();
    lock_all(LockAll::CURRENT | LockAll::FUTURE).unwrap();
    let before = common::locked_kib();
    assert!(before > 0, "MCL_CURRENT locks what is mapped");
    let map = MmapMut::map_anon(1 << 20).unwrap();
    assert_eq!(
        map.resident_pages().unwrap(),
        map.len() / mman::page_size(),
        "MCL_FUTURE faults new maps in"
    );
    assert!(
        common::locked_kib() >= before + 1024,
        "MCL_FUTURE locks new maps"
    );
    let (locked, size) = common::locked_and_size_kib_at(map.as_ptr() as usize);
    assert!(
        locked == size && size >= 1024,
        "every page of the new map is locked: {locked} of {size} KiB"
    );
    unlock_all().unwrap();
    assert_eq!(common::locked_kib(), 0);
    // MCL_ONFAULT (Linux 4.4): locks what is mapped as it is touched, not all at once.
    #[cfg(mman_has = "MCL_ONFAULT")]
    {
        let map = MmapMut::map_anon(1 << 20).unwrap();
        lock_all(LockAll::CURRENT | LockAll::ON_FAULT).unwrap();
        assert_eq!(
            map.resident_pages().unwrap(),
            0,
            "MCL_ONFAULT faults nothing in"
        );
        assert!(common::locked_kib() > 0);
        let flags = common::smaps_field(map.as_ptr() as usize, "VmFlags");
        let has = |flag| flags.split_whitespace().any(|set| set == flag);
        assert!(has("lo"), "locked: {flags}");
        #[cfg(mman_has = "MLOCK_ONFAULT")]
        if let Some(name) = on_fault_flag {
            assert!(has(name), "locked on fault ({name}): {flags}");
        }
        unlock_all().unwrap();
        let flags = common::smaps_field(map.as_ptr() as usize, "VmFlags");
        assert!(
            !flags.split_whitespace().any(|set| set == "lo"),
            "unlocked: {flags}"
        );
    }
}

const USER_NAMESPACE: &str = "lock_all_counts_no_cap_ipc_lock_of_a_user_namespace";

/// Root of a user namespace of its own has `CAP_IPC_LOCK` in `CapEff`, and the kernel still holds
/// its locked stack to `RLIMIT_MEMLOCK` (it counts capabilities in the initial namespace): under
/// the limit of [`refused_on_the_main_thread`], `CURRENT` is refused there too.
fn user_namespace_on_the_main_thread() {
    if !set_stack_limit(Some(8 << 20)) {
        common::not_run!("the hard RLIMIT_STACK is below 8 MiB");
        return;
    }
    let limit = page_rounded(mapped_bytes() + (1 << 20));
    if !set_memlock_limit(limit) {
        return;
    }
    // SAFETY: unshare takes flags; this process has one thread (no harness yet).
    if unsafe { libc::unshare(libc::CLONE_NEWUSER) } != 0 {
        let error = std::io::Error::last_os_error();
        common::not_run!("no user namespace for this process: {error}");
        return;
    }
    assert!(has_cap_ipc_lock(), "root of its own user namespace");
    let locked = lock_all(LockAll::CURRENT);
    grow_stack_by(2 << 20);
    assert_refused_for_the_stack(locked, limit);
}

#[test]
fn lock_all_counts_no_cap_ipc_lock_of_a_user_namespace() {
    common::run_the_rest_in_a_child!();
    common::assert_main_thread_part_passed();
}

const UNCHECKED: &str = "lock_all_unchecked_locks_a_stack_that_then_cannot_grow";

/// What `lock_all` refuses, through `lock_all_unchecked`: under `RLIMIT_MEMLOCK` 1 MiB over what
/// is mapped, the main thread's stack, locked, cannot grow by 2 MiB: the process dies of
/// `SIGSEGV`, 6 MiB short of `RLIMIT_STACK`.
fn unchecked_on_the_main_thread() {
    if !set_stack_limit(Some(8 << 20)) {
        common::not_run!("the hard RLIMIT_STACK is below 8 MiB");
        return;
    }
    let limit = page_rounded(mapped_bytes() + (1 << 20));
    if !set_memlock_limit(limit) || !drop_cap_ipc_lock() {
        return;
    }
    // SAFETY: none: the stack's growth below is meant to end this child.
    unsafe { mman::lock_all_unchecked(LockAll::CURRENT) }.unwrap();
    assert!(stack_locked());
    println!("locked under RLIMIT_MEMLOCK {limit} bytes");
    grow_stack_by(2 << 20);
    panic!("the locked stack grew by 2 MiB past RLIMIT_MEMLOCK");
}

#[test]
fn lock_all_unchecked_locks_a_stack_that_then_cannot_grow() {
    common::run_the_rest_in_a_child!(|child| {
        let output = child.command().output().unwrap();
        if common::passed_saying_not_run(&output) {
            return;
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("locked under RLIMIT_MEMLOCK"), "{stdout}");
        // The child's stack grew past the limit.
        common::assert_died_of(&output, libc::SIGSEGV);
    });
    common::assert_main_thread_part_passed();
}

#[test]
fn lock_all_fails_clearly_under_a_low_memlock_limit() {
    common::run_the_rest_in_a_child!();
    if !set_memlock_limit(64 * 1024) || !drop_cap_ipc_lock() {
        return;
    }
    // lock_all refuses before the call (the stack could not grow); the kernel's own refusal
    // is what lock_all_unchecked meets.
    assert_refused_for_the_stack(lock_all(LockAll::CURRENT), 64 * 1024);
    // SAFETY: the kernel refuses the call under this limit: nothing is locked.
    let error = unsafe { mman::lock_all_unchecked(LockAll::CURRENT) }.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::OutOfMemory, "{error}");
    let message = error.to_string();
    assert!(
        message.starts_with(
            "lock_all_unchecked: mlockall(MCL_CURRENT) (RLIMIT_MEMLOCK: 65536 bytes) failed"
        ),
        "{message}"
    );
    assert_eq!(mman::raw_os_error(&error), Some(libc::ENOMEM), "{error}");
    assert_eq!(
        common::locked_kib(),
        0,
        "nothing stays locked after the failure"
    );
    // A map locked past the limit fails the same way, naming the limit.
    let map = MmapMut::map_anon(1 << 20).unwrap();
    let error = map.lock().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::OutOfMemory, "{error}");
    assert!(error.to_string().starts_with("lock: mlock of"), "{error}");
    assert!(
        error
            .to_string()
            .contains("(RLIMIT_MEMLOCK: 65536 bytes) failed"),
        "{error}"
    );
    assert_eq!(mman::raw_os_error(&error), Some(libc::ENOMEM), "{error}");
    assert_eq!(
        map.resident_pages().unwrap(),
        0,
        "nothing was locked or faulted in"
    );
    // Under a limit of 0, the kernel refuses every lock with EPERM; lock_all refuses CURRENT
    // first, with the same kind.
    assert!(set_memlock_limit(0));
    assert_refused_for_the_stack(lock_all(LockAll::CURRENT), 0);
    let error = lock_all(LockAll::FUTURE).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{error}");
    assert_eq!(mman::raw_os_error(&error), Some(libc::EPERM), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("lock_all: mlockall(MCL_FUTURE) (RLIMIT_MEMLOCK: 0 bytes) failed"),
        "{error}"
    );
}

#[test]
fn lock_all_needs_current_or_future() {
    #[cfg(mman_has = "MCL_ONFAULT")]
    let all = [LockAll::empty(), LockAll::ON_FAULT];
    #[cfg(not(mman_has = "MCL_ONFAULT"))]
    let all = [LockAll::empty()];
    for flags in all {
        let error = lock_all(flags).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        assert!(error.to_string().starts_with("lock_all: flags"), "{error}");
        // SAFETY: refused before any call: nothing is locked.
        let unchecked = unsafe { mman::lock_all_unchecked(flags) }.unwrap_err();
        assert_eq!(unchecked.kind(), ErrorKind::InvalidInput);
        assert!(
            unchecked
                .to_string()
                .starts_with("lock_all_unchecked: flags"),
            "{unchecked}"
        );
        assert!(
            error
                .to_string()
                .contains("neither LockAll::CURRENT nor LockAll::FUTURE"),
            "{error}"
        );
    }
}

#[test]
fn an_allocation_past_the_limit_after_lock_all_future_aborts() {
    // What `lock_all` does not cover: under `FUTURE`, every later map counts against
    // `RLIMIT_MEMLOCK`, the allocator's too, and std's allocation functions abort the process
    // when the allocator fails, as when memory runs out (`handle_alloc_error`).
    common::run_the_rest_in_a_child!(|child| {
        let output = child.command().output().unwrap();
        if common::passed_saying_not_run(&output) {
            return;
        }
        common::assert_died_of(&output, libc::SIGABRT);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("memory allocation of 67108864 bytes failed"),
            "{stderr}"
        );
    });
    if !set_memlock_limit(8 << 20) || !drop_cap_ipc_lock() {
        return;
    }
    lock_all(LockAll::FUTURE).unwrap();
    let bytes = std::hint::black_box(vec![1u8; 64 << 20]);
    println!("allocated {} bytes", bytes.len());
}
