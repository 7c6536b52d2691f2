//! `StableDeref` for the maps that deref to bytes.

use crate::map::{Mmap, MmapMut};

// SAFETY: the bytes live in the mapping, not in the `Mmap`: moving the `Mmap` does not move them.
#[cfg_attr(docsrs, doc(cfg(feature = "stable_deref_trait")))]
unsafe impl stable_deref_trait::StableDeref for Mmap {}
// SAFETY: as for `Mmap`.
#[cfg_attr(docsrs, doc(cfg(feature = "stable_deref_trait")))]
unsafe impl stable_deref_trait::StableDeref for MmapMut {}
