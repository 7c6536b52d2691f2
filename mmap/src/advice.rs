//! Advice for `madvise(2)`, split by whether it can change what safe code reads.

use crate::sys::{self, c_int};

/// Advice that cannot change what safe code reads from a map: given to
/// [`Mmap::advise`](crate::Mmap::advise) and the `advise` methods of the other maps.
///
/// A variant exists only where the host's headers define its constant; whether the running kernel
/// knows it is another matter, which [`Advice::is_supported`] asks. Each variant names the constant
/// it passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Advice {
    /// No special treatment: the default read-ahead and reclaim.
    ///
    /// [`MADV_NORMAL`](mmap_sys::MADV_NORMAL).
    Normal,
    /// Expect access in random order: read ahead little.
    ///
    /// [`MADV_RANDOM`](mmap_sys::MADV_RANDOM).
    Random,
    /// Expect access in order: read ahead aggressively, reclaim pages soon after they were read.
    ///
    /// [`MADV_SEQUENTIAL`](mmap_sys::MADV_SEQUENTIAL).
    Sequential,
    /// Expect access soon: start reading the pages in.
    ///
    /// [`MADV_WILLNEED`](mmap_sys::MADV_WILLNEED).
    WillNeed,
    /// Do not give this range to a child made by `fork`.
    ///
    /// [`MADV_DONTFORK`](mmap_sys::MADV_DONTFORK).
    #[cfg(mman_has = "MADV_DONTFORK")]
    DontFork,
    /// Undo `DontFork`.
    ///
    /// [`MADV_DOFORK`](mmap_sys::MADV_DOFORK).
    #[cfg(mman_has = "MADV_DOFORK")]
    DoFork,
    /// Let KSM merge pages of identical content (Linux 2.6.32).
    ///
    /// [`MADV_MERGEABLE`](mmap_sys::MADV_MERGEABLE).
    #[cfg(mman_has = "MADV_MERGEABLE")]
    Mergeable,
    /// Undo `Mergeable`.
    ///
    /// [`MADV_UNMERGEABLE`](mmap_sys::MADV_UNMERGEABLE).
    #[cfg(mman_has = "MADV_UNMERGEABLE")]
    Unmergeable,
    /// Back the range with transparent huge pages (Linux 2.6.38).
    ///
    /// [`MADV_HUGEPAGE`](mmap_sys::MADV_HUGEPAGE).
    #[cfg(mman_has = "MADV_HUGEPAGE")]
    HugePage,
    /// Do not back the range with transparent huge pages.
    ///
    /// [`MADV_NOHUGEPAGE`](mmap_sys::MADV_NOHUGEPAGE).
    #[cfg(mman_has = "MADV_NOHUGEPAGE")]
    NoHugePage,
    /// Leave the range out of core dumps (Linux 3.4).
    ///
    /// [`MADV_DONTDUMP`](mmap_sys::MADV_DONTDUMP).
    #[cfg(mman_has = "MADV_DONTDUMP")]
    DontDump,
    /// Undo `DontDump`.
    ///
    /// [`MADV_DODUMP`](mmap_sys::MADV_DODUMP).
    #[cfg(mman_has = "MADV_DODUMP")]
    DoDump,
    /// Undo `UncheckedAdvice::WipeOnFork` (Linux 4.14).
    ///
    /// [`MADV_KEEPONFORK`](mmap_sys::MADV_KEEPONFORK).
    #[cfg(mman_has = "MADV_KEEPONFORK")]
    KeepOnFork,
    /// Move the pages to the inactive list, to be reclaimed first (Linux 5.4).
    ///
    /// [`MADV_COLD`](mmap_sys::MADV_COLD).
    #[cfg(mman_has = "MADV_COLD")]
    Cold,
    /// Reclaim the pages now: written back or swapped out, read back on next access (Linux 5.4).
    ///
    /// [`MADV_PAGEOUT`](mmap_sys::MADV_PAGEOUT).
    #[cfg(mman_has = "MADV_PAGEOUT")]
    PageOut,
    /// Prefault the page tables readable, and report an error where that fails, e.g. past the end of a truncated file (Linux 5.14).
    ///
    /// [`MADV_POPULATE_READ`](mmap_sys::MADV_POPULATE_READ).
    #[cfg(mman_has = "MADV_POPULATE_READ")]
    PopulateRead,
    /// Prefault the page tables writable, and report an error where that fails (Linux 5.14).
    ///
    /// [`MADV_POPULATE_WRITE`](mmap_sys::MADV_POPULATE_WRITE).
    #[cfg(mman_has = "MADV_POPULATE_WRITE")]
    PopulateWrite,
    /// Collapse the range into transparent huge pages now (Linux 6.1).
    ///
    /// [`MADV_COLLAPSE`](mmap_sys::MADV_COLLAPSE).
    #[cfg(mman_has = "MADV_COLLAPSE")]
    Collapse,
}

impl Advice {
    /// Every variant the host's headers define.
    pub const ALL: &'static [Advice] = &[
        Advice::Normal,
        Advice::Random,
        Advice::Sequential,
        Advice::WillNeed,
        #[cfg(mman_has = "MADV_DONTFORK")]
        Advice::DontFork,
        #[cfg(mman_has = "MADV_DOFORK")]
        Advice::DoFork,
        #[cfg(mman_has = "MADV_MERGEABLE")]
        Advice::Mergeable,
        #[cfg(mman_has = "MADV_UNMERGEABLE")]
        Advice::Unmergeable,
        #[cfg(mman_has = "MADV_HUGEPAGE")]
        Advice::HugePage,
        #[cfg(mman_has = "MADV_NOHUGEPAGE")]
        Advice::NoHugePage,
        #[cfg(mman_has = "MADV_DONTDUMP")]
        Advice::DontDump,
        #[cfg(mman_has = "MADV_DODUMP")]
        Advice::DoDump,
        #[cfg(mman_has = "MADV_KEEPONFORK")]
        Advice::KeepOnFork,
        #[cfg(mman_has = "MADV_COLD")]
        Advice::Cold,
        #[cfg(mman_has = "MADV_PAGEOUT")]
        Advice::PageOut,
        #[cfg(mman_has = "MADV_POPULATE_READ")]
        Advice::PopulateRead,
        #[cfg(mman_has = "MADV_POPULATE_WRITE")]
        Advice::PopulateWrite,
        #[cfg(mman_has = "MADV_COLLAPSE")]
        Advice::Collapse,
    ];

    /// The advice's `MADV_` constant, and its C name.
    pub(crate) fn raw(self) -> (c_int, &'static str) {
        match self {
            Advice::Normal => (mmap_sys::MADV_NORMAL, "MADV_NORMAL"),
            Advice::Random => (mmap_sys::MADV_RANDOM, "MADV_RANDOM"),
            Advice::Sequential => (mmap_sys::MADV_SEQUENTIAL, "MADV_SEQUENTIAL"),
            Advice::WillNeed => (mmap_sys::MADV_WILLNEED, "MADV_WILLNEED"),
            #[cfg(mman_has = "MADV_DONTFORK")]
            Advice::DontFork => (mmap_sys::MADV_DONTFORK, "MADV_DONTFORK"),
            #[cfg(mman_has = "MADV_DOFORK")]
            Advice::DoFork => (mmap_sys::MADV_DOFORK, "MADV_DOFORK"),
            #[cfg(mman_has = "MADV_MERGEABLE")]
            Advice::Mergeable => (mmap_sys::MADV_MERGEABLE, "MADV_MERGEABLE"),
            #[cfg(mman_has = "MADV_UNMERGEABLE")]
            Advice::Unmergeable => (mmap_sys::MADV_UNMERGEABLE, "MADV_UNMERGEABLE"),
            #[cfg(mman_has = "MADV_HUGEPAGE")]
            Advice::HugePage => (mmap_sys::MADV_HUGEPAGE, "MADV_HUGEPAGE"),
            #[cfg(mman_has = "MADV_NOHUGEPAGE")]
            Advice::NoHugePage => (mmap_sys::MADV_NOHUGEPAGE, "MADV_NOHUGEPAGE"),
            #[cfg(mman_has = "MADV_DONTDUMP")]
            Advice::DontDump => (mmap_sys::MADV_DONTDUMP, "MADV_DONTDUMP"),
            #[cfg(mman_has = "MADV_DODUMP")]
            Advice::DoDump => (mmap_sys::MADV_DODUMP, "MADV_DODUMP"),
            #[cfg(mman_has = "MADV_KEEPONFORK")]
            Advice::KeepOnFork => (mmap_sys::MADV_KEEPONFORK, "MADV_KEEPONFORK"),
            #[cfg(mman_has = "MADV_COLD")]
            Advice::Cold => (mmap_sys::MADV_COLD, "MADV_COLD"),
            #[cfg(mman_has = "MADV_PAGEOUT")]
            Advice::PageOut => (mmap_sys::MADV_PAGEOUT, "MADV_PAGEOUT"),
            #[cfg(mman_has = "MADV_POPULATE_READ")]
            Advice::PopulateRead => (mmap_sys::MADV_POPULATE_READ, "MADV_POPULATE_READ"),
            #[cfg(mman_has = "MADV_POPULATE_WRITE")]
            Advice::PopulateWrite => (mmap_sys::MADV_POPULATE_WRITE, "MADV_POPULATE_WRITE"),
            #[cfg(mman_has = "MADV_COLLAPSE")]
            Advice::Collapse => (mmap_sys::MADV_COLLAPSE, "MADV_COLLAPSE"),
        }
    }

    /// Whether the running kernel knows this advice. The headers a program was built with and the
    /// kernel it runs on are different things: an advice newer than the kernel is refused with
    /// `EINVAL`, which the `advise` calls report as [`ErrorKind::Unsupported`](std::io::ErrorKind).
    ///
    /// Calls `madvise(NULL, 0, advice)`, which touches no memory: Linux checks the advice before
    /// anything else.
    ///
    /// ```
    /// use mmap::Advice;
    ///
    /// assert!(Advice::Sequential.is_supported());
    /// ```
    pub fn is_supported(self) -> bool {
        sys::madvise_supported(self.raw().0)
    }
}

/// Advice that can change what safe code reads from a map (dropped pages read back as zeroes or as
/// the file's contents), so it is given only through the `unsafe fn unchecked_advise` methods, such
/// as [`MmapMut::unchecked_advise`](crate::MmapMut::unchecked_advise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UncheckedAdvice {
    /// Drop the pages: the next read of a private map sees the file's contents or zeroes, not what was written.
    ///
    /// [`MADV_DONTNEED`](mmap_sys::MADV_DONTNEED).
    DontNeed,
    /// Let the kernel free the pages lazily: a later read may see zeroes (Linux 4.5).
    ///
    /// [`MADV_FREE`](mmap_sys::MADV_FREE).
    #[cfg(mman_has = "MADV_FREE")]
    Free,
    /// Free the pages and their backing store: reads see zeroes (Linux 2.6.16).
    ///
    /// [`MADV_REMOVE`](mmap_sys::MADV_REMOVE).
    #[cfg(mman_has = "MADV_REMOVE")]
    Remove,
    /// A child made by `fork` sees zeroes in this range (Linux 4.14).
    ///
    /// [`MADV_WIPEONFORK`](mmap_sys::MADV_WIPEONFORK).
    #[cfg(mman_has = "MADV_WIPEONFORK")]
    WipeOnFork,
    /// `DontNeed` that also drops locked pages (Linux 5.18).
    ///
    /// [`MADV_DONTNEED_LOCKED`](mmap_sys::MADV_DONTNEED_LOCKED).
    #[cfg(mman_has = "MADV_DONTNEED_LOCKED")]
    DontNeedLocked,
    /// Poison the pages as if the hardware had failed (needs `CAP_SYS_ADMIN`; for testing).
    ///
    /// [`MADV_HWPOISON`](mmap_sys::MADV_HWPOISON).
    #[cfg(mman_has = "MADV_HWPOISON")]
    HwPoison,
    /// Migrate the contents and retire the pages (needs `CAP_SYS_ADMIN`; for testing).
    ///
    /// [`MADV_SOFT_OFFLINE`](mmap_sys::MADV_SOFT_OFFLINE).
    #[cfg(mman_has = "MADV_SOFT_OFFLINE")]
    SoftOffline,
}

impl UncheckedAdvice {
    /// Every variant the host's headers define.
    pub const ALL: &'static [UncheckedAdvice] = &[
        UncheckedAdvice::DontNeed,
        #[cfg(mman_has = "MADV_FREE")]
        UncheckedAdvice::Free,
        #[cfg(mman_has = "MADV_REMOVE")]
        UncheckedAdvice::Remove,
        #[cfg(mman_has = "MADV_WIPEONFORK")]
        UncheckedAdvice::WipeOnFork,
        #[cfg(mman_has = "MADV_DONTNEED_LOCKED")]
        UncheckedAdvice::DontNeedLocked,
        #[cfg(mman_has = "MADV_HWPOISON")]
        UncheckedAdvice::HwPoison,
        #[cfg(mman_has = "MADV_SOFT_OFFLINE")]
        UncheckedAdvice::SoftOffline,
    ];

    /// The advice's `MADV_` constant, and its C name.
    pub(crate) fn raw(self) -> (c_int, &'static str) {
        match self {
            UncheckedAdvice::DontNeed => (mmap_sys::MADV_DONTNEED, "MADV_DONTNEED"),
            #[cfg(mman_has = "MADV_FREE")]
            UncheckedAdvice::Free => (mmap_sys::MADV_FREE, "MADV_FREE"),
            #[cfg(mman_has = "MADV_REMOVE")]
            UncheckedAdvice::Remove => (mmap_sys::MADV_REMOVE, "MADV_REMOVE"),
            #[cfg(mman_has = "MADV_WIPEONFORK")]
            UncheckedAdvice::WipeOnFork => (mmap_sys::MADV_WIPEONFORK, "MADV_WIPEONFORK"),
            #[cfg(mman_has = "MADV_DONTNEED_LOCKED")]
            UncheckedAdvice::DontNeedLocked => (mmap_sys::MADV_DONTNEED_LOCKED, "MADV_DONTNEED_LOCKED"),
            #[cfg(mman_has = "MADV_HWPOISON")]
            UncheckedAdvice::HwPoison => (mmap_sys::MADV_HWPOISON, "MADV_HWPOISON"),
            #[cfg(mman_has = "MADV_SOFT_OFFLINE")]
            UncheckedAdvice::SoftOffline => (mmap_sys::MADV_SOFT_OFFLINE, "MADV_SOFT_OFFLINE"),
        }
    }

    /// Whether the running kernel knows this advice: see [`Advice::is_supported`].
    pub fn is_supported(self) -> bool {
        sys::madvise_supported(self.raw().0)
    }
}
