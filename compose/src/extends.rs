//! `services.X.extends`: a service starts from another one — in the same
//! file or in another file — and its own keys are merged on top by the merge
//! rules. Bases are resolved recursively; a cycle is an error naming it.
//!
//! Everything the base service has is inherited, `depends_on`, `links` and
//! `volumes_from` included: Compose dropped the old restriction (the
//! Compose specification now only says that referenced resources must be
//! declared by the extending model).
//!
//! A base from another directory has its relative paths (build context,
//! `env_file`, bind-mount sources, `extends.file`, ...) rewritten to start
//! from that directory, so they keep pointing at the same place once the
//! service lives in the extending file.

use crate::error::LoadError;
use crate::include::{Loader, Scope};
use crate::merge::merge_at;
use crate::source::normalize;
use crate::tree::{KeyPath, Kind, Mapping, Node};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod paths;
#[cfg(test)]
mod tests;

pub(crate) use paths::{rebase_project, rebase_service};

/// The file a document was read from, as `extends` needs to know it.
#[derive(Debug, Clone)]
pub struct FileRef<'a> {
    /// How errors name the file.
    pub name: Arc<str>,
    /// The directory relative `extends.file` paths start from.
    pub dir: PathBuf,
    /// The include's env files this document is interpolated with (see [`Scope`]).
    pub env_files: &'a [PathBuf],
}

/// Replaces every service of `doc` that has `extends` by its base merged
/// with its own keys, and drops the `extends` key. Reports every problem.
pub fn resolve(
    doc: &mut Node,
    file: &FileRef<'_>,
    loader: &Loader<'_>,
) -> Result<(), Vec<LoadError>> {
    let Some(services) = doc.get("services").and_then(Node::as_map).cloned() else {
        return Ok(());
    };
    let mut r = Resolver {
        loader,
        env_files: file.env_files,
        files: HashMap::new(),
        failed: HashSet::new(),
        errors: Vec::new(),
    };
    let here = Place {
        name: file.name.clone(),
        dir: file.dir.clone(),
    };
    let mut resolved = Vec::new();
    for name in services.keys() {
        if r.failed.contains(&(here.name.clone(), name.clone())) {
            continue;
        }
        if services
            .get(name)
            .is_some_and(|e| e.value.get("extends").is_some())
        {
            if let Some(node) = r.service(&here, &services, name, &mut Vec::new()) {
                resolved.push((name.clone(), node));
            }
        }
    }
    if let Some(map) = doc
        .as_map_mut()
        .and_then(|m| m.get_mut("services"))
        .and_then(|e| e.value.as_map_mut())
    {
        for (name, node) in resolved {
            if let Some(entry) = map.get_mut(&name) {
                entry.value = node;
            }
        }
    }
    if r.errors.is_empty() {
        Ok(())
    } else {
        Err(r.errors)
    }
}

/// A file whose services are being resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Place {
    name: Arc<str>,
    dir: PathBuf,
}

/// What `extends:` says: a service, maybe in another file.
struct Reference {
    service: String,
    file: Option<String>,
}

struct Resolver<'a> {
    loader: &'a Loader<'a>,
    env_files: &'a [PathBuf],
    /// Services of other files, loaded once; `None` when loading failed
    /// (already reported).
    files: HashMap<PathBuf, Option<(Arc<str>, Mapping)>>,
    /// Services whose resolution failed, so a cycle is reported once.
    failed: HashSet<(Arc<str>, String)>,
    errors: Vec<LoadError>,
}

impl Resolver<'_> {
    /// The service `name` of `services` (in `place`) with its `extends`
    /// resolved; `None` when that failed (errors recorded).
    fn service(
        &mut self,
        place: &Place,
        services: &Mapping,
        name: &str,
        chain: &mut Vec<(Arc<str>, String)>,
    ) -> Option<Node> {
        let node = services.get(name)?.value.clone();
        let Some(ext) = node.get("extends").cloned() else {
            return Some(node);
        };
        chain.push((place.name.clone(), name.to_string()));
        let base = self.base(place, services, name, &ext, chain);
        chain.pop();
        let Some(base) = base else {
            self.failed.insert((place.name.clone(), name.to_string()));
            return None;
        };
        let mut own = node;
        if let Some(map) = own.as_map_mut() {
            map.shift_remove("extends");
        }
        match merge_at(base, own, &["services", name]) {
            Ok(merged) => Some(merged),
            Err(errors) => {
                self.errors.extend(errors);
                self.failed.insert((place.name.clone(), name.to_string()));
                None
            }
        }
    }

    /// The resolved base that `ext` (the `extends` of `name`) refers to,
    /// with paths rebased when it comes from another directory.
    fn base(
        &mut self,
        place: &Place,
        services: &Mapping,
        name: &str,
        ext: &Node,
        chain: &mut Vec<(Arc<str>, String)>,
    ) -> Option<Node> {
        let key_path = KeyPath::root().key("services").key(name).key("extends");
        let reference = self.reference(ext, &key_path)?;
        let (base_place, base_services) = match &reference.file {
            None => (place.clone(), services.clone()),
            Some(file) => {
                let path = normalize(&place.dir.join(file));
                let (file_name, services) = self.load(&path, ext, &key_path)?;
                let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                (
                    Place {
                        name: file_name,
                        dir,
                    },
                    services,
                )
            }
        };
        if !base_services.contains_key(&reference.service) {
            self.errors.push(
                LoadError::new(
                    Some(ext.location.clone()),
                    key_path.to_string(),
                    format!(
                        "service \"{}\" not found in {}",
                        reference.service, base_place.name
                    ),
                )
                .with_hint(
                    "check the service name, or name the file that defines it with `extends.file`",
                ),
            );
            return None;
        }
        let link = (base_place.name.clone(), reference.service.clone());
        if chain.contains(&link) {
            let mut steps: Vec<String> = chain.iter().map(|(f, s)| format!("{s} ({f})")).collect();
            steps.push(format!("{} ({})", link.1, link.0));
            self.errors.push(
                LoadError::new(
                    Some(ext.location.clone()),
                    key_path.to_string(),
                    format!("extends cycle: {}", steps.join(" → ")),
                )
                .with_hint("a service cannot extend itself, directly or through others; remove one of these `extends`"),
            );
            return None;
        }
        let mut base = self.service(&base_place, &base_services, &reference.service, chain)?;
        if base_place.dir != place.dir {
            rebase_service(&mut base, &base_place.dir);
        }
        Some(base)
    }

    fn reference(&mut self, ext: &Node, key_path: &KeyPath) -> Option<Reference> {
        let text = |n: &Node| n.as_str().map(str::to_string);
        let reference = match &ext.kind {
            Kind::Scalar(s) => Some(Reference {
                service: s.text.clone(),
                file: None,
            }),
            Kind::Map(_) => ext.get("service").and_then(text).map(|service| Reference {
                service,
                file: ext.get("file").and_then(text),
            }),
            _ => None,
        };
        if reference.is_none() {
            self.errors.push(
                LoadError::new(
                    Some(ext.location.clone()),
                    key_path.to_string(),
                    "`extends` needs the name of the service to extend",
                )
                .with_hint(
                    "write `extends: base` or `extends: {service: base, file: common.yaml}`",
                ),
            );
        }
        reference
    }

    /// The services of another file (read, parsed, prepared, documents merged).
    fn load(&mut self, path: &Path, ext: &Node, key_path: &KeyPath) -> Option<(Arc<str>, Mapping)> {
        if let Some(cached) = self.files.get(path) {
            return cached.clone();
        }
        let loaded = self.read(path, ext, key_path);
        self.files.insert(path.to_path_buf(), loaded.clone());
        loaded
    }

    fn read(&mut self, path: &Path, ext: &Node, key_path: &KeyPath) -> Option<(Arc<str>, Mapping)> {
        let name: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
        let text = match self.loader.fs.read_to_string(path) {
            Ok(text) => text,
            Err(e) => {
                self.errors.push(
                    LoadError::new(
                        Some(ext.location.clone()),
                        key_path.key("file").to_string(),
                        format!("cannot read {name}: {e}"),
                    )
                    .with_hint("`extends.file` is relative to the file that has the `extends`"),
                );
                return None;
            }
        };
        let scope = Scope {
            file: &name,
            env_files: self.env_files,
        };
        match crate::include::prepare_text(&text, &scope, self.loader) {
            Ok(doc) => {
                let services = doc
                    .get("services")
                    .and_then(Node::as_map)
                    .cloned()
                    .unwrap_or_default();
                Some((name, services))
            }
            Err(errors) => {
                self.errors.extend(errors);
                None
            }
        }
    }
}
