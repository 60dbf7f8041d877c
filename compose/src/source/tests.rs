use super::*;
use crate::tree::{Kind, Mapping};
use std::collections::BTreeMap;

/// An in-memory filesystem: path → text; a `None` text fails to read.
#[derive(Default)]
pub(crate) struct FakeFs(pub BTreeMap<PathBuf, Option<String>>);

impl FakeFs {
    pub(crate) fn with(files: &[(&str, &str)]) -> Self {
        FakeFs(
            files
                .iter()
                .map(|(p, t)| (PathBuf::from(p), Some(t.to_string())))
                .collect(),
        )
    }
}

impl FileSystem for FakeFs {
    fn is_file(&self, path: &Path) -> bool {
        self.0.contains_key(path)
    }

    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        match self.0.get(path) {
            Some(Some(text)) => Ok(text.clone()),
            Some(None) => Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "permission denied",
            )),
            None => Err(io::Error::new(io::ErrorKind::NotFound, "not found")),
        }
    }
}

fn options(wd: &str, files: &[&str]) -> SourceOptions {
    SourceOptions {
        files: files.iter().map(|f| f.to_string()).collect(),
        working_dir: PathBuf::from(wd),
        ..SourceOptions::default()
    }
}

fn names(sources: &ProjectSources) -> Vec<String> {
    sources.files.iter().map(|f| f.name.to_string()).collect()
}

fn empty_tree() -> Node {
    let file: Arc<str> = Arc::from("x.yaml");
    Node::new(
        Kind::Map(Mapping::new()),
        crate::error::Location::new(file, 1, 1),
    )
}

#[test]
fn looks_up_the_preferred_name_and_its_override() {
    let fs = FakeFs::with(&[
        ("/p/app/compose.yaml", "a"),
        ("/p/app/docker-compose.yml", "b"),
        ("/p/app/docker-compose.override.yml", "c"),
    ]);
    let s = resolve(&options("/p/app", &[]), &Environment::new(), &fs).unwrap();
    assert_eq!(names(&s), ["compose.yaml", "docker-compose.override.yml"]);
    assert_eq!(s.files[0].text, "a");
    assert_eq!(s.project_dir, PathBuf::from("/p/app"));
    assert_eq!(s.warnings.len(), 1);
    assert!(s.warnings[0]
        .message
        .contains("compose.yaml, docker-compose.yml; using compose.yaml"));
}

#[test]
fn looks_up_in_parent_directories() {
    let fs = FakeFs::with(&[("/p/stack.yml", "a"), ("/p/compose.override.yaml", "b")]);
    let s = resolve(&options("/p/app/sub", &[]), &Environment::new(), &fs).unwrap();
    assert_eq!(names(&s), ["/p/stack.yml", "/p/compose.override.yaml"]);
    assert_eq!(s.project_dir, PathBuf::from("/p"));
    assert_eq!(s.project_name(&empty_tree()).unwrap(), "p");
}

#[test]
fn nothing_found_says_what_was_looked_for() {
    let errors = resolve(&options("/p", &[]), &Environment::new(), &FakeFs::default()).unwrap_err();
    assert_eq!(
        errors[0].to_string(),
        "no configuration file provided: not found (looked for compose.yaml, compose.yml, \
         docker-compose.yaml, docker-compose.yml, stack.yml in /p and its parent directories; \
         create one or name it with -f)"
    );
}

#[test]
fn explicit_files_relative_to_the_working_directory() {
    let fs = FakeFs::with(&[
        ("/p/a.yaml", "a"),
        ("/q/b.yaml", "b"),
        ("/p/compose.yaml", "c"),
    ]);
    let s = resolve(
        &options("/p", &["a.yaml", "../q/b.yaml"]),
        &Environment::new(),
        &fs,
    )
    .unwrap();
    assert_eq!(names(&s), ["a.yaml", "../q/b.yaml"]);
    assert_eq!(s.files[1].path.as_deref(), Some(Path::new("/q/b.yaml")));
    assert_eq!(s.project_dir, PathBuf::from("/p"));
}

#[test]
fn missing_explicit_files_are_all_named() {
    let mut fs = FakeFs::with(&[]);
    fs.0.insert(PathBuf::from("/p/locked.yaml"), None);
    let errors = resolve(
        &options("/p", &["nope.yaml", "locked.yaml"]),
        &Environment::new(),
        &fs,
    )
    .unwrap_err();
    assert_eq!(errors.len(), 2);
    assert_eq!(
        errors[0].to_string(),
        "nope.yaml: no such file (check the path given by -f; it is relative to /p)"
    );
    assert!(errors[1]
        .to_string()
        .starts_with("locked.yaml: cannot read: permission denied"));
}

#[test]
fn stdin_is_read_from_what_the_caller_passed() {
    let mut o = options("/p/app", &["-"]);
    o.stdin = Some("services: {}".to_string());
    let s = resolve(&o, &Environment::new(), &FakeFs::default()).unwrap();
    assert_eq!(s.files[0].path, None);
    assert_eq!(&*s.files[0].name, "-");
    assert_eq!(s.files[0].text, "services: {}");
    assert_eq!(s.project_dir, PathBuf::from("/p/app"));
    o.stdin = None;
    assert!(resolve(&o, &Environment::new(), &FakeFs::default()).is_err());
}

#[test]
fn compose_file_is_split_on_the_path_separator() {
    let fs = FakeFs::with(&[("/p/a.yaml", "a"), ("/p/b.yaml", "b")]);
    let env: Environment = [("COMPOSE_FILE", "a.yaml:b.yaml")].into_iter().collect();
    assert_eq!(
        names(&resolve(&options("/p", &[]), &env, &fs).unwrap()),
        ["a.yaml", "b.yaml"]
    );
    let env: Environment = [
        ("COMPOSE_FILE", "a.yaml;b.yaml"),
        ("COMPOSE_PATH_SEPARATOR", ";"),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        names(&resolve(&options("/p", &[]), &env, &fs).unwrap()),
        ["a.yaml", "b.yaml"]
    );
    // -f wins over COMPOSE_FILE.
    assert_eq!(
        names(&resolve(&options("/p", &["b.yaml"]), &env, &fs).unwrap()),
        ["b.yaml"]
    );
}

#[test]
fn project_directory_option_wins() {
    let fs = FakeFs::with(&[
        ("/p/a/compose.yaml", "a"),
        ("/p/My Project/compose.yaml", "b"),
    ]);
    let mut o = options("/p/a", &[]);
    o.project_directory = Some(PathBuf::from("../My Project"));
    let s = resolve(&o, &Environment::new(), &fs).unwrap();
    assert_eq!(s.project_dir, PathBuf::from("/p/My Project"));
    // The lookup starts in the project directory.
    assert_eq!(s.files[0].text, "b");
    assert_eq!(s.project_name(&empty_tree()).unwrap(), "myproject");
}

#[test]
fn project_name_precedence() {
    let fs = FakeFs::with(&[("/p/dir/compose.yaml", "a")]);
    let named = crate::merge::tests::doc("name: My_App", "compose.yaml");
    let env: Environment = [("COMPOSE_PROJECT_NAME", "from-env")].into_iter().collect();
    let mut o = options("/p/dir", &[]);
    assert_eq!(
        resolve(&o, &Environment::new(), &fs)
            .unwrap()
            .project_name(&named)
            .unwrap(),
        "my_app"
    );
    assert_eq!(
        resolve(&o, &env, &fs)
            .unwrap()
            .project_name(&named)
            .unwrap(),
        "from-env"
    );
    o.project_name = Some("cli".to_string());
    assert_eq!(
        resolve(&o, &env, &fs)
            .unwrap()
            .project_name(&named)
            .unwrap(),
        "cli"
    );
    let unnamed = crate::merge::tests::doc("name: '__'", "compose.yaml");
    assert_eq!(
        resolve(&options("/p/dir", &[]), &Environment::new(), &fs)
            .unwrap()
            .project_name(&unnamed)
            .unwrap(),
        "dir"
    );
}

#[test]
fn an_invalid_explicit_name_is_an_error_saying_what_is_allowed() {
    let fs = FakeFs::with(&[("/p/compose.yaml", "a")]);
    let mut o = options("/p", &[]);
    o.project_name = Some("My App".to_string());
    let errors = resolve(&o, &Environment::new(), &fs).unwrap_err();
    assert_eq!(
        errors[0].to_string(),
        "invalid project name \"My App\": must consist only of lowercase letters, digits, `-` and `_`, \
         and start with a letter or a digit (change the name given by -p, for example to \"myapp\")"
    );
    let env: Environment = [("COMPOSE_PROJECT_NAME", "-x")].into_iter().collect();
    assert!(resolve(&options("/p", &[]), &env, &fs).is_err());
}

#[test]
fn normalizes_names_and_paths() {
    assert_eq!(normalize_project_name("-_My.App-2"), "myapp-2");
    assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
    assert_eq!(
        normalize(Path::new("../a/../../b")),
        PathBuf::from("../../b")
    );
    assert_eq!(normalize(Path::new("/..")), PathBuf::from("/"));
    assert_eq!(normalize(Path::new("a/..")), PathBuf::from("."));
}
