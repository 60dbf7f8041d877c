//! `--ulimit`, `--security-opt`, `--device` and `--device-cgroup-rule` of
//! `create` and `run`, as docker reads them: the daemon checks the names,
//! the devices and the rules, the client reads seccomp profile files
//! (relative to the current directory) and sends their content.

use crate::orchestrator::security_opt::read_profiles;
use anyhow::{anyhow, bail, Result};
use bollard::models::{ContainerCreateBody, DeviceMapping, HostConfig, ResourcesUlimits};
use std::path::Path;

/// The resource-limit and security flags of `create` and `run`.
#[derive(Debug, Default, clap::Args)]
pub struct SecurityArgs {
    /// Ulimit options (NAME=SOFT[:HARD], e.g. nofile=1024:2048; -1 is unlimited)
    #[arg(long = "ulimit", allow_hyphen_values = true)]
    ulimits: Vec<String>,
    /// Security options (seccomp=unconfined|PROFILE.json, no-new-privileges, apparmor=, label=)
    #[arg(long)]
    security_opt: Vec<String>,
    /// A host device for the container (HOST[:CONTAINER][:PERMISSIONS], e.g. /dev/fuse or /dev/sdb:/dev/xvdb:r)
    #[arg(long = "device")]
    devices: Vec<String>,
    /// A rule for the device cgroup (TYPE MAJOR:MINOR ACCESS, e.g. 'c 1:3 mr' or 'b 7:* rwm')
    #[arg(long = "device-cgroup-rule")]
    device_cgroup_rules: Vec<String>,
}

impl SecurityArgs {
    /// Sets `HostConfig.Ulimits`, `HostConfig.SecurityOpt`,
    /// `HostConfig.Devices` and `HostConfig.DeviceCgroupRules` of the request.
    pub(super) fn apply(&self, body: &mut ContainerCreateBody) -> Result<()> {
        let ulimits = self
            .ulimits
            .iter()
            .map(|text| parse_ulimit(text))
            .collect::<Result<Vec<_>>>()?;
        for option in &self.security_opt {
            let (key, value) = match option.split_once('=') {
                None if option != "no-new-privileges" => {
                    option.split_once(':').unwrap_or((option, ""))
                }
                split => split.unwrap_or((option, "")),
            };
            if value.is_empty() && key != "no-new-privileges" {
                bail!(
                    "invalid --security-opt {option:?}: expected KEY=VALUE, such as seccomp=unconfined"
                );
            }
        }
        let options = read_profiles(&self.security_opt, Path::new(""))
            .map_err(|e| anyhow!("--security-opt {e}"))?;
        let host = body.host_config.get_or_insert_with(HostConfig::default);
        host.ulimits = (!ulimits.is_empty()).then_some(ulimits);
        host.security_opt = (!options.is_empty()).then_some(options);
        let devices = self
            .devices
            .iter()
            .map(|text| parse_device(text))
            .collect::<Result<Vec<_>>>()?;
        host.devices = (!devices.is_empty()).then_some(devices);
        host.device_cgroup_rules =
            (!self.device_cgroup_rules.is_empty()).then(|| self.device_cgroup_rules.clone());
        Ok(())
    }
}

/// `HOST[:CONTAINER][:PERMISSIONS]`, as docker reads it: a second part made
/// only of `r`, `w` and `m` is the permissions; the daemon checks the rest.
fn parse_device(text: &str) -> Result<DeviceMapping> {
    let parts: Vec<&str> = text.split(':').collect();
    let permissions = |p: &str| !p.is_empty() && p.chars().all(|c| "rwm".contains(c));
    let (host, container, access) = match parts.as_slice() {
        [host] => (*host, *host, "rwm"),
        [host, access] if permissions(access) => (*host, *host, *access),
        [host, container] => (*host, *container, "rwm"),
        [host, container, access] => (*host, *container, *access),
        _ => bail!("invalid --device {text:?}: expected HOST[:CONTAINER][:PERMISSIONS], such as /dev/fuse or /dev/sdb:/dev/xvdb:r"),
    };
    if host.is_empty() {
        bail!("invalid --device {text:?}: the host path is empty");
    }
    Ok(DeviceMapping {
        path_on_host: Some(host.to_owned()),
        path_in_container: Some(container.to_owned()),
        cgroup_permissions: Some(access.to_owned()),
    })
}

/// `NAME=SOFT[:HARD]`: the hard limit is the soft one when not given.
fn parse_ulimit(text: &str) -> Result<ResourcesUlimits> {
    let invalid = |why: &str| anyhow!("invalid --ulimit {text:?}: {why}");
    let (name, limits) = text
        .split_once('=')
        .filter(|(name, _)| !name.is_empty())
        .ok_or_else(|| invalid("expected NAME=SOFT[:HARD], such as nofile=1024:2048"))?;
    let number = |value: &str| {
        value
            .parse::<i64>()
            .map_err(|_| invalid(&format!("{value:?} is not a number (-1 is unlimited)")))
    };
    let (soft, hard) = match limits.split_once(':') {
        Some((soft, hard)) => (number(soft)?, number(hard)?),
        None => (number(limits)?, number(limits)?),
    };
    Ok(ResourcesUlimits {
        name: Some(name.to_owned()),
        soft: Some(soft),
        hard: Some(hard),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(ulimits: &[&str], options: &[&str]) -> SecurityArgs {
        SecurityArgs {
            ulimits: ulimits.iter().map(|s| (*s).to_owned()).collect(),
            security_opt: options.iter().map(|s| (*s).to_owned()).collect(),
            devices: Vec::new(),
            device_cgroup_rules: Vec::new(),
        }
    }

    #[test]
    fn ulimits_are_name_soft_hard() {
        let mut body = ContainerCreateBody::default();
        args(&["nofile=1024:2048", "nproc=64", "memlock=-1:-1"], &[])
            .apply(&mut body)
            .unwrap();
        let host = body.host_config.clone().unwrap();
        let limits: Vec<(String, i64, i64)> = host
            .ulimits
            .unwrap()
            .into_iter()
            .map(|u| (u.name.unwrap(), u.soft.unwrap(), u.hard.unwrap()))
            .collect();
        assert_eq!(
            limits,
            [
                ("nofile".to_owned(), 1024, 2048),
                ("nproc".to_owned(), 64, 64),
                ("memlock".to_owned(), -1, -1)
            ]
        );
        assert_eq!(host.security_opt, None);
        for bad in ["nofile", "=1", "nofile=a", "nofile=1:b"] {
            let error = args(&[bad], &[]).apply(&mut body).unwrap_err();
            assert!(
                error.to_string().contains(&format!("--ulimit {bad:?}")),
                "{error}"
            );
        }
    }

    #[test]
    fn security_options_read_profile_files() {
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("p.json");
        std::fs::write(&profile, "{ \"defaultAction\": \"SCMP_ACT_ALLOW\" }").unwrap();
        let mut body = ContainerCreateBody::default();
        let seccomp = format!("seccomp={}", profile.display());
        args(&[], &["no-new-privileges", &seccomp, "apparmor:unconfined"])
            .apply(&mut body)
            .unwrap();
        assert_eq!(
            body.host_config.clone().unwrap().security_opt.unwrap(),
            [
                "no-new-privileges",
                r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW"}"#,
                "apparmor:unconfined"
            ]
        );
        let missing = format!("seccomp={}", dir.path().join("none.json").display());
        let error = args(&[], &[&missing]).apply(&mut body).unwrap_err();
        assert!(error.to_string().contains("none.json"), "{error}");
        let error = args(&[], &["seccomp"]).apply(&mut body).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("invalid --security-opt \"seccomp\""),
            "{error}"
        );
    }

    #[test]
    fn devices_are_read_as_docker_reads_them() {
        let read = |text: &str| {
            let d = parse_device(text).unwrap();
            (
                d.path_on_host.unwrap(),
                d.path_in_container.unwrap(),
                d.cgroup_permissions.unwrap(),
            )
        };
        let owned = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
        assert_eq!(read("/dev/fuse"), owned("/dev/fuse", "/dev/fuse", "rwm"));
        assert_eq!(read("/dev/fuse:r"), owned("/dev/fuse", "/dev/fuse", "r"));
        assert_eq!(
            read("/dev/sdb:/dev/xvdb"),
            owned("/dev/sdb", "/dev/xvdb", "rwm")
        );
        assert_eq!(
            read("/dev/sdb:/dev/xvdb:rw"),
            owned("/dev/sdb", "/dev/xvdb", "rw")
        );
        for bad in ["", ":/dev/x", "/a:/b:c:d"] {
            let error = parse_device(bad).unwrap_err().to_string();
            assert!(error.contains(&format!("--device {bad:?}")), "{error}");
        }
    }
}
