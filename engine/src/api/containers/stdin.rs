//! The container's standard input for attached clients: the daemon asks
//! the container's monitor for it on the monitor's stdin socket (see
//! `monitor::stdin`) and writes what the client sends into it; with a TTY
//! the same descriptor, the terminal's master side, takes resizes.

use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;

use tokio::io::unix::AsyncFd;

use super::super::Context;
use super::exec_run::read_report;

/// How long a client gets to close its side of a hijacked connection
/// after the output ended.
pub(super) const INPUT_LINGER: std::time::Duration = std::time::Duration::from_secs(2);

/// The container's input (or terminal), from its monitor.
pub(super) async fn container_stdin(ctx: &Context, id: &str) -> std::io::Result<OwnedFd> {
    let path = ctx.containers.layout().container_stdin_socket(id);
    tokio::task::spawn_blocking(move || {
        let stream = UnixStream::connect(&path).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!(
                    "the container's input is not open ({}): {e}",
                    path.display()
                ),
            )
        })?;
        let (line, fd) = read_report(&OwnedFd::from(stream))?;
        match fd {
            Some(fd) if line.trim() == "ok" => Ok(fd),
            _ => Err(std::io::Error::other(
                "the container's input was given to another client already",
            )),
        }
    })
    .await
    .map_err(std::io::Error::other)?
}

/// A terminal master or a pipe, registered with the reactor.
pub(super) struct FdStream {
    fd: AsyncFd<OwnedFd>,
}

impl FdStream {
    /// A non-blocking duplicate of `master`.
    pub(super) fn new(master: &OwnedFd) -> std::io::Result<FdStream> {
        let fd = master.try_clone()?;
        rustix::fs::fcntl_setfl(&fd, rustix::fs::OFlags::NONBLOCK)?;
        let interest = tokio::io::Interest::READABLE | tokio::io::Interest::WRITABLE;
        // SAFETY: the AsyncFd owns the descriptor, so it stays open for as
        // long as it is registered.
        let fd = unsafe { AsyncFd::register_with_interest(fd, interest)? };
        Ok(FdStream { fd })
    }

    pub(super) async fn read(&self, buffer: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let mut guard = self.fd.readable().await?;
            match guard.try_io(|fd| {
                rustix::io::read(fd.get_ref(), &mut *buffer).map_err(std::io::Error::from)
            }) {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }

    pub(super) async fn write_all(&self, mut bytes: &[u8]) -> std::io::Result<()> {
        while !bytes.is_empty() {
            let mut guard = self.fd.writable().await?;
            match guard
                .try_io(|fd| rustix::io::write(fd.get_ref(), bytes).map_err(std::io::Error::from))
            {
                Ok(Ok(n)) => bytes = &bytes[n..],
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
        Ok(())
    }
}
