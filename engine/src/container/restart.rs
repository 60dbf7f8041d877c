//! Restart policies as Docker defines them (`HostConfig.RestartPolicy`), as
//! pure decisions: the policy with Docker's checks, whether an exit is
//! followed by a restart, and the delay before it (Docker's backoff: 100 ms
//! doubling up to a minute, back to the start after a run of 10 s or more).
//! The daemon's exit watcher applies them.

use std::time::Duration;

use bollard_stubs::models::{RestartPolicy as PolicyConfig, RestartPolicyNameEnum};

/// The first delay, and the factor between successive ones.
const FIRST_DELAY: Duration = Duration::from_millis(100);
const BACKOFF_FACTOR: u32 = 2;
/// The longest delay between two restarts.
const MAX_DELAY: Duration = Duration::from_secs(60);
/// A run at least this long resets the delay.
const RESET_AFTER: Duration = Duration::from_secs(10);

/// A container's restart policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RestartPolicy {
    /// Never restart (`no`, the default).
    No,
    /// Restart after every exit, except after a stop; also when the
    /// daemon starts, even after a stop.
    Always,
    /// Like `always`, but a stopped container stays stopped across daemon starts.
    UnlessStopped,
    /// Restart after a non-zero exit, at most `max` times (0: no limit).
    OnFailure { max: u32 },
}

impl RestartPolicy {
    /// The policy of `config`, checked as Docker checks it.
    pub(crate) fn from_config(config: Option<&PolicyConfig>) -> Result<RestartPolicy, String> {
        let Some(config) = config else {
            return Ok(RestartPolicy::No);
        };
        let count = config.maximum_retry_count.unwrap_or(0);
        let policy = match config.name.unwrap_or(RestartPolicyNameEnum::EMPTY) {
            RestartPolicyNameEnum::EMPTY | RestartPolicyNameEnum::NO => RestartPolicy::No,
            RestartPolicyNameEnum::ALWAYS => RestartPolicy::Always,
            RestartPolicyNameEnum::UNLESS_STOPPED => RestartPolicy::UnlessStopped,
            RestartPolicyNameEnum::ON_FAILURE => {
                let max = u32::try_from(count).map_err(|_| {
                    format!(
                        "invalid restart policy: maximum retry count {count} cannot be negative"
                    )
                })?;
                return Ok(RestartPolicy::OnFailure { max });
            }
        };
        if count != 0 {
            return Err(format!(
                "invalid restart policy: maximum retry count ({count}) can only be used with 'on-failure'"
            ));
        }
        Ok(policy)
    }

    /// Whether a restart follows an exit with `exit_code`, after
    /// `restarts` automatic restarts so far; `stopped`: a user stopped it.
    pub(crate) fn restarts_after(self, exit_code: i64, stopped: bool, restarts: u32) -> bool {
        match self {
            RestartPolicy::No => false,
            RestartPolicy::Always | RestartPolicy::UnlessStopped => !stopped,
            RestartPolicy::OnFailure { max } => {
                !stopped && exit_code != 0 && (max == 0 || restarts < max)
            }
        }
    }

    /// Whether the daemon starts the container when it starts itself,
    /// after the exit with `exit_code` (as Docker's restore does).
    pub(crate) fn starts_with_daemon(self, exit_code: i64, stopped: bool, restarts: u32) -> bool {
        match self {
            // Docker documents it: a stopped `always` container comes back
            // when the daemon restarts.
            RestartPolicy::Always => true,
            other => other.restarts_after(exit_code, stopped, restarts),
        }
    }

    /// Whether the container has any policy to follow.
    pub(crate) fn is_set(self) -> bool {
        self != RestartPolicy::No
    }
}

/// The delay before each restart of one container.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Backoff {
    delay: Duration,
}

impl Backoff {
    /// The delay before the next restart of a run that lasted `ran_for`.
    pub(crate) fn next(&mut self, ran_for: Duration) -> Duration {
        if ran_for >= RESET_AFTER {
            self.delay = Duration::ZERO;
        }
        self.delay = if self.delay.is_zero() {
            FIRST_DELAY
        } else {
            (self.delay * BACKOFF_FACTOR).min(MAX_DELAY)
        };
        self.delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(name: RestartPolicyNameEnum, count: i64) -> Result<RestartPolicy, String> {
        RestartPolicy::from_config(Some(&PolicyConfig {
            name: Some(name),
            maximum_retry_count: Some(count),
        }))
    }

    #[test]
    fn policies_are_read_and_checked() {
        assert_eq!(RestartPolicy::from_config(None), Ok(RestartPolicy::No));
        assert_eq!(policy(RestartPolicyNameEnum::NO, 0), Ok(RestartPolicy::No));
        assert_eq!(
            policy(RestartPolicyNameEnum::ON_FAILURE, 2),
            Ok(RestartPolicy::OnFailure { max: 2 })
        );
        assert_eq!(
            policy(RestartPolicyNameEnum::ALWAYS, 0),
            Ok(RestartPolicy::Always)
        );
        let err = policy(RestartPolicyNameEnum::ALWAYS, 3).unwrap_err();
        assert!(err.contains("only be used with 'on-failure'"), "{err}");
        let err = policy(RestartPolicyNameEnum::ON_FAILURE, -1).unwrap_err();
        assert!(err.contains("cannot be negative"), "{err}");
    }

    #[test]
    fn which_exits_restart() {
        let on_failure = RestartPolicy::OnFailure { max: 2 };
        assert!(on_failure.restarts_after(1, false, 0));
        assert!(on_failure.restarts_after(1, false, 1));
        assert!(!on_failure.restarts_after(1, false, 2));
        assert!(!on_failure.restarts_after(0, false, 0));
        assert!(!on_failure.restarts_after(1, true, 0));
        assert!(RestartPolicy::OnFailure { max: 0 }.restarts_after(3, false, 1000));
        assert!(RestartPolicy::Always.restarts_after(0, false, 9));
        assert!(!RestartPolicy::Always.restarts_after(0, true, 0));
        assert!(!RestartPolicy::UnlessStopped.restarts_after(1, true, 0));
        assert!(!RestartPolicy::No.restarts_after(1, false, 0));
        // At daemon start, only `always` ignores a stop.
        assert!(RestartPolicy::Always.starts_with_daemon(0, true, 0));
        assert!(!RestartPolicy::UnlessStopped.starts_with_daemon(0, true, 0));
        assert!(RestartPolicy::UnlessStopped.starts_with_daemon(0, false, 0));
        assert!(!on_failure.starts_with_daemon(0, false, 0));
    }

    #[test]
    fn the_delay_doubles_up_to_a_minute_and_resets_after_a_long_run() {
        let mut backoff = Backoff::default();
        let short = Duration::from_secs(1);
        let delays: Vec<u128> = (0..12).map(|_| backoff.next(short).as_millis()).collect();
        assert_eq!(
            delays,
            [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000]
        );
        assert_eq!(backoff.next(Duration::from_secs(10)), FIRST_DELAY);
        assert_eq!(backoff.next(short), Duration::from_millis(200));
    }
}
