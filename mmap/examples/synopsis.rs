//! The synopsis of the Raku module this project started from, in Rust: map the first 50 bytes of
//! mman's own `Cargo.toml` (packaged with the crate), read-only and shared, and print them as text.
//!
//! Run: `cargo run --example synopsis`.

use std::fs::File;

use mman::MmapOptions;

fn main() -> std::io::Result<()> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let file = File::open(path)?;
    // No more than the file holds: a map's bytes past the end of its file cannot be read.
    let len = file.metadata()?.len().min(50) as usize;
    // SAFETY: nothing writes or truncates Cargo.toml while this example runs.
    let map = unsafe { MmapOptions::new().len(len).map(&file)? };
    println!("{}", String::from_utf8_lossy(&map));
    Ok(())
}
