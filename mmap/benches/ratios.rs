//! One table of ratios: this crate against the raw `mmap-sys` calls, memmap2 and `std`, each row's
//! contenders measured interleaved (so that machine noise hits them alike), the median of several
//! runs. `cargo bench -p mman --bench ratios`; sizes from `MMAP_BENCH_FILE_MIB`,
//! `MMAP_BENCH_ANON_MIB`, `MMAP_BENCH_RANDOM_MIB`, `MMAP_BENCH_READS` and `MMAP_BENCH_RUNS` (see
//! `mmap/BENCHMARKS.md`); `MMAP_BENCH_ONLY=checked` runs only the rows of the checked reads.

mod workloads;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use workloads::*;

/// Counts allocations, to show that mapping and unmapping allocate nothing.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed to `System`, which upholds the contract; the counter is only
// counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's layout, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A contender: its name and one iteration of its work.
type Contender<'a> = (&'static str, Box<dyn FnMut() -> u64 + 'a>);

/// Runs every contender `iters` times per run, `runs` runs, in a new random order each run so that
/// none always goes first or after the same neighbour; returns each one's median time per
/// iteration, in ns.
fn interleaved(contenders: &mut [Contender<'_>], iters: usize, runs: usize) -> Vec<f64> {
    let n = contenders.len();
    // A first round, not counted: caches, page tables and the allocator settle.
    for (_, work) in contenders.iter_mut() {
        black_box(work());
    }
    let mut samples = vec![Vec::with_capacity(runs); n];
    let mut rng = fastrand::Rng::with_seed(runs as u64);
    let mut order: Vec<usize> = (0..n).collect();
    for _ in 0..runs {
        rng.shuffle(&mut order);
        for &i in &order {
            let work = &mut contenders[i].1;
            let start = now();
            for _ in 0..iters {
                black_box(work());
            }
            samples[i].push((now() - start) / iters as f64);
        }
    }
    samples
        .into_iter()
        .map(|mut s| {
            s.sort_by(f64::total_cmp);
            s[s.len() / 2]
        })
        .collect()
}

/// The clock samples are timed with, in ns: the wall clock, or with `MMAP_BENCH_CLOCK=cpu` the
/// time this thread ran (`CLOCK_THREAD_CPUTIME_ID`), which leaves out the time other processes
/// ran on its core: for rows that compute only (the checked reads) on a busy machine. (Not for
/// the rows that wait for the disk, whose waits it leaves out too.)
fn now() -> f64 {
    static CPU: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *CPU.get_or_init(|| std::env::var("MMAP_BENCH_CLOCK").is_ok_and(|clock| clock == "cpu")) {
        let mut time = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `time` is a timespec for the call to fill.
        let ret = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut time) };
        assert_eq!(ret, 0, "clock_gettime: {}", std::io::Error::last_os_error());
        return time.tv_sec as f64 * 1e9 + time.tv_nsec as f64;
    }
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as f64
}

/// Which clock [`now`] reads, for the table's header.
fn clock_name() -> &'static str {
    match std::env::var("MMAP_BENCH_CLOCK") {
        Ok(clock) if clock == "cpu" => "thread CPU time",
        _ => "wall",
    }
}

fn time(ns: f64) -> String {
    match ns {
        ns if ns < 1e3 => format!("{ns:.0} ns"),
        ns if ns < 1e6 => format!("{:.2} µs", ns / 1e3),
        ns if ns < 1e9 => format!("{:.2} ms", ns / 1e6),
        ns => format!("{:.2} s", ns / 1e9),
    }
}

/// One line of the table: the times of ours, raw, memmap2 and std (where they apply), the ratios,
/// and the noise: the raw calls measured twice in the same group, one time over the other (an A/A
/// ratio: how far apart two identical contenders land).
fn line(
    row: &str,
    ours: f64,
    raw: Option<f64>,
    memmap2: Option<f64>,
    std: Option<f64>,
    raw_again: Option<f64>,
) {
    let cell = |t: Option<f64>| t.map_or("-".to_owned(), time);
    let ratio = |t: Option<f64>| t.map_or("-".to_owned(), |t| format!("{:.3}", ours / t));
    println!(
        "| {row} | {} | {} | {} | {} | {} | {} | {} | {} |",
        time(ours),
        cell(raw),
        cell(memmap2),
        cell(std),
        ratio(raw),
        ratio(memmap2),
        ratio(std),
        raw.zip(raw_again)
            .map_or("-".to_owned(), |(raw, again)| format!("{:.3}", again / raw))
    );
}

/// One row's contenders, for [`rows_against`].
struct Row<'a> {
    name: String,
    ours: Box<dyn FnMut() -> u64 + 'a>,
    raw: Box<dyn FnMut() -> u64 + 'a>,
    raw_again: Box<dyn FnMut() -> u64 + 'a>,
    memmap2: Box<dyn FnMut() -> u64 + 'a>,
}

/// Measures each row in an interleaved group of its own, with `baseline` (std's way) in the first
/// group only, and prints each row against the raw calls, memmap2 and that baseline.
fn rows_against<'a, const N: usize>(
    rows: [Row<'a>; N],
    baseline: Contender<'a>,
    iters: usize,
    runs: usize,
) {
    let mut baseline = Some(baseline);
    let mut baseline_time = None;
    for row in rows {
        let mut contenders: Vec<Contender<'a>> = vec![
            ("ours", row.ours),
            ("raw", row.raw),
            ("memmap2", row.memmap2),
            ("raw, again", row.raw_again),
        ];
        contenders.extend(baseline.take());
        let t = interleaved(&mut contenders, iters, runs);
        let baseline_time = *baseline_time.get_or_insert(t.get(4).copied().unwrap_or_default());
        line(
            &row.name,
            t[0],
            Some(t[1]),
            Some(t[2]),
            Some(baseline_time),
            Some(t[3]),
        );
    }
}

/// Where the reads of a row land: the same offsets in every run (after the first, their bytes
/// and page table entries are in the caches), or new ones in every run, and for each contender,
/// in a file much larger than the last-level cache (so that nearly every read misses it, and
/// the TLB).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Offsets {
    Same,
    New,
}

/// One row of checked reads of N bytes at `reads` random offsets of `map` (of `file`, `len`
/// bytes): the checked `read_at`, the slice copy (twice) and `pread`, interleaved.
fn checked_reads<const N: usize>(
    map: &mman::Mmap,
    file: &std::fs::File,
    len: usize,
    reads: usize,
    runs: usize,
    offsets: Offsets,
) {
    // One sequence of offsets per contender: with `Offsets::New`, long enough for a part of its
    // own in each run (and in the uncounted first round).
    let parts = match offsets {
        Offsets::Same => 1,
        Offsets::New => runs + 1,
    };
    let sequences: Vec<Vec<usize>> = (0..4)
        .map(|contender| match offsets {
            Offsets::Same => random_offsets_for(len, reads, N),
            Offsets::New => random_offsets_seeded(len, reads * parts, N, 1 + contender),
        })
        .collect();
    // Where a contender's offsets are, in its sequence, for its `calls`-th call (then counted).
    let next = move |calls: &mut usize| {
        let k = *calls % parts;
        *calls += 1;
        k * reads..(k + 1) * reads
    };
    let [s0, s1, s2, s3] = [0, 1, 2, 3].map(|i| sequences[i].as_slice());
    let mut calls = [0usize; 4];
    let [c0, c1, c2, c3] = &mut calls;
    let mut bufs = [vec![0u8; N], vec![0u8; N], vec![0u8; N], vec![0u8; N]];
    let [a, b, c, d] = &mut bufs;
    let t = interleaved(
        &mut [
            (
                "checked read_at",
                Box::new(|| reads_checked::<N>(map, &s0[next(c0)], a)),
            ),
            (
                "slice",
                Box::new(|| reads_slice::<N>(map, &s1[next(c1)], b)),
            ),
            (
                "pread",
                Box::new(|| reads_pread::<N>(file, &s2[next(c2)], c)),
            ),
            (
                "slice, again",
                Box::new(|| reads_slice::<N>(map, &s3[next(c3)], d)),
            ),
        ],
        1,
        runs,
    );
    let n = reads as f64;
    let size = match N {
        n if n >= 1 << 20 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 => format!("{} KiB", n >> 10),
        n => format!("{n} B"),
    };
    let where_ = match offsets {
        Offsets::Same => "same offsets every run (cached)".to_owned(),
        Offsets::New => format!("new offsets every run, {} MiB file (not cached)", len >> 20),
    };
    line(
        &format!(
            "{size} random reads (per read), {where_}: checked `read_at` vs slice copy (raw) and \
             `pread` (std)"
        ),
        t[0] / n,
        Some(t[1] / n),
        None,
        Some(t[2] / n),
        Some(t[3] / n),
    );
}

/// The rows of the checked `read_at` against the slice copy it must keep up with (in the raw
/// column: ours/raw is checked/slice) and `pread` (the std column), at 64 B, 4 KiB and 1 MiB, at
/// the same offsets every run and at new ones, each in its own interleaved group, with the slice
/// copy twice for the noise. They read a file of their own, `MMAP_BENCH_RANDOM_MIB`.
fn checked_read_rows(files: &Files, sizes: &Sizes, runs: usize) {
    let len = sizes.random;
    let file = files.extra("random", len);
    // SAFETY: the bench's files are its own, and never truncated.
    let map = unsafe { prefaulting().map(&file).unwrap() };
    let long = (sizes.reads / 256).max(8);
    for offsets in [Offsets::Same, Offsets::New] {
        checked_reads::<64>(&map, &file, len, sizes.reads, runs, offsets);
    }
    for offsets in [Offsets::Same, Offsets::New] {
        checked_reads::<4096>(&map, &file, len, sizes.reads, runs, offsets);
    }
    for offsets in [Offsets::Same, Offsets::New] {
        checked_reads::<{ 1 << 20 }>(&map, &file, len, long, runs, offsets);
    }
}

/// The load averages (1, 5 and 15 minutes) from `/proc/loadavg`, to tell a busy machine's
/// numbers; "-" where there is no such file.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split(' ').take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "-".to_owned())
}

/// The head of the table of ratios the bench prints.
const TABLE_HEAD: &str = "\
| row | ours | raw | memmap2 | std | ours/raw | ours/memmap2 | ours/std | noise: raw/raw |
|---|---|---|---|---|---|---|---|---|";

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing and should not run
    // this.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let sizes = Sizes::from_env();
    let runs = env("MMAP_BENCH_RUNS", 11);
    // The checked reads' rows compare times a few percent apart, of reads that take nanoseconds:
    // more runs, unless set.
    let checked_runs = env("MMAP_BENCH_RUNS", 41);
    let started = Instant::now();
    // `MMAP_BENCH_ONLY=checked`: only the rows of the checked reads (3b), about a minute.
    if std::env::var("MMAP_BENCH_ONLY").is_ok_and(|only| only == "checked") {
        // The scanned file is not read: 1 MiB of it.
        let files = Files::new(&Sizes {
            file: 1 << 20,
            ..sizes
        });
        println!(
            "checked reads: file {} MiB, {} random reads, median of {checked_runs} interleaved \
             runs, {} clock; load average {}\n",
            sizes.random >> 20,
            sizes.reads,
            clock_name(),
            load_average()
        );
        println!("{TABLE_HEAD}");
        checked_read_rows(&files, &sizes, checked_runs);
        println!(
            "\nload average {}; ran in {:.0} s",
            load_average(),
            started.elapsed().as_secs_f64()
        );
        return;
    }
    let files = Files::new(&sizes);
    println!(
        "file {} MiB, anonymous {} MiB, checked reads' file {} MiB, {} random reads, median of \
         {runs} interleaved runs ({checked_runs} for the checked reads), {} clock; load average \
         {}\n",
        sizes.file >> 20,
        sizes.anon >> 20,
        sizes.random >> 20,
        sizes.reads,
        clock_name(),
        load_average()
    );
    println!("{TABLE_HEAD}");

    // 1. Map and unmap a 4 KiB file.
    let small = &files.small;
    let t = interleaved(
        &mut [
            ("ours", Box::new(|| map_unmap_ours(small))),
            ("raw", Box::new(|| map_unmap_raw(small))),
            ("memmap2", Box::new(|| map_unmap_memmap2(small))),
            ("ours, len given", Box::new(|| map_unmap_ours_len(small))),
            ("raw, again", Box::new(|| map_unmap_raw(small))),
        ],
        5000,
        runs,
    );
    line(
        "map + unmap 4 KiB file",
        t[0],
        Some(t[1]),
        Some(t[2]),
        None,
        Some(t[4]),
    );
    line(
        "map + unmap 4 KiB file, `len` given (no fstat)",
        t[3],
        Some(t[1]),
        Some(t[2]),
        None,
        None,
    );

    // 2. Map and checksum the big file, each way in its own interleaved group; std::fs::read of it
    // in the first.
    let (big, path) = (&files.big, files.big_path.as_path());
    let scans = [
        (Scan::Default, "default"),
        (Scan::Sequential, "`Advice::Sequential`"),
        #[cfg(mman_has = "MAP_POPULATE")]
        (Scan::Populate, "`populate()` (MAP_POPULATE)"),
        #[cfg(mman_populate)]
        (Scan::Prefault, "`map.populate()` (MADV_POPULATE_READ)"),
    ];
    let scan_rows = scans.map(|(how, name)| Row {
        name: format!("scan {} MiB file, {name}", sizes.file >> 20),
        ours: Box::new(move || scan_ours(big, how)),
        raw: Box::new(move || scan_raw(big, how)),
        raw_again: Box::new(move || scan_raw(big, how)),
        memmap2: Box::new(move || scan_memmap2(big, how)),
    });
    rows_against(
        scan_rows,
        ("std::fs::read", Box::new(|| scan_std(path))),
        2,
        runs,
    );

    // 3. 4 KiB reads at random offsets of the big file.
    let offsets = random_offsets(sizes.file, sizes.reads);
    let offsets = &offsets;
    // SAFETY: the bench's files are its own, and never truncated.
    let ours = unsafe { prefaulting().map(big).unwrap() };
    // SAFETY: as above.
    let theirs = unsafe { memmap2::MmapOptions::new().populate().map(big).unwrap() };
    let raw = RawMap::new(big, false);
    let (ours, theirs, raw) = (&ours, &theirs, &raw);
    let t = interleaved(
        &mut [
            ("ours", Box::new(|| random_reads_slice(ours, offsets))),
            ("raw", Box::new(|| random_reads_slice(raw.bytes(), offsets))),
            ("memmap2", Box::new(|| random_reads_slice(theirs, offsets))),
            ("read_at", Box::new(|| random_reads_pread(big, offsets))),
            (
                "ours, checked read_at",
                Box::new(|| random_reads_checked(ours, offsets)),
            ),
            (
                "raw, again",
                Box::new(|| random_reads_slice(raw.bytes(), offsets)),
            ),
        ],
        1,
        runs,
    );
    let n = sizes.reads as f64;
    line(
        "4 KiB random reads (per read), slice copy vs `FileExt::read_at`",
        t[0] / n,
        Some(t[1] / n),
        Some(t[2] / n),
        Some(t[3] / n),
        Some(t[5] / n),
    );
    line(
        "4 KiB random reads (per read), checked `read_at` vs `FileExt::read_at`",
        t[4] / n,
        None,
        None,
        Some(t[3] / n),
        None,
    );

    // 3b. The checked `read_at` against the slice copy, in and out of the caches.
    checked_read_rows(&files, &sizes, checked_runs);

    // 4. Anonymous memory: allocate and write every page, each way in its own interleaved group
    // (a map that wants huge pages right after one that freed small pages pays for compaction).
    let len = sizes.anon;
    let anons = [
        (Anon::Default, "`map_anon`"),
        #[cfg(mman_has = "MAP_POPULATE")]
        (Anon::Populate, "`map_anon` + `populate()`"),
        #[cfg(mman_has = "MADV_HUGEPAGE")]
        (Anon::HugePages, "`map_anon` + `Advice::HugePage` (THP)"),
    ];
    let anon_rows = anons.map(|(how, name)| Row {
        name: format!(
            "anonymous {} MiB, write every page: {name} vs `vec![0; n]`",
            len >> 20
        ),
        ours: Box::new(move || anon_ours(len, how)),
        raw: Box::new(move || anon_raw(len, how)),
        raw_again: Box::new(move || anon_raw(len, how)),
        memmap2: Box::new(move || anon_memmap2(len, how)),
    });
    rows_against(anon_rows, ("vec", Box::new(move || anon_vec(len))), 2, runs);

    // 5. Flush a dirty 1 MiB range, each contender in its own file, a different range each time.
    let [f_ours, f_raw, f_memmap2] = &files.dirty;
    // SAFETY: as above.
    let mut ours = unsafe { prefaulting().map_mut(f_ours).unwrap() };
    // SAFETY: as above.
    let mut theirs = unsafe {
        memmap2::MmapOptions::new()
            .populate()
            .map_mut(f_memmap2)
            .unwrap()
    };
    let mut raw = RawMap::new(f_raw, true);
    let ranges = (16 << 20) / FLUSH_LEN;
    let (mut a, mut b, mut c) = (0usize, 0usize, 0usize);
    let t = interleaved(
        &mut [
            (
                "ours",
                Box::new(|| {
                    a += 1;
                    flush_ours(&mut ours, (a % ranges) * FLUSH_LEN, a as u8)
                }),
            ),
            (
                "raw",
                Box::new(|| {
                    b += 1;
                    flush_raw(raw.bytes_mut(), (b % ranges) * FLUSH_LEN, b as u8)
                }),
            ),
            (
                "memmap2",
                Box::new(|| {
                    c += 1;
                    flush_memmap2(&mut theirs, (c % ranges) * FLUSH_LEN, c as u8)
                }),
            ),
        ],
        20,
        runs,
    );
    line(
        "flush a dirty 1 MiB range (`flush_range`, MS_SYNC)",
        t[0],
        Some(t[1]),
        Some(t[2]),
        None,
        None,
    );

    // No allocation on the map/unmap path, and two words per map.
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..1000 {
        black_box(map_unmap_ours(small));
        black_box(map_unmap_ours_len(small));
        black_box(anon_ours(4096, Anon::Default));
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    println!();
    println!("allocations in 3000 map/unmap pairs (file, file with len, anonymous): {allocations}");
    println!(
        "size_of::<Mmap>() = {} bytes, size_of::<MmapMut>() = {} bytes",
        std::mem::size_of::<mman::Mmap>(),
        std::mem::size_of::<mman::MmapMut>()
    );
    println!(
        "load average {}; ran in {:.0} s",
        load_average(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(allocations, 0, "mapping and unmapping must not allocate");
    assert_eq!(std::mem::size_of::<mman::Mmap>(), 16);
}
