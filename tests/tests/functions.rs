//! The functions of mmap-sys: every one the headers declare, with C's prototype (checked when the
//! conformance crate builds: `prototypes.c`, built with `-Werror`, holds each Rust declaration to
//! it), linked to the symbol C calls, and callable with the constants as they are.

use core::ptr;

use mmap_conformance::not_checked;
use mmap_sys::*;

/// The address the dynamic linker gives the symbol `name` (`dlsym` over every loaded object), or
/// `None` where no object defines it.
fn dlsym(name: &str) -> Option<usize> {
    let name = std::ffi::CString::new(name).unwrap();
    // SAFETY: a NUL-terminated name; `dlsym` only looks it up.
    let address = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    (!address.is_null()).then_some(address as usize)
}

/// Whether the dynamic linker has the C library's symbols: not in a statically linked binary
/// (musl's default), where `dlsym` finds none. Says so where it does not.
fn dynamically_linked(unchecked: &str) -> bool {
    let dynamic = dlsym("munmap").is_some();
    if !dynamic {
        not_checked(&format!(
            "{unchecked}: this binary is linked statically, and dlsym finds no C library"
        ));
    }
    dynamic
}

#[test]
fn every_function_links_to_the_symbol_c_calls() {
    let checked = mmap_conformance::signatures::checked();
    let dynamic = dynamically_linked("each function's address against the dynamic linker's");
    for &(name, rust, c) in &checked {
        // The symbol of that name, or its 64-bit twin where glibc redirects the name to it
        // (`mmap` is `mmap64` with `_FILE_OFFSET_BITS=64` on 32-bit targets).
        let symbols: Vec<usize> = [name.to_owned(), format!("{name}64")]
            .iter()
            .filter_map(|symbol| dlsym(symbol))
            .collect();
        assert!(
            !dynamic || symbols.contains(&rust),
            "{name}: mmap-sys's address {rust:#x} is not what the dynamic linker gives {name} or \
             {name}64 ({symbols:#x?})"
        );
        assert_eq!(
            rust, c,
            "{name}: mmap-sys links another function than C calls"
        );
    }
    let distinct: std::collections::BTreeSet<usize> =
        checked.iter().map(|&(_, rust, _)| rust).collect();
    assert_eq!(
        distinct.len(),
        checked.len(),
        "two names link to one function: {checked:#x?}"
    );
}

#[test]
fn mmap_sys_declares_every_function_the_c_compiler_declares_in_the_headers() {
    let checked = mmap_conformance::signatures::checked();
    let Some(declared) = mmap_conformance::signatures::C_DECLARED else {
        not_checked(
            "that mmap-sys declares every function of the headers: the C compiler is not gcc, \
             whose -aux-info lists them",
        );
        return;
    };
    // POSIX's own, in every C library's <sys/mman.h>: the list is the headers' declarations.
    for posix in ["mmap", "munmap", "mprotect", "msync", "mlock", "munlock"] {
        assert!(
            declared.contains(&posix),
            "{posix} is not among C's declarations: {declared:?}"
        );
    }
    for &name in declared {
        if checked.iter().any(|&(rust, ..)| rust == name) {
            continue;
        }
        // The 64-bit twin of a function mmap-sys declares is left out, as bindgen leaves it out,
        // where that function links to it (`mmap` is `mmap64` with `_FILE_OFFSET_BITS=64`).
        let twin = name
            .strip_suffix("64")
            .and_then(|base| checked.iter().find(|&&(rust, ..)| rust == base));
        match twin {
            Some(&(base, address, _)) => {
                if dynamically_linked(&format!("that {base} links to {name}")) {
                    assert_eq!(
                        dlsym(name),
                        Some(address),
                        "{name} is left out, and {base} does not link to it"
                    );
                }
            }
            None => panic!("C declares {name}, and mmap-sys does not: {checked:#x?}"),
        }
    }
    for &(name, ..) in &checked {
        assert!(
            declared.contains(&name),
            "mmap-sys declares {name}, and C does not: {declared:?}"
        );
    }
}

#[test]
#[cfg(c_has = "process_mrelease")]
fn process_mrelease_of_a_live_process_is_refused() {
    let pid = std::process::id();
    // SAFETY: `pidfd_open` takes a pid and flags; the descriptor is closed below.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as core::ffi::c_int;
    assert!(
        pidfd >= 0,
        "pidfd_open: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: a valid descriptor and no flags. The kernel refuses a process that is not dying.
    let result = unsafe { process_mrelease(pidfd, 0) };
    let error = std::io::Error::last_os_error();
    // SAFETY: `pidfd` was opened above and is not used after this.
    unsafe { libc::close(pidfd) };
    assert_eq!(result, -1);
    assert_eq!(error.raw_os_error(), Some(libc::EINVAL), "{error}");
}

#[test]
fn flags_pass_to_mmap_without_casts() {
    let len = 4096;
    // SAFETY: a new anonymous shared map at an address the kernel picks; nothing else uses it.
    let p = unsafe {
        mmap(
            ptr::null_mut(),
            len,
            PROT_READ | PROT_WRITE,
            MAP_SHARED | MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(
        p,
        MAP_FAILED,
        "mmap failed: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: `p` points to `len` writable bytes mapped above.
    unsafe {
        p.cast::<u8>().write(42);
        assert_eq!(p.cast::<u8>().read(), 42);
        assert_eq!(msync(p, len, MS_SYNC), 0);
        assert_eq!(madvise(p, len, MADV_WILLNEED), 0);
        assert_eq!(mprotect(p, len, PROT_READ), 0);
        let mut resident = [0u8; 1];
        assert_eq!(mincore(p, len, resident.as_mut_ptr()), 0);
        assert_eq!(resident[0] & 1, 1, "the page written above is resident");
        assert_eq!(munmap(p, len), 0);
    }
}

#[test]
fn memfd_create_takes_its_unsigned_flags() {
    // SAFETY: a valid C string; the returned descriptor is closed below.
    let fd = unsafe { memfd_create(c"mmap-sys-test".as_ptr(), MFD_CLOEXEC | MFD_ALLOW_SEALING) };
    assert!(
        fd >= 0,
        "memfd_create failed: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: `fd` was opened above and is not used after this.
    assert_eq!(unsafe { libc::close(fd) }, 0);
}
