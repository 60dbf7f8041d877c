//! The short syntax of ports and volumes as command-line flags write it
//! (`run -p 8080:80`, `run -v ./data:/data:ro`), parsed by the same rules
//! as a compose file's `ports:` and `volumes:` entries.

use crate::convert::{ports, volumes};
use crate::model::{Mount, Port, VolumeType};
use std::path::Path;

/// `-p SPEC`: one port, or one per port of a range. The error names the
/// spec and says how to write it.
pub fn ports(spec: &str) -> Result<Vec<Port>, String> {
    ports::parse_short(spec).map_err(|(message, hint)| format!("{message} ({hint})"))
}

/// `-v SPEC`: one mount, with a relative bind source made absolute against
/// `cwd` and `~` expanded to `home`, as Docker's CLI does for `-v`.
pub fn mount(spec: &str, cwd: &Path, home: Option<&str>) -> Result<Mount, String> {
    let (mut mount, ignored) =
        volumes::parse_short(spec).map_err(|(message, hint)| format!("{message} ({hint})"))?;
    if let Some(option) = ignored.first() {
        return Err(format!(
            "invalid volume `{spec}`: the option `{option}` does not apply to this mount"
        ));
    }
    if mount.kind == VolumeType::Bind {
        if let Some(source) = &mount.source {
            let expanded = if source == "~" || source.starts_with("~/") {
                let home = home.ok_or_else(|| {
                    format!("cannot expand `~` in volume `{spec}`: HOME is not set")
                })?;
                Path::new(home).join(source.trim_start_matches('~').trim_start_matches('/'))
            } else {
                cwd.join(source)
            };
            mount.source = Some(volumes::clean(&expanded).to_string_lossy().into_owned());
        }
    }
    Ok(mount)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_like_compose_file_entries() {
        let published = ports("127.0.0.1:8080-8081:80-81/udp").expect("ports");
        assert_eq!(published.len(), 2);
        assert_eq!(published[1].target, 81);
        assert_eq!(published[1].published.as_deref(), Some("8081"));
        assert_eq!(published[0].host_ip.as_deref(), Some("127.0.0.1"));
        assert!(ports("8080:").unwrap_err().contains("8080:"));

        let cwd = Path::new("/work/app");
        let bind = mount("./data/../x:/x:ro", cwd, None).expect("bind");
        assert_eq!(bind.source.as_deref(), Some("/work/app/x"));
        assert!(bind.read_only);
        let home = mount("~/cache:/cache", cwd, Some("/root")).expect("home");
        assert_eq!(home.source.as_deref(), Some("/root/cache"));
        assert!(mount("~/cache:/cache", cwd, None).is_err());
        let named = mount("data:/data", cwd, None).expect("named");
        assert_eq!(named.kind, VolumeType::Volume);
        assert_eq!(named.source.as_deref(), Some("data"));
        assert!(mount("a:b:c:d", cwd, None).is_err());
        assert!(mount("./x:/x:bogus", cwd, None).is_err());
    }
}
