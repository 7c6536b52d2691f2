//! Shares memory with a child process started by `std::process::Command`: the parent writes a
//! question into a `SharedMemory`, hands it to the child with `share_with` (the memory is
//! close-on-exec, and stays so for every other child), and runs this same program again as the
//! child, telling it the descriptor's number. The child takes the memory with `from_inherited`,
//! maps it, reads the question and writes its answer; the parent, once the child has exited,
//! seals the memory and reads the answer through a map that needs no `unsafe`.
//!
//! Run: `cargo run -p mman --example shared_memory_child` (Linux and Android: `memfd_create`).

#[cfg(mman_memfd)]
fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next()) {
        (Some("child"), Some(fd)) => memfd::child(&fd),
        _ => memfd::parent(),
    }
}

#[cfg(not(mman_memfd))]
fn main() {
    println!("this build has no SharedMemory: memfd_create is Linux's and Android's");
}

#[cfg(mman_memfd)]
mod memfd {
    use std::io;
    use std::os::fd::RawFd;
    use std::process::Command;

    use mman::{Seals, SharedMemory};

    const QUESTION: &[u8] = b"what is 6 x 7?";
    /// Where the child writes its answer.
    const ANSWER_AT: usize = 2048;

    pub(crate) fn parent() -> io::Result<()> {
        let memory = SharedMemory::create("question", 4096)?;
        {
            // SAFETY: no other process has the memory yet; the map is gone before the child runs.
            let mut map = unsafe { memory.map_mut()? };
            map[..QUESTION.len()].copy_from_slice(QUESTION);
        }
        let mut command = Command::new(std::env::current_exe()?);
        let fd = memory.share_with(&mut command)?;
        println!(
            "parent: asked {:?}; the child gets the memory at descriptor {fd}",
            text(QUESTION)
        );
        let status = command.arg("child").arg(fd.to_string()).status()?;
        if !status.success() {
            return Err(io::Error::other(format!("the child failed: {status}")));
        }

        // The child has exited: seal the memory, and read it without `unsafe`.
        memory.add_seals(Seals::SHRINK | Seals::GROW | Seals::WRITE)?;
        let map = memory.map_sealed()?;
        let answer = &map[ANSWER_AT..][..2];
        println!("parent: the child answered {:?}", text(answer));
        if answer != b"42" {
            return Err(io::Error::other("the child's answer is not in the memory"));
        }
        Ok(())
    }

    pub(crate) fn child(fd: &str) -> io::Result<()> {
        let fd: RawFd = fd
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "not a descriptor number"))?;
        // SAFETY: the parent handed this descriptor to this process (`share_with`), and nothing
        // else in it owns the number.
        let memory = unsafe { SharedMemory::from_inherited(fd)? };
        // SAFETY: the parent waits for this process to exit before it touches the memory again.
        let mut map = unsafe { memory.map_mut()? };
        let question = &map[..QUESTION.len()];
        println!("child: read {:?}", text(question));
        if question != QUESTION {
            return Err(io::Error::other(
                "the parent's question is not in the memory",
            ));
        }
        map[ANSWER_AT..][..2].copy_from_slice(b"42");
        Ok(())
    }

    fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(bytes)
    }
}
