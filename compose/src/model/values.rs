//! Value types of the model that print the way Compose prints them: durations
//! as Go durations (`1m30s`), byte sizes as decimal byte counts, and the
//! policies as enums whose text is Compose's own spelling.

use serde::{Serialize, Serializer};
use std::fmt;

/// Extension fields (`x-*`) and attributes kept verbatim, in file order.
pub type Extensions = indexmap::IndexMap<String, serde_json::Value>;

/// A duration such as `interval: 1m30s`. Printed like Go's `time.Duration`
/// (`1m30s`, `1h0m0s`, `500ms`), which is what `docker compose config` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub std::time::Duration);

impl Duration {
    /// A whole number of seconds.
    pub fn from_secs(secs: u64) -> Self {
        Duration(std::time::Duration::from_secs(secs))
    }

    /// As a [`std::time::Duration`].
    pub fn as_std(self) -> std::time::Duration {
        self.0
    }
}

/// `value / 10^digits` with the fraction's trailing zeros removed, as Go prints it.
fn write_fraction(f: &mut fmt::Formatter<'_>, value: u128, digits: u32) -> fmt::Result {
    let scale = 10u128.pow(digits);
    let (int, frac) = (value / scale, value % scale);
    if frac == 0 {
        return write!(f, "{int}");
    }
    let frac = format!("{frac:0width$}", width = digits as usize);
    write!(f, "{int}.{}", frac.trim_end_matches('0'))
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = self.0.as_nanos();
        if nanos == 0 {
            return f.write_str("0s");
        }
        if nanos < 1_000 {
            return write!(f, "{nanos}ns");
        }
        if nanos < 1_000_000 {
            write_fraction(f, nanos, 3)?;
            return f.write_str("µs");
        }
        if nanos < 1_000_000_000 {
            write_fraction(f, nanos, 6)?;
            return f.write_str("ms");
        }
        let secs = nanos / 1_000_000_000;
        let (hours, minutes) = (secs / 3600, (secs / 60) % 60);
        if hours > 0 {
            write!(f, "{hours}h{minutes}m")?;
        } else if minutes > 0 {
            write!(f, "{minutes}m")?;
        }
        write_fraction(f, nanos % 60_000_000_000, 9)?;
        f.write_str("s")
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A size in bytes (`mem_limit: 512m` is 536870912). Compose prints it as the
/// decimal byte count in a string; `-1` (unlimited swap) is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub i64);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// File mode bits of a mounted secret or config, printed in octal as
/// Compose prints it (`"0440"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileMode(pub u32);

impl Serialize for FileMode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("0{:o}", self.0))
    }
}

/// `restart:` of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RestartPolicy {
    /// Never restart (the default).
    No,
    /// Always restart, also after the engine restarts.
    Always,
    /// `on-failure` with an optional maximum number of retries (`on-failure:3`).
    OnFailure(Option<u32>),
    /// Like `Always`, unless the container was stopped by the user.
    UnlessStopped,
}

impl fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestartPolicy::No => f.write_str("no"),
            RestartPolicy::Always => f.write_str("always"),
            RestartPolicy::OnFailure(None) => f.write_str("on-failure"),
            RestartPolicy::OnFailure(Some(n)) => write!(f, "on-failure:{n}"),
            RestartPolicy::UnlessStopped => f.write_str("unless-stopped"),
        }
    }
}

impl Serialize for RestartPolicy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `pull_policy:` of a service (`if_not_present` is read as `missing`, as Compose does).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PullPolicy {
    /// Pull on every `up`.
    Always,
    /// Never pull; the image must be present.
    Never,
    /// Pull when the image is not present (the default).
    Missing,
    /// Build the image, even when present.
    Build,
    /// Pull when the local image is older than `pull_refresh_after`.
    Refresh,
    /// Pull when the local image is older than a day.
    Daily,
    /// Pull when the local image is older than a week.
    Weekly,
    /// `every_<duration>`, e.g. `every_12h`; the text after `every_` is kept.
    Every(String),
}

impl fmt::Display for PullPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PullPolicy::Always => f.write_str("always"),
            PullPolicy::Never => f.write_str("never"),
            PullPolicy::Missing => f.write_str("missing"),
            PullPolicy::Build => f.write_str("build"),
            PullPolicy::Refresh => f.write_str("refresh"),
            PullPolicy::Daily => f.write_str("daily"),
            PullPolicy::Weekly => f.write_str("weekly"),
            PullPolicy::Every(d) => write!(f, "every_{d}"),
        }
    }
}

impl Serialize for PullPolicy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `network_mode:` of a service.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NetworkMode {
    /// The engine's default bridge network.
    Bridge,
    /// The host's network namespace.
    Host,
    /// No network, loopback only.
    None,
    /// `service:<name>`: share the network namespace of another service.
    Service(String),
    /// `container:<name or id>`: share the network namespace of a container.
    Container(String),
    /// Any other value, e.g. the name of an existing network.
    Other(String),
}

impl fmt::Display for NetworkMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetworkMode::Bridge => f.write_str("bridge"),
            NetworkMode::Host => f.write_str("host"),
            NetworkMode::None => f.write_str("none"),
            NetworkMode::Service(s) => write!(f, "service:{s}"),
            NetworkMode::Container(c) => write!(f, "container:{c}"),
            NetworkMode::Other(o) => f.write_str(o),
        }
    }
}

impl Serialize for NetworkMode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// When a `depends_on` dependency counts as ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceCondition {
    /// The dependency's containers are started.
    ServiceStarted,
    /// The dependency's containers are healthy.
    ServiceHealthy,
    /// The dependency's containers exited with status 0.
    ServiceCompletedSuccessfully,
}

/// `deploy.restart_policy.condition`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartCondition {
    /// Never restart.
    None,
    /// Restart when the exit status is not 0.
    OnFailure,
    /// Always restart.
    Any,
}

/// The kind of a service mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VolumeType {
    /// A host path.
    Bind,
    /// A named or anonymous volume.
    Volume,
    /// A memory filesystem.
    Tmpfs,
    /// A Windows named pipe.
    Npipe,
    /// A Swarm cluster volume.
    Cluster,
    /// The content of an image.
    Image,
}

/// The transport protocol of a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP (the default).
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

/// How a port is published (`ingress` unless `host` is asked for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PortMode {
    /// Published on the host (through Swarm's routing mesh there).
    Ingress,
    /// Published on the host running the container.
    Host,
}

/// Mount propagation of a bind mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Propagation {
    /// No propagation.
    Private,
    /// No propagation, recursively (the default).
    Rprivate,
    /// Mounts propagate both ways.
    Shared,
    /// Mounts propagate both ways, recursively.
    Rshared,
    /// Mounts propagate from the host only.
    Slave,
    /// Mounts propagate from the host only, recursively.
    Rslave,
}

/// SELinux relabeling of a bind mount: `z` (shared) or `Z` (private).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum SeLinux {
    /// `z`: label the content for all containers.
    #[serde(rename = "z")]
    Shared,
    /// `Z`: label the content for this container only.
    #[serde(rename = "Z")]
    Private,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go(d: std::time::Duration) -> String {
        Duration(d).to_string()
    }

    #[test]
    fn durations_print_like_go() {
        use std::time::Duration as D;
        assert_eq!(go(D::ZERO), "0s");
        assert_eq!(go(D::from_secs(90)), "1m30s");
        assert_eq!(go(D::from_secs(3600)), "1h0m0s");
        assert_eq!(go(D::from_secs(30)), "30s");
        assert_eq!(go(D::from_millis(1500)), "1.5s");
        assert_eq!(go(D::from_millis(500)), "500ms");
        assert_eq!(go(D::from_micros(1500)), "1.5ms");
        assert_eq!(go(D::from_nanos(1500)), "1.5µs");
        assert_eq!(go(D::from_nanos(15)), "15ns");
        assert_eq!(go(D::from_millis(3_723_500)), "1h2m3.5s");
    }

    #[test]
    fn policies_print_compose_spelling() {
        let v = serde_json::to_value([
            RestartPolicy::No,
            RestartPolicy::OnFailure(Some(3)),
            RestartPolicy::UnlessStopped,
        ])
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!(["no", "on-failure:3", "unless-stopped"])
        );
        let v = serde_json::to_value((
            ServiceCondition::ServiceCompletedSuccessfully,
            RestartCondition::OnFailure,
            NetworkMode::Service("db".into()),
            PullPolicy::Every("12h".into()),
            SeLinux::Private,
            Bytes(536_870_912),
            FileMode(0o440),
        ))
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!([
                "service_completed_successfully",
                "on-failure",
                "service:db",
                "every_12h",
                "Z",
                "536870912",
                "0440"
            ])
        );
    }
}
