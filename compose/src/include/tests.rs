use super::*;
use crate::merge::tests::{doc, render};
use crate::source::tests::FakeFs;
use std::cell::RefCell;

fn main_source(text: &str) -> Source {
    Source {
        path: Some(PathBuf::from("/p/compose.yaml")),
        name: Arc::from("compose.yaml"),
        text: text.to_string(),
    }
}

/// What `prepare` saw: the file and its env files.
type Seen = Vec<(String, Vec<PathBuf>)>;

/// Loads /p/compose.yaml with `files` on disk; the tree or the errors as text,
/// and what `prepare` saw (file, env files).
fn run(text: &str, files: &[(&str, &str)]) -> (Result<String, Vec<String>>, Seen) {
    let fs = FakeFs::with(files);
    let seen = RefCell::new(Vec::new());
    let prepare = |n: Node, scope: &Scope<'_>| {
        seen.borrow_mut()
            .push((scope.file.to_string(), scope.env_files.to_vec()));
        Ok(n)
    };
    let loader = Loader {
        fs: &fs,
        prepare: &prepare,
    };
    let out = match load_project(&[main_source(text)], Path::new("/p"), &loader) {
        Ok(tree) => Ok(render(&tree)),
        Err(errors) => Err(errors.iter().map(ToString::to_string).collect()),
    };
    (out, seen.into_inner())
}

fn expect(text: &str) -> String {
    render(&doc(text, "expected.yaml"))
}

#[test]
fn includes_resources_with_paths_from_their_own_directory() {
    let (out, seen) = run(
        "include: [sub/compose.yaml]\nservices:\n  web: {image: w, depends_on: [db]}\n",
        &[(
            "/p/sub/compose.yaml",
            "services:\n  db: {build: ./db, volumes: ['./data:/data']}\nvolumes: {v: {}}\nsecrets: {s: {file: ./s.txt}}\n",
        )],
    );
    assert_eq!(
        out.unwrap(),
        expect(
            "{services: {web: {image: w, depends_on: [db]}, db: {build: /p/sub/db, volumes: ['/p/sub/data:/data']}},
              volumes: {v: {}}, secrets: {s: {file: /p/sub/s.txt}}}"
        )
    );
    assert_eq!(seen[0].0, "compose.yaml");
    assert_eq!(seen[1], ("/p/sub/compose.yaml".to_string(), vec![]));
}

#[test]
fn long_form_merges_its_paths_and_passes_its_env_files() {
    let (out, seen) = run(
        "include:
  - path: [lib/compose.yaml, lib/override.yaml]
    project_directory: lib
    env_file: [lib/a.env, /dev/null]
",
        &[
            (
                "/p/lib/compose.yaml",
                "services:\n  db: {image: pg, ports: ['5432:5432']}\n",
            ),
            (
                "/p/lib/override.yaml",
                "services:\n  db: {ports: ['5433:5432']}\n",
            ),
            ("/p/lib/a.env", "X=1"),
        ],
    );
    assert_eq!(
        out.unwrap(),
        expect("{services: {db: {image: pg, ports: ['5432:5432', '5433:5432']}}}")
    );
    let env = vec![PathBuf::from("/p/lib/a.env")];
    assert_eq!(
        seen[1..],
        [
            ("/p/lib/compose.yaml".to_string(), env.clone()),
            ("/p/lib/override.yaml".to_string(), env)
        ]
    );
}

#[test]
fn the_included_projects_dot_env_is_used_by_default_and_nested_includes_add_theirs() {
    let (out, seen) = run(
        "include: a/compose.yaml\n",
        &[
            (
                "/p/a/compose.yaml",
                "include: [../b/compose.yaml]\nservices: {a: {image: a}}\n",
            ),
            ("/p/a/.env", ""),
            ("/p/b/compose.yaml", "services: {b: {build: .}}\n"),
            ("/p/b/.env", ""),
        ],
    );
    assert_eq!(
        out.unwrap(),
        expect("{services: {a: {image: a}, b: {build: /p/b}}}")
    );
    assert_eq!(
        seen[2],
        (
            "/p/b/compose.yaml".to_string(),
            vec![PathBuf::from("/p/a/.env"), PathBuf::from("/p/b/.env")]
        )
    );
}

#[test]
fn a_resource_defined_twice_is_an_error_naming_both_files() {
    let (out, _) = run(
        "include: [sub/compose.yaml]\nservices:\n  db: {image: mine}\n  same: {image: s}\n",
        &[(
            "/p/sub/compose.yaml",
            "services:\n  db: {image: theirs}\n  same: {image: s}\n",
        )],
    );
    assert_eq!(
        out.unwrap_err(),
        ["compose.yaml:3:3: services.db: defined both here and in the included /p/sub/compose.yaml:2:3 \
          (rename one of them; to change an included resource, add an override file to the include's `path` list)"]
    );
}

#[test]
fn an_include_cycle_is_an_error_naming_it() {
    let (out, _) = run(
        "include: [a.yaml]\n",
        &[
            ("/p/a.yaml", "include: [b.yaml]\n"),
            ("/p/b.yaml", "include: [compose.yaml]\n"),
        ],
    );
    let errors = out.unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]
            .contains("include cycle: /p/compose.yaml → /p/a.yaml → /p/b.yaml → /p/compose.yaml"),
        "{errors:?}"
    );
}

#[test]
fn missing_included_files_are_named() {
    let (out, _) = run(
        "include:\n  - gone.yaml\n  - path: x.yaml\n    env_file: nope.env\n",
        &[("/p/x.yaml", "services: {}")],
    );
    assert_eq!(
        out.unwrap_err(),
        [
            "compose.yaml:2:5: include[0]: cannot read gone.yaml: not found \
             (include paths are relative to the including project's directory)",
            "compose.yaml:3:5: include[1]: env file /p/nope.env not found \
             (`env_file` of an include is relative to the including project's directory)",
        ]
    );
}

#[test]
fn documents_of_a_file_are_merged_in_order_with_extends_resolved_per_document() {
    let (out, _) = run(
        "services:\n  base: {image: a}\n  web: {extends: base, ports: ['80:80']}\n---\nservices:\n  web: {image: b, ports: ['81:81']}\n",
        &[],
    );
    assert_eq!(
        out.unwrap(),
        expect("{services: {base: {image: a}, web: {image: b, ports: ['80:80', '81:81']}}}")
    );
}

#[test]
fn extends_in_an_included_file_starts_from_its_directory() {
    let (out, _) = run(
        "include: [sub/compose.yaml]\n",
        &[
            (
                "/p/sub/compose.yaml",
                "services:\n  db: {extends: {file: common.yaml, service: c}}\n",
            ),
            ("/p/sub/common.yaml", "services:\n  c: {build: ./ctx}\n"),
        ],
    );
    assert_eq!(
        out.unwrap(),
        expect("{services: {db: {build: /p/sub/ctx}}}")
    );
}

#[test]
fn a_top_level_that_is_not_a_mapping_is_an_error() {
    let (out, _) = run("- a\n", &[]);
    assert_eq!(
        out.unwrap_err(),
        [
            "compose.yaml:1:1: the top level of a Compose file must be a mapping, found a list \
          (start the file with keys such as `services:`)"
        ]
    );
}

#[test]
fn from_lookup_to_one_tree_and_a_name() {
    let fs = FakeFs::with(&[
        ("/p/app/compose.yaml", "name: Demo\ninclude: [db/compose.yaml]\nservices:\n  web: {extends: base, image: w}\n  base: {environment: [A=1]}\n"),
        ("/p/app/compose.override.yaml", "services:\n  web: {environment: {B: 2}}\n"),
        ("/p/app/db/compose.yaml", "services:\n  db: {image: pg, env_file: db.env}\n"),
    ]);
    let options = crate::source::SourceOptions {
        working_dir: PathBuf::from("/p/app"),
        ..Default::default()
    };
    let sources = crate::source::resolve(&options, &crate::env::Environment::new(), &fs).unwrap();
    let prepare = |n: Node, _: &Scope<'_>| Ok(n);
    let loader = Loader {
        fs: &fs,
        prepare: &prepare,
    };
    let tree = load_project(&sources.files, &sources.project_dir, &loader).unwrap();
    assert_eq!(
        render(&tree),
        expect(
            "{name: Demo, services: {web: {environment: {A: '1', B: 2}, image: w}, base: {environment: [A=1]},
              db: {image: pg, env_file: /p/app/db/db.env}}}"
        )
    );
    assert_eq!(sources.project_name(&tree).unwrap(), "demo");
}
