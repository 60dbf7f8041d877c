//! A service's `volumes:`: the short syntax (`./data:/data:ro`, `named:/x`,
//! `/anon`) and the long one, to [`Mount`]s with absolute host paths.

use super::reader::{boolean, bytes, string, string_map, MapReader, Sink};
use crate::model::{
    BindOptions, Extensions, ImageOptions, Mount, Propagation, SeLinux, TmpfsOptions,
    VolumeOptions, VolumeType,
};
use crate::tree::{KeyPath, Kind, Node, Style};
use std::path::{Component, Path, PathBuf};

pub(super) fn mounts(sink: &mut Sink, node: &Node, path: &KeyPath) -> Vec<Mount> {
    let Some(items) = node.as_seq() else {
        sink.wrong_type(node, path, "a list");
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = path.index(i);
        let mount = match &item.kind {
            Kind::Scalar(s) => {
                match parse_short(&s.text) {
                    Ok((m, ignored)) => {
                        for option in ignored {
                            sink.warn(
                            &item.location,
                            &p,
                            format!("the volume option `{option}` does not apply here and is ignored"),
                        );
                        }
                        Some(m)
                    }
                    Err((msg, hint)) => {
                        sink.error(&item.location, &p, msg, hint);
                        None
                    }
                }
            }
            Kind::Map(_) => long(sink, item, &p),
            _ => {
                sink.wrong_type(item, &p, "a string or a mapping");
                None
            }
        };
        let Some(mut mount) = mount else { continue };
        if mount.kind == VolumeType::Bind {
            if let Some(source) = &mount.source {
                mount.source = resolve_path(sink, source, item, &p);
            }
        }
        out.push(mount);
    }
    out
}

/// `path` made absolute as Compose does: `~` is the user's home (`HOME` of
/// the environment), relative paths are relative to the project directory,
/// and `.`/`..` are resolved lexically.
pub(super) fn resolve_path(
    sink: &mut Sink,
    path: &str,
    node: &Node,
    key: &KeyPath,
) -> Option<String> {
    let expanded: PathBuf = if path == "~" || path.starts_with("~/") {
        let Some(home) = sink.ctx.env.get("HOME") else {
            sink.error(
                &node.location,
                key,
                format!("cannot expand `~` in `{path}`: HOME is not set"),
                "set HOME, or write the path relative to the project directory",
            );
            return None;
        };
        Path::new(home).join(path.trim_start_matches('~').trim_start_matches('/'))
    } else {
        sink.ctx.project_dir.join(path)
    };
    Some(clean(&expanded).to_string_lossy().into_owned())
}

/// Lexically normalized path: no `.`, no `..` (never above the root), no doubled `/`.
pub(crate) fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() && !out.has_root() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

type ParseError = (String, String);

const SHORT_HINT: &str = "write it as [SOURCE:]TARGET[:OPTIONS], e.g. `./data:/data:ro`";

fn is_path(source: &str) -> bool {
    source.starts_with('.') || source.starts_with('/') || source.starts_with('~')
}

fn check_target(target: &str) -> Result<String, ParseError> {
    if !target.starts_with('/') {
        return Err((
            format!("the container path `{target}` is not absolute"),
            "mount targets are absolute paths inside the container, e.g. `/data`".into(),
        ));
    }
    Ok(clean(Path::new(target)).to_string_lossy().into_owned())
}

fn parse_propagation(text: &str) -> Option<Propagation> {
    Some(match text {
        "private" => Propagation::Private,
        "rprivate" => Propagation::Rprivate,
        "shared" => Propagation::Shared,
        "rshared" => Propagation::Rshared,
        "slave" => Propagation::Slave,
        "rslave" => Propagation::Rslave,
        _ => return None,
    })
}

fn parse_selinux(text: &str) -> Option<SeLinux> {
    match text {
        "z" => Some(SeLinux::Shared),
        "Z" => Some(SeLinux::Private),
        _ => None,
    }
}

fn new_mount(kind: VolumeType, source: Option<String>, target: String) -> Mount {
    Mount {
        kind,
        source,
        target,
        read_only: false,
        consistency: None,
        bind: None,
        volume: None,
        tmpfs: None,
        image: None,
        extensions: Extensions::new(),
    }
}

/// One short volume spec, and the options it ignores (as Compose ignores
/// them; the caller warns). A bind source is returned as written (not yet absolute).
pub(crate) fn parse_short(spec: &str) -> Result<(Mount, Vec<String>), ParseError> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (source, target, options) = match parts.as_slice() {
        [target] => ("", *target, ""),
        [source, target] => (*source, *target, ""),
        [source, target, options] => (*source, *target, *options),
        _ => {
            return Err((
                format!("invalid volume `{spec}`: too many `:`"),
                SHORT_HINT.into(),
            ))
        }
    };
    if target.is_empty() || source.is_empty() && parts.len() > 1 {
        return Err((
            format!("invalid volume `{spec}`: empty section between `:`"),
            SHORT_HINT.into(),
        ));
    }
    let target = check_target(target)?;
    let (kind, source) = match source {
        "" => (VolumeType::Volume, None),
        s if is_path(s) => (VolumeType::Bind, Some(s.to_string())),
        s => (VolumeType::Volume, Some(s.to_string())),
    };
    let mut mount = new_mount(kind, source, target);
    let mut bind = BindOptions::default();
    let mut volume = VolumeOptions::default();
    let mut ignored = Vec::new();
    for option in options.split(',').filter(|o| !o.is_empty()) {
        let is_bind = kind == VolumeType::Bind;
        match (option, parse_selinux(option), parse_propagation(option)) {
            ("ro", ..) => mount.read_only = true,
            ("rw", ..) => mount.read_only = false,
            ("nocopy", ..) if !is_bind => volume.nocopy = true,
            (_, Some(label), _) if is_bind => bind.selinux = Some(label),
            (_, _, Some(propagation)) if is_bind => bind.propagation = Some(propagation),
            // Consistency hints only matter to Docker Desktop on macOS; Compose drops them too.
            ("cached" | "delegated" | "consistent", ..) => {}
            (o, ..) => ignored.push(o.to_string()),
        }
    }
    match kind {
        VolumeType::Bind => mount.bind = Some(bind),
        _ => mount.volume = Some(volume),
    }
    Ok((mount, ignored))
}

fn parse_kind(text: &str) -> Result<VolumeType, ParseError> {
    Ok(match text {
        "bind" => VolumeType::Bind,
        "volume" => VolumeType::Volume,
        "tmpfs" => VolumeType::Tmpfs,
        "npipe" => VolumeType::Npipe,
        "cluster" => VolumeType::Cluster,
        "image" => VolumeType::Image,
        _ => {
            return Err((
                format!("unknown volume type `{text}`"),
                "use `bind`, `volume`, `tmpfs`, `image`, `npipe` or `cluster`".into(),
            ))
        }
    })
}

/// File mode bits. A quoted mode is octal (`"440"`); a plain one is octal
/// with a leading `0` or `0o` (`0440`) and decimal otherwise, as YAML reads it.
pub(super) fn file_mode(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<u32> {
    let text = string(sink, node, path)?;
    let quoted = node.as_scalar().is_some_and(|s| s.style == Style::Quoted);
    let parsed = match text.strip_prefix("0o").or_else(|| text.strip_prefix('0')) {
        _ if quoted => u32::from_str_radix(&text, 8).ok(),
        Some("") => Some(0),
        Some(octal) => u32::from_str_radix(octal, 8).ok(),
        None => text.parse::<u32>().ok(),
    };
    if parsed.is_none() {
        sink.error(
            &node.location,
            path,
            format!("invalid file mode `{text}`"),
            "write the mode in octal with a leading 0, e.g. `0440`",
        );
    }
    parsed
}

fn long(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<Mount> {
    let mut m = MapReader::new(sink, node, path)?;
    let kind = match m.get("type") {
        Some(_) => m.parse(sink, "type", parse_kind),
        None => {
            sink.error(
                &node.location,
                path,
                "missing `type`",
                "add `type:` with `bind`, `volume`, `tmpfs` or `image`",
            );
            None
        }
    };
    let source = m.read(sink, "source", string);
    let target = match m.get("target") {
        Some(_) => m.parse(sink, "target", check_target),
        None => {
            sink.error(
                &node.location,
                path,
                "missing `target`",
                "add `target:` with the path inside the container",
            );
            None
        }
    };
    let read_only = m.read(sink, "read_only", boolean).unwrap_or(false);
    let consistency = m.read(sink, "consistency", string);
    let bind = m.read(sink, "bind", |sink, n, p| {
        let mut b = MapReader::new(sink, n, p)?;
        Some(BindOptions {
            propagation: b.parse(sink, "propagation", |t| {
                parse_propagation(t).ok_or_else(|| {
                    (
                        format!("unknown propagation `{t}`"),
                        "use private, rprivate, shared, rshared, slave or rslave".into(),
                    )
                })
            }),
            create_host_path: b.read(sink, "create_host_path", boolean).unwrap_or(true),
            selinux: b.parse(sink, "selinux", |t| {
                parse_selinux(t).ok_or_else(|| {
                    (
                        format!("unknown selinux label `{t}`"),
                        "use `z` or `Z`".into(),
                    )
                })
            }),
            recursive: b.read(sink, "recursive", string),
            extensions: b.finish(sink, true),
        })
    });
    let volume = m.read(sink, "volume", |sink, n, p| {
        let mut v = MapReader::new(sink, n, p)?;
        Some(VolumeOptions {
            labels: v.read(sink, "labels", string_map).unwrap_or_default(),
            nocopy: v.read(sink, "nocopy", boolean).unwrap_or(false),
            subpath: v.read(sink, "subpath", string),
            extensions: v.finish(sink, true),
        })
    });
    let tmpfs = m.read(sink, "tmpfs", |sink, n, p| {
        let mut t = MapReader::new(sink, n, p)?;
        Some(TmpfsOptions {
            size: t.read(sink, "size", bytes),
            mode: t.read(sink, "mode", file_mode),
            extensions: t.finish(sink, true),
        })
    });
    let image = m.read(sink, "image", |sink, n, p| {
        let mut i = MapReader::new(sink, n, p)?;
        Some(ImageOptions {
            subpath: i.read(sink, "subpath", string),
            extensions: i.finish(sink, true),
        })
    });
    let extensions = m.finish(sink, true);
    let kind = kind?;
    if kind == VolumeType::Bind && source.is_none() {
        sink.error(
            &node.location,
            path,
            "a bind mount needs a `source`",
            "add `source:` with the host path",
        );
        return None;
    }
    Some(Mount {
        kind,
        source,
        target: target?,
        read_only,
        consistency,
        bind,
        volume,
        tmpfs,
        image,
        extensions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_syntax() {
        let m = parse_short("./data:/data:ro").unwrap().0;
        assert_eq!(
            (m.kind, m.source.as_deref(), m.target.as_str(), m.read_only),
            (VolumeType::Bind, Some("./data"), "/data", true)
        );
        assert_eq!(m.bind, Some(BindOptions::default()));
        let m = parse_short("named:/x/").unwrap().0;
        assert_eq!(
            (m.kind, m.source.as_deref(), m.target.as_str()),
            (VolumeType::Volume, Some("named"), "/x")
        );
        assert_eq!(m.volume, Some(VolumeOptions::default()));
        let m = parse_short("/anon").unwrap().0;
        assert_eq!((m.kind, m.source), (VolumeType::Volume, None));
        let m = parse_short("/src:/dst:rw,Z,rshared").unwrap().0;
        let bind = m.bind.unwrap();
        assert_eq!(
            (bind.selinux, bind.propagation),
            (Some(SeLinux::Private), Some(Propagation::Rshared))
        );
        let m = parse_short("cache:/cache:nocopy").unwrap().0;
        assert!(m.volume.unwrap().nocopy);
    }

    #[test]
    fn short_syntax_errors() {
        let e = |spec: &str| parse_short(spec).unwrap_err().0;
        assert_eq!(e("a:b:c:d"), "invalid volume `a:b:c:d`: too many `:`");
        assert_eq!(e("./x:data"), "the container path `data` is not absolute");
        assert_eq!(
            e("./x:"),
            "invalid volume `./x:`: empty section between `:`"
        );
        assert_eq!(e(":/x"), "invalid volume `:/x`: empty section between `:`");
    }

    #[test]
    fn short_syntax_ignores_what_compose_ignores() {
        let (m, ignored) = parse_short("named:/data:z,rx,cached,ro").unwrap();
        assert_eq!(ignored, vec!["z", "rx"]);
        assert!(m.read_only);
        assert_eq!(m.consistency, None);
    }

    #[test]
    fn clean_paths() {
        assert_eq!(clean(Path::new("/p/./a/../b//c")), PathBuf::from("/p/b/c"));
        assert_eq!(clean(Path::new("/../x")), PathBuf::from("/x"));
    }
}
