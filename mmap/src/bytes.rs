//! `Mmap` into `bytes::Bytes`, without a copy.

use crate::map::Mmap;

#[cfg_attr(docsrs, doc(cfg(feature = "bytes")))]
impl From<Mmap> for bytes::Bytes {
    /// The map's bytes as a `Bytes` that owns the map (`Bytes::from_owner`): no copy, and the map
    /// is unmapped when the last clone of the `Bytes` is dropped.
    fn from(map: Mmap) -> bytes::Bytes {
        bytes::Bytes::from_owner(map)
    }
}
