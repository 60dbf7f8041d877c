//! `create`/`run` flags with syntax of their own: `--restart`, the
//! `--health-*` flags and `--log-driver`/`--log-opt`, as docker reads them.

use anyhow::{anyhow, bail, Result};
use bollard::models::{HealthConfig, HostConfigLogConfig, RestartPolicy, RestartPolicyNameEnum};
use std::time::Duration;

/// The health-check flags of `create` and `run`.
#[derive(Debug, Default, clap::Args)]
pub struct HealthArgs {
    /// Command to run to check health (run by the container's shell)
    #[arg(long)]
    health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h)
    #[arg(long)]
    health_interval: Option<String>,
    /// Maximum time to allow one check to run (ms|s|m|h)
    #[arg(long)]
    health_timeout: Option<String>,
    /// Consecutive failures needed to report unhealthy
    #[arg(long)]
    health_retries: Option<i64>,
    /// Start period for the container to initialize before counting retries (ms|s|m|h)
    #[arg(long)]
    health_start_period: Option<String>,
    /// Time between running the check during the start period (ms|s|m|h)
    #[arg(long)]
    health_start_interval: Option<String>,
    /// Disable any container-specified HEALTHCHECK
    #[arg(long)]
    no_healthcheck: bool,
}

/// The request's `Healthcheck`: none when no flag is given (the image's
/// check applies), `NONE` with `--no-healthcheck`.
pub fn healthcheck(args: &HealthArgs) -> Result<Option<HealthConfig>> {
    let nanos = |flag: &str, value: &Option<String>| -> Result<Option<i64>> {
        value
            .as_deref()
            .map(|text| {
                let duration = parse_duration(text).ok_or_else(|| {
                    anyhow!("invalid --{flag} {text:?}: expected a duration such as 500ms, 10s or 1m30s")
                })?;
                i64::try_from(duration.as_nanos())
                    .map_err(|_| anyhow!("--{flag} {text:?} is too long"))
            })
            .transpose()
    };
    let config = HealthConfig {
        test: args
            .health_cmd
            .as_ref()
            .map(|cmd| vec!["CMD-SHELL".to_owned(), cmd.clone()]),
        interval: nanos("health-interval", &args.health_interval)?,
        timeout: nanos("health-timeout", &args.health_timeout)?,
        retries: args.health_retries,
        start_period: nanos("health-start-period", &args.health_start_period)?,
        start_interval: nanos("health-start-interval", &args.health_start_interval)?,
    };
    if args.no_healthcheck {
        if config != HealthConfig::default() {
            bail!("--no-healthcheck conflicts with --health-* options: give one or the other");
        }
        return Ok(Some(HealthConfig {
            test: Some(vec!["NONE".to_owned()]),
            ..HealthConfig::default()
        }));
    }
    Ok((config != HealthConfig::default()).then_some(config))
}

/// `--log-driver DRIVER` and `--log-opt KEY=VALUE`...: the request's
/// `LogConfig` (the daemon checks the driver and the options).
pub fn log_config(driver: Option<&str>, options: &[String]) -> Result<Option<HostConfigLogConfig>> {
    if driver.is_none() && options.is_empty() {
        return Ok(None);
    }
    let config = options
        .iter()
        .map(|option| {
            option
                .split_once('=')
                .map(|(key, value)| (key.to_owned(), value.to_owned()))
                .ok_or_else(|| {
                    anyhow!(
                        "invalid --log-opt {option:?}: expected KEY=VALUE, such as max-size=10m"
                    )
                })
        })
        .collect::<Result<_>>()?;
    Ok(Some(HostConfigLogConfig {
        typ: driver.map(str::to_owned),
        config: Some(config),
    }))
}

/// `--restart no|always|unless-stopped|on-failure[:N]`.
pub fn restart_policy(text: Option<&str>) -> Result<Option<RestartPolicy>> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let (name, count) = match text.split_once(':') {
        Some((name, count)) => (
            name,
            Some(count.parse::<i64>().map_err(|_| {
                anyhow!("invalid --restart {text:?}: the retry count must be a number")
            })?),
        ),
        None => (text, None),
    };
    let name = match name {
        "no" => RestartPolicyNameEnum::NO,
        "always" => RestartPolicyNameEnum::ALWAYS,
        "unless-stopped" => RestartPolicyNameEnum::UNLESS_STOPPED,
        "on-failure" => RestartPolicyNameEnum::ON_FAILURE,
        other => bail!(
            "invalid --restart {other:?}: use no, always, unless-stopped or on-failure[:max-retries]"
        ),
    };
    if count.is_some() && name != RestartPolicyNameEnum::ON_FAILURE {
        bail!("invalid --restart {text:?}: a retry count goes only with on-failure");
    }
    Ok(Some(RestartPolicy {
        name: Some(name),
        maximum_retry_count: count,
    }))
}

/// Go's duration syntax as docker takes it: `1h2m3s`, `500ms`, `1.5s`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let mut rest = text.trim();
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .filter(|i| *i > 0)?;
        let value: f64 = rest[..number_end].parse().ok()?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += value * seconds;
        rest = &rest[unit_end..];
    }
    Some(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("s"), None);
        assert_eq!(parse_duration("3d"), None);
    }

    #[test]
    fn log_options_are_key_value_pairs() {
        assert_eq!(log_config(None, &[]).unwrap(), None);
        let config = log_config(None, &["max-size=1k".into(), "max-file=3".into()])
            .unwrap()
            .unwrap();
        assert_eq!(config.typ, None);
        let options = config.config.unwrap();
        assert_eq!(options["max-size"], "1k");
        assert_eq!(options["max-file"], "3");
        let none = log_config(Some("none"), &[]).unwrap().unwrap();
        assert_eq!(none.typ.as_deref(), Some("none"));
        let error = log_config(None, &["max-size".into()]).unwrap_err();
        assert!(
            error.to_string().contains("--log-opt \"max-size\""),
            "{error}"
        );
    }

    #[test]
    fn restart_policies() {
        assert_eq!(restart_policy(None).unwrap(), None);
        let policy = restart_policy(Some("on-failure:2")).unwrap().unwrap();
        assert_eq!(policy.name, Some(RestartPolicyNameEnum::ON_FAILURE));
        assert_eq!(policy.maximum_retry_count, Some(2));
        let always = restart_policy(Some("always")).unwrap().unwrap();
        assert_eq!(always.name, Some(RestartPolicyNameEnum::ALWAYS));
        assert!(restart_policy(Some("always:3")).is_err());
        assert!(restart_policy(Some("sometimes")).is_err());
    }

    #[test]
    fn health_flags() {
        assert_eq!(healthcheck(&HealthArgs::default()).unwrap(), None);
        let args = HealthArgs {
            health_cmd: Some("test -f /ok".into()),
            health_interval: Some("1s".into()),
            health_retries: Some(2),
            ..HealthArgs::default()
        };
        let config = healthcheck(&args).unwrap().unwrap();
        assert_eq!(config.test.unwrap(), ["CMD-SHELL", "test -f /ok"]);
        assert_eq!(config.interval, Some(1_000_000_000));
        assert_eq!(config.retries, Some(2));
        let none = HealthArgs {
            no_healthcheck: true,
            ..HealthArgs::default()
        };
        assert_eq!(healthcheck(&none).unwrap().unwrap().test.unwrap(), ["NONE"]);
        let both = HealthArgs {
            no_healthcheck: true,
            health_cmd: Some("x".into()),
            ..HealthArgs::default()
        };
        assert!(healthcheck(&both).is_err());
    }
}
