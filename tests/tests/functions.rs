//! The functions of mmap-sys: declared with C's prototypes (checked at compile time by
//! `mmap_conformance::signatures`, and on the C side by `prototypes.c` built with `-Werror`), linked,
//! and callable with the constants as they are.

use core::ptr;

use mmap_sys::*;

#[test]
fn every_function_has_the_c_prototype_and_links() {
    let checked = mmap_conformance::signatures::checked();
    let names: Vec<&str> = checked.iter().map(|&(name, _)| name).collect();
    assert_eq!(names.len(), 22, "{names:?}");
    for (name, address) in checked {
        assert_ne!(address, 0, "{name} did not link");
    }
}

#[test]
fn flags_pass_to_mmap_without_casts() {
    let len = 4096;
    // SAFETY: a new anonymous shared map at an address the kernel picks; nothing else uses it.
    let p = unsafe { mmap(ptr::null_mut(), len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0) };
    assert_ne!(p, MAP_FAILED, "mmap failed: {}", std::io::Error::last_os_error());
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
    assert!(fd >= 0, "memfd_create failed: {}", std::io::Error::last_os_error());
    // SAFETY: `fd` was opened above and is not used after this.
    assert_eq!(unsafe { libc::close(fd) }, 0);
}
