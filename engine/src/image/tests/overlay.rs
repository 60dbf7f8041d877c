//! The unpacked layers, stacked by the real overlayfs, show what the image
//! means: whiteouts hide, opaque directories hide, lower content shows.
//! (The store never mounts; this test does, to check the representation.)

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use super::{root_or_skip, tar_of, Fixture, E};
use crate::image::digest::Sha256;
use crate::image::import::host_arch;

/// Unmounts on drop, so a failed assertion leaves no mount behind.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn save_archive(layers: &[Vec<u8>]) -> Vec<u8> {
    let diff_ids: Vec<String> = layers.iter().map(|l| Sha256::of(l).to_string()).collect();
    let config = serde_json::to_vec(&json!({
        "architecture": host_arch(), "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap();
    let mut files = BTreeMap::new();
    let mut names = Vec::new();
    for (i, layer) in layers.iter().enumerate() {
        names.push(format!("{i}/layer.tar"));
        files.insert(format!("{i}/layer.tar"), layer.clone());
    }
    files.insert("config.json".to_string(), config);
    let manifest = json!([{"Config": "config.json", "RepoTags": ["stacked:1"], "Layers": names}]);
    files.insert(
        "manifest.json".to_string(),
        serde_json::to_vec(&manifest).unwrap(),
    );
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in &files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        builder.append_data(&mut header, name, &data[..]).unwrap();
    }
    builder.into_inner().unwrap()
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn overlayfs_sees_whiteouts_and_opaque_directories() {
    if !root_or_skip() {
        return;
    }
    let fixture = Fixture::new();
    let base = tar_of(&[
        E::File("a", b"a"),
        E::File("d/x", b"x"),
        E::File("keep", b"k"),
        E::File("e/z", b"z"),
    ]);
    let top = tar_of(&[
        E::File(".wh.a", b""),
        E::Dir("d/"),
        E::File("d/.wh..wh..opq", b""),
        E::File("d/y", b"y"),
    ]);
    let loaded = fixture
        .store
        .load(&mut &save_archive(&[base, top])[..])
        .unwrap();
    let mut lower = fixture.store.layer_dirs(&loaded[0].id).unwrap();
    lower.reverse();
    let lowerdir: Vec<String> = lower.iter().map(|p| p.display().to_string()).collect();
    let work = fixture.path().join("mnt");
    for dir in ["upper", "work", "merged"] {
        fs::create_dir_all(work.join(dir)).unwrap();
    }
    let options = format!(
        "lowerdir={},upperdir={},workdir={}",
        lowerdir.join(":"),
        work.join("upper").display(),
        work.join("work").display()
    );
    let merged = work.join("merged");
    let status = Command::new("mount")
        .args(["-t", "overlay", "overlay", "-o", &options])
        .arg(&merged)
        .status();
    if !status.is_ok_and(|s| s.success()) {
        eprintln!("skipped: cannot mount overlayfs here");
        return;
    }
    let _mounted = Mounted(merged.clone());
    assert_eq!(names(&merged), ["d", "e", "keep"]);
    assert_eq!(names(&merged.join("d")), ["y"]);
    assert_eq!(fs::read(merged.join("e/z")).unwrap(), b"z");
}
