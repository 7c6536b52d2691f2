//! The exported constant families: the prefixes whose macros mmap-sys exports, each with the type
//! and the C parameter its constants are passed to. Both paths keep the macros of these families
//! (`constant_macros.rs`), and `output.rs` writes each with its family's type.

/// The constants whose names start with one prefix, all passed to one C parameter.
pub(crate) struct Family {
    /// The start of each name, e.g. `PROT_`.
    pub(crate) prefix: &'static str,
    /// The `core::ffi` type of the C parameter, which each constant gets, e.g. `c_int`.
    pub(crate) rust_type: &'static str,
    /// The C parameter and the calls that take it, for the constants' doc comments.
    pub(crate) passed_to: &'static str,
}

/// The exported families. `POSIX_MADV_` comes before `MADV_` only for readability: the prefixes
/// never overlap at the start of a name.
const FAMILIES: &[Family] = &[
    Family {
        prefix: "PROT_",
        rust_type: "c_int",
        passed_to: "the `int prot` of `mmap`, `mprotect`, `pkey_mprotect`",
    },
    Family {
        prefix: "MAP_",
        rust_type: "c_int",
        passed_to: "the `int flags` of `mmap`",
    },
    Family {
        prefix: "MS_",
        rust_type: "c_int",
        passed_to: "the `int flags` of `msync`",
    },
    Family {
        prefix: "POSIX_MADV_",
        rust_type: "c_int",
        passed_to: "the `int advice` of `posix_madvise`",
    },
    Family {
        prefix: "MADV_",
        rust_type: "c_int",
        passed_to: "the `int advice` of `madvise`",
    },
    Family {
        prefix: "MCL_",
        rust_type: "c_int",
        passed_to: "the `int flags` of `mlockall`",
    },
    Family {
        prefix: "MLOCK_",
        rust_type: "c_uint",
        passed_to: "the `unsigned int flags` of `mlock2`",
    },
    Family {
        prefix: "MFD_",
        rust_type: "c_uint",
        passed_to: "the `unsigned int flags` of `memfd_create`",
    },
    Family {
        prefix: "MREMAP_",
        rust_type: "c_int",
        passed_to: "the `int flags` of `mremap`",
    },
    Family {
        prefix: "PKEY_",
        rust_type: "c_uint",
        passed_to: "the `unsigned int access_rights` of `pkey_alloc` and `pkey_set`",
    },
];

/// The family macro `name` belongs to, if it is exported.
pub(crate) fn family_of(name: &str) -> Option<&'static Family> {
    FAMILIES
        .iter()
        .find(|family| name.starts_with(family.prefix))
}
