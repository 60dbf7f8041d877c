//! The fixture corpus: every directory under `tests/fixtures/valid` is a
//! project that must load and render exactly as its `expected.yaml`; every
//! directory under `tests/fixtures/invalid` must fail with exactly the errors
//! in its `expected.err`.
//!
//! A fixture directory holds the compose files and optionally:
//! - `args`: command-line style options (`-f FILE`, `-p NAME`, `--profile P`,
//!   `--env-file FILE`, `--project-directory DIR`, `--no-interpolate`, and
//!   bare words naming services), whitespace separated;
//! - `env`: the process environment, one `KEY=VALUE` per line;
//! - `expected.warnings`: the warnings, one per line.
//!
//! Absolute paths under the fixture directory are written as `$FIXTURE` (and
//! its parent as `$FIXTURE/..`) in the expected files. `UPDATE_GOLDEN=1 cargo test` rewrites them all.

use stack_compose::env::Environment;
use stack_compose::LoadOptions;
use std::fs;
use std::path::{Path, PathBuf};

fn fixture_dirs(kind: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind);
    let mut dirs: Vec<PathBuf> = fs::read_dir(&root)
        .expect("fixture directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn options(dir: &Path) -> (LoadOptions, Environment) {
    let mut opts = LoadOptions {
        working_dir: dir.to_path_buf(),
        ..LoadOptions::default()
    };
    let args = fs::read_to_string(dir.join("args")).unwrap_or_default();
    let mut words = args.split_whitespace();
    while let Some(w) = words.next() {
        let mut value = || words.next().expect("option value").to_string();
        match w {
            "-f" => opts.files.push(PathBuf::from(value())),
            "-p" => opts.project_name = Some(value()),
            "--profile" => opts.profiles.push(value()),
            "--env-file" => opts.env_files.push(PathBuf::from(value())),
            "--project-directory" => opts.project_directory = Some(PathBuf::from(value())),
            "--no-interpolate" => opts.interpolate = false,
            service => opts.services.push(service.to_string()),
        }
    }
    let env = fs::read_to_string(dir.join("env"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (opts, env)
}

fn relative(text: &str, dir: &Path) -> String {
    let text = text.replace(&dir.display().to_string(), "$FIXTURE");
    match dir.parent() {
        // Paths such as `../shared` leave the fixture directory.
        Some(parent) => text.replace(&parent.display().to_string(), "$FIXTURE/.."),
        None => text,
    }
}

/// Compares `actual` with the golden file, or rewrites it under UPDATE_GOLDEN.
fn check(dir: &Path, file: &str, actual: &str, failures: &mut Vec<String>) {
    let path = dir.join(file);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        if actual.is_empty() && file == "expected.warnings" {
            let _ = fs::remove_file(&path);
        } else {
            fs::write(&path, actual).expect("write golden");
        }
        return;
    }
    let expected = fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        failures.push(format!(
            "{}: {file} differs\n--- expected\n{expected}\n--- actual\n{actual}",
            dir.display()
        ));
    }
}

#[test]
fn valid_fixtures_render_as_expected_and_are_stable() {
    let dirs = fixture_dirs("valid");
    assert!(!dirs.is_empty());
    let mut failures = Vec::new();
    for dir in &dirs {
        let (opts, env) = options(dir);
        let loaded = match stack_compose::load(&opts, &env) {
            Ok(l) => l,
            Err(e) => {
                failures.push(format!("{}: failed to load:\n{e}", dir.display()));
                continue;
            }
        };
        let yaml = serde_norway::to_string(&loaded.project).expect("render");
        check(dir, "expected.yaml", &relative(&yaml, dir), &mut failures);
        let warnings: String = loaded.warnings.iter().map(|w| format!("{w}\n")).collect();
        check(
            dir,
            "expected.warnings",
            &relative(&warnings, dir),
            &mut failures,
        );

        // Round trip: the rendered project, loaded again, renders the same.
        let again_dir = tempfile::tempdir().expect("tempdir");
        let file = again_dir.path().join("compose.yaml");
        fs::write(&file, &yaml).expect("write rendered");
        let again_opts = LoadOptions {
            files: vec![file],
            working_dir: dir.clone(),
            project_directory: Some(dir.clone()),
            profiles: vec!["*".to_string()],
            interpolate: false,
            ..LoadOptions::default()
        };
        match stack_compose::load(&again_opts, &Environment::new()) {
            Ok(again) => {
                let yaml2 = serde_norway::to_string(&again.project).expect("render");
                if yaml2 != yaml {
                    failures.push(format!(
                        "{}: rendering is not stable\n--- first\n{yaml}\n--- second\n{yaml2}",
                        dir.display()
                    ));
                }
            }
            Err(e) => failures.push(format!(
                "{}: rendered project does not load again:\n{e}",
                dir.display()
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn invalid_fixtures_fail_with_expected_errors() {
    let dirs = fixture_dirs("invalid");
    assert!(!dirs.is_empty());
    let mut failures = Vec::new();
    for dir in &dirs {
        let (opts, env) = options(dir);
        match stack_compose::load(&opts, &env) {
            Ok(_) => failures.push(format!("{}: loaded, but should have failed", dir.display())),
            Err(e) => check(
                dir,
                "expected.err",
                &relative(&format!("{e}\n"), dir),
                &mut failures,
            ),
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
