//! The process's mappings as `/proc/self/maps` and `/proc/self/smaps` list them: the one reader and
//! parser of those files, for the checks that ask the kernel what is mapped (where a stack may
//! grow, what backs a map, the size of the pages the kernel mapped).

use std::cell::RefCell;
use std::io::{self, Read};
use std::iter::FilterMap;
use std::str::Lines;
use std::thread::LocalKey;

/// A mapping, as a line of `/proc/self/maps` (or a mapping's first line in `/proc/self/smaps`)
/// gives it: `start-end perms offset dev inode path`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mapping<'a> {
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// The inode of the file mapped; 0 for anonymous memory.
    pub(crate) inode: u64,
    /// The file's path (`/memfd:<name> (deleted)` for a memfd), the kernel's name for the mapping
    /// (`[stack]`, `[heap]`), or empty for anonymous memory. It may hold spaces.
    pub(crate) path: &'a str,
}

impl<'a> Mapping<'a> {
    /// The mapping a line describes; `None` for a line that describes none (the lines of
    /// `/proc/self/smaps` that give a field of the mapping above them).
    pub(crate) fn parse(line: &'a str) -> Option<Mapping<'a>> {
        let mut rest = line;
        let mut field = || {
            let text = rest.trim_start();
            let (field, after) =
                text.split_at(text.find(char::is_whitespace).unwrap_or(text.len()));
            rest = after;
            field
        };
        let (start, end) = field().split_once('-')?;
        let (_perms, _offset, _dev) = (field(), field(), field());
        let inode = field().parse().ok()?;
        Some(Mapping {
            start: usize::from_str_radix(start, 16).ok()?,
            end: usize::from_str_radix(end, 16).ok()?,
            inode,
            path: rest.trim(),
        })
    }
}

/// The mappings of `/proc/self/maps`, lowest address first.
pub(crate) type Mappings<'a> = FilterMap<Lines<'a>, fn(&'a str) -> Option<Mapping<'a>>>;

/// Reads `/proc/self/maps` and gives its mappings to `with`.
pub(crate) fn with_maps<R>(with: impl FnOnce(Mappings<'_>) -> R) -> io::Result<R> {
    with_proc_text(&MAPS, "/proc/self/maps", |maps| {
        with(maps.lines().filter_map(Mapping::parse))
    })
}

/// Reads `/proc/self/smaps` and gives `with` the value of the field `name` (`"VmFlags"`,
/// `"KernelPageSize"`) of the mapping that starts at `start`, trimmed (`None` where that mapping
/// has no such field). `Ok(None)` when no mapping starts there. Slow: the kernel counts every page
/// of every mapping to write the file.
pub(crate) fn with_smaps_field<R>(
    start: usize,
    name: &str,
    with: impl FnOnce(Option<&str>) -> R,
) -> io::Result<Option<R>> {
    with_proc_text(&SMAPS, "/proc/self/smaps", |smaps| {
        let mut lines = smaps
            .lines()
            .skip_while(|line| Mapping::parse(line).map_or(true, |mapping| mapping.start != start));
        lines.next()?;
        let value = lines
            .take_while(|line| Mapping::parse(line).is_none())
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'));
        Some(with(value.map(str::trim)))
    })
}

/// What backs a mapping, as its line of `/proc/self/maps` says.
#[cfg(mman_has = "MREMAP_MAYMOVE")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backing {
    /// Anonymous memory, private to this process: inode 0 and no file name (an anonymous shared
    /// map shows `/dev/zero`).
    Anonymous,
    /// A memfd: the kernel names it `/memfd:<name> (deleted)`.
    Memfd,
    /// Any other file.
    Other,
}

/// What backs the mapping holding `addr`; `None` when it cannot be told (no `/proc`, or nothing
/// mapped there).
#[cfg(mman_has = "MREMAP_MAYMOVE")]
pub(crate) fn backing(addr: usize) -> Option<Backing> {
    let backing = with_maps(|mut mappings| {
        let mapping = mappings.find(|mapping| (mapping.start..mapping.end).contains(&addr))?;
        Some(match mapping {
            Mapping {
                inode: 0, path: "", ..
            } => Backing::Anonymous,
            _ if mapping.path.starts_with("/memfd:") => Backing::Memfd,
            _ => Backing::Other,
        })
    });
    backing.ok().flatten()
}

thread_local! {
    /// The text of `/proc/self/maps` and `/proc/self/smaps`, in buffers each thread keeps: once
    /// they have grown, the checks allocate nothing, and leave the allocator's own mappings alone
    /// (musl's allocator maps and keeps areas for new allocations of that size).
    static MAPS: RefCell<String> = const { RefCell::new(String::new()) };
    static SMAPS: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Reads the file at `path` into `buffer` and gives its text to `with`; into a new buffer where
/// this thread's cannot be used: in use already, or gone with the thread's other locals (a map
/// dropped by a thread-local's destructor).
fn with_proc_text<R>(
    buffer: &'static LocalKey<RefCell<String>>,
    path: &str,
    with: impl FnOnce(&str) -> R,
) -> io::Result<R> {
    let read = |text: &mut String| -> io::Result<R> {
        text.clear();
        std::fs::File::open(path)?.read_to_string(text)?;
        Ok(with(text))
    };
    let usable = buffer
        .try_with(|buffer| buffer.try_borrow_mut().is_ok())
        .unwrap_or(false);
    if usable {
        buffer.with(|buffer| read(&mut buffer.borrow_mut()))
    } else {
        read(&mut String::new())
    }
}

#[cfg(test)]
mod tests {
    use super::Mapping;

    #[test]
    fn parse_reads_every_kind_of_line() {
        let parse = |line| Mapping::parse(line).map(|m| (m.start, m.end, m.inode, m.path));
        assert_eq!(
            parse("b7a00000-b7a01000 r--p 00000000 fd:01 1234   /usr/lib/a file (x).so"),
            Some((0xb7a00000, 0xb7a01000, 1234, "/usr/lib/a file (x).so"))
        );
        assert_eq!(
            parse("a0000000-a0200000 rw-s 00000000 00:01 42 /memfd:a name (deleted)"),
            Some((0xa0000000, 0xa0200000, 42, "/memfd:a name (deleted)"))
        );
        assert_eq!(
            parse("bffdf000-c0000000 rw-p 00000000 00:00 0                  [stack]"),
            Some((0xbffdf000, 0xc0000000, 0, "[stack]"))
        );
        // Anonymous memory: no path, and on some kernels no space after the inode.
        assert_eq!(
            parse("10000-11000 ---p 00000000 00:00 0"),
            Some((0x10000, 0x11000, 0, ""))
        );
        // An address as wide as the kernel's: a mapping where `usize` holds it.
        let vsyscall = "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0   [vsyscall]";
        #[cfg(target_pointer_width = "64")]
        assert_eq!(
            parse(vsyscall),
            Some((0xffffffffff600000, 0xffffffffff601000, 0, "[vsyscall]"))
        );
        #[cfg(not(target_pointer_width = "64"))]
        assert_eq!(parse(vsyscall), None);
        // The field lines of /proc/self/smaps describe no mapping.
        assert_eq!(parse("VmFlags: rd wr mr mw me ac sd"), None);
        assert_eq!(parse("KernelPageSize:        4 kB"), None);
        assert_eq!(parse(""), None);
    }
    #[test]
    #[cfg(all(mman_memfd, mman_has = "MREMAP_MAYMOVE"))]
    fn backing_tells_a_memfd() {
        use super::{backing, Backing};
        let memory = crate::SharedMemory::create("a name with spaces", 4096).unwrap();
        let map = memory.map_raw().unwrap();
        assert_eq!(backing(map.as_ptr() as usize + 100), Some(Backing::Memfd));
    }
}
