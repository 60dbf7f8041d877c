//! The receiving end of a container's terminal. With `tty: true`, the
//! container's init process opens a pseudo-terminal and sends its master side
//! over a Unix socket (the OCI "console socket"); the monitor keeps that fd
//! to relay the terminal and to resize it.

use std::io::{self, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};

/// A listening console socket. Bind it before creating the container and
/// pass [`ConsoleSocket::path`] in [`Stdio::console_socket`](super::Stdio);
/// once the container is created, [`ConsoleSocket::receive_master`] returns
/// the terminal.
#[derive(Debug)]
pub struct ConsoleSocket {
    listener: UnixListener,
    path: PathBuf,
}

impl ConsoleSocket {
    /// Listens on `path` (which must not exist yet).
    pub fn bind(path: impl Into<PathBuf>) -> io::Result<Self> {
        let path = path.into();
        let listener = UnixListener::bind(&path)?;
        Ok(ConsoleSocket { listener, path })
    }

    /// Where the runtime connects.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Accepts the runtime's connection and takes the pseudo-terminal master
    /// it sends. Blocks until the container has been created.
    pub fn receive_master(&self) -> io::Result<OwnedFd> {
        let (stream, _) = self.listener.accept()?;
        // The message carries the name of the master ("/dev/ptmx") and the fd.
        let mut name = [0u8; 64];
        let mut iov = [IoSliceMut::new(&mut name)];
        let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
        let message = recvmsg::<()>(
            stream.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )
        .map_err(io::Error::from)?;
        for cmsg in message.cmsgs().map_err(io::Error::from)? {
            if let ControlMessageOwned::ScmRights(fds) = cmsg {
                if let Some(&fd) = fds.first() {
                    // SAFETY: the kernel just installed this descriptor in our
                    // table for us alone; nothing else owns it.
                    return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
                }
            }
        }
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the console socket message carried no file descriptor",
        ))
    }
}

/// Sets a terminal's size (rows, columns) through its master side.
pub fn set_size(master: &OwnedFd, rows: u16, cols: u16) -> io::Result<()> {
    let size = rustix::termios::Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    rustix::termios::tcsetwinsize(master, size).map_err(io::Error::from)
}

/// A `[rows, columns]` console size from the API, if it is one.
pub fn console_size(size: Option<&[usize]>) -> Option<(u16, u16)> {
    match size? {
        [rows, cols] if *rows > 0 && *cols > 0 => {
            Some((u16::try_from(*rows).ok()?, u16::try_from(*cols).ok()?))
        }
        _ => None,
    }
}

impl Drop for ConsoleSocket {
    fn drop(&mut self) {
        // The socket file is ours; a failure only leaves a stale file behind.
        let _ = std::fs::remove_file(&self.path);
    }
}
