//! `MmapReader`: `io::Read` and `io::Seek` over a map, by checked copies.

use std::io::{self, Read, Seek, SeekFrom};

use crate::checked_copy::Via;
use crate::error::invalid;
use crate::inner::MmapInner;

/// A reader of a map's bytes, made by [`Mmap::reader`](crate::Mmap::reader) (and the same method
/// of [`MmapMut`](crate::MmapMut) and [`MmapRaw`](crate::MmapRaw)). It reads as a file does, with
/// a position that [`Seek`] moves, but from the map, by the checked copy of
/// [`Mmap::read_at`](crate::Mmap::read_at): where the file was truncated under the map (a log
/// rotated or cut short), a read returns the bytes before the cut (a short read), and the next
/// read an [`UnexpectedEof`](io::ErrorKind::UnexpectedEof) error. It never kills the process with
/// `SIGBUS`, and on x86-64 and aarch64 Linux makes no system call (on x86-64 it costs what a copy
/// out of the slice costs).
///
/// Past the end of the map a read returns 0, as at the end of a file; seeking there is allowed.
///
/// The reader borrows the map: a map cannot be resized (or dropped) while a reader of it lives.
///
// The example needs `remap`, which headers without `MREMAP_MAYMOVE` lack.
#[cfg_attr(mman_has = "MREMAP_MAYMOVE", doc = "```compile_fail,E0502")]
#[cfg_attr(not(mman_has = "MREMAP_MAYMOVE"), doc = "```ignore")]
/// # fn main() -> std::io::Result<()> {
/// let mut memory = mman::MmapMut::map_anon(4096)?;
/// let reader = memory.reader();
/// // error[E0502]: `memory` is borrowed by the reader
/// memory.remap(4096 * 16, mman::RemapOptions::new().may_move(true))?;
/// println!("{}", reader.position());
/// # Ok(())
/// # }
/// ```
///
/// ```
/// use std::io::{BufRead, BufReader, Write};
///
/// # fn main() -> std::io::Result<()> {
/// let mut file = tempfile::tempfile()?;
/// file.write_all(b"first\nsecond\n")?;
/// // SAFETY: nothing writes the temporary file while the map lives; were it truncated, the reader
/// // would return an error rather than crash.
/// let map = unsafe { mman::Mmap::map(&file)? };
/// let lines: Vec<String> = BufReader::new(map.reader()).lines().collect::<Result<_, _>>()?;
/// assert_eq!(lines, ["first", "second"]);
/// # Ok(())
/// # }
/// ```
pub struct MmapReader<'a> {
    inner: &'a MmapInner,
    position: u64,
}

impl<'a> MmapReader<'a> {
    pub(crate) fn new(inner: &'a MmapInner) -> Self {
        MmapReader { inner, position: 0 }
    }

    /// The position of the next read, in bytes from the start of the map.
    pub fn position(&self) -> u64 {
        self.position
    }
}

impl std::fmt::Debug for MmapReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MmapReader")
            .field("ptr", &self.inner.ptr())
            .field("len", &self.inner.len())
            .field("position", &self.position)
            .finish()
    }
}

impl Read for MmapReader<'_> {
    /// Copies up to `buf.len()` bytes from the position, checked, and moves the position past
    /// them.
    ///
    /// # Errors
    ///
    /// As [`Mmap::read_at`](crate::Mmap::read_at): `UnexpectedEof` when the byte at the position
    /// cannot be read (the file was truncated before it, or its page is not readable); bytes
    /// before such a byte are returned first, as a short read. Past the end of the map: `Ok(0)`.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let start = match usize::try_from(self.position) {
            Ok(start) if start < self.inner.len() => start,
            _ => return Ok(0),
        };
        let copied = self
            .inner
            .read_at(buf, start, Via::Fastest, "MmapReader::read")?;
        self.position += copied as u64;
        Ok(copied)
    }
}

impl Seek for MmapReader<'_> {
    /// Moves the position: from the start, the end of the map, or the current position.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a position before the start, or past `u64::MAX`.
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        crate::error::in_call("MmapReader::seek", || {
            let (base, delta) = match pos {
                SeekFrom::Start(to) => (to, 0),
                SeekFrom::End(delta) => (self.inner.len() as u64, delta),
                SeekFrom::Current(delta) => (self.position, delta),
            };
            let to = base.checked_add_signed(delta).ok_or_else(|| {
                invalid(format_args!(
                    "{pos:?} from {base} is before the start of the map or past u64::MAX"
                ))
            })?;
            self.position = to;
            Ok(to)
        })
    }

    fn stream_position(&mut self) -> io::Result<u64> {
        Ok(self.position)
    }
}
