use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::*;

/// Says a volume is used by the containers registered for it.
#[derive(Default)]
struct FakeUsers(Mutex<BTreeMap<String, Vec<String>>>);

impl VolumeUsers for FakeUsers {
    fn users(&self, name: &VolumeName) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .get(name.as_str())
            .cloned()
            .unwrap_or_default()
    }
}

fn store() -> (tempfile::TempDir, VolumeStore, Arc<FakeUsers>) {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::new(dir.path().join("root"), dir.path().join("run"));
    let users = Arc::new(FakeUsers::default());
    let store = VolumeStore::open(layout, users.clone()).unwrap();
    (dir, store, users)
}

fn name(s: &str) -> Option<VolumeName> {
    Some(VolumeName::parse(s).unwrap())
}

#[test]
fn create_is_idempotent_and_refuses_other_labels() {
    let (_dir, store, _) = store();
    let labels = BTreeMap::from([("a".to_string(), "1".to_string())]);
    let (first, created) = store.create(name("data"), labels.clone()).unwrap();
    assert!(created);
    assert!(store.mountpoint(&first.name).is_dir());
    let (again, created) = store.create(name("data"), BTreeMap::new()).unwrap();
    assert!(!created);
    assert_eq!(again, first);
    let other = BTreeMap::from([("a".to_string(), "2".to_string())]);
    let err = store.create(name("data"), other).unwrap_err();
    assert!(matches!(err, VolumeError::LabelConflict { .. }), "{err}");
}

#[test]
fn anonymous_volumes_get_a_random_name_and_the_docker_label() {
    let (_dir, store, _) = store();
    let (record, _) = store.create(None, BTreeMap::new()).unwrap();
    assert_eq!(record.name.as_str().len(), 64);
    assert_eq!(
        record.labels.get(ANONYMOUS_LABEL).map(String::as_str),
        Some("")
    );
}

#[test]
fn remove_refuses_volumes_in_use_and_deletes_the_data() {
    let (_dir, store, users) = store();
    let (record, _) = store.create(name("db"), BTreeMap::new()).unwrap();
    fs::write(store.mountpoint(&record.name).join("f"), b"hello").unwrap();
    users
        .0
        .lock()
        .unwrap()
        .insert("db".into(), vec!["c1".into()]);
    let err = store.remove("db").unwrap_err();
    assert_eq!(err.to_string(), "remove db: volume is in use - [c1]");
    users.0.lock().unwrap().clear();
    store.remove("db").unwrap();
    assert!(matches!(store.get("db"), Err(VolumeError::NotFound(_))));
    assert!(matches!(store.remove("db"), Err(VolumeError::NotFound(_))));
    assert!(fs::read_dir(store.layout.volumes())
        .unwrap()
        .next()
        .is_none());
}

#[test]
fn prune_skips_used_and_unselected_volumes_and_counts_bytes() {
    let (_dir, store, users) = store();
    for n in ["a1", "b1", "c1"] {
        let (record, _) = store.create(name(n), BTreeMap::new()).unwrap();
        fs::write(store.mountpoint(&record.name).join("f"), b"1234").unwrap();
    }
    users
        .0
        .lock()
        .unwrap()
        .insert("b1".into(), vec!["x".into()]);
    let report = store.prune(|r| r.name.as_str() != "c1").unwrap();
    assert_eq!(report.deleted, vec![VolumeName::parse("a1").unwrap()]);
    assert_eq!(report.reclaimed, 4);
    let left: Vec<_> = store
        .list()
        .unwrap()
        .into_iter()
        .map(|r| r.name.to_string())
        .collect();
    assert_eq!(left, ["b1", "c1"]);
}

#[test]
fn open_removes_unfinished_operations() {
    let (dir, store, _) = store();
    let staging = store.layout.volumes().join(".new-x1");
    fs::create_dir_all(staging.join("_data")).unwrap();
    let layout = Layout::new(dir.path().join("root"), dir.path().join("run"));
    let store = VolumeStore::open(layout, Arc::new(NoContainers)).unwrap();
    assert!(!staging.exists());
    assert!(store.list().unwrap().is_empty());
}
