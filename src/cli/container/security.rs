//! `--ulimit` and `--security-opt` of `create` and `run`, as docker reads
//! them: the daemon checks the names, the client reads seccomp profile
//! files (relative to the current directory) and sends their content.

use crate::orchestrator::security_opt::read_profiles;
use anyhow::{anyhow, bail, Result};
use bollard::models::{ContainerCreateBody, HostConfig, ResourcesUlimits};
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
}

impl SecurityArgs {
    /// Sets `HostConfig.Ulimits` and `HostConfig.SecurityOpt` of the request.
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
        Ok(())
    }
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
}
