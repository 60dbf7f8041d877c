//! `HostConfig.Ulimits` and `HostConfig.SecurityOpt` of a create request,
//! read as Docker's daemon reads them.
//!
//! Security options: `seccomp=unconfined`, `seccomp=builtin` (the default
//! profile), `seccomp=<profile JSON>` (clients send the file's content),
//! `no-new-privileges[=|:true|false]`; `key:value` is accepted for
//! `key=value` as Docker still does. `apparmor=...`, `label=...` and
//! `disable` are accepted and have no effect, which is what Docker does on
//! a host without AppArmor or SELinux: this engine applies neither. Every
//! other option is refused by name.

use bollard_stubs::models::ResourcesUlimits;

use super::super::error::ApiError;
use crate::runtime::seccomp::Profile;
use crate::runtime::spec::check_ulimit;
use crate::runtime::{Seccomp, Ulimit};

/// What `HostConfig.SecurityOpt` asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct SecurityOptions {
    /// The seccomp profile.
    pub(super) seccomp: Seccomp,
    /// Set `no_new_privs` on the container's processes.
    pub(super) no_new_privileges: bool,
}

/// Reads `HostConfig.SecurityOpt`; the last of repeated options wins.
pub(super) fn security_options(options: &[String]) -> Result<SecurityOptions, ApiError> {
    let mut parsed = SecurityOptions::default();
    for option in options {
        let invalid = |why: String| {
            ApiError::bad_request(format!("HostConfig.SecurityOpt {}: {why}", shown(option)))
        };
        match option.as_str() {
            "no-new-privileges" => {
                parsed.no_new_privileges = true;
                continue;
            }
            // SELinux's "no label": nothing to undo where no label is set.
            "disable" => continue,
            _ => {}
        }
        let split = if option.contains('=') {
            option.split_once('=')
        } else {
            option.split_once(':')
        };
        let Some((key, value)) = split else {
            return Err(invalid(
                "expected KEY=VALUE (seccomp=, no-new-privileges, apparmor=, label=)".to_owned(),
            ));
        };
        match key {
            "seccomp" => {
                parsed.seccomp = match value {
                    "unconfined" => Seccomp::Unconfined,
                    "builtin" | "" => Seccomp::Default,
                    json => Seccomp::Profile(Box::new(Profile::from_json(json).map_err(|e| {
                        invalid(format!(
                            "{e} (the value is the profile's JSON content, which \
                                 `docker run --security-opt seccomp=FILE` reads from FILE)"
                        ))
                    })?)),
                }
            }
            "no-new-privileges" => {
                parsed.no_new_privileges = go_bool(value)
                    .ok_or_else(|| invalid(format!("{value:?} is not a boolean (true or false)")))?
            }
            // AppArmor profiles and SELinux labels: not applied by this
            // engine, as by Docker on a host where neither is enabled.
            "apparmor" | "label" => {}
            other => {
                return Err(invalid(format!(
                    "unknown option {other:?} (supported: seccomp, no-new-privileges, \
                     apparmor and label, which have no effect here)"
                )))
            }
        }
    }
    Ok(parsed)
}

/// An option as an error shows it: a profile's JSON is cut short.
fn shown(option: &str) -> String {
    const LIMIT: usize = 60;
    match option.char_indices().nth(LIMIT) {
        Some((end, _)) => format!("{:?}...", &option[..end]),
        None => format!("{option:?}"),
    }
}

/// Go's `strconv.ParseBool`, which Docker uses for option values.
fn go_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Reads `HostConfig.Ulimits`: Docker's names (any case), `-1` for
/// unlimited, a later entry of the same name replacing an earlier one.
pub(super) fn ulimits(requested: &[ResourcesUlimits]) -> Result<Vec<Ulimit>, ApiError> {
    let mut out: Vec<Ulimit> = Vec::new();
    for entry in requested {
        let name = entry
            .name
            .as_deref()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                ApiError::bad_request("HostConfig.Ulimits: an entry has no Name: name the limit")
            })?
            .to_ascii_lowercase();
        let limit = |value: Option<i64>, which: &str| match value.unwrap_or(0) {
            -1 => Ok(u64::MAX),
            n => u64::try_from(n).map_err(|_| {
                ApiError::bad_request(format!(
                    "HostConfig.Ulimits: ulimit {name}: {which} limit {n} is negative \
                     (use -1 for unlimited)"
                ))
            }),
        };
        let ulimit = Ulimit {
            soft: limit(entry.soft, "soft")?,
            hard: limit(entry.hard, "hard")?,
            name,
        };
        if ulimit.soft == u64::MAX && ulimit.hard != u64::MAX {
            return Err(ApiError::bad_request(format!(
                "HostConfig.Ulimits: ulimit {}: an unlimited (-1) soft limit needs an \
                 unlimited hard limit too",
                ulimit.name
            )));
        }
        check_ulimit(&ulimit)
            .map_err(|e| ApiError::bad_request(format!("HostConfig.Ulimits: {e}")))?;
        out.retain(|u| u.name != ulimit.name);
        out.push(ulimit);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(list: &[&str]) -> Result<SecurityOptions, String> {
        let list: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
        security_options(&list).map_err(|e| e.message)
    }

    #[test]
    fn security_options_as_docker_reads_them() {
        assert_eq!(options(&[]), Ok(SecurityOptions::default()));
        for nnp in [
            "no-new-privileges",
            "no-new-privileges=true",
            "no-new-privileges:true",
            "no-new-privileges=1",
        ] {
            assert!(options(&[nnp]).unwrap().no_new_privileges, "{nnp}");
        }
        assert!(
            !options(&["no-new-privileges", "no-new-privileges:false"])
                .unwrap()
                .no_new_privileges
        );
        assert_eq!(
            options(&["seccomp=unconfined"]).unwrap().seccomp,
            Seccomp::Unconfined
        );
        assert_eq!(
            options(&["seccomp:unconfined", "seccomp=builtin"])
                .unwrap()
                .seccomp,
            Seccomp::Default
        );
        let custom = options(&[
            r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#,
        ])
        .unwrap();
        assert!(matches!(custom.seccomp, Seccomp::Profile(_)));
        assert_eq!(
            options(&[
                "apparmor=unconfined",
                "label=disable",
                "label:type:x",
                "disable"
            ]),
            Ok(SecurityOptions::default())
        );
    }

    #[test]
    fn bad_security_options_are_named() {
        let error = options(&["apparmor=x", "foo=bar"]).unwrap_err();
        assert!(error.contains(r#""foo=bar""#), "{error}");
        assert!(error.contains(r#"unknown option "foo""#), "{error}");
        assert!(options(&["seccomp"])
            .unwrap_err()
            .contains("expected KEY=VALUE"));
        assert!(options(&["writable-cgroups"]).is_err());
        assert!(options(&["no-new-privileges=maybe"])
            .unwrap_err()
            .contains("\"maybe\" is not a boolean"));
        let error = options(&["seccomp=/etc/profile.json"]).unwrap_err();
        assert!(
            error.contains("seccomp=/etc/profile.json")
                && error.contains("decoding the seccomp profile failed"),
            "{error}"
        );
        let long = format!(
            "seccomp={{\"defaultAction\":\"SCMP_ACT_NO\"{}}}",
            " ".repeat(200)
        );
        let error = options(&[&long]).unwrap_err();
        assert!(error.contains("...: decoding"), "{error}");
    }

    fn ulimit(name: &str, soft: i64, hard: i64) -> ResourcesUlimits {
        ResourcesUlimits {
            name: Some(name.to_owned()),
            soft: Some(soft),
            hard: Some(hard),
        }
    }

    #[test]
    fn ulimits_by_docker_names() {
        let read = ulimits(&[
            ulimit("nofile", 1024, 2048),
            ulimit("NPROC", 64, 64),
            ulimit("memlock", -1, -1),
            ulimit("nofile", 100, 200),
        ])
        .unwrap();
        let read: Vec<(&str, u64, u64)> = read
            .iter()
            .map(|u| (u.name.as_str(), u.soft, u.hard))
            .collect();
        assert_eq!(
            read,
            [
                ("nproc", 64, 64),
                ("memlock", u64::MAX, u64::MAX),
                ("nofile", 100, 200)
            ]
        );
    }

    #[test]
    fn bad_ulimits_are_named() {
        let error = |u| ulimits(&[u]).unwrap_err().message;
        let unknown = error(ulimit("files", 1, 1));
        assert!(unknown.contains(r#"ulimit "files": unknown"#), "{unknown}");
        let above = error(ulimit("nofile", 2048, 1024));
        assert!(
            above.contains("ulimit nofile: soft limit 2048 is above the hard limit 1024"),
            "{above}"
        );
        assert!(error(ulimit("core", -1, 10)).contains("ulimit core: an unlimited (-1) soft"));
        assert!(error(ulimit("core", -2, 10)).contains("soft limit -2 is negative"));
        let nameless = ResourcesUlimits::default();
        assert!(error(nameless).contains("has no Name"));
    }
}
