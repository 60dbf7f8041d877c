//! Test support: a project loaded from YAML text, for the orchestrator's
//! unit tests.

use stack_compose::env::Environment;
use stack_compose::{LoadOptions, Loaded};

/// Loads `yaml` as the compose file of project `app`, panicking with the
/// loader's errors if it does not load.
pub(crate) fn load(yaml: &str) -> Loaded {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("compose.yaml"), yaml).expect("write compose.yaml");
    let options = LoadOptions {
        working_dir: dir.path().to_path_buf(),
        project_name: Some("app".into()),
        ..LoadOptions::default()
    };
    match stack_compose::load(&options, &Environment::new()) {
        Ok(loaded) => loaded,
        Err(errors) => panic!("{errors}"),
    }
}
