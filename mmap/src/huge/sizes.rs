//! The sizes of huge pages the host's headers name ([`HugePageSize`]), and the sizes and pools the
//! system offers ([`HugePagePool`]).

use std::ffi::c_int;
use std::fmt;
use std::io;

use crate::error::{explain, invalid};
use mmap_sys as c;

/// Where Linux lists its huge page pools, one directory per size (`hugepages-2048kB`).
const POOLS: &str = "/sys/kernel/mm/hugepages";

/// The size of a huge page, a power of two: what `MAP_HUGE_*` encodes in the flags of `mmap(2)`
/// (the size's log2, shifted by [`MAP_HUGE_SHIFT`](mmap_sys::MAP_HUGE_SHIFT)).
///
/// Each `MAP_HUGE_*` constant the host's headers define is a constant here, made from that
/// constant's value: [`HugePageSize::HUGE_2MB`] from [`MAP_HUGE_2MB`](mmap_sys::MAP_HUGE_2MB).
/// Which sizes the system can map now is [`HugePageSize::available`]'s answer.
///
/// ```
/// use mman::HugePageSize;
///
/// assert_eq!(HugePageSize::HUGE_2MB.bytes(), 2 << 20);
/// assert_eq!(HugePageSize::HUGE_2MB.flag(), mmap_sys::MAP_HUGE_2MB);
/// assert_eq!(HugePageSize::from_bytes(1 << 30), Some(HugePageSize::HUGE_1GB));
/// assert_eq!(HugePageSize::HUGE_2MB.to_string(), "2 MiB");
/// ```
///
/// Availability: Linux and Android, where the target's headers define `MAP_HUGETLB`,
/// `MAP_HUGE_SHIFT` and `MAP_HUGE_MASK` (Linux's from 3.8); each constant where the headers define
/// its `MAP_HUGE_*`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HugePageSize {
    /// log2 of the size in bytes.
    bits: u8,
}

/// One constant per `MAP_HUGE_*` the headers may define, each present only where they do, and
/// `HugePageSize::DEFINED`, the list of those present.
macro_rules! huge_page_sizes {
    ($($name:ident = $raw:ident if $cfg:literal,)*) => {
        impl HugePageSize {
            $(
                #[doc = concat!(
                    "The size [`", $cfg, "`](mmap_sys::", $cfg, ") encodes. Availability: where \
                     the target's headers define it."
                )]
                #[cfg(mman_has = $cfg)]
                pub const $name: HugePageSize = HugePageSize::from_flag(c::$raw);
            )*

            /// Every size the host's headers name (a `MAP_HUGE_*` constant), smallest first.
            pub const DEFINED: &'static [HugePageSize] = &[$(
                #[cfg(mman_has = $cfg)]
                HugePageSize::$name,
            )*];
        }
    };
}

huge_page_sizes! {
    HUGE_16KB = MAP_HUGE_16KB if "MAP_HUGE_16KB",
    HUGE_64KB = MAP_HUGE_64KB if "MAP_HUGE_64KB",
    HUGE_512KB = MAP_HUGE_512KB if "MAP_HUGE_512KB",
    HUGE_1MB = MAP_HUGE_1MB if "MAP_HUGE_1MB",
    HUGE_2MB = MAP_HUGE_2MB if "MAP_HUGE_2MB",
    HUGE_8MB = MAP_HUGE_8MB if "MAP_HUGE_8MB",
    HUGE_16MB = MAP_HUGE_16MB if "MAP_HUGE_16MB",
    HUGE_32MB = MAP_HUGE_32MB if "MAP_HUGE_32MB",
    HUGE_256MB = MAP_HUGE_256MB if "MAP_HUGE_256MB",
    HUGE_512MB = MAP_HUGE_512MB if "MAP_HUGE_512MB",
    HUGE_1GB = MAP_HUGE_1GB if "MAP_HUGE_1GB",
    HUGE_2GB = MAP_HUGE_2GB if "MAP_HUGE_2GB",
    HUGE_16GB = MAP_HUGE_16GB if "MAP_HUGE_16GB",
}

impl HugePageSize {
    /// The size a `MAP_HUGE_*` flag encodes: bits 26 to 31 of the flags, the size's log2.
    const fn from_flag(flag: c_int) -> HugePageSize {
        HugePageSize {
            bits: ((flag as u32 >> c::MAP_HUGE_SHIFT) & c::MAP_HUGE_MASK as u32) as u8,
        }
    }

    /// The size of `bytes` bytes, if it is a power of two the flags of `mmap(2)` can encode
    /// (`2^1` to `2^63`). Whether the system offers it is another matter: see
    /// [`HugePageSize::available`].
    pub fn from_bytes(bytes: u64) -> Option<HugePageSize> {
        let bits = bytes.trailing_zeros();
        (bytes.is_power_of_two() && bits as c_int <= c::MAP_HUGE_MASK && bits > 0)
            .then_some(HugePageSize { bits: bits as u8 })
    }

    /// The size in bytes.
    pub fn bytes(self) -> u64 {
        1 << self.bits
    }

    /// log2 of the size: 21 for 2 MiB, as `MmapOptions::huge` takes it.
    pub fn log2(self) -> u8 {
        self.bits
    }

    /// The `MAP_HUGE_*` bits of this size, to `|` with [`MAP_HUGETLB`](mmap_sys::MAP_HUGETLB).
    pub fn flag(self) -> c_int {
        ((self.bits as u32) << c::MAP_HUGE_SHIFT) as c_int
    }

    /// The huge page pools the system offers, smallest page first, from `/sys/kernel/mm/hugepages`
    /// (one directory per size, with `nr_hugepages` and `free_hugepages` in it). A size is offered
    /// even when no page of it is reserved: then its pool has `total` 0, and a map of it fails.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// for pool in mman::HugePageSize::available()? {
    ///     println!("{}: {} of {} pages free", pool.size, pool.free, pool.total);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// `Unsupported` when the directory is missing (a kernel without huge pages); otherwise the
    /// error of reading it.
    pub fn available() -> io::Result<Vec<HugePagePool>> {
        crate::error::in_call("HugePageSize::available", Self::available_body)
    }

    /// `available`'s body, for it and the crate's checks.
    pub(crate) fn available_body() -> io::Result<Vec<HugePagePool>> {
        let entries = std::fs::read_dir(POOLS).map_err(|error| {
            let kind = match error.kind() {
                io::ErrorKind::NotFound => io::ErrorKind::Unsupported,
                kind => kind,
            };
            explain(error, kind, format_args!("huge pages: cannot list {POOLS}"))
        })?;
        let mut pools = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|error| {
                crate::error::failed(format_args!("huge pages: listing {POOLS}"), error)
            })?;
            let name = entry.file_name();
            let Some(kib) = name
                .to_str()
                .and_then(|n| n.strip_prefix("hugepages-")?.strip_suffix("kB"))
            else {
                continue;
            };
            let Some(size) = kib
                .parse::<u64>()
                .ok()
                .and_then(|kib| HugePageSize::from_bytes(kib.checked_mul(1024)?))
            else {
                continue;
            };
            let count = |file: &str| -> io::Result<u64> {
                let path = entry.path().join(file);
                let text = std::fs::read_to_string(&path).map_err(|error| {
                    crate::error::failed(
                        format_args!("huge pages: reading {}", path.display()),
                        error,
                    )
                })?;
                text.trim().parse().map_err(|_| {
                    crate::error::other(
                        io::ErrorKind::InvalidData,
                        format_args!("{}: not a count: {text:?}", path.display()),
                    )
                })
            };
            pools.push(HugePagePool {
                size,
                total: count("nr_hugepages")?,
                free: count("free_hugepages")?,
            });
        }
        pools.sort_by_key(|pool| pool.size);
        Ok(pools)
    }

    /// The system's default huge page size, which `MAP_HUGETLB` without a size gets: the
    /// `Hugepagesize:` line of `/proc/meminfo`.
    ///
    /// # Errors
    ///
    /// `Unsupported` when `/proc/meminfo` names none; otherwise the error of reading it.
    pub fn system_default() -> io::Result<HugePageSize> {
        crate::error::in_call("HugePageSize::system_default", Self::system_default_body)
    }

    /// `system_default`'s body, for it and the crate's checks.
    pub(crate) fn system_default_body() -> io::Result<HugePageSize> {
        let meminfo = std::fs::read_to_string("/proc/meminfo")
            .map_err(|error| crate::error::failed("huge pages: reading /proc/meminfo", error))?;
        meminfo
            .lines()
            .find_map(|line| {
                let kib = line
                    .strip_prefix("Hugepagesize:")?
                    .trim()
                    .strip_suffix("kB")?
                    .trim();
                HugePageSize::from_bytes(kib.parse::<u64>().ok()?.checked_mul(1024)?)
            })
            .ok_or_else(|| {
                crate::error::other(
                    io::ErrorKind::Unsupported,
                    "huge pages: /proc/meminfo names no Hugepagesize",
                )
            })
    }

    /// The pool of this size, checked before a map: the system must offer the size.
    pub(crate) fn pool(self) -> io::Result<HugePagePool> {
        let pools = HugePageSize::available_body()?;
        pools
            .iter()
            .find(|pool| pool.size == self)
            .copied()
            .ok_or_else(|| {
                let offered: Vec<String> = pools.iter().map(|pool| pool.size.to_string()).collect();
                invalid(format_args!(
                    "huge page size {self} is not one this system offers ({POOLS}: {})",
                    if offered.is_empty() {
                        "none".to_owned()
                    } else {
                        offered.join(", ")
                    }
                ))
            })
    }

    /// The directory of this size's pool, for messages.
    pub(crate) fn pool_dir(self) -> String {
        format!("{POOLS}/hugepages-{}kB", self.bytes() / 1024)
    }
}

impl fmt::Display for HugePageSize {
    /// `64 KiB`, `2 MiB`, `1 GiB`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (unit, shift) = match self.bits {
            0..=9 => ("bytes", 0),
            10..=19 => ("KiB", 10),
            20..=29 => ("MiB", 20),
            30..=39 => ("GiB", 30),
            _ => ("TiB", 40),
        };
        write!(f, "{} {unit}", self.bytes() >> shift)
    }
}

impl fmt::Debug for HugePageSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HugePageSize({self})")
    }
}

/// A pool of huge pages of one size, as `/sys/kernel/mm/hugepages` reports it: see
/// [`HugePageSize::available`].
///
/// Most systems reserve no huge page by default: every pool is then empty (`total` 0), and a map
/// of huge pages fails with `OutOfMemory`. A program that can do without them checks first:
///
/// ```
/// use std::io::ErrorKind;
/// use mman::{HugePageSize, MmapOptions};
///
/// # fn main() -> std::io::Result<()> {
/// let pools = match HugePageSize::available() {
///     Ok(pools) => pools,
///     Err(error) if error.kind() == ErrorKind::Unsupported => Vec::new(), // no huge pages at all
///     Err(error) => return Err(error),
/// };
/// for pool in &pools {
///     println!("{}: {} of {} pages free", pool.size, pool.free, pool.total);
/// }
/// let huge = match pools.iter().find(|pool| pool.free > 0) {
///     Some(pool) => MmapOptions::new().len(1).huge_page_size(pool.size).map_anon(),
///     // None reserved: as root, `echo 8 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages`.
///     None => Err(ErrorKind::OutOfMemory.into()),
/// };
/// let memory = match huge {
///     Ok(map) => map, // one whole huge page: `map.len()` is the pool's page size
///     // No huge page free (or taken meanwhile by another process): regular pages will do.
///     Err(error) if error.kind() == ErrorKind::OutOfMemory => {
///         MmapOptions::new().len(1).map_anon()?
///     }
///     Err(error) => return Err(error),
/// };
/// assert!(memory.len() >= 1);
/// # Ok(())
/// # }
/// ```
///
/// Availability: as [`HugePageSize`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HugePagePool {
    /// The size of its pages.
    pub size: HugePageSize,
    /// Pages reserved (`nr_hugepages`): set by the administrator, e.g.
    /// `echo 64 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages`.
    pub total: u64,
    /// Pages not yet in use (`free_hugepages`).
    pub free: u64,
}

/// A failed huge page map, explained: with no free page in the pool, `mmap` fails with `ENOMEM`,
/// which says nothing of huge pages.
pub(crate) fn explain_map_error(size: HugePageSize, error: io::Error) -> io::Error {
    match size.pool() {
        Ok(pool) if error.kind() == io::ErrorKind::OutOfMemory => {
            let why = format!(
                "not enough free huge pages of {size} ({} free of {} reserved; reserve \
                 more in {}/nr_hugepages)",
                pool.free,
                pool.total,
                size.pool_dir()
            );
            explain(error, io::ErrorKind::OutOfMemory, why)
        }
        _ => error,
    }
}
