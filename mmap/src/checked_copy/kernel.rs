//! The checked copy through the kernel, which reads the source with its own checks, as every
//! system call reads user memory: a page it cannot read ends the copy with `EFAULT` instead of
//! raising a signal. On Linux and Android, `process_vm_readv` on this process; elsewhere,
//! `write(2)` into a pipe and `read(2)` back. The way every checked copy goes where the fault-fixup
//! copy is not at hand, and the way its results are compared with.

use std::io;
#[cfg(any(test, not(linux_kernel)))]
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::error::failed;
#[cfg(any(test, not(linux_kernel)))]
use crate::sys::page_size;

/// Copies `buf.len()` bytes from `src` of this process into `buf`, through the kernel, which checks
/// every page: a page it cannot read (past the end of a truncated file, or not readable) stops the
/// copy where a plain read would raise `SIGBUS` or `SIGSEGV`. Returns how many bytes were copied:
/// fewer than `buf.len()` only when such a page was reached, or a call failed after some were
/// copied (the error is returned only when none was, as `pread` does).
///
/// On Linux and Android, one call: `process_vm_readv(getpid(), ...)`. Elsewhere,
/// [`copy_through_pipe`].
///
/// # Safety
///
/// `src..src + buf.len()` lies within one live mapping of this process (its pages may be unbacked).
#[cfg(not(linux_kernel))]
pub(super) unsafe fn copy(src: *const u8, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: the caller upholds the same contract.
    unsafe { copy_through_pipe(src, buf) }
}

/// [`copy`] on Linux and Android: `process_vm_readv(getpid(), ...)`.
///
/// # Safety
///
/// As [`copy`].
#[cfg(linux_kernel)]
pub(super) unsafe fn copy(src: *const u8, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        let local = libc::iovec {
            iov_base: buf[done..].as_mut_ptr().cast(),
            iov_len: buf.len() - done,
        };
        // The address is only passed to the kernel, which checks it: no need for `add`'s promise.
        let remote = libc::iovec {
            iov_base: src.wrapping_add(done) as *mut std::ffi::c_void,
            iov_len: local.iov_len,
        };
        // SAFETY: the kernel writes at most `local.iov_len` bytes into `buf` (borrowed mutably),
        // and reads `remote` with its own checks: a bad page is an error, not a fault.
        let copied = unsafe { libc::process_vm_readv(libc::getpid(), &local, 1, &remote, 1, 0) };
        match copied {
            0 => break,
            n if n > 0 => done += n as usize,
            _ => {
                let error = io::Error::last_os_error();
                // A page that cannot be read ends the copy; so does any error once bytes were
                // copied, as `pread` returns them: the next copy, from there, gets the error.
                if error.raw_os_error() == Some(libc::EFAULT) || done > 0 {
                    break;
                }
                let what = format!("process_vm_readv of {} bytes at {src:p}", buf.len());
                return Err(failed(what, error));
            }
        }
    }
    Ok(done)
}

/// [`copy`] where `process_vm_readv` does not exist: `write(2)` of the source into a pipe,
/// then `read(2)` back into `buf`, at most a page at a time. `write` reads the source with the
/// kernel's checks, as every system call reads user memory: a page it cannot read fails with
/// `EFAULT` instead of faulting, and a page copies whole or not at all. The pipe is the call's own,
/// non-blocking, and closed on return; each write goes into an empty pipe, so it never blocks.
///
/// # Safety
///
/// As [`copy`].
#[cfg(any(test, not(linux_kernel)))]
unsafe fn copy_through_pipe(src: *const u8, buf: &mut [u8]) -> io::Result<usize> {
    let len = buf.len();
    let failed_with = |what: &str, source: io::Error| {
        failed(
            format!("{what} of the checked copy of {len} bytes at {src:p}"),
            source,
        )
    };
    let call_failed = |what: &str| failed_with(what, io::Error::last_os_error());
    let (read_end, write_end) = nonblocking_pipe().map_err(|error| failed_with("pipe", error))?;
    let page = page_size();
    let mut done = 0;
    while done < buf.len() {
        // The address is only passed to the kernel, which checks it: no need for `add`'s promise.
        let from = src.wrapping_add(done);
        let chunk = (page - from as usize % page).min(buf.len() - done);
        // SAFETY: write only reads `chunk` bytes at `from`, through the kernel's checks: a page it
        // cannot read is `EFAULT`, not a fault.
        let written = unsafe { libc::write(write_end.as_raw_fd(), from.cast(), chunk) };
        if written <= 0 {
            // As `copy` on Linux: an unreadable page, or an error once bytes were copied,
            // ends the copy.
            if io::Error::last_os_error().raw_os_error() == Some(libc::EFAULT) || done > 0 {
                break;
            }
            return Err(call_failed("write"));
        }
        let end = done + written as usize;
        while done < end {
            let into = buf[done..].as_mut_ptr().cast();
            // SAFETY: read writes at most `end - done` bytes into `buf[done..]`, which this
            // function borrows mutably; the pipe holds that many.
            let got = unsafe { libc::read(read_end.as_raw_fd(), into, end - done) };
            if got <= 0 {
                return Err(call_failed("read"));
            }
            done += got as usize;
        }
    }
    Ok(done)
}

/// A pipe whose two ends are non-blocking and close on `exec`: (read end, write end).
#[cfg(any(test, not(linux_kernel)))]
fn nonblocking_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as std::ffi::c_int; 2];
    // Apple's systems have no pipe2: the flags are set right after, by fcntl.
    #[cfg(target_vendor = "apple")]
    // SAFETY: `fds` has room for the two descriptors pipe writes.
    let ret = unsafe { libc::pipe(fds.as_mut_ptr()) };
    #[cfg(not(target_vendor = "apple"))]
    // SAFETY: as above.
    let ret = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) };
    if ret != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe just returned these two descriptors, and nothing else owns them.
    let ends = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    #[cfg(target_vendor = "apple")]
    for fd in [fds[0], fds[1]] {
        // SAFETY: fcntl changes the flags of a descriptor this function owns.
        let ok = unsafe {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) == 0
                && libc::fcntl(fd, libc::F_SETFL, libc::O_NONBLOCK) == 0
        };
        if !ok {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(ends)
}

#[cfg(test)]
mod tests {
    use std::ffi::c_void;

    use super::*;
    use crate::sys::{mmap, mprotect, munmap};
    use mmap_sys as c;

    /// A file of `pages` pages, byte `i` holding `i % 251`, mapped shared and read-only.
    fn mapped_file(pages: usize) -> (std::fs::File, *mut c_void, Vec<u8>) {
        use std::io::Write;
        let bytes: Vec<u8> = (0..pages * page_size()).map(|i| (i % 251) as u8).collect();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&bytes).unwrap();
        let fd = file.as_raw_fd();
        // SAFETY: a new shared map at an address the kernel picks; `file` outlives every read of
        // it.
        let ptr = unsafe {
            mmap(
                std::ptr::null_mut(),
                bytes.len(),
                c::PROT_READ,
                c::MAP_SHARED,
                fd,
                0,
            )
        };
        (file, ptr.unwrap(), bytes)
    }

    // The checked copy of macOS and the BSDs, run here too: what `read_at` does there.
    #[test]
    fn copy_through_pipe_stops_at_the_first_page_past_the_end_of_the_file() {
        let page = page_size();
        let (file, ptr, bytes) = mapped_file(3);
        // The second page keeps half of its bytes (the rest reads as zeroes); the third is gone,
        // and reading it would raise SIGBUS.
        file.set_len((page + page / 2) as u64).unwrap();
        let mut buf = vec![0xff; 3 * page];
        // SAFETY: the three pages lie within the map made above.
        let copied = unsafe { copy_through_pipe(ptr.cast(), &mut buf) }.unwrap();
        assert_eq!(copied, 2 * page);
        assert_eq!(buf[..page + page / 2], bytes[..page + page / 2]);
        assert!(buf[page + page / 2..2 * page].iter().all(|&b| b == 0));
        // From the middle of a page, across the gone one.
        let from = ptr.cast::<u8>().wrapping_add(10);
        // SAFETY: the two pages from byte 10 on lie within the map made above.
        let copied = unsafe { copy_through_pipe(from, &mut buf[..2 * page]) }.unwrap();
        assert_eq!(copied, 2 * page - 10);
        // SAFETY: the map made above, not read again.
        unsafe { munmap(ptr, 3 * page) }.unwrap();
    }

    #[test]
    fn copy_through_pipe_stops_at_a_page_that_cannot_be_read() {
        let page = page_size();
        let (_file, ptr, bytes) = mapped_file(2);
        // SAFETY: the second page of the map made above, which nothing reads but the kernel.
        unsafe { mprotect(ptr.cast::<u8>().add(page).cast(), page, c::PROT_NONE) }.unwrap();
        let mut buf = vec![0; 2 * page];
        // SAFETY: the two pages lie within the map made above.
        let copied = unsafe { copy_through_pipe(ptr.cast(), &mut buf) }.unwrap();
        assert_eq!(copied, page);
        assert_eq!(buf[..page], bytes[..page]);
        // SAFETY: the map made above, not read again.
        unsafe { munmap(ptr, 2 * page) }.unwrap();
    }
}
