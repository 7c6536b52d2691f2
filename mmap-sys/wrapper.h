/*
 * The headers mmap-sys is generated from. The same file feeds bindgen (mmap-sys/build.rs) and the
 * C probe of the conformance tests (tests/build.rs), so both see exactly the same declarations.
 */

/* Declares mremap, mlock2, memfd_create, pkey_* and the Linux-only MAP_ and MADV_ values. */
#define _GNU_SOURCE 1
/* 64-bit off_t on 32-bit targets too: glibc then routes mmap to mmap64. */
#define _FILE_OFFSET_BITS 64

#include <sys/mman.h>

/*
 * The kernel's UAPI header: PROT_SEM, MAP_UNINITIALIZED, MAP_HUGE_*, MADV_SOFT_OFFLINE, MADV_COLLAPSE.
 * Only where the target's compiler finds it: musl-gcc, for one, sees musl's headers and not the
 * kernel's, and the build then exports what <sys/mman.h> alone defines (DEP_MMAN_DEFINED and
 * mman::missing_constants() say what that leaves out). Add the kernel's headers with
 * CFLAGS_<target>="-idirafter <dir>" (see mmap-sys's README) to have them.
 */
#if defined(__linux__) && defined(__has_include)
#if __has_include(<linux/mman.h>)
#include <linux/mman.h>
#endif
#elif defined(__linux__)
#include <linux/mman.h>
#endif
