//! Raw bindings to the host's memory-mapping headers, generated at build time.
//!
//! The build script reads `wrapper.h`, which includes `<sys/mman.h>` (with `_GNU_SOURCE` and
//! `_FILE_OFFSET_BITS=64`) and, on Linux, `<linux/mman.h>`. Every constant here is therefore
//! exactly what the host's C compiler sees: no number is typed in by hand. The conformance tests of
//! this workspace hold every value and signature against the C compiler.
//!
//! # Two paths to the same bindings
//!
//! - With the default feature `bindgen`, [bindgen] parses the headers with libclang and declares
//!   the functions and types; clang evaluates each constant where the headers leave it (a macro the
//!   headers `#undef` and define again has its last value).
//! - Without it (`default-features = false`), or when libclang cannot be loaded (then with a cargo
//!   warning that says how to install it), the C compiler of the `cc` crate preprocesses the same
//!   headers: the same names, values, functions and types, with no libclang and no bindgen to
//!   compile, and nothing compiled is run, so cross-compiling works.
//!
//! The workspace's tests build both paths and compare them name for name, value for value and
//! declaration for declaration, on this host's headers, on cross header sets (MIPS, Alpha, HPPA,
//! SPARC64), in real cross builds (aarch64, riscv64gc, s390x, armv7, powerpc64le, powerpc) and for
//! musl, macOS and FreeBSD.
//!
//! # The target's headers
//!
//! Both paths read the headers of the C library the target links against, as the target's C
//! compiler finds them: the `cc` crate picks that compiler (`CC_<target>`, `CFLAGS_<target>`), and
//! bindgen's clang gets its include search path (`-nostdlibinc`, then `-isystem` each directory)
//! and its `-D`, `-U` and `-m*-version-min` flags. A build whose headers are not the target's
//! (another system's, or glibc's for a musl target) stops with a message that says how to point the
//! compiler at them, e.g. `CFLAGS_<target>=--sysroot=/path/to/sysroot`. `<linux/mman.h>` is
//! included only where the compiler finds it (`musl-gcc` sees only musl's headers). `CC*`,
//! `CFLAGS*` and `MACOSX_DEPLOYMENT_TARGET` rerun the build: macOS's headers define `MAP_32BIT`
//! from 10.15 on.
//!
//! # Constants
//!
//! Every integer macro whose name starts with `PROT_`, `MAP_`, `MS_`, `MADV_`, `POSIX_MADV_`,
//! `MCL_`, `MLOCK_`, `MFD_`, `MREMAP_` or `PKEY_` (one whose expansion calls a function-like macro
//! too, as FreeBSD's `MAP_ALIGNED_SUPER` does), under its C name and with the type of the
//! parameter it is passed to, so that flags combine and pass with no casts:
//!
//! | family | type | passed to |
//! |---|---|---|
//! | `PROT_`, `MAP_`, `MS_`, `MADV_`, `POSIX_MADV_`, `MCL_`, `MREMAP_` | `c_int` | `mmap`, `mprotect`, `msync`, `madvise`, `posix_madvise`, `mlockall`, `mremap` |
//! | `MLOCK_`, `MFD_`, `PKEY_` | `c_uint` | `mlock2`, `memfd_create`, `pkey_alloc` |
//!
//! A value that does not fit its type (`MAP_HUGE_16GB` is `34U << 26`, over `i32::MAX`) keeps the
//! 32-bit pattern C passes to an `int` parameter: it is written `0x88000000_u32 as c_int`, and its
//! doc comment says so.
//!
//! A constant exists only when the host headers define it (musl lacks `MADV_POPULATE_READ`, macOS
//! lacks `MAP_POPULATE`). The build script hands the list of defined names to the build scripts of
//! dependents as the environment variable `DEP_MMAN_DEFINED` (comma-separated), so that they can
//! set `cfg`s for the features the host has.
//!
//! # Functions and types
//!
//! Every function the memory-mapping headers (`sys/mman.h`, `bits/mman*.h`, `linux/mman.h`,
//! `asm*/mman*.h`) declare, as they declare it: on glibc 2.36 `mmap`, `munmap`, `mprotect`,
//! `msync`, `madvise`, `posix_madvise`, `mlock`, `mlock2`, `munlock`, `mlockall`, `munlockall`,
//! `mremap`, `remap_file_pages`, `mincore`, `memfd_create`, `shm_open`, `shm_unlink`, the `pkey_*`
//! functions, `process_madvise` and `process_mrelease`. The build finds them; dependents' build
//! scripts get their names as `DEP_MMAN_FUNCTIONS`. The `typedef`s they use keep their C names
//! (`off_t`, `mode_t`, `__off64_t`) and `size_t` is `usize`. Where the headers give a function
//! another symbol, it links to that one: with `_FILE_OFFSET_BITS=64`, glibc's `mmap` is `mmap64`,
//! which takes a 64-bit offset on 32-bit targets too (and `mmap64` is therefore not declared
//! twice). They are the C library's functions, unchanged: see their man pages, e.g.
//! [mmap(2)](https://man7.org/linux/man-pages/man2/mmap.2.html).
//!
//! # Example
//!
//! ```
//! use core::ptr;
//! use mmap_sys::*;
//!
//! let (prot, flags) = (PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
//! // SAFETY: an anonymous private map of one page at an address the kernel picks.
//! let p = unsafe { mmap(ptr::null_mut(), 4096, prot, flags, -1, 0) };
//! assert_ne!(p, MAP_FAILED);
//! // SAFETY: `p` is the start of the 4096 bytes mapped above, which nothing else uses.
//! assert_eq!(unsafe { munmap(p, 4096) }, 0);
//! ```
//!
//! [bindgen]: https://docs.rs/bindgen

#![no_std]

#[allow(non_camel_case_types)]
mod functions {
    include!(concat!(env!("OUT_DIR"), "/functions.rs"));
}

mod constants {
    include!(concat!(env!("OUT_DIR"), "/constants.rs"));
}

pub use constants::*;
pub use functions::*;

// The README's example runs as a doctest: what crates.io shows compiles and works.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// `MAP_FAILED`, `((void *) -1)`: what `mmap` and `mremap` return on failure.
///
/// Written by hand: bindgen translates only macros that evaluate to a number or a string, and this
/// one is a pointer cast.
pub const MAP_FAILED: *mut core::ffi::c_void = usize::MAX as *mut core::ffi::c_void;
