//! Huge pages: the sizes the system offers.

use std::io;

/// The default huge page size, from the `Hugepagesize:` line of `/proc/meminfo`.
pub(crate) fn default_huge_page_size() -> io::Result<usize> {
    let meminfo = std::fs::read_to_string("/proc/meminfo")?;
    meminfo
        .lines()
        .find_map(|line| {
            let kib = line.strip_prefix("Hugepagesize:")?.trim().strip_suffix("kB")?.trim();
            kib.parse::<usize>().ok()?.checked_mul(1024)
        })
        .ok_or_else(|| {
            io::Error::new(io::ErrorKind::Unsupported, "huge: /proc/meminfo names no Hugepagesize")
        })
}
