/// The constant families mmap-sys exports: the prefixes of the `FAMILIES` table in
/// `mmap-sys/build/families.rs`. One list for this crate's library, tests and build script (which
/// includes this file by path).
pub const FAMILIES: &[&str] = &[
    "PROT_",
    "MAP_",
    "MS_",
    "MADV_",
    "POSIX_MADV_",
    "MCL_",
    "MLOCK_",
    "MFD_",
    "MREMAP_",
    "PKEY_",
];
