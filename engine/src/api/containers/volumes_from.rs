//! `HostConfig.VolumesFrom` (`CONTAINER[:ro|:rw]`, Compose's
//! `volumes_from`), as Docker reads it: the new container mounts every
//! bind and volume of each named container at the same target, read-only
//! with `:ro`, writable with `:rw`, and as the source has it otherwise.
//! tmpfs mounts are the source's own and are not shared; a target the new
//! container mounts itself keeps its own mount.

use bollard_stubs::models::MountPoint;

use crate::container::launch::{LaunchMount, LaunchMountKind};

/// One `VolumesFrom` entry: the container and the mode that overrides its
/// mounts' own (`None`: keep them).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct VolumesFrom<'a> {
    pub(super) container: &'a str,
    pub(super) read_only: Option<bool>,
}

impl<'a> VolumesFrom<'a> {
    /// Reads `CONTAINER`, `CONTAINER:ro` or `CONTAINER:rw` (SELinux's `z`
    /// and `Z` are accepted beside them and change nothing here).
    pub(super) fn parse(text: &'a str) -> Result<VolumesFrom<'a>, String> {
        let (container, options) = text.split_once(':').unwrap_or((text, ""));
        if container.is_empty() {
            return Err(format!(
                "HostConfig.VolumesFrom {text:?}: name the container (CONTAINER[:ro|:rw])"
            ));
        }
        let mut read_only = None;
        for option in options.split(',').filter(|o| !o.is_empty()) {
            match option {
                "ro" => read_only = Some(true),
                "rw" => read_only = Some(false),
                "z" | "Z" => {}
                other => {
                    return Err(format!(
                        "HostConfig.VolumesFrom {text:?}: invalid mode {other:?} (ro or rw)"
                    ))
                }
            }
        }
        Ok(VolumesFrom {
            container,
            read_only,
        })
    }

    /// The mounts this entry adds, from the source container's mounts as
    /// inspect shows them, leaving out targets in `taken`.
    pub(super) fn mounts(&self, source: &[MountPoint], taken: &[String]) -> Vec<LaunchMount> {
        source
            .iter()
            .filter_map(|point| {
                let kind = match point.typ.as_deref() {
                    Some("bind") => LaunchMountKind::Bind,
                    Some("volume") => LaunchMountKind::Volume,
                    _ => return None,
                };
                let target = point.destination.clone()?;
                if taken.contains(&target) {
                    return None;
                }
                Some(LaunchMount {
                    target,
                    source: point.source.clone().unwrap_or_default(),
                    kind,
                    read_only: self.read_only.unwrap_or_else(|| point.rw == Some(false)),
                    size: None,
                    mode: None,
                    name: point.name.clone(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(typ: &str, name: Option<&str>, source: &str, target: &str, rw: bool) -> MountPoint {
        MountPoint {
            typ: Some(typ.into()),
            name: name.map(Into::into),
            source: Some(source.into()),
            destination: Some(target.into()),
            rw: Some(rw),
            ..MountPoint::default()
        }
    }

    #[test]
    fn entries_name_a_container_and_maybe_a_mode() {
        let parse = |t| VolumesFrom::parse(t).unwrap();
        assert_eq!(parse("app").read_only, None);
        assert_eq!(parse("abc123:ro").read_only, Some(true));
        assert_eq!(parse("abc123:rw,z").read_only, Some(false));
        assert_eq!(parse("abc123:rw").container, "abc123");
        for bad in ["", ":ro", "app:rx"] {
            assert!(VolumesFrom::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn binds_and_volumes_are_shared_with_the_entrys_mode() {
        let source = [
            point("volume", Some("data"), "/v/data", "/data", true),
            point("bind", None, "/srv/conf", "/conf", false),
            point("tmpfs", None, "", "/run", true),
            point("volume", Some("cache"), "/v/cache", "/cache", true),
        ];
        let taken = vec!["/cache".to_owned()];
        let inherited = VolumesFrom::parse("app").unwrap().mounts(&source, &taken);
        let shown: Vec<(&str, LaunchMountKind, bool, Option<&str>)> = inherited
            .iter()
            .map(|m| (m.target.as_str(), m.kind, m.read_only, m.name.as_deref()))
            .collect();
        assert_eq!(
            shown,
            [
                ("/data", LaunchMountKind::Volume, false, Some("data")),
                ("/conf", LaunchMountKind::Bind, true, None),
            ]
        );
        assert_eq!(inherited[0].source, "/v/data");
        let read_only = VolumesFrom::parse("app:ro").unwrap().mounts(&source, &[]);
        assert!(read_only.iter().all(|m| m.read_only));
        assert_eq!(read_only.len(), 3);
        let writable = VolumesFrom::parse("app:rw").unwrap().mounts(&source, &[]);
        assert!(writable.iter().all(|m| !m.read_only));
    }
}
