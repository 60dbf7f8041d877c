//! Rewriting relative host paths when a service (or a whole included
//! project) moves from the directory its file is in to another file's
//! context — the same attributes compose-go resolves.

use crate::source::normalize;
use crate::tree::{Kind, Node};
use std::path::Path;

/// Makes the relative host paths of one service start from `dir`.
pub(crate) fn rebase_service(service: &mut Node, dir: &Path) {
    let Some(map) = service.as_map_mut() else {
        return;
    };
    for (key, entry) in map.iter_mut() {
        let value = &mut entry.value;
        match key.as_str() {
            "build" => rebase_build(value, dir),
            "env_file" => each_item(value, |item| {
                rebase_scalar(item, dir);
                if let Some(path) = field(item, "path") {
                    rebase_scalar(path, dir);
                }
            }),
            "label_file" => each_item(value, |item| rebase_scalar(item, dir)),
            "volumes" => each_item(value, |item| rebase_volume(item, dir)),
            "extends" => {
                if let Some(file) = field(value, "file") {
                    rebase_scalar(file, dir);
                }
            }
            "develop" => {
                if let Some(watch) = field(value, "watch") {
                    each_item(watch, |rule| {
                        if let Some(path) = field(rule, "path") {
                            rebase_scalar(path, dir);
                        }
                    });
                }
            }
            _ => {}
        }
    }
}

/// Makes the relative host paths of a whole project document start from
/// `dir`: every service's, and the `file` of top-level configs and secrets.
pub(crate) fn rebase_project(doc: &mut Node, dir: &Path) {
    let Some(map) = doc.as_map_mut() else {
        return;
    };
    for (key, entry) in map.iter_mut() {
        let Some(resources) = entry.value.as_map_mut() else {
            continue;
        };
        for resource in resources.values_mut() {
            match key.as_str() {
                "services" => rebase_service(&mut resource.value, dir),
                "configs" | "secrets" => {
                    if let Some(file) = field(&mut resource.value, "file") {
                        rebase_scalar(file, dir);
                    }
                }
                _ => {}
            }
        }
    }
}

fn field<'n>(node: &'n mut Node, key: &str) -> Option<&'n mut Node> {
    node.as_map_mut()
        .and_then(|m| m.get_mut(key))
        .map(|e| &mut e.value)
}

/// Applies `f` to a scalar or to each item of a sequence.
fn each_item(node: &mut Node, mut f: impl FnMut(&mut Node)) {
    match &mut node.kind {
        Kind::Seq(items) => items.iter_mut().for_each(f),
        _ => f(node),
    }
}

fn rebase_build(build: &mut Node, dir: &Path) {
    if !is_remote(build.as_str().unwrap_or_default()) {
        rebase_scalar(build, dir);
    }
    if let Some(context) = field(build, "context") {
        if !is_remote(context.as_str().unwrap_or_default()) {
            rebase_scalar(context, dir);
        }
    }
    let Some(contexts) = field(build, "additional_contexts") else {
        return;
    };
    match &mut contexts.kind {
        Kind::Map(map) => {
            for entry in map.values_mut() {
                if !is_remote(entry.value.as_str().unwrap_or_default()) {
                    rebase_scalar(&mut entry.value, dir);
                }
            }
        }
        Kind::Seq(items) => {
            for item in items {
                let Kind::Scalar(s) = &mut item.kind else {
                    continue;
                };
                if let Some((name, path)) = s.text.split_once('=') {
                    if let Some(rebased) = rebased(path, dir).filter(|_| !is_remote(path)) {
                        s.text = format!("{name}={rebased}");
                    }
                }
            }
        }
        _ => {}
    }
}

/// A bind mount: short syntax `./src:/dst[:mode]` (only sources starting
/// with `.` are host paths relative to the file), or long syntax with
/// `type: bind`.
fn rebase_volume(volume: &mut Node, dir: &Path) {
    let bind = volume.get("type").and_then(Node::as_str) == Some("bind");
    match &mut volume.kind {
        Kind::Scalar(s) if s.text.starts_with('.') => {
            let (source, rest) = match s.text.split_once(':') {
                Some((source, rest)) => (source.to_string(), format!(":{rest}")),
                None => (s.text.clone(), String::new()),
            };
            if let Some(rebased) = rebased(&source, dir) {
                s.text = format!("{rebased}{rest}");
            }
        }
        Kind::Map(_) if bind => {
            if let Some(source) = field(volume, "source") {
                rebase_scalar(source, dir);
            }
        }
        _ => {}
    }
}

fn rebase_scalar(node: &mut Node, dir: &Path) {
    if let Kind::Scalar(s) = &mut node.kind {
        if let Some(rebased) = rebased(&s.text, dir) {
            s.text = rebased;
        }
    }
}

/// `dir/path` for a relative local path; `None` for absolute paths, `~`
/// paths, empty strings and values that are not paths at all.
fn rebased(path: &str, dir: &Path) -> Option<String> {
    if path.is_empty()
        || path.starts_with('~')
        || Path::new(path).is_absolute()
        || path.contains("://")
    {
        return None;
    }
    Some(normalize(&dir.join(path)).to_string_lossy().into_owned())
}

/// Build contexts may be Git URLs, `docker-image://` or `service:`
/// references rather than directories.
fn is_remote(context: &str) -> bool {
    (context.contains(':') && !context.starts_with('.')) || context.starts_with("github.com/")
}
