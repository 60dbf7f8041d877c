//! Tags, resolution, removal, pruning and persistence.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{symlink, MetadataExt};

use super::{root_or_skip, tar_of, Fixture, E};
use crate::image::{ImageError, ImageId, ImageStore, ImportSource, Removed};

fn never(_: &ImageId) -> bool {
    false
}

fn tags(store: &ImageStore, id: &ImageId) -> Vec<String> {
    let summary = store
        .list()
        .unwrap()
        .into_iter()
        .find(|s| &s.id == id)
        .unwrap();
    summary.repo_tags
}

fn count(fixture: &Fixture, dir: &str) -> usize {
    fs::read_dir(fixture.path().join("store").join(dir))
        .unwrap()
        .count()
}

#[test]
fn directory_import_with_changes_survives_reopening() {
    if !root_or_skip() {
        return;
    }
    let fixture = Fixture::new();
    let rootfs = fixture.path().join("rootfs");
    fs::create_dir_all(rootfs.join("bin")).unwrap();
    fs::create_dir_all(rootfs.join("tmp")).unwrap();
    match fs::copy("/bin/busybox", rootfs.join("bin/busybox")) {
        Ok(_) => {}
        Err(_) => fs::write(rootfs.join("bin/busybox"), b"stand-in")
            .map(|_| ())
            .unwrap(),
    }
    symlink("busybox", rootfs.join("bin/sh")).unwrap();
    fs::hard_link(rootfs.join("bin/busybox"), rootfs.join("bin/ls")).unwrap();
    let changes = [
        "CMD [\"sh\"]",
        "ENV PATH=/bin",
        "WORKDIR /tmp",
        "EXPOSE 8080",
        "USER 1000",
        "LABEL a=b",
    ]
    .map(String::from);
    let id = fixture
        .store
        .import(ImportSource::Dir(&rootfs), Some("busybox"), &changes)
        .unwrap();
    let layer = &fixture.store.layer_dirs(&id).unwrap()[0];
    assert_eq!(
        fs::read(layer.join("bin/busybox")).unwrap(),
        fs::read(rootfs.join("bin/busybox")).unwrap()
    );
    assert_eq!(
        fs::read_link(layer.join("bin/sh")).unwrap().to_str(),
        Some("busybox")
    );
    let busybox = fs::metadata(layer.join("bin/busybox")).unwrap();
    let ls = fs::metadata(layer.join("bin/ls")).unwrap();
    assert_eq!(busybox.ino(), ls.ino(), "hard links stay hard links");
    let details = fixture.store.inspect("busybox").unwrap();
    let config = details.config.config().clone().unwrap();
    assert_eq!(config.cmd(), &Some(vec!["sh".to_string()]));
    assert_eq!(config.working_dir().as_deref(), Some("/tmp"));
    assert_eq!(config.user().as_deref(), Some("1000"));
    assert_eq!(details.summary.labels["a"], "b");
    assert_eq!(details.summary.repo_tags, ["busybox:latest"]);

    // Importing the same tree again gives a new image (new created time)
    // over the same, shared layer.
    let again = fixture
        .store
        .import(ImportSource::Dir(&rootfs), Some("busybox:2"), &[])
        .unwrap();
    assert_ne!(again, id);
    assert_eq!(
        fixture.store.layer_dirs(&again).unwrap(),
        fixture.store.layer_dirs(&id).unwrap()
    );
    assert_eq!(count(&fixture, "layers"), 1);

    let listed = fixture.store.list().unwrap();
    let reopened = ImageStore::open(fixture.path().join("store")).unwrap();
    assert_eq!(reopened.list().unwrap(), listed);
    assert_eq!(reopened.resolve("busybox:2").unwrap(), again);
}

#[test]
fn invalid_input_is_refused_before_anything_is_written() {
    let fixture = Fixture::new();
    let tar = tar_of(&[E::File("a", b"1")]);
    let err = fixture
        .store
        .import(ImportSource::Tar(&mut &tar[..]), Some("Bad:Name"), &[])
        .unwrap_err();
    assert!(matches!(err, ImageError::InvalidReference { .. }), "{err}");
    let changes = ["RUN rm -rf /".to_string()];
    let err = fixture
        .store
        .import(ImportSource::Tar(&mut &tar[..]), None, &changes)
        .unwrap_err();
    assert!(
        err.to_string().contains("unknown instruction \"RUN\""),
        "{err}"
    );
    fixture.assert_empty();
}

#[test]
fn tag_resolve_remove_and_prune() {
    if !root_or_skip() {
        return;
    }
    let fixture = Fixture::new();
    let store = &fixture.store;
    let shared = tar_of(&[E::File("shared", b"s")]);
    let a = fixture.import_tar(&shared, Some("busybox")).unwrap();
    let b = store
        .import(
            ImportSource::Tar(&mut &shared[..]),
            Some("other:1"),
            &["CMD [\"x\"]".to_string()],
        )
        .unwrap();
    let c = fixture
        .import_tar(&tar_of(&[E::File("own", b"c")]), None)
        .unwrap();
    assert_eq!(count(&fixture, "layers"), 2);

    for name in [
        "busybox",
        "busybox:latest",
        "docker.io/library/busybox:latest",
        &a.to_string(),
        a.hex(),
        &a.hex()[..12],
    ] {
        assert_eq!(store.resolve(name).unwrap(), a, "{name}");
    }
    assert!(matches!(
        store.resolve("nothere"),
        Err(ImageError::NotFound(_))
    ));

    store.tag("busybox", "localhost:5000/bb:v1").unwrap();
    assert_eq!(tags(store, &a), ["busybox:latest", "localhost:5000/bb:v1"]);
    let err = store.remove(a.hex(), false, &never).unwrap_err();
    assert!(matches!(err, ImageError::MultipleTags { .. }), "{err}");
    assert_eq!(
        store.remove("busybox", false, &never).unwrap(),
        [Removed::Untagged("busybox:latest".into())]
    );
    assert_eq!(tags(store, &a), ["localhost:5000/bb:v1"]);

    // In use: refused, then forced — the tag goes, the image stays.
    let used: RefCell<BTreeSet<ImageId>> = RefCell::new(BTreeSet::from([a.clone()]));
    let in_use = |id: &ImageId| used.borrow().contains(id);
    let err = store
        .remove("localhost:5000/bb:v1", false, &in_use)
        .unwrap_err();
    assert!(matches!(err, ImageError::InUse { .. }), "{err}");
    let removed = store.remove("localhost:5000/bb:v1", true, &in_use).unwrap();
    assert_eq!(removed, [Removed::Untagged("localhost:5000/bb:v1".into())]);
    assert_eq!(store.resolve(a.hex()).unwrap(), a);

    // Prune skips images in use and tagged ones (without `all`).
    let report = store.prune(false, &in_use).unwrap();
    assert_eq!(report.removed, [Removed::Deleted(c.clone())]);
    assert!(report.space_reclaimed > 0);
    assert_eq!(count(&fixture, "layers"), 1, "the shared layer stays");

    used.borrow_mut().clear();
    let removed = store.remove(&a.to_string(), false, &in_use).unwrap();
    assert_eq!(removed, [Removed::Deleted(a.clone())]);
    assert_eq!(count(&fixture, "layers"), 1, "still used by other:1");

    let report = store.prune(true, &never).unwrap();
    assert_eq!(
        report.removed,
        [Removed::Untagged("other:1".into()), Removed::Deleted(b)]
    );
    fixture.assert_empty();
    assert_eq!(count(&fixture, "images"), 0);
}

#[test]
fn reopening_discards_what_a_crash_left_behind() {
    if !root_or_skip() {
        return;
    }
    let fixture = Fixture::new();
    let id = fixture
        .import_tar(&tar_of(&[E::File("kept", b"1")]), Some("kept"))
        .unwrap();
    let store_dir = fixture.path().join("store");
    let orphan_layer = store_dir.join("layers").join("a".repeat(64));
    fs::create_dir_all(orphan_layer.join("diff/etc")).unwrap();
    let orphan_blob = store_dir.join("blobs/sha256").join("b".repeat(64));
    fs::write(&orphan_blob, b"half a load").unwrap();
    fs::create_dir_all(store_dir.join("tmp/layer-123/diff")).unwrap();
    let reopened = ImageStore::open(&store_dir).unwrap();
    assert!(!orphan_layer.exists());
    assert!(!orphan_blob.exists());
    assert_eq!(fs::read_dir(store_dir.join("tmp")).unwrap().count(), 0);
    let layer = &reopened.layer_dirs(&id).unwrap()[0];
    assert_eq!(fs::read(layer.join("kept")).unwrap(), b"1");
}
