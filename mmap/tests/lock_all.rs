//! `lock_all` and `unlock_all` (`mlockall`, `munlockall`), run in child processes since they lock
//! the whole process: allowed, and refused under a low `RLIMIT_MEMLOCK` (as is `lock` of a map).

mod common;

use std::io::ErrorKind;

use mman::{lock_all, unlock_all, LockAll, MmapMut};

/// Whether the process may lock memory past `RLIMIT_MEMLOCK`: `CAP_IPC_LOCK` (bit 14) in effect.
fn has_cap_ipc_lock() -> bool {
    u64::from_str_radix(&common::status("CapEff"), 16).unwrap() & (1 << 14) != 0
}

fn memlock_limit() -> libc::rlim_t {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit for getrlimit to fill.
    let got = unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut limit) };
    assert_eq!(got, 0);
    limit.rlim_cur
}

#[test]
fn lock_all_locks_current_and_future_maps_and_unlock_all_undoes_it() {
    let test = "lock_all_locks_current_and_future_maps_and_unlock_all_undoes_it";
    if common::in_child(test) {
        if !has_cap_ipc_lock() && memlock_limit() != libc::RLIM_INFINITY {
            println!(
                "not run: without CAP_IPC_LOCK, RLIMIT_MEMLOCK is too low to lock a whole process"
            );
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
        return;
    }
    common::assert_success(&mut common::child(test));
}

#[test]
fn lock_all_fails_clearly_under_a_low_memlock_limit() {
    let test = "lock_all_fails_clearly_under_a_low_memlock_limit";
    if common::in_child(test) {
        let limit = libc::rlimit {
            rlim_cur: 64 * 1024,
            rlim_max: 64 * 1024,
        };
        // SAFETY: setrlimit reads a valid rlimit.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &limit) }, 0);
        // SAFETY: geteuid and setuid have no memory preconditions.
        if unsafe { libc::geteuid() } == 0 && unsafe { libc::setuid(65534) } != 0 {
            println!("not run: this root process cannot drop CAP_IPC_LOCK by becoming uid 65534");
            return;
        }
        assert!(
            !has_cap_ipc_lock(),
            "CAP_IPC_LOCK would ignore RLIMIT_MEMLOCK"
        );
        let error = lock_all(LockAll::CURRENT).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::OutOfMemory, "{error}");
        let message = error.to_string();
        assert!(
            message.starts_with(
                "lock_all: mlockall(MCL_CURRENT) (RLIMIT_MEMLOCK: 65536 bytes) failed"
            ),
            "{message}"
        );
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
        return;
    }
    common::assert_success(&mut common::child(test));
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
        assert!(
            error
                .to_string()
                .contains("neither LockAll::CURRENT nor LockAll::FUTURE"),
            "{error}"
        );
    }
}
