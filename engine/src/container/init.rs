//! Docker's `--init`: a minimal init (tini) bound read-only into the
//! container at [`INIT_TARGET`] runs as PID 1, reaps orphaned zombies and
//! forwards signals to the container's process, its only child.
//!
//! The binary comes from the host. It must be statically linked: it runs
//! inside any image, including ones without a C library (busybox).

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Where the init is bound inside the container (Docker's path).
pub(crate) const INIT_TARGET: &str = "/sbin/docker-init";

/// Looked for in this order when the daemon has no `--init-path`:
/// Debian's `tini` package provides the first, Docker's packages the second.
pub(crate) const CANDIDATES: &[&str] = &["/usr/bin/tini-static", "/usr/bin/docker-init"];

/// The process arguments with the init in front: it runs `args` as its
/// child after `--`, as Docker runs its `docker-init`.
pub(crate) fn wrap_args(args: &[String]) -> Vec<String> {
    [INIT_TARGET.to_owned(), "--".to_owned()]
        .into_iter()
        .chain(args.iter().cloned())
        .collect()
}

/// The init binary for a container: the daemon's `configured` one (which
/// must exist and be executable), or else the first of `candidates` that
/// exists and is a static executable. The error says what to do.
pub(crate) fn find(configured: Option<&Path>, candidates: &[&str]) -> Result<PathBuf, String> {
    if let Some(path) = configured {
        return match std::fs::metadata(path) {
            Ok(meta) if meta.is_file() && meta.permissions().mode() & 0o111 != 0 => {
                Ok(path.to_path_buf())
            }
            Ok(_) => Err(format!(
                "HostConfig.Init: the daemon's --init-path {} is not an executable file",
                path.display()
            )),
            Err(e) => Err(format!(
                "HostConfig.Init: the daemon's --init-path {}: {e}",
                path.display()
            )),
        };
    }
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|path| is_static_executable(path))
        .ok_or_else(|| {
            format!(
                "HostConfig.Init: no static init binary found (looked for {}); \
                 install one with `apt-get install tini`, or start the daemon with \
                 --init-path naming a statically linked tini",
                candidates.join(", ")
            )
        })
}

/// Whether `path` is an executable file in ELF format without a program
/// interpreter (that is, statically linked).
fn is_static_executable(path: &Path) -> bool {
    let executable =
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    let mut header = Vec::new();
    executable
        && File::open(path)
            .and_then(|f| f.take(64 * 1024).read_to_end(&mut header))
            .is_ok()
        && elf_is_static(&header) == Some(true)
}

/// Reads an ELF file's start: `Some(true)` when it has program headers and
/// none of them is `PT_INTERP` (no dynamic loader is needed), `Some(false)`
/// when one is, `None` when the bytes are not an ELF file whose program
/// headers lie within them.
fn elf_is_static(bytes: &[u8]) -> Option<bool> {
    const PT_INTERP: u32 = 3;
    if bytes.get(..4)? != b"\x7fELF" {
        return None;
    }
    let little = match bytes.get(5)? {
        1 => true,
        2 => false,
        _ => return None,
    };
    let word = |at: usize, len: usize| -> Option<u64> {
        let field = bytes.get(at..at.checked_add(len)?)?;
        let fold = |acc: u64, b: &u8| (acc << 8) | u64::from(*b);
        Some(if little {
            field.iter().rev().fold(0, fold)
        } else {
            field.iter().fold(0, fold)
        })
    };
    // Offsets of e_phoff, e_phentsize and e_phnum in ELF32 and ELF64.
    let (phoff, entsize, count) = match bytes.get(4)? {
        1 => (word(0x1c, 4)?, word(0x2a, 2)?, word(0x2c, 2)?),
        2 => (word(0x20, 8)?, word(0x36, 2)?, word(0x38, 2)?),
        _ => return None,
    };
    if count == 0 {
        return None;
    }
    let mut interpreter = false;
    for i in 0..count {
        let at = usize::try_from(phoff.checked_add(i.checked_mul(entsize)?)?).ok()?;
        interpreter |= word(at, 4)? == u64::from(PT_INTERP);
    }
    Some(!interpreter)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ELF64 little-endian header with program headers of these types.
    fn elf64(types: &[u32]) -> Vec<u8> {
        let mut bytes = vec![0u8; 64];
        bytes[..4].copy_from_slice(b"\x7fELF");
        bytes[4] = 2;
        bytes[5] = 1;
        bytes[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        bytes[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        bytes[0x38..0x3a].copy_from_slice(&(types.len() as u16).to_le_bytes());
        for typ in types {
            let mut entry = vec![0u8; 56];
            entry[..4].copy_from_slice(&typ.to_le_bytes());
            bytes.extend(entry);
        }
        bytes
    }

    /// An ELF32 big-endian header with program headers of these types.
    fn elf32_be(types: &[u32]) -> Vec<u8> {
        let mut bytes = vec![0u8; 52];
        bytes[..4].copy_from_slice(b"\x7fELF");
        bytes[4] = 1;
        bytes[5] = 2;
        bytes[0x1c..0x20].copy_from_slice(&52u32.to_be_bytes());
        bytes[0x2a..0x2c].copy_from_slice(&32u16.to_be_bytes());
        bytes[0x2c..0x2e].copy_from_slice(&(types.len() as u16).to_be_bytes());
        for typ in types {
            let mut entry = vec![0u8; 32];
            entry[..4].copy_from_slice(&typ.to_be_bytes());
            bytes.extend(entry);
        }
        bytes
    }

    #[test]
    fn static_and_dynamic_elf_files() {
        assert_eq!(elf_is_static(&elf64(&[6, 1, 1])), Some(true));
        assert_eq!(elf_is_static(&elf64(&[6, 3, 1])), Some(false));
        assert_eq!(elf_is_static(&elf32_be(&[1, 1])), Some(true));
        assert_eq!(elf_is_static(&elf32_be(&[3])), Some(false));
        assert_eq!(elf_is_static(b"#!/bin/sh\n"), None);
        assert_eq!(elf_is_static(&elf64(&[])), None);
        let mut cut = elf64(&[1, 3]);
        cut.truncate(64 + 56 + 2);
        assert_eq!(elf_is_static(&cut), None);
    }

    #[test]
    fn the_first_static_candidate_is_chosen() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8], mode: u32| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            path.display().to_string()
        };
        let dynamic = write("dynamic", &elf64(&[3, 1]), 0o755);
        let not_executable = write("plain", &elf64(&[1]), 0o644);
        let good = write("static", &elf64(&[1]), 0o755);
        let missing = dir.path().join("missing").display().to_string();
        let candidates = [&*missing, &*dynamic, &*not_executable, &*good];
        assert_eq!(find(None, &candidates), Ok(PathBuf::from(&good)));
        let err = find(None, &candidates[..3]).unwrap_err();
        assert!(err.contains("apt-get install tini"), "{err}");
        assert!(err.contains(&missing), "{err}");
        // A configured path is the administrator's choice: only its
        // existence is checked.
        assert_eq!(
            find(Some(Path::new(&dynamic)), &[]),
            Ok(PathBuf::from(&dynamic))
        );
        let err = find(Some(Path::new(&missing)), &candidates).unwrap_err();
        assert!(
            err.contains("--init-path") && err.contains(&missing),
            "{err}"
        );
        let err = find(Some(Path::new(&not_executable)), &[]).unwrap_err();
        assert!(err.contains("not an executable"), "{err}");
    }

    #[test]
    fn the_init_runs_the_command_after_a_double_dash() {
        let args = ["sleep".to_owned(), "5".to_owned()];
        assert_eq!(wrap_args(&args), [INIT_TARGET, "--", "sleep", "5"]);
    }
}
