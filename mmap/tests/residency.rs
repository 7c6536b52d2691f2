//! Residency (`mincore`): how many pages of a map are in RAM, after `populate`, `populate_write`,
//! `MADV_PAGEOUT` and `MADV_DONTNEED`.

mod common;

use mman::MmapMut;

#[cfg(mman_populate)]
const PAGES: usize = 64;

#[test]
#[cfg(mman_populate)]
fn populate_write_makes_every_page_resident_and_dont_need_drops_them() {
    use mman::{page_size, UncheckedAdvice};
    let map = MmapMut::map_anon(PAGES * page_size()).unwrap();
    assert_eq!(
        map.resident_pages().unwrap(),
        0,
        "an untouched anonymous map has no pages"
    );
    map.populate_write().unwrap();
    assert_eq!(map.resident_pages().unwrap(), PAGES);
    let per_page = map.residency(0, map.len()).unwrap();
    assert_eq!(per_page.len(), PAGES);
    assert!(per_page.iter().all(|&resident| resident));

    // SAFETY: nothing reads the map until it is dropped.
    unsafe {
        map.unchecked_advise_range(UncheckedAdvice::DontNeed, 0, PAGES / 2 * page_size())
            .unwrap()
    };
    assert_eq!(map.resident_pages().unwrap(), PAGES / 2);
    let per_page = map.residency(0, map.len()).unwrap();
    assert!(per_page[..PAGES / 2].iter().all(|&resident| !resident));
    assert!(per_page[PAGES / 2..].iter().all(|&resident| resident));
}

#[test]
#[cfg(all(mman_populate, mman_has = "MADV_PAGEOUT"))]
fn populate_reads_a_file_map_in_and_pageout_reclaims_anonymous_pages() {
    use mman::{page_size, Advice};
    let file = tempfile::tempfile().unwrap();
    file.set_len((PAGES * page_size()) as u64).unwrap();
    // SAFETY: the temporary file is this test's alone.
    let map = unsafe { mman::Mmap::map(&file).unwrap() };
    map.populate().unwrap();
    assert_eq!(
        map.resident_pages().unwrap(),
        PAGES,
        "populate reads every page in"
    );

    let mut anon = MmapMut::map_anon(PAGES * page_size()).unwrap();
    anon.fill(1);
    assert_eq!(anon.resident_pages().unwrap(), PAGES);
    match anon.advise(Advice::PageOut) {
        // MADV_PAGEOUT reclaims the pages to swap; with no swap they stay.
        Ok(()) if has_swap() => assert!(anon.resident_pages().unwrap() < PAGES),
        Ok(()) => println!("no swap: MADV_PAGEOUT keeps anonymous pages resident; not asserted"),
        Err(error) => assert_eq!(error.kind(), std::io::ErrorKind::Unsupported, "{error}"),
    }
    assert!(
        anon.iter().all(|&b| b == 1),
        "paged out or not, the bytes stay"
    );
}

#[cfg(all(mman_populate, mman_has = "MADV_PAGEOUT"))]
fn has_swap() -> bool {
    common::meminfo("SwapTotal") > 0
}

#[test]
fn residency_of_a_range_counts_the_pages_it_touches() {
    let page = mman::page_size();
    let mut map = MmapMut::map_anon(4 * page).unwrap();
    map[page] = 1;
    assert_eq!(map.residency(page - 1, 2).unwrap(), [false, true]);
    assert!(map.residency(0, 0).unwrap().is_empty());
    let error = map.residency(4 * page, 1).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{error}");
    let expected = format!("residency: range {}..{}", 4 * page, 4 * page + 1);
    assert!(error.to_string().starts_with(&expected), "{error}");
}
