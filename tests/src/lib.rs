//! Conformance of mmap-sys to the C compiler.
//!
//! The build script compiles a C probe over mmap-sys's own `wrapper.h`. This crate exposes what the
//! probe recorded next to what mmap-sys (and, for comparison, the `libc` crate) declares, for the
//! tests in `tests/` and the `constants` example; and, for the tests that build mmap-sys
//! themselves, cargo run inside a test ([`nested`]) and other header sets with what their C
//! compiler says of them ([`header_sets`]).

use core::ffi::{c_char, c_void, CStr};
use std::io::Write as _;

mod descriptions;
mod families;
pub mod header_sets;
pub mod nested;

pub use descriptions::describe;
pub use families::FAMILIES;

// The workspace README's examples run as doctests (with mman as a dev-dependency): what it shows
// compiles and works.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

/// The placeholder a name resolves to where a crate lacks it (see [`mmap_sys_values`]).
pub struct Missing;

/// An integer constant of any of the types mmap-sys or `libc` give them, widened to `i64`.
pub trait Value {
    /// The constant's value, or `None` for [`Missing`].
    fn value(self) -> Option<i64>;
}

impl Value for Missing {
    fn value(self) -> Option<i64> {
        None
    }
}

macro_rules! value_from {
    ($($t:ty),*) => {$(
        impl Value for $t {
            fn value(self) -> Option<i64> {
                Some(i64::from(self))
            }
        }
    )*};
}
value_from!(i8, u8, i16, u16, i32, u32, i64);

impl Value for u64 {
    fn value(self) -> Option<i64> {
        // Keeps the bit pattern: compared against C's `long long`.
        Some(self as i64)
    }
}

include!(concat!(env!("OUT_DIR"), "/tables.rs"));

/// The functions of mmap-sys beside C's: `prototypes.c`, compiled with `-Werror`, holds each Rust
/// declaration (turned back into C) to the C prototype, and `checked()` gives each function's
/// address through mmap-sys and through C.
pub mod signatures {
    include!(concat!(env!("OUT_DIR"), "/signatures.rs"));
}

#[repr(C)]
struct ProbeConstant {
    name: *const c_char,
    value: i64,
}

extern "C" {
    static mmap_probe_constants: [ProbeConstant; 0];
    static mmap_probe_constants_len: core::ffi::c_ulong;
    fn mmap_probe_map_failed() -> *mut c_void;
}

/// Every constant of the exported families that the C preprocessor lists for `wrapper.h`, with the
/// value the C compiler gives it (as `long long`).
pub fn c_values() -> Vec<(String, i64)> {
    // SAFETY: the probe defines `mmap_probe_constants_len` as the length of the array
    // `mmap_probe_constants`, whose entries hold string literals.
    unsafe {
        let len = mmap_probe_constants_len as usize;
        let first = core::ptr::addr_of!(mmap_probe_constants).cast::<ProbeConstant>();
        (0..len)
            .map(|i| {
                let entry = &*first.add(i);
                let name = CStr::from_ptr(entry.name).to_string_lossy().into_owned();
                (name, entry.value)
            })
            .collect()
    }
}

/// `MAP_FAILED` as the C compiler evaluates it.
pub fn c_map_failed() -> *mut c_void {
    // SAFETY: the probe's function takes nothing and returns a constant.
    unsafe { mmap_probe_map_failed() }
}

/// Whether `rust`, a value of the 32-bit type mmap-sys gives a constant, is what C passes for `c`,
/// the macro's value: the same 32 bits, from a value that has no more than 32.
pub fn same_bits(rust: i64, c: i64) -> bool {
    let fits = i32::try_from(c).is_ok() || u32::try_from(c).is_ok();
    fits && rust as u32 == c as u32
}

/// Says what a test could not check here. Written to the standard error itself, not through
/// `eprintln!`, which the test harness captures: the line shows in `cargo test`'s output although
/// the test passes.
pub fn not_checked(what: &str) {
    let _ = writeln!(std::io::stderr(), "not checked: {what}");
}
