//! Typed flags: each bit is the host's constant from `mmap-sys`, named in its docs.

use std::ffi::c_int;

use mmap_sys as c;

bitflags::bitflags! {
    /// The access a map allows: the `prot` argument of `mmap(2)` and `mprotect(2)`.
    ///
    /// The empty set is `PROT_NONE`: no access at all.
    ///
    /// ```
    /// use mman::Protection;
    ///
    /// let rw = Protection::READ | Protection::WRITE;
    /// assert_eq!(rw.bits(), mmap_sys::PROT_READ | mmap_sys::PROT_WRITE);
    /// assert_eq!(Protection::empty().bits(), mmap_sys::PROT_NONE);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Protection: c_int {
        /// Pages may be read: [`PROT_READ`](mmap_sys::PROT_READ).
        const READ = c::PROT_READ;
        /// Pages may be written: [`PROT_WRITE`](mmap_sys::PROT_WRITE).
        const WRITE = c::PROT_WRITE;
        /// Pages may be executed: [`PROT_EXEC`](mmap_sys::PROT_EXEC).
        const EXEC = c::PROT_EXEC;
    }
}

bitflags::bitflags! {
    /// Extra flags of a new map, added to the `flags` argument of `mmap(2)`. `MmapOptions` sets the
    /// common ones through its methods (`populate`, `stack`, `no_reserve_swap`, `huge`); this type
    /// names them, and [`MmapOptions::flags`](crate::MmapOptions::flags) adds any of them: each is
    /// sound with every other option.
    ///
    /// A flag exists only where the host's headers define its constant. For a flag this type does
    /// not name, [`MapFlags::from_bits_retain`] makes raw bits (e.g. `mmap_sys::MAP_LOCKED`), which
    /// only the `unsafe` [`MmapOptions::flags_unchecked`](crate::MmapOptions::flags_unchecked)
    /// passes to the kernel: that is the escape hatch, and its caller vouches for them.
    ///
    // The example needs `MAP_LOCKED`, which reduced headers (musl's, the tests' fixture) lack.
    #[cfg_attr(mman_has = "MAP_LOCKED", doc = "```")]
    #[cfg_attr(not(mman_has = "MAP_LOCKED"), doc = "```ignore")]
    /// use mman::MapFlags;
    ///
    /// let raw = MapFlags::from_bits_retain(mmap_sys::MAP_LOCKED);
    /// assert_eq!(raw.bits(), mmap_sys::MAP_LOCKED);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct MapFlags: c_int {
        /// Prefault the page tables when mapping: [`MAP_POPULATE`](mmap_sys::MAP_POPULATE).
        /// Availability: Linux and Android, where the target's headers define it.
        #[cfg(mman_has = "MAP_POPULATE")]
        const POPULATE = c::MAP_POPULATE;
        /// The map is a thread stack: [`MAP_STACK`](mmap_sys::MAP_STACK). Availability: where the
        /// target's headers define it (Linux, Android, the BSDs; not macOS).
        #[cfg(mman_has = "MAP_STACK")]
        const STACK = c::MAP_STACK;
        /// Reserve no swap space: [`MAP_NORESERVE`](mmap_sys::MAP_NORESERVE). Availability: where
        /// the target's headers define it (Linux, Android, macOS, NetBSD, OpenBSD; not FreeBSD).
        #[cfg(mman_has = "MAP_NORESERVE")]
        const NO_RESERVE = c::MAP_NORESERVE;
        /// Back the map with huge pages: [`MAP_HUGETLB`](mmap_sys::MAP_HUGETLB). Availability:
        /// Linux and Android, where the target's headers define it.
        #[cfg(mman_has = "MAP_HUGETLB")]
        const HUGETLB = c::MAP_HUGETLB;
    }
}
