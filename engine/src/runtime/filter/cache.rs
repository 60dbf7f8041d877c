//! Compiled seccomp programs kept in files, one per distinct profile, so
//! that a profile is compiled once rather than at every container start.
//!
//! A file is named after its key (SHA-256 of the profile's JSON and of what
//! else shapes the program: libseccomp's version and API level, the host
//! architecture and kernel release) and holds a magic, the key, the
//! instruction count, the program and a SHA-256 of all of that. A file that
//! is short, has another key, a wrong count or digest, is not a regular file
//! owned by this user, or is writable by anyone else is never loaded: the
//! program is compiled again and the file replaced. Files are written to a
//! temporary name and renamed, so concurrent writers of the same profile
//! leave one whole file. The directory is created for this user only and is
//! never mounted into a container.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::PathBuf;

use sha2::{Digest, Sha256};

/// The start of every cache file; the digit is the format's version.
const MAGIC: &[u8; 8] = b"STKBPF01";
/// The kernel's limit on the instructions of one filter (`BPF_MAXINSNS`).
const MAX_INSTRUCTIONS: usize = 4096;
/// The size of one `sock_filter` instruction.
pub(super) const INSTRUCTION_SIZE: usize = 8;
const DIGEST_SIZE: usize = 32;
const HEADER_SIZE: usize = MAGIC.len() + DIGEST_SIZE + 4;

/// What a cached program is found by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Key([u8; DIGEST_SIZE]);

impl Key {
    /// The key of a profile, given as its JSON, compiled on `host` (everything
    /// besides the profile that changes the program).
    pub(super) fn new(profile_json: &[u8], host: &str) -> Key {
        let mut hasher = Sha256::new();
        for part in [MAGIC.as_slice(), host.as_bytes(), profile_json] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        Key(hasher.finalize().into())
    }

    fn file_name(&self) -> String {
        let hex: String = self.0.iter().map(|byte| format!("{byte:02x}")).collect();
        format!("{hex}.bpf")
    }
}

/// Why a cache file was not used.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(super) enum Invalid {
    /// Too short, too long, or not the size its count says.
    #[error("its size does not match its header")]
    Size,
    /// Another format or another file.
    #[error("it does not start with the cache's magic")]
    Magic,
    /// It holds the program of another profile.
    #[error("it holds another profile's program")]
    Key,
    /// Empty or longer than the kernel accepts.
    #[error("its instruction count is out of range")]
    Count,
    /// Its content was changed or cut after it was written.
    #[error("its checksum does not match")]
    Digest,
}

/// The cache file's bytes for `program` under `key`.
pub(super) fn encode(key: &Key, program: &[u8]) -> Vec<u8> {
    let count = (program.len() / INSTRUCTION_SIZE) as u32;
    let mut bytes = Vec::with_capacity(HEADER_SIZE + program.len() + DIGEST_SIZE);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&key.0);
    bytes.extend_from_slice(&count.to_le_bytes());
    bytes.extend_from_slice(program);
    let digest = Sha256::digest(&bytes);
    bytes.extend_from_slice(&digest);
    bytes
}

/// The program in a cache file's bytes, if they are whole and hold `key`'s.
pub(super) fn decode<'a>(key: &Key, bytes: &'a [u8]) -> Result<&'a [u8], Invalid> {
    if bytes.len() < HEADER_SIZE + DIGEST_SIZE {
        return Err(Invalid::Size);
    }
    let (content, digest) = bytes.split_at(bytes.len() - DIGEST_SIZE);
    let (magic, rest) = content.split_at(MAGIC.len());
    let (stored_key, rest) = rest.split_at(DIGEST_SIZE);
    let (count, program) = rest.split_at(4);
    if magic != MAGIC {
        return Err(Invalid::Magic);
    }
    if stored_key != key.0 {
        return Err(Invalid::Key);
    }
    let count = u32::from_le_bytes([count[0], count[1], count[2], count[3]]) as usize;
    if count == 0 || count > MAX_INSTRUCTIONS {
        return Err(Invalid::Count);
    }
    if program.len() != count * INSTRUCTION_SIZE {
        return Err(Invalid::Size);
    }
    if Sha256::digest(content).as_slice() != digest {
        return Err(Invalid::Digest);
    }
    Ok(program)
}

/// Whether `program` can be stored: whole instructions, as many as the kernel takes.
pub(super) fn storable(program: &[u8]) -> bool {
    program.len() % INSTRUCTION_SIZE == 0
        && (1..=MAX_INSTRUCTIONS).contains(&(program.len() / INSTRUCTION_SIZE))
}

/// A directory of cached programs.
#[derive(Clone, Debug)]
pub(super) struct Cache {
    dir: PathBuf,
}

impl Cache {
    pub(super) fn new(dir: impl Into<PathBuf>) -> Cache {
        Cache { dir: dir.into() }
    }

    fn path(&self, key: &Key) -> PathBuf {
        self.dir.join(key.file_name())
    }

    /// The cached program of `key`; `Ok(None)` when there is none, or only
    /// a file that must not be used (see the module documentation).
    pub(super) fn load(&self, key: &Key) -> io::Result<Option<Vec<u8>>> {
        let path = self.path(key);
        let mut file = match OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&path)
        {
            Ok(file) => file,
            Err(error)
                if matches!(
                    error.raw_os_error(),
                    Some(nix::libc::ENOENT | nix::libc::ELOOP)
                ) =>
            {
                return Ok(None)
            }
            Err(error) => return Err(error),
        };
        if !trusted(&file.metadata()?, false) {
            return Ok(None);
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(decode(key, &bytes).ok().map(<[u8]>::to_vec))
    }

    /// Stores `program` under `key`, replacing whatever file was there.
    pub(super) fn store(&self, key: &Key, program: &[u8]) -> io::Result<()> {
        if !storable(program) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a program of {} bytes is not 1 to {MAX_INSTRUCTIONS} instructions",
                    program.len()
                ),
            ));
        }
        self.ensure_dir()?;
        let mut temporary = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&self.dir)?;
        temporary.write_all(&encode(key, program))?;
        temporary
            .persist(self.path(key))
            .map_err(|error| error.error)?;
        Ok(())
    }

    /// Creates the directory for this user only, or checks that the one
    /// there is nobody else's to write.
    fn ensure_dir(&self) -> io::Result<()> {
        match DirBuilder::new().mode(0o700).create(&self.dir) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                let metadata = fs::symlink_metadata(&self.dir)?;
                if trusted(&metadata, true) {
                    Ok(())
                } else {
                    Err(io::Error::new(
                        io::ErrorKind::PermissionDenied,
                        format!(
                            "{} is not a directory of this user that only it can write",
                            self.dir.display()
                        ),
                    ))
                }
            }
            Err(error) => Err(error),
        }
    }
}

/// A directory (or regular file) owned by this process's user and writable
/// by nobody else.
fn trusted(metadata: &fs::Metadata, dir: bool) -> bool {
    let kind = if dir {
        metadata.is_dir()
    } else {
        metadata.is_file()
    };
    kind && metadata.uid() == nix::unistd::geteuid().as_raw() && metadata.mode() & 0o022 == 0
}
