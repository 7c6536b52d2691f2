//! The checks made before any system call: lengths, offsets, and the one helper that validates
//! every `(offset, len)` range given to a call on an existing map.

use std::io;

use crate::error::invalid;

/// A map's length must fit `isize`, as every Rust slice's.
pub(crate) fn check_len(len: usize) -> io::Result<()> {
    if len > isize::MAX as usize {
        Err(invalid(format_args!("len {len} is over isize::MAX")))
    } else {
        Ok(())
    }
}

/// A file range must end within `u64`, and within `off_t` (`i64`), the largest offset a file has.
pub(crate) fn check_file_range(offset: u64, len: usize) -> io::Result<()> {
    match offset.checked_add(len as u64) {
        None => Err(invalid(format_args!(
            "offset {offset} + len {len} overflows u64"
        ))),
        Some(end) if end > i64::MAX as u64 => Err(invalid(format_args!(
            "offset {offset} + len {len} is past the largest file offset, i64::MAX"
        ))),
        Some(_) => Ok(()),
    }
}

/// The one check of a range that must lie within `file` (`"the file"`, for messages) of `size`
/// bytes: `offset + len`, or where `len` is `None` (the range runs to the end of the file) the
/// offset alone. Returns the range's length.
pub(crate) fn check_within_file(
    offset: u64,
    len: Option<u64>,
    size: u64,
    file: &str,
) -> io::Result<u64> {
    match len {
        None => size.checked_sub(offset).ok_or_else(|| {
            invalid(format_args!(
                "offset {offset} is past the end of {file} ({size} bytes)"
            ))
        }),
        Some(len) if offset.checked_add(len).map_or(true, |end| end > size) => {
            Err(invalid(format_args!(
                "offset {offset} + len {len} reaches past the end of {file} ({size} bytes)"
            )))
        }
        Some(len) => Ok(len),
    }
}

/// The one check of every `(offset, len)` range within a map of `map_len` bytes: the range must not
/// overflow and must end within the map. An empty range at `map_len` is within it.
pub(crate) fn check_range(offset: usize, len: usize, map_len: usize) -> io::Result<()> {
    match offset.checked_add(len) {
        None => Err(invalid(format_args!(
            "offset {offset} + len {len} overflows usize"
        ))),
        Some(end) if end > map_len => Err(invalid(format_args!(
            "range {offset}..{end} (offset {offset}, len {len}) is outside the map of \
                 {map_len} bytes"
        ))),
        Some(_) => Ok(()),
    }
}

/// The one check of an offset to read a map at (`read_at`, `read_exact_at`): past the map's end
/// is the end, where a read returns 0 as `pread` does past the end of a file, but past
/// `isize::MAX`, which no map reaches, the offset is bad input, as it is for `pread` past the
/// largest `off_t` (`EINVAL`): most likely a subtraction that wrapped.
pub(crate) fn check_read_offset(offset: usize) -> io::Result<()> {
    if offset > isize::MAX as usize {
        Err(invalid(format_args!(
            "offset {offset} is past isize::MAX, the end of any map"
        )))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Named;

    #[test]
    fn ranges_within_the_map_pass() {
        assert!(check_range(0, 10, 10).is_ok());
        assert!(check_range(10, 0, 10).is_ok());
        assert!(check_range(3, 4, 10).is_ok());
    }

    #[test]
    fn ranges_outside_the_map_name_the_call_and_the_arguments() {
        let error = check_range(8, 4, 10).unwrap_err().named("advise_range");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(
            error.to_string(),
            "advise_range: range 8..12 (offset 8, len 4) is outside the map of 10 bytes"
        );
        let error = check_range(usize::MAX, 1, 10).unwrap_err();
        assert!(error.to_string().contains("overflows usize"), "{error}");
        assert!(check_range(11, 0, 10).is_err());
    }

    #[test]
    fn read_offsets_past_the_end_pass_and_past_isize_max_fail() {
        assert!(check_read_offset(0).is_ok());
        assert!(check_read_offset(isize::MAX as usize).is_ok());
        let error = check_read_offset(usize::MAX).unwrap_err().named("read_at");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(
            error.to_string(),
            format!(
                "read_at: offset {} is past isize::MAX, the end of any map",
                usize::MAX
            )
        );
    }

    #[test]
    fn file_ranges_must_fit_u64_and_off_t() {
        let error = check_file_range(u64::MAX - 1, 2).unwrap_err().named("map");
        assert_eq!(
            error.to_string(),
            format!("map: offset {} + len 2 overflows u64", u64::MAX - 1)
        );
        assert!(check_file_range(i64::MAX as u64, 1).is_err());
        assert!(check_file_range(i64::MAX as u64 + 1, 0).is_err());
        assert!(check_file_range(4096, 4096).is_ok());
    }
}
