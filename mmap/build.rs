//! Turns the list of constants the host headers define (from mmap-sys, as `DEP_MMAN_DEFINED`) into
//! `cfg(mman_has = "NAME")` for the constants this crate can do without, so that it compiles on
//! hosts whose headers lack some of them (musl, macOS, older kernels' headers), and sets
//! `cfg(linux_kernel)` for Linux and Android.

/// The constants this crate uses only where the host defines them. Code names them in
/// `#[cfg(mman_has = "...")]`; `rustc-check-cfg` flags a name that is not in this list.
const OPTIONAL: &[&str] = &[
    "MAP_POPULATE",
    "MAP_NORESERVE",
    "MAP_STACK",
    "MAP_LOCKED",
    "MAP_HUGETLB",
    "MAP_HUGE_SHIFT",
    "MAP_HUGE_MASK",
    "MAP_HUGE_16KB",
    "MAP_HUGE_64KB",
    "MAP_HUGE_512KB",
    "MAP_HUGE_1MB",
    "MAP_HUGE_2MB",
    "MAP_HUGE_8MB",
    "MAP_HUGE_16MB",
    "MAP_HUGE_32MB",
    "MAP_HUGE_256MB",
    "MAP_HUGE_512MB",
    "MAP_HUGE_1GB",
    "MAP_HUGE_2GB",
    "MAP_HUGE_16GB",
    "MAP_FIXED_NOREPLACE",
    "MAP_SYNC",
    "MAP_SHARED_VALIDATE",
    "MADV_FREE",
    "MADV_REMOVE",
    "MADV_DONTFORK",
    "MADV_DOFORK",
    "MADV_MERGEABLE",
    "MADV_UNMERGEABLE",
    "MADV_HUGEPAGE",
    "MADV_NOHUGEPAGE",
    "MADV_DONTDUMP",
    "MADV_DODUMP",
    "MADV_WIPEONFORK",
    "MADV_KEEPONFORK",
    "MADV_COLD",
    "MADV_PAGEOUT",
    "MADV_POPULATE_READ",
    "MADV_POPULATE_WRITE",
    "MADV_DONTNEED_LOCKED",
    "MADV_COLLAPSE",
    "MADV_HWPOISON",
    "MADV_SOFT_OFFLINE",
    "MLOCK_ONFAULT",
    "MCL_ONFAULT",
    "MREMAP_MAYMOVE",
    "MFD_CLOEXEC",
    "MFD_ALLOW_SEALING",
    "MFD_HUGETLB",
];

fn main() {
    println!("cargo::rerun-if-env-changed=DEP_MMAN_DEFINED");
    // `cfg(linux_kernel)`: the Linux kernel's calls with no counterpart elsewhere (`process_vm_readv`,
    // memfd seals), for Linux and Android alike.
    println!("cargo::rustc-check-cfg=cfg(linux_kernel)");
    if matches!(std::env::var("CARGO_CFG_TARGET_OS").as_deref(), Ok("linux" | "android")) {
        println!("cargo::rustc-cfg=linux_kernel");
    }
    let values: Vec<String> = OPTIONAL.iter().map(|name| format!("\"{name}\"")).collect();
    println!("cargo::rustc-check-cfg=cfg(mman_has, values({}))", values.join(", "));
    // `--cfg mmap_no_fault_handler` (set by the user, in RUSTFLAGS): checked reads copy through
    // the kernel, and no signal handler is installed (see src/checked_copy/mod.rs).
    println!("cargo::rustc-check-cfg=cfg(mmap_no_fault_handler)");
    let defined = std::env::var("DEP_MMAN_DEFINED").unwrap_or_default();
    let defined: Vec<&str> = defined.split(',').collect();
    for name in OPTIONAL.iter().filter(|name| defined.contains(name)) {
        println!("cargo::rustc-cfg=mman_has=\"{name}\"");
    }

    // The list `mmap::missing_constants()` returns: what this build was made without.
    let missing: Vec<String> =
        OPTIONAL.iter().filter(|name| !defined.contains(name)).map(|name| format!("\"{name}\"")).collect();
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let code = format!("&[{}]\n", missing.join(", "));
    if let Err(error) = std::fs::write(out.join("missing.rs"), code) {
        eprintln!("error: mmap's build script cannot write {}: {error}", out.join("missing.rs").display());
        std::process::exit(1);
    }
}
