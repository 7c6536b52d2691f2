//! The stack guard check: no map placed or grown where a stack can grow.
//!
//! The main thread's stack (`[stack]`) grows down on demand, up to `RLIMIT_STACK`, and the kernel
//! keeps a guard gap (`stack_guard_gap`, 256 pages by default) between any grows-down mapping and
//! the mapping below it. It keeps both only for the addresses it picks: a map placed by address
//! (`fixed_no_replace`, `address_hint`) or grown in place by `mremap` may sit right below the
//! stack, where the stack's next frames land in the map instead of faulting. So before such a call
//! the crate checks the range against `/proc/self/maps`, and refuses one in that zone.

use std::io;

use crate::error::{explain, invalid};
use crate::proc_maps::{self, Mappings};
use crate::sys;

/// Refuses `start..end`, about to be mapped (`what` says how: "fixed_no_replace(0x...)"),
/// if a stack may grow into it: within `RLIMIT_STACK` plus the guard gap below the top of the main
/// thread's stack, or within the guard gap below any other grows-down mapping.
pub(crate) fn check_stack_guard(what: &str, start: usize, end: usize) -> io::Result<()> {
    match proc_maps::with_maps(|mappings| check_maps(what, start, end, mappings)) {
        Ok(checked) => checked,
        // Without /proc (a chroot, a sandbox) nothing can be checked: placing by address is
        // refused.
        Err(error) => Err(explain(
            error,
            io::ErrorKind::Unsupported,
            format_args!(
                "{what}: /proc/self/maps cannot be read, so whether the range is clear of \
                 the stack cannot be checked"
            ),
        )),
    }
}

/// [`check_stack_guard`] over the mappings of `/proc/self/maps`.
fn check_maps(what: &str, start: usize, end: usize, mappings: Mappings<'_>) -> io::Result<()> {
    let gap = stack_guard_gap();
    // Only the first mapping above the range can be the one a stack grows down from into it: one
    // further up meets that one first.
    let mut above_checked = false;
    for mapping in mappings {
        let (from, to, path) = (mapping.start, mapping.end, mapping.path);
        let first_above = from >= end && !std::mem::replace(&mut above_checked, true);
        if path == "[stack]" {
            // The lowest address the stack may reach, then the gap the kernel keeps below it.
            // The limit read once: the message says the limit the check used.
            let limit = stack_limit();
            let lowest = match limit {
                Some(limit) => from.min(to.saturating_sub(limit)),
                None => 0,
            };
            let zone = lowest.saturating_sub(gap);
            if start < to && end > zone {
                return Err(invalid(format_args!(
                    "{what}: the range {start:#x}..{end:#x} is where the main thread's stack \
                         may grow ({zone:#x}..{to:#x}: the stack at {from:#x}..{to:#x}, \
                         RLIMIT_STACK {}, and the kernel's guard gap of {gap} bytes)",
                    limit.map_or("unlimited".to_owned(), |limit| format!("{limit} bytes")),
                )));
            }
        } else if first_above && from - end < gap && grows_down(from) {
            return Err(invalid(format_args!(
                "{what}: the range {start:#x}..{end:#x} is within the stack guard gap ({gap} \
                     bytes) below the grows-down mapping (a stack) at {from:#x}"
            )));
        }
    }
    Ok(())
}

/// Whether the mapping that starts at `start` grows down: `gd` in its `VmFlags` line of
/// `/proc/self/smaps` (slow to read: only asked for a mapping right above a new range). A mapping
/// whose flags cannot be read counts as one that grows down; one gone since `/proc/self/maps` was
/// read (another thread unmapped it) does not.
fn grows_down(start: usize) -> bool {
    let flags = proc_maps::with_smaps_field(start, "VmFlags", |flags| {
        flags.map_or(true, |flags| {
            flags.split_whitespace().any(|flag| flag == "gd")
        })
    });
    match flags {
        Ok(Some(grows_down)) => grows_down,
        Ok(None) => false,
        Err(_) => true,
    }
}

/// The soft `RLIMIT_STACK` in bytes; `None` when unlimited, or unknown.
fn stack_limit() -> Option<usize> {
    let limit = sys::soft_limit(sys::Limit::Stack).ok()??;
    usize::try_from(limit).ok()
}

/// The kernel's stack guard gap in bytes: `stack_guard_gap=` (in pages) on the kernel's command
/// line (`/proc/cmdline`), the only place it is set, or the kernel's default of 256 pages
/// (`stack_guard_gap = 256UL<<PAGE_SHIFT` in mm/mmap.c, which no header exports).
fn stack_guard_gap() -> usize {
    static GAP: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *GAP.get_or_init(|| {
        let pages = std::fs::read_to_string("/proc/cmdline")
            .ok()
            .and_then(|line| {
                line.split_whitespace()
                    .find_map(|arg| arg.strip_prefix("stack_guard_gap=")?.parse().ok())
            })
            .unwrap_or(256usize);
        pages.saturating_mul(sys::page_size())
    })
}

#[cfg(all(test, linux_kernel))]
mod tests {
    use super::grows_down;
    use crate::sys;

    /// A private anonymous mapping of 4 pages with `extra` flags, unmapped when done.
    fn with_mapping(extra: std::ffi::c_int, check: impl FnOnce(usize)) {
        let len = 4 * sys::page_size();
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | extra;
        // SAFETY: a new mapping where the kernel picks; nothing else uses it.
        let ptr = unsafe { sys::mmap(std::ptr::null_mut(), len, libc::PROT_READ, flags, -1, 0) };
        let ptr = ptr.unwrap();
        check(ptr as usize);
        // SAFETY: the mapping made above.
        unsafe { sys::munmap(ptr, len) }.unwrap();
    }

    #[test]
    fn grows_down_reads_the_flag_of_smaps() {
        with_mapping(0, |start| assert!(!grows_down(start)));
        let under_valgrind =
            crate::proc_maps::with_maps(|mut maps| maps.any(|map| map.path.contains("/valgrind/")));
        if under_valgrind.unwrap() {
            println!("not run under valgrind: MAP_GROWSDOWN, which valgrind does not pass on");
        } else {
            with_mapping(libc::MAP_GROWSDOWN, |start| assert!(grows_down(start)));
        }
        // A mapping gone since: nothing starts at address 0.
        assert!(!grows_down(0));
    }
}
