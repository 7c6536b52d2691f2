//! The x86-64 copy routine and the part of the handler that reads and moves its registers.
//!
//! The routine, `mman_checked_copy_copy_v<major>_<minor>_<patch>(dst, src, len) -> not_copied`
//! (System V ABI), keeps its source range in `r8` (start) and `r9` (end) and its destination in
//! `r10` from its first instructions to its return, and touches no stack. Up to 2 KiB
//! (`vector_max!`) it copies with overlapping 8- and 16-byte moves (`rep movsb` has a start-up
//! cost that a 64-byte copy feels); above, with `rep movsb`, which a fault stops with `rcx`
//! holding the bytes not copied. A fault on a load of the vector path restarts the whole copy with
//! `rep movsb` (the fixup `vector_fixup`), so that the count returned is always the one `rep
//! movsb` stops at: every byte before the first one the kernel cannot read, as `process_vm_readv`
//! copies.
//!
//! Copies of 8 to 64 bytes are not calls: [`copy_all`] makes them in the caller, with the same
//! overlapping moves, all loads first, in an inline `asm!` block whose loads are recorded in a
//! table, as the kernel's exception table records its user copies: the section
//! `mman_checked_copy_sites_v<major>_<minor>_<patch>`, one entry per block (each inlined copy of
//! it), with the addresses of its first load, of the end of its loads, and of where the handler
//! resumes it, as 32-bit offsets from the entry. A fault on such a load (one of the source: the
//! block loads nothing else) resumes the block past its stores with `rax` set to 1, and the copy
//! is made again by the routine, which stops at the exact byte. A call, its argument moves and the
//! registers the compiler saves around it are instructions, and where every read misses the cache
//! the processor overlaps the misses of fewer reads the more instructions each takes: a random
//! 64-byte checked read cost 1.5 times a slice copy as a call (see BENCHMARKS.md).

use std::arch::{asm, global_asm};
use std::ffi::c_void;
use std::ptr::addr_of;

/// The longest copy made with vector moves (2 KiB); longer ones use `rep movsb`. Measured on the
/// bench machine (see BENCHMARKS.md): below this, `rep movsb`'s start-up cost shows against
/// `memcpy`. A literal in the routine's text: `const` operands of `global_asm!` need Rust 1.82, and
/// this crate builds with 1.77.
macro_rules! vector_max {
    () => {
        "2048"
    };
}

/// The first instructions wherever the handler resumes a copy: the stack pointer moved down by
/// 136 bytes and back, nothing written (the `cmp` reads the word at the stack pointer: a memory
/// access, which keeps valgrind's translator from folding the two moves into none). For
/// valgrind's memcheck: when another thread ran while the handler ran on the alternate signal
/// stack (`SA_ONSTACK`), memcheck takes the next move of the stack pointer by an amount it has no
/// special case for (136 is not one; a function's frame size may be) for a switch to another
/// stack, and leaves the bytes it uncovers unaddressable: without this, the first function called
/// after the copy with such a frame reports invalid reads and writes of its own frame. Natively,
/// three instructions on the fault path.
macro_rules! resync {
    () => {
        "lea rsp, [rsp - 136]\ncmp qword ptr [rsp + 136], 0\nlea rsp, [rsp + 136]\n"
    };
}

// The labels are numeric (local, reusable: no clash when two copies of this text are assembled
// together, as under LTO), and none is made of 0s and 1s only (LLVM would read `1b` as binary).
global_asm!(concat!(
    ".pushsection .text.",
    versioned!("copy"),
    ",\"ax\",@progbits\n",
    ".p2align 6\n",
    label!("start"),
    label!("copy"),
    // rdi = dst, rsi = src, rdx = len; r8..r9 = the source range, r10 = dst, to the end.
    "mov r8, rsi\n",
    "lea r9, [rsi + rdx]\n",
    "mov r10, rdi\n",
    "cmp rdx, 16\n",
    "jb 5f\n",
    "cmp rdx, 32\n",
    "ja 3f\n",
    // 16..=32 bytes: the first and the last 16, overlapping.
    "movdqu xmm0, xmmword ptr [rsi]\n",
    "movdqu xmm1, xmmword ptr [rsi + rdx - 16]\n",
    "movdqu xmmword ptr [rdi], xmm0\n",
    "movdqu xmmword ptr [rdi + rdx - 16], xmm1\n",
    "xor eax, eax\n",
    "ret\n",
    "3:\n",
    "cmp rdx, 64\n",
    "ja 4f\n",
    // 33..=64 bytes: the first 32 and the last 32.
    "movdqu xmm0, xmmword ptr [rsi]\n",
    "movdqu xmm1, xmmword ptr [rsi + 16]\n",
    "movdqu xmm2, xmmword ptr [rsi + rdx - 32]\n",
    "movdqu xmm3, xmmword ptr [rsi + rdx - 16]\n",
    "movdqu xmmword ptr [rdi], xmm0\n",
    "movdqu xmmword ptr [rdi + 16], xmm1\n",
    "movdqu xmmword ptr [rdi + rdx - 32], xmm2\n",
    "movdqu xmmword ptr [rdi + rdx - 16], xmm3\n",
    "xor eax, eax\n",
    "ret\n",
    "4:\n",
    "cmp rdx, ",
    vector_max!(),
    "\n",
    "ja 8f\n",
    // 65..=vector_max!() bytes: the last 64 loaded first, then 64 at a time, then the last 64
    // stored (overlapping what the loop stored).
    "movdqu xmm4, xmmword ptr [r9 - 64]\n",
    "movdqu xmm5, xmmword ptr [r9 - 48]\n",
    "movdqu xmm6, xmmword ptr [r9 - 32]\n",
    "movdqu xmm7, xmmword ptr [r9 - 16]\n",
    "lea r11, [rdi + rdx - 64]\n",
    "2:\n",
    "movdqu xmm0, xmmword ptr [rsi]\n",
    "movdqu xmm1, xmmword ptr [rsi + 16]\n",
    "movdqu xmm2, xmmword ptr [rsi + 32]\n",
    "movdqu xmm3, xmmword ptr [rsi + 48]\n",
    "movdqu xmmword ptr [rdi], xmm0\n",
    "movdqu xmmword ptr [rdi + 16], xmm1\n",
    "movdqu xmmword ptr [rdi + 32], xmm2\n",
    "movdqu xmmword ptr [rdi + 48], xmm3\n",
    "add rsi, 64\n",
    "add rdi, 64\n",
    "sub rdx, 64\n",
    "cmp rdx, 64\n",
    "ja 2b\n",
    "movdqu xmmword ptr [r11], xmm4\n",
    "movdqu xmmword ptr [r11 + 16], xmm5\n",
    "movdqu xmmword ptr [r11 + 32], xmm6\n",
    "movdqu xmmword ptr [r11 + 48], xmm7\n",
    "xor eax, eax\n",
    "ret\n",
    // 0..16 bytes.
    "5:\n",
    "cmp rdx, 8\n",
    "jb 6f\n",
    "mov rax, qword ptr [rsi]\n",
    "mov rcx, qword ptr [rsi + rdx - 8]\n",
    "mov qword ptr [rdi], rax\n",
    "mov qword ptr [rdi + rdx - 8], rcx\n",
    "xor eax, eax\n",
    "ret\n",
    "6:\n",
    "cmp rdx, 4\n",
    "jb 7f\n",
    "mov eax, dword ptr [rsi]\n",
    "mov ecx, dword ptr [rsi + rdx - 4]\n",
    "mov dword ptr [rdi], eax\n",
    "mov dword ptr [rdi + rdx - 4], ecx\n",
    "xor eax, eax\n",
    "ret\n",
    "7:\n",
    "test rdx, rdx\n",
    "jz 9f\n",
    // 1..=3 bytes: the first, the middle and the last (some the same).
    "movzx eax, byte ptr [rsi]\n",
    "mov rcx, rdx\n",
    "shr rcx, 1\n",
    "movzx r11d, byte ptr [rsi + rcx]\n",
    "movzx esi, byte ptr [r9 - 1]\n",
    "mov byte ptr [rdi], al\n",
    "mov byte ptr [rdi + rcx], r11b\n",
    "mov byte ptr [rdi + rdx - 1], sil\n",
    "9:\n",
    "xor eax, eax\n",
    "ret\n",
    // Above vector_max!(): rep movsb.
    "8:\n",
    "mov rcx, rdx\n",
    label!("rep"),
    "rep movsb\n",
    "xor eax, eax\n",
    "ret\n",
    // The handler moves a fault of `rep movsb` on the source here: rcx bytes were not copied.
    label!("rep_fixup"),
    resync!(),
    "mov rax, rcx\n",
    "ret\n",
    // And a fault of a vector load on the source here: copy it all again with rep movsb,
    // which stops at the exact byte.
    label!("vector_fixup"),
    resync!(),
    "mov rsi, r8\n",
    "mov rdi, r10\n",
    "mov rcx, r9\n",
    "sub rcx, r8\n",
    "jmp ",
    versioned!("rep"),
    "\n",
    label!("end"),
    ".popsection\n",
),);

/// The section of the table of the inline copies' loads: a C identifier, so that the linker
/// defines `__start_` and `__stop_` symbols for it, and keeps it (with `R`, `SHF_GNU_RETAIN`,
/// for the linkers that would otherwise collect it).
macro_rules! sites_section {
    () => {
        concat!(
            ".pushsection ",
            versioned!("sites"),
            ",\"aR\",@progbits\n.balign 4\n"
        )
    };
}

// The table always exists (an empty entry: its load range is empty), even in a binary with no
// inline copy, and its bounds are this object's own (hidden): a shared object that holds this
// crate looks up its own copies.
global_asm!(concat!(
    sites_section!(),
    ".long 0, 0, 0\n",
    ".popsection\n",
    ".hidden __start_",
    versioned!("sites"),
    "\n.hidden __stop_",
    versioned!("sites"),
    "\n",
));

extern "C" {
    /// Copies `len` bytes from `src` to `dst`; returns the bytes not copied (0 unless the handler
    /// stopped the copy at a fault on the source). It keeps the System V calling convention: it
    /// clobbers only caller-saved registers (rax, rcx, rdx, rsi, rdi, r8-r11, xmm0-xmm7), and
    /// leaves the direction flag clear.
    #[link_name = versioned!("copy")]
    fn routine(dst: *mut u8, src: *const u8, len: usize) -> usize;
    #[link_name = versioned!("start")]
    static START: u8;
    #[link_name = versioned!("rep")]
    static REP: u8;
    #[link_name = versioned!("rep_fixup")]
    static REP_FIXUP: u8;
    #[link_name = versioned!("vector_fixup")]
    static VECTOR_FIXUP: u8;
    #[link_name = versioned!("end")]
    static END: u8;
    #[link_name = concat!("__start_", versioned!("sites"))]
    static SITES_START: Site;
    #[link_name = concat!("__stop_", versioned!("sites"))]
    static SITES_STOP: Site;
}

/// An entry of the table of inline copies: the addresses of the first load, of the end of the
/// loads, and of where the handler resumes the block after a fault, as offsets from the entry (32
/// bits, as the code model allows: no relocation is left for the dynamic loader, and the table
/// stays read-only).
#[repr(C)]
struct Site {
    loads: i32,
    loads_end: i32,
    resume: i32,
}

impl Site {
    /// The three addresses.
    fn addresses(&self) -> [usize; 3] {
        let base = self as *const Site as usize;
        [self.loads, self.loads_end, self.resume].map(|offset| base.wrapping_add(offset as usize))
    }
}

/// An inline copy, with the moves that `$load` and `$store` name (the operands `s` = source, `d` =
/// destination, and `n` = the length where it is given: the lengths the compiler may know have
/// copies of their own, with constant offsets and one register less): returns whether a load
/// faulted (then nothing was stored). Its entry in the table sends the handler to label 6, out of
/// line, which goes on after the block (label 4) once `resync!` has run.
macro_rules! inline_copy {
    ($dst:expr, $src:expr, [$($load:literal),*], [$($store:literal),*] $(, n = $len:expr)?) => {{
        // The loads read `src..src + len`, the stores write `dst..dst + len`; the registers named
        // (and the flags, on the fault's path) are the only ones written; the stack pointer moves
        // on that path, and comes back, with nothing written below it.
        let faulted: usize;
        // SAFETY: the caller's promise (see `copy`); a fault on a load (its address is in the
        // table) goes on at label 4 with rax = 1, and the stores are not made.
        unsafe {
            asm!(
                "2:",
                $($load,)*
                "3:",
                $($store,)*
                "4:",
                sites_section!(),
                "5:",
                ".long 2b - 5b, 3b - 5b, 6f - 5b",
                ".popsection",
                concat!(
                    ".pushsection .text.",
                    versioned!("resume"),
                    ",\"ax\",@progbits"
                ),
                "6:",
                resync!(),
                "jmp 4b",
                ".popsection",
                s = in(reg) $src,
                d = in(reg) $dst,
                $(n = in(reg) $len,)?
                inlateout("rax") 0usize => faulted,
                out("xmm0") _,
                out("xmm1") _,
                out("xmm2") _,
                out("xmm3") _,
                options(nostack),
            );
        }
        faulted != 0
    }};
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
    // SAFETY: the caller's promise; the routine writes only `dst..dst + len`, reads only the
    // source, and keeps the System V calling convention (its declaration says what it clobbers).
    len - unsafe { routine(dst, src, len) }
}

/// Copies `len` bytes from `src` to `dst`, 8 to 64 inline, the others with the routine; returns
/// whether all were copied (if not, a page of the source faulted, and `dst` holds some of them).
///
/// # Safety
///
/// As [`copy`].
#[inline(always)]
pub(super) unsafe fn copy_all(dst: *mut u8, src: *const u8, len: usize) -> bool {
    let faulted = match len {
        8 => inline_copy!(
            dst,
            src,
            ["movq xmm0, qword ptr [{s}]"],
            ["movq qword ptr [{d}], xmm0"]
        ),
        9..=15 => inline_copy!(
            dst,
            src,
            [
                "movq xmm0, qword ptr [{s}]",
                "movq xmm1, qword ptr [{s} + {n} - 8]"
            ],
            [
                "movq qword ptr [{d}], xmm0",
                "movq qword ptr [{d} + {n} - 8], xmm1"
            ],
            n = len
        ),
        16 => inline_copy!(
            dst,
            src,
            ["movdqu xmm0, xmmword ptr [{s}]"],
            ["movdqu xmmword ptr [{d}], xmm0"]
        ),
        17..=31 => inline_copy!(
            dst,
            src,
            [
                "movdqu xmm0, xmmword ptr [{s}]",
                "movdqu xmm1, xmmword ptr [{s} + {n} - 16]"
            ],
            [
                "movdqu xmmword ptr [{d}], xmm0",
                "movdqu xmmword ptr [{d} + {n} - 16], xmm1"
            ],
            n = len
        ),
        32 => inline_copy!(
            dst,
            src,
            [
                "movdqu xmm0, xmmword ptr [{s}]",
                "movdqu xmm1, xmmword ptr [{s} + 16]"
            ],
            [
                "movdqu xmmword ptr [{d}], xmm0",
                "movdqu xmmword ptr [{d} + 16], xmm1"
            ]
        ),
        33..=63 => inline_copy!(
            dst,
            src,
            [
                "movdqu xmm0, xmmword ptr [{s}]",
                "movdqu xmm1, xmmword ptr [{s} + 16]",
                "movdqu xmm2, xmmword ptr [{s} + {n} - 32]",
                "movdqu xmm3, xmmword ptr [{s} + {n} - 16]"
            ],
            [
                "movdqu xmmword ptr [{d}], xmm0",
                "movdqu xmmword ptr [{d} + 16], xmm1",
                "movdqu xmmword ptr [{d} + {n} - 32], xmm2",
                "movdqu xmmword ptr [{d} + {n} - 16], xmm3"
            ],
            n = len
        ),
        64 => inline_copy!(
            dst,
            src,
            [
                "movdqu xmm0, xmmword ptr [{s}]",
                "movdqu xmm1, xmmword ptr [{s} + 16]",
                "movdqu xmm2, xmmword ptr [{s} + 32]",
                "movdqu xmm3, xmmword ptr [{s} + 48]"
            ],
            [
                "movdqu xmmword ptr [{d}], xmm0",
                "movdqu xmmword ptr [{d} + 16], xmm1",
                "movdqu xmmword ptr [{d} + 32], xmm2",
                "movdqu xmmword ptr [{d} + 48], xmm3"
            ]
        ),
        // SAFETY: the caller's promise, passed on.
        _ => return unsafe { copy(dst, src, len) } == len,
    };
    !faulted
}

/// The addresses of the routine's labels: `[start, end)`, `rep movsb`, and the two fixups.
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
            addr_of!(REP),
            addr_of!(REP_FIXUP),
            addr_of!(VECTOR_FIXUP),
        ]
    };
    labels.map(|label| label as usize)
}

/// If `ip` is a load of an inline copy, the address after its block.
fn inline_load(ip: usize) -> Option<usize> {
    // (Rust before 1.82 wants `unsafe` for the address of an extern static; later ones do not.)
    #[allow(unused_unsafe)]
    // SAFETY: only the addresses are taken; the linker defines both symbols, at the bounds of the
    // table (the `global_asm!` above puts an entry in it, so it exists).
    let (first, stop) = unsafe { (addr_of!(SITES_START), addr_of!(SITES_STOP)) };
    let count = (stop as usize - first as usize) / std::mem::size_of::<Site>();
    // SAFETY: the table is `count` entries from `first`, written by the assembler (each `asm!`
    // block adds one, of three `.long`s) and read-only.
    let sites = unsafe { std::slice::from_raw_parts(first, count) };
    sites.iter().find_map(|site| {
        let [loads, loads_end, resume] = site.addresses();
        (loads..loads_end).contains(&ip).then_some(resume)
    })
}

/// Called by the handler: if the fault at `fault` (the `si_addr` of a signal the kernel raised)
/// is a load of the routine from its source range, moves the instruction pointer in `context`
/// to the fixup and returns `true`; the signal is then handled. Anything else, `false`.
/// `page_size` is the size of a page (a power of two).
///
/// Async-signal-safe: it reads and writes the interrupted context's registers only.
///
/// # Safety
///
/// `context` is the `ucontext_t` the kernel passed to an `SA_SIGINFO` handler.
pub(super) unsafe fn fixup(fault: usize, context: *mut c_void, page_size: usize) -> bool {
    // SAFETY: the kernel passes a valid, writable `ucontext_t` to an SA_SIGINFO handler, which
    // sigreturn reads back when the handler returns.
    let regs = unsafe { &mut (*context.cast::<libc::ucontext_t>()).uc_mcontext.gregs };
    let ip = regs[libc::REG_RIP as usize] as usize;
    // An inline copy's load: of the source (the block loads nothing else), which the routine
    // copies again.
    if let Some(resume) = inline_load(ip) {
        regs[libc::REG_RAX as usize] = 1;
        regs[libc::REG_RIP as usize] = resume as libc::greg_t;
        return true;
    }
    let [start, end, rep, rep_fixup, vector_fixup] = labels();
    if !(start..end).contains(&ip) {
        return false;
    }
    let (src, src_end) = (
        regs[libc::REG_R8 as usize] as usize,
        regs[libc::REG_R9 as usize] as usize,
    );
    if !(src..src_end).contains(&fault) {
        // A fault on the destination: the caller's memory, not ours to excuse.
        return false;
    }
    if ip >= rep {
        // `rep movsb`, or (under valgrind, whose IP can lag behind a jump it followed) the jump to
        // it from `vector_fixup`. The bytes before the first page that cannot be read were copied
        // (readability changes at page boundaries only), and the fault is in that page: from it,
        // what `rcx` says is kept within what the fault address allows (valgrind's `rcx` can be
        // stale, or one byte off).
        let first_bad = (fault & !(page_size - 1)).max(src);
        let left =
            (regs[libc::REG_RCX as usize] as usize).clamp(src_end - fault, src_end - first_bad);
        regs[libc::REG_RCX as usize] = left as libc::greg_t;
        regs[libc::REG_RIP as usize] = rep_fixup as libc::greg_t;
    } else {
        regs[libc::REG_RIP as usize] = vector_fixup as libc::greg_t;
    }
    true
}
