/*
 * The headers mmap-sys is generated from. The same file feeds bindgen (mmap-sys/build.rs) and the
 * C probe of the conformance tests (tests/build.rs), so both see exactly the same declarations.
 */

/* Declares mremap, mlock2, memfd_create, pkey_* and the Linux-only MAP_ and MADV_ values. */
#define _GNU_SOURCE 1
/* 64-bit off_t on 32-bit targets too: glibc then routes mmap to mmap64. */
#define _FILE_OFFSET_BITS 64

#include <sys/mman.h>

#ifdef __linux__
/* The kernel's UAPI header: PROT_SEM, MAP_UNINITIALIZED, MAP_HUGE_*, MADV_SOFT_OFFLINE, MADV_COLLAPSE. */
#include <linux/mman.h>
#endif
