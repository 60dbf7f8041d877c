//! The mounts of a container being created: `Binds`, `Mounts`, `Tmpfs`,
//! `VolumesFrom` and the image's declared volumes, as launch mounts for
//! its monitor and as `Mounts` for inspect.

use std::collections::BTreeMap;

use bollard_stubs::models::{HostConfig, MountPoint, MountType};

use super::super::error::ApiError;
use super::super::Context;
use super::volumes_from::VolumesFrom;
use crate::container::launch::{LaunchMount, LaunchMountKind};
use crate::volume::VolumeName;

/// The launch mounts for `Binds`, `Mounts` and `Tmpfs`, then an anonymous
/// volume at each `declared` target nothing else mounts; named volumes are
/// created when missing (as Docker does) and listed in `named`, anonymous
/// ones are created and listed in `anonymous`.
pub(super) fn mounts(
    ctx: &Context,
    host: &HostConfig,
    declared: &[String],
    named: &mut Vec<String>,
    anonymous: &mut Vec<String>,
) -> Result<Vec<LaunchMount>, ApiError> {
    let mut out = Vec::new();
    let mut volume = |source: &str, field: &str| -> Result<(Option<String>, String), ApiError> {
        let name = if source.is_empty() {
            None
        } else {
            Some(
                VolumeName::parse(source)
                    .map_err(|e| ApiError::bad_request(format!("{field}: {e}")))?,
            )
        };
        let (record, _) = ctx
            .volumes
            .create(name.clone(), BTreeMap::new())
            .map_err(|e| ApiError::internal(super::super::chain(&e)))?;
        let list = if name.is_some() {
            &mut *named
        } else {
            &mut *anonymous
        };
        list.push(record.name.as_str().to_owned());
        Ok((
            Some(record.name.as_str().to_owned()),
            ctx.volumes.mountpoint(&record.name).display().to_string(),
        ))
    };
    for bind in host.binds.iter().flatten() {
        let field = format!("HostConfig.Binds {bind:?}");
        let parts: Vec<&str> = bind.split(':').collect();
        let (source, target, options) = match parts.as_slice() {
            [target] => ("", *target, ""),
            [source, target] => (*source, *target, ""),
            [source, target, options] => (*source, *target, *options),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "{field}: expected SOURCE:TARGET[:OPTIONS]"
                )))
            }
        };
        let mut read_only = false;
        for option in options.split(',').filter(|o| !o.is_empty()) {
            match option {
                "ro" => read_only = true,
                "rw" => read_only = false,
                other => {
                    return Err(ApiError::bad_request(format!(
                        "{field}: option {other:?} is not supported yet (ro, rw)"
                    )))
                }
            }
        }
        if !target.starts_with('/') {
            return Err(ApiError::bad_request(format!(
                "{field}: the target must be an absolute path"
            )));
        }
        let (kind, source, name) = if source.starts_with('/') {
            if !std::path::Path::new(source).exists() {
                return Err(ApiError::bad_request(format!(
                    "{field}: bind source path does not exist: {source}"
                )));
            }
            (LaunchMountKind::Bind, source.to_owned(), None)
        } else {
            let (name, path) = volume(source, &field)?;
            (LaunchMountKind::Volume, path, name)
        };
        out.push(LaunchMount {
            target: target.to_owned(),
            source,
            kind,
            read_only,
            size: None,
            mode: None,
            name,
        });
    }
    for mount in host.mounts.iter().flatten() {
        let target = mount.target.clone().unwrap_or_default();
        let field = format!("HostConfig.Mounts target {target:?}");
        if !target.starts_with('/') {
            return Err(ApiError::bad_request(format!(
                "{field}: the target must be an absolute path"
            )));
        }
        let source = mount.source.clone().unwrap_or_default();
        let read_only = mount.read_only.unwrap_or(false);
        let mut name = None;
        let (kind, source, size, mode) = match mount.typ {
            Some(MountType::BIND) => (LaunchMountKind::Bind, source, None, None),
            Some(MountType::VOLUME) | None => {
                let (volume_name, path) = volume(&source, &field)?;
                name = volume_name;
                (LaunchMountKind::Volume, path, None, None)
            }
            Some(MountType::TMPFS) => {
                let options = mount.tmpfs_options.clone().unwrap_or_default();
                let size = options
                    .size_bytes
                    .and_then(|s| u64::try_from(s).ok())
                    .filter(|s| *s > 0);
                let mode = options
                    .mode
                    .and_then(|m| u32::try_from(m).ok())
                    .filter(|m| *m > 0);
                (LaunchMountKind::Tmpfs, String::new(), size, mode)
            }
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "{field}: mount type {other} is not supported yet (bind, volume, tmpfs)"
                )))
            }
        };
        out.push(LaunchMount {
            target,
            source,
            kind,
            read_only,
            size,
            mode,
            name,
        });
    }
    for (target, options) in host.tmpfs.iter().flatten() {
        let field = format!("HostConfig.Tmpfs {target:?}");
        let (mut size, mut mode, mut read_only) = (None, None, false);
        for option in options.split(',').filter(|o| !o.is_empty()) {
            match option.split_once('=') {
                Some(("size", value)) => {
                    size = Some(parse_size(value).ok_or_else(|| {
                        ApiError::bad_request(format!("{field}: invalid size {value:?}"))
                    })?)
                }
                Some(("mode", value)) => {
                    mode = Some(u32::from_str_radix(value, 8).map_err(|_| {
                        ApiError::bad_request(format!("{field}: invalid mode {value:?}"))
                    })?)
                }
                None if option == "ro" => read_only = true,
                None if matches!(option, "rw" | "nosuid" | "nodev" | "noexec") => {}
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "{field}: option {option:?} is not supported yet (size, mode, ro)"
                    )))
                }
            }
        }
        out.push(LaunchMount {
            target: target.clone(),
            source: String::new(),
            kind: LaunchMountKind::Tmpfs,
            read_only,
            size,
            mode,
            name: None,
        });
    }
    // Volumes of other containers come after the container's own mounts
    // (which win at a shared target) and before the image's declared
    // volumes (which they then provide).
    let mut shared = Vec::new();
    for text in host.volumes_from.iter().flatten() {
        let entry = VolumesFrom::parse(text).map_err(ApiError::bad_request)?;
        let source = super::lookup(ctx, entry.container).map_err(|e| ApiError {
            status: e.status,
            message: format!("HostConfig.VolumesFrom: {}", e.message),
        })?;
        let taken: Vec<String> = out.iter().map(|m| m.target.clone()).collect();
        for mount in entry.mounts(&source.record.mounts, &taken) {
            shared.extend(mount.name.clone());
            out.push(mount);
        }
    }
    for target in declared {
        if out.iter().any(|m| m.target == *target) {
            continue;
        }
        let field = format!("Volumes {target:?}");
        if !target.starts_with('/') {
            return Err(ApiError::bad_request(format!(
                "{field}: the target must be an absolute path"
            )));
        }
        let (name, source) = volume("", &field)?;
        out.push(LaunchMount {
            target: target.clone(),
            source,
            kind: LaunchMountKind::Volume,
            read_only: false,
            size: None,
            mode: None,
            name,
        });
    }
    // Shared volumes are in use by this container too (never removed with it).
    named.extend(shared);
    Ok(out)
}

/// How inspect shows a mount.
pub(super) fn mount_point(mount: &LaunchMount) -> MountPoint {
    let typ = match mount.kind {
        LaunchMountKind::Bind => "bind",
        LaunchMountKind::Volume => "volume",
        LaunchMountKind::Tmpfs => "tmpfs",
    };
    MountPoint {
        typ: Some(typ.to_owned()),
        name: mount.name.clone(),
        source: Some(mount.source.clone()),
        destination: Some(mount.target.clone()),
        driver: mount.name.as_ref().map(|_| "local".to_owned()),
        mode: Some(if mount.read_only { "ro" } else { "" }.to_owned()),
        rw: Some(!mount.read_only),
        propagation: Some(String::new()),
    }
}

/// `64m`, `1g`, `1024`: bytes.
fn parse_size(text: &str) -> Option<u64> {
    let lower = text.to_ascii_lowercase();
    let (digits, unit) = match lower.trim_end_matches('b').char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&lower[..i], c),
        _ => (lower.trim_end_matches('b'), ' '),
    };
    let multiplier = match unit {
        ' ' => 1,
        'k' => 1 << 10,
        'm' => 1 << 20,
        'g' => 1 << 30,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(multiplier)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64m"), Some(64 << 20));
        assert_eq!(parse_size("1g"), Some(1 << 30));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("12kb"), Some(12 << 10));
        assert_eq!(parse_size("x"), None);
    }
}
