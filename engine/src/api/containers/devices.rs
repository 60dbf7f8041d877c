//! `HostConfig.Devices`: host devices made available in the container,
//! checked at create (so that a missing device fails before anything is
//! made) and looked up again by the monitor at each start; and
//! `HostConfig.DeviceCgroupRules`.

use std::path::{Path, PathBuf};

use bollard_stubs::models::DeviceMapping;

use super::super::error::ApiError;
use crate::container::launch::LaunchDevice;
use crate::runtime::{check_access, host_devices, parse_device_cgroup_rule, DeviceCgroupRule};

/// The launch description's devices for `requested`, with Docker's
/// defaults (the host's path in the container, `rwm`); every problem is
/// named with the device it concerns.
pub(super) fn devices(requested: &[DeviceMapping]) -> Result<Vec<LaunchDevice>, ApiError> {
    requested.iter().map(device).collect()
}

/// The rules of `HostConfig.DeviceCgroupRules`, each refused by its text
/// when it is not Docker's `TYPE MAJOR:MINOR ACCESS`.
pub(super) fn cgroup_rules(requested: &[String]) -> Result<Vec<DeviceCgroupRule>, ApiError> {
    requested
        .iter()
        .map(|text| {
            parse_device_cgroup_rule(text).map_err(|why| {
                ApiError::bad_request(format!("HostConfig.DeviceCgroupRules: {why}"))
            })
        })
        .collect()
}

fn device(mapping: &DeviceMapping) -> Result<LaunchDevice, ApiError> {
    let host = mapping.path_on_host.as_deref().unwrap_or_default();
    let bad = |why: String| Err(ApiError::bad_request(format!("HostConfig.Devices: {why}")));
    if host.is_empty() {
        return bad("PathOnHost is required: name a host device, such as /dev/fuse".to_owned());
    }
    let absolute = |path: &str| Path::new(path).is_absolute();
    if !absolute(host) {
        return bad(format!(
            "{host:?} is not an absolute path: give the device's path, such as /dev/fuse"
        ));
    }
    let container = match mapping.path_in_container.as_deref() {
        None | Some("") => host,
        Some(path) if absolute(path) => path,
        Some(path) => {
            return bad(format!(
                "{host}: the path in the container {path:?} is not absolute"
            ))
        }
    };
    let access = match mapping.cgroup_permissions.as_deref() {
        None | Some("") => "rwm".to_owned(),
        Some(given) => match check_access(given) {
            Ok(access) => access,
            Err(why) => return bad(format!("{host}: {why}")),
        },
    };
    if let Err(error) = host_devices(Path::new(host), Path::new(container), &access) {
        return bad(format!("cannot add device {host}: {error}"));
    }
    Ok(LaunchDevice {
        host: PathBuf::from(host),
        container: PathBuf::from(container),
        access,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(host: &str, container: &str, access: &str) -> DeviceMapping {
        let given = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
        DeviceMapping {
            path_on_host: given(host),
            path_in_container: given(container),
            cgroup_permissions: given(access),
        }
    }

    #[test]
    fn dockers_defaults_fill_in_the_container_path_and_permissions() {
        let out = devices(&[
            mapping("/dev/null", "", ""),
            mapping("/dev/zero", "/dev/z", "mr"),
        ])
        .unwrap();
        assert_eq!(out[0].container, Path::new("/dev/null"));
        assert_eq!(out[0].access, "rwm");
        assert_eq!(out[1].container, Path::new("/dev/z"));
        assert_eq!(out[1].access, "rm");
    }

    #[test]
    fn cgroup_rules_are_read_or_refused_by_their_text() {
        let rules = cgroup_rules(&["c 1:3 mr".to_owned()]).unwrap();
        assert_eq!(rules[0].access, "rm");
        let error = cgroup_rules(&["c 1:3".to_owned()]).unwrap_err().message;
        assert!(
            error.starts_with("HostConfig.DeviceCgroupRules: invalid device cgroup rule \"c 1:3\""),
            "{error}"
        );
    }

    #[test]
    fn problems_name_the_device() {
        let error = |m| devices(&[m]).unwrap_err().message;
        assert!(error(mapping("", "", "")).contains("PathOnHost is required"));
        assert!(error(mapping("dev/null", "", "")).contains("not an absolute path"));
        assert!(error(mapping("/dev/null", "x", "")).contains("\"x\" is not absolute"));
        assert!(
            error(mapping("/dev/null", "", "rx")).contains("/dev/null: invalid device permissions")
        );
        let missing = error(mapping("/dev/no-such-device", "", ""));
        assert!(
            missing.contains("cannot add device /dev/no-such-device"),
            "{missing}"
        );
        let file = error(mapping("/etc/hostname", "", ""));
        assert!(file.contains("not a device node"), "{file}");
    }
}
