//! Layer unpacking through `import`: content, metadata, whiteouts, links,
//! and refusal of every way out of the layer directory.

use std::fs;
use std::os::linux::fs::MetadataExt;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{gzip, root_or_skip, tar_of, Fixture, E};
use crate::image::{EntryError, ImageError};

fn layer_dir(fixture: &Fixture, name: &str) -> PathBuf {
    let details = fixture.store.inspect(name).unwrap();
    assert_eq!(details.layers.len(), 1);
    details.layers[0].path.clone()
}

fn xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    let mut buf = [0u8; 256];
    let n = rustix::fs::lgetxattr(path, name, &mut buf).ok()?;
    Some(buf[..n].to_vec())
}

#[test]
fn import_round_trip_keeps_content_and_metadata() {
    if !root_or_skip() {
        return;
    }
    let fixture = Fixture::new();
    let tar = tar_of(&[
        E::Dir("./"),
        E::Dir("./bin/"),
        E::FileMeta("bin/tool", b"#!/bin/sh\n", 0o4755, 1000, 1001, 1_234_567),
        E::Symlink("bin/sh", "/bin/tool"),
        E::HardLink("bin/tool2", "./bin/tool"),
        E::Char("dev/null", 1, 3),
        E::Fifo("run/fifo"),
        E::FileXattr("etc/conf", b"x=1\n", &[("user.origin", b"test")]),
    ]);
    fixture.import_tar(&gzip(&tar), Some("test:1")).unwrap();
    let dir = layer_dir(&fixture, "test:1");

    let tool = fs::symlink_metadata(dir.join("bin/tool")).unwrap();
    assert_eq!(fs::read(dir.join("bin/tool")).unwrap(), b"#!/bin/sh\n");
    assert_eq!(
        tool.permissions().mode() & 0o7777,
        0o4755,
        "setuid survives chown"
    );
    assert_eq!(
        (tool.st_uid(), tool.st_gid(), tool.st_mtime()),
        (1000, 1001, 1_234_567)
    );
    assert_eq!(
        fs::read_link(dir.join("bin/sh")).unwrap(),
        Path::new("/bin/tool")
    );
    let tool2 = fs::symlink_metadata(dir.join("bin/tool2")).unwrap();
    assert_eq!((tool2.st_ino(), tool.st_nlink()), (tool.st_ino(), 2));
    let null = fs::symlink_metadata(dir.join("dev/null")).unwrap();
    assert!(null.file_type().is_char_device());
    assert_eq!(
        (null.st_rdev(), null.permissions().mode() & 0o777),
        (rustix::fs::makedev(1, 3), 0o666)
    );
    assert!(fs::symlink_metadata(dir.join("run/fifo"))
        .unwrap()
        .file_type()
        .is_fifo());
    // Parents missing from the tar are created like tar does.
    assert_eq!(
        fs::metadata(dir.join("run")).unwrap().permissions().mode() & 0o777,
        0o755
    );
    assert_eq!(
        xattr(&dir.join("etc/conf"), "user.origin").as_deref(),
        Some(&b"test"[..])
    );
    assert_eq!(
        fs::metadata(dir.join("bin")).unwrap().st_mtime(),
        1_600_000_000,
        "dir mtime set last"
    );
    let details = fixture.store.inspect("test:1").unwrap();
    assert_eq!(details.summary.size, 10 + 4);
}

#[test]
fn whiteouts_become_overlayfs_markers() {
    if !root_or_skip() {
        return;
    }
    let fixture = Fixture::new();
    let tar = tar_of(&[
        E::Dir("etc/"),
        E::File("etc/.wh.passwd", b""),
        E::Dir("var/"),
        E::File("var/.wh..wh..opq", b""),
        E::File("var/kept", b"k"),
        E::File(".wh..wh.plnk/123.4", b"aufs"),
        E::FileXattr("etc/sneaky", b"", &[("trusted.overlay.redirect", b"/etc")]),
    ]);
    fixture.import_tar(&tar, Some("wh")).unwrap();
    let dir = layer_dir(&fixture, "wh");
    let whiteout = fs::symlink_metadata(dir.join("etc/passwd")).unwrap();
    assert!(whiteout.file_type().is_char_device());
    assert_eq!(whiteout.st_rdev(), 0);
    assert!(!dir.join("etc/.wh.passwd").exists());
    assert_eq!(
        xattr(&dir.join("var"), "trusted.overlay.opaque").as_deref(),
        Some(&b"y"[..])
    );
    assert!(!dir.join("var/.wh..wh..opq").exists());
    assert_eq!(fs::read(dir.join("var/kept")).unwrap(), b"k");
    assert!(!dir.join(".wh..wh.plnk").exists());
    assert_eq!(
        xattr(&dir.join("etc/sneaky"), "trusted.overlay.redirect"),
        None
    );
}

#[test]
fn later_entries_replace_earlier_ones() {
    if !root_or_skip() {
        return;
    }
    let fixture = Fixture::new();
    let victim = fixture.path().join("victim/passwd").display().to_string();
    let tar = tar_of(&[
        E::Symlink("a", "/etc"),
        E::Dir("a/"),
        E::File("a/f", b"inside"),
        E::Dir("d/"),
        E::File("d/x", b""),
        E::File("d", b"now a file"),
        // A file over a symlink replaces the symlink, never writes through it.
        E::Symlink("p", &victim),
        E::File("p", b"pwned"),
        E::Symlink("q", &victim),
        E::Char("q", 1, 3),
        E::Symlink("r", &victim),
        E::HardLink("r", "d"),
    ]);
    fixture.import_tar(&tar, Some("replace")).unwrap();
    let dir = layer_dir(&fixture, "replace");
    assert_eq!(fs::read(dir.join("p")).unwrap(), b"pwned");
    assert!(fs::symlink_metadata(dir.join("q"))
        .unwrap()
        .file_type()
        .is_char_device());
    assert_eq!(fs::read(dir.join("r")).unwrap(), b"now a file");
    fixture.assert_untouched();
    assert!(fs::symlink_metadata(dir.join("a")).unwrap().is_dir());
    assert_eq!(fs::read(dir.join("a/f")).unwrap(), b"inside");
    assert_eq!(fs::read(dir.join("d")).unwrap(), b"now a file");
}

/// Each hostile tarball is refused with the offending entry named, and
/// leaves nothing behind: not in the store, not beside it.
#[test]
fn hostile_tarballs_are_refused_without_a_trace() {
    if !root_or_skip() {
        return;
    }
    let fixture = Fixture::new();
    let victim = fixture.path().join("victim");
    let canary = format!("stack-test-canary-{}", std::process::id());
    let absolute = format!("{}/abs-escape", fixture.path().display());
    let victim_str = victim.display().to_string();
    let through_etc = format!("link/{canary}");
    let cases: Vec<(&str, Vec<E<'_>>, &str, EntryError)> = vec![
        (
            "dot-dot",
            vec![E::File("ok", b"1"), E::File("../escape", b"x")],
            "../escape",
            EntryError::ParentComponent,
        ),
        (
            "nested dot-dot",
            vec![E::File("a/../../escape", b"x")],
            "a/../../escape",
            EntryError::ParentComponent,
        ),
        (
            "absolute",
            vec![E::File(&absolute, b"x")],
            &absolute,
            EntryError::Absolute,
        ),
        (
            "through symlink to victim",
            vec![
                E::Symlink("link", &victim_str),
                E::File("link/passwd", b"pwned"),
            ],
            "link/passwd",
            EntryError::ThroughSymlink("link".into()),
        ),
        (
            "through symlink to /etc",
            vec![E::Symlink("link", "/etc"), E::File(&through_etc, b"pwned")],
            &through_etc,
            EntryError::ThroughSymlink("link".into()),
        ),
        (
            "through relative symlink",
            vec![
                E::Dir("d/"),
                E::Symlink("d/up", "../.."),
                E::File("d/up/escape", b"x"),
            ],
            "d/up/escape",
            EntryError::ThroughSymlink("d/up".into()),
        ),
        (
            "directory through symlink",
            vec![E::Symlink("link", &victim_str), E::Dir("link/sub/")],
            "link/sub/",
            EntryError::ThroughSymlink("link".into()),
        ),
        (
            "hardlink outside",
            vec![E::HardLink("h", "../x")],
            "h",
            EntryError::LinkOutside("../x".into()),
        ),
        (
            "hardlink absolute",
            vec![E::HardLink("h", "/etc/shadow")],
            "h",
            EntryError::LinkOutside("/etc/shadow".into()),
        ),
        (
            "hardlink through symlink",
            vec![
                E::Symlink("link", &victim_str),
                E::HardLink("h", "link/passwd"),
            ],
            "h",
            EntryError::ThroughSymlink("link".into()),
        ),
        (
            "hardlink to a symlinked target's parent",
            vec![E::Symlink("link", "/etc"), E::HardLink("link/x", "ok")],
            "link/x",
            EntryError::ThroughSymlink("link".into()),
        ),
        (
            "hardlink to nothing",
            vec![E::HardLink("h", "missing")],
            "h",
            EntryError::LinkTargetMissing("missing".into()),
        ),
        (
            "whiteout through symlink",
            vec![
                E::Symlink("link", &victim_str),
                E::File("link/.wh.passwd", b""),
            ],
            "link/.wh.passwd",
            EntryError::ThroughSymlink("link".into()),
        ),
        (
            "opaque through symlink",
            vec![
                E::Symlink("link", &victim_str),
                E::File("link/.wh..wh..opq", b""),
            ],
            "link/.wh..wh..opq",
            EntryError::ThroughSymlink("link".into()),
        ),
    ];
    let before = fixture.outside();
    for (case, entries, entry, reason) in cases {
        let tar = tar_of(&entries);
        match fixture.import_tar(&tar, Some("evil:latest")) {
            Err(ImageError::UnsafeEntry {
                entry: e,
                reason: r,
            }) => {
                assert_eq!((e.as_str(), r), (entry, reason), "{case}");
            }
            other => panic!("{case}: expected a refusal, got {other:?}"),
        }
        assert!(fixture.store.resolve("evil").is_err(), "{case}: no image");
        fixture.assert_empty();
        assert_eq!(
            fixture.outside(),
            before,
            "{case}: nothing written outside the store"
        );
        assert!(
            !Path::new("/etc").join(&canary).exists(),
            "{case}: /etc untouched"
        );
    }
}

#[test]
fn a_broken_stream_midway_leaves_nothing() {
    if !root_or_skip() {
        return;
    }
    let fixture = Fixture::new();
    let mut tar = tar_of(&[E::File("a", &[7u8; 5000]), E::File("b", b"2")]);
    tar.truncate(1024);
    let err = fixture.import_tar(&tar, Some("broken")).unwrap_err();
    assert!(matches!(err, ImageError::Archive { .. }), "{err}");
    fixture.assert_empty();
}

#[test]
fn zstd_layers_unpack() {
    if !root_or_skip() {
        return;
    }
    let fixture = Fixture::new();
    let tar = tar_of(&[E::File("etc/motd", b"compressed with zstd")]);
    let zstd =
        ruzstd::encoding::compress_to_vec(&tar[..], ruzstd::encoding::CompressionLevel::Fastest);
    fixture.import_tar(&zstd, Some("z")).unwrap();
    let dir = layer_dir(&fixture, "z");
    assert_eq!(
        fs::read(dir.join("etc/motd")).unwrap(),
        b"compressed with zstd"
    );
    let details = fixture.store.inspect("z").unwrap();
    let manifest = fixture
        .store
        .blobs
        .read(&crate::image::digest::Sha256::parse(&details.manifest_digest).unwrap())
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    assert_eq!(
        manifest["layers"][0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+zstd"
    );
    assert_eq!(
        details.layers[0].diff_id,
        crate::image::digest::Sha256::of(&tar).to_string()
    );
}
