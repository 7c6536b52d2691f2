//! Criterion benchmarks: this crate against the raw `mmap-sys` calls, memmap2 and `std`, on the
//! same inputs. `cargo bench -p mman --bench compare`; sizes from the variables in
//! `mmap/BENCHMARKS.md`. The one-table summary is the `ratios` bench.

// `criterion_group!` defines a `pub fn benches` without documentation.
#![allow(missing_docs)]

mod workloads;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

use workloads::*;

fn map_unmap(c: &mut Criterion, files: &Files) {
    let mut group = c.benchmark_group("map_unmap_4KiB_file");
    let file = &files.small;
    group.bench_function("ours", |b| b.iter(|| map_unmap_ours(file)));
    group.bench_function("ours_len_given", |b| b.iter(|| map_unmap_ours_len(file)));
    group.bench_function("raw", |b| b.iter(|| map_unmap_raw(file)));
    group.bench_function("memmap2", |b| b.iter(|| map_unmap_memmap2(file)));
    group.finish();
}

fn scan(c: &mut Criterion, files: &Files, sizes: &Sizes) {
    let mut group = c.benchmark_group("scan_file");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Bytes(sizes.file as u64));
    let file = &files.big;
    let ways = [
        Scan::Default,
        #[cfg(mman_has = "MAP_POPULATE")]
        Scan::Populate,
        Scan::Sequential,
        #[cfg(mman_populate)]
        Scan::Prefault,
    ];
    for how in ways {
        group.bench_function(format!("ours_{how:?}"), |b| b.iter(|| scan_ours(file, how)));
        group.bench_function(format!("raw_{how:?}"), |b| b.iter(|| scan_raw(file, how)));
        group.bench_function(format!("memmap2_{how:?}"), |b| {
            b.iter(|| scan_memmap2(file, how))
        });
    }
    group.bench_function("std_fs_read", |b| b.iter(|| scan_std(&files.big_path)));
    group.finish();
}

fn random_reads(c: &mut Criterion, files: &Files, sizes: &Sizes) {
    let mut group = c.benchmark_group("random_4KiB_reads");
    group.throughput(Throughput::Elements(sizes.reads as u64));
    let file = &files.big;
    let offsets = random_offsets(sizes.file, sizes.reads);
    // SAFETY: the bench's files are its own, and never truncated.
    let ours = unsafe { prefaulting().map(file).unwrap() };
    // SAFETY: as above.
    let theirs = unsafe { memmap2::MmapOptions::new().populate().map(file).unwrap() };
    let raw = RawMap::new(file, false);
    group.bench_function("ours", |b| b.iter(|| random_reads_slice(&ours, &offsets)));
    group.bench_function("ours_checked_read_at", |b| {
        b.iter(|| random_reads_checked(&ours, &offsets))
    });
    group.bench_function("raw", |b| {
        b.iter(|| random_reads_slice(raw.bytes(), &offsets))
    });
    group.bench_function("memmap2", |b| {
        b.iter(|| random_reads_slice(&theirs, &offsets))
    });
    group.bench_function("read_at", |b| b.iter(|| random_reads_pread(file, &offsets)));
    group.finish();
}

fn anonymous(c: &mut Criterion, sizes: &Sizes) {
    let mut group = c.benchmark_group("anonymous_write_every_page");
    group
        .sample_size(10)
        .throughput(Throughput::Bytes(sizes.anon as u64));
    let len = sizes.anon;
    group.bench_function("vec", |b| b.iter(|| anon_vec(len)));
    let ways = [
        Anon::Default,
        #[cfg(mman_has = "MAP_POPULATE")]
        Anon::Populate,
        #[cfg(mman_has = "MADV_HUGEPAGE")]
        Anon::HugePages,
    ];
    for how in ways {
        group.bench_function(format!("ours_{how:?}"), |b| b.iter(|| anon_ours(len, how)));
        group.bench_function(format!("raw_{how:?}"), |b| b.iter(|| anon_raw(len, how)));
        group.bench_function(format!("memmap2_{how:?}"), |b| {
            b.iter(|| anon_memmap2(len, how))
        });
    }
    group.finish();
}

fn flush(c: &mut Criterion, files: &Files) {
    let mut group = c.benchmark_group("flush_dirty_1MiB");
    group.sample_size(20);
    let [f_ours, f_raw, f_memmap2] = &files.dirty;
    // SAFETY: the bench's files are its own, and never truncated.
    let mut ours = unsafe { prefaulting().map_mut(f_ours).unwrap() };
    // SAFETY: as above.
    let mut theirs = unsafe {
        memmap2::MmapOptions::new()
            .populate()
            .map_mut(f_memmap2)
            .unwrap()
    };
    let mut raw = RawMap::new(f_raw, true);
    let mut round = 0u8;
    let mut next = move || {
        round = round.wrapping_add(1);
        round
    };
    group.bench_function("ours", |b| {
        b.iter_batched(
            &mut next,
            |r| flush_ours(&mut ours, 0, r),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("raw", |b| {
        b.iter_batched(
            &mut next,
            |r| flush_raw(raw.bytes_mut(), 0, r),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("memmap2", |b| {
        b.iter_batched(
            &mut next,
            |r| flush_memmap2(&mut theirs, 0, r),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn all(c: &mut Criterion) {
    let sizes = Sizes::from_env();
    let files = Files::new(&sizes);
    map_unmap(c, &files);
    scan(c, &files, &sizes);
    random_reads(c, &files, &sizes);
    anonymous(c, &sizes);
    flush(c, &files);
}

criterion_group!(benches, all);
criterion_main!(benches);
