//! Health checks as Docker defines them (`HEALTHCHECK`, `Config.Healthcheck`),
//! as pure decisions: the settings with Docker's defaults and checks, the
//! merge with the image's check, the state machine fed by each probe's
//! result, and when the next probe is due. The daemon's probe loop
//! (`api::containers::healthcheck`) only runs probes and applies these.

use std::collections::VecDeque;
use std::time::Duration;

use bollard_stubs::models::HealthConfig;
use serde::{Deserialize, Serialize};

/// Docker's defaults for a zero (unset) field.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);
const DEFAULT_RETRIES: u32 = 3;

/// The shortest non-zero duration Docker accepts (1 ms).
const MINIMUM_DURATION_NS: i64 = 1_000_000;

/// How many results `State.Health.Log` keeps, as Docker does.
pub(crate) const MAX_LOG_ENTRIES: usize = 5;

/// How much of a probe's output is kept, as Docker does.
pub(crate) const MAX_OUTPUT_LEN: usize = 4096;

/// What a probe runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum HealthTest {
    /// `CMD`: the arguments, run directly.
    Exec(Vec<String>),
    /// `CMD-SHELL`: a command line for the container's shell.
    Shell(String),
}

impl HealthTest {
    /// The process to run, `shell` being the container's (`/bin/sh -c`).
    pub(crate) fn args(&self, shell: &[String]) -> Vec<String> {
        match self {
            HealthTest::Exec(args) => args.clone(),
            HealthTest::Shell(command) => {
                let mut args = shell.to_vec();
                args.push(command.clone());
                args
            }
        }
    }
}

/// A container's health check with Docker's defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HealthSettings {
    pub(crate) test: HealthTest,
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
    pub(crate) start_period: Duration,
    pub(crate) start_interval: Duration,
    pub(crate) retries: u32,
}

impl HealthSettings {
    /// The settings of `config`; `Ok(None)` when there is no check (none
    /// configured, or `NONE`). Errors name the field, as Docker's do.
    pub(crate) fn from_config(config: Option<&HealthConfig>) -> Result<Option<Self>, String> {
        let Some(config) = config else {
            return Ok(None);
        };
        let test = config.test.clone().unwrap_or_default();
        let test = match test.first().map(String::as_str) {
            None | Some("NONE") => return Ok(None),
            Some("CMD") if test.len() > 1 => HealthTest::Exec(test[1..].to_vec()),
            Some("CMD-SHELL") if test.len() > 1 => HealthTest::Shell(test[1..].join(" ")),
            Some("CMD") | Some("CMD-SHELL") => {
                return Err(format!(
                    "Healthcheck.Test {test:?} has no command: give one after {:?}",
                    test[0]
                ))
            }
            Some(other) => {
                return Err(format!(
                    "Healthcheck.Test: unknown type {other:?} (expected NONE, CMD or CMD-SHELL)"
                ))
            }
        };
        let duration = |name: &str, value: Option<i64>, default: Duration| {
            match value.unwrap_or(0) {
                0 => Ok(default),
                ns if ns < MINIMUM_DURATION_NS => Err(format!(
                    "Healthcheck.{name} {ns}ns is too short: it must be 0 (the default) or at least 1ms"
                )),
                ns => Ok(Duration::from_nanos(ns.unsigned_abs())),
            }
        };
        let retries = match config.retries.unwrap_or(0) {
            0 => DEFAULT_RETRIES,
            r if r < 0 => {
                return Err(format!(
                    "Healthcheck.Retries {r} cannot be negative (0 means the default, 3)"
                ))
            }
            r => u32::try_from(r).unwrap_or(u32::MAX),
        };
        Ok(Some(HealthSettings {
            test,
            interval: duration("Interval", config.interval, DEFAULT_INTERVAL)?,
            timeout: duration("Timeout", config.timeout, DEFAULT_TIMEOUT)?,
            start_period: duration("StartPeriod", config.start_period, Duration::ZERO)?,
            start_interval: duration(
                "StartInterval",
                config.start_interval,
                DEFAULT_START_INTERVAL,
            )?,
            retries,
        }))
    }

    /// How long to wait before the next probe: the start interval while the
    /// container is `starting` within its start period, the interval otherwise.
    pub(crate) fn next_probe(&self, status: HealthStatus, since_start: Duration) -> Duration {
        if status == HealthStatus::Starting && since_start < self.start_period {
            self.start_interval
        } else {
            self.interval
        }
    }
}

/// The request's health check merged with the image's, as Docker merges
/// them: no check in the request takes the image's; an empty test or a
/// zero field takes the image's value.
pub(crate) fn merge(
    request: Option<HealthConfig>,
    image: Option<HealthConfig>,
) -> Option<HealthConfig> {
    let Some(mut merged) = request else {
        return image;
    };
    let Some(image) = image else {
        return Some(merged);
    };
    if merged.test.as_ref().is_none_or(Vec::is_empty) {
        merged.test = image.test;
    }
    let zero = |v: Option<i64>| v.unwrap_or(0) == 0;
    if zero(merged.interval) {
        merged.interval = image.interval;
    }
    if zero(merged.timeout) {
        merged.timeout = image.timeout;
    }
    if zero(merged.start_period) {
        merged.start_period = image.start_period;
    }
    if zero(merged.start_interval) {
        merged.start_interval = image.start_interval;
    }
    if zero(merged.retries) {
        merged.retries = image.retries;
    }
    Some(merged)
}

/// Docker's health status words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum HealthStatus {
    Starting,
    Healthy,
    Unhealthy,
}

impl HealthStatus {
    /// The word (`State.Health.Status`, events, `ps`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Starting => "starting",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Unhealthy => "unhealthy",
        }
    }
}

/// One probe's result, as `State.Health.Log` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct HealthLogEntry {
    /// RFC 3339 time the probe started.
    pub(crate) start: String,
    /// RFC 3339 time it ended.
    pub(crate) end: String,
    /// 0 healthy, 1 unhealthy, -1 when it could not run or timed out.
    pub(crate) exit_code: i64,
    /// Its output (stdout and stderr), at most [`MAX_OUTPUT_LEN`] bytes.
    pub(crate) output: String,
}

/// `State.Health`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct HealthState {
    pub(crate) status: HealthStatus,
    pub(crate) failing_streak: u32,
    pub(crate) log: VecDeque<HealthLogEntry>,
}

impl HealthState {
    /// The state of a container that just started.
    pub(crate) fn starting() -> HealthState {
        HealthState {
            status: HealthStatus::Starting,
            failing_streak: 0,
            log: VecDeque::new(),
        }
    }

    /// Takes a probe's result, `since_start` after the container started
    /// (when the probe began); returns the new status when it changed.
    /// A failure within the start period does not count while the
    /// container has never been healthy.
    pub(crate) fn record(
        &mut self,
        settings: &HealthSettings,
        result: HealthLogEntry,
        since_start: Duration,
    ) -> Option<HealthStatus> {
        let before = self.status;
        if result.exit_code == 0 {
            self.failing_streak = 0;
            self.status = HealthStatus::Healthy;
        } else {
            let grace = before == HealthStatus::Starting && since_start < settings.start_period;
            if !grace {
                self.failing_streak += 1;
                if self.failing_streak >= settings.retries {
                    self.status = HealthStatus::Unhealthy;
                }
            }
        }
        self.log.push_back(result);
        while self.log.len() > MAX_LOG_ENTRIES {
            self.log.pop_front();
        }
        (self.status != before).then_some(self.status)
    }
}

/// The first [`MAX_OUTPUT_LEN`] bytes of `output`, as text.
pub(crate) fn truncate_output(output: &[u8]) -> String {
    let end = output.len().min(MAX_OUTPUT_LEN);
    String::from_utf8_lossy(&output[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(test: &[&str]) -> HealthConfig {
        HealthConfig {
            test: Some(test.iter().map(|s| s.to_string()).collect()),
            ..HealthConfig::default()
        }
    }

    fn result(code: i64) -> HealthLogEntry {
        HealthLogEntry {
            start: "s".into(),
            end: "e".into(),
            exit_code: code,
            output: String::new(),
        }
    }

    #[test]
    fn tests_and_defaults() {
        assert_eq!(HealthSettings::from_config(None), Ok(None));
        assert_eq!(
            HealthSettings::from_config(Some(&config(&["NONE"]))),
            Ok(None)
        );
        let settings = HealthSettings::from_config(Some(&config(&["CMD-SHELL", "test -f /x"])))
            .unwrap()
            .unwrap();
        assert_eq!(settings.test, HealthTest::Shell("test -f /x".into()));
        assert_eq!(
            settings.test.args(&["/bin/sh".into(), "-c".into()]),
            ["/bin/sh", "-c", "test -f /x"]
        );
        assert_eq!(settings.interval, Duration::from_secs(30));
        assert_eq!(settings.timeout, Duration::from_secs(30));
        assert_eq!(settings.start_interval, Duration::from_secs(5));
        assert_eq!(settings.start_period, Duration::ZERO);
        assert_eq!(settings.retries, 3);
        let exec = HealthSettings::from_config(Some(&config(&["CMD", "true", "x"])))
            .unwrap()
            .unwrap();
        assert_eq!(exec.test.args(&[]), ["true", "x"]);
    }

    #[test]
    fn invalid_settings_are_named() {
        let err = HealthSettings::from_config(Some(&config(&["SHELL", "x"]))).unwrap_err();
        assert!(err.contains("unknown type \"SHELL\""), "{err}");
        let err = HealthSettings::from_config(Some(&config(&["CMD"]))).unwrap_err();
        assert!(err.contains("no command"), "{err}");
        let mut short = config(&["CMD", "true"]);
        short.interval = Some(10);
        let err = HealthSettings::from_config(Some(&short)).unwrap_err();
        assert!(err.contains("Healthcheck.Interval"), "{err}");
        let mut negative = config(&["CMD", "true"]);
        negative.retries = Some(-1);
        let err = HealthSettings::from_config(Some(&negative)).unwrap_err();
        assert!(err.contains("Healthcheck.Retries"), "{err}");
    }

    #[test]
    fn the_image_fills_what_the_request_leaves_out() {
        let mut image = config(&["CMD", "true"]);
        image.interval = Some(5_000_000_000);
        image.retries = Some(7);
        let mut request = HealthConfig {
            timeout: Some(1_000_000_000),
            ..HealthConfig::default()
        };
        request.retries = Some(2);
        let merged = merge(Some(request), Some(image.clone())).unwrap();
        assert_eq!(merged.test, image.test);
        assert_eq!(merged.interval, Some(5_000_000_000));
        assert_eq!(merged.timeout, Some(1_000_000_000));
        assert_eq!(merged.retries, Some(2));
        assert_eq!(merge(None, Some(image.clone())), Some(image.clone()));
        let none = config(&["NONE"]);
        // A request's NONE disables the image's check.
        let merged = merge(Some(none.clone()), Some(image)).unwrap();
        assert_eq!(merged.test, none.test);
        assert_eq!(HealthSettings::from_config(Some(&merged)), Ok(None));
        assert_eq!(merge(None, None), None);
    }

    #[test]
    fn starting_to_healthy_to_unhealthy_after_retries() {
        let mut settings = HealthSettings::from_config(Some(&config(&["CMD", "true"])))
            .unwrap()
            .unwrap();
        settings.retries = 2;
        let mut state = HealthState::starting();
        let t = Duration::from_secs(1);
        assert_eq!(
            state.record(&settings, result(0), t),
            Some(HealthStatus::Healthy)
        );
        assert_eq!(state.record(&settings, result(0), t), None);
        assert_eq!(state.record(&settings, result(1), t), None);
        assert_eq!(state.failing_streak, 1);
        assert_eq!(state.status, HealthStatus::Healthy);
        assert_eq!(
            state.record(&settings, result(2), t),
            Some(HealthStatus::Unhealthy)
        );
        assert_eq!(state.failing_streak, 2);
        assert_eq!(
            state.record(&settings, result(0), t),
            Some(HealthStatus::Healthy)
        );
        assert_eq!(state.failing_streak, 0);
        for _ in 0..10 {
            state.record(&settings, result(1), t);
        }
        assert_eq!(state.log.len(), MAX_LOG_ENTRIES);
    }

    #[test]
    fn failures_in_the_start_period_do_not_count_until_healthy() {
        let mut settings = HealthSettings::from_config(Some(&config(&["CMD", "true"])))
            .unwrap()
            .unwrap();
        settings.retries = 1;
        settings.start_period = Duration::from_secs(10);
        let mut state = HealthState::starting();
        let early = Duration::from_secs(2);
        assert_eq!(state.record(&settings, result(1), early), None);
        assert_eq!(state.failing_streak, 0);
        assert_eq!(
            settings.next_probe(state.status, early),
            settings.start_interval
        );
        let late = Duration::from_secs(11);
        assert_eq!(settings.next_probe(state.status, late), settings.interval);
        assert_eq!(
            state.record(&settings, result(1), late),
            Some(HealthStatus::Unhealthy)
        );
        // Once out of `starting`, the start period no longer shields failures.
        let mut state = HealthState::starting();
        state.record(&settings, result(0), early);
        assert_eq!(
            state.record(&settings, result(1), early),
            Some(HealthStatus::Unhealthy)
        );
        assert_eq!(
            settings.next_probe(HealthStatus::Healthy, early),
            settings.interval
        );
    }

    #[test]
    fn output_is_cut_at_the_limit() {
        assert_eq!(truncate_output(b"ok\n"), "ok\n");
        assert_eq!(truncate_output(&[b'a'; 5000]).len(), MAX_OUTPUT_LEN);
    }
}
