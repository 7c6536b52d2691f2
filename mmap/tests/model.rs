//! The model test: random sequences of operations on maps of one file (map with a random offset,
//! length and sharing, write, flush, advise, read, protect, remap, grow the file, drop), run
//! against a plain `Vec<u8>` model of the file. After every operation each live map reads what the
//! model says and the file (through `pread`) is the model; an operation fails exactly when the
//! model says its input is invalid, with `InvalidInput`.

mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;

use proptest::prelude::*;

#[cfg(mman_has = "MREMAP_MAYMOVE")]
use mman::RemapOptions;
use mman::{page_size, Advice, Mmap, MmapMut, MmapOptions};

#[derive(Debug, Clone)]
enum Op {
    /// `MmapOptions::new().offset(offset)[.len(len)]`, shared (`map_mut`) or private (`map_copy`).
    Map {
        offset: u64,
        len: Option<usize>,
        private: bool,
    },
    /// Writes `n` bytes of `byte` at `at` (wrapped into the writable part of the map).
    Write {
        map: usize,
        at: usize,
        n: usize,
        byte: u8,
    },
    Flush {
        map: usize,
        offset: usize,
        len: usize,
    },
    Advise {
        map: usize,
        advice: usize,
        offset: usize,
        len: usize,
    },
    ReadAt {
        map: usize,
        offset: usize,
        len: usize,
    },
    /// `make_read_only`, or `make_mut` of a read-only map.
    Protect {
        map: usize,
    },
    #[cfg_attr(not(mman_has = "MREMAP_MAYMOVE"), allow(dead_code))]
    Remap {
        map: usize,
        new_len: usize,
    },
    /// Extends the file by `by` bytes (zeros); shrinking it would raise `SIGBUS`, on purpose not
    /// done.
    Grow {
        by: u64,
    },
    Drop {
        map: usize,
    },
}

const ADVICE: [Advice; 4] = [
    Advice::Normal,
    Advice::Random,
    Advice::Sequential,
    Advice::WillNeed,
];

/// The operations, with offsets and lengths that reach past the first four pages of the file
/// whatever the page size.
fn op() -> impl Strategy<Value = Op> {
    let page = page_size();
    let span = 4 * page + 200;
    prop_oneof![
        3 => (0..span as u64, prop::option::weighted(0.5, 0..span), any::<bool>())
            .prop_map(|(offset, len, private)| Op::Map { offset, len, private }),
        3 => (any::<usize>(), any::<usize>(), 1..300usize, any::<u8>())
            .prop_map(|(map, at, n, byte)| Op::Write { map, at, n, byte }),
        1 => (any::<usize>(), 0..span, 0..span)
            .prop_map(|(map, offset, len)| Op::Flush { map, offset, len }),
        1 => (any::<usize>(), 0..4usize, 0..span, 0..span)
            .prop_map(|(map, advice, offset, len)| Op::Advise { map, advice, offset, len }),
        1 => (any::<usize>(), 0..span, 0..600usize)
            .prop_map(|(map, offset, len)| Op::ReadAt { map, offset, len }),
        1 => any::<usize>().prop_map(|map| Op::Protect { map }),
        2 => (any::<usize>(), 0..span).prop_map(|(map, new_len)| Op::Remap { map, new_len }),
        1 => (0..(page + page / 2) as u64).prop_map(|by| Op::Grow { by }),
        1 => any::<usize>().prop_map(|map| Op::Drop { map }),
    ]
}

enum Handle {
    Mut(MmapMut),
    ReadOnly(Mmap),
}

/// A live map and what the model knows of it.
struct Live {
    handle: Handle,
    /// The file offset of the map's first byte.
    offset: u64,
    private: bool,
    /// A private map's copied pages, by page index in the file: written pages no longer follow the
    /// file.
    copies: BTreeMap<u64, Vec<u8>>,
    /// Whether advice on part of the map may have split it in the kernel, which `remap` refuses.
    split: bool,
}

impl Live {
    fn bytes(&self) -> &[u8] {
        match &self.handle {
            Handle::Mut(map) => map,
            Handle::ReadOnly(map) => map,
        }
    }

    fn len(&self) -> usize {
        self.bytes().len()
    }
}

struct Model {
    file: File,
    bytes: Vec<u8>,
    maps: Vec<Live>,
    page: u64,
}

impl Model {
    /// What byte `p` of the file reads as through `live`.
    fn expected(&self, live: &Live, p: u64) -> u8 {
        match live.copies.get(&(p / self.page)) {
            Some(copy) => copy[(p % self.page) as usize],
            None => self.bytes.get(p as usize).copied().unwrap_or(0),
        }
    }

    /// Whether a map from `offset` of `len` bytes stays within the file's last page: past it, a
    /// read raises `SIGBUS`.
    fn backed(&self, offset: u64, len: usize) -> bool {
        len == 0
            || (offset + len as u64 - 1) / self.page < (self.bytes.len() as u64).div_ceil(self.page)
    }

    fn check(&self) {
        let mut on_disk = vec![0u8; self.bytes.len()];
        self.file.read_exact_at(&mut on_disk, 0).unwrap();
        assert!(on_disk == self.bytes, "the file differs from the model");
        for (i, live) in self.maps.iter().enumerate() {
            for (k, &b) in live.bytes().iter().enumerate() {
                let p = live.offset + k as u64;
                assert_eq!(
                    b,
                    self.expected(live, p),
                    "map {i}, byte {k} (file offset {p})"
                );
            }
        }
    }

    /// Runs `op` and checks its outcome against the model's.
    fn apply(&mut self, op: &Op) {
        let n = self.maps.len();
        match *op {
            Op::Map {
                offset,
                len,
                private,
            } => {
                let mut options = MmapOptions::new();
                options.offset(offset);
                if let Some(len) = len {
                    options.len(len);
                }
                // SAFETY: the file is this test's alone; it only grows, and the maps that reach
                // past its last page are dropped unread.
                let result = unsafe {
                    if private {
                        options.map_copy(&self.file)
                    } else {
                        options.map_mut(&self.file)
                    }
                };
                let file_len = self.bytes.len() as u64;
                if len.is_none() && offset > file_len {
                    assert_eq!(result.unwrap_err().kind(), ErrorKind::InvalidInput);
                    return;
                }
                let map = result.unwrap();
                assert_eq!(
                    map.len(),
                    len.unwrap_or((file_len - offset.min(file_len)) as usize)
                );
                if self.backed(offset, map.len()) {
                    self.maps.push(Live {
                        handle: Handle::Mut(map),
                        offset,
                        private,
                        copies: BTreeMap::new(),
                        split: false,
                    });
                }
            }
            Op::Write {
                map,
                at,
                n: count,
                byte,
            } if n > 0 => {
                let i = map % n;
                let page = self.page;
                let file_len = self.bytes.len() as u64;
                let live = &self.maps[i];
                // Shared maps write within the file only: bytes past its end are not the file's.
                let limit = if live.private {
                    live.len()
                } else {
                    (file_len.saturating_sub(live.offset) as usize).min(live.len())
                };
                if limit == 0 || !matches!(live.handle, Handle::Mut(_)) {
                    return;
                }
                let start = at % limit;
                let end = (start + count).min(limit);
                let offset = live.offset;
                for k in start..end {
                    let p = offset + k as u64;
                    if self.maps[i].private {
                        let index = p / page;
                        if !self.maps[i].copies.contains_key(&index) {
                            let copy = (index * page..(index + 1) * page)
                                .map(|q| self.bytes.get(q as usize).copied().unwrap_or(0))
                                .collect();
                            self.maps[i].copies.insert(index, copy);
                        }
                        self.maps[i].copies.get_mut(&index).unwrap()[(p % page) as usize] = byte;
                    } else {
                        self.bytes[p as usize] = byte;
                    }
                }
                let Handle::Mut(map) = &mut self.maps[i].handle else {
                    unreachable!()
                };
                map[start..end].fill(byte);
            }
            Op::Flush { map, offset, len } if n > 0 => {
                let live = &self.maps[map % n];
                let valid = offset.checked_add(len).is_some_and(|end| end <= live.len());
                if let Handle::Mut(map) = &live.handle {
                    expect(map.flush_range(offset, len), valid);
                }
            }
            Op::Advise {
                map,
                advice,
                offset,
                len,
            } if n > 0 => {
                let live = &self.maps[map % n];
                let valid = offset.checked_add(len).is_some_and(|end| end <= live.len());
                let result = match &live.handle {
                    Handle::Mut(map) => map.advise_range(ADVICE[advice], offset, len),
                    Handle::ReadOnly(map) => map.advise_range(ADVICE[advice], offset, len),
                };
                // `Normal`, `Random` and `Sequential` are flags of the kernel's VMA: given to part
                // of the map, they split it.
                let splits =
                    valid && ADVICE[advice] != Advice::WillNeed && (offset, len) != (0, live.len());
                expect(result, valid);
                if splits {
                    self.maps[map % n].split = true;
                }
            }
            Op::ReadAt { map, offset, len } if n > 0 => {
                let live = &self.maps[map % n];
                let mut buf = vec![0u8; len];
                let result = match &live.handle {
                    Handle::Mut(map) => map.read_at(&mut buf, offset),
                    Handle::ReadOnly(map) => map.read_at(&mut buf, offset),
                };
                // As `pread`: what the map holds from `offset`, 0 at its end and past it.
                let copied = result.unwrap();
                assert_eq!(copied, len.min(live.len().saturating_sub(offset)));
                for (k, &b) in buf[..copied].iter().enumerate() {
                    assert_eq!(b, self.expected(live, live.offset + (offset + k) as u64));
                }
                // `read_exact_at` fills the buffer where `read_at` copies all of it.
                let mut exact = vec![0u8; len];
                let result = match &live.handle {
                    Handle::Mut(map) => map.read_exact_at(&mut exact, offset),
                    Handle::ReadOnly(map) => map.read_exact_at(&mut exact, offset),
                };
                if copied == len {
                    result.unwrap();
                    assert_eq!(exact, buf);
                } else {
                    assert_eq!(result.unwrap_err().kind(), ErrorKind::UnexpectedEof);
                }
            }
            Op::Protect { map } if n > 0 => {
                let i = map % n;
                let handle = std::mem::replace(
                    &mut self.maps[i].handle,
                    Handle::Mut(MmapMut::map_anon(0).unwrap()),
                );
                self.maps[i].handle = match handle {
                    Handle::Mut(map) => Handle::ReadOnly(map.make_read_only().unwrap()),
                    Handle::ReadOnly(map) => Handle::Mut(map.make_mut().unwrap()),
                };
            }
            #[cfg(mman_has = "MREMAP_MAYMOVE")]
            Op::Remap { map, new_len } if n > 0 => {
                let i = map % n;
                let (offset, old_len) = (self.maps[i].offset, self.maps[i].len());
                let valid = new_len > 0 && old_len > 0 && self.backed(offset, new_len);
                let options = RemapOptions::new().may_move(true);
                let result = match &mut self.maps[i].handle {
                    Handle::Mut(map) => map.remap(new_len, options),
                    Handle::ReadOnly(map) => map.remap(new_len, options),
                };
                if matches!(&result, Err(e) if e.kind() == ErrorKind::Unsupported)
                    && self.maps[i].split
                {
                    // Documented: a map split by advice on part of it is not resized.
                    return;
                }
                if matches!(&result, Err(e) if e.kind() == ErrorKind::OutOfMemory)
                    && common::under_valgrind()
                {
                    // Valgrind's mremap cannot move every map; the map is left as it was.
                    return;
                }
                expect(result, valid);
                if valid {
                    // Pages cut off lose their private copies: grown again, they show the file.
                    let last = (offset + new_len as u64 - 1) / self.page;
                    self.maps[i].copies.retain(|&index, _| index <= last);
                }
            }
            Op::Grow { by } => {
                let len = self.bytes.len() as u64 + by;
                self.file.set_len(len).unwrap();
                self.bytes.resize(len as usize, 0);
            }
            Op::Drop { map } if n > 0 => {
                self.maps.swap_remove(map % n);
            }
            _ => {}
        }
    }
}

/// A call succeeds when the model says its input is valid, and fails with `InvalidInput` when not.
#[track_caller]
fn expect(result: std::io::Result<()>, valid: bool) {
    match result {
        Ok(()) => assert!(valid, "succeeded on input the model says is invalid"),
        Err(error) => {
            assert!(!valid, "failed on valid input: {error}");
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
        }
    }
}

proptest! {
    // Failures print their smallest case; nothing is written into the source tree.
    #![proptest_config(ProptestConfig {
        cases: 96,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn maps_of_a_file_always_read_what_the_model_says(
        initial in 1..3 * page_size() + 100,
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let file = tempfile::tempfile().unwrap();
        let bytes: Vec<u8> = (0..initial).map(|i| (i % 253) as u8).collect();
        file.write_all_at(&bytes, 0).unwrap();
        let mut model = Model { file, bytes, maps: Vec::new(), page: page_size() as u64 };
        for op in &ops {
            model.apply(op);
            model.check();
        }
    }
}
