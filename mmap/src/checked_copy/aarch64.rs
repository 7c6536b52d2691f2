//! The aarch64 copy routine and the part of the handler that reads and moves its registers.
//!
//! The routine, `mman_checked_copy_copy_v<major>_<minor>_<patch>(dst, src, len) -> not_copied`
//! (AAPCS64), keeps its source range in `x9` (start) and `x10` (end) and its destination in `x11`
//! from its first instructions to its return, and touches no stack. `x1` is where the copy
//! resumes: every byte of the source before it was copied, at the same distance from `x11`. Up to
//! 64 bytes it copies with overlapping 1-, 4-, 8-, 16- and 32-byte moves; above, 64 bytes at a time
//! (`ldp`/`stp` of `q` registers, the destination aligned to 16 bytes), then the last 64 bytes,
//! overlapping.
//!
//! A fault on a load of those moves sends the routine to a byte-by-byte copy from `x1`, whose one
//! load (`ldrb`) faults exactly at the first byte that cannot be read: the count returned is always
//! every byte before it, as `process_vm_readv` copies. The byte copy is there because the address
//! aarch64 reports for a wider load (the fault address register, `si_addr`) is an address of the
//! access, not necessarily the first byte that could not be read: for an unaligned `ldr q` or an
//! `ldp` that crosses into such a page, it may be the first byte of the access, in the readable
//! page before. The handler needs no more than that: every load of the routine is within the
//! source range, so a fault address outside it is the destination's. The detour copies fewer than
//! 64 bytes before it faults again, once per failed read (or, if the page became readable again
//! meanwhile, on to the end).

use std::arch::global_asm;
use std::ffi::c_void;
use std::ptr::addr_of;

// The labels are numeric (local, reusable: no clash when two copies of this text are assembled
// together, as under LTO). Loads never reach outside `[x9, x10)`: a short copy's moves overlap
// instead.
global_asm!(concat!(
    ".pushsection .text.",
    versioned!("copy"),
    ",\"ax\",%progbits\n",
    ".p2align 6\n",
    label!("start"),
    label!("copy"),
    // `bti c`, a no-op where branch target identification is off: a linker's veneer may reach
    // the routine with an indirect branch.
    "hint #34\n",
    // x0 = dst, x1 = src, x2 = len; x9..x10 = the source range, x11 = dst, to the end.
    "mov x9, x1\n",
    "add x10, x1, x2\n",
    "mov x11, x0\n",
    "add x12, x0, x2\n",
    "cmp x2, #16\n",
    "b.lo 5f\n",
    "cmp x2, #32\n",
    "b.hi 3f\n",
    // 16..=32 bytes: the first and the last 16, overlapping.
    "ldr q0, [x1]\n",
    "ldur q1, [x10, #-16]\n",
    "str q0, [x0]\n",
    "stur q1, [x12, #-16]\n",
    "mov x0, #0\n",
    "ret\n",
    "3:\n",
    "cmp x2, #64\n",
    "b.hi 4f\n",
    // 33..=64 bytes: the first 32 and the last 32.
    "ldp q0, q1, [x1]\n",
    "ldp q2, q3, [x10, #-32]\n",
    "stp q0, q1, [x0]\n",
    "stp q2, q3, [x12, #-32]\n",
    "mov x0, #0\n",
    "ret\n",
    // Above 64 bytes: the first 16, then x1 and x0 moved on by 1 to 16 bytes, to where the
    // destination is aligned to 16 (what they pass was copied); 64 at a time while more than 64
    // are left; then the last 64 (overlapping what the loop copied).
    "4:\n",
    "ldr q0, [x1]\n",
    "str q0, [x0]\n",
    "and x3, x0, #15\n",
    "mov x4, #16\n",
    "sub x3, x4, x3\n",
    "add x1, x1, x3\n",
    "add x0, x0, x3\n",
    "sub x13, x10, #64\n",
    "cmp x1, x13\n",
    "b.hs 8f\n",
    "2:\n",
    "ldp q0, q1, [x1]\n",
    "ldp q2, q3, [x1, #32]\n",
    "stp q0, q1, [x0]\n",
    "stp q2, q3, [x0, #32]\n",
    "add x1, x1, #64\n",
    "add x0, x0, #64\n",
    "cmp x1, x13\n",
    "b.lo 2b\n",
    "8:\n",
    "ldp q0, q1, [x10, #-64]\n",
    "ldp q2, q3, [x10, #-32]\n",
    "stp q0, q1, [x12, #-64]\n",
    "stp q2, q3, [x12, #-32]\n",
    "mov x0, #0\n",
    "ret\n",
    // 0..16 bytes.
    "5:\n",
    "cmp x2, #8\n",
    "b.lo 6f\n",
    "ldr x3, [x1]\n",
    "ldur x4, [x10, #-8]\n",
    "str x3, [x0]\n",
    "stur x4, [x12, #-8]\n",
    "mov x0, #0\n",
    "ret\n",
    "6:\n",
    "cmp x2, #4\n",
    "b.lo 7f\n",
    "ldr w3, [x1]\n",
    "ldur w4, [x10, #-4]\n",
    "str w3, [x0]\n",
    "stur w4, [x12, #-4]\n",
    "mov x0, #0\n",
    "ret\n",
    "7:\n",
    "cbz x2, 9f\n",
    // 1..=3 bytes: the first, the middle and the last (some the same).
    "lsr x5, x2, #1\n",
    "ldrb w3, [x1]\n",
    "ldrb w4, [x1, x5]\n",
    "ldurb w6, [x10, #-1]\n",
    "strb w3, [x0]\n",
    "strb w4, [x0, x5]\n",
    "sturb w6, [x12, #-1]\n",
    "9:\n",
    "mov x0, #0\n",
    "ret\n",
    // The handler moves a fault of any load above on the source here: copy on from x1, one byte
    // at a time, to the first byte that cannot be read.
    label!("byte_copy"),
    "sub x3, x1, x9\n",
    "add x0, x11, x3\n",
    "10:\n",
    "cmp x1, x10\n",
    "b.hs 9b\n",
    label!("byte_load"),
    "ldrb w3, [x1]\n",
    "strb w3, [x0]\n",
    "add x1, x1, #1\n",
    "add x0, x0, #1\n",
    "b 10b\n",
    // And a fault of `byte_load` here: the byte at x1 cannot be read, every one before it was
    // copied.
    label!("byte_fixup"),
    "sub x0, x10, x1\n",
    "ret\n",
    label!("end"),
    ".popsection\n",
),);

extern "C" {
    /// Copies `len` bytes from `src` to `dst`; returns the bytes not copied (0 unless the handler
    /// stopped the copy at a fault on the source).
    #[link_name = versioned!("copy")]
    fn routine(dst: *mut u8, src: *const u8, len: usize) -> usize;
    #[link_name = versioned!("start")]
    static START: u8;
    #[link_name = versioned!("byte_copy")]
    static BYTE_COPY: u8;
    #[link_name = versioned!("byte_load")]
    static BYTE_LOAD: u8;
    #[link_name = versioned!("byte_fixup")]
    static BYTE_FIXUP: u8;
    #[link_name = versioned!("end")]
    static END: u8;
}

/// Copies `len` bytes from `src` to `dst` with the routine; returns how many were copied: `len`,
/// or fewer when a page of the source faulted.
///
/// # Safety
///
/// `dst` is valid for `len` bytes of writes (overlapping the source, it gets a mix of old and new
/// bytes); `src..src + len` is within one live mapping of this process (its pages may fault); the
/// handler is installed, or every page of the source is readable.
#[inline(always)]
pub(super) unsafe fn copy(dst: *mut u8, src: *const u8, len: usize) -> usize {
    // SAFETY: the caller's promise; the routine (AAPCS64) writes `dst..dst + len`, reads only the
    // source, and clobbers only registers a callee may: x0-x6, x9-x13, v0-v3, the flags.
    len - unsafe { routine(dst, src, len) }
}

/// Copies `len` bytes from `src` to `dst` with the routine; returns whether all were copied (if
/// not, a page of the source faulted, and `dst` holds some of them).
///
/// # Safety
///
/// As [`copy`].
#[inline(always)]
pub(super) unsafe fn copy_all(dst: *mut u8, src: *const u8, len: usize) -> bool {
    // SAFETY: the caller's promise, passed on.
    unsafe { copy(dst, src, len) == len }
}

/// The addresses of the routine's labels: `[start, end)`, the byte copy, its load, and its fixup.
#[inline(always)]
fn labels() -> [usize; 5] {
    // (Rust before 1.82 wants `unsafe` for the address of an extern static; later ones do not.)
    #[allow(unused_unsafe)]
    // SAFETY: only the addresses of the labels are taken, never the bytes at them; the symbols
    // are defined by the `global_asm!` above, in this object.
    let labels = unsafe {
        [
            addr_of!(START),
            addr_of!(END),
            addr_of!(BYTE_COPY),
            addr_of!(BYTE_LOAD),
            addr_of!(BYTE_FIXUP),
        ]
    };
    labels.map(|label| label as usize)
}

/// Called by the handler: if the fault at `fault` (the `si_addr` of a signal the kernel raised)
/// is a load of the routine from its source range, moves the program counter in `context` to the
/// fixup and returns `true`; the signal is then handled. Anything else, `false`. (`page_size` is
/// for the routines that need it; the byte copy finds the page itself.)
///
/// Async-signal-safe: it reads and writes the interrupted context's registers only.
///
/// # Safety
///
/// `context` is the `ucontext_t` the kernel passed to an `SA_SIGINFO` handler.
pub(super) unsafe fn fixup(fault: usize, context: *mut c_void, page_size: usize) -> bool {
    let _ = page_size;
    // SAFETY: the kernel passes a valid, writable `ucontext_t` to an SA_SIGINFO handler, which
    // sigreturn reads back when the handler returns.
    let context = unsafe { &mut (*context.cast::<libc::ucontext_t>()).uc_mcontext };
    let pc = context.pc as usize;
    let [start, end, byte_copy, byte_load, byte_fixup] = labels();
    if !(start..end).contains(&pc) {
        return false;
    }
    let (src, src_end) = (context.regs[9] as usize, context.regs[10] as usize);
    if !(src..src_end).contains(&fault) {
        // A fault on the destination: the caller's memory, not ours to excuse.
        return false;
    }
    if pc < byte_copy {
        // A load of the wide moves: the fault address may be any byte of the access, so the byte
        // copy finds the first one that cannot be read. (A store there faults only on the
        // destination, in the source range only where the two overlap: the byte copy's store
        // faults again, and that fault is passed on below.)
        context.pc = byte_copy as _;
    } else if pc == byte_load && fault == context.regs[1] as usize {
        context.pc = byte_fixup as _;
    } else {
        return false;
    }
    true
}
