//! `load` of `docker save` archives and OCI layouts built in the test.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde_json::json;

use super::{gzip, root_or_skip, tar_of, Fixture, E};
use crate::image::digest::Sha256;
use crate::image::import::host_arch;
use crate::image::{EntryError, ImageError};

/// The real busybox when the package is installed, a stand-in otherwise.
fn busybox() -> Vec<u8> {
    fs::read("/bin/busybox").unwrap_or_else(|_| b"\x7fELF stand-in".to_vec())
}

fn config(diff_ids: &[Sha256], cmd: &str) -> Vec<u8> {
    let diff_ids: Vec<String> = diff_ids.iter().map(|d| d.to_string()).collect();
    serde_json::to_vec(&json!({
        "architecture": host_arch(),
        "os": "linux",
        "created": "2024-01-01T00:00:00Z",
        "config": {"Cmd": [cmd], "Healthcheck": {"Test": ["CMD", "true"]}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap()
}

/// A tar holding `files` (name → content) and `symlinks` (name → target).
fn archive(files: &BTreeMap<String, Vec<u8>>, symlinks: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        builder.append_data(&mut header, name, &data[..]).unwrap();
    }
    for (name, target) in symlinks {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
        builder.append_link(&mut header, name, target).unwrap();
    }
    builder.into_inner().unwrap()
}

fn base_layer() -> Vec<u8> {
    let busybox = busybox();
    tar_of(&[
        E::Dir("bin/"),
        E::File("bin/busybox", &busybox),
        E::Symlink("bin/sh", "busybox"),
    ])
}

fn top_layer() -> Vec<u8> {
    tar_of(&[
        E::Dir("etc/"),
        E::File("etc/hostname", b"box\n"),
        E::File("bin/.wh.sh", b""),
    ])
}

/// A `docker save` archive (old layout: <id>/layer.tar, a symlink for a
/// layer shared by the second image, manifest.json last).
fn docker_save() -> Vec<u8> {
    let (base, top) = (base_layer(), gzip(&top_layer()));
    let diff_ids = [Sha256::of(&base), Sha256::of(&top_layer())];
    let config_a = config(&diff_ids, "sh");
    let config_b = config(&diff_ids[..1], "true");
    let mut files = BTreeMap::new();
    files.insert("aaa/layer.tar".to_string(), base);
    files.insert("bbb/layer.tar".to_string(), top);
    files.insert(
        format!("{}.json", Sha256::of(&config_a).hex()),
        config_a.clone(),
    );
    files.insert(
        format!("{}.json", Sha256::of(&config_b).hex()),
        config_b.clone(),
    );
    let manifest = json!([
        {"Config": format!("{}.json", Sha256::of(&config_a).hex()), "RepoTags": ["busybox:latest", "localhost:5000/box:1"], "Layers": ["aaa/layer.tar", "bbb/layer.tar"]},
        {"Config": format!("{}.json", Sha256::of(&config_b).hex()), "RepoTags": null, "Layers": ["ccc/layer.tar"]},
    ]);
    let mut tar = archive(&files, &[("ccc/layer.tar", "../aaa/layer.tar")]);
    // manifest.json after everything else, as `docker save` writes it.
    let mut rest = BTreeMap::new();
    rest.insert(
        "manifest.json".to_string(),
        serde_json::to_vec(&manifest).unwrap(),
    );
    let tail = archive(&rest, &[]);
    tar.truncate(tar.len() - 1024);
    tar.extend(tail);
    tar
}

#[test]
fn docker_save_archives_load_with_tags_and_shared_layers() {
    if !root_or_skip() {
        return;
    }
    let fixture = Fixture::new();
    let loaded = fixture.store.load(&mut &gzip(&docker_save())[..]).unwrap();
    assert_eq!(loaded.len(), 2);
    assert_eq!(loaded[0].tags, ["busybox:latest", "localhost:5000/box:1"]);
    assert!(loaded[1].tags.is_empty());
    let details = fixture
        .store
        .inspect("docker.io/library/busybox:latest")
        .unwrap();
    assert_eq!(details.summary.id, loaded[0].id);
    assert_eq!(details.layers.len(), 2);
    assert_eq!(
        details.config.config().as_ref().unwrap().cmd(),
        &Some(vec!["sh".to_string()])
    );
    assert_eq!(
        details.raw_config["config"]["Healthcheck"]["Test"][1],
        "true"
    );
    let (base, top) = (&details.layers[0].path, &details.layers[1].path);
    assert_eq!(fs::read(base.join("bin/busybox")).unwrap(), busybox());
    assert_eq!(
        fs::read_link(base.join("bin/sh")).unwrap(),
        Path::new("busybox")
    );
    assert_eq!(fs::read(top.join("etc/hostname")).unwrap(), b"box\n");
    // The untagged second image shares the base layer directory.
    let other = fixture.store.layer_dirs(&loaded[1].id).unwrap();
    assert_eq!(other, vec![base.clone()]);
    assert_eq!(
        fs::read_dir(fixture.path().join("store/layers"))
            .unwrap()
            .count(),
        2
    );
    // Loading again changes nothing.
    let again = fixture.store.load(&mut &docker_save()[..]).unwrap();
    assert_eq!(
        again.iter().map(|l| &l.id).collect::<Vec<_>>(),
        loaded.iter().map(|l| &l.id).collect::<Vec<_>>()
    );
    assert_eq!(fixture.store.list().unwrap().len(), 2);
}

/// An OCI layout: blobs by digest, an index naming one manifest — or,
/// with `nested`, naming an index with an arm64-only and a host entry.
fn oci_layout(nested: bool) -> BTreeMap<String, Vec<u8>> {
    let layer = gzip(&base_layer());
    let config = config(&[Sha256::of(&base_layer())], "sh");
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": Sha256::of(&config).to_string(), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": Sha256::of(&layer).to_string(), "size": layer.len()}],
    }))
    .unwrap();
    let mut files = BTreeMap::new();
    let mut blob = |bytes: &[u8]| {
        files.insert(
            format!("blobs/sha256/{}", Sha256::of(bytes).hex()),
            bytes.to_vec(),
        );
        Sha256::of(bytes).to_string()
    };
    blob(&layer);
    blob(&config);
    let manifest_digest = blob(&manifest);
    let annotations = json!({"org.opencontainers.image.ref.name": "localhost/app:1"});
    let top = if nested {
        let other = Sha256::of(b"not here").to_string();
        let index = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": other, "size": 1, "platform": {"os": "linux", "architecture": "s390x"}},
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest, "size": manifest.len(), "platform": {"os": "linux", "architecture": host_arch()}},
            ],
        }))
        .unwrap();
        let index_digest = blob(&index);
        json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": index_digest, "size": index.len(), "annotations": annotations})
    } else {
        json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest, "size": manifest.len(), "annotations": annotations})
    };
    let index = json!({"schemaVersion": 2, "manifests": [top]});
    files.insert(
        "index.json".to_string(),
        serde_json::to_vec(&index).unwrap(),
    );
    files.insert(
        "oci-layout".to_string(),
        br#"{"imageLayoutVersion": "1.0.0"}"#.to_vec(),
    );
    files
}

fn write_dir(dir: &Path, files: &BTreeMap<String, Vec<u8>>) {
    for (name, data) in files {
        let path = dir.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, data).unwrap();
    }
}

#[test]
fn oci_layouts_load_from_a_tar_or_a_directory() {
    if !root_or_skip() {
        return;
    }
    let fixture = Fixture::new();
    let layout = oci_layout(false);
    let from_tar = fixture.store.load(&mut &archive(&layout, &[])[..]).unwrap();
    assert_eq!(from_tar[0].tags, ["localhost/app:1"]);
    let dir = fixture.path().join("layout");
    write_dir(&dir, &layout);
    let from_dir = fixture.store.load_path(&dir).unwrap();
    assert_eq!(from_dir, from_tar);
    let details = fixture.store.inspect("localhost/app:1").unwrap();
    let manifest_name = layout["index.json"].clone();
    let index: serde_json::Value = serde_json::from_slice(&manifest_name).unwrap();
    assert_eq!(details.manifest_digest, index["manifests"][0]["digest"]);
    assert_eq!(
        fs::read(details.layers[0].path.join("bin/busybox")).unwrap(),
        busybox()
    );
    // Resolvable by the manifest digest, as `name@sha256:…`.
    let by_digest = format!("localhost/app@{}", details.manifest_digest);
    assert_eq!(fixture.store.resolve(&by_digest).unwrap(), from_tar[0].id);
}

#[test]
fn oci_indexes_pick_this_platform() {
    if !root_or_skip() {
        return;
    }
    let fixture = Fixture::new();
    let loaded = fixture
        .store
        .load(&mut &archive(&oci_layout(true), &[])[..])
        .unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(
        fixture.store.resolve("localhost/app:1").unwrap(),
        loaded[0].id
    );
}

#[test]
fn tampered_or_inconsistent_sources_leave_nothing() {
    if !root_or_skip() {
        return;
    }
    let fixture = Fixture::new();

    let mut tampered = oci_layout(false);
    let layer_name = tampered
        .keys()
        .find(|k| tampered[*k].starts_with(&[0x1f, 0x8b]))
        .unwrap()
        .clone();
    tampered.insert(layer_name, gzip(&top_layer()));
    let err = fixture
        .store
        .load(&mut &archive(&tampered, &[])[..])
        .unwrap_err();
    assert!(matches!(err, ImageError::DigestMismatch { .. }), "{err}");
    fixture.assert_empty();

    // A config whose diff id does not match its layer.
    let base = base_layer();
    let mut files = BTreeMap::new();
    let wrong = config(&[Sha256::of(b"other")], "sh");
    files.insert("layer.tar".to_string(), base);
    files.insert("config.json".to_string(), wrong);
    let manifest =
        json!([{"Config": "config.json", "RepoTags": ["lie:1"], "Layers": ["layer.tar"]}]);
    files.insert(
        "manifest.json".to_string(),
        serde_json::to_vec(&manifest).unwrap(),
    );
    let err = fixture
        .store
        .load(&mut &archive(&files, &[])[..])
        .unwrap_err();
    assert!(matches!(err, ImageError::DigestMismatch { .. }), "{err}");
    fixture.assert_empty();

    // A hostile layer in the second image: the first is not kept either.
    let evil = tar_of(&[E::Symlink("l", "/etc"), E::File("l/x", b"")]);
    files.insert(
        "config.json".to_string(),
        config(&[Sha256::of(&base_layer())], "sh"),
    );
    files.insert("evil.tar".to_string(), evil.clone());
    files.insert("evil.json".to_string(), config(&[Sha256::of(&evil)], "sh"));
    let manifest = json!([
        {"Config": "config.json", "RepoTags": ["good:1"], "Layers": ["layer.tar"]},
        {"Config": "evil.json", "RepoTags": ["evil:1"], "Layers": ["evil.tar"]},
    ]);
    files.insert(
        "manifest.json".to_string(),
        serde_json::to_vec(&manifest).unwrap(),
    );
    let err = fixture
        .store
        .load(&mut &archive(&files, &[])[..])
        .unwrap_err();
    match err {
        ImageError::UnsafeEntry { entry, reason } => assert_eq!(
            (entry.as_str(), reason),
            ("l/x", EntryError::ThroughSymlink("l".into()))
        ),
        other => panic!("expected a refusal, got {other}"),
    }
    fixture.assert_empty();

    files.remove("manifest.json");
    let err = fixture
        .store
        .load(&mut &archive(&files, &[])[..])
        .unwrap_err();
    assert!(err.to_string().contains("neither manifest.json"), "{err}");
    fixture.assert_empty();
}
