//! Which files make up the project, where the project lives and what it is
//! called — decided as `docker compose` decides it.
//!
//! Files come from `-f` (where `-` is standard input), else from
//! `COMPOSE_FILE`, else from looking up `compose.yaml` and friends in the
//! working directory and then its parents (with the override file found next
//! to it). Filesystem access goes through [`FileSystem`], so the lookup is
//! tested without touching the disk.

use crate::env::Environment;
use crate::error::{LoadError, Warning};
use crate::tree::Node;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// Project file names looked up when no file is named, in order of preference.
pub const DEFAULT_FILE_NAMES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
    "stack.yml",
];

/// Override files picked up next to a looked-up project file.
pub const OVERRIDE_FILE_NAMES: &[&str] = &[
    "compose.override.yaml",
    "compose.override.yml",
    "docker-compose.override.yaml",
    "docker-compose.override.yml",
];

/// The little the loader needs from a filesystem.
pub trait FileSystem {
    /// Whether `path` names an existing regular file (following symlinks).
    fn is_file(&self, path: &Path) -> bool;
    /// The whole file as UTF-8 text.
    fn read_to_string(&self, path: &Path) -> io::Result<String>;
}

/// The host's filesystem.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostFileSystem;

impl FileSystem for HostFileSystem {
    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }

    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        std::fs::read_to_string(path)
    }
}

/// What the command line says about the project's files.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// `-f` values in order; `-` reads [`SourceOptions::stdin`].
    pub files: Vec<String>,
    /// What the caller read from standard input, when a `-f -` asks for it.
    pub stdin: Option<String>,
    /// The directory the command runs in; relative paths start here.
    pub working_dir: PathBuf,
    /// `--project-directory`.
    pub project_directory: Option<PathBuf>,
    /// `-p`.
    pub project_name: Option<String>,
}

/// One project file and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Where it was read from; `None` for standard input.
    pub path: Option<PathBuf>,
    /// How errors name it: the path as the user wrote it, or as found.
    pub name: Arc<str>,
    /// The file's content.
    pub text: String,
}

/// The files of a project, in merge order, and where the project lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSources {
    /// The files to merge, in order.
    pub files: Vec<Source>,
    /// `--project-directory`, or the directory of the first file.
    pub project_dir: PathBuf,
    /// A name set by `-p` or `COMPOSE_PROJECT_NAME`, already checked.
    explicit_name: Option<String>,
    /// Things Compose warns about (several candidate files in one directory).
    pub warnings: Vec<Warning>,
}

/// Finds and reads the project's files. Every unreadable file is reported.
pub fn resolve(
    options: &SourceOptions,
    env: &Environment,
    fs: &dyn FileSystem,
) -> Result<ProjectSources, Vec<LoadError>> {
    let wd = &options.working_dir;
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    let explicit_name = match explicit_name(options, env) {
        Ok(name) => name,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let compose_file = env.get("COMPOSE_FILE").filter(|v| !v.is_empty());
    let named: Vec<(String, &str)> = if !options.files.is_empty() {
        options.files.iter().map(|f| (f.clone(), "-f")).collect()
    } else if let Some(list) = compose_file {
        let sep = env
            .get("COMPOSE_PATH_SEPARATOR")
            .filter(|s| !s.is_empty())
            .unwrap_or(":");
        list.split(sep)
            .filter(|f| !f.is_empty())
            .map(|f| (f.to_string(), "COMPOSE_FILE"))
            .collect()
    } else {
        Vec::new()
    };
    let mut files = Vec::new();
    if named.is_empty() {
        // Compose looks from --project-directory when it is given.
        let start = match &options.project_directory {
            Some(dir) => normalize(&wd.join(dir)),
            None => wd.clone(),
        };
        match lookup(&start, fs, &mut warnings) {
            Some(found) => {
                for path in found {
                    let name = display_name(&path, wd);
                    read(fs, path, name, "", &mut files, &mut errors);
                }
            }
            None => errors.push(not_found(&start)),
        }
    } else {
        for (name, origin) in named {
            if name == "-" {
                match &options.stdin {
                    Some(text) => files.push(Source {
                        path: None,
                        name: Arc::from("-"),
                        text: text.clone(),
                    }),
                    None => errors.push(
                        LoadError::new(
                            None,
                            "",
                            "`-f -` reads the project from standard input, but none was given",
                        )
                        .with_hint("pipe the file in, or name it with -f"),
                    ),
                }
                continue;
            }
            let path = normalize(&wd.join(&name));
            if !fs.is_file(&path) {
                errors.push(
                    LoadError::new(None, "", format!("{name}: no such file")).with_hint(format!(
                        "check the path given by {origin}; it is relative to {}",
                        wd.display()
                    )),
                );
                continue;
            }
            read(
                fs,
                path,
                Arc::from(name.as_str()),
                origin,
                &mut files,
                &mut errors,
            );
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let project_dir = match &options.project_directory {
        Some(dir) => normalize(&wd.join(dir)),
        None => files
            .iter()
            .find_map(|f| {
                f.path
                    .as_deref()
                    .and_then(Path::parent)
                    .map(Path::to_path_buf)
            })
            .unwrap_or_else(|| wd.clone()),
    };
    Ok(ProjectSources {
        files,
        project_dir,
        explicit_name,
        warnings,
    })
}

fn read(
    fs: &dyn FileSystem,
    path: PathBuf,
    name: Arc<str>,
    origin: &str,
    files: &mut Vec<Source>,
    errors: &mut Vec<LoadError>,
) {
    match fs.read_to_string(&path) {
        Ok(text) => files.push(Source {
            path: Some(path),
            name,
            text,
        }),
        Err(e) => {
            let hint = if origin.is_empty() {
                "check the file's permissions and encoding (UTF-8)".to_string()
            } else {
                format!("check the file named by {origin}: its permissions and encoding (UTF-8)")
            };
            errors.push(
                LoadError::new(None, "", format!("{name}: cannot read: {e}")).with_hint(hint),
            );
        }
    }
}

/// The first directory, from `wd` upwards, holding a project file: that file,
/// then its override file when there is one.
fn lookup(wd: &Path, fs: &dyn FileSystem, warnings: &mut Vec<Warning>) -> Option<Vec<PathBuf>> {
    let mut dir = Some(wd);
    while let Some(d) = dir {
        let found = first_of(d, DEFAULT_FILE_NAMES, fs, warnings);
        if let Some(file) = found {
            let mut files = vec![file];
            files.extend(first_of(d, OVERRIDE_FILE_NAMES, fs, warnings));
            return Some(files);
        }
        dir = d.parent();
    }
    None
}

/// The first of `names` present in `dir`; Compose warns when several are.
fn first_of(
    dir: &Path,
    names: &[&str],
    fs: &dyn FileSystem,
    warnings: &mut Vec<Warning>,
) -> Option<PathBuf> {
    let present: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| fs.is_file(&dir.join(n)))
        .collect();
    if present.len() > 1 {
        warnings.push(Warning {
            location: None,
            path: String::new(),
            message: format!(
                "found several files with supported names in {}: {}; using {}",
                dir.display(),
                present.join(", "),
                present[0]
            ),
        });
    }
    present.first().map(|n| dir.join(n))
}

fn not_found(wd: &Path) -> LoadError {
    LoadError::new(None, "", "no configuration file provided: not found").with_hint(format!(
        "looked for {} in {} and its parent directories; create one or name it with -f",
        DEFAULT_FILE_NAMES.join(", "),
        wd.display()
    ))
}

/// Files inside the working directory are named relative to it, as users
/// expect in messages; others keep their full path.
fn display_name(path: &Path, wd: &Path) -> Arc<str> {
    let shown = path.strip_prefix(wd).unwrap_or(path);
    Arc::from(shown.to_string_lossy().as_ref())
}

fn explicit_name(options: &SourceOptions, env: &Environment) -> Result<Option<String>, LoadError> {
    let (name, origin) = match (&options.project_name, env.get("COMPOSE_PROJECT_NAME")) {
        (Some(n), _) if !n.is_empty() => (n.as_str(), "-p"),
        (_, Some(n)) if !n.is_empty() => (n, "COMPOSE_PROJECT_NAME"),
        _ => return Ok(None),
    };
    if normalize_project_name(name) == name {
        return Ok(Some(name.to_string()));
    }
    let suggestion = normalize_project_name(name);
    let mut hint = format!("change the name given by {origin}");
    if !suggestion.is_empty() {
        hint.push_str(&format!(", for example to \"{suggestion}\""));
    }
    Err(LoadError::new(
        None,
        "",
        format!(
            "invalid project name \"{name}\": must consist only of lowercase letters, digits, \
             `-` and `_`, and start with a letter or a digit"
        ),
    )
    .with_hint(hint))
}

/// Compose's normalization: lowercase, keep `a-z 0-9 _ -`, drop leading `_`/`-`.
pub fn normalize_project_name(name: &str) -> String {
    let kept: String = name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    kept.trim_start_matches(['_', '-']).to_string()
}

impl ProjectSources {
    /// The project name: `-p` > `COMPOSE_PROJECT_NAME` > top-level `name:` of
    /// the merged tree > the project directory's base name; the last two
    /// normalized as Compose does.
    pub fn project_name(&self, merged: &Node) -> Result<String, LoadError> {
        if let Some(name) = &self.explicit_name {
            return Ok(name.clone());
        }
        let from_file = merged
            .get("name")
            .and_then(Node::as_str)
            .map(normalize_project_name);
        if let Some(name) = from_file.filter(|n| !n.is_empty()) {
            return Ok(name);
        }
        let base = self
            .project_dir
            .file_name()
            .map(|n| normalize_project_name(&n.to_string_lossy()));
        base.filter(|n| !n.is_empty()).ok_or_else(|| {
            LoadError::new(None, "", "project name must not be empty").with_hint(format!(
                "the project directory {} gives no usable name; set one with -p or a top-level `name:`",
                self.project_dir.display()
            ))
        })
    }
}

/// Removes `.` and resolves `..` without touching the filesystem (as Go's
/// `filepath.Clean`), so paths compare and print the way users wrote them.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
pub(crate) mod tests;
