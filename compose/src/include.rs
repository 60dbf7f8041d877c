//! Loading a project's files into one tree, and the top-level `include`.
//!
//! [`load_project`] is the loader's front door for the tree stages: every
//! YAML document of every file is prepared (interpolated, by the caller's
//! [`Prepare`]), gets its includes imported and its `extends` resolved, and
//! is merged onto the documents before it — in the order compose-go does.
//!
//! An `include` entry loads another project the same way (its own files,
//! relative paths from its own project directory, its own `.env`) and adds
//! its services, networks, volumes, secrets, configs and models. A resource
//! defined twice — by the includer and an included project, or by two
//! included projects — is an error naming both places, unless both
//! definitions are identical.

use crate::error::{LoadError, Location};
use crate::extends::{self, rebase_project, FileRef};
use crate::merge::{clean, merge};
use crate::source::{normalize, FileSystem, Source};
use crate::tree::{Entry, KeyPath, Kind, Mapping, Node};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[cfg(test)]
mod tests;

/// Where a document being prepared comes from.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'s> {
    /// The file, as errors name it.
    pub file: &'s Arc<str>,
    /// Env files of the `include` entries that brought this file in,
    /// outermost first: their variables are added, in order, over the
    /// project's environment when interpolating this file. Empty for the
    /// project's own files.
    pub env_files: &'s [PathBuf],
}

/// Turns one parsed document into what merging expects (the caller plugs
/// interpolation in here).
pub type Prepare<'a> = dyn Fn(Node, &Scope<'_>) -> Result<Node, Vec<LoadError>> + 'a;

/// How the tree stages read and prepare the files they discover.
pub struct Loader<'a> {
    /// Reads included files and `extends.file` bases.
    pub fs: &'a dyn FileSystem,
    /// Called once per YAML document, before anything else looks at it.
    pub prepare: &'a Prepare<'a>,
}

/// The top-level resources an include adds, in Compose's order.
const RESOURCES: &[&str] = &[
    "services", "volumes", "networks", "secrets", "configs", "models",
];

/// Loads the project's `files` (in merge order) into one tree. Relative
/// `include` paths start from `working_dir` (the project directory).
pub fn load_project(
    files: &[Source],
    working_dir: &Path,
    loader: &Loader<'_>,
) -> Result<Node, Vec<LoadError>> {
    load_files(files, working_dir, &[], &[], loader)
}

fn load_files(
    files: &[Source],
    working_dir: &Path,
    env_files: &[PathBuf],
    chain: &[PathBuf],
    loader: &Loader<'_>,
) -> Result<Node, Vec<LoadError>> {
    let mut merged: Option<Node> = None;
    let mut errors = Vec::new();
    for file in files {
        let docs = match crate::yaml::parse(&file.text, &file.name) {
            Ok(docs) => docs,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let mut chain = chain.to_vec();
        chain.extend(file.path.clone());
        let dir = file
            .path
            .as_deref()
            .and_then(Path::parent)
            .unwrap_or(working_dir);
        let file_ref = FileRef {
            name: file.name.clone(),
            dir: dir.to_path_buf(),
            env_files,
        };
        for doc in docs {
            let doc = match load_document(doc, &file_ref, working_dir, &chain, loader) {
                Ok(doc) => doc,
                Err(e) => {
                    errors.extend(e);
                    continue;
                }
            };
            merged = match merged.take() {
                None => Some(clean(doc)),
                Some(base) => match merge(base, doc) {
                    Ok(m) => Some(m),
                    Err(e) => {
                        errors.extend(e);
                        None
                    }
                },
            };
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(merged.unwrap_or_else(|| {
        let file = files
            .first()
            .map(|f| f.name.clone())
            .unwrap_or_else(|| Arc::from("-"));
        Node::new(Kind::Map(Mapping::new()), Location::new(file, 1, 1))
    }))
}

/// One document: prepared, includes imported, extends resolved.
fn load_document(
    doc: Node,
    file: &FileRef<'_>,
    working_dir: &Path,
    chain: &[PathBuf],
    loader: &Loader<'_>,
) -> Result<Node, Vec<LoadError>> {
    let mut doc = prepare_document(
        doc,
        &Scope {
            file: &file.name,
            env_files: file.env_files,
        },
        loader,
    )?;
    let mut errors = Vec::new();
    if let Err(e) = apply_includes(&mut doc, working_dir, file.env_files, chain, loader) {
        errors.extend(e);
    }
    if let Err(e) = extends::resolve(&mut doc, file, loader) {
        errors.extend(e);
    }
    if errors.is_empty() {
        Ok(doc)
    } else {
        Err(errors)
    }
}

fn prepare_document(
    doc: Node,
    scope: &Scope<'_>,
    loader: &Loader<'_>,
) -> Result<Node, Vec<LoadError>> {
    if doc.as_map().is_none() {
        return Err(vec![LoadError::new(
            Some(doc.location.clone()),
            "",
            format!(
                "the top level of a Compose file must be a mapping, found {}",
                doc.kind_name()
            ),
        )
        .with_hint("start the file with keys such as `services:`")]);
    }
    (loader.prepare)(doc, scope)
}

/// Parses and prepares every document of `text` and merges them, without
/// includes or extends (what `extends.file` needs from a file).
pub(crate) fn prepare_text(
    text: &str,
    scope: &Scope<'_>,
    loader: &Loader<'_>,
) -> Result<Node, Vec<LoadError>> {
    let mut merged: Option<Node> = None;
    for doc in crate::yaml::parse(text, scope.file).map_err(|e| vec![e])? {
        let doc = prepare_document(doc, scope, loader)?;
        merged = Some(match merged.take() {
            None => clean(doc),
            Some(base) => merge(base, doc)?,
        });
    }
    Ok(merged.unwrap_or_else(|| {
        Node::new(
            Kind::Map(Mapping::new()),
            Location::new(scope.file.clone(), 1, 1),
        )
    }))
}

/// One `include` entry, read from its short or long form.
struct Include {
    /// The entry, for error positions.
    node: Node,
    key_path: KeyPath,
    paths: Vec<String>,
    project_directory: Option<String>,
    env_files: Option<Vec<String>>,
}

/// Loads every `include` entry of `doc`, imports its resources and removes
/// the `include` key.
fn apply_includes(
    doc: &mut Node,
    working_dir: &Path,
    env_files: &[PathBuf],
    chain: &[PathBuf],
    loader: &Loader<'_>,
) -> Result<(), Vec<LoadError>> {
    let Some(include) = doc.as_map_mut().and_then(|m| m.shift_remove("include")) else {
        return Ok(());
    };
    let mut errors = Vec::new();
    for entry in entries(include.value, &mut errors) {
        match load_include(&entry, working_dir, env_files, chain, loader) {
            Ok(included) => import(doc, included, &mut errors),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn entries(include: Node, errors: &mut Vec<LoadError>) -> Vec<Include> {
    let root = KeyPath::root().key("include");
    let items = match include.kind {
        Kind::Seq(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, n)| (root.index(i), n))
            .collect(),
        Kind::Null => Vec::new(),
        _ => vec![(root, include)],
    };
    let strings = |n: &Node| -> Option<Vec<String>> {
        match &n.kind {
            Kind::Scalar(s) => Some(vec![s.text.clone()]),
            Kind::Seq(items) => items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => None,
        }
    };
    let mut out = Vec::new();
    for (key_path, node) in items {
        let paths = match &node.kind {
            Kind::Scalar(s) => Some(vec![s.text.clone()]),
            Kind::Map(_) => node.get("path").and_then(strings),
            _ => None,
        };
        match paths.filter(|p| !p.is_empty()) {
            Some(paths) => out.push(Include {
                project_directory: node
                    .get("project_directory")
                    .and_then(Node::as_str)
                    .map(str::to_string),
                env_files: node.get("env_file").and_then(strings),
                paths,
                key_path,
                node,
            }),
            None => errors.push(
                LoadError::new(
                    Some(node.location.clone()),
                    key_path.to_string(),
                    "an include needs the file(s) to load",
                )
                .with_hint(
                    "write `- other/compose.yaml` or `- path: [other/compose.yaml, override.yaml]`",
                ),
            ),
        }
    }
    out
}

fn load_include(
    entry: &Include,
    working_dir: &Path,
    env_files: &[PathBuf],
    chain: &[PathBuf],
    loader: &Loader<'_>,
) -> Result<Node, Vec<LoadError>> {
    let error = |message: String, hint: &str| {
        LoadError::new(
            Some(entry.node.location.clone()),
            entry.key_path.to_string(),
            message,
        )
        .with_hint(hint)
    };
    let paths: Vec<PathBuf> = entry
        .paths
        .iter()
        .map(|p| normalize(&working_dir.join(p)))
        .collect();
    if chain.contains(&paths[0]) {
        let mut steps: Vec<String> = chain.iter().map(|p| p.display().to_string()).collect();
        steps.push(paths[0].display().to_string());
        return Err(vec![error(
            format!("include cycle: {}", steps.join(" → ")),
            "a project cannot include itself, directly or through others; remove one of these includes",
        )]);
    }
    let project_dir = match &entry.project_directory {
        Some(dir) => normalize(&working_dir.join(dir)),
        None => paths[0]
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| working_dir.to_path_buf()),
    };
    let mut errors = Vec::new();
    let mut scope_env = env_files.to_vec();
    match &entry.env_files {
        Some(files) => {
            for f in files.iter().filter(|f| *f != "/dev/null") {
                let path = normalize(&working_dir.join(f));
                if loader.fs.is_file(&path) {
                    scope_env.push(path);
                } else {
                    errors.push(error(
                        format!("env file {} not found", path.display()),
                        "`env_file` of an include is relative to the including project's directory",
                    ));
                }
            }
        }
        None => {
            let default = project_dir.join(".env");
            if loader.fs.is_file(&default) {
                scope_env.push(default);
            }
        }
    }
    let mut sources = Vec::new();
    for (written, path) in entry.paths.iter().zip(&paths) {
        match loader.fs.read_to_string(path) {
            Ok(text) => sources.push(Source {
                name: Arc::from(path.to_string_lossy().as_ref()),
                path: Some(path.clone()),
                text,
            }),
            Err(e) => errors.push(error(
                format!("cannot read {written}: {e}"),
                "include paths are relative to the including project's directory",
            )),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut included = load_files(&sources, &project_dir, &scope_env, chain, loader)?;
    if project_dir != working_dir {
        rebase_project(&mut included, &project_dir);
    }
    Ok(included)
}

/// Adds the included project's resources to `doc`; a name defined on both
/// sides with different definitions is an error naming both.
fn import(doc: &mut Node, included: Node, errors: &mut Vec<LoadError>) {
    let Kind::Map(mut from) = included.kind else {
        return;
    };
    let location = doc.location.clone();
    let Some(target) = doc.as_map_mut() else {
        return;
    };
    for kind in RESOURCES {
        let Some(Entry {
            key_location,
            value,
        }) = from.shift_remove(*kind)
        else {
            continue;
        };
        let Kind::Map(resources) = value.kind else {
            continue;
        };
        let to = target.entry(kind.to_string()).or_insert_with(|| Entry {
            key_location,
            value: Node::new(Kind::Map(Mapping::new()), location.clone()),
        });
        if to.value.is_null() {
            to.value = Node::new(Kind::Map(Mapping::new()), to.value.location.clone());
        }
        let Some(to) = to.value.as_map_mut() else {
            continue;
        };
        for (name, entry) in resources {
            match to.get(&name) {
                Some(existing) if !same(&existing.value, &entry.value) => errors.push(
                    LoadError::new(
                        Some(existing.key_location.clone()),
                        KeyPath::root().key(kind).key(&name).to_string(),
                        format!("defined both here and in the included {}", entry.key_location),
                    )
                    .with_hint(
                        "rename one of them; to change an included resource, add an override file to the include's `path` list",
                    ),
                ),
                Some(_) => {}
                None => {
                    to.insert(name, entry);
                }
            }
        }
    }
}

/// Equal values, wherever they were written.
fn same(a: &Node, b: &Node) -> bool {
    match (&a.kind, &b.kind) {
        (Kind::Null, Kind::Null) => true,
        (Kind::Scalar(x), Kind::Scalar(y)) => x.text == y.text,
        (Kind::Seq(x), Kind::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Kind::Map(x), Kind::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, e)| y.get(k).is_some_and(|f| same(&e.value, &f.value)))
        }
        _ => false,
    }
}
