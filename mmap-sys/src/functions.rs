//! The functions, declared by hand for the C-compiler path (without bindgen): the same declarations
//! bindgen writes from glibc's and musl's headers, each present where the build script found the
//! headers declare it (`cfg(mman_fn = "...")`). The conformance tests hold every one against the C
//! compiler's prototype, on both paths.

use core::ffi::{c_char, c_int, c_uchar, c_uint, c_void};

/// `off_t` with `_FILE_OFFSET_BITS=64`: 64 bits on every target.
pub type __off64_t = i64;
/// `mode_t`: `unsigned int` on Linux.
pub type __mode_t = c_uint;
/// `mode_t`, as `shm_open` takes it.
pub type mode_t = __mode_t;

extern "C" {
    /// `mmap(2)`. glibc's 64-bit-offset entry point is `mmap64` (the same function on 64-bit
    /// targets); musl has 64-bit offsets under the plain name.
    #[cfg(mman_fn = "mmap")]
    #[cfg_attr(all(target_os = "linux", target_env = "gnu"), link_name = "mmap64")]
    pub fn mmap(
        addr: *mut c_void,
        len: usize,
        prot: c_int,
        flags: c_int,
        fd: c_int,
        offset: __off64_t,
    ) -> *mut c_void;
    /// `munmap(2)`.
    #[cfg(mman_fn = "munmap")]
    pub fn munmap(addr: *mut c_void, len: usize) -> c_int;
    /// `mprotect(2)`.
    #[cfg(mman_fn = "mprotect")]
    pub fn mprotect(addr: *mut c_void, len: usize, prot: c_int) -> c_int;
    /// `msync(2)`.
    #[cfg(mman_fn = "msync")]
    pub fn msync(addr: *mut c_void, len: usize, flags: c_int) -> c_int;
    /// `madvise(2)`.
    #[cfg(mman_fn = "madvise")]
    pub fn madvise(addr: *mut c_void, len: usize, advice: c_int) -> c_int;
    /// `posix_madvise(3)`.
    #[cfg(mman_fn = "posix_madvise")]
    pub fn posix_madvise(addr: *mut c_void, len: usize, advice: c_int) -> c_int;
    /// `mlock(2)`.
    #[cfg(mman_fn = "mlock")]
    pub fn mlock(addr: *const c_void, len: usize) -> c_int;
    /// `mlock2(2)`.
    #[cfg(mman_fn = "mlock2")]
    pub fn mlock2(addr: *const c_void, len: usize, flags: c_uint) -> c_int;
    /// `munlock(2)`.
    #[cfg(mman_fn = "munlock")]
    pub fn munlock(addr: *const c_void, len: usize) -> c_int;
    /// `mlockall(2)`.
    #[cfg(mman_fn = "mlockall")]
    pub fn mlockall(flags: c_int) -> c_int;
    /// `munlockall(2)`.
    #[cfg(mman_fn = "munlockall")]
    pub fn munlockall() -> c_int;
    /// `mremap(2)`; the fifth argument, the new address, only with `MREMAP_FIXED`.
    #[cfg(mman_fn = "mremap")]
    pub fn mremap(addr: *mut c_void, old_len: usize, new_len: usize, flags: c_int, ...) -> *mut c_void;
    /// `remap_file_pages(2)`.
    #[cfg(mman_fn = "remap_file_pages")]
    pub fn remap_file_pages(
        start: *mut c_void,
        size: usize,
        prot: c_int,
        pgoff: usize,
        flags: c_int,
    ) -> c_int;
    /// `mincore(2)`.
    #[cfg(mman_fn = "mincore")]
    pub fn mincore(start: *mut c_void, len: usize, vec: *mut c_uchar) -> c_int;
    /// `memfd_create(2)`.
    #[cfg(mman_fn = "memfd_create")]
    pub fn memfd_create(name: *const c_char, flags: c_uint) -> c_int;
    /// `shm_open(3)`.
    #[cfg(mman_fn = "shm_open")]
    pub fn shm_open(name: *const c_char, oflag: c_int, mode: mode_t) -> c_int;
    /// `shm_unlink(3)`.
    #[cfg(mman_fn = "shm_unlink")]
    pub fn shm_unlink(name: *const c_char) -> c_int;
    /// `pkey_alloc(2)`.
    #[cfg(mman_fn = "pkey_alloc")]
    pub fn pkey_alloc(flags: c_uint, access_rights: c_uint) -> c_int;
    /// `pkey_free(2)`.
    #[cfg(mman_fn = "pkey_free")]
    pub fn pkey_free(key: c_int) -> c_int;
    /// `pkey_get(3)`.
    #[cfg(mman_fn = "pkey_get")]
    pub fn pkey_get(key: c_int) -> c_int;
    /// `pkey_set(3)`.
    #[cfg(mman_fn = "pkey_set")]
    pub fn pkey_set(key: c_int, access_rights: c_uint) -> c_int;
    /// `pkey_mprotect(2)`.
    #[cfg(mman_fn = "pkey_mprotect")]
    pub fn pkey_mprotect(addr: *mut c_void, len: usize, prot: c_int, pkey: c_int) -> c_int;
}
