//! Advice for `madvise(2)`, split by whether it can change what safe code reads.

use std::ffi::c_int;

use crate::sys;
use mmap_sys as c;

/// Declares an advice enum from one list: each variant with its docs, its `MADV_` constant and,
/// where the headers may lack it, the `cfg` name. The enum, `ALL` and `raw()` are made from it, so
/// a variant is named once. The enum is `#[repr(i32)]` with the constants as discriminants, as
/// memmap2's: `Advice::HugePage as i32` is the host's `MADV_HUGEPAGE`.
macro_rules! advice_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[doc = $doc:literal])*
                $variant:ident = $raw:ident $(if $cfg:literal)?,
            )*
        }
    ) => {
        $(#[$meta])*
        #[repr(i32)]
        pub enum $name {
            $(
                $(#[doc = $doc])*
                #[doc = ""]
                #[doc = concat!("[`", stringify!($raw), "`](mmap_sys::", stringify!($raw), ").")]
                $(#[doc = concat!("Availability: where the target's headers define `", $cfg, "`.")])?
                $(#[cfg(mman_has = $cfg)])?
                $variant = c::$raw,
            )*
        }

        impl $name {
            /// Every variant the host's headers define.
            pub const ALL: &'static [$name] = &[$($(#[cfg(mman_has = $cfg)])? $name::$variant,)*];

            /// The advice's `MADV_` constant (its discriminant), and its C name.
            pub(crate) fn raw(self) -> (c_int, &'static str) {
                let name = match self {
                    $($(#[cfg(mman_has = $cfg)])? $name::$variant => stringify!($raw),)*
                };
                (self as c_int, name)
            }
        }
    };
}

advice_enum! {
    /// Advice that cannot change what safe code reads from a map: given to
    /// [`Mmap::advise`](crate::Mmap::advise) and the `advise` methods of the other maps.
    ///
    /// A variant exists only where the host's headers define its constant; whether the running
    /// kernel knows it is another matter, which [`Advice::is_supported`] asks. Each variant names
    /// the constant it passes, and is that constant as an `i32`, as in memmap2:
    ///
    #[cfg_attr(mman_has = "MADV_HUGEPAGE", doc = "```")]
    #[cfg_attr(not(mman_has = "MADV_HUGEPAGE"), doc = "```ignore")]
    /// assert_eq!(mman::Advice::HugePage as i32, mmap_sys::MADV_HUGEPAGE);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    #[non_exhaustive]
    pub enum Advice {
        /// No special treatment: the default read-ahead and reclaim.
        Normal = MADV_NORMAL,
        /// Expect access in random order: read ahead little.
        Random = MADV_RANDOM,
        /// Expect access in order: read ahead aggressively, reclaim pages soon after they were
        /// read.
        Sequential = MADV_SEQUENTIAL,
        /// Expect access soon: start reading the pages in.
        WillNeed = MADV_WILLNEED,
        /// Do not give this range to a child made by `fork` (Linux 2.6.16).
        DontFork = MADV_DONTFORK if "MADV_DONTFORK",
        /// Undo `DontFork` (Linux 2.6.16).
        DoFork = MADV_DOFORK if "MADV_DOFORK",
        /// Let KSM merge pages of identical content (Linux 2.6.32).
        Mergeable = MADV_MERGEABLE if "MADV_MERGEABLE",
        /// Undo `Mergeable` (Linux 2.6.32).
        Unmergeable = MADV_UNMERGEABLE if "MADV_UNMERGEABLE",
        /// Back the range with transparent huge pages (Linux 2.6.38).
        HugePage = MADV_HUGEPAGE if "MADV_HUGEPAGE",
        /// Do not back the range with transparent huge pages (Linux 2.6.38).
        NoHugePage = MADV_NOHUGEPAGE if "MADV_NOHUGEPAGE",
        /// Leave the range out of core dumps (Linux 3.4).
        DontDump = MADV_DONTDUMP if "MADV_DONTDUMP",
        /// Undo `DontDump` (Linux 3.4).
        DoDump = MADV_DODUMP if "MADV_DODUMP",
        /// Undo `UncheckedAdvice::WipeOnFork` (Linux 4.14).
        KeepOnFork = MADV_KEEPONFORK if "MADV_KEEPONFORK",
        /// Move the pages to the inactive list, to be reclaimed first (Linux 5.4).
        Cold = MADV_COLD if "MADV_COLD",
        /// Reclaim the pages now: written back or swapped out, read back on next access (Linux
        /// 5.4).
        PageOut = MADV_PAGEOUT if "MADV_PAGEOUT",
        /// Prefault the page tables readable, and report an error where that fails, e.g. past the
        /// end of a truncated file (Linux 5.14).
        PopulateRead = MADV_POPULATE_READ if "MADV_POPULATE_READ",
        /// Prefault the page tables writable, and report an error where that fails (Linux 5.14).
        PopulateWrite = MADV_POPULATE_WRITE if "MADV_POPULATE_WRITE",
        /// Collapse the range into transparent huge pages now (Linux 6.1).
        Collapse = MADV_COLLAPSE if "MADV_COLLAPSE",
    }
}

impl Advice {
    /// Whether the running kernel knows this advice. The headers a program was built with and the
    /// kernel it runs on are different things: an advice newer than the kernel is refused with
    /// `EINVAL`, which the `advise` calls report as [`ErrorKind::Unsupported`](std::io::ErrorKind).
    ///
    /// Calls `madvise(NULL, 0, advice)`, which touches no memory: Linux checks the advice before
    /// anything else.
    ///
    /// ```
    /// use mman::Advice;
    ///
    /// assert!(Advice::Sequential.is_supported());
    /// ```
    ///
    /// # References
    ///
    /// - [`madvise(2)`](https://man7.org/linux/man-pages/man2/madvise.2.html)
    #[doc(alias = "madvise")]
    pub fn is_supported(self) -> bool {
        sys::madvise_supported(self.raw().0)
    }
}

advice_enum! {
    /// Advice that can change what safe code reads from a map (dropped pages read back as zeroes or
    /// as the file's contents), so it is given only through the `unsafe fn unchecked_advise`
    /// methods, such as [`MmapMut::unchecked_advise`](crate::MmapMut::unchecked_advise).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    #[non_exhaustive]
    pub enum UncheckedAdvice {
        /// Drop the pages: the next read of a private map sees the file's contents or zeroes, not
        /// what was written.
        DontNeed = MADV_DONTNEED,
        /// Let the kernel free the pages lazily: a later read may see zeroes (Linux 4.5; also macOS
        /// and the BSDs).
        Free = MADV_FREE if "MADV_FREE",
        /// Free the pages and their backing store: reads see zeroes (Linux 2.6.16).
        Remove = MADV_REMOVE if "MADV_REMOVE",
        /// A child made by `fork` sees zeroes in this range (Linux 4.14).
        WipeOnFork = MADV_WIPEONFORK if "MADV_WIPEONFORK",
        /// `DontNeed` that also drops locked pages (Linux 5.18).
        DontNeedLocked = MADV_DONTNEED_LOCKED if "MADV_DONTNEED_LOCKED",
        /// Poison the pages as if the hardware had failed (needs `CAP_SYS_ADMIN`; for testing; Linux
        /// 2.6.32).
        HwPoison = MADV_HWPOISON if "MADV_HWPOISON",
        /// Migrate the contents and retire the pages (needs `CAP_SYS_ADMIN`; for testing; Linux
        /// 2.6.33).
        SoftOffline = MADV_SOFT_OFFLINE if "MADV_SOFT_OFFLINE",
    }
}

#[cfg(mman_has = "MADV_HWPOISON")]
impl Advice {
    /// [`UncheckedAdvice::HwPoison`], under the name memmap2 gives it (memmap2 0.9 has it in its
    /// safe `Advice`). It poisons the pages: the next access to them raises `SIGBUS`. That changes
    /// what safe code reading the map gets, so here it is an `UncheckedAdvice`, given only through
    /// the `unsafe fn unchecked_advise` methods; `map.advise(Advice::HwPoison)` does not compile
    /// (expected `Advice`, found `UncheckedAdvice`):
    ///
    /// ```compile_fail
    /// # fn main() -> std::io::Result<()> {
    /// let map = mman::MmapMut::map_anon(4096)?;
    /// map.advise(mman::Advice::HwPoison)?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// ```
    /// use mman::{Advice, UncheckedAdvice};
    ///
    /// assert_eq!(Advice::HwPoison, UncheckedAdvice::HwPoison);
    /// assert_eq!(Advice::HwPoison as i32, mmap_sys::MADV_HWPOISON);
    /// ```
    #[allow(non_upper_case_globals)]
    pub const HwPoison: UncheckedAdvice = UncheckedAdvice::HwPoison;
}

impl UncheckedAdvice {
    /// Whether the running kernel knows this advice: see [`Advice::is_supported`].
    ///
    /// # References
    ///
    /// - [`madvise(2)`](https://man7.org/linux/man-pages/man2/madvise.2.html)
    #[doc(alias = "madvise")]
    pub fn is_supported(self) -> bool {
        sys::madvise_supported(self.raw().0)
    }
}
