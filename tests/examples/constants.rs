//! Prints every memory-mapping constant of the host's headers, as mmap-sys exports it: its value
//! in decimal and hex, what it does, and the `libc` crate's value ("missing in libc" where that
//! crate lacks it).
//!
//! Run from the workspace root: `cargo run --example constants`.

use std::collections::BTreeMap;

use mmap_conformance::{describe, libc_values, mmap_sys_values, same_bits};

fn main() {
    let libc: BTreeMap<&str, Option<i64>> = libc_values().into_iter().collect();
    let mut lacking = Vec::new();
    let mut differing = Vec::new();

    println!(
        "{:<22} {:>12} {:>12}  {:<44} libc crate",
        "constant", "value", "hex", "what it does"
    );
    for (name, value) in mmap_sys_values() {
        let Some(value) = value else { continue };
        // The 32 bits C passes, which is what `libc` is compared on.
        let bits = value as u32;
        let libc_column = match libc.get(name).copied().flatten() {
            None => {
                lacking.push(name);
                "missing in libc".to_owned()
            }
            Some(theirs) if !same_bits(value, theirs) => {
                differing.push(name);
                format!("{theirs} (differs!)")
            }
            Some(theirs) => theirs.to_string(),
        };
        let what = describe(name).unwrap_or("");
        println!("{name:<22} {value:>12} {bits:>#12x}  {what:<44} {libc_column}");
    }
    println!();
    println!(
        "libc crate lacks {} of these on this host: {}",
        lacking.len(),
        lacking.join(", ")
    );
    if differing.is_empty() {
        println!("libc crate has the same value for every other one");
    } else {
        println!(
            "libc crate has another value for {}: {}",
            differing.len(),
            differing.join(", ")
        );
    }
}
