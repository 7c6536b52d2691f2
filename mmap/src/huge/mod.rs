//! Huge pages: the size of a new map's pages, as its options ask for them or its file has them,
//! and, where the host's headers encode sizes in the flags of `mmap` (`MAP_HUGE_SHIFT` and
//! `MAP_HUGE_MASK`: `cfg(mman_huge)`), the sizes and the system's pools of each (`sizes.rs`:
//! [`HugePageSize`], [`HugePagePool`]).

use std::ffi::c_int;
use std::io;

#[cfg(mman_huge)]
use crate::error::invalid;
use crate::flags::MapFlags;
use crate::sys::MapFd;
#[cfg(mman_huge)]
use mmap_sys as c;

#[cfg(mman_huge)]
pub(crate) mod sizes;

#[cfg(mman_huge)]
use sizes::HugePageSize;

/// The huge pages asked for with `MmapOptions::huge` or `MmapOptions::huge_page_size`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Huge {
    /// None asked for (a file on hugetlbfs, or `MAP_HUGETLB` in the flags, still has them).
    #[default]
    Off,
    /// Of the system's default size: `huge(None)`.
    #[cfg(mman_huge)]
    DefaultSize,
    /// Of `2^bits` bytes: `huge(Some(bits))`.
    #[cfg(mman_huge)]
    Bits(u8),
}

/// The size of the huge pages a new map will have, if any, checked: one the system offers, with
/// the offset a multiple of it. For anonymous memory, the size asked for (`huge`, the options'
/// `MmapOptions::huge`), or with `MAP_HUGETLB` in the safe `flags` or the `raw_flags` (its
/// `MAP_HUGETLB | MAP_HUGE_*` flags go to `mmap`); for a file, the size of its file system's pages
/// if that is hugetlbfs, which the kernel uses whatever the flags say. `MAP_NORESERVE` from the
/// safe flags is refused with huge pages.
#[cfg(mman_huge)]
pub(crate) fn page_size_of_map(
    huge: Huge,
    flags: MapFlags,
    raw_flags: c_int,
    offset: u64,
    fd: Option<MapFd<'_>>,
) -> io::Result<Option<HugePageSize>> {
    let all = flags.bits() | raw_flags;
    let asked = match huge {
        Huge::Off if all & c::MAP_HUGETLB != 0 => {
            // The size field of raw flags, or (0) the default size.
            match (all as u32 >> c::MAP_HUGE_SHIFT) & c::MAP_HUGE_MASK as u32 {
                0 => Huge::DefaultSize,
                bits => Huge::Bits(bits as u8),
            }
        }
        huge => huge,
    };
    let asked = match asked {
        Huge::Off => None,
        Huge::DefaultSize => Some(HugePageSize::system_default_body()?),
        Huge::Bits(bits) => Some(
            1u64.checked_shl(u32::from(bits))
                .and_then(HugePageSize::from_bytes)
                .ok_or_else(|| {
                    invalid(format_args!(
                        "huge page size 2^{bits} cannot be encoded in the flags of mmap"
                    ))
                })?,
        ),
    };
    let size = match fd {
        None => asked,
        Some(fd) => {
            let file = fd.hugetlb_page_size()?.and_then(HugePageSize::from_bytes);
            match (asked, file) {
                (Some(asked), None) => {
                    return Err(invalid(format_args!(
                        "huge pages of {asked}: the file is not on hugetlbfs, and a file \
                             is mapped in its file system's pages"
                    )))
                }
                (Some(asked), Some(file)) if asked != file && huge != Huge::Off => {
                    return Err(invalid(format_args!(
                        "huge pages of {asked}: the file's huge pages are {file}"
                    )))
                }
                (_, file) => file,
            }
        }
    };
    let Some(size) = size else {
        return Ok(None);
    };
    #[cfg(mman_has = "MAP_NORESERVE")]
    if flags.contains(MapFlags::NO_RESERVE) {
        return Err(invalid(format_args!(
            "no_reserve_swap (MAP_NORESERVE) with huge pages of {size}: with no huge page \
                 reserved, the first touch of a page none is free for raises SIGBUS"
        )));
    }
    if fd.is_none() {
        size.pool()?;
    }
    if usize::try_from(size.bytes()).is_err() || offset % size.bytes() != 0 {
        return Err(invalid(format_args!(
            "offset {offset} is not a multiple of the huge page size {size}"
        )));
    }
    Ok(Some(size))
}

/// [`page_size_of_map`] without the `MAP_HUGE_*` constants: this build cannot size huge pages, so
/// it cannot record the length the kernel maps with them: `MAP_HUGETLB` and files of hugetlbfs are
/// refused.
#[cfg(not(mman_huge))]
pub(crate) fn page_size_of_map(
    huge: Huge,
    flags: MapFlags,
    raw_flags: c_int,
    _offset: u64,
    fd: Option<MapFd<'_>>,
) -> io::Result<Option<std::convert::Infallible>> {
    // Without the constants nothing can ask for a size.
    let Huge::Off = huge;
    #[cfg(mman_has = "MAP_HUGETLB")]
    let hugetlb_flag = (flags.bits() | raw_flags) & mmap_sys::MAP_HUGETLB != 0;
    #[cfg(not(mman_has = "MAP_HUGETLB"))]
    let hugetlb_flag = {
        let _ = (flags, raw_flags);
        false
    };
    let hugetlb_file = match fd {
        Some(fd) => fd.hugetlb_page_size()?.is_some(),
        None => false,
    };
    if hugetlb_flag || hugetlb_file {
        return Err(crate::error::other(
            io::ErrorKind::Unsupported,
            "huge pages (MAP_HUGETLB, or a file of hugetlbfs) need MAP_HUGE_SHIFT and \
             MAP_HUGE_MASK, which the host's headers lack: this build cannot tell the length \
             the kernel would map",
        ));
    }
    Ok(None)
}
