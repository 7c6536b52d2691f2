//! Turns the list of constants the host headers define (from mmap-sys, as `DEP_MMAN_DEFINED`) into
//! `cfg(mman_has = "NAME")` for the constants this crate can do without, so that it compiles on
//! hosts whose headers lack some of them (musl, macOS, older kernels' headers), and names each
//! capability the code asks about once (see [`CAPABILITIES`]), as `cfg(linux_kernel)`,
//! `cfg(mman_huge)` and so on: code says `#[cfg(mman_huge)]`, never the long condition.

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

/// The capabilities the code asks about, each named once: its cfg name, when it is set (the target
/// facts and the `mman_has` constants it needs), and what it means.
struct Capability {
    name: &'static str,
    /// The constants the host's headers must define.
    constants: &'static [&'static str],
    /// The target facts it needs besides, from cargo's `CARGO_CFG_*`.
    target: fn(&Target) -> bool,
}

/// What the build knows of the target.
struct Target {
    os: String,
    arch: String,
    env: String,
    pointer_width: String,
}

impl Target {
    fn linux_kernel(&self) -> bool {
        matches!(self.os.as_str(), "linux" | "android")
    }
}

const CAPABILITIES: &[Capability] = &[
    // The Linux kernel's calls with no counterpart elsewhere (`process_vm_readv`, memfd seals), for
    // Linux and Android alike.
    Capability {
        name: "linux_kernel",
        constants: &[],
        target: Target::linux_kernel,
    },
    // hugetlb maps of a chosen page size (`MAP_HUGETLB | n << MAP_HUGE_SHIFT`): `huge()`,
    // `HugePageSize`.
    Capability {
        name: "mman_huge",
        constants: &["MAP_HUGETLB", "MAP_HUGE_SHIFT", "MAP_HUGE_MASK"],
        target: |_| true,
    },
    // Sealed memory files: `SharedMemory`, `Seals`, `map_sealed`.
    Capability {
        name: "mman_memfd",
        constants: &["MFD_CLOEXEC", "MFD_ALLOW_SEALING"],
        target: Target::linux_kernel,
    },
    // Faulting pages in without a SIGBUS: `populate_read`/`populate_write` (`MADV_POPULATE_*`).
    Capability {
        name: "mman_populate",
        constants: &["MADV_POPULATE_READ", "MADV_POPULATE_WRITE"],
        target: |_| true,
    },
    // Synchronous page faults on DAX files: `dax_sync()` (`MAP_SHARED_VALIDATE | MAP_SYNC`).
    Capability {
        name: "mman_sync",
        constants: &["MAP_SYNC", "MAP_SHARED_VALIDATE"],
        target: |_| true,
    },
    // The targets that have the copy routine with a fault fixup and its SIGBUS/SIGSEGV handler
    // (src/checked_copy): x86-64 and aarch64 Linux and Android, with 64-bit pointers (the routines
    // take their arguments as 64-bit registers; x32 and ILP32 pass 32-bit ones). Whether the build uses it is the code's to say, with the user's
    // `--cfg mman_no_fault_handler`, which this script must not read: Cargo (1.77 at least) does
    // not run a build script again when RUSTFLAGS change in a `--target` build, and a cfg derived
    // from the opt-out would keep the handler the user just turned off.
    Capability {
        name: "fault_fixup_target",
        constants: &[],
        target: |target| {
            matches!(target.arch.as_str(), "x86_64" | "aarch64")
                && target.pointer_width == "64"
                && target.linux_kernel()
        },
    },
    // `statx` in the libc crate (for fs-verity): Linux with glibc or musl.
    Capability {
        name: "libc_statx",
        constants: &[],
        target: |target| target.os == "linux" && matches!(target.env.as_str(), "gnu" | "musl"),
    },
];

fn main() {
    println!("cargo::rerun-if-env-changed=DEP_MMAN_DEFINED");
    let values: Vec<String> = OPTIONAL.iter().map(|name| format!("\"{name}\"")).collect();
    println!(
        "cargo::rustc-check-cfg=cfg(mman_has, values({}))",
        values.join(", ")
    );
    // `--cfg mman_no_fault_handler` (set by the user, in RUSTFLAGS): checked reads copy through
    // the kernel, and no signal handler is installed (see src/checked_copy/mod.rs).
    println!("cargo::rustc-check-cfg=cfg(mman_no_fault_handler)");
    let defined = std::env::var("DEP_MMAN_DEFINED").unwrap_or_default();
    let defined: Vec<&str> = defined.split(',').collect();
    for name in OPTIONAL.iter().filter(|name| defined.contains(name)) {
        println!("cargo::rustc-cfg=mman_has=\"{name}\"");
    }

    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let target = Target {
        os: var("CARGO_CFG_TARGET_OS"),
        arch: var("CARGO_CFG_TARGET_ARCH"),
        env: var("CARGO_CFG_TARGET_ENV"),
        pointer_width: var("CARGO_CFG_TARGET_POINTER_WIDTH"),
    };
    for capability in CAPABILITIES {
        println!("cargo::rustc-check-cfg=cfg({})", capability.name);
        if (capability.target)(&target)
            && capability
                .constants
                .iter()
                .all(|name| defined.contains(name))
        {
            println!("cargo::rustc-cfg={}", capability.name);
        }
    }

    // The list `mman::missing_constants()` returns: what this build was made without.
    let missing: Vec<String> = OPTIONAL
        .iter()
        .filter(|name| !defined.contains(name))
        .map(|name| format!("\"{name}\""))
        .collect();
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let code = format!("&[{}]\n", missing.join(", "));
    if let Err(error) = std::fs::write(out.join("missing.rs"), code) {
        eprintln!(
            "error: mman's build script cannot write {}: {error}",
            out.join("missing.rs").display()
        );
        std::process::exit(1);
    }
}
